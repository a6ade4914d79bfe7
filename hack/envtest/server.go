package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"cmenvtest/generated/openapi"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	apiextensionsoptions "k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	webhookinit "k8s.io/apiserver/pkg/admission/plugin/webhook/initializer"
	mutatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	validatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	auditpolicy "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	auditlog "k8s.io/apiserver/plugin/pkg/audit/log"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	openapicommon "k8s.io/kube-openapi/pkg/common"
)

// newServer assembles the chain kube-apiserver uses minus the aggregator:
// built-in resources (this package) -> apiextensions-apiserver (CRDs) -> 404.
func newServer(o *options, ln net.Listener, certs *servingCerts, tokens *serviceAccountTokens) (*genericapiserver.GenericAPIServer, error) {
	effectiveVersion := compatibility.DefaultBuildEffectiveVersion()

	cfg := genericapiserver.NewRecommendedConfig(Codecs)
	cfg.EffectiveVersion = effectiveVersion
	cfg.FeatureGate = utilfeature.DefaultFeatureGate
	cfg.PublicAddress = net.ParseIP(o.bindAddress)
	cfg.RequestTimeout = o.requestTimeout
	cfg.MaxRequestBodyBytes = o.maxRequestBytes
	cfg.EnableProfiling = false

	// Serving: our listener and certificate; the loopback client gets its own token and cert.
	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.Listener = ln
	serving.BindAddress = net.ParseIP(o.bindAddress)
	gen, err := dynamiccertificates.NewStaticCertKeyContent("cm-envtest serving cert", certs.certPEM, certs.keyPEM)
	if err != nil {
		return nil, err
	}
	serving.ServerCert.GeneratedCert = gen
	if err := serving.ApplyTo(&cfg.SecureServing, &cfg.LoopbackClientConfig); err != nil {
		return nil, err
	}
	// Loopback clients (informers, admission) must not go through a proxy or be throttled.
	cfg.LoopbackClientConfig.QPS = -1

	// Authentication: one static token in system:masters and ServiceAccount tokens
	// (satokens.go), for the API audiences (the issuer). The loopback token is added in
	// Complete() by AuthorizeClientBearerToken. Authorization: allow everything.
	staticTokens := tokenfile.New(map[string]*user.DefaultInfo{
		o.token: {Name: o.tokenUser, UID: "envtest-admin", Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated}},
	})
	tokenAuth := tokenUnion{authenticator.WrapAudienceAgnosticToken(tokens.apiAudiences(), staticTokens), tokens}
	cfg.Authentication.Authenticator = bearertoken.New(tokenAuth)
	cfg.Authentication.APIAudiences = tokens.apiAudiences()
	cfg.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()

	if o.auditLogPath != "" {
		f, err := os.OpenFile(o.auditLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		// The log backend writes each event synchronously to the (unbuffered) file, so tests
		// can read it right after their request returned.
		cfg.AuditBackend = auditlog.NewBackend(f, auditlog.FormatJson, auditv1.SchemeGroupVersion)
		cfg.AuditPolicyRuleEvaluator = auditpolicy.NewPolicyRuleEvaluator(&auditinternal.Policy{
			OmitStages: []auditinternal.Stage{auditinternal.StageRequestReceived},
			Rules: []auditinternal.PolicyRule{
				// The server's own informers would drown the requests tests look for.
				{Level: auditinternal.LevelNone, Users: []string{user.APIServerUser}},
				{Level: auditinternal.LevelMetadata},
			},
		})
	}

	// Storage: protobuf in etcd through a storage factory, as kube-apiserver does.
	etcdOpts := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(o.etcdPrefix, nil))
	etcdOpts.StorageConfig.Transport.ServerList = o.etcdServers
	etcdOpts.DefaultStorageMediaType = runtime.ContentTypeProtobuf
	etcdOpts.EnableWatchCache = o.watchCache
	// No garbage collector runs: orphan/foreground finalizers would never be removed.
	etcdOpts.EnableGarbageCollection = false
	resourceConfig := serverstorage.NewResourceConfig()
	for _, r := range resources {
		resourceConfig.EnableVersions(r.gvr.GroupVersion())
	}
	storageFactory := serverstorage.NewDefaultStorageFactory(etcdOpts.StorageConfig, runtime.ContentTypeProtobuf, Codecs,
		serverstorage.NewDefaultResourceEncodingConfigForEffectiveVersion(Scheme, effectiveVersion), resourceConfig, nil)
	for _, r := range resources {
		if r.storageResource != nil {
			storageFactory.AddCohabitatingResources(*r.storageResource, r.gvr.GroupResource())
		}
	}
	if err := etcdOpts.ApplyWithStorageFactoryTo(storageFactory, &cfg.Config); err != nil {
		return nil, err
	}
	cfg.MergedResourceConfig = resourceConfig

	// OpenAPI (server-side apply needs the models of every served type).
	namer := openapinamer.NewDefinitionNamer(NamerScheme)
	cfg.OpenAPIConfig = openAPIConfig(namer)
	cfg.OpenAPIV3Config = openAPIV3Config(namer)

	// Informers and clients on the loopback connection, for admission and our controllers.
	clientset, err := kubernetes.NewForConfig(cfg.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	dynamicClient, err := dynamic.NewForConfig(cfg.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	cfg.ClientConfig = cfg.LoopbackClientConfig
	cfg.SharedInformerFactory = informers.NewSharedInformerFactory(clientset, 10*time.Minute)

	// Admission: namespace lifecycle and the two webhook plugins, calling real HTTPS webhooks.
	resolver := &loopbackServiceResolver{client: clientset}
	admission := genericoptions.NewAdmissionOptions()
	admission.RecommendedPluginOrder = []string{lifecycle.PluginName, mutatingwebhook.PluginName, validatingwebhook.PluginName}
	admission.DefaultOffPlugins = sets.Set[string]{}
	if err := admission.ApplyTo(&cfg.Config, cfg.SharedInformerFactory, clientset, dynamicClient, utilfeature.DefaultFeatureGate,
		effectiveVersion, webhookinit.NewPluginInitializer(noProxyWrapper, resolver)); err != nil {
		return nil, err
	}

	// One aggregated discovery document for both servers, from which the legacy /apis is built.
	discoveryManager := aggregated.NewResourceManager("apis")
	cfg.AggregatedDiscoveryGroupManager = discoveryManager

	// apiextensions-apiserver: a copy of the config with its own storage and hooks.
	crdConfig := *cfg
	crdConfig.PostStartHooks = map[string]genericapiserver.PostStartHookConfigEntry{}
	crdConfig.MergedResourceConfig = apiextensionsapiserver.DefaultAPIResourceConfigSource()
	crdConfig.OpenAPIConfig = openAPIConfig(namer)
	crdConfig.OpenAPIV3Config = openAPIV3Config(namer)
	crdConfig.RESTOptionsGetter = nil
	crdEtcd := *etcdOpts
	crdEtcd.StorageConfig.Codec = apiextensionsapiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion, apiextensionsv1.SchemeGroupVersion)
	crdEtcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(v1beta1.SchemeGroupVersion, schema.GroupKind{Group: v1beta1.GroupName})
	crdEtcd.SkipHealthEndpoints = true
	if err := crdEtcd.ApplyTo(&crdConfig.Config); err != nil {
		return nil, err
	}
	crdServerConfig := &apiextensionsapiserver.Config{
		GenericConfig: &crdConfig,
		ExtraConfig: apiextensionsapiserver.ExtraConfig{
			CRDRESTOptionsGetter: apiextensionsoptions.NewCRDRESTOptionsGetter(*etcdOpts, crdConfig.ResourceTransformers, crdConfig.StorageObjectCountTracker),
			MasterCount:          1,
			ServiceResolver:      resolver,
			AuthResolverWrapper:  noProxyWrapper,
		},
	}
	crdServer, err := crdServerConfig.Complete().New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("apiextensions-apiserver: %w", err)
	}

	var crdMux http.Handler = crdServer.GenericAPIServer.Handler.NonGoRestfulMux
	cfg.BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		return genericapiserver.DefaultBuildHandlerChain(&discoveryShim{next: apiHandler, crd: crdMux, manager: discoveryManager}, c)
	}

	server, err := cfg.Complete().New("cm-envtest-apiserver", crdServer.GenericAPIServer)
	if err != nil {
		return nil, err
	}
	nsStore, err := installAPIs(server, cfg.RESTOptionsGetter, tokens)
	if err != nil {
		return nil, err
	}
	if err := installAuthentication(server, tokenAuth, tokens.apiAudiences()); err != nil {
		return nil, err
	}
	cleaner := newNamespaceCleaner(clientset, dynamicClient, nsStore)
	server.AddPostStartHookOrDie("cm-envtest-bootstrap", func(ctx genericapiserver.PostStartHookContext) error {
		return bootstrap(ctx, cfg.LoopbackClientConfig)
	})
	server.AddPostStartHookOrDie("cm-envtest-namespace-cleaner", func(ctx genericapiserver.PostStartHookContext) error {
		go cleaner.run(ctx, cfg.SharedInformerFactory)
		return nil
	})
	return server, nil
}

func openAPIConfig(namer *openapinamer.DefinitionNamer) *openapicommon.Config {
	c := genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	c.Info.Title = "Kubernetes"
	return c
}

func openAPIV3Config(namer *openapinamer.DefinitionNamer) *openapicommon.OpenAPIV3Config {
	c := genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	c.Info.Title = "Kubernetes"
	return c
}

// installAPIs registers the built-in resources: core at /api, the others at /apis, and the
// serviceaccounts/token subresource (whose tokens read ServiceAccounts, Pods and Secrets).
// It returns the namespace store, which the namespace cleaner deletes from directly.
func installAPIs(s *genericapiserver.GenericAPIServer, optsGetter generic.RESTOptionsGetter, tokens *serviceAccountTokens) (*genericregistry.Store, error) {
	groups := map[string]*genericapiserver.APIGroupInfo{}
	var order []string
	var nsStore *genericregistry.Store
	for _, r := range resources {
		g := r.gvr.Group
		info, ok := groups[g]
		if !ok {
			i := genericapiserver.NewDefaultAPIGroupInfo(g, Scheme, metav1.ParameterCodec, Codecs)
			info = &i
			groups[g] = info
			order = append(order, g)
		}
		main, status, err := r.newStorage(optsGetter)
		if err != nil {
			return nil, err
		}
		m := info.VersionedResourcesStorageMap[r.gvr.Version]
		if m == nil {
			m = map[string]rest.Storage{}
			info.VersionedResourcesStorageMap[r.gvr.Version] = m
		}
		m[r.gvr.Resource] = main
		if r.gvr.Resource == "namespaces" && r.gvr.Group == "" {
			nsStore = main.Store
			m[r.gvr.Resource] = &namespaceREST{restStorage: main}
		}
		if status != nil {
			m[r.gvr.Resource+"/status"] = status
		}
		if g == "" {
			switch r.gvr.Resource {
			case "serviceaccounts":
				tokens.serviceAccounts = main.Store
				m["serviceaccounts/token"] = &tokenRequestREST{tokens: tokens}
			case "secrets":
				tokens.secrets = main.Store
			case "pods":
				tokens.pods = main.Store
			}
		}
	}
	if tokens.serviceAccounts == nil || tokens.secrets == nil || tokens.pods == nil {
		return nil, fmt.Errorf("serviceaccounts, secrets and pods must be served for ServiceAccount tokens")
	}
	if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, groups[""]); err != nil {
		return nil, err
	}
	var infos []*genericapiserver.APIGroupInfo
	for _, g := range order {
		if g != "" {
			infos = append(infos, groups[g])
		}
	}
	if err := s.InstallAPIGroups(infos...); err != nil {
		return nil, err
	}
	return nsStore, nil
}

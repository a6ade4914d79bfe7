package main

// ServiceAccount tokens as kube-apiserver issues and accepts them:
//   - the `token` subresource of serviceaccounts (TokenRequest): a bound token signed with the
//     server's key (sajwt.go) for the request's audiences (default: the issuer);
//   - bearer authentication with such tokens, as system:serviceaccount:<ns>:<name>;
//   - authentication.k8s.io/v1 tokenreviews (what OpenBao/Vault's kubernetes auth calls) and
//     selfsubjectreviews (`kubectl auth whoami`).
// A token stays valid only while its ServiceAccount (and bound Pod or Secret) exists with the
// UID it was issued for.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

const (
	// Limits and default of TokenRequest.spec.expirationSeconds, as in Kubernetes.
	minTokenSeconds     = 10 * 60
	maxTokenSeconds     = 1 << 32
	defaultTokenSeconds = 60 * 60
	// Clock skew tolerated for exp/nbf and for objects deleted just now (go-jose's default).
	tokenLeeway = time.Minute
)

func init() {
	utilruntime.Must(authenticationv1.AddToScheme(Scheme))
	utilruntime.Must(authenticationv1.AddToScheme(NamerScheme))
	addInternal(schema.GroupVersion{Group: authenticationv1.GroupName, Version: runtime.APIVersionInternal},
		&authenticationv1.TokenRequest{}, &authenticationv1.TokenReview{}, &authenticationv1.SelfSubjectReview{})
	utilruntime.Must(Scheme.SetVersionPriority(authenticationv1.SchemeGroupVersion))
}

// serviceAccountTokens issues and validates tokens. The stores are set by installAPIs.
type serviceAccountTokens struct {
	issuer string
	key    *saSigningKey
	now    func() time.Time

	serviceAccounts, secrets, pods *genericregistry.Store
}

func newServiceAccountTokens(issuer string, key *saSigningKey) *serviceAccountTokens {
	return &serviceAccountTokens{issuer: issuer, key: key, now: time.Now}
}

// apiAudiences are the audiences the API server itself accepts: its issuer, as kube-apiserver
// defaults --api-audiences to --service-account-issuer.
func (t *serviceAccountTokens) apiAudiences() authenticator.Audiences {
	return authenticator.Audiences{t.issuer}
}

func (t *serviceAccountTokens) get(ctx context.Context, store *genericregistry.Store, namespace, name string) (metav1.Object, error) {
	obj, err := store.Get(genericapirequest.WithNamespace(ctx, namespace), name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(metav1.Object), nil
}

// ---------------------------------------------------------------------------------------------
// TokenRequest: POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token

type tokenRequestREST struct {
	tokens *serviceAccountTokens
}

var (
	_ rest.NamedCreater             = &tokenRequestREST{}
	_ rest.GroupVersionKindProvider = &tokenRequestREST{}
)

func (r *tokenRequestREST) New() runtime.Object { return &authenticationv1.TokenRequest{} }
func (r *tokenRequestREST) Destroy()            {}
func (r *tokenRequestREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
}

var tokenRequestKind = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest").GroupKind()

func (r *tokenRequestREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	req, ok := obj.(*authenticationv1.TokenRequest)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenRequest: %T", obj))
	}
	namespace, _ := genericapirequest.NamespaceFrom(ctx)
	if req.Spec.ExpirationSeconds == nil {
		seconds := int64(defaultTokenSeconds)
		req.Spec.ExpirationSeconds = &seconds
	}
	if errs := validateTokenRequest(req, namespace, name); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestKind, name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, req.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	saObj, err := r.tokens.get(ctx, r.tokens.serviceAccounts, namespace, name)
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	claims := kubernetesClaims{Namespace: namespace, ServiceAccount: objectRef{Name: sa.Name, UID: string(sa.UID)}}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		if err := r.bind(ctx, namespace, name, ref, &claims); err != nil {
			return nil, err
		}
	}
	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = r.tokens.apiAudiences()
	}
	token, expiry, err := r.tokens.issue(claims, req.Spec.Audiences, *req.Spec.ExpirationSeconds)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("failed to generate token: %w", err))
	}
	out := req.DeepCopy()
	out.Name, out.Namespace = name, namespace
	out.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(expiry)}
	return out, nil
}

func validateTokenRequest(req *authenticationv1.TokenRequest, namespace, name string) field.ErrorList {
	var errs field.ErrorList
	if req.Name != "" && req.Name != name {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), req.Name, "must match the service account name if specified"))
	}
	if req.Namespace != "" && req.Namespace != namespace {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "namespace"), req.Namespace, "must match the service account namespace if specified"))
	}
	seconds := *req.Spec.ExpirationSeconds
	path := field.NewPath("spec", "expirationSeconds")
	switch {
	case seconds < minTokenSeconds:
		errs = append(errs, field.Invalid(path, seconds, "may not specify a duration less than 10 minutes"))
	case seconds > maxTokenSeconds:
		errs = append(errs, field.Invalid(path, seconds, "may not specify a duration larger than 2^32 seconds"))
	}
	if ref := req.Spec.BoundObjectRef; ref != nil && ref.Name == "" {
		errs = append(errs, field.Required(field.NewPath("spec", "boundObjectRef", "name"), ""))
	}
	return errs
}

// bind checks spec.boundObjectRef (a Pod running as the ServiceAccount, or a Secret) and adds
// it to the claims, so the token dies with the object.
func (r *tokenRequestREST) bind(ctx context.Context, namespace, saName string, ref *authenticationv1.BoundObjectReference, claims *kubernetesClaims) error {
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	var uid string
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		obj, err := r.tokens.get(ctx, r.tokens.pods, namespace, ref.Name)
		if err != nil {
			return err
		}
		pod := obj.(*corev1.Pod)
		if pod.Spec.ServiceAccountName != saName {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with serviceaccount %q", saName, pod.Spec.ServiceAccountName))
		}
		uid = string(pod.UID)
		claims.Pod = &objectRef{Name: pod.Name, UID: uid}
	case gvk.Group == "" && gvk.Kind == "Secret":
		obj, err := r.tokens.get(ctx, r.tokens.secrets, namespace, ref.Name)
		if err != nil {
			return err
		}
		uid = string(obj.GetUID())
		claims.Secret = &objectRef{Name: obj.GetName(), UID: uid}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", ref.UID, uid))
	}
	return nil
}

// issue signs a token for claims valid from now for seconds.
func (t *serviceAccountTokens) issue(k kubernetesClaims, audiences []string, seconds int64) (string, time.Time, error) {
	now := t.now()
	iat, exp := now.Unix(), now.Add(time.Duration(seconds)*time.Second).Unix()
	token, err := t.key.sign(&saClaims{
		Issuer:     t.issuer,
		Subject:    serviceaccount.MakeUsername(k.Namespace, k.ServiceAccount.Name),
		Audience:   audiences,
		IssuedAt:   &iat,
		NotBefore:  &iat,
		Expiry:     &exp,
		ID:         uuid.New().String(),
		Kubernetes: k,
	})
	return token, time.Unix(exp, 0), err
}

// ---------------------------------------------------------------------------------------------
// Authentication with ServiceAccount tokens.

var _ authenticator.Token = &serviceAccountTokens{}

// AuthenticateToken accepts tokens of this issuer whose audiences meet the requested ones
// (from the context, else the API server's), as kube-apiserver's ServiceAccount JWT
// authenticator; tokens of other issuers are left to other authenticators.
func (t *serviceAccountTokens) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	var claims saClaims
	if err := t.key.verify(token, t.issuer, &claims); err != nil {
		if errors.Is(err, errNotOurs) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if err := t.checkTime(&claims); err != nil {
		return nil, false, err
	}
	requested, ok := authenticator.AudiencesFrom(ctx)
	if !ok {
		requested = t.apiAudiences()
	}
	auds := requested.Intersect(authenticator.Audiences(claims.Audience))
	if len(auds) == 0 {
		return nil, false, fmt.Errorf("token audiences %q is invalid for the target audiences %q", []string(claims.Audience), []string(requested))
	}
	info, err := t.checkObjects(ctx, &claims)
	if err != nil {
		return nil, false, err
	}
	u := info.UserInfo().(*user.DefaultInfo)
	u.Groups = append(u.Groups, user.AllAuthenticated)
	if claims.ID != "" {
		if u.Extra == nil {
			u.Extra = map[string][]string{}
		}
		u.Extra[user.CredentialIDKey] = []string{"JTI=" + claims.ID}
	}
	return &authenticator.Response{User: u, Audiences: auds}, true, nil
}

func (t *serviceAccountTokens) checkTime(c *saClaims) error {
	now := t.now()
	switch {
	case c.Expiry == nil:
		return errors.New("service account token has no expiry")
	case now.After(time.Unix(*c.Expiry, 0).Add(tokenLeeway)):
		return errors.New("service account token has expired")
	case c.NotBefore != nil && now.Add(tokenLeeway).Before(time.Unix(*c.NotBefore, 0)):
		return errors.New("service account token is not valid yet")
	}
	return nil
}

// checkObjects makes sure the ServiceAccount (and bound object) still exist with the UIDs the
// token was issued for.
func (t *serviceAccountTokens) checkObjects(ctx context.Context, c *saClaims) (*serviceaccount.ServiceAccountInfo, error) {
	ns, sa := c.Kubernetes.Namespace, c.Kubernetes.ServiceAccount
	if ns == "" || sa.Name == "" || c.Subject != serviceaccount.MakeUsername(ns, sa.Name) {
		return nil, errors.New("service account token claims are inconsistent")
	}
	deletedBefore := t.now().Add(-tokenLeeway)
	gone := func(o metav1.Object) bool {
		d := o.GetDeletionTimestamp()
		return d != nil && d.Time.Before(deletedBefore)
	}
	obj, err := t.get(ctx, t.serviceAccounts, ns, sa.Name)
	if err != nil {
		return nil, err
	}
	if gone(obj) {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, sa.Name)
	}
	if string(obj.GetUID()) != sa.UID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", obj.GetUID(), sa.UID)
	}
	info := &serviceaccount.ServiceAccountInfo{Namespace: ns, Name: sa.Name, UID: sa.UID}
	for _, b := range []struct {
		ref   *objectRef
		store *genericregistry.Store
		kind  string
	}{{c.Kubernetes.Secret, t.secrets, "secret"}, {c.Kubernetes.Pod, t.pods, "pod"}} {
		if b.ref == nil {
			continue
		}
		obj, err := t.get(ctx, b.store, ns, b.ref.Name)
		if err != nil || gone(obj) {
			return nil, errors.New("service account token has been invalidated")
		}
		if string(obj.GetUID()) != b.ref.UID {
			return nil, fmt.Errorf("%s UID (%s) does not match service account %s ref claim (%s)", b.kind, obj.GetUID(), b.kind, b.ref.UID)
		}
	}
	if p := c.Kubernetes.Pod; p != nil {
		info.PodName, info.PodUID = p.Name, p.UID
	}
	return info, nil
}

// tokenUnion tries token authenticators in order, like kube-apiserver's token union.
type tokenUnion []authenticator.Token

func (u tokenUnion) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	var errs []error
	for _, a := range u {
		resp, ok, err := a.AuthenticateToken(ctx, token)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return resp, true, nil
		}
	}
	return nil, false, utilerrors.NewAggregate(errs)
}

// ---------------------------------------------------------------------------------------------
// authentication.k8s.io/v1 TokenReview and SelfSubjectReview.

type tokenReviewREST struct {
	auth         authenticator.Token
	apiAudiences authenticator.Audiences
}

var (
	_ rest.Creater              = &tokenReviewREST{}
	_ rest.Scoper               = &tokenReviewREST{}
	_ rest.SingularNameProvider = &tokenReviewREST{}
)

func (r *tokenReviewREST) New() runtime.Object     { return &authenticationv1.TokenReview{} }
func (r *tokenReviewREST) Destroy()                {}
func (r *tokenReviewREST) NamespaceScoped() bool   { return false }
func (r *tokenReviewREST) GetSingularName() string { return "tokenreview" }

// Create answers as kube-apiserver: the token is authenticated for spec.audiences (default:
// the API server's own), the status carries the user and the audiences that matched.
func (r *tokenReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authenticationv1.TokenReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenReview: %T", obj))
	}
	if ns := genericapirequest.NamespaceValue(ctx); ns != "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is not allowed on this type: %v", ns))
	}
	if review.Spec.Token == "" {
		return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
	}
	if createValidation != nil {
		if err := createValidation(ctx, review.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	auds := authenticator.Audiences(review.Spec.Audiences)
	if len(auds) == 0 {
		auds = r.apiAudiences
	}
	resp, ok, err := r.auth.AuthenticateToken(authenticator.WithAudiences(ctx, auds), review.Spec.Token)
	review.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
	if err != nil {
		review.Status.Error = err.Error()
	}
	if ok && len(auds.Intersect(resp.Audiences)) == 0 {
		return nil, apierrors.NewInternalError(errors.New("error validating audience"))
	}
	if ok && resp.User != nil {
		review.Status.User = userInfo(resp.User)
		review.Status.Audiences = resp.Audiences
	}
	return review, nil
}

func userInfo(u user.Info) authenticationv1.UserInfo {
	info := authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	for k, v := range u.GetExtra() {
		if info.Extra == nil {
			info.Extra = map[string]authenticationv1.ExtraValue{}
		}
		info.Extra[k] = v
	}
	return info
}

type selfSubjectReviewREST struct{}

var (
	_ rest.Creater              = &selfSubjectReviewREST{}
	_ rest.Scoper               = &selfSubjectReviewREST{}
	_ rest.SingularNameProvider = &selfSubjectReviewREST{}
)

func (r *selfSubjectReviewREST) New() runtime.Object     { return &authenticationv1.SelfSubjectReview{} }
func (r *selfSubjectReviewREST) Destroy()                {}
func (r *selfSubjectReviewREST) NamespaceScoped() bool   { return false }
func (r *selfSubjectReviewREST) GetSingularName() string { return "selfsubjectreview" }

func (r *selfSubjectReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authenticationv1.SelfSubjectReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectReview: %T", obj))
	}
	if createValidation != nil {
		if err := createValidation(ctx, review.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	review.Status.UserInfo = userInfo(u)
	return review, nil
}

// installAuthentication serves authentication.k8s.io/v1 tokenreviews (answered with auth) and
// selfsubjectreviews.
func installAuthentication(s *genericapiserver.GenericAPIServer, auth authenticator.Token, apiAudiences authenticator.Audiences) error {
	info := genericapiserver.NewDefaultAPIGroupInfo(authenticationv1.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	info.VersionedResourcesStorageMap[authenticationv1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"tokenreviews":       &tokenReviewREST{auth: auth, apiAudiences: apiAudiences},
		"selfsubjectreviews": &selfSubjectReviewREST{},
	}
	return s.InstallAPIGroup(&info)
}

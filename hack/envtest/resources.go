package main

import (
	"fmt"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxObjectDataSize is Kubernetes' limit for Secret and ConfigMap payloads.
const maxObjectDataSize = 1 << 20

var coreEventsGR = schema.GroupResource{Resource: "events"}

// resources is every built-in resource this server serves (workloadResources: resources_workloads.go).
var resources = append([]*apiResource{
	{
		gvr: corev1.SchemeGroupVersion.WithResource("namespaces"), singular: "namespace",
		shortNames: []string{"ns"}, hasStatus: true, nameFn: apimachineryvalidation.NameIsDNSLabel,
		newFunc: func() runtime.Object { return &corev1.Namespace{} }, newListFunc: func() runtime.Object { return &corev1.NamespaceList{} },
		defaults: func(obj runtime.Object) {
			ns := obj.(*corev1.Namespace)
			// No namespace controller runs, so no "kubernetes" finalizer: deletion is immediate
			// and the namespace cleaner removes the contents afterwards.
			ns.Spec.Finalizers = nil
			if ns.Status.Phase == "" {
				ns.Status.Phase = corev1.NamespaceActive
			}
		},
		fields: map[string]string{"status.phase": "status.phase"},
		attrs: func(obj runtime.Object) fields.Set {
			return fields.Set{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
		},
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("secrets"), singular: "secret", namespaced: true,
		nameFn:  apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &corev1.Secret{} }, newListFunc: func() runtime.Object { return &corev1.SecretList{} },
		defaults: func(obj runtime.Object) {
			s := obj.(*corev1.Secret)
			if s.Type == "" {
				s.Type = corev1.SecretTypeOpaque
			}
			// stringData is write-only: Kubernetes merges it into data when converting to
			// the internal type, which does not exist here.
			if len(s.StringData) > 0 && s.Data == nil {
				s.Data = make(map[string][]byte, len(s.StringData))
			}
			for k, v := range s.StringData {
				s.Data[k] = []byte(v)
			}
			s.StringData = nil
		},
		validate: validateSecret,
		fields:   map[string]string{"type": "type"},
		attrs: func(obj runtime.Object) fields.Set {
			return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
		},
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("configmaps"), singular: "configmap", namespaced: true,
		shortNames: []string{"cm"}, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &corev1.ConfigMap{} }, newListFunc: func() runtime.Object { return &corev1.ConfigMapList{} },
		validate: validateConfigMap,
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("events"), singular: "event", namespaced: true,
		shortNames: []string{"ev"}, ttl: 3600,
		newFunc: func() runtime.Object { return &corev1.Event{} }, newListFunc: func() runtime.Object { return &corev1.EventList{} },
		fields: eventFieldNames(map[string]string{
			"involvedObject.kind": "", "involvedObject.namespace": "", "involvedObject.name": "",
			"involvedObject.uid": "", "involvedObject.apiVersion": "", "involvedObject.resourceVersion": "",
			"involvedObject.fieldPath": "", "reason": "", "reportingComponent": "", "source": "", "type": "",
		}),
		attrs: eventAttrs,
	},
	{
		gvr: eventsv1.SchemeGroupVersion.WithResource("events"), singular: "event", namespaced: true,
		shortNames: []string{"ev"}, ttl: 3600, storageResource: &coreEventsGR,
		newFunc: func() runtime.Object { return &eventsv1.Event{} }, newListFunc: func() runtime.Object { return &eventsv1.EventList{} },
		hub: func() runtime.Object { return &corev1.Event{} }, hubList: func() runtime.Object { return &corev1.EventList{} },
		fields: map[string]string{
			"regarding.kind": "involvedObject.kind", "regarding.namespace": "involvedObject.namespace",
			"regarding.name": "involvedObject.name", "regarding.uid": "involvedObject.uid",
			"regarding.apiVersion": "involvedObject.apiVersion", "regarding.resourceVersion": "involvedObject.resourceVersion",
			"regarding.fieldPath": "involvedObject.fieldPath", "reason": "reason",
			"reportingController": "reportingComponent", "type": "type", "deprecatedSource": "source",
		},
		attrs: eventAttrs,
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("services"), singular: "service", namespaced: true,
		shortNames: []string{"svc"}, categories: []string{"all"}, hasStatus: true, nameFn: apimachineryvalidation.NameIsDNS1035Label,
		newFunc: func() runtime.Object { return &corev1.Service{} }, newListFunc: func() runtime.Object { return &corev1.ServiceList{} },
		defaults: defaultService,
		validate: validateService,
		fields:   map[string]string{"spec.clusterIP": "spec.clusterIP", "spec.type": "spec.type"},
		attrs: func(obj runtime.Object) fields.Set {
			s := obj.(*corev1.Service)
			return fields.Set{"spec.clusterIP": s.Spec.ClusterIP, "spec.type": string(s.Spec.Type)}
		},
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("endpoints"), singular: "endpoints", namespaced: true,
		shortNames: []string{"ep"}, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &corev1.Endpoints{} }, newListFunc: func() runtime.Object { return &corev1.EndpointsList{} },
		defaults: func(obj runtime.Object) {
			for i := range obj.(*corev1.Endpoints).Subsets {
				ss := &obj.(*corev1.Endpoints).Subsets[i]
				for j := range ss.Ports {
					if ss.Ports[j].Protocol == "" {
						ss.Ports[j].Protocol = corev1.ProtocolTCP
					}
				}
			}
		},
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("pods"), singular: "pod", namespaced: true,
		shortNames: []string{"po"}, categories: []string{"all"}, hasStatus: true, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		generation: true,
		newFunc:    func() runtime.Object { return &corev1.Pod{} }, newListFunc: func() runtime.Object { return &corev1.PodList{} },
		defaults: func(obj runtime.Object) {
			p := obj.(*corev1.Pod)
			if p.Spec.RestartPolicy == "" {
				p.Spec.RestartPolicy = corev1.RestartPolicyAlways
			}
			if p.Status.Phase == "" {
				p.Status.Phase = corev1.PodPending
			}
		},
		fields: map[string]string{
			"spec.nodeName": "spec.nodeName", "spec.restartPolicy": "spec.restartPolicy",
			"spec.schedulerName": "spec.schedulerName", "spec.serviceAccountName": "spec.serviceAccountName",
			"status.phase": "status.phase", "status.podIP": "status.podIP",
			"status.nominatedNodeName": "status.nominatedNodeName",
		},
		attrs: func(obj runtime.Object) fields.Set {
			p := obj.(*corev1.Pod)
			return fields.Set{
				"spec.nodeName": p.Spec.NodeName, "spec.restartPolicy": string(p.Spec.RestartPolicy),
				"spec.schedulerName": p.Spec.SchedulerName, "spec.serviceAccountName": p.Spec.ServiceAccountName,
				"status.phase": string(p.Status.Phase), "status.podIP": p.Status.PodIP,
				"status.nominatedNodeName": p.Status.NominatedNodeName,
			}
		},
	},
	{
		gvr: corev1.SchemeGroupVersion.WithResource("serviceaccounts"), singular: "serviceaccount", namespaced: true,
		shortNames: []string{"sa"}, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &corev1.ServiceAccount{} }, newListFunc: func() runtime.Object { return &corev1.ServiceAccountList{} },
	},
	{
		gvr: networkingv1.SchemeGroupVersion.WithResource("ingresses"), singular: "ingress", namespaced: true,
		shortNames: []string{"ing"}, hasStatus: true, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		generation: true,
		newFunc:    func() runtime.Object { return &networkingv1.Ingress{} }, newListFunc: func() runtime.Object { return &networkingv1.IngressList{} },
	},
	{
		gvr: networkingv1.SchemeGroupVersion.WithResource("ingressclasses"), singular: "ingressclass",
		nameFn:  apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &networkingv1.IngressClass{} }, newListFunc: func() runtime.Object { return &networkingv1.IngressClassList{} },
	},
	{
		gvr: coordinationv1.SchemeGroupVersion.WithResource("leases"), singular: "lease", namespaced: true,
		nameFn:  apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &coordinationv1.Lease{} }, newListFunc: func() runtime.Object { return &coordinationv1.LeaseList{} },
	},
	{
		gvr: admissionregistrationv1.SchemeGroupVersion.WithResource("validatingwebhookconfigurations"), singular: "validatingwebhookconfiguration",
		categories: []string{"api-extensions"}, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		generation: true,
		newFunc:    func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfiguration{} },
		newListFunc: func() runtime.Object {
			return &admissionregistrationv1.ValidatingWebhookConfigurationList{}
		},
		defaults: defaultValidatingWebhooks,
		validate: validateValidatingWebhooks,
	},
	{
		gvr: admissionregistrationv1.SchemeGroupVersion.WithResource("mutatingwebhookconfigurations"), singular: "mutatingwebhookconfiguration",
		categories: []string{"api-extensions"}, nameFn: apimachineryvalidation.NameIsDNSSubdomain,
		generation: true,
		newFunc:    func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfiguration{} },
		newListFunc: func() runtime.Object {
			return &admissionregistrationv1.MutatingWebhookConfigurationList{}
		},
		defaults: defaultMutatingWebhooks,
		validate: validateMutatingWebhooks,
	},
}, workloadResources...)

func eventFieldNames(m map[string]string) map[string]string {
	for k := range m {
		m[k] = k
	}
	return m
}

func eventAttrs(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	source := e.ReportingController
	if source == "" {
		source = e.Source.Component
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}
}

func validateDataKeys[T any](data map[string]T, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for k := range data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(path.Key(k), k, msg))
		}
	}
	return errs
}

func validateSecret(obj, old runtime.Object) field.ErrorList {
	s := obj.(*corev1.Secret)
	dataPath := field.NewPath("data")
	errs := validateDataKeys(s.Data, dataPath)
	size := 0
	for _, v := range s.Data {
		size += len(v)
	}
	for _, v := range s.StringData {
		size += len(v)
	}
	if size > maxObjectDataSize {
		errs = append(errs, field.TooLong(dataPath, "", maxObjectDataSize))
	}
	if s.Type == corev1.SecretTypeTLS {
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if _, ok := s.Data[k]; !ok {
				errs = append(errs, field.Required(dataPath.Key(k), ""))
			}
		}
	}
	if old != nil {
		o := old.(*corev1.Secret)
		if o.Type != s.Type {
			errs = append(errs, field.Invalid(field.NewPath("type"), s.Type, "field is immutable"))
		}
	}
	return errs
}

func validateConfigMap(obj, _ runtime.Object) field.ErrorList {
	c := obj.(*corev1.ConfigMap)
	errs := validateDataKeys(c.Data, field.NewPath("data"))
	errs = append(errs, validateDataKeys(c.BinaryData, field.NewPath("binaryData"))...)
	size := 0
	for k, v := range c.Data {
		size += len(v)
		if _, ok := c.BinaryData[k]; ok {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
	}
	for _, v := range c.BinaryData {
		size += len(v)
	}
	if size > maxObjectDataSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxObjectDataSize))
	}
	return errs
}

func defaultService(obj runtime.Object) {
	s := obj.(*corev1.Service)
	if s.Spec.Type == "" {
		s.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if s.Spec.SessionAffinity == "" {
		s.Spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
}

func validateService(obj, _ runtime.Object) field.ErrorList {
	s := obj.(*corev1.Service)
	var errs field.ErrorList
	for i, p := range s.Spec.Ports {
		if p.Port < 1 || p.Port > 65535 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ports").Index(i).Child("port"), p.Port, "must be between 1 and 65535, inclusive"))
		}
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			errs = append(errs, field.Required(field.NewPath("spec", "ports").Index(i).Child("name"), "required when more than one port"))
		}
	}
	return errs
}

// Webhook configurations: the admission plugins read the stored objects directly, so the
// defaults Kubernetes applies (selectors that match everything, Fail, Equivalent) matter.

func defaultWebhookCommon(fp **admissionregistrationv1.FailurePolicyType, mp **admissionregistrationv1.MatchPolicyType,
	ns, os **metav1.LabelSelector, timeout **int32, cc *admissionregistrationv1.WebhookClientConfig, rules []admissionregistrationv1.RuleWithOperations) {
	if *fp == nil {
		v := admissionregistrationv1.Fail
		*fp = &v
	}
	if *mp == nil {
		v := admissionregistrationv1.Equivalent
		*mp = &v
	}
	if *ns == nil {
		*ns = &metav1.LabelSelector{}
	}
	if *os == nil {
		*os = &metav1.LabelSelector{}
	}
	if *timeout == nil {
		v := int32(10)
		*timeout = &v
	}
	if cc.Service != nil && cc.Service.Port == nil {
		v := int32(443)
		cc.Service.Port = &v
	}
	for i := range rules {
		if rules[i].Scope == nil {
			v := admissionregistrationv1.AllScopes
			rules[i].Scope = &v
		}
	}
}

func defaultValidatingWebhooks(obj runtime.Object) {
	c := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		defaultWebhookCommon(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, &w.ClientConfig, w.Rules)
	}
}

func defaultMutatingWebhooks(obj runtime.Object) {
	c := obj.(*admissionregistrationv1.MutatingWebhookConfiguration)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		defaultWebhookCommon(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, &w.ClientConfig, w.Rules)
		if w.ReinvocationPolicy == nil {
			v := admissionregistrationv1.NeverReinvocationPolicy
			w.ReinvocationPolicy = &v
		}
	}
}

func validateWebhook(path *field.Path, name string, cc admissionregistrationv1.WebhookClientConfig,
	se *admissionregistrationv1.SideEffectClass, versions []string, timeout *int32) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsFullyQualifiedName(path.Child("name"), name) {
		errs = append(errs, msg)
	}
	switch {
	case cc.URL == nil && cc.Service == nil:
		errs = append(errs, field.Required(path.Child("clientConfig"), "exactly one of url or service is required"))
	case cc.URL != nil && cc.Service != nil:
		errs = append(errs, field.Invalid(path.Child("clientConfig"), "", "exactly one of url or service is required"))
	}
	if se == nil {
		errs = append(errs, field.Required(path.Child("sideEffects"), "must be one of None, NoneOnDryRun"))
	} else if *se != admissionregistrationv1.SideEffectClassNone && *se != admissionregistrationv1.SideEffectClassNoneOnDryRun {
		errs = append(errs, field.NotSupported(path.Child("sideEffects"), *se, []string{"None", "NoneOnDryRun"}))
	}
	if len(versions) == 0 {
		errs = append(errs, field.Required(path.Child("admissionReviewVersions"), "must specify one of v1, v1beta1"))
	}
	if timeout != nil && (*timeout < 1 || *timeout > 30) {
		errs = append(errs, field.Invalid(path.Child("timeoutSeconds"), *timeout, "the timeout value must be between 1 and 30 seconds"))
	}
	return errs
}

func validateValidatingWebhooks(obj, _ runtime.Object) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, w := range obj.(*admissionregistrationv1.ValidatingWebhookConfiguration).Webhooks {
		p := field.NewPath("webhooks").Index(i)
		if seen[w.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), w.Name))
		}
		seen[w.Name] = true
		errs = append(errs, validateWebhook(p, w.Name, w.ClientConfig, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds)...)
	}
	return errs
}

func validateMutatingWebhooks(obj, _ runtime.Object) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, w := range obj.(*admissionregistrationv1.MutatingWebhookConfiguration).Webhooks {
		p := field.NewPath("webhooks").Index(i)
		if seen[w.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), w.Name))
		}
		seen[w.Name] = true
		errs = append(errs, validateWebhook(p, w.Name, w.ClientConfig, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds)...)
	}
	return errs
}

// events.k8s.io/v1 <-> core/v1 Event, the field mapping Kubernetes uses for the shared storage.
func addEventConversions(s *runtime.Scheme) error {
	if err := s.AddConversionFunc((*eventsv1.Event)(nil), (*corev1.Event)(nil), func(a, b interface{}, _ conversion.Scope) error {
		eventsToCore(a.(*eventsv1.Event), b.(*corev1.Event))
		return nil
	}); err != nil {
		return err
	}
	if err := s.AddConversionFunc((*corev1.Event)(nil), (*eventsv1.Event)(nil), func(a, b interface{}, _ conversion.Scope) error {
		coreToEvents(a.(*corev1.Event), b.(*eventsv1.Event))
		return nil
	}); err != nil {
		return err
	}
	if err := s.AddConversionFunc((*eventsv1.EventList)(nil), (*corev1.EventList)(nil), func(a, b interface{}, _ conversion.Scope) error {
		in, out := a.(*eventsv1.EventList), b.(*corev1.EventList)
		out.ListMeta = in.ListMeta
		out.Items = make([]corev1.Event, len(in.Items))
		for i := range in.Items {
			eventsToCore(&in.Items[i], &out.Items[i])
		}
		return nil
	}); err != nil {
		return err
	}
	return s.AddConversionFunc((*corev1.EventList)(nil), (*eventsv1.EventList)(nil), func(a, b interface{}, _ conversion.Scope) error {
		in, out := a.(*corev1.EventList), b.(*eventsv1.EventList)
		out.ListMeta = in.ListMeta
		out.Items = make([]eventsv1.Event, len(in.Items))
		for i := range in.Items {
			coreToEvents(&in.Items[i], &out.Items[i])
		}
		return nil
	})
}

func eventsToCore(in *eventsv1.Event, out *corev1.Event) {
	out.ObjectMeta = in.ObjectMeta
	out.EventTime = in.EventTime
	out.Series = nil
	if in.Series != nil {
		out.Series = &corev1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	out.ReportingController = in.ReportingController
	out.ReportingInstance = in.ReportingInstance
	out.Action = in.Action
	out.Reason = in.Reason
	out.InvolvedObject = in.Regarding
	out.Related = in.Related
	out.Message = in.Note
	out.Type = in.Type
	out.Source = in.DeprecatedSource
	out.FirstTimestamp = in.DeprecatedFirstTimestamp
	out.LastTimestamp = in.DeprecatedLastTimestamp
	out.Count = in.DeprecatedCount
}

func coreToEvents(in *corev1.Event, out *eventsv1.Event) {
	out.ObjectMeta = in.ObjectMeta
	out.EventTime = in.EventTime
	out.Series = nil
	if in.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
	}
	out.ReportingController = in.ReportingController
	out.ReportingInstance = in.ReportingInstance
	out.Action = in.Action
	out.Reason = in.Reason
	out.Regarding = in.InvolvedObject
	out.Related = in.Related
	out.Note = in.Message
	out.Type = in.Type
	out.DeprecatedSource = in.Source
	out.DeprecatedFirstTimestamp = in.FirstTimestamp
	out.DeprecatedLastTimestamp = in.LastTimestamp
	out.DeprecatedCount = in.Count
}

// servicePortByNumber finds the Service port a webhook clientConfig refers to.
func servicePortByNumber(svc *corev1.Service, port int32) (*corev1.ServicePort, error) {
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			return &svc.Spec.Ports[i], nil
		}
	}
	return nil, fmt.Errorf("service %s/%s has no port %s", svc.Namespace, svc.Name, strconv.Itoa(int(port)))
}

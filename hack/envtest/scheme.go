package main

import (
	"fmt"
	"reflect"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

// k8s.io/kubernetes (with its internal types and conversions) is not packaged, so the
// versioned k8s.io/api types double as the "internal" (hub) types: every served kind is also
// registered under <group>/__internal. Converting between the two is then a copy that only
// changes the kind, and the generic registry, admission and storage code work unchanged.
var (
	Scheme = runtime.NewScheme()
	Codecs = serializer.NewCodecFactory(Scheme)

	// NamerScheme holds the external types only; the OpenAPI definition namer must not
	// see the __internal registrations.
	NamerScheme = runtime.NewScheme()
)

var externalInstallers = []func(*runtime.Scheme) error{
	corev1.AddToScheme,
	networkingv1.AddToScheme,
	coordinationv1.AddToScheme,
	eventsv1.AddToScheme,
	admissionregistrationv1.AddToScheme,
}

func init() {
	for _, add := range externalInstallers {
		utilruntime.Must(add(Scheme))
		utilruntime.Must(add(NamerScheme))
	}
	for _, g := range workloadGroups {
		utilruntime.Must(g.install(Scheme))
		utilruntime.Must(g.install(NamerScheme))
		utilruntime.Must(Scheme.SetVersionPriority(g.gv))
	}
	utilruntime.Must(apiextensionsv1.AddToScheme(NamerScheme))

	// Options types for the legacy core group and the unversioned meta types.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})

	for _, r := range resources {
		internal := schema.GroupVersion{Group: r.gvr.Group, Version: runtime.APIVersionInternal}
		addInternal(internal, r.storedNew(), r.storedNewList())
	}

	for _, gv := range []schema.GroupVersion{
		corev1.SchemeGroupVersion,
		networkingv1.SchemeGroupVersion,
		coordinationv1.SchemeGroupVersion,
		eventsv1.SchemeGroupVersion,
		admissionregistrationv1.SchemeGroupVersion,
	} {
		utilruntime.Must(Scheme.SetVersionPriority(gv))
	}

	utilruntime.Must(addEventConversions(Scheme))
	for _, r := range resources {
		if r.fields == nil {
			continue
		}
		r := r
		utilruntime.Must(Scheme.AddFieldLabelConversionFunc(r.gvr.GroupVersion().WithKind(r.kind()),
			func(label, value string) (string, string, error) {
				if label == "metadata.name" || label == "metadata.namespace" && r.namespaced {
					return label, value, nil
				}
				// Selectors of the served version map to attributes of the stored object.
				if attr, ok := r.fields[label]; ok {
					return attr, value, nil
				}
				return "", "", fmt.Errorf("field label not supported: %s", label)
			}))
	}
}

func addInternal(gv schema.GroupVersion, objs ...runtime.Object) {
	for _, o := range objs {
		t := reflect.TypeOf(o).Elem()
		gvk := gv.WithKind(t.Name())
		if existing, err := Scheme.New(gvk); err == nil && reflect.TypeOf(existing) == reflect.TypeOf(o) {
			continue
		}
		Scheme.AddKnownTypeWithName(gvk, o)
	}
}

package main

import (
	"context"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// resource describes one served built-in resource. The per-type behaviour (defaults,
// validation, selectable fields) is deliberately small: enough for controllers and tests to
// see real API semantics, not a copy of k8s.io/kubernetes' registry.
type apiResource struct {
	gvr        schema.GroupVersionResource
	singular   string
	namespaced bool
	shortNames []string
	categories []string
	// newFunc/newListFunc create the served (external) type.
	newFunc, newListFunc func() runtime.Object
	// hub/hubList, when set, create the stored type if it differs from the served one
	// (events.k8s.io/v1 Events are stored as core/v1 Events, as in Kubernetes).
	hub, hubList func() runtime.Object
	// storageResource, when set, shares etcd storage with another resource.
	storageResource *schema.GroupResource
	hasStatus       bool
	// generation: metadata.generation is maintained (Kubernetes does this per type).
	generation bool
	// nameFn validates metadata.name; nil means any path segment name.
	nameFn   apimachineryvalidation.ValidateNameFunc
	defaults func(obj runtime.Object)
	validate func(obj, old runtime.Object) field.ErrorList
	// fields maps a field selector label of the served version to the attribute key
	// produced by attrs (both in addition to metadata.name/namespace).
	fields map[string]string
	attrs  func(obj runtime.Object) fields.Set
	ttl    uint64
}

func (r *apiResource) kind() string {
	return reflect.TypeOf(r.newFunc()).Elem().Name()
}

func (r *apiResource) storedNew() runtime.Object {
	if r.hub != nil {
		return r.hub()
	}
	return r.newFunc()
}

func (r *apiResource) storedNewList() runtime.Object {
	if r.hubList != nil {
		return r.hubList()
	}
	return r.newListFunc()
}

// restStorage is a generic registry store plus the discovery extras kubectl uses.
type restStorage struct {
	*genericregistry.Store
	shortNames []string
	categories []string
}

func (s *restStorage) ShortNames() []string { return s.shortNames }
func (s *restStorage) Categories() []string { return s.categories }

var (
	_ rest.ShortNamesProvider = &restStorage{}
	_ rest.CategoriesProvider = &restStorage{}
)

// statusStorage serves the status subresource from the same store.
type statusStorage struct {
	store *genericregistry.Store
}

func (s *statusStorage) New() runtime.Object { return s.store.New() }
func (s *statusStorage) Destroy()            {}
func (s *statusStorage) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return s.store.Get(ctx, name, options)
}
func (s *statusStorage) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// subresources never create
	return s.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}
func (s *statusStorage) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return s.store.GetResetFields()
}
func (s *statusStorage) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return s.store.ConvertToTable(ctx, object, tableOptions)
}

func (r *apiResource) newStorage(optsGetter generic.RESTOptionsGetter) (*restStorage, rest.Storage, error) {
	st := &strategy{ObjectTyper: Scheme, NameGenerator: names.SimpleNameGenerator, r: r}
	gr := r.gvr.GroupResource()
	store := &genericregistry.Store{
		NewFunc:                   r.storedNew,
		NewListFunc:               r.storedNewList,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: schema.GroupResource{Group: r.gvr.Group, Resource: r.singular},
		CreateStrategy:            st,
		UpdateStrategy:            st,
		DeleteStrategy:            st,
		ResetFieldsStrategy:       st,
		TableConvertor:            rest.NewDefaultTableConvertor(gr),
	}
	if r.ttl > 0 {
		ttl := r.ttl
		store.TTLFunc = func(runtime.Object, uint64, bool) (uint64, error) { return ttl, nil }
	}
	store.PredicateFunc = func(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
		return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: r.getAttrs}
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: r.getAttrs}); err != nil {
		return nil, nil, err
	}
	main := &restStorage{Store: store, shortNames: r.shortNames, categories: r.categories}
	if r.hasStatus {
		statusStore := *store
		sst := &strategy{ObjectTyper: Scheme, NameGenerator: names.SimpleNameGenerator, r: r, status: true}
		statusStore.CreateStrategy = nil
		statusStore.DeleteStrategy = nil
		statusStore.UpdateStrategy = sst
		statusStore.ResetFieldsStrategy = sst
		return main, &statusStorage{store: &statusStore}, nil
	}
	return main, nil, nil
}

func (r *apiResource) getAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	fs := fields.Set{"metadata.name": m.GetName()}
	if r.namespaced {
		fs["metadata.namespace"] = m.GetNamespace()
	}
	if r.attrs != nil {
		for k, v := range r.attrs(obj) {
			fs[k] = v
		}
	}
	return labels.Set(m.GetLabels()), fs, nil
}

// strategy implements the create/update/delete strategies for every built-in resource.
// status=true gives the status subresource strategy: only .status (and metadata) change.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	r      *apiResource
	status bool
}

func (s *strategy) NamespaceScoped() bool          { return s.r.namespaced }
func (s *strategy) AllowCreateOnUpdate() bool      { return false }
func (s *strategy) AllowUnconditionalUpdate() bool { return true }
func (s *strategy) Canonicalize(runtime.Object)    {}

func (s *strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if s.r.hasStatus {
		setTopLevel(obj, "Status", nil)
	}
	if m, err := meta.Accessor(obj); err == nil && s.r.generation {
		m.SetGeneration(1)
	}
	if s.r.defaults != nil {
		s.r.defaults(obj)
	}
}

func (s *strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	if s.status {
		// Everything but metadata and status comes from the stored object.
		copyTopLevelExcept(obj, old, "TypeMeta", "ObjectMeta", "Status")
		if nm, err := meta.Accessor(obj); err == nil {
			if om, err := meta.Accessor(old); err == nil {
				nm.SetGeneration(om.GetGeneration())
			}
		}
		return
	}
	if s.r.hasStatus {
		setTopLevel(obj, "Status", getTopLevel(old, "Status"))
	}
	if s.r.defaults != nil {
		s.r.defaults(obj)
	}
	// Like Kubernetes: the generation moves when anything but metadata/status changes.
	nm, err1 := meta.Accessor(obj)
	om, err2 := meta.Accessor(old)
	if err1 == nil && err2 == nil && s.r.generation {
		nm.SetGeneration(om.GetGeneration())
		if !topLevelEqualExcept(obj, old, "TypeMeta", "ObjectMeta", "Status") {
			nm.SetGeneration(om.GetGeneration() + 1)
		}
	}
}

func (s *strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return s.validate(obj, nil)
}

func (s *strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return s.validate(obj, old)
}

func (s *strategy) validate(obj, old runtime.Object) field.ErrorList {
	var errs field.ErrorList
	if m, err := meta.Accessor(obj); err == nil && s.r.nameFn != nil && old == nil {
		errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(m, s.r.namespaced, s.r.nameFn, field.NewPath("metadata"))...)
	}
	if s.r.validate != nil && !s.status {
		errs = append(errs, s.r.validate(obj, old)...)
	}
	return errs
}

func (s *strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (s *strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// GetResetFields tells server-side apply which fields a request to this endpoint may not set.
func (s *strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.r.hasStatus {
		return nil
	}
	path := "status"
	if s.status {
		path = "spec"
	}
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(s.r.gvr.GroupVersion().String()): fieldpath.NewSet(fieldpath.MakePathOrDie(path)),
	}
}

// Reflection helpers over the top-level struct fields of API objects (Spec, Status, Data...).

func getTopLevel(obj runtime.Object, name string) interface{} {
	f := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return f.Interface()
}

func setTopLevel(obj runtime.Object, name string, value interface{}) {
	f := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !f.IsValid() {
		return
	}
	if value == nil {
		f.Set(reflect.Zero(f.Type()))
		return
	}
	f.Set(reflect.ValueOf(value))
}

func copyTopLevelExcept(dst, src runtime.Object, except ...string) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src).Elem()
	for i := 0; i < d.NumField(); i++ {
		if contains(except, d.Type().Field(i).Name) {
			continue
		}
		d.Field(i).Set(s.Field(i))
	}
}

func topLevelEqualExcept(a, b runtime.Object, except ...string) bool {
	av := reflect.ValueOf(a).Elem()
	bv := reflect.ValueOf(b).Elem()
	for i := 0; i < av.NumField(); i++ {
		if contains(except, av.Type().Field(i).Name) {
			continue
		}
		if !apiequality.Semantic.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

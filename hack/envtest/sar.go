package main

// authorization.k8s.io/v1 SubjectAccessReviews, answered from a rules file.
//
// The server itself authorizes every request (AlwaysAllow, so tests may impersonate anyone);
// SubjectAccessReviews let components that delegate authorization (cert-manager's webhook
// asks whether a user may `approve` `signers`) see allow and deny decisions. Without
// --authorization-rules-file every review is allowed, which is what AlwaysAllow would answer.
//
// The file is a YAML or JSON list of rules, RBAC-like:
//
//	- users: [alice]                 # and/or groups; "*" matches every subject
//	  groups: [approvers]
//	  verbs: [approve]
//	  apiGroups: [cert-manager.io]
//	  resources: [signers]           # "<resource>/<subresource>" for subresources
//	  resourceNames: ["issuers.cert-manager.io/*"]   # optional; empty matches any name
//	  namespaces: [team-a]           # optional; empty matches any namespace
//	- users: [bob]
//	  verbs: [get]
//	  nonResourceURLs: ["/healthz"]
//
// In every list, "*" matches anything and a value ending in "*" matches by prefix. Members
// of system:masters are always allowed, as kube-apiserver's privileged-group authorizer does.

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"sigs.k8s.io/yaml"
)

func init() {
	utilruntime.Must(authorizationv1.AddToScheme(Scheme))
	utilruntime.Must(authorizationv1.AddToScheme(NamerScheme))
	addInternal(schema.GroupVersion{Group: authorizationv1.GroupName, Version: runtime.APIVersionInternal},
		&authorizationv1.SubjectAccessReview{})
	utilruntime.Must(Scheme.SetVersionPriority(authorizationv1.SchemeGroupVersion))
}

// authorizationRule grants verbs on resources (or non-resource URLs) to users and groups.
type authorizationRule struct {
	Users           []string `json:"users,omitempty"`
	Groups          []string `json:"groups,omitempty"`
	Verbs           []string `json:"verbs"`
	APIGroups       []string `json:"apiGroups,omitempty"`
	Resources       []string `json:"resources,omitempty"`
	ResourceNames   []string `json:"resourceNames,omitempty"`
	Namespaces      []string `json:"namespaces,omitempty"`
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
}

// authorizationRules is the loaded rules file; nil rules (no file) allow everything.
type authorizationRules struct {
	file  string
	rules []authorizationRule
}

// loadAuthorizationRules reads and checks the rules file; "" means no file.
func loadAuthorizationRules(path string) (*authorizationRules, error) {
	if path == "" {
		return &authorizationRules{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--authorization-rules-file: %w", err)
	}
	var rules []authorizationRule
	if err := yaml.UnmarshalStrict(data, &rules); err != nil {
		return nil, fmt.Errorf("--authorization-rules-file %s: %w", path, err)
	}
	if rules == nil {
		rules = []authorizationRule{}
	}
	for i, r := range rules {
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("--authorization-rules-file %s: rule %d: %w", path, i, err)
		}
	}
	return &authorizationRules{file: path, rules: rules}, nil
}

func (r *authorizationRule) check() error {
	switch {
	case len(r.Users) == 0 && len(r.Groups) == 0:
		return fmt.Errorf("users or groups must be set")
	case len(r.Verbs) == 0:
		return fmt.Errorf("verbs must be set")
	case len(r.NonResourceURLs) > 0 && (len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 || len(r.Namespaces) > 0):
		return fmt.Errorf("nonResourceURLs cannot be combined with apiGroups, resources, resourceNames or namespaces")
	case len(r.NonResourceURLs) == 0 && (len(r.APIGroups) == 0 || len(r.Resources) == 0):
		return fmt.Errorf("apiGroups and resources (or nonResourceURLs) must be set")
	}
	return nil
}

// matches reports whether value is matched by one of patterns: "*" matches anything, a
// pattern ending in "*" matches by prefix, anything else exactly.
func matches(patterns []string, value string) bool {
	for _, p := range patterns {
		if p == value || p == "*" || (strings.HasSuffix(p, "*") && strings.HasPrefix(value, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

func matchesAny(patterns, values []string) bool {
	for _, v := range values {
		if matches(patterns, v) {
			return true
		}
	}
	return false
}

func (r *authorizationRule) appliesTo(spec *authorizationv1.SubjectAccessReviewSpec) bool {
	if !matches(r.Users, spec.User) && !matchesAny(r.Groups, spec.Groups) {
		return false
	}
	if a := spec.ResourceAttributes; a != nil {
		resource := a.Resource
		if a.Subresource != "" {
			resource += "/" + a.Subresource
		}
		return len(r.NonResourceURLs) == 0 &&
			matches(r.Verbs, a.Verb) &&
			matches(r.APIGroups, a.Group) &&
			matches(r.Resources, resource) &&
			(len(r.ResourceNames) == 0 || matches(r.ResourceNames, a.Name)) &&
			(len(r.Namespaces) == 0 || matches(r.Namespaces, a.Namespace))
	}
	a := spec.NonResourceAttributes
	return a != nil && matches(r.Verbs, a.Verb) && matches(r.NonResourceURLs, a.Path)
}

// evaluate answers a review: allowed by a rule, or no opinion (as RBAC, nothing is denied
// explicitly).
func (rs *authorizationRules) evaluate(spec *authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
	if rs.rules == nil {
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "no --authorization-rules-file: everything is allowed"}
	}
	for _, g := range spec.Groups {
		if g == user.SystemPrivilegedGroup {
			return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "member of " + user.SystemPrivilegedGroup}
		}
	}
	for i := range rs.rules {
		if rs.rules[i].appliesTo(spec) {
			return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: fmt.Sprintf("allowed by rule %d of %s", i, rs.file)}
		}
	}
	return authorizationv1.SubjectAccessReviewStatus{Reason: fmt.Sprintf("no rule of %s applies", rs.file)}
}

// validateSubjectAccessReview checks what kube-apiserver checks: empty metadata, exactly one
// kind of attributes, and a subject.
func validateSubjectAccessReview(sar *authorizationv1.SubjectAccessReview) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch {
	case sar.Spec.ResourceAttributes != nil && sar.Spec.NonResourceAttributes != nil:
		errs = append(errs, field.Invalid(spec.Child("nonResourceAttributes"), sar.Spec.NonResourceAttributes, "cannot be specified in combination with resourceAttributes"))
	case sar.Spec.ResourceAttributes == nil && sar.Spec.NonResourceAttributes == nil:
		errs = append(errs, field.Invalid(spec.Child("resourceAttributes"), sar.Spec.ResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if sar.Spec.User == "" && len(sar.Spec.Groups) == 0 {
		errs = append(errs, field.Invalid(spec.Child("user"), sar.Spec.User, "at least one of user or group must be specified"))
	}
	meta := sar.ObjectMeta
	meta.ManagedFields = nil
	if !reflect.DeepEqual(metav1.ObjectMeta{}, meta) {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), sar.ObjectMeta, "must be empty"))
	}
	return errs
}

// subjectAccessReviewREST is create-only and stores nothing: the answer is the request with
// its status filled in.
type subjectAccessReviewREST struct {
	rules *authorizationRules
}

var (
	_ rest.Creater              = &subjectAccessReviewREST{}
	_ rest.Scoper               = &subjectAccessReviewREST{}
	_ rest.SingularNameProvider = &subjectAccessReviewREST{}
)

func (s *subjectAccessReviewREST) New() runtime.Object { return &authorizationv1.SubjectAccessReview{} }
func (s *subjectAccessReviewREST) Destroy()            {}
func (s *subjectAccessReviewREST) NamespaceScoped() bool {
	return false
}
func (s *subjectAccessReviewREST) GetSingularName() string { return "subjectaccessreview" }

func (s *subjectAccessReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.SubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SubjectAccessReview: %T", obj))
	}
	if errs := validateSubjectAccessReview(sar); len(errs) > 0 {
		return nil, apierrors.NewInvalid(authorizationv1.SchemeGroupVersion.WithKind("SubjectAccessReview").GroupKind(), "", errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, sar.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	sar.Status = s.rules.evaluate(&sar.Spec)
	return sar, nil
}

// installSubjectAccessReviews serves authorization.k8s.io/v1 subjectaccessreviews, answered
// from rulesFile ("" allows everything).
func installSubjectAccessReviews(s *genericapiserver.GenericAPIServer, rulesFile string) error {
	rules, err := loadAuthorizationRules(rulesFile)
	if err != nil {
		return err
	}
	info := genericapiserver.NewDefaultAPIGroupInfo(authorizationv1.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	info.VersionedResourcesStorageMap[authorizationv1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"subjectaccessreviews": &subjectAccessReviewREST{rules: rules},
	}
	return s.InstallAPIGroup(&info)
}

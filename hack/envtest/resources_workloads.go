package main

// The kinds a Helm chart installs next to the ones cert-manager itself touches: Deployments,
// RBAC, PodDisruptionBudgets and NetworkPolicies. They are stored and served with real API
// semantics (so `helm install` and `helm upgrade` work against this server), but, as
// documented in README.md, nothing acts on them: no Pods are created and no RBAC is enforced.
// Validation covers what would make a manifest fail on a real cluster and is cheap to check
// here: selectors, required fields, immutable fields, mutually exclusive fields.

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// workloadGroups are the API groups of workloadResources, for the scheme.
var workloadGroups = []struct {
	install func(*runtime.Scheme) error
	gv      schema.GroupVersion
}{
	{appsv1.AddToScheme, appsv1.SchemeGroupVersion},
	{rbacv1.AddToScheme, rbacv1.SchemeGroupVersion},
	{policyv1.AddToScheme, policyv1.SchemeGroupVersion},
}

var workloadResources = []*apiResource{
	{
		gvr: appsv1.SchemeGroupVersion.WithResource("deployments"), singular: "deployment", namespaced: true,
		shortNames: []string{"deploy"}, categories: []string{"all"}, hasStatus: true, generation: true,
		nameFn:  apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &appsv1.Deployment{} }, newListFunc: func() runtime.Object { return &appsv1.DeploymentList{} },
		defaults: defaultDeployment,
		validate: validateDeployment,
	},
	{
		gvr: rbacv1.SchemeGroupVersion.WithResource("roles"), singular: "role", namespaced: true,
		nameFn:  rbacName,
		newFunc: func() runtime.Object { return &rbacv1.Role{} }, newListFunc: func() runtime.Object { return &rbacv1.RoleList{} },
		validate: func(obj, _ runtime.Object) field.ErrorList {
			return validatePolicyRules(obj.(*rbacv1.Role).Rules, true, field.NewPath("rules"))
		},
	},
	{
		gvr: rbacv1.SchemeGroupVersion.WithResource("clusterroles"), singular: "clusterrole",
		nameFn:  rbacName,
		newFunc: func() runtime.Object { return &rbacv1.ClusterRole{} }, newListFunc: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
		validate: func(obj, _ runtime.Object) field.ErrorList {
			r := obj.(*rbacv1.ClusterRole)
			// An aggregated role's rules are filled in by a controller; any are accepted.
			if r.AggregationRule != nil {
				return nil
			}
			return validatePolicyRules(r.Rules, false, field.NewPath("rules"))
		},
	},
	{
		gvr: rbacv1.SchemeGroupVersion.WithResource("rolebindings"), singular: "rolebinding", namespaced: true,
		nameFn:  rbacName,
		newFunc: func() runtime.Object { return &rbacv1.RoleBinding{} }, newListFunc: func() runtime.Object { return &rbacv1.RoleBindingList{} },
		validate: func(obj, old runtime.Object) field.ErrorList {
			b := obj.(*rbacv1.RoleBinding)
			var oldRef *rbacv1.RoleRef
			if old != nil {
				oldRef = &old.(*rbacv1.RoleBinding).RoleRef
			}
			return validateBinding(b.RoleRef, oldRef, b.Subjects, []string{"Role", "ClusterRole"})
		},
	},
	{
		gvr: rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings"), singular: "clusterrolebinding",
		nameFn:  rbacName,
		newFunc: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, newListFunc: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
		validate: func(obj, old runtime.Object) field.ErrorList {
			b := obj.(*rbacv1.ClusterRoleBinding)
			var oldRef *rbacv1.RoleRef
			if old != nil {
				oldRef = &old.(*rbacv1.ClusterRoleBinding).RoleRef
			}
			return validateBinding(b.RoleRef, oldRef, b.Subjects, []string{"ClusterRole"})
		},
	},
	{
		gvr: policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets"), singular: "poddisruptionbudget", namespaced: true,
		shortNames: []string{"pdb"}, hasStatus: true, generation: true,
		nameFn:  apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, newListFunc: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
		validate: validatePodDisruptionBudget,
	},
	{
		gvr: networkingv1.SchemeGroupVersion.WithResource("networkpolicies"), singular: "networkpolicy", namespaced: true,
		shortNames: []string{"netpol"}, generation: true,
		nameFn:  apimachineryvalidation.NameIsDNSSubdomain,
		newFunc: func() runtime.Object { return &networkingv1.NetworkPolicy{} }, newListFunc: func() runtime.Object { return &networkingv1.NetworkPolicyList{} },
		defaults: func(obj runtime.Object) {
			np := obj.(*networkingv1.NetworkPolicy)
			// As Kubernetes: policyTypes defaults from the rules present.
			if len(np.Spec.PolicyTypes) == 0 {
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				if len(np.Spec.Egress) > 0 {
					np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
				}
			}
		},
	},
}

// rbacName is Kubernetes' ValidateRBACName: any valid path segment, so the customary
// "component:purpose" names (with a colon) are allowed.
func rbacName(name string, _ bool) []string {
	return path.IsValidPathSegmentName(name)
}

// defaultDeployment applies the apps/v1 defaults clients read back (kubectl rollout, helm
// --wait): replicas, strategy, history and progress deadline, and the container fields a
// chart usually leaves out.
func defaultDeployment(obj runtime.Object) {
	d := obj.(*appsv1.Deployment)
	if d.Spec.Replicas == nil {
		one := int32(1)
		d.Spec.Replicas = &one
	}
	if d.Spec.Strategy.Type == "" {
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if d.Spec.Strategy.RollingUpdate == nil {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		quarter := intstr.FromString("25%")
		if d.Spec.Strategy.RollingUpdate.MaxUnavailable == nil {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = &quarter
		}
		if d.Spec.Strategy.RollingUpdate.MaxSurge == nil {
			d.Spec.Strategy.RollingUpdate.MaxSurge = &quarter
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		ten := int32(10)
		d.Spec.RevisionHistoryLimit = &ten
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		deadline := int32(600)
		d.Spec.ProgressDeadlineSeconds = &deadline
	}
	pod := &d.Spec.Template.Spec
	if pod.RestartPolicy == "" {
		pod.RestartPolicy = corev1.RestartPolicyAlways
	}
	if pod.DNSPolicy == "" {
		pod.DNSPolicy = corev1.DNSClusterFirst
	}
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.TerminationMessagePath == "" {
			c.TerminationMessagePath = corev1.TerminationMessagePathDefault
		}
		if c.TerminationMessagePolicy == "" {
			c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		}
		for j := range c.Ports {
			if c.Ports[j].Protocol == "" {
				c.Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

func validateDeployment(obj, old runtime.Object) field.ErrorList {
	d := obj.(*appsv1.Deployment)
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *d.Spec.Replicas, "must be greater than or equal to 0"))
	}
	errs = append(errs, validateSelectorMatchesTemplate(d.Spec.Selector, d.Spec.Template.Labels, spec)...)
	if old != nil {
		o := old.(*appsv1.Deployment)
		if !apiequality.Semantic.DeepEqual(d.Spec.Selector, o.Spec.Selector) {
			errs = append(errs, field.Invalid(spec.Child("selector"), d.Spec.Selector, "field is immutable"))
		}
	}
	errs = append(errs, validatePodSpec(&d.Spec.Template.Spec, spec.Child("template", "spec"))...)
	return errs
}

// validateSelectorMatchesTemplate: apps/v1 requires a non-empty selector that selects the
// Pod template's labels.
func validateSelectorMatchesTemplate(sel *metav1.LabelSelector, podLabels map[string]string, spec *field.Path) field.ErrorList {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return field.ErrorList{field.Required(spec.Child("selector"), "")}
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(spec.Child("selector"), sel, err.Error())}
	}
	if !s.Matches(labels.Set(podLabels)) {
		return field.ErrorList{field.Invalid(spec.Child("template", "metadata", "labels"), podLabels, "`selector` does not match template `labels`")}
	}
	return nil
}

// validatePodSpec checks what makes a Pod template unusable: no containers, duplicate or
// malformed names, a missing image, volume mounts of undeclared volumes.
func validatePodSpec(pod *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(pod.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), ""))
	}
	volumes := map[string]bool{}
	for i, v := range pod.Volumes {
		p := path.Child("volumes").Index(i).Child("name")
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			errs = append(errs, field.Invalid(p, v.Name, msg))
		}
		if volumes[v.Name] {
			errs = append(errs, field.Duplicate(p, v.Name))
		}
		volumes[v.Name] = true
	}
	names := map[string]bool{}
	check := func(list []corev1.Container, child string) {
		for i, c := range list {
			p := path.Child(child).Index(i)
			for _, msg := range validation.IsDNS1123Label(c.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
			}
			if names[c.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
			}
			names[c.Name] = true
			if c.Image == "" {
				errs = append(errs, field.Required(p.Child("image"), ""))
			}
			for j, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					errs = append(errs, field.NotFound(p.Child("volumeMounts").Index(j).Child("name"), m.Name))
				}
			}
			for j, port := range c.Ports {
				if port.ContainerPort < 1 || port.ContainerPort > 65535 {
					errs = append(errs, field.Invalid(p.Child("ports").Index(j).Child("containerPort"), port.ContainerPort, "must be between 1 and 65535, inclusive"))
				}
			}
		}
	}
	check(pod.InitContainers, "initContainers")
	check(pod.Containers, "containers")
	return errs
}

// validatePolicyRules: every rule needs verbs, and either resources (with API groups) or, in
// ClusterRoles only, non-resource URLs.
func validatePolicyRules(rules []rbacv1.PolicyRule, namespaced bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		p := path.Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func validateBinding(ref rbacv1.RoleRef, old *rbacv1.RoleRef, subjects []rbacv1.Subject, kinds []string) field.ErrorList {
	var errs field.ErrorList
	refPath := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(refPath.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if !contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(refPath.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(refPath.Child("name"), ""))
	}
	if old != nil && *old != ref {
		errs = append(errs, field.Invalid(refPath, ref, "cannot change roleRef"))
	}
	for i, s := range subjects {
		p := field.NewPath("subjects").Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if s.Namespace == "" {
				errs = append(errs, field.Required(p.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}

func validatePodDisruptionBudget(obj, _ runtime.Object) field.ErrorList {
	pdb := obj.(*policyv1.PodDisruptionBudget)
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(spec, pdb.Spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	for name, v := range map[string]*intstr.IntOrString{"minAvailable": pdb.Spec.MinAvailable, "maxUnavailable": pdb.Spec.MaxUnavailable} {
		if v != nil && v.Type == intstr.Int && v.IntVal < 0 {
			errs = append(errs, field.Invalid(spec.Child(name), v.IntVal, "must be greater than or equal to 0"))
		}
	}
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil &&
		*p != policyv1.IfHealthyBudget && *p != policyv1.AlwaysAllow {
		errs = append(errs, field.NotSupported(spec.Child("unhealthyPodEvictionPolicy"), *p, []string{string(policyv1.IfHealthyBudget), string(policyv1.AlwaysAllow)}))
	}
	return errs
}

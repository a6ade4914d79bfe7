//! HTTP-01 solver configuration: Ingress or Gateway API HTTPRoute, plus the restricted solver
//! pod template.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, LocalObjectReference, SELinuxOptions, SeccompProfile, Sysctl, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Label on solver pods, services and routes: hash of the domain.
pub const DOMAIN_LABEL_KEY: &str = "acme.cert-manager.io/http-domain";
/// Label on solver pods, services and routes: hash of the token.
pub const TOKEN_LABEL_KEY: &str = "acme.cert-manager.io/http-token";
/// Label on solver pods, services and routes: `"true"`.
pub const SOLVER_IDENTIFICATION_LABEL_KEY: &str = "acme.cert-manager.io/http01-solver";

/// HTTP-01 solver: exactly one of `ingress` and `gatewayHTTPRoute`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01 {
    /// Route `/.well-known/acme-challenge/<token>` to solver pods by creating (or editing)
    /// Ingress resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<AcmeChallengeSolverHttp01Ingress>,

    /// Route to solver pods with Gateway API HTTPRoutes created in the Challenge's namespace.
    #[serde(
        rename = "gatewayHTTPRoute",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway_http_route: Option<AcmeChallengeSolverHttp01GatewayHttpRoute>,
}

/// Ingress-based HTTP-01 solver. At most one of `class`, `ingressClassName` and `name`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01Ingress {
    /// Type of the solver Service: `NodePort` (default) or `ClusterIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,

    /// `ingressClassName` of the created Ingresses (the recommended way to pick a class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_class_name: Option<String>,

    /// Value of the `kubernetes.io/ingress.class` annotation on the created Ingresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,

    /// Existing Ingress to add the challenge paths to instead of creating one (for
    /// controllers such as ingress-gce that map one IP to one Ingress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,

    /// Overrides for the solver pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<AcmeChallengeSolverHttp01IngressPodTemplate>,

    /// Overrides for the created Ingresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_template: Option<AcmeChallengeSolverHttp01IngressTemplate>,
}

/// Gateway API HTTP-01 solver: creates HTTPRoutes that attach to `parentRefs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01GatewayHttpRoute {
    /// Type of the solver Service: `NodePort` (default) or `ClusterIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,

    /// Labels added to the created HTTPRoutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,

    /// Parents (usually Gateways) the HTTPRoutes attach to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub parent_refs: Option<Vec<ParentReference>>,

    /// Overrides for the solver pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<AcmeChallengeSolverHttp01IngressPodTemplate>,
}

/// Gateway API `ParentReference` (gateway.networking.k8s.io/v1): the object a route attaches
/// to, usually a Gateway (optionally one listener of it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// API group of the parent; `gateway.networking.k8s.io` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 253),
        regex(pattern = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
        extend("x-cert-manager-rs-default" = "gateway.networking.k8s.io")
    )]
    pub group: Option<String>,

    /// Kind of the parent; `Gateway` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"),
        extend("x-cert-manager-rs-default" = "Gateway")
    )]
    pub kind: Option<String>,

    /// Namespace of the parent; the route's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub namespace: Option<String>,

    /// Name of the parent.
    #[serde(default)]
    #[schemars(length(min = 1, max = 253), extend("x-cert-manager-rs-required" = true))]
    pub name: String,

    /// Section of the parent to attach to, for a Gateway a listener name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub section_name: Option<String>,

    /// Port of the parent to attach to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

/// Solver pod overrides. Only the fields below are honoured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressPodTemplate {
    /// Labels and annotations for the pods; they win over cert-manager's own on conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<AcmeChallengeSolverHttp01IngressPodObjectMeta>,

    /// Pod spec overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<AcmeChallengeSolverHttp01IngressPodSpec>,
}

/// Labels and annotations of solver pods.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressPodObjectMeta {
    /// Annotations added to the solver pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels added to the solver pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// The subset of a Pod spec that may be overridden on solver pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressPodSpec {
    /// Node labels the pod must be scheduled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,

    /// Scheduling constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,

    /// Tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub tolerations: Option<Vec<Toleration>>,

    /// Priority class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,

    /// Service account the pod runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    /// Secrets used to pull the solver image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::image_pull_secrets")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,

    /// Pod security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<AcmeChallengeSolverHttp01IngressPodSecurityContext>,

    /// Resource requests and limits, overriding the controller's solver resource flags. When
    /// only limits are given they must not be below the flag-configured requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<AcmeChallengeSolverHttp01IngressPodResources>,
}

/// The subset of a pod security context that may be set on solver pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressPodSecurityContext {
    /// SELinux context for all containers (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_linux_options: Option<SELinuxOptions>,

    /// UID of the container processes (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,

    /// Primary GID of the container processes (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,

    /// Refuse to start containers whose image runs as UID 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,

    /// Additional groups of the first process in each container (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub supplemental_groups: Option<Vec<i64>>,

    /// Group that owns supporting volumes (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,

    /// Namespaced sysctls (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub sysctls: Option<Vec<Sysctl>>,

    /// When volume ownership is changed: `OnRootMismatch` or `Always` (default; not on
    /// Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group_change_policy: Option<String>,

    /// Seccomp profile of the containers (not on Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
}

/// Requests and limits of solver pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressPodResources {
    /// Maximum compute resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::resource_list")]
    pub limits: Option<BTreeMap<String, Quantity>>,

    /// Minimum compute resources; default to the limits when only those are set, otherwise
    /// to the controller's flags. Cannot exceed the limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::resource_list")]
    pub requests: Option<BTreeMap<String, Quantity>>,
}

/// Solver Ingress overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressTemplate {
    /// Labels and annotations for the Ingresses; they win over cert-manager's own on conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<AcmeChallengeSolverHttp01IngressObjectMeta>,
}

/// Labels and annotations of solver Ingresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverHttp01IngressObjectMeta {
    /// Annotations added to the solver Ingresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels added to the solver Ingresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

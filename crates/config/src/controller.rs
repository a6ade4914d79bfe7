//! The controller's configuration: `controller.config.cert-manager.io/v1alpha1`
//! `ControllerConfiguration` and the flags that override it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use componentbase::cli::CommonArgs;
use featuregates::FeatureGates;
use featuregates::certmanager as gate;
use serde::Serialize;

use crate::duration::Duration;
use crate::error::{ConfigError, FieldError};
use crate::merge::Overrides;
use crate::pflag::{KeyValues, StringList, parse_bool, parse_float32, parse_int32};
use crate::shared::{
    self, LeaderElection, LeaderElectionFlags, Logging, LoggingFlags, MetricsTlsFlags, TlsConfig,
    child, dur_value,
};

pub const API_VERSION: &str = "controller.config.cert-manager.io/v1alpha1";
pub const KIND: &str = "ControllerConfiguration";

pub const DEFAULT_KUBERNETES_API_QPS: f32 = 20.0;
pub const DEFAULT_KUBERNETES_API_BURST: i32 = 50;
pub const DEFAULT_CLUSTER_RESOURCE_NAMESPACE: &str = "kube-system";
pub const DEFAULT_CLUSTER_ISSUER_AMBIENT_CREDENTIALS: bool = true;
pub const DEFAULT_ISSUER_AMBIENT_CREDENTIALS: bool = false;
pub const DEFAULT_ISSUER_KIND: &str = "Issuer";
pub const DEFAULT_ISSUER_GROUP: &str = "cert-manager.io";
pub const DEFAULT_AUTO_CERTIFICATE_ANNOTATIONS: &[&str] = &["kubernetes.io/tls-acme"];
pub const DEFAULT_DNS01_CHECK_RETRY_PERIOD: Duration = Duration::from_secs(10);
pub const DEFAULT_NUMBER_OF_CONCURRENT_WORKERS: i32 = 5;
pub const DEFAULT_MAX_CONCURRENT_CHALLENGES: i32 = 60;
pub const DEFAULT_HEALTHZ_LISTEN_ADDRESS: &str = "0.0.0.0:9403";
/// Same as kube-controller-manager's.
pub const DEFAULT_HEALTHZ_LEADER_ELECTION_TIMEOUT: Duration = Duration::from_secs(20);
/// Upstream uses its own release's image; we are a drop-in for v1.21.1, whose solver speaks the
/// same protocol.
pub const DEFAULT_ACME_HTTP01_SOLVER_IMAGE: &str =
    "quay.io/jetstack/cert-manager-acmesolver:v1.21.1";
pub const DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_REQUEST_CPU: &str = "10m";
pub const DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_REQUEST_MEMORY: &str = "64Mi";
pub const DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_LIMITS_CPU: &str = "100m";
pub const DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_LIMITS_MEMORY: &str = "64Mi";
pub const DEFAULT_ACME_HTTP01_SOLVER_RUN_AS_NON_ROOT: bool = true;
pub const DEFAULT_CERTIFICATE_REQUEST_MINIMUM_BACKOFF_DURATION: Duration = Duration::from_hours(1);
pub const DEFAULT_CERTIFICATE_REQUEST_MAXIMUM_BACKOFF_DURATION: Duration = Duration::from_hours(32);
/// Copy every annotation except kubectl's, Flux's and Argo CD's.
pub const DEFAULT_COPIED_ANNOTATION_PREFIXES: &[&str] = &[
    "*",
    "-kubectl.kubernetes.io/",
    "-fluxcd.io/",
    "-argocd.argoproj.io/",
];
// PEM size limits, in bytes.
pub const DEFAULT_MAX_CERTIFICATE_SIZE: i32 = 36_500;
pub const DEFAULT_MAX_PRIVATE_KEY_SIZE: i32 = 13_000;
pub const DEFAULT_MAX_CHAIN_LENGTH: i32 = 95_000;
pub const DEFAULT_MAX_BUNDLE_SIZE: i32 = 330_000;

/// Every controller `--controllers` may name.
pub const ALL_CONTROLLERS: &[&str] = &[
    "issuers",
    "clusterissuers",
    "certificates-metrics",
    "ingress-shim",
    "gateway-shim",
    "orders",
    "challenges",
    "certificaterequests-issuer-acme",
    "certificaterequests-approver",
    "certificaterequests-issuer-ca",
    "certificaterequests-issuer-selfsigned",
    "certificaterequests-issuer-vault",
    "certificaterequests-issuer-venafi",
    "certificates-trigger",
    "certificates-issuing",
    "certificates-key-manager",
    "certificates-request-manager",
    "certificates-readiness",
    "certificates-revision-manager",
    "certificatesigningrequests-issuer-acme",
    "certificatesigningrequests-issuer-ca",
    "certificatesigningrequests-issuer-selfsigned",
    "certificatesigningrequests-issuer-venafi",
    "certificatesigningrequests-issuer-vault",
];

/// What `*` stands for.
pub const DEFAULT_ENABLED_CONTROLLERS: &[&str] = &[
    "issuers",
    "clusterissuers",
    "certificates-metrics",
    "ingress-shim",
    "orders",
    "challenges",
    "certificaterequests-issuer-acme",
    "certificaterequests-approver",
    "certificaterequests-issuer-ca",
    "certificaterequests-issuer-selfsigned",
    "certificaterequests-issuer-vault",
    "certificaterequests-issuer-venafi",
    "certificates-trigger",
    "certificates-issuing",
    "certificates-key-manager",
    "certificates-request-manager",
    "certificates-readiness",
    "certificates-revision-manager",
];

/// Turned on by the `ExperimentalCertificateSigningRequestControllers` gate.
pub const EXPERIMENTAL_CERTIFICATE_SIGNING_REQUEST_CONTROLLERS: &[&str] = &[
    "certificatesigningrequests-issuer-acme",
    "certificatesigningrequests-issuer-ca",
    "certificatesigningrequests-issuer-selfsigned",
    "certificatesigningrequests-issuer-venafi",
    "certificatesigningrequests-issuer-vault",
];

/// Removed when `--namespace` limits the controller to one namespace.
pub const CLUSTER_SCOPED_CONTROLLERS: &[&str] = &[
    "clusterissuers",
    "certificatesigningrequests-issuer-acme",
    "certificatesigningrequests-issuer-ca",
    "certificatesigningrequests-issuer-selfsigned",
    "certificatesigningrequests-issuer-venafi",
    "certificatesigningrequests-issuer-vault",
];

pub const GATEWAY_SHIM_CONTROLLER: &str = "gateway-shim";
pub const LISTENER_SET_CONTROLLER: &str = "listenerset";

/// The file format, field for field as upstream's `pkg/apis/config/controller/v1alpha1`.
pub mod v1alpha1 {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use crate::duration::Duration;
    use crate::shared::v1alpha1::{LoggingConfiguration, TLSConfig};

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ControllerConfiguration {
        pub api_version: Option<String>,
        pub kind: Option<String>,
        pub kube_config: Option<String>,
        /// Deprecated upstream in favour of `kubeConfig`.
        pub api_server_host: Option<String>,
        #[serde(rename = "kubernetesAPIQPS")]
        pub kubernetes_api_qps: Option<f32>,
        #[serde(rename = "kubernetesAPIBurst")]
        pub kubernetes_api_burst: Option<i32>,
        pub namespace: Option<String>,
        pub cluster_resource_namespace: Option<String>,
        pub leader_election_config: Option<LeaderElectionConfig>,
        pub controllers: Option<Vec<String>>,
        pub issuer_ambient_credentials: Option<bool>,
        pub cluster_issuer_ambient_credentials: Option<bool>,
        pub enable_certificate_owner_ref: Option<bool>,
        /// Deprecated upstream in favour of `gatewayAPI.enabled`.
        #[serde(rename = "enableGatewayAPI")]
        pub enable_gateway_api: Option<bool>,
        /// Deprecated upstream in favour of `gatewayAPI.enableListenerSet`.
        #[serde(rename = "enableGatewayAPIListenerSet")]
        pub enable_gateway_api_listener_set: Option<bool>,
        pub copied_annotation_prefixes: Option<Vec<String>>,
        pub number_of_concurrent_workers: Option<i32>,
        pub max_concurrent_challenges: Option<i32>,
        pub metrics_listen_address: Option<String>,
        #[serde(rename = "metricsTLSConfig")]
        pub metrics_tls_config: Option<TLSConfig>,
        pub healthz_listen_address: Option<String>,
        pub enable_pprof: Option<bool>,
        pub pprof_address: Option<String>,
        pub logging: Option<LoggingConfiguration>,
        pub feature_gates: Option<BTreeMap<String, bool>>,
        pub ingress_shim_config: Option<IngressShimConfig>,
        #[serde(rename = "acmeHTTP01Config")]
        pub acme_http01_config: Option<ACMEHTTP01Config>,
        #[serde(rename = "acmeDNS01Config")]
        pub acme_dns01_config: Option<ACMEDNS01Config>,
        #[serde(rename = "pemSizeLimitsConfig")]
        pub pem_size_limits_config: Option<PEMSizeLimitsConfig>,
        #[serde(rename = "gatewayAPI")]
        pub gateway_api: Option<GatewayAPIConfig>,
        pub certificate_request_minimum_backoff_duration: Option<Duration>,
        pub certificate_request_maximum_backoff_duration: Option<Duration>,
    }

    /// The shared leader election fields plus the controller's `healthzTimeout`.
    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct LeaderElectionConfig {
        pub enabled: Option<bool>,
        pub namespace: Option<String>,
        pub lease_duration: Option<Duration>,
        pub renew_deadline: Option<Duration>,
        pub retry_period: Option<Duration>,
        pub healthz_timeout: Option<Duration>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct IngressShimConfig {
        pub default_issuer_name: Option<String>,
        pub default_issuer_kind: Option<String>,
        pub default_issuer_group: Option<String>,
        pub default_auto_certificate_annotations: Option<Vec<String>>,
        pub extra_certificate_annotations: Option<Vec<String>>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ACMEHTTP01Config {
        pub solver_image: Option<String>,
        #[serde(rename = "solverResourceRequestCPU")]
        pub solver_resource_request_cpu: Option<String>,
        pub solver_resource_request_memory: Option<String>,
        #[serde(rename = "solverResourceLimitsCPU")]
        pub solver_resource_limits_cpu: Option<String>,
        pub solver_resource_limits_memory: Option<String>,
        pub solver_run_as_non_root: Option<bool>,
        pub solver_runtime_class_name: Option<String>,
        pub solver_nameservers: Option<Vec<String>>,
        pub solver_extra_labels: Option<BTreeMap<String, String>>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ACMEDNS01Config {
        pub recursive_nameservers: Option<Vec<String>>,
        pub recursive_nameservers_only: Option<bool>,
        pub check_retry_period: Option<Duration>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct GatewayAPIConfig {
        pub enabled: Option<bool>,
        pub enable_listener_set: Option<bool>,
        pub extra_protocols: Option<Vec<String>>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct PEMSizeLimitsConfig {
        pub max_certificate_size: Option<i32>,
        pub max_private_key_size: Option<i32>,
        pub max_chain_length: Option<i32>,
        pub max_bundle_size: Option<i32>,
    }
}

/// The controller's effective configuration. Serializes with the file's field names (see
/// [`ControllerConfig::summary`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControllerConfig {
    /// `--kubeconfig`, else the file's `kubeConfig`; `None`: in-cluster config.
    pub kube_config: Option<PathBuf>,
    /// `--master`; empty: from the kubeconfig.
    pub api_server_host: String,
    #[serde(rename = "kubernetesAPIQPS")]
    pub kubernetes_api_qps: f32,
    #[serde(rename = "kubernetesAPIBurst")]
    pub kubernetes_api_burst: i32,
    /// Empty: all namespaces.
    pub namespace: String,
    pub cluster_resource_namespace: String,
    #[serde(rename = "leaderElectionConfig")]
    pub leader_election: ControllerLeaderElection,
    /// As given (`*`, names, `-name`); see [`ControllerConfig::enabled_controllers`].
    pub controllers: Vec<String>,
    pub issuer_ambient_credentials: bool,
    pub cluster_issuer_ambient_credentials: bool,
    pub enable_certificate_owner_ref: bool,
    pub copied_annotation_prefixes: Vec<String>,
    pub number_of_concurrent_workers: i32,
    pub max_concurrent_challenges: i32,
    pub metrics_listen_address: String,
    #[serde(rename = "metricsTLSConfig")]
    pub metrics_tls: TlsConfig,
    pub healthz_listen_address: String,
    pub enable_pprof: bool,
    pub pprof_address: String,
    pub logging: Logging,
    /// The config file's `featureGates` only: pass it to
    /// `componentbase::cli::resolve_gates_with_config_file`, which lets `--feature-gates` win.
    pub feature_gates: BTreeMap<String, bool>,
    #[serde(rename = "ingressShimConfig")]
    pub ingress_shim: IngressShimConfig,
    #[serde(rename = "acmeHTTP01Config")]
    pub acme_http01: AcmeHttp01Config,
    #[serde(rename = "acmeDNS01Config")]
    pub acme_dns01: AcmeDns01Config,
    #[serde(rename = "pemSizeLimitsConfig")]
    pub pem_size_limits: PemSizeLimitsConfig,
    #[serde(rename = "gatewayAPI")]
    pub gateway_api: GatewayApiConfig,
    pub certificate_request_minimum_backoff_duration: Duration,
    pub certificate_request_maximum_backoff_duration: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControllerLeaderElection {
    #[serde(flatten)]
    pub base: LeaderElection,
    /// How long after the lease expires `/livez` keeps reporting healthy.
    pub healthz_timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressShimConfig {
    pub default_issuer_name: String,
    pub default_issuer_kind: String,
    pub default_issuer_group: String,
    pub default_auto_certificate_annotations: Vec<String>,
    pub extra_certificate_annotations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcmeHttp01Config {
    pub solver_image: String,
    #[serde(rename = "solverResourceRequestCPU")]
    pub solver_resource_request_cpu: String,
    pub solver_resource_request_memory: String,
    #[serde(rename = "solverResourceLimitsCPU")]
    pub solver_resource_limits_cpu: String,
    pub solver_resource_limits_memory: String,
    pub solver_run_as_non_root: bool,
    pub solver_runtime_class_name: String,
    pub solver_nameservers: Vec<String>,
    pub solver_extra_labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcmeDns01Config {
    pub recursive_nameservers: Vec<String>,
    pub recursive_nameservers_only: bool,
    pub check_retry_period: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayApiConfig {
    pub enabled: bool,
    pub enable_listener_set: bool,
    pub extra_protocols: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PemSizeLimitsConfig {
    pub max_certificate_size: i32,
    pub max_private_key_size: i32,
    pub max_chain_length: i32,
    pub max_bundle_size: i32,
}

fn text(v: Option<String>, default: &str) -> String {
    v.filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn list(v: Option<Vec<String>>, default: &[&str]) -> Vec<String> {
    v.filter(|l| !l.is_empty())
        .unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
}

fn duration(v: Option<Duration>, default: Duration) -> Duration {
    v.filter(|d| !d.is_zero()).unwrap_or(default)
}

impl Default for ControllerConfig {
    /// The configuration with neither file nor flags.
    fn default() -> Self {
        ControllerConfig::from_file(Default::default())
    }
}

impl ControllerConfig {
    /// Upstream's defaulting: unset, empty strings, empty lists and zero durations take the
    /// default.
    fn from_file(f: v1alpha1::ControllerConfiguration) -> Self {
        let le = f.leader_election_config.unwrap_or_default();
        let shim = f.ingress_shim_config.unwrap_or_default();
        let http01 = f.acme_http01_config.unwrap_or_default();
        let dns01 = f.acme_dns01_config.unwrap_or_default();
        let pem = f.pem_size_limits_config.unwrap_or_default();
        let gw = f.gateway_api.unwrap_or_default();
        ControllerConfig {
            kube_config: f.kube_config.filter(|s| !s.is_empty()).map(PathBuf::from),
            api_server_host: f.api_server_host.unwrap_or_default(),
            kubernetes_api_qps: f.kubernetes_api_qps.unwrap_or(DEFAULT_KUBERNETES_API_QPS),
            kubernetes_api_burst: f
                .kubernetes_api_burst
                .unwrap_or(DEFAULT_KUBERNETES_API_BURST),
            namespace: f.namespace.unwrap_or_default(),
            cluster_resource_namespace: text(
                f.cluster_resource_namespace,
                DEFAULT_CLUSTER_RESOURCE_NAMESPACE,
            ),
            leader_election: ControllerLeaderElection {
                base: LeaderElection::from_file(shared::v1alpha1::LeaderElectionConfig {
                    enabled: le.enabled,
                    namespace: le.namespace,
                    lease_duration: le.lease_duration,
                    renew_deadline: le.renew_deadline,
                    retry_period: le.retry_period,
                }),
                healthz_timeout: duration(
                    le.healthz_timeout,
                    DEFAULT_HEALTHZ_LEADER_ELECTION_TIMEOUT,
                ),
            },
            controllers: list(f.controllers, &["*"]),
            issuer_ambient_credentials: f
                .issuer_ambient_credentials
                .unwrap_or(DEFAULT_ISSUER_AMBIENT_CREDENTIALS),
            cluster_issuer_ambient_credentials: f
                .cluster_issuer_ambient_credentials
                .unwrap_or(DEFAULT_CLUSTER_ISSUER_AMBIENT_CREDENTIALS),
            enable_certificate_owner_ref: f.enable_certificate_owner_ref.unwrap_or(false),
            copied_annotation_prefixes: list(
                f.copied_annotation_prefixes,
                DEFAULT_COPIED_ANNOTATION_PREFIXES,
            ),
            number_of_concurrent_workers: f
                .number_of_concurrent_workers
                .unwrap_or(DEFAULT_NUMBER_OF_CONCURRENT_WORKERS),
            max_concurrent_challenges: f
                .max_concurrent_challenges
                .unwrap_or(DEFAULT_MAX_CONCURRENT_CHALLENGES),
            metrics_listen_address: text(
                f.metrics_listen_address,
                shared::DEFAULT_METRICS_LISTEN_ADDRESS,
            ),
            metrics_tls: TlsConfig::from_file(f.metrics_tls_config.unwrap_or_default()),
            healthz_listen_address: text(f.healthz_listen_address, DEFAULT_HEALTHZ_LISTEN_ADDRESS),
            enable_pprof: f.enable_pprof.unwrap_or(false),
            pprof_address: text(f.pprof_address, shared::DEFAULT_PPROF_ADDRESS),
            logging: Logging::from_file(f.logging.unwrap_or_default()),
            feature_gates: f.feature_gates.unwrap_or_default(),
            ingress_shim: IngressShimConfig {
                default_issuer_name: shim.default_issuer_name.unwrap_or_default(),
                default_issuer_kind: text(shim.default_issuer_kind, DEFAULT_ISSUER_KIND),
                default_issuer_group: text(shim.default_issuer_group, DEFAULT_ISSUER_GROUP),
                default_auto_certificate_annotations: list(
                    shim.default_auto_certificate_annotations,
                    DEFAULT_AUTO_CERTIFICATE_ANNOTATIONS,
                ),
                extra_certificate_annotations: shim
                    .extra_certificate_annotations
                    .unwrap_or_default(),
            },
            acme_http01: AcmeHttp01Config {
                solver_image: text(http01.solver_image, DEFAULT_ACME_HTTP01_SOLVER_IMAGE),
                solver_resource_request_cpu: text(
                    http01.solver_resource_request_cpu,
                    DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_REQUEST_CPU,
                ),
                solver_resource_request_memory: text(
                    http01.solver_resource_request_memory,
                    DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_REQUEST_MEMORY,
                ),
                solver_resource_limits_cpu: text(
                    http01.solver_resource_limits_cpu,
                    DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_LIMITS_CPU,
                ),
                solver_resource_limits_memory: text(
                    http01.solver_resource_limits_memory,
                    DEFAULT_ACME_HTTP01_SOLVER_RESOURCE_LIMITS_MEMORY,
                ),
                solver_run_as_non_root: http01
                    .solver_run_as_non_root
                    .unwrap_or(DEFAULT_ACME_HTTP01_SOLVER_RUN_AS_NON_ROOT),
                solver_runtime_class_name: http01.solver_runtime_class_name.unwrap_or_default(),
                solver_nameservers: http01.solver_nameservers.unwrap_or_default(),
                solver_extra_labels: http01.solver_extra_labels.unwrap_or_default(),
            },
            acme_dns01: AcmeDns01Config {
                recursive_nameservers: dns01.recursive_nameservers.unwrap_or_default(),
                recursive_nameservers_only: dns01.recursive_nameservers_only.unwrap_or(false),
                check_retry_period: duration(
                    dns01.check_retry_period,
                    DEFAULT_DNS01_CHECK_RETRY_PERIOD,
                ),
            },
            pem_size_limits: PemSizeLimitsConfig {
                max_certificate_size: pem
                    .max_certificate_size
                    .unwrap_or(DEFAULT_MAX_CERTIFICATE_SIZE),
                max_private_key_size: pem
                    .max_private_key_size
                    .unwrap_or(DEFAULT_MAX_PRIVATE_KEY_SIZE),
                max_chain_length: pem.max_chain_length.unwrap_or(DEFAULT_MAX_CHAIN_LENGTH),
                max_bundle_size: pem.max_bundle_size.unwrap_or(DEFAULT_MAX_BUNDLE_SIZE),
            },
            // The deprecated top-level switches are read only when `gatewayAPI` leaves them unset.
            gateway_api: GatewayApiConfig {
                enabled: gw.enabled.or(f.enable_gateway_api).unwrap_or(false),
                enable_listener_set: gw
                    .enable_listener_set
                    .or(f.enable_gateway_api_listener_set)
                    .unwrap_or(false),
                extra_protocols: gw.extra_protocols.unwrap_or_default(),
            },
            certificate_request_minimum_backoff_duration: duration(
                f.certificate_request_minimum_backoff_duration,
                DEFAULT_CERTIFICATE_REQUEST_MINIMUM_BACKOFF_DURATION,
            ),
            certificate_request_maximum_backoff_duration: duration(
                f.certificate_request_maximum_backoff_duration,
                DEFAULT_CERTIFICATE_REQUEST_MAXIMUM_BACKOFF_DURATION,
            ),
        }
    }

    /// The effective configuration as one line of JSON, for a debug log at start. Fields that
    /// hold secrets must use [`crate::Redacted`], which serializes as `"<redacted>"`.
    pub fn summary(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Upstream's `EnabledControllers`: `*` is the default set, `-name` removes, plain names add
    /// (only `-name`s imply `*`); gates add the CSR and Gateway API controllers; a namespace drops
    /// the cluster-scoped ones.
    pub fn enabled_controllers(&self, gates: &FeatureGates) -> BTreeSet<String> {
        let mut enabled = BTreeSet::new();
        let mut disabled = Vec::new();
        for c in &self.controllers {
            if c == "*" {
                enabled.extend(DEFAULT_ENABLED_CONTROLLERS.iter().map(|s| s.to_string()));
            } else if let Some(name) = c.strip_prefix('-') {
                disabled.push(name.to_owned());
            } else {
                enabled.insert(c.clone());
            }
        }
        if !disabled.is_empty() && enabled.is_empty() {
            enabled.extend(DEFAULT_ENABLED_CONTROLLERS.iter().map(|s| s.to_string()));
        }
        if gates.enabled(gate::EXPERIMENTAL_CERTIFICATE_SIGNING_REQUEST_CONTROLLERS) {
            enabled.extend(
                EXPERIMENTAL_CERTIFICATE_SIGNING_REQUEST_CONTROLLERS
                    .iter()
                    .map(|s| s.to_string()),
            );
        }
        let gateway =
            gates.enabled(gate::EXPERIMENTAL_GATEWAY_API_SUPPORT) && self.gateway_api.enabled;
        if gateway {
            enabled.insert(GATEWAY_SHIM_CONTROLLER.to_owned());
        }
        if gateway && gates.enabled(gate::LISTENER_SETS) && self.gateway_api.enable_listener_set {
            enabled.insert(LISTENER_SET_CONTROLLER.to_owned());
        }
        if !self.namespace.is_empty() {
            for c in CLUSTER_SCOPED_CONTROLLERS {
                enabled.remove(*c);
            }
        }
        for c in disabled {
            enabled.remove(&c);
        }
        enabled
    }

    /// Upstream's `ValidateControllerConfiguration`, plus the checks upstream only makes once
    /// running (client-go's leader election limits, resource quantities, the file's gates).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        self.logging.validate("logging", &mut errs);
        self.metrics_tls.validate("metricsTLSConfig", &mut errs);
        let le = &self.leader_election;
        if le.base.enabled && le.healthz_timeout <= Duration::ZERO {
            errs.push(FieldError::invalid(
                "leaderElectionConfig.healthzTimeout",
                dur_value(le.healthz_timeout),
                "must be greater than 0",
            ));
        }
        le.base.validate("leaderElectionConfig", &mut errs);
        if self.ingress_shim.default_issuer_kind.is_empty() {
            errs.push(FieldError::required(
                "ingressShimConfig.defaultIssuerKind",
                "must not be empty",
            ));
        }
        if self.kubernetes_api_burst < -1 {
            errs.push(FieldError::invalid(
                "kubernetesAPIBurst",
                self.kubernetes_api_burst,
                "must be greater than or equal to -1",
            ));
        }
        if self.kubernetes_api_qps < -1.0 {
            errs.push(FieldError::invalid(
                "kubernetesAPIQPS",
                self.kubernetes_api_qps,
                "must be greater than or equal to -1",
            ));
        }
        if (self.kubernetes_api_burst as f32) < self.kubernetes_api_qps {
            errs.push(FieldError::invalid(
                "kubernetesAPIBurst",
                self.kubernetes_api_burst,
                "must be higher or equal to kubernetesAPIQPS",
            ));
        }
        for (i, server) in self.acme_http01.solver_nameservers.iter().enumerate() {
            if split_host_port(server).is_none() {
                errs.push(FieldError::invalid_str(
                    format!("acmeHTTP01Config.solverNameservers[{i}]"),
                    server,
                    "must be in the format <ip address>:<port>",
                ));
            }
        }
        for (i, server) in self.acme_dns01.recursive_nameservers.iter().enumerate() {
            let at = format!("acmeDNS01Config.recursiveNameservers[{i}]");
            if server.starts_with("https://") {
                if !is_https_url(server) {
                    errs.push(FieldError::invalid_str(
                        at,
                        server,
                        "must be in the format https://<DoH RFC 8484 server address>",
                    ));
                }
            } else if split_host_port(server).is_none() {
                errs.push(FieldError::invalid_str(
                    at,
                    server,
                    "must be in the format <ip address>:<port>",
                ));
            }
        }
        for (i, c) in self.controllers.iter().enumerate() {
            if c == "*" {
                continue;
            }
            let name = c.strip_prefix('-').unwrap_or(c);
            if !ALL_CONTROLLERS.contains(&name) {
                errs.push(FieldError::invalid_str(
                    format!("controllers[{i}]"),
                    name,
                    "is not in the list of known controllers",
                ));
            }
        }
        self.validate_pem_size_limits(&mut errs);
        self.validate_backoff(&mut errs);
        // Upstream parses these when building the solver pods and fails then; same outcome
        // (the process exits), but before touching the cluster.
        for (field, v) in [
            (
                "solverResourceRequestCPU",
                &self.acme_http01.solver_resource_request_cpu,
            ),
            (
                "solverResourceRequestMemory",
                &self.acme_http01.solver_resource_request_memory,
            ),
            (
                "solverResourceLimitsCPU",
                &self.acme_http01.solver_resource_limits_cpu,
            ),
            (
                "solverResourceLimitsMemory",
                &self.acme_http01.solver_resource_limits_memory,
            ),
        ] {
            if let Err(e) = shared::check_quantity(v) {
                errs.push(FieldError::invalid_str(
                    child("acmeHTTP01Config", field),
                    v,
                    e,
                ));
            }
        }
        shared::validate_feature_gates(&self.feature_gates, gate::CONTROLLER, &mut errs);
        errs
    }

    fn validate_pem_size_limits(&self, errs: &mut Vec<FieldError>) {
        let p = &self.pem_size_limits;
        let at = |f: &str| child("pemSizeLimitsConfig", f);
        for (field, v) in [
            ("maxCertificateSize", p.max_certificate_size),
            ("maxPrivateKeySize", p.max_private_key_size),
            ("maxChainLength", p.max_chain_length),
            ("maxBundleSize", p.max_bundle_size),
        ] {
            if v <= 0 {
                errs.push(FieldError::invalid(at(field), v, "must be greater than 0"));
            }
        }
        if p.max_certificate_size > p.max_bundle_size {
            errs.push(FieldError::invalid(
                at("maxCertificateSize"),
                p.max_certificate_size,
                "must not be larger than maxBundleSize",
            ));
        }
        if p.max_chain_length > p.max_bundle_size {
            errs.push(FieldError::invalid(
                at("maxChainLength"),
                p.max_chain_length,
                "must not exceed maxBundleSize",
            ));
        }
    }

    fn validate_backoff(&self, errs: &mut Vec<FieldError>) {
        let (min, max) = (
            self.certificate_request_minimum_backoff_duration,
            self.certificate_request_maximum_backoff_duration,
        );
        if min < Duration::ZERO {
            errs.push(FieldError::invalid(
                "certificateRequestMinimumBackoffDuration",
                dur_value(min),
                "must not be negative",
            ));
        }
        if max < Duration::ZERO {
            errs.push(FieldError::invalid(
                "certificateRequestMaximumBackoffDuration",
                dur_value(max),
                "must not be negative",
            ));
        }
        if min > Duration::ZERO && max > Duration::ZERO && max < min {
            errs.push(FieldError::invalid(
                "certificateRequestMaximumBackoffDuration",
                dur_value(max),
                "must be greater than or equal to certificateRequestMinimumBackoffDuration",
            ));
        }
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; the port may be empty.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let i = s.rfind(':')?;
    let (host, k) = if s.starts_with('[') {
        let end = s.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&s[1..end], end + 1)
    } else {
        let host = &s[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0)
    };
    let j = usize::from(s.starts_with('['));
    if s[j..].contains('[') || s[k..].contains(']') {
        return None;
    }
    Some((host, &s[i + 1..]))
}

/// What upstream accepts for a DNS-over-HTTPS nameserver: `url.ParseRequestURI` succeeds, the
/// scheme is https and there is a host.
fn is_https_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    !host.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:[]%!$&'()*+,;=".contains(c))
}

/// The controller's own flags. `--kubeconfig`, `--feature-gates`, `-v` and `--logging-format`
/// are in `componentbase::cli::CommonArgs`, flattened next to these.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ControllerFlags {
    /// Path to a file containing a ControllerConfiguration object used to configure the
    /// controller
    #[arg(long = "config", value_name = "string")]
    pub config: Option<PathBuf>,

    /// Optional apiserver host address to connect to. If not specified, autoconfiguration will
    /// be attempted.
    #[arg(long = "master", value_name = "string")]
    pub master: Option<String>,

    /// Indicates the maximum queries-per-second requests to the Kubernetes apiserver
    /// (default 20)
    #[arg(long = "kube-api-qps", value_name = "float32", value_parser = parse_float32)]
    pub kube_api_qps: Option<f32>,

    /// The maximum burst queries-per-second of requests sent to the Kubernetes apiserver
    /// (default 50)
    #[arg(long = "kube-api-burst", value_name = "int", value_parser = parse_int32)]
    pub kube_api_burst: Option<i32>,

    /// Namespace to store resources owned by cluster scoped resources such as ClusterIssuer in.
    /// This must be specified if ClusterIssuers are enabled. (default "kube-system")
    #[arg(long = "cluster-resource-namespace", value_name = "string")]
    pub cluster_resource_namespace: Option<String>,

    /// If set, this limits the scope of cert-manager to a single namespace and ClusterIssuers
    /// are disabled. If not specified, all namespaces will be watched
    #[arg(long = "namespace", value_name = "string")]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub leader_election: LeaderElectionFlags,

    /// A list of controllers to enable. '--controllers=*' enables all on-by-default
    /// controllers, '--controllers=foo' enables just the controller named 'foo',
    /// '--controllers=*,-foo' disables the controller named 'foo'. All controllers: issuers,
    /// clusterissuers, certificates-metrics, ingress-shim, gateway-shim, orders, challenges,
    /// certificaterequests-issuer-acme, certificaterequests-approver,
    /// certificaterequests-issuer-ca, certificaterequests-issuer-selfsigned,
    /// certificaterequests-issuer-vault, certificaterequests-issuer-venafi,
    /// certificates-trigger, certificates-issuing, certificates-key-manager,
    /// certificates-request-manager, certificates-readiness, certificates-revision-manager,
    /// certificatesigningrequests-issuer-acme, certificatesigningrequests-issuer-ca,
    /// certificatesigningrequests-issuer-selfsigned, certificatesigningrequests-issuer-venafi,
    /// certificatesigningrequests-issuer-vault (default [*])
    #[arg(long = "controllers", value_name = "strings")]
    pub controllers: Option<Vec<StringList>>,

    /// The docker image to use to solve ACME HTTP01 challenges. You most likely will not need
    /// to change this parameter unless you are testing a new feature or developing
    /// cert-manager. (default "quay.io/jetstack/cert-manager-acmesolver:v1.21.1")
    #[arg(long = "acme-http01-solver-image", value_name = "string")]
    pub acme_http01_solver_image: Option<String>,

    /// Defines the resource request CPU size when spawning new ACME HTTP01 challenge solver
    /// pods. (default "10m")
    #[arg(
        long = "acme-http01-solver-resource-request-cpu",
        value_name = "string"
    )]
    pub acme_http01_solver_resource_request_cpu: Option<String>,

    /// Defines the resource request Memory size when spawning new ACME HTTP01 challenge solver
    /// pods. (default "64Mi")
    #[arg(
        long = "acme-http01-solver-resource-request-memory",
        value_name = "string"
    )]
    pub acme_http01_solver_resource_request_memory: Option<String>,

    /// Defines the resource limits CPU size when spawning new ACME HTTP01 challenge solver
    /// pods. (default "100m")
    #[arg(long = "acme-http01-solver-resource-limits-cpu", value_name = "string")]
    pub acme_http01_solver_resource_limits_cpu: Option<String>,

    /// Defines the resource limits Memory size when spawning new ACME HTTP01 challenge solver
    /// pods. (default "64Mi")
    #[arg(
        long = "acme-http01-solver-resource-limits-memory",
        value_name = "string"
    )]
    pub acme_http01_solver_resource_limits_memory: Option<String>,

    /// Defines the ability to run the http01 solver as root for troubleshooting issues
    /// (default true)
    #[arg(
        long = "acme-http01-solver-run-as-non-root",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub acme_http01_solver_run_as_non_root: Option<bool>,

    /// A list of comma separated dns server endpoints used for ACME HTTP01 check requests.
    /// This should be a list containing host and port, for example 8.8.8.8:53,8.8.4.4:53
    #[arg(long = "acme-http01-solver-nameservers", value_name = "strings")]
    pub acme_http01_solver_nameservers: Option<Vec<StringList>>,

    /// A set of key=value pairs for additional labels to apply to dynamically-created ACME
    /// HTTP01 solver resources (pods, services, ingresses, or Gateway API HTTPRoutes). The
    /// reserved ACME identity label keys acme.cert-manager.io/http-domain,
    /// acme.cert-manager.io/http-token and acme.cert-manager.io/http01-solver are silently
    /// ignored. Per-Issuer pod, ingress and HTTPRoute templates can override these labels.
    #[arg(
        long = "acme-http01-solver-extra-labels",
        value_name = "mapStringString"
    )]
    pub acme_http01_solver_extra_labels: Option<Vec<KeyValues>>,

    /// RuntimeClassName to apply to ACME HTTP01 solver pods
    #[arg(long = "acme-http01-solver-runtime-class-name", value_name = "string")]
    pub acme_http01_solver_runtime_class_name: Option<String>,

    /// Whether a cluster-issuer may make use of ambient credentials for issuers. 'Ambient
    /// Credentials' are credentials drawn from the environment, metadata services, or local
    /// files which are not explicitly configured in the ClusterIssuer API object. When this
    /// flag is enabled, the following sources for credentials are also used: AWS - All sources
    /// the Go SDK defaults to, notably including any EC2 IAM roles available via instance
    /// metadata. (default true)
    #[arg(
        long = "cluster-issuer-ambient-credentials",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub cluster_issuer_ambient_credentials: Option<bool>,

    /// Whether an issuer may make use of ambient credentials. 'Ambient Credentials' are
    /// credentials drawn from the environment, metadata services, or local files which are not
    /// explicitly configured in the Issuer API object. When this flag is enabled, the following
    /// sources for credentials are also used: AWS - All sources the Go SDK defaults to, notably
    /// including any EC2 IAM roles available via instance metadata.
    #[arg(
        long = "issuer-ambient-credentials",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub issuer_ambient_credentials: Option<bool>,

    /// The annotation consumed by the ingress-shim controller to indicate an ingress is
    /// requesting a certificate (default [kubernetes.io/tls-acme])
    #[arg(long = "auto-certificate-annotations", value_name = "strings")]
    pub auto_certificate_annotations: Option<Vec<StringList>>,

    /// Extra annotation to be added by the ingress-shim controller to certificate object
    #[arg(long = "extra-certificate-annotations", value_name = "strings")]
    pub extra_certificate_annotations: Option<Vec<StringList>>,

    /// Name of the Issuer to use when the tls is requested but issuer name is not specified on
    /// the ingress resource.
    #[arg(long = "default-issuer-name", value_name = "string")]
    pub default_issuer_name: Option<String>,

    /// Kind of the Issuer to use when the tls is requested but issuer kind is not specified on
    /// the ingress resource. (default "Issuer")
    #[arg(long = "default-issuer-kind", value_name = "string")]
    pub default_issuer_kind: Option<String>,

    /// Group of the Issuer to use when the tls is requested but issuer group is not specified
    /// on the ingress resource. (default "cert-manager.io")
    #[arg(long = "default-issuer-group", value_name = "string")]
    pub default_issuer_group: Option<String>,

    /// A list of comma separated dns server endpoints used for DNS01 and DNS-over-HTTPS (DoH)
    /// check requests. This should be a list containing entries of the following formats:
    /// `<ip address>:<port>` or `https://<DoH RFC 8484 server address>`. For example:
    /// `8.8.8.8:53,8.8.4.4:53,[2001:4860:4860::8888]:53` or
    /// `https://1.1.1.1/dns-query,https://8.8.8.8/dns-query`. To make sure ALL DNS requests
    /// happen through DoH, `dns01-recursive-nameservers-only` should also be set to true.
    #[arg(long = "dns01-recursive-nameservers", value_name = "strings")]
    pub dns01_recursive_nameservers: Option<Vec<StringList>>,

    /// When true, cert-manager will only ever query the configured DNS resolvers to perform the
    /// ACME DNS01 self check. This is useful in DNS constrained environments, where access to
    /// authoritative nameservers is restricted. Enabling this option could cause the DNS01 self
    /// check to take longer due to caching performed by the recursive nameservers.
    #[arg(
        long = "dns01-recursive-nameservers-only",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub dns01_recursive_nameservers_only: Option<bool>,

    /// The duration the controller should wait between a propagation check. Despite the name,
    /// this flag is used to configure the wait period for both DNS01 and HTTP01 challenge
    /// propagation checks: for DNS01 that the TXT record with the challenge token exists, for
    /// HTTP01 that the challenge token is served at the challenge URL. This should be a valid
    /// duration string, for example 180s or 1h (default 10s)
    #[arg(long = "dns01-check-retry-period", value_name = "duration")]
    pub dns01_check_retry_period: Option<Duration>,

    /// Whether to set the certificate resource as an owner of secret where the tls certificate
    /// is stored. When this flag is enabled, the secret will be automatically removed when the
    /// certificate resource is deleted.
    #[arg(
        long = "enable-certificate-owner-ref",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_certificate_owner_ref: Option<bool>,

    /// Whether gateway API integration is enabled within cert-manager. The
    /// ExperimentalGatewayAPISupport feature gate must also be enabled (default as of 1.15).
    #[arg(
        long = "enable-gateway-api",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_gateway_api: Option<bool>,

    /// Whether ListenerSets support is enabled within cert-manager. The ListenerSet feature
    /// gate must also be enabled.
    #[arg(
        long = "enable-gateway-api-listenerset",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_gateway_api_listenerset: Option<bool>,

    /// A comma-separated list of additional Gateway Listener protocol types that the Gateway
    /// API shim should treat as TLS-capable. By default, only HTTPS and TLS protocol types are
    /// processed. Each entry must exactly match the protocol string as it appears on the
    /// Gateway Listener, e.g. 'DTLS'.
    #[arg(long = "gateway-api-extra-protocols", value_name = "strings")]
    pub gateway_api_extra_protocols: Option<Vec<StringList>>,

    /// Specify which annotations should/shouldn't be copied from Certificate to
    /// CertificateRequest and Order, as well as from CertificateSigningRequest to Order, by
    /// passing a list of annotation key prefixes. A prefix starting with a dash(-) specifies an
    /// annotation that shouldn't be copied. Example: '*,-kubectl.kubernetes.io/'- all
    /// annotations will be copied apart from the ones where the key is prefixed with
    /// 'kubectl.kubernetes.io/'. (default [*,-kubectl.kubernetes.io/,-fluxcd.io/,-argocd.argoproj.io/])
    #[arg(long = "copied-annotation-prefixes", value_name = "strings")]
    pub copied_annotation_prefixes: Option<Vec<StringList>>,

    /// The number of concurrent workers for each controller. (default 5)
    #[arg(long = "concurrent-workers", value_name = "int", value_parser = parse_int32)]
    pub concurrent_workers: Option<i32>,

    /// The maximum number of challenges that can be scheduled as 'processing' at once.
    /// (default 60)
    #[arg(long = "max-concurrent-challenges", value_name = "int", value_parser = parse_int32)]
    pub max_concurrent_challenges: Option<i32>,

    /// The host and port that the metrics endpoint should listen on. (default "0.0.0.0:9402")
    #[arg(long = "metrics-listen-address", value_name = "string")]
    pub metrics_listen_address: Option<String>,

    /// Enable profiling for controller.
    #[arg(
        long = "enable-profiling",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_profiling: Option<bool>,

    /// The host and port that Go profiler should listen on, i.e localhost:6060. Ensure that
    /// profiler is not exposed on a public address. Profiler will be served at /debug/pprof.
    /// (default "localhost:6060")
    #[arg(long = "profiler-address", value_name = "string")]
    pub profiler_address: Option<String>,

    #[command(flatten)]
    pub metrics_tls: MetricsTlsFlags,

    /// The host and port that the healthz server should listen on. The healthz server serves
    /// the /livez endpoint, which is called by the LivenessProbe. (default "0.0.0.0:9403")
    #[arg(
        long = "internal-healthz-listen-address",
        value_name = "string",
        hide = true
    )]
    pub internal_healthz_listen_address: Option<String>,

    /// Leader election healthz checks within this timeout period after the lease expires will
    /// still return healthy (default 20s)
    #[arg(
        long = "internal-healthz-leader-election-timeout",
        value_name = "duration",
        hide = true
    )]
    pub internal_healthz_leader_election_timeout: Option<Duration>,

    /// Maximum size in bytes for a single PEM-encoded certificate. Large certificates with many
    /// DNS names may need larger values. (default 36500)
    #[arg(long = "max-certificate-size", value_name = "int", value_parser = parse_int32)]
    pub max_certificate_size: Option<i32>,

    /// Maximum size in bytes for a single PEM-encoded private key. (default 13000)
    #[arg(long = "max-private-key-size", value_name = "int", value_parser = parse_int32)]
    pub max_private_key_size: Option<i32>,

    /// Maximum size in bytes for a PEM-encoded certificate chain. (default 95000)
    #[arg(long = "max-certificate-chain-length", value_name = "int", value_parser = parse_int32)]
    pub max_certificate_chain_length: Option<i32>,

    /// Maximum size in bytes for PEM-encoded certificate bundles. (default 330000)
    #[arg(long = "max-certificate-bundle-size", value_name = "int", value_parser = parse_int32)]
    pub max_certificate_bundle_size: Option<i32>,

    /// Minimum duration to back off when a certificate request fails. The backoff delay starts
    /// at this value and is exponentially increased with each consecutive failure, up to the
    /// configured maximum backoff duration. (default 1h0m0s)
    #[arg(
        long = "certificate-request-minimum-backoff-duration",
        value_name = "duration"
    )]
    pub certificate_request_minimum_backoff_duration: Option<Duration>,

    /// Maximum duration to back off when a certificate request fails. The backoff delay starts
    /// at the minimum backoff duration and is exponentially increased with each consecutive
    /// failure, but will never exceed this maximum. (default 32h0m0s)
    #[arg(
        long = "certificate-request-maximum-backoff-duration",
        value_name = "duration"
    )]
    pub certificate_request_maximum_backoff_duration: Option<Duration>,

    #[command(flatten)]
    pub logging: LoggingFlags,
}

impl ControllerFlags {
    fn apply(&self, c: &mut ControllerConfig, common: &CommonArgs, o: &mut Overrides) {
        o.value(
            &mut c.kube_config,
            &common.kubeconfig.clone().map(Some),
            "kubeConfig",
            "--kubeconfig",
        );
        o.value(
            &mut c.api_server_host,
            &self.master,
            "apiServerHost",
            "--master",
        );
        o.value(
            &mut c.kubernetes_api_qps,
            &self.kube_api_qps,
            "kubernetesAPIQPS",
            "--kube-api-qps",
        );
        o.value(
            &mut c.kubernetes_api_burst,
            &self.kube_api_burst,
            "kubernetesAPIBurst",
            "--kube-api-burst",
        );
        o.value(
            &mut c.cluster_resource_namespace,
            &self.cluster_resource_namespace,
            "clusterResourceNamespace",
            "--cluster-resource-namespace",
        );
        o.value(
            &mut c.namespace,
            &self.namespace,
            "namespace",
            "--namespace",
        );
        self.leader_election.apply(&mut c.leader_election.base, o);
        o.value(
            &mut c.leader_election.healthz_timeout,
            &self.internal_healthz_leader_election_timeout,
            "leaderElectionConfig.healthzTimeout",
            "--internal-healthz-leader-election-timeout",
        );
        o.list(
            &mut c.controllers,
            &self.controllers,
            "controllers",
            "--controllers",
        );

        let h = &mut c.acme_http01;
        o.value(
            &mut h.solver_image,
            &self.acme_http01_solver_image,
            "acmeHTTP01Config.solverImage",
            "--acme-http01-solver-image",
        );
        o.value(
            &mut h.solver_resource_request_cpu,
            &self.acme_http01_solver_resource_request_cpu,
            "acmeHTTP01Config.solverResourceRequestCPU",
            "--acme-http01-solver-resource-request-cpu",
        );
        o.value(
            &mut h.solver_resource_request_memory,
            &self.acme_http01_solver_resource_request_memory,
            "acmeHTTP01Config.solverResourceRequestMemory",
            "--acme-http01-solver-resource-request-memory",
        );
        o.value(
            &mut h.solver_resource_limits_cpu,
            &self.acme_http01_solver_resource_limits_cpu,
            "acmeHTTP01Config.solverResourceLimitsCPU",
            "--acme-http01-solver-resource-limits-cpu",
        );
        o.value(
            &mut h.solver_resource_limits_memory,
            &self.acme_http01_solver_resource_limits_memory,
            "acmeHTTP01Config.solverResourceLimitsMemory",
            "--acme-http01-solver-resource-limits-memory",
        );
        o.value(
            &mut h.solver_run_as_non_root,
            &self.acme_http01_solver_run_as_non_root,
            "acmeHTTP01Config.solverRunAsNonRoot",
            "--acme-http01-solver-run-as-non-root",
        );
        o.list(
            &mut h.solver_nameservers,
            &self.acme_http01_solver_nameservers,
            "acmeHTTP01Config.solverNameservers",
            "--acme-http01-solver-nameservers",
        );
        o.map(
            &mut h.solver_extra_labels,
            &self.acme_http01_solver_extra_labels,
            "acmeHTTP01Config.solverExtraLabels",
            "--acme-http01-solver-extra-labels",
        );
        o.value(
            &mut h.solver_runtime_class_name,
            &self.acme_http01_solver_runtime_class_name,
            "acmeHTTP01Config.solverRuntimeClassName",
            "--acme-http01-solver-runtime-class-name",
        );

        o.value(
            &mut c.cluster_issuer_ambient_credentials,
            &self.cluster_issuer_ambient_credentials,
            "clusterIssuerAmbientCredentials",
            "--cluster-issuer-ambient-credentials",
        );
        o.value(
            &mut c.issuer_ambient_credentials,
            &self.issuer_ambient_credentials,
            "issuerAmbientCredentials",
            "--issuer-ambient-credentials",
        );

        let s = &mut c.ingress_shim;
        o.list(
            &mut s.default_auto_certificate_annotations,
            &self.auto_certificate_annotations,
            "ingressShimConfig.defaultAutoCertificateAnnotations",
            "--auto-certificate-annotations",
        );
        o.list(
            &mut s.extra_certificate_annotations,
            &self.extra_certificate_annotations,
            "ingressShimConfig.extraCertificateAnnotations",
            "--extra-certificate-annotations",
        );
        o.value(
            &mut s.default_issuer_name,
            &self.default_issuer_name,
            "ingressShimConfig.defaultIssuerName",
            "--default-issuer-name",
        );
        o.value(
            &mut s.default_issuer_kind,
            &self.default_issuer_kind,
            "ingressShimConfig.defaultIssuerKind",
            "--default-issuer-kind",
        );
        o.value(
            &mut s.default_issuer_group,
            &self.default_issuer_group,
            "ingressShimConfig.defaultIssuerGroup",
            "--default-issuer-group",
        );

        let d = &mut c.acme_dns01;
        o.list(
            &mut d.recursive_nameservers,
            &self.dns01_recursive_nameservers,
            "acmeDNS01Config.recursiveNameservers",
            "--dns01-recursive-nameservers",
        );
        o.value(
            &mut d.recursive_nameservers_only,
            &self.dns01_recursive_nameservers_only,
            "acmeDNS01Config.recursiveNameserversOnly",
            "--dns01-recursive-nameservers-only",
        );
        o.value(
            &mut d.check_retry_period,
            &self.dns01_check_retry_period,
            "acmeDNS01Config.checkRetryPeriod",
            "--dns01-check-retry-period",
        );

        o.value(
            &mut c.enable_certificate_owner_ref,
            &self.enable_certificate_owner_ref,
            "enableCertificateOwnerRef",
            "--enable-certificate-owner-ref",
        );
        let g = &mut c.gateway_api;
        o.value(
            &mut g.enabled,
            &self.enable_gateway_api,
            "gatewayAPI.enabled",
            "--enable-gateway-api",
        );
        o.value(
            &mut g.enable_listener_set,
            &self.enable_gateway_api_listenerset,
            "gatewayAPI.enableListenerSet",
            "--enable-gateway-api-listenerset",
        );
        o.list(
            &mut g.extra_protocols,
            &self.gateway_api_extra_protocols,
            "gatewayAPI.extraProtocols",
            "--gateway-api-extra-protocols",
        );
        o.list(
            &mut c.copied_annotation_prefixes,
            &self.copied_annotation_prefixes,
            "copiedAnnotationPrefixes",
            "--copied-annotation-prefixes",
        );
        o.value(
            &mut c.number_of_concurrent_workers,
            &self.concurrent_workers,
            "numberOfConcurrentWorkers",
            "--concurrent-workers",
        );
        o.value(
            &mut c.max_concurrent_challenges,
            &self.max_concurrent_challenges,
            "maxConcurrentChallenges",
            "--max-concurrent-challenges",
        );
        o.value(
            &mut c.metrics_listen_address,
            &self.metrics_listen_address,
            "metricsListenAddress",
            "--metrics-listen-address",
        );
        o.value(
            &mut c.enable_pprof,
            &self.enable_profiling,
            "enablePprof",
            "--enable-profiling",
        );
        o.value(
            &mut c.pprof_address,
            &self.profiler_address,
            "pprofAddress",
            "--profiler-address",
        );
        self.metrics_tls.apply(&mut c.metrics_tls, o);
        o.value(
            &mut c.healthz_listen_address,
            &self.internal_healthz_listen_address,
            "healthzListenAddress",
            "--internal-healthz-listen-address",
        );

        let p = &mut c.pem_size_limits;
        o.value(
            &mut p.max_certificate_size,
            &self.max_certificate_size,
            "pemSizeLimitsConfig.maxCertificateSize",
            "--max-certificate-size",
        );
        o.value(
            &mut p.max_private_key_size,
            &self.max_private_key_size,
            "pemSizeLimitsConfig.maxPrivateKeySize",
            "--max-private-key-size",
        );
        o.value(
            &mut p.max_chain_length,
            &self.max_certificate_chain_length,
            "pemSizeLimitsConfig.maxChainLength",
            "--max-certificate-chain-length",
        );
        o.value(
            &mut p.max_bundle_size,
            &self.max_certificate_bundle_size,
            "pemSizeLimitsConfig.maxBundleSize",
            "--max-certificate-bundle-size",
        );
        o.value(
            &mut c.certificate_request_minimum_backoff_duration,
            &self.certificate_request_minimum_backoff_duration,
            "certificateRequestMinimumBackoffDuration",
            "--certificate-request-minimum-backoff-duration",
        );
        o.value(
            &mut c.certificate_request_maximum_backoff_duration,
            &self.certificate_request_maximum_backoff_duration,
            "certificateRequestMaximumBackoffDuration",
            "--certificate-request-maximum-backoff-duration",
        );
        c.logging.apply_flags(&common.logging, &self.logging, o);
    }
}

/// The effective controller configuration: defaults, then the `--config` file (if given), then
/// the flags given on the command line; validated. Errors name the file or flag and the field.
pub fn load(flags: &ControllerFlags, common: &CommonArgs) -> Result<ControllerConfig, ConfigError> {
    let path = flags.config.as_ref().filter(|p| !p.as_os_str().is_empty());
    let (mut config, file) = match path {
        Some(p) => {
            let loaded =
                crate::file::load::<v1alpha1::ControllerConfiguration>(p, API_VERSION, KIND)?;
            let mut config = ControllerConfig::from_file(loaded.config);
            // Only `kubeConfig` is resolved against the file's directory, as upstream.
            config.kube_config = config
                .kube_config
                .map(|k| crate::file::resolve_relative(&loaded.dir, &k.to_string_lossy()).into());
            (config, Some(loaded.path))
        }
        None => (ControllerConfig::default(), None),
    };
    let mut o = Overrides::new(file);
    flags.apply(&mut config, common, &mut o);
    o.check(config.validate())?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("8.8.8.8:53"), Some(("8.8.8.8", "53")));
        assert_eq!(
            split_host_port("[2001:4860::8888]:53"),
            Some(("2001:4860::8888", "53"))
        );
        assert_eq!(split_host_port("host:"), Some(("host", "")));
        assert_eq!(split_host_port("8.8.8.8"), None);
        assert_eq!(split_host_port("2001:4860::8888"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("[::1]x:53"), None);
        assert_eq!(split_host_port("a[b:53"), None);
    }

    #[test]
    fn https_nameservers() {
        assert!(is_https_url("https://1.1.1.1/dns-query"));
        assert!(is_https_url("https://dns.google/dns-query"));
        assert!(!is_https_url("https://"));
        assert!(!is_https_url("https:///dns-query"));
        assert!(!is_https_url("https://bad host/"));
    }

    fn gates(flag: &str) -> FeatureGates {
        componentbase::gates::resolve(gate::CONTROLLER, Some(flag), None, Vec::new()).unwrap()
    }

    #[test]
    fn enabled_controllers_like_upstream() {
        let mut c = ControllerConfig::default();
        let g = gates("");
        let defaults: BTreeSet<String> = DEFAULT_ENABLED_CONTROLLERS
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(c.enabled_controllers(&g), defaults);

        c.controllers = vec!["-issuers".into()];
        let e = c.enabled_controllers(&g);
        assert!(
            !e.contains("issuers") && e.contains("clusterissuers"),
            "only -name implies *"
        );

        c.controllers = vec!["issuers".into(), "orders".into()];
        assert_eq!(
            c.enabled_controllers(&g),
            BTreeSet::from(["issuers".to_owned(), "orders".to_owned()])
        );

        c.controllers = vec!["*".into()];
        c.namespace = "team-a".into();
        assert!(!c.enabled_controllers(&g).contains("clusterissuers"));

        c.namespace.clear();
        c.gateway_api.enabled = true;
        c.gateway_api.enable_listener_set = true;
        let e = c.enabled_controllers(&gates("ListenerSets=true"));
        assert!(e.contains(GATEWAY_SHIM_CONTROLLER) && e.contains(LISTENER_SET_CONTROLLER));
        let e = c.enabled_controllers(&gates(
            "ExperimentalGatewayAPISupport=false,ListenerSets=true",
        ));
        assert!(!e.contains(GATEWAY_SHIM_CONTROLLER) && !e.contains(LISTENER_SET_CONTROLLER));

        c.gateway_api.enabled = false;
        c.controllers = vec!["*".into(), "-certificatesigningrequests-issuer-ca".into()];
        let e = c.enabled_controllers(&gates(
            "ExperimentalCertificateSigningRequestControllers=true",
        ));
        assert!(e.contains("certificatesigningrequests-issuer-acme"));
        assert!(
            !e.contains("certificatesigningrequests-issuer-ca"),
            "-name wins over gates"
        );
    }
}

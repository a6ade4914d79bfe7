//! The cainjector's configuration: `cainjector.config.cert-manager.io/v1alpha1`
//! `CAInjectorConfiguration` and the flags that override it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use componentbase::cli::CommonArgs;
use featuregates::certmanager as gate;
use serde::Serialize;

use crate::error::{ConfigError, FieldError};
use crate::merge::Overrides;
use crate::pflag::{StringList, parse_bool};
use crate::shared::{
    self, LeaderElection, LeaderElectionFlags, Logging, LoggingFlags, MetricsTlsFlags, TlsConfig,
};

pub const API_VERSION: &str = "cainjector.config.cert-manager.io/v1alpha1";
pub const KIND: &str = "CAInjectorConfiguration";

/// The file format, field for field as upstream's `pkg/apis/config/cainjector/v1alpha1`.
pub mod v1alpha1 {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use crate::shared::v1alpha1::{LeaderElectionConfig, LoggingConfiguration, TLSConfig};

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct CAInjectorConfiguration {
        pub api_version: Option<String>,
        pub kind: Option<String>,
        pub kube_config: Option<String>,
        pub namespace: Option<String>,
        pub ignore_namespaces: Option<Vec<String>>,
        pub leader_election_config: Option<LeaderElectionConfig>,
        pub enable_data_source_config: Option<EnableDataSourceConfig>,
        pub enable_injectable_config: Option<EnableInjectableConfig>,
        pub enable_pprof: Option<bool>,
        pub pprof_address: Option<String>,
        pub logging: Option<LoggingConfiguration>,
        pub feature_gates: Option<BTreeMap<String, bool>>,
        pub metrics_listen_address: Option<String>,
        #[serde(rename = "metricsTLSConfig")]
        pub metrics_tls_config: Option<TLSConfig>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct EnableDataSourceConfig {
        pub certificates: Option<bool>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct EnableInjectableConfig {
        pub validating_webhook_configurations: Option<bool>,
        pub mutating_webhook_configurations: Option<bool>,
        pub custom_resource_definitions: Option<bool>,
        #[serde(rename = "apiServices")]
        pub api_services: Option<bool>,
    }
}

/// The cainjector's effective configuration. Serializes with the file's field names.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CAInjectorConfig {
    /// `--kubeconfig`, else the file's `kubeConfig`; `None`: in-cluster config.
    pub kube_config: Option<PathBuf>,
    /// Empty: all namespaces.
    pub namespace: String,
    /// Namespaces whose Secrets are ignored; exclusive with `namespace`.
    pub ignore_namespaces: Vec<String>,
    #[serde(rename = "leaderElectionConfig")]
    pub leader_election: LeaderElection,
    #[serde(rename = "enableDataSourceConfig")]
    pub enable_data_source: EnableDataSource,
    #[serde(rename = "enableInjectableConfig")]
    pub enable_injectable: EnableInjectable,
    pub enable_pprof: bool,
    pub pprof_address: String,
    pub logging: Logging,
    /// The config file's `featureGates` only; see [`crate::controller::ControllerConfig::feature_gates`].
    pub feature_gates: BTreeMap<String, bool>,
    /// `"0"` disables the metrics server.
    pub metrics_listen_address: String,
    #[serde(rename = "metricsTLSConfig")]
    pub metrics_tls: TlsConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnableDataSource {
    /// Watch Certificates as CA sources (`inject-ca-from`).
    pub certificates: bool,
}

/// Which kinds of targets get CA bundles injected.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnableInjectable {
    pub validating_webhook_configurations: bool,
    pub mutating_webhook_configurations: bool,
    pub custom_resource_definitions: bool,
    #[serde(rename = "apiServices")]
    pub api_services: bool,
}

impl Default for CAInjectorConfig {
    /// The configuration with neither file nor flags.
    fn default() -> Self {
        CAInjectorConfig::from_file(Default::default())
    }
}

impl CAInjectorConfig {
    fn from_file(f: v1alpha1::CAInjectorConfiguration) -> Self {
        let text = |v: Option<String>, default: &str| {
            v.filter(|s| !s.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let sources = f.enable_data_source_config.unwrap_or_default();
        let targets = f.enable_injectable_config.unwrap_or_default();
        CAInjectorConfig {
            kube_config: f.kube_config.filter(|s| !s.is_empty()).map(PathBuf::from),
            namespace: f.namespace.unwrap_or_default(),
            ignore_namespaces: f.ignore_namespaces.unwrap_or_default(),
            leader_election: LeaderElection::from_file(
                f.leader_election_config.unwrap_or_default(),
            ),
            enable_data_source: EnableDataSource {
                certificates: sources.certificates.unwrap_or(true),
            },
            enable_injectable: EnableInjectable {
                validating_webhook_configurations: targets
                    .validating_webhook_configurations
                    .unwrap_or(true),
                mutating_webhook_configurations: targets
                    .mutating_webhook_configurations
                    .unwrap_or(true),
                custom_resource_definitions: targets.custom_resource_definitions.unwrap_or(true),
                api_services: targets.api_services.unwrap_or(true),
            },
            enable_pprof: f.enable_pprof.unwrap_or(false),
            pprof_address: text(f.pprof_address, shared::DEFAULT_PPROF_ADDRESS),
            logging: Logging::from_file(f.logging.unwrap_or_default()),
            feature_gates: f.feature_gates.unwrap_or_default(),
            metrics_listen_address: text(
                f.metrics_listen_address,
                shared::DEFAULT_METRICS_LISTEN_ADDRESS,
            ),
            metrics_tls: TlsConfig::from_file(f.metrics_tls_config.unwrap_or_default()),
        }
    }

    /// The effective configuration as one line of JSON, for a debug log at start.
    pub fn summary(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Upstream's `ValidateCAInjectorConfiguration` plus client-go's leader election limits and
    /// the file's gates.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        self.logging.validate("logging", &mut errs);
        self.leader_election
            .validate("leaderElectionConfig", &mut errs);
        if !self.namespace.is_empty() && !self.ignore_namespaces.is_empty() {
            errs.push(FieldError::forbidden(
                "ignoreNamespaces",
                "should not be used with --namespace.",
            ));
        }
        shared::validate_feature_gates(&self.feature_gates, gate::CAINJECTOR, &mut errs);
        errs
    }
}

/// The cainjector's own flags. `--kubeconfig`, `--feature-gates`, `-v` and `--logging-format`
/// are in `componentbase::cli::CommonArgs`, flattened next to these.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CAInjectorFlags {
    /// Path to a file containing a CAInjectorConfiguration object used to configure the
    /// controller
    #[arg(long = "config", value_name = "string")]
    pub config: Option<PathBuf>,

    /// If set, this limits the scope of cainjector to a single namespace. If set, cainjector
    /// will not update resources with certificates outside of the configured namespace.
    #[arg(long = "namespace", value_name = "string")]
    pub namespace: Option<String>,

    /// Comma-separated list of namespaces to ignore secrets from. Should not be used with
    /// --namespace.
    #[arg(long = "ignore-namespaces", value_name = "strings")]
    pub ignore_namespaces: Option<Vec<StringList>>,

    #[command(flatten)]
    pub leader_election: LeaderElectionFlags,

    /// Enable configuring cert-manager.io Certificate resources as potential sources for CA
    /// data. Requires cert-manager.io Certificate CRD to be installed. This data source can be
    /// disabled to reduce memory consumption if you only use cainjector as part of
    /// cert-manager's installation (default true)
    #[arg(
        long = "enable-certificates-data-source",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_certificates_data_source: Option<bool>,

    /// Inject CA data to annotated ValidatingWebhookConfigurations. This functionality is
    /// required for cainjector to correctly function as cert-manager's internal component
    /// (default true)
    #[arg(
        long = "enable-validatingwebhookconfigurations-injectable",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_validatingwebhookconfigurations_injectable: Option<bool>,

    /// Inject CA data to annotated MutatingWebhookConfigurations. This functionality is required
    /// for cainjector to work correctly as cert-manager's internal component (default true)
    #[arg(
        long = "enable-mutatingwebhookconfigurations-injectable",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_mutatingwebhookconfigurations_injectable: Option<bool>,

    /// Inject CA data to annotated CustomResourceDefinitions. This functionality is not required
    /// if cainjector is only used as cert-manager's internal component and setting it to false
    /// might slightly reduce memory consumption (default true)
    #[arg(
        long = "enable-customresourcedefinitions-injectable",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_customresourcedefinitions_injectable: Option<bool>,

    /// Inject CA data to annotated APIServices. This functionality is not required if cainjector
    /// is only used as cert-manager's internal component and setting it to false might reduce
    /// memory consumption (default true)
    #[arg(
        long = "enable-apiservices-injectable",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_apiservices_injectable: Option<bool>,

    /// Enable profiling for cainjector.
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

    /// The host and port that the metrics endpoint should listen on. The value '0' disables the
    /// metrics server (default "0.0.0.0:9402")
    #[arg(long = "metrics-listen-address", value_name = "string")]
    pub metrics_listen_address: Option<String>,

    #[command(flatten)]
    pub metrics_tls: MetricsTlsFlags,

    #[command(flatten)]
    pub logging: LoggingFlags,
}

impl CAInjectorFlags {
    fn apply(&self, c: &mut CAInjectorConfig, common: &CommonArgs, o: &mut Overrides) {
        o.value(
            &mut c.kube_config,
            &common.kubeconfig.clone().map(Some),
            "kubeConfig",
            "--kubeconfig",
        );
        o.value(
            &mut c.namespace,
            &self.namespace,
            "namespace",
            "--namespace",
        );
        o.list(
            &mut c.ignore_namespaces,
            &self.ignore_namespaces,
            "ignoreNamespaces",
            "--ignore-namespaces",
        );
        self.leader_election.apply(&mut c.leader_election, o);
        o.value(
            &mut c.enable_data_source.certificates,
            &self.enable_certificates_data_source,
            "enableDataSourceConfig.certificates",
            "--enable-certificates-data-source",
        );
        let t = &mut c.enable_injectable;
        o.value(
            &mut t.validating_webhook_configurations,
            &self.enable_validatingwebhookconfigurations_injectable,
            "enableInjectableConfig.validatingWebhookConfigurations",
            "--enable-validatingwebhookconfigurations-injectable",
        );
        o.value(
            &mut t.mutating_webhook_configurations,
            &self.enable_mutatingwebhookconfigurations_injectable,
            "enableInjectableConfig.mutatingWebhookConfigurations",
            "--enable-mutatingwebhookconfigurations-injectable",
        );
        o.value(
            &mut t.custom_resource_definitions,
            &self.enable_customresourcedefinitions_injectable,
            "enableInjectableConfig.customResourceDefinitions",
            "--enable-customresourcedefinitions-injectable",
        );
        o.value(
            &mut t.api_services,
            &self.enable_apiservices_injectable,
            "enableInjectableConfig.apiServices",
            "--enable-apiservices-injectable",
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
        o.value(
            &mut c.metrics_listen_address,
            &self.metrics_listen_address,
            "metricsListenAddress",
            "--metrics-listen-address",
        );
        self.metrics_tls.apply(&mut c.metrics_tls, o);
        c.logging.apply_flags(&common.logging, &self.logging, o);
    }
}

/// The effective cainjector configuration: defaults, then the `--config` file (if given), then
/// the flags given on the command line; validated. Errors name the file or flag and the field.
pub fn load(flags: &CAInjectorFlags, common: &CommonArgs) -> Result<CAInjectorConfig, ConfigError> {
    let path = flags.config.as_ref().filter(|p| !p.as_os_str().is_empty());
    let (mut config, file) = match path {
        Some(p) => {
            let loaded =
                crate::file::load::<v1alpha1::CAInjectorConfiguration>(p, API_VERSION, KIND)?;
            let mut config = CAInjectorConfig::from_file(loaded.config);
            // Upstream resolves the metrics key pair and kubeConfig against the file's directory.
            config.metrics_tls.resolve_relative(&loaded.dir);
            config.kube_config = config
                .kube_config
                .map(|k| crate::file::resolve_relative(&loaded.dir, &k.to_string_lossy()).into());
            (config, Some(loaded.path))
        }
        None => (CAInjectorConfig::default(), None),
    };
    let mut o = Overrides::new(file);
    flags.apply(&mut config, common, &mut o);
    o.check(config.validate())?;
    Ok(config)
}

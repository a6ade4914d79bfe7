//! The webhook's configuration: `webhook.config.cert-manager.io/v1alpha1`
//! `WebhookConfiguration` and the flags that override it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use componentbase::cli::CommonArgs;
use featuregates::certmanager as gate;
use serde::Serialize;

use crate::duration::Duration;
use crate::error::{ConfigError, FieldError};
use crate::merge::Overrides;
use crate::pflag::{StringList, parse_bool, parse_int32};
use crate::shared::{self, Logging, LoggingFlags, MetricsTlsFlags, TlsConfig};

pub const API_VERSION: &str = "webhook.config.cert-manager.io/v1alpha1";
pub const KIND: &str = "WebhookConfiguration";

pub const DEFAULT_SECURE_PORT: i32 = 6443;
pub const DEFAULT_HEALTHZ_PORT: i32 = 6080;
/// Ours, not upstream's: the address the secure and healthz ports bind (tests use loopback).
pub const DEFAULT_BIND_ADDRESS: &str = "0.0.0.0";

/// The file format, field for field as upstream's `pkg/apis/config/webhook/v1alpha1`.
pub mod v1alpha1 {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use crate::shared::v1alpha1::{LoggingConfiguration, TLSConfig};

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct WebhookConfiguration {
        pub api_version: Option<String>,
        pub kind: Option<String>,
        pub secure_port: Option<i32>,
        pub healthz_port: Option<i32>,
        #[serde(rename = "tlsConfig")]
        pub tls_config: Option<TLSConfig>,
        pub kube_config: Option<String>,
        /// Deprecated upstream in favour of `kubeConfig`.
        pub api_server_host: Option<String>,
        pub enable_pprof: Option<bool>,
        pub pprof_address: Option<String>,
        pub logging: Option<LoggingConfiguration>,
        pub feature_gates: Option<BTreeMap<String, bool>>,
        pub metrics_listen_address: Option<String>,
        #[serde(rename = "metricsTLSConfig")]
        pub metrics_tls_config: Option<TLSConfig>,
        pub enable_client_verification: Option<bool>,
        #[serde(rename = "clientCAPath")]
        pub client_ca_path: Option<String>,
        pub client_certificate_subjects: Option<Vec<String>>,
    }
}

/// The webhook's effective configuration. Serializes with the file's field names plus our
/// flag-only `bindAddress`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    /// 0: any free port. Validated to be 0..=65535; see [`WebhookConfig::secure_addr`].
    pub secure_port: i32,
    /// 0: any free port. Validated to be 0..=65535; see [`WebhookConfig::healthz_addr`].
    pub healthz_port: i32,
    /// Flag only (`--bind-address`): the IP both ports listen on.
    pub bind_address: String,
    #[serde(rename = "tlsConfig")]
    pub tls: TlsConfig,
    /// `--kubeconfig`, else the file's `kubeConfig`; `None`: in-cluster config.
    pub kube_config: Option<PathBuf>,
    pub api_server_host: String,
    pub enable_pprof: bool,
    pub pprof_address: String,
    pub logging: Logging,
    /// The config file's `featureGates` only; see [`crate::controller::ControllerConfig::feature_gates`].
    pub feature_gates: BTreeMap<String, bool>,
    /// `"0"` disables the metrics server.
    pub metrics_listen_address: String,
    #[serde(rename = "metricsTLSConfig")]
    pub metrics_tls: TlsConfig,
    pub enable_client_verification: bool,
    #[serde(rename = "clientCAPath")]
    pub client_ca_path: String,
    pub client_certificate_subjects: Vec<String>,
}

impl Default for WebhookConfig {
    /// The configuration with neither file nor flags.
    fn default() -> Self {
        WebhookConfig::from_file(Default::default())
    }
}

impl WebhookConfig {
    fn from_file(f: v1alpha1::WebhookConfiguration) -> Self {
        let text = |v: Option<String>, default: &str| {
            v.filter(|s| !s.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        WebhookConfig {
            secure_port: f.secure_port.unwrap_or(DEFAULT_SECURE_PORT),
            healthz_port: f.healthz_port.unwrap_or(DEFAULT_HEALTHZ_PORT),
            bind_address: DEFAULT_BIND_ADDRESS.to_owned(),
            tls: TlsConfig::from_file(f.tls_config.unwrap_or_default()),
            kube_config: f.kube_config.filter(|s| !s.is_empty()).map(PathBuf::from),
            api_server_host: f.api_server_host.unwrap_or_default(),
            enable_pprof: f.enable_pprof.unwrap_or(false),
            pprof_address: text(f.pprof_address, shared::DEFAULT_PPROF_ADDRESS),
            logging: Logging::from_file(f.logging.unwrap_or_default()),
            feature_gates: f.feature_gates.unwrap_or_default(),
            metrics_listen_address: text(
                f.metrics_listen_address,
                shared::DEFAULT_METRICS_LISTEN_ADDRESS,
            ),
            metrics_tls: TlsConfig::from_file(f.metrics_tls_config.unwrap_or_default()),
            enable_client_verification: f.enable_client_verification.unwrap_or(false),
            client_ca_path: f.client_ca_path.unwrap_or_default(),
            client_certificate_subjects: f.client_certificate_subjects.unwrap_or_default(),
        }
    }

    /// `bind-address:secure-port`, IPv6 addresses bracketed.
    pub fn secure_addr(&self) -> String {
        join_host_port(&self.bind_address, self.secure_port)
    }

    /// `bind-address:healthz-port`, IPv6 addresses bracketed.
    pub fn healthz_addr(&self) -> String {
        join_host_port(&self.bind_address, self.healthz_port)
    }

    /// The effective configuration as one line of JSON, for a debug log at start.
    pub fn summary(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Upstream's `ValidateWebhookConfiguration` (which leaves `metricsTLSConfig` alone), plus
    /// the file's gates and `--bind-address`.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        self.logging.validate("logging", &mut errs);
        self.tls.validate("tlsConfig", &mut errs);
        for (field, port) in [
            ("healthzPort", self.healthz_port),
            ("securePort", self.secure_port),
        ] {
            if !(0..=65535).contains(&port) {
                errs.push(FieldError::invalid(
                    field,
                    port,
                    "must be a valid port number",
                ));
            }
        }
        if self.bind_address.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid_str(
                "bindAddress",
                &self.bind_address,
                "must be an IP address",
            ));
        }
        shared::validate_feature_gates(&self.feature_gates, gate::WEBHOOK, &mut errs);
        errs
    }
}

fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The webhook's own flags. `--kubeconfig`, `--feature-gates`, `-v` and `--logging-format` are
/// in `componentbase::cli::CommonArgs`, flattened next to these.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct WebhookFlags {
    /// Path to a file containing a WebhookConfiguration object used to configure the webhook
    #[arg(long = "config", value_name = "string")]
    pub config: Option<PathBuf>,

    /// Port number to listen on for secure TLS connections (default 6443)
    #[arg(long = "secure-port", value_name = "int32", value_parser = parse_int32)]
    pub secure_port: Option<i32>,

    /// Port number to listen on for insecure healthz connections (default 6080)
    #[arg(long = "healthz-port", value_name = "int32", value_parser = parse_int32)]
    pub healthz_port: Option<i32>,

    /// The IP address the secure and healthz ports listen on (default "0.0.0.0")
    #[arg(long = "bind-address", value_name = "string")]
    pub bind_address: Option<String>,

    /// Path to the file containing the TLS certificate to serve with
    #[arg(long = "tls-cert-file", value_name = "string")]
    pub tls_cert_file: Option<String>,

    /// Path to the file containing the TLS private key to serve with
    #[arg(long = "tls-private-key-file", value_name = "string")]
    pub tls_private_key_file: Option<String>,

    /// Leaf duration of serving certificates (default 168h0m0s)
    #[arg(long = "dynamic-serving-leaf-duration", value_name = "duration")]
    pub dynamic_serving_leaf_duration: Option<Duration>,

    /// Namespace of the secret used to store the CA that signs serving certificates
    #[arg(long = "dynamic-serving-ca-secret-namespace", value_name = "string")]
    pub dynamic_serving_ca_secret_namespace: Option<String>,

    /// Name of the secret used to store the CA that signs serving certificates
    #[arg(long = "dynamic-serving-ca-secret-name", value_name = "string")]
    pub dynamic_serving_ca_secret_name: Option<String>,

    /// DNS names that should be present on certificates generated by the dynamic serving CA
    #[arg(long = "dynamic-serving-dns-names", value_name = "strings")]
    pub dynamic_serving_dns_names: Option<Vec<StringList>>,

    /// Optional apiserver host address to connect to. If not specified, autoconfiguration will
    /// be attempted.
    #[arg(long = "api-server-host", value_name = "string")]
    pub api_server_host: Option<String>,

    /// Enable profiling for webhook.
    #[arg(
        long = "enable-profiling",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_profiling: Option<bool>,

    /// Enable client cert authenticate of apiserver to webhooks.
    #[arg(
        long = "enable-client-verification",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub enable_client_verification: Option<bool>,

    /// The client cert CA used to verify clients contacting webhooks.
    #[arg(long = "client-ca-path", value_name = "string")]
    pub client_ca_path: Option<String>,

    /// One or more client certificate subject names (CN or DNS SAN) that the apiserver may
    /// present when contacting the webhook. Should be a comma-separated list.
    #[arg(long = "client-subject-names", value_name = "strings")]
    pub client_subject_names: Option<Vec<StringList>>,

    /// Address of the Go profiler (pprof). This should never be exposed on a public interface.
    /// (default "localhost:6060")
    #[arg(long = "profiler-address", value_name = "string")]
    pub profiler_address: Option<String>,

    /// Comma-separated list of cipher suites for the server. If omitted, the default cipher
    /// suites will be used.
    #[arg(long = "tls-cipher-suites", value_name = "strings")]
    pub tls_cipher_suites: Option<Vec<StringList>>,

    /// Minimum TLS version supported. If omitted, the default minimum version will be used.
    /// Possible values: VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13
    #[arg(long = "tls-min-version", value_name = "string")]
    pub tls_min_version: Option<String>,

    /// The host and port that the metrics endpoint should listen on. The value '0' disables the
    /// metrics server (default "0.0.0.0:9402")
    #[arg(long = "metrics-listen-address", value_name = "string")]
    pub metrics_listen_address: Option<String>,

    #[command(flatten)]
    pub metrics_tls: MetricsTlsFlags,

    #[command(flatten)]
    pub logging: LoggingFlags,
}

impl WebhookFlags {
    fn apply(&self, c: &mut WebhookConfig, common: &CommonArgs, o: &mut Overrides) {
        o.value(
            &mut c.secure_port,
            &self.secure_port,
            "securePort",
            "--secure-port",
        );
        o.value(
            &mut c.healthz_port,
            &self.healthz_port,
            "healthzPort",
            "--healthz-port",
        );
        o.value(
            &mut c.bind_address,
            &self.bind_address,
            "bindAddress",
            "--bind-address",
        );
        let t = &mut c.tls;
        o.value(
            &mut t.filesystem.cert_file,
            &self.tls_cert_file,
            "tlsConfig.filesystem.certFile",
            "--tls-cert-file",
        );
        o.value(
            &mut t.filesystem.key_file,
            &self.tls_private_key_file,
            "tlsConfig.filesystem.keyFile",
            "--tls-private-key-file",
        );
        o.value(
            &mut t.dynamic.leaf_duration,
            &self.dynamic_serving_leaf_duration,
            "tlsConfig.dynamic.leafDuration",
            "--dynamic-serving-leaf-duration",
        );
        o.value(
            &mut t.dynamic.secret_namespace,
            &self.dynamic_serving_ca_secret_namespace,
            "tlsConfig.dynamic.secretNamespace",
            "--dynamic-serving-ca-secret-namespace",
        );
        o.value(
            &mut t.dynamic.secret_name,
            &self.dynamic_serving_ca_secret_name,
            "tlsConfig.dynamic.secretName",
            "--dynamic-serving-ca-secret-name",
        );
        o.list(
            &mut t.dynamic.dns_names,
            &self.dynamic_serving_dns_names,
            "tlsConfig.dynamic.dnsNames",
            "--dynamic-serving-dns-names",
        );
        o.list(
            &mut t.cipher_suites,
            &self.tls_cipher_suites,
            "tlsConfig.cipherSuites",
            "--tls-cipher-suites",
        );
        o.value(
            &mut t.min_tls_version,
            &self.tls_min_version,
            "tlsConfig.minTLSVersion",
            "--tls-min-version",
        );
        o.value(
            &mut c.kube_config,
            &common.kubeconfig.clone().map(Some),
            "kubeConfig",
            "--kubeconfig",
        );
        o.value(
            &mut c.api_server_host,
            &self.api_server_host,
            "apiServerHost",
            "--api-server-host",
        );
        o.value(
            &mut c.enable_pprof,
            &self.enable_profiling,
            "enablePprof",
            "--enable-profiling",
        );
        o.value(
            &mut c.enable_client_verification,
            &self.enable_client_verification,
            "enableClientVerification",
            "--enable-client-verification",
        );
        o.value(
            &mut c.client_ca_path,
            &self.client_ca_path,
            "clientCAPath",
            "--client-ca-path",
        );
        o.list(
            &mut c.client_certificate_subjects,
            &self.client_subject_names,
            "clientCertificateSubjects",
            "--client-subject-names",
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

/// The effective webhook configuration: defaults, then the `--config` file (if given), then the
/// flags given on the command line; validated. Errors name the file or flag and the field.
pub fn load(flags: &WebhookFlags, common: &CommonArgs) -> Result<WebhookConfig, ConfigError> {
    let path = flags.config.as_ref().filter(|p| !p.as_os_str().is_empty());
    let (mut config, file) = match path {
        Some(p) => {
            let loaded = crate::file::load::<v1alpha1::WebhookConfiguration>(p, API_VERSION, KIND)?;
            let mut config = WebhookConfig::from_file(loaded.config);
            // Upstream resolves the serving and metrics key pairs and kubeConfig (not
            // clientCAPath) against the file's directory.
            config.tls.resolve_relative(&loaded.dir);
            config.metrics_tls.resolve_relative(&loaded.dir);
            config.kube_config = config
                .kube_config
                .map(|k| crate::file::resolve_relative(&loaded.dir, &k.to_string_lossy()).into());
            (config, Some(loaded.path))
        }
        None => (WebhookConfig::default(), None),
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
    fn listen_addresses() {
        let mut c = WebhookConfig::default();
        assert_eq!(c.secure_addr(), "0.0.0.0:6443");
        assert_eq!(c.healthz_addr(), "0.0.0.0:6080");
        c.bind_address = "::1".into();
        c.secure_port = 0;
        assert_eq!(c.secure_addr(), "[::1]:0");
    }
}

//! Pieces all three components share: leader election, TLS serving (filesystem or dynamic CA),
//! logging (component-base's `LoggingConfiguration`), their flags, defaults and validation.

use std::collections::BTreeMap;
use std::fmt;

use componentbase::logging::{LogFormat, LoggingArgs};
use featuregates::{FeatureSpec, Source};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::duration::Duration;
use crate::error::FieldError;
use crate::merge::Overrides;
use crate::pflag::{StringList, VModuleList, parse_bool};

pub const DEFAULT_LEADER_ELECT: bool = true;
pub const DEFAULT_LEADER_ELECTION_NAMESPACE: &str = "kube-system";
pub const DEFAULT_LEADER_ELECTION_LEASE_DURATION: Duration = Duration::from_secs(60);
pub const DEFAULT_LEADER_ELECTION_RENEW_DEADLINE: Duration = Duration::from_secs(40);
pub const DEFAULT_LEADER_ELECTION_RETRY_PERIOD: Duration = Duration::from_secs(15);
pub const DEFAULT_DYNAMIC_SERVING_LEAF_DURATION: Duration = Duration::from_hours(24 * 7);
pub const DEFAULT_METRICS_LISTEN_ADDRESS: &str = "0.0.0.0:9402";
pub const DEFAULT_PPROF_ADDRESS: &str = "localhost:6060";
pub const DEFAULT_LOG_FORMAT: &str = "text";
pub const DEFAULT_LOG_FLUSH_FREQUENCY: Duration = Duration::from_secs(5);
/// component-base's default; the chart passes `--v=2`.
pub const DEFAULT_LOG_VERBOSITY: u32 = 0;

/// client-go's `leaderelection.JitterFactor`.
const LEADER_ELECTION_JITTER_FACTOR: f64 = 1.2;

/// The field types as written in config files (`*.config.cert-manager.io/v1alpha1`):
/// every field optional, names and JSON tags as upstream's `pkg/apis/config/shared/v1alpha1`
/// and component-base's `logs/api/v1`.
pub mod v1alpha1 {
    use serde::Deserialize;

    use super::{Quantity, VModuleItem};
    use crate::duration::Duration;

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct LeaderElectionConfig {
        pub enabled: Option<bool>,
        pub namespace: Option<String>,
        pub lease_duration: Option<Duration>,
        pub renew_deadline: Option<Duration>,
        pub retry_period: Option<Duration>,
    }

    /// Only one of `filesystem` or `dynamic` may be given.
    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct TLSConfig {
        pub cipher_suites: Option<Vec<String>>,
        #[serde(rename = "minTLSVersion")]
        pub min_tls_version: Option<String>,
        pub filesystem: Option<FilesystemServingConfig>,
        pub dynamic: Option<DynamicServingConfig>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct FilesystemServingConfig {
        pub cert_file: Option<String>,
        pub key_file: Option<String>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct DynamicServingConfig {
        pub secret_namespace: Option<String>,
        pub secret_name: Option<String>,
        pub dns_names: Option<Vec<String>>,
        pub leaf_duration: Option<Duration>,
    }

    /// component-base's `LoggingConfiguration`.
    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct LoggingConfiguration {
        pub format: Option<String>,
        pub flush_frequency: Option<Duration>,
        pub verbosity: Option<u32>,
        pub vmodule: Option<Vec<VModuleItem>>,
        pub options: Option<FormatOptions>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct FormatOptions {
        pub text: Option<OutputRoutingOptions>,
        pub json: Option<OutputRoutingOptions>,
    }

    #[derive(Clone, Debug, Default, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct OutputRoutingOptions {
        pub split_stream: Option<bool>,
        pub info_buffer_size: Option<Quantity>,
    }
}

fn or_default(v: Option<String>, default: &str) -> String {
    v.filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Upstream defaults a duration that is unset *or zero*.
fn duration_or(v: Option<Duration>, default: Duration) -> Duration {
    v.filter(|d| !d.is_zero()).unwrap_or(default)
}

pub(crate) fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// A duration as an invalid value: quoted Go text, like upstream's backoff errors.
pub(crate) fn dur_value(d: Duration) -> String {
    format!("{:?}", d.to_string())
}

/// Effective leader election settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderElection {
    pub enabled: bool,
    pub namespace: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaderElection {
    pub(crate) fn from_file(f: v1alpha1::LeaderElectionConfig) -> Self {
        LeaderElection {
            enabled: f.enabled.unwrap_or(DEFAULT_LEADER_ELECT),
            namespace: or_default(f.namespace, DEFAULT_LEADER_ELECTION_NAMESPACE),
            lease_duration: duration_or(f.lease_duration, DEFAULT_LEADER_ELECTION_LEASE_DURATION),
            renew_deadline: duration_or(f.renew_deadline, DEFAULT_LEADER_ELECTION_RENEW_DEADLINE),
            retry_period: duration_or(f.retry_period, DEFAULT_LEADER_ELECTION_RETRY_PERIOD),
        }
    }

    /// Upstream's checks (only when enabled, each duration positive) plus client-go's
    /// `NewLeaderElector` ones, which upstream only hits once running: failing them here stops the
    /// process before it talks to the cluster.
    pub(crate) fn validate(&self, path: &str, errs: &mut Vec<FieldError>) {
        if !self.enabled {
            return;
        }
        let mut positive = true;
        for (name, d) in [
            ("leaseDuration", self.lease_duration),
            ("renewDeadline", self.renew_deadline),
            ("retryPeriod", self.retry_period),
        ] {
            if d <= Duration::ZERO {
                errs.push(FieldError::invalid(
                    child(path, name),
                    dur_value(d),
                    "must be greater than 0",
                ));
                positive = false;
            }
        }
        if !positive {
            return;
        }
        if self.lease_duration <= self.renew_deadline {
            errs.push(FieldError::invalid(
                child(path, "leaseDuration"),
                dur_value(self.lease_duration),
                format!(
                    "must be greater than renewDeadline ({})",
                    self.renew_deadline
                ),
            ));
        }
        let jittered = self.retry_period.mul_f64(LEADER_ELECTION_JITTER_FACTOR);
        if self.renew_deadline <= jittered {
            errs.push(FieldError::invalid(
                child(path, "renewDeadline"),
                dur_value(self.renew_deadline),
                format!("must be greater than retryPeriod*JitterFactor ({jittered})"),
            ));
        }
    }
}

/// Effective TLS serving settings: certificate files, or a CA kept in a Secret signing
/// in-memory serving certificates ("dynamic"), or neither (plain HTTP for metrics).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    pub cipher_suites: Vec<String>,
    #[serde(rename = "minTLSVersion")]
    pub min_tls_version: String,
    pub filesystem: FilesystemServing,
    pub dynamic: DynamicServing,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesystemServing {
    pub cert_file: String,
    pub key_file: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicServing {
    pub secret_namespace: String,
    pub secret_name: String,
    pub dns_names: Vec<String>,
    pub leaf_duration: Duration,
}

impl TlsConfig {
    pub(crate) fn from_file(f: v1alpha1::TLSConfig) -> Self {
        let fs = f.filesystem.unwrap_or_default();
        let dynamic = f.dynamic.unwrap_or_default();
        TlsConfig {
            cipher_suites: f.cipher_suites.unwrap_or_default(),
            min_tls_version: f.min_tls_version.unwrap_or_default(),
            filesystem: FilesystemServing {
                cert_file: fs.cert_file.unwrap_or_default(),
                key_file: fs.key_file.unwrap_or_default(),
            },
            dynamic: DynamicServing {
                secret_namespace: dynamic.secret_namespace.unwrap_or_default(),
                secret_name: dynamic.secret_name.unwrap_or_default(),
                dns_names: dynamic.dns_names.unwrap_or_default(),
                leaf_duration: duration_or(
                    dynamic.leaf_duration,
                    DEFAULT_DYNAMIC_SERVING_LEAF_DURATION,
                ),
            },
        }
    }

    /// Relative certificate paths in a config file are relative to the file.
    pub(crate) fn resolve_relative(&mut self, dir: &std::path::Path) {
        for p in [
            &mut self.filesystem.cert_file,
            &mut self.filesystem.key_file,
        ] {
            *p = crate::file::resolve_relative(dir, p);
        }
    }

    pub fn filesystem_provided(&self) -> bool {
        !self.filesystem.key_file.is_empty() || !self.filesystem.cert_file.is_empty()
    }

    pub fn dynamic_provided(&self) -> bool {
        !self.dynamic.secret_namespace.is_empty()
            || !self.dynamic.secret_name.is_empty()
            || !self.dynamic.dns_names.is_empty()
    }

    pub(crate) fn validate(&self, path: &str, errs: &mut Vec<FieldError>) {
        if self.filesystem_provided() && self.dynamic_provided() {
            let value = serde_json::to_string(self).unwrap_or_default();
            errs.push(FieldError::invalid(
                path,
                value,
                "cannot specify both filesystem based and dynamic TLS configuration",
            ));
        } else if self.filesystem_provided() {
            let fs = child(path, "filesystem");
            let detail = "must be specified when using filesystem based TLS config";
            if self.filesystem.key_file.is_empty() {
                errs.push(FieldError::required(child(&fs, "keyFile"), detail));
            }
            if self.filesystem.cert_file.is_empty() {
                errs.push(FieldError::required(child(&fs, "certFile"), detail));
            }
        } else if self.dynamic_provided() {
            let d = child(path, "dynamic");
            let detail = "must be specified when using dynamic TLS config";
            if self.dynamic.secret_namespace.is_empty() {
                errs.push(FieldError::required(child(&d, "secretNamespace"), detail));
            }
            if self.dynamic.secret_name.is_empty() {
                errs.push(FieldError::required(child(&d, "secretName"), detail));
            }
            if self.dynamic.dns_names.is_empty() {
                errs.push(FieldError::required(child(&d, "dnsNames"), detail));
            }
        }
    }
}

/// One `vmodule` entry: a file pattern and the verbosity for matching files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VModuleItem {
    #[serde(default)]
    pub file_pattern: String,
    #[serde(default)]
    pub verbosity: u32,
}

/// A Kubernetes resource quantity (`"0"`, `"64Mi"`, `"1e3"`), checked with apimachinery's
/// grammar and kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity(String);

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, String> {
        check_quantity(s)?;
        Ok(Quantity(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the numeric part is zero (whatever the suffix).
    pub fn is_zero(&self) -> bool {
        self.0
            .trim_start_matches(['+', '-'])
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .all(|c| c == '0' || c == '.')
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity("0".to_owned())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// apimachinery's `ParseQuantity` syntax, with its error messages.
pub(crate) fn check_quantity(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(QUANTITY_FORMAT.to_owned());
    }
    let b = s.as_bytes();
    let mut pos = usize::from(matches!(b[0], b'+' | b'-'));
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
    }
    let suffix = &s[pos..];
    let letters = suffix
        .bytes()
        .take_while(|c| b"eEinumkKMGTP".contains(c))
        .count();
    let mut rest = &suffix[letters..];
    rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if !rest.bytes().all(|c| c.is_ascii_digit()) {
        return Err(QUANTITY_FORMAT.to_owned());
    }
    let known = matches!(
        suffix,
        "" | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
            | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
    );
    let exponent =
        suffix.len() > 1 && suffix.starts_with(['e', 'E']) && suffix[1..].parse::<i64>().is_ok();
    if known || exponent {
        Ok(())
    } else {
        Err("unable to parse quantity's suffix".to_owned())
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Like Kubernetes' `QuantityValue`: a string or a bare number.
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as \"0\" or \"64Mi\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Effective logging settings (component-base's `LoggingConfiguration`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Logging {
    /// `"text"` or `"json"` once validated; see [`Logging::log_format`].
    pub format: String,
    pub flush_frequency: Duration,
    pub verbosity: u32,
    pub vmodule: Vec<VModuleItem>,
    pub options: LoggingFormatOptions,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingFormatOptions {
    pub text: OutputRouting,
    pub json: OutputRouting,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputRouting {
    pub split_stream: bool,
    pub info_buffer_size: Quantity,
}

impl OutputRouting {
    fn from_file(f: Option<v1alpha1::OutputRoutingOptions>) -> Self {
        let f = f.unwrap_or_default();
        OutputRouting {
            split_stream: f.split_stream.unwrap_or(false),
            info_buffer_size: f.info_buffer_size.unwrap_or_default(),
        }
    }

    fn validate(&self, path: &str, errs: &mut Vec<FieldError>) {
        // Upstream validates with no feature gate registry, so these alpha options are always
        // refused.
        let detail = "Feature LoggingAlphaOptions is disabled";
        if self.split_stream {
            errs.push(FieldError::forbidden(child(path, "splitStream"), detail));
        }
        if !self.info_buffer_size.is_zero() {
            errs.push(FieldError::forbidden(child(path, "infoBufferSize"), detail));
        }
    }
}

impl Logging {
    pub(crate) fn from_file(f: v1alpha1::LoggingConfiguration) -> Self {
        let options = f.options.unwrap_or_default();
        Logging {
            format: or_default(f.format, DEFAULT_LOG_FORMAT),
            flush_frequency: duration_or(f.flush_frequency, DEFAULT_LOG_FLUSH_FREQUENCY),
            verbosity: f.verbosity.unwrap_or(DEFAULT_LOG_VERBOSITY),
            vmodule: f.vmodule.unwrap_or_default(),
            options: LoggingFormatOptions {
                text: OutputRouting::from_file(options.text),
                json: OutputRouting::from_file(options.json),
            },
        }
    }

    /// The format for [`componentbase::logging::init_with`]; `text` for anything else
    /// (which validation has already refused).
    pub fn log_format(&self) -> LogFormat {
        match self.format.as_str() {
            "json" => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }

    /// `-v`/`--logging-format` (from `CommonArgs`) and our `--log-flush-frequency`/`--vmodule`.
    pub(crate) fn apply_flags(
        &mut self,
        common: &LoggingArgs,
        flags: &LoggingFlags,
        o: &mut Overrides,
    ) {
        let format = common.format.map(|f| {
            match f {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }
            .to_owned()
        });
        o.value(
            &mut self.format,
            &format,
            "logging.format",
            "--logging-format",
        );
        o.value(
            &mut self.verbosity,
            &common.verbosity,
            "logging.verbosity",
            "-v",
        );
        o.value(
            &mut self.flush_frequency,
            &flags.log_flush_frequency,
            "logging.flushFrequency",
            "--log-flush-frequency",
        );
        o.vmodule(
            &mut self.vmodule,
            &flags.vmodule,
            "logging.vmodule",
            "--vmodule",
        );
    }

    /// component-base's `logsapi.Validate` with no feature gates.
    pub(crate) fn validate(&self, path: &str, errs: &mut Vec<FieldError>) {
        const MAX: u32 = i32::MAX as u32;
        if self.flush_frequency <= Duration::ZERO {
            errs.push(FieldError::invalid(
                child(path, "flushFrequency"),
                dur_value(self.flush_frequency),
                "Must be greater than zero",
            ));
        }
        if !matches!(self.format.as_str(), "text" | "json") {
            errs.push(FieldError::invalid_str(
                child(path, "format"),
                &self.format,
                "Unsupported log format",
            ));
        }
        if self.verbosity > MAX {
            errs.push(FieldError::invalid(
                child(path, "verbosity"),
                self.verbosity,
                format!("Must be <= {MAX}"),
            ));
        }
        let vmodule = child(path, "vmodule");
        if !self.vmodule.is_empty() && !self.format.is_empty() && self.format != "text" {
            errs.push(FieldError::forbidden(
                &vmodule,
                "Only supported for text log format",
            ));
        }
        for (i, item) in self.vmodule.iter().enumerate() {
            let at = format!("{vmodule}[{i}]");
            if item.file_pattern.is_empty() {
                errs.push(FieldError::required(&at, "File pattern must not be empty"));
            }
            if item.file_pattern.contains(['=', ',']) {
                errs.push(FieldError::invalid_str(
                    &at,
                    &item.file_pattern,
                    "File pattern must not contain equal sign or comma",
                ));
            }
            if item.verbosity > MAX {
                errs.push(FieldError::invalid(
                    &at,
                    item.verbosity,
                    format!("Must be <= {MAX}"),
                ));
            }
        }
        let options = child(path, "options");
        self.options.text.validate(&child(&options, "text"), errs);
        self.options.json.validate(&child(&options, "json"), errs);
    }
}

/// The config file's `featureGates` must name gates this component knows, with values their
/// locks allow; checked here so the error names the file, not `--feature-gates`.
pub(crate) fn validate_feature_gates(
    gates: &BTreeMap<String, bool>,
    component_gates: &[FeatureSpec],
    errs: &mut Vec<FieldError>,
) {
    for (name, &value) in gates {
        let mut registry = componentbase::gates::registry(component_gates);
        let one = BTreeMap::from([(name.clone(), value)]);
        if let Err(e) = registry.set_from_map(&one, Source::ConfigFile) {
            errs.push(FieldError::invalid(
                format!("featureGates.{name}"),
                value,
                e.to_string(),
            ));
        }
    }
}

/// Leader election flags of the controller and the cainjector.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LeaderElectionFlags {
    /// If true, perform leader election between instances to ensure no more than one instance
    /// operates at a time (default true)
    #[arg(
        long = "leader-elect",
        value_name = "bool",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = parse_bool
    )]
    pub leader_elect: Option<bool>,

    /// Namespace used to perform leader election. Only used if leader election is enabled
    /// (default "kube-system")
    #[arg(long = "leader-election-namespace", value_name = "string")]
    pub leader_election_namespace: Option<String>,

    /// The duration that non-leader candidates will wait after observing a leadership renewal
    /// until attempting to acquire leadership of a led but unrenewed leader slot. This is
    /// effectively the maximum duration that a leader can be stopped before it is replaced by
    /// another candidate. This is only applicable if leader election is enabled. (default 1m0s)
    #[arg(long = "leader-election-lease-duration", value_name = "duration")]
    pub leader_election_lease_duration: Option<Duration>,

    /// The interval between attempts by the acting master to renew a leadership slot before it
    /// stops leading. This must be less than the lease duration. This is only applicable if
    /// leader election is enabled. (default 40s)
    #[arg(long = "leader-election-renew-deadline", value_name = "duration")]
    pub leader_election_renew_deadline: Option<Duration>,

    /// The duration the clients should wait between attempting acquisition and renewal of a
    /// leadership. This is only applicable if leader election is enabled. (default 15s)
    #[arg(long = "leader-election-retry-period", value_name = "duration")]
    pub leader_election_retry_period: Option<Duration>,
}

impl LeaderElectionFlags {
    pub(crate) fn apply(&self, le: &mut LeaderElection, o: &mut Overrides) {
        const P: &str = "leaderElectionConfig";
        o.value(
            &mut le.enabled,
            &self.leader_elect,
            &child(P, "enabled"),
            "--leader-elect",
        );
        o.value(
            &mut le.namespace,
            &self.leader_election_namespace,
            &child(P, "namespace"),
            "--leader-election-namespace",
        );
        o.value(
            &mut le.lease_duration,
            &self.leader_election_lease_duration,
            &child(P, "leaseDuration"),
            "--leader-election-lease-duration",
        );
        o.value(
            &mut le.renew_deadline,
            &self.leader_election_renew_deadline,
            &child(P, "renewDeadline"),
            "--leader-election-renew-deadline",
        );
        o.value(
            &mut le.retry_period,
            &self.leader_election_retry_period,
            &child(P, "retryPeriod"),
            "--leader-election-retry-period",
        );
    }
}

/// TLS for the metrics server, on all three components.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct MetricsTlsFlags {
    /// Path to the file containing the TLS certificate to serve metrics with
    #[arg(long = "metrics-tls-cert-file", value_name = "string")]
    pub metrics_tls_cert_file: Option<String>,

    /// Path to the file containing the TLS private key to serve metrics with
    #[arg(long = "metrics-tls-private-key-file", value_name = "string")]
    pub metrics_tls_private_key_file: Option<String>,

    /// Leaf duration of metrics serving certificates (default 168h0m0s)
    #[arg(
        long = "metrics-dynamic-serving-leaf-duration",
        value_name = "duration"
    )]
    pub metrics_dynamic_serving_leaf_duration: Option<Duration>,

    /// Namespace of the secret used to store the CA that signs metrics serving certificates
    #[arg(
        long = "metrics-dynamic-serving-ca-secret-namespace",
        value_name = "string"
    )]
    pub metrics_dynamic_serving_ca_secret_namespace: Option<String>,

    /// Name of the secret used to store the CA that signs metrics serving certificates
    #[arg(long = "metrics-dynamic-serving-ca-secret-name", value_name = "string")]
    pub metrics_dynamic_serving_ca_secret_name: Option<String>,

    /// DNS names that should be present on certificates generated by the metrics dynamic
    /// serving CA
    #[arg(long = "metrics-dynamic-serving-dns-names", value_name = "strings")]
    pub metrics_dynamic_serving_dns_names: Option<Vec<StringList>>,

    /// Comma-separated list of cipher suites for the metrics server. If omitted, the default
    /// cipher suites will be used.
    #[arg(long = "metrics-tls-cipher-suites", value_name = "strings")]
    pub metrics_tls_cipher_suites: Option<Vec<StringList>>,

    /// Minimum TLS version supported by the metrics server. If omitted, the default minimum
    /// version will be used. Possible values: VersionTLS10, VersionTLS11, VersionTLS12,
    /// VersionTLS13
    #[arg(long = "metrics-tls-min-version", value_name = "string")]
    pub metrics_tls_min_version: Option<String>,
}

impl MetricsTlsFlags {
    pub(crate) fn apply(&self, tls: &mut TlsConfig, o: &mut Overrides) {
        const P: &str = "metricsTLSConfig";
        o.value(
            &mut tls.filesystem.cert_file,
            &self.metrics_tls_cert_file,
            "metricsTLSConfig.filesystem.certFile",
            "--metrics-tls-cert-file",
        );
        o.value(
            &mut tls.filesystem.key_file,
            &self.metrics_tls_private_key_file,
            "metricsTLSConfig.filesystem.keyFile",
            "--metrics-tls-private-key-file",
        );
        o.value(
            &mut tls.dynamic.leaf_duration,
            &self.metrics_dynamic_serving_leaf_duration,
            "metricsTLSConfig.dynamic.leafDuration",
            "--metrics-dynamic-serving-leaf-duration",
        );
        o.value(
            &mut tls.dynamic.secret_namespace,
            &self.metrics_dynamic_serving_ca_secret_namespace,
            "metricsTLSConfig.dynamic.secretNamespace",
            "--metrics-dynamic-serving-ca-secret-namespace",
        );
        o.value(
            &mut tls.dynamic.secret_name,
            &self.metrics_dynamic_serving_ca_secret_name,
            "metricsTLSConfig.dynamic.secretName",
            "--metrics-dynamic-serving-ca-secret-name",
        );
        o.list(
            &mut tls.dynamic.dns_names,
            &self.metrics_dynamic_serving_dns_names,
            "metricsTLSConfig.dynamic.dnsNames",
            "--metrics-dynamic-serving-dns-names",
        );
        o.list(
            &mut tls.cipher_suites,
            &self.metrics_tls_cipher_suites,
            &child(P, "cipherSuites"),
            "--metrics-tls-cipher-suites",
        );
        o.value(
            &mut tls.min_tls_version,
            &self.metrics_tls_min_version,
            &child(P, "minTLSVersion"),
            "--metrics-tls-min-version",
        );
    }
}

/// component-base's logging flags other than `-v` and `--logging-format` (which are in
/// `componentbase::cli::CommonArgs`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LoggingFlags {
    /// Maximum number of seconds between log flushes (default 5s)
    #[arg(long = "log-flush-frequency", value_name = "duration")]
    pub log_flush_frequency: Option<Duration>,

    /// Comma-separated list of pattern=N settings for file-filtered logging (only works for
    /// text log format)
    #[arg(long = "vmodule", value_name = "pattern=N,...")]
    pub vmodule: Option<Vec<VModuleList>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in [
            "0", "64Mi", "10m", "100m", "1e3", "1E-3", "1.5Gi", "+1k", "-2", "0.0", ".5", "1E",
        ] {
            assert_eq!(check_quantity(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_quantity("").unwrap_err(), QUANTITY_FORMAT);
        assert_eq!(check_quantity("abc").unwrap_err(), QUANTITY_FORMAT);
        assert_eq!(check_quantity("1 Mi").unwrap_err(), QUANTITY_FORMAT);
        assert_eq!(check_quantity("1Mb").unwrap_err(), QUANTITY_FORMAT);
        assert_eq!(check_quantity("1MiB").unwrap_err(), QUANTITY_FORMAT);
        assert_eq!(check_quantity("1Qi").unwrap_err(), QUANTITY_FORMAT);
        assert_eq!(
            check_quantity("1mm").unwrap_err(),
            "unable to parse quantity's suffix"
        );
        assert!(Quantity::parse("0Mi").unwrap().is_zero());
        assert!(Quantity::parse("0.000").unwrap().is_zero());
        assert!(!Quantity::parse("1Mi").unwrap().is_zero());
        assert!(!Quantity::parse("0.5").unwrap().is_zero());
    }

    #[test]
    fn leader_election_checks_include_client_gos() {
        let mut le = LeaderElection::from_file(Default::default());
        let mut errs = Vec::new();
        le.validate("leaderElectionConfig", &mut errs);
        assert!(errs.is_empty(), "{errs:?}");

        le.renew_deadline = Duration::from_secs(60);
        le.validate("leaderElectionConfig", &mut errs);
        assert_eq!(
            errs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                r#"leaderElectionConfig.leaseDuration: Invalid value: "1m0s": must be greater than renewDeadline (1m0s)"#
            ]
        );

        errs.clear();
        le.renew_deadline = Duration::from_secs(18);
        le.validate("leaderElectionConfig", &mut errs);
        assert_eq!(
            errs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                r#"leaderElectionConfig.renewDeadline: Invalid value: "18s": must be greater than retryPeriod*JitterFactor (18s)"#
            ]
        );

        errs.clear();
        le.enabled = false;
        le.lease_duration = Duration::from_secs(-1);
        le.validate("leaderElectionConfig", &mut errs);
        assert!(errs.is_empty(), "disabled leader election is not validated");
    }
}

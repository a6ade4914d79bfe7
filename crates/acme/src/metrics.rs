//! cert-manager's ACME client metrics, observed for every HTTP request the client makes
//! (including nonce fetches and badNonce retries, as cert-manager's instrumented transport
//! does):
//!
//! * `certmanager_http_acme_client_request_count` (counter)
//! * `certmanager_http_acme_client_request_duration_seconds`
//!
//! Labels `scheme, host, action, method, status`: `action` is the client operation the
//! request belongs to (cert-manager's names: `register_account`, `authorize_order`,
//! `get_order`, `fetch_cert`, ...), `status` the HTTP status or `999` when no response came.
//!
//! Difference from cert-manager: the duration is a Summary with quantiles 0.5/0.9/0.99 there;
//! the `prometheus` crate has no Summary, so here it is a Histogram of the same name. Its
//! `_sum` and `_count` series are identical; quantiles come from
//! `histogram_quantile(..., rate(..._bucket[5m]))` instead of the `quantile` label.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

const LABELS: [&str; 5] = ["scheme", "host", "action", "method", "status"];

/// Buckets up to the 90 s request timeout cert-manager uses for ACME.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The two ACME client metrics. Cheap to clone (the vectors are shared); one instance
/// serves every [`Client`](crate::Client) of a process.
#[derive(Clone, Debug)]
pub struct Metrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Unregistered metrics (see [`Metrics::register`] and [`Metrics::global`]).
    pub fn new() -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "acme_client_request_count",
                "Total number of outbound ACME HTTP requests. Labels: scheme (http/https), \
                 host (ACME host), action (logical ACME operation), method (HTTP verb), \
                 status (HTTP status code).",
            )
            .namespace("certmanager")
            .subsystem("http"),
            &LABELS,
        )
        .expect("valid metric definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "acme_client_request_duration_seconds",
                "Latency of outbound ACME HTTP requests in seconds. Labels: scheme \
                 (http/https), host (ACME host), action (logical ACME operation), method \
                 (HTTP verb), status (HTTP status code).",
            )
            .namespace("certmanager")
            .subsystem("http")
            .buckets(BUCKETS.to_vec()),
            &LABELS,
        )
        .expect("valid metric definition");
        Self { requests, duration }
    }

    /// Registers both metrics in `registry`.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.requests.clone()))?;
        registry.register(Box::new(self.duration.clone()))
    }

    /// The process-wide instance, registered once in prometheus' default registry (the one
    /// the controller serves on `/metrics`, like its other metrics).
    pub fn global() -> &'static Metrics {
        static GLOBAL: LazyLock<Metrics> = LazyLock::new(|| {
            let metrics = Metrics::new();
            if let Err(e) = metrics.register(prometheus::default_registry()) {
                tracing::error!("registering the ACME client metrics: {e}");
            }
            metrics
        });
        &GLOBAL
    }

    pub(crate) fn observe(
        &self,
        uri: &http::Uri,
        action: &str,
        method: &http::Method,
        status: Option<http::StatusCode>,
        elapsed: Duration,
    ) {
        let status = status.map_or_else(|| "999".to_string(), |s| s.as_u16().to_string());
        let host = uri.authority().map_or("", |a| a.as_str());
        let labels = [
            uri.scheme_str().unwrap_or(""),
            host,
            action,
            method.as_str(),
            status.as_str(),
        ];
        self.requests.with_label_values(&labels).inc();
        self.duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_are_cert_managers() {
        let registry = Registry::new();
        let metrics = Metrics::new();
        metrics.register(&registry).unwrap();
        let uri: http::Uri = "https://acme.test:14000/order-plz".parse().unwrap();
        metrics.observe(
            &uri,
            "authorize_order",
            &http::Method::POST,
            Some(http::StatusCode::CREATED),
            Duration::from_millis(20),
        );
        metrics.observe(
            &uri,
            "authorize_order",
            &http::Method::POST,
            None,
            Duration::from_millis(1),
        );
        let families = registry.gather();
        let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "certmanager_http_acme_client_request_count",
                "certmanager_http_acme_client_request_duration_seconds"
            ]
        );
        let count = &families[0];
        assert_eq!(count.get_metric().len(), 2);
        let labels: Vec<(String, String)> = count.get_metric()[0]
            .get_label()
            .iter()
            .map(|l| (l.name().to_string(), l.value().to_string()))
            .collect();
        let get = |n: &str| labels.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("scheme"), "https");
        assert_eq!(get("host"), "acme.test:14000");
        assert_eq!(get("action"), "authorize_order");
        assert_eq!(get("method"), "POST");
        let statuses: Vec<String> = count
            .get_metric()
            .iter()
            .map(|m| {
                m.get_label()
                    .iter()
                    .find(|l| l.name() == "status")
                    .unwrap()
                    .value()
                    .to_string()
            })
            .collect();
        assert!(statuses.contains(&"201".to_string()) && statuses.contains(&"999".to_string()));
    }
}

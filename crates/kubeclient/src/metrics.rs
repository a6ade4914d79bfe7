//! Prometheus metrics of the client layer, and the tower layer that counts every request.
//!
//! Registered in the process-wide default registry, which each binary serves on `/metrics`.

use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use prometheus::{
    GaugeVec, IntCounterVec, IntGaugeVec, register_gauge_vec, register_int_counter_vec,
    register_int_gauge_vec,
};

pub(crate) struct Metrics {
    pub requests: IntCounterVec,
    pub response_bytes: IntCounterVec,
    pub watch_events: IntCounterVec,
    pub initial_sync_seconds: GaugeVec,
    pub objects: IntGaugeVec,
    pub fallbacks: IntCounterVec,
}

// The metric names are new (cert-manager exposes client-go's rest_client_* only in some binaries),
// so they get their own `kubeclient_` prefix rather than imitating client-go's.
pub(crate) static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    requests: register_int_counter_vec!(
        "kubeclient_requests_total",
        "Requests to the Kubernetes API by verb, resource and HTTP status code (or \"error\").",
        &["verb", "resource", "code"]
    )
    .expect("metric registered once"),
    response_bytes: register_int_counter_vec!(
        "kubeclient_response_bytes_total",
        "Response body bytes received from the Kubernetes API by verb and resource.",
        &["verb", "resource"]
    )
    .expect("metric registered once"),
    watch_events: register_int_counter_vec!(
        "kubeclient_watch_events_total",
        "Watch events received by each cache, by event type.",
        &["cache", "type"]
    )
    .expect("metric registered once"),
    initial_sync_seconds: register_gauge_vec!(
        "kubeclient_initial_sync_seconds",
        "Seconds the last full (re)list of each cache took, by mode (streaming or paged).",
        &["cache", "mode"]
    )
    .expect("metric registered once"),
    objects: register_int_gauge_vec!(
        "kubeclient_cached_objects",
        "Objects held by each cache.",
        &["cache"]
    )
    .expect("metric registered once"),
    fallbacks: register_int_counter_vec!(
        "kubeclient_watchlist_fallbacks_total",
        "Times a cache fell back from a streaming list to paged LIST+WATCH, by reason.",
        &["cache", "reason"]
    )
    .expect("metric registered once"),
});

/// Total requests counted so far for `verb` and `resource` (all codes); for tests and benchmarks.
pub fn request_count(verb: &str, resource: &str) -> u64 {
    use prometheus::core::Collector;
    let mut total = 0;
    for mf in METRICS.requests.collect() {
        for metric in mf.get_metric() {
            let has = |name: &str, value: &str| {
                metric
                    .get_label()
                    .iter()
                    .any(|l| l.name() == name && l.value() == value)
            };
            if has("verb", verb) && has("resource", resource) {
                total += metric.get_counter().get_value() as u64;
            }
        }
    }
    total
}

/// The verb and resource of a request to the Kubernetes API, for metric labels.
pub(crate) fn classify<B>(req: &Request<B>) -> (&'static str, String) {
    let query = req.uri().query().unwrap_or_default();
    let watch = form_urlencoded::parse(query.as_bytes())
        .any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
    let (resource, has_name) = resource_of(req.uri().path());
    let verb = match *req.method() {
        http::Method::GET if watch => "WATCH",
        http::Method::GET if has_name => "GET",
        http::Method::GET => "LIST",
        http::Method::POST => "CREATE",
        http::Method::PUT => "UPDATE",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        _ => "OTHER",
    };
    (verb, resource)
}

/// `(resource, names one object)` from an API path: `secrets`, `certificates.cert-manager.io`.
fn resource_of(path: &str) -> (String, bool) {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segs.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return ("other".to_owned(), false),
    };
    let (resource, name) = match rest {
        ["namespaces", _ns, resource, name @ ..] => (*resource, name.first()),
        [resource, name @ ..] => (*resource, name.first()),
        [] => return ("discovery".to_owned(), false),
    };
    let resource = if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    };
    (resource, name.is_some())
}

/// A tower layer counting requests and response bytes of a `kube::Client`.
#[derive(Clone, Copy, Default)]
pub struct RequestMetricsLayer;

impl<S> tower_layer::Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestMetrics { inner }
    }
}

#[derive(Clone)]
pub struct RequestMetrics<S> {
    inner: S,
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for RequestMetrics<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResB: http_body::Body<Data = Bytes>,
{
    type Response = Response<CountingBody<ResB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let (verb, resource) = classify(&req);
        let fut = self.inner.call(req);
        Box::pin(async move {
            match fut.await {
                Ok(res) => {
                    let code = res.status().as_u16().to_string();
                    METRICS
                        .requests
                        .with_label_values(&[verb, &resource, &code])
                        .inc();
                    let counter = METRICS.response_bytes.with_label_values(&[verb, &resource]);
                    Ok(res.map(|body| CountingBody {
                        inner: body,
                        counter,
                    }))
                }
                Err(e) => {
                    METRICS
                        .requests
                        .with_label_values(&[verb, &resource, "error"])
                        .inc();
                    Err(e)
                }
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that adds the size of each data frame to a counter as it streams by.
    pub struct CountingBody<B> {
        #[pin]
        inner: B,
        counter: prometheus::IntCounter,
    }
}

impl<B: http_body::Body<Data = Bytes>> http_body::Body for CountingBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.counter.inc_by(data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, uri: &str) -> Request<()> {
        Request::builder().method(method).uri(uri).body(()).unwrap()
    }

    #[test]
    fn classifies_verbs_and_resources() {
        let cases = [
            ("GET", "/api/v1/secrets?limit=500", "LIST", "secrets"),
            ("GET", "/api/v1/namespaces/a/secrets/s1", "GET", "secrets"),
            (
                "GET",
                "/api/v1/namespaces/a/secrets?watch=1&sendInitialEvents=true",
                "WATCH",
                "secrets",
            ),
            ("GET", "/api/v1/namespaces", "LIST", "namespaces"),
            ("GET", "/api/v1/namespaces/a", "GET", "namespaces"),
            (
                "PATCH",
                "/apis/cert-manager.io/v1/namespaces/a/certificates/c/status",
                "PATCH",
                "certificates.cert-manager.io",
            ),
            (
                "POST",
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                "CREATE",
                "leases.coordination.k8s.io",
            ),
            ("GET", "/apis", "LIST", "other"),
        ];
        for (m, uri, verb, resource) in cases {
            let (v, r) = classify(&req(m, uri));
            assert_eq!((v, r.as_str()), (verb, resource), "{m} {uri}");
        }
    }
}

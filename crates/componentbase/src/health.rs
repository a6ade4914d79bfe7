//! The plain-HTTP server for probes and metrics: `/livez`, `/readyz` (and `/healthz`),
//! `/metrics` in Prometheus text format, on addresses each binary chooses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

/// Readiness shared between the component and its probe endpoints.
#[derive(Clone, Default)]
pub struct Health {
    ready: Arc<AtomicBool>,
}

impl Health {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// Which endpoints a listener serves.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    pub probes: bool,
    pub metrics: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("listening on {addr}: {source}")]
pub struct ListenError {
    addr: String,
    source: std::io::Error,
}

/// Bind `addr` and serve in the background; returns the bound address (useful with port 0).
pub async fn serve(
    addr: &str,
    endpoints: Endpoints,
    health: Health,
) -> Result<SocketAddr, ListenError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError {
            addr: addr.to_owned(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| ListenError {
        addr: addr.to_owned(),
        source,
    })?;
    let mut app = Router::new();
    if endpoints.probes {
        let h = health.clone();
        app = app
            .route("/livez", get(|| async { "ok" }))
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/readyz",
                get(move || async move {
                    if h.is_ready() {
                        (StatusCode::OK, "ok")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "caches not synced")
                    }
                }),
            );
    }
    if endpoints.metrics {
        app = app.route("/metrics", get(metrics));
    }
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "health/metrics server stopped");
        }
    });
    tracing::info!(address = %bound, probes = endpoints.probes, metrics = endpoints.metrics, "serving");
    Ok(bound)
}

/// [`serve`], unless `addr` is `"0"`: cert-manager's way to disable the metrics listener.
pub async fn serve_unless_disabled(
    addr: &str,
    endpoints: Endpoints,
    health: Health,
) -> Result<Option<SocketAddr>, ListenError> {
    if addr == "0" {
        tracing::info!("metrics server disabled");
        return Ok(None);
    }
    serve(addr, endpoints, health).await.map(Some)
}

async fn metrics() -> impl IntoResponse {
    let body = prometheus::TextEncoder::new()
        .encode_to_string(&prometheus::gather())
        .unwrap_or_else(|e| format!("# encoding metrics failed: {e}\n"));
    (
        [(axum::http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        body,
    )
}

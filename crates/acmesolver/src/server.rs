//! The HTTP/1.1 server: one small hyper connection task per client, a header read deadline
//! against slow clients, and a bounded graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::challenge::{Answer, Challenge};

/// As upstream (and the Kubernetes API server): how long a client may take to send its
/// request headers (slowloris mitigation).
const READ_HEADER_TIMEOUT: Duration = Duration::from_secs(32);
/// How long in-flight requests may take to finish once a stop is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `challenge` on `listener` until `shutdown` resolves, then stops accepting and lets
/// open connections finish for up to [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    challenge: Arc<Challenge>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Per-connection errors (e.g. the client reset before accept); keep serving.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let challenge = challenge.clone();
        let service = service_fn(move |req| {
            let response = respond(&challenge, &req);
            async move { Ok::<_, Infallible>(response) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(READ_HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down, waiting for open connections");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "connections still open after the grace period");
    }
}

/// The response to one request, logged with the reason for a 404.
pub fn respond<B>(challenge: &Challenge, req: &Request<B>) -> Response<Full<Bytes>> {
    let host = request_host(req);
    let path = req.uri().path();
    match challenge.answer(host, path) {
        Answer::Health => {
            tracing::debug!(path, "responding OK to health check");
            text(StatusCode::OK, Bytes::new())
        }
        Answer::Key(key) => {
            tracing::info!(host, path, "got successful challenge request, writing key");
            text(StatusCode::OK, Bytes::copy_from_slice(key.as_bytes()))
        }
        Answer::NotFound(reason) => {
            tracing::info!(
                host,
                path,
                expected_host = %challenge.domain,
                expected_token = %challenge.token,
                reason,
                "request does not match the challenge, responding 404"
            );
            let mut response = text(
                StatusCode::NOT_FOUND,
                Bytes::from_static(b"404 page not found\n"),
            );
            response.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
    }
}

/// The host a request is for: the authority of an absolute-form target, else the Host
/// header (Go's `Request.Host`).
fn request_host<B>(req: &Request<B>) -> &str {
    if let Some(authority) = req.uri().authority() {
        return authority.as_str();
    }
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
}

fn text(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::OK {
        // Proxies and ingress controllers must not cache answers between challenges.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store, must-revalidate"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            domain: "example.com".into(),
            token: "tok".into(),
            key: "tok.thumb".into(),
        }
    }

    async fn body(response: Response<Full<Bytes>>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn absolute_form_uses_the_authority() {
        let req = Request::get("http://example.com/.well-known/acme-challenge/tok")
            .header(header::HOST, "ignored.example")
            .body(())
            .unwrap();
        let response = respond(&challenge(), &req);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "no-cache, no-store, must-revalidate"
        );
        assert_eq!(body(response).await, "tok.thumb");
    }

    #[tokio::test]
    async fn missing_host_is_not_found() {
        let req = Request::get("/.well-known/acme-challenge/tok")
            .body(())
            .unwrap();
        let response = respond(&challenge(), &req);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert_eq!(body(response).await, "404 page not found\n");
    }
}

//! A small HTTPS client for the issuers that talk to servers outside the cluster (ACME
//! directories, Vault). One way to do it for the whole workspace: hyper's pooled client over
//! rustls on aws-lc-rs, TLS 1.2+, the system's roots plus an optional PEM CA bundle (an issuer's
//! `caBundle`), a timeout per request, and whole-body responses (these APIs answer small JSON or
//! PEM documents).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Responses larger than this are refused: no ACME or Vault answer comes close, and a
/// misbehaving server must not make the controller allocate without bound.
const MAX_BODY: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("caBundle: {0}")]
    CaBundle(String),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("building request: {0}")]
    Request(#[from] http::Error),
    /// `target` is "METHOD uri".
    #[error("{target}: {source}")]
    Send {
        target: String,
        #[source]
        source: Box<hyper_util::client::legacy::Error>,
    },
    #[error("{target}: reading response: {message}")]
    Body { target: String, message: String },
    #[error("{target}: no response within {timeout:?}")]
    Timeout { target: String, timeout: Duration },
    #[error("decoding JSON response (HTTP {status}): {source}")]
    Json {
        status: StatusCode,
        #[source]
        source: serde_json::Error,
    },
}

/// Where the client's trust comes from.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// PEM certificates trusted in addition to (or, with `system_roots: false`, instead of)
    /// the system's roots.
    pub ca_bundle: Option<Vec<u8>>,
    /// Whether to trust the operating system's roots.
    pub system_roots: bool,
}

impl Trust {
    /// The system's roots and, when given, the PEM bundle too (cert-manager's behaviour for
    /// `caBundle` on ACME and Vault issuers is "instead of"; see [`Trust::only`]).
    pub fn system() -> Self {
        Self {
            ca_bundle: None,
            system_roots: true,
        }
    }

    /// Only the certificates of `pem`.
    pub fn only(pem: impl Into<Vec<u8>>) -> Self {
        Self {
            ca_bundle: Some(pem.into()),
            system_roots: false,
        }
    }
}

/// A whole response.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Json {
            status: self.status,
            source,
        })
    }

    /// A header's value as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A pooled HTTP(S) client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    /// A client trusting `trust`, giving up on a request after `timeout`.
    pub fn new(trust: &Trust, timeout: Duration) -> Result<Self, Error> {
        let roots = root_store(trust)?;
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Client::builder(TokioExecutor::new()).build(https);
        Ok(Self { inner, timeout })
    }

    /// Sends `request` and reads the whole response (any status: the caller decides what an
    /// error status means for its protocol).
    pub async fn send(&self, request: Request<Bytes>) -> Result<Response, Error> {
        let target = format!("{} {}", request.method(), request.uri());
        let request = request.map(Full::new);
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|source| Error::Send {
                    target: target.clone(),
                    source: Box::new(source),
                })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| Error::Body {
                    target: target.clone(),
                    message: e.to_string(),
                })?
                .to_bytes();
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                target,
                timeout: self.timeout,
            }),
        }
    }
}

fn root_store(trust: &Trust) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    if trust.system_roots {
        // Unreadable system certificates are skipped, as browsers and Go do.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    if let Some(pem) = &trust.ca_bundle {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| Error::CaBundle(format!("not PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(Error::CaBundle("no certificates in the bundle".into()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| Error::CaBundle(format!("unusable certificate: {e}")))?;
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_without_certificates_names_ca_bundle() {
        let err = HttpClient::new(&Trust::only(b"not pem".to_vec()), Duration::from_secs(1))
            .err()
            .expect("an empty bundle is refused");
        assert!(err.to_string().starts_with("caBundle:"), "{err}");
    }

    #[tokio::test]
    async fn plain_http_roundtrip_and_timeout() {
        let app = axum::Router::new()
            .route("/json", axum::routing::get(|| async { r#"{"a":1}"# }))
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    ""
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = HttpClient::new(&Trust::system(), Duration::from_millis(300)).unwrap();

        let get = |path: &str| {
            Request::get(format!("http://{addr}{path}"))
                .body(Bytes::new())
                .unwrap()
        };
        let response = client.send(get("/json")).await.unwrap();
        assert_eq!(response.status, StatusCode::OK);
        let value: serde_json::Value = response.json().unwrap();
        assert_eq!(value["a"], 1);

        let err = client.send(get("/slow")).await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        server.abort();
    }
}

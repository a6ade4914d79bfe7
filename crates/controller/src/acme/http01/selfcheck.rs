//! The reachability self check: `GET http://<domain>/.well-known/acme-challenge/<token>` as
//! the ACME server will do it, following redirects (to HTTPS too, without certificate
//! verification: the site is trying to get a certificate), within Boulder-like time limits,
//! and comparing the body with the key authorization.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::CHALLENGE_PATH;
use super::resolve::Resolver;

/// See the module documentation of `acme::http01`.
pub const SELF_CHECK_ADDR_ENV: &str = "CERT_MANAGER_RS_HTTP01_SELF_CHECK_ADDR";

/// The whole check, redirects and body included (Boulder's and upstream's limit).
const TIMEOUT: Duration = Duration::from_secs(10);
/// Per address tried.
const DIAL_TIMEOUT: Duration = Duration::from_secs(3);
/// Go's HTTP client default.
const MAX_REDIRECTS: usize = 10;
/// A key authorization is ~90 bytes; anything this large is not one.
const MAX_BODY: usize = 1024 * 1024;

/// How to reach challenge URLs.
pub struct Probe {
    resolver: Option<Resolver>,
    connect_to: Option<SocketAddr>,
    tls: Arc<rustls::ClientConfig>,
    user_agent: String,
}

impl Probe {
    /// With `--acme-http01-solver-nameservers` and the test override from the environment.
    pub fn from_config(nameservers: &[String]) -> anyhow::Result<Self> {
        let servers = nameservers
            .iter()
            .map(|s| {
                s.parse::<SocketAddr>()
                    .with_context(|| format!("--acme-http01-solver-nameservers: invalid {s:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let connect_to = match std::env::var(SELF_CHECK_ADDR_ENV) {
            Ok(v) => Some(v.parse().with_context(|| {
                format!("{SELF_CHECK_ADDR_ENV}={v:?}: not an <ip>:<port> address")
            })?),
            Err(_) => None,
        };
        Self::new(servers, connect_to)
    }

    /// `connect_to`: where to connect instead of `<domain>:80` (the test aid).
    pub fn new(
        nameservers: Vec<SocketAddr>,
        connect_to: Option<SocketAddr>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            resolver: (!nameservers.is_empty()).then(|| Resolver::new(nameservers)),
            connect_to,
            tls: Arc::new(insecure_tls()?),
            user_agent: format!("cert-manager-rs-controller/{}", env!("CARGO_PKG_VERSION")),
        })
    }

    /// One pass: `Err(reason)` unless the URL answers 200 with exactly `key`.
    pub async fn test(&self, domain: &str, token: &str, key: &str) -> Result<(), String> {
        let url = challenge_url(domain, token);
        let fetched = tokio::time::timeout(TIMEOUT, self.fetch(&url, domain)).await;
        let (status, body) = match fetched {
            Err(_) => {
                return Err(format!(
                    "failed to perform self check GET request '{url}': no answer within {TIMEOUT:?}"
                ));
            }
            Ok(Err(e)) => {
                return Err(format!(
                    "failed to perform self check GET request '{url}': {e}"
                ));
            }
            Ok(Ok(answer)) => answer,
        };
        if status != StatusCode::OK {
            return Err(format!(
                "wrong status code '{}', expected '{}'",
                status.as_u16(),
                StatusCode::OK.as_u16()
            ));
        }
        // The body itself stays out of the reason (it may be anything a misrouted request
        // reaches).
        match body {
            Some(body) if body == key.as_bytes() => Ok(()),
            _ => Err(format!(
                "did not get expected response {key:?} when querying endpoint"
            )),
        }
    }

    /// Follows redirects; the final status and body (`None` when larger than [`MAX_BODY`]).
    async fn fetch(&self, url: &str, domain: &str) -> Result<(StatusCode, Option<Bytes>), String> {
        let mut target = Target::parse(url)?;
        for _ in 0..=MAX_REDIRECTS {
            // The connection task must outlive the body; it is aborted when `_conn` drops.
            let (response, _conn) = self.get(&target, domain).await?;
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok());
            match location {
                Some(location) if is_redirect(response.status()) => {
                    target = target.join(location)?;
                    tracing::debug!(url = %target, "HTTP-01 self check following a redirect");
                }
                _ => {
                    let status = response.status();
                    let body = match Limited::new(response.into_body(), MAX_BODY).collect().await {
                        Ok(collected) => Some(collected.to_bytes()),
                        Err(e) if e.is::<http_body_util::LengthLimitError>() => None,
                        Err(e) => return Err(format!("failed to read response body: {e}")),
                    };
                    return Ok((status, body));
                }
            }
        }
        Err(format!("stopped after {MAX_REDIRECTS} redirects"))
    }

    async fn get(
        &self,
        target: &Target,
        domain: &str,
    ) -> Result<(Response<Incoming>, AbortOnDrop), String> {
        let tcp = self.connect(target, domain).await?;
        let io: Box<dyn Io> = if target.https {
            let name = ServerName::try_from(target.host.clone())
                .map_err(|e| format!("invalid TLS server name {:?}: {e}", target.host))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS handshake with {target}: {e}"))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| e.to_string())?;
        // The connection task ends with the response (Connection: close), or is aborted when
        // the check gives up.
        let conn = AbortOnDrop(tokio::spawn(async move {
            let _ = conn.await;
        }));
        let request = Request::get(target.path.as_str())
            .header(header::HOST, target.authority())
            .header(header::USER_AGENT, &self.user_agent)
            .header(header::CONNECTION, "close")
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok((response, conn))
    }

    async fn connect(&self, target: &Target, domain: &str) -> Result<TcpStream, String> {
        let addresses = match self.connect_to {
            Some(addr) if !target.https && target.port == 80 && target.host == domain => vec![addr],
            _ => self.addresses(target).await?,
        };
        let mut last = format!("no addresses for {}", target.host);
        for addr in addresses {
            match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(e)) => last = format!("dial tcp {addr}: {e}"),
                Err(_) => last = format!("dial tcp {addr}: i/o timeout"),
            }
        }
        Err(last)
    }

    async fn addresses(&self, target: &Target) -> Result<Vec<SocketAddr>, String> {
        if let Ok(ip) = target.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, target.port)]);
        }
        if let Some(resolver) = &self.resolver {
            let ips = resolver.lookup(&target.host).await?;
            return Ok(ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, target.port))
                .collect());
        }
        tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map(|a| a.collect())
            .map_err(|e| format!("lookup {}: {e}", target.host))
    }
}

/// The URL the ACME server fetches (IPv6 identifiers in brackets).
pub fn challenge_url(domain: &str, token: &str) -> String {
    let host = match domain.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{domain}]"),
        _ => domain.to_owned(),
    };
    format!("http://{host}{CHALLENGE_PATH}/{token}")
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Whether `location` starts with `<scheme>:` (RFC 3986 §3.1): an absolute URL, whose
/// scheme `parse` then accepts or refuses.
fn has_scheme(location: &str) -> bool {
    let Some((scheme, _)) = location.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An absolute http(s) URL, split for connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    https: bool,
    /// Without IPv6 brackets.
    host: String,
    port: u16,
    /// Path and query.
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            other => {
                return Err(format!(
                    "unsupported protocol scheme {:?}",
                    other.unwrap_or("")
                ));
            }
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("no host in URL {url:?}"))?;
        Ok(Self {
            https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
            path: uri
                .path_and_query()
                .map(|p| p.as_str())
                .filter(|p| !p.is_empty())
                .unwrap_or("/")
                .to_owned(),
        })
    }

    /// Resolves a `Location` header against this URL.
    fn join(&self, location: &str) -> Result<Self, String> {
        let scheme = if self.https { "https" } else { "http" };
        if has_scheme(location) {
            return Self::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Self::parse(&format!("{scheme}://{rest}"));
        }
        let path = if location.starts_with('/') {
            location.to_owned()
        } else {
            let dir = self.path.split('?').next().unwrap_or("/");
            let dir = &dir[..=dir.rfind('/').unwrap_or(0)];
            format!("{dir}{location}")
        };
        Ok(Self {
            path,
            ..self.clone()
        })
    }

    /// The Host header: the port only when not the scheme's default.
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

/// TLS for followed HTTPS redirects: any certificate is accepted (as the ACME server does),
/// but the handshake signatures are still checked with the provider's algorithms.
fn insecure_tls() -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS configuration for the HTTP-01 self check")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(config)
}

#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_redirect_targets() {
        assert_eq!(
            challenge_url("example.com", "tok"),
            "http://example.com/.well-known/acme-challenge/tok"
        );
        assert_eq!(
            challenge_url("2001:db8::1", "tok"),
            "http://[2001:db8::1]/.well-known/acme-challenge/tok"
        );
        let t = Target::parse("http://[2001:db8::1]/.well-known/acme-challenge/tok").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.https),
            ("2001:db8::1", 80, false)
        );
        assert_eq!(t.authority(), "[2001:db8::1]");

        let base = Target::parse("http://a.example/.well-known/acme-challenge/tok").unwrap();
        let abs = base.join("https://b.example:8443/x?y=1").unwrap();
        assert_eq!(abs.to_string(), "https://b.example:8443/x?y=1");
        assert_eq!(
            base.join("//c.example/p").unwrap().to_string(),
            "http://c.example/p"
        );
        assert_eq!(
            base.join("/root").unwrap().to_string(),
            "http://a.example/root"
        );
        assert_eq!(
            base.join("other").unwrap().to_string(),
            "http://a.example/.well-known/acme-challenge/other"
        );
        assert!(base.join("ftp://x/").is_err());
    }
}

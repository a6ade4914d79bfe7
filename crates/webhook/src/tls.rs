//! TLS for the admission server: a certificate resolver whose key pair can be swapped while
//! serving (dynamic CA rotation, or a reloaded `--tls-cert-file`), the `--tls-min-version` /
//! `--tls-cipher-suites` flags in Go's spelling, and the HTTPS accept loop.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("no certificate found in the serving certificate PEM")]
    NoCertificate,
    #[error("parsing the serving certificate PEM: {0}")]
    CertPem(rustls::pki_types::pem::Error),
    #[error("parsing the serving private key PEM: {0}")]
    KeyPem(rustls::pki_types::pem::Error),
    #[error("unsupported serving private key: {0}")]
    Key(rustls::Error),
    #[error("the serving private key does not match the certificate")]
    KeyMismatch,
    #[error("--tls-min-version: unsupported value {0:?} (use VersionTLS12 or VersionTLS13)")]
    MinVersion(String),
    #[error("--tls-cipher-suites: unsupported cipher suite {0:?}")]
    CipherSuite(String),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Parse a PEM chain and key into what rustls serves. The key never leaves this function in
/// printable form.
pub fn certified_key(
    provider: &CryptoProvider,
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsError::CertPem)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(TlsError::KeyPem)?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(TlsError::Key)?;
    let ck = CertifiedKey::new(chain, signing_key);
    match ck.keys_match() {
        Ok(()) => Ok(ck),
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::KeyMismatch),
        // Key types rustls cannot check (unknown SPKI) are accepted as-is.
        Err(_) => Ok(ck),
    }
}

/// The serving certificate, replaceable at any time; new handshakes use the newest one.
#[derive(Debug, Default)]
pub struct SwappableCert {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl SwappableCert {
    pub fn set(&self, key: CertifiedKey) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(key));
    }

    pub fn is_set(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}

impl ResolvesServerCert for SwappableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The crypto provider honouring `--tls-cipher-suites` (Go names, e.g.
/// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`; TLS 1.3 suites are always enabled, as in Go).
pub fn provider(cipher_suites: &[String]) -> Result<CryptoProvider, TlsError> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if cipher_suites.is_empty() {
        return Ok(provider);
    }
    let mut chosen = Vec::new();
    for name in cipher_suites {
        let suite = provider
            .cipher_suites
            .iter()
            .find(|s| go_name(s.suite()) == Some(name.as_str()))
            .ok_or_else(|| TlsError::CipherSuite(name.clone()))?;
        chosen.push(*suite);
    }
    chosen.extend(
        provider
            .cipher_suites
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS13),
    );
    provider.cipher_suites = chosen;
    Ok(provider)
}

/// Go's crypto/tls name of a TLS 1.2 suite rustls implements.
fn go_name(suite: rustls::CipherSuite) -> Option<&'static str> {
    use rustls::CipherSuite as S;
    Some(match suite {
        S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        }
        S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => {
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        }
        _ => return None,
    })
}

/// A server config (TLS 1.2 or 1.3 minimum) serving whatever `cert` holds.
pub fn server_config(
    provider: CryptoProvider,
    min_version: &str,
    cert: Arc<SwappableCert>,
) -> Result<rustls::ServerConfig, TlsError> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match min_version {
        "" | "VersionTLS12" => &[&rustls::version::TLS13, &rustls::version::TLS12],
        "VersionTLS13" => &[&rustls::version::TLS13],
        other => return Err(TlsError::MinVersion(other.to_owned())),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serve `app` over HTTPS on `listener` until the task is dropped.
pub async fn serve_https(listener: TcpListener, config: rustls::ServerConfig, app: axum::Router) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move { serve_connection(acceptor, tcp, peer, app).await });
    }
}

async fn serve_connection(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    app: axum::Router,
) {
    // A client that never finishes its handshake must not hold a task forever.
    let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp));
    let tls = match handshake.await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let service = hyper_util::service::TowerToHyperService::new(app);
    let io = hyper_util::rt::TokioIo::new(tls);
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

//! The Vault (and OpenBao) client of the Vault issuer, as cert-manager's `internal/vault`:
//! it trusts the issuer's CA bundle, logs in with the configured auth method (a token from a
//! Secret, AppRole, or Kubernetes auth with a Secret's JWT or a fresh ServiceAccount token),
//! checks `sys/health`, and posts CSRs to the PKI `sign` endpoint of `spec.vault.path`.
//!
//! Like cert-manager, a client is built (and logs in) for each Setup and each signing: a revoked
//! AppRole secret ID or a rotated token Secret takes effect at once. Tokens, secret IDs and
//! JWTs never appear in errors, logs or `Debug` output.

mod auth;
mod sign;
mod transport;

use std::time::Duration;

use api::GoDuration;
use api::vault::VaultIssuer;

pub use self::transport::ApiError;
use self::transport::{Connection, Token};
use crate::context::Context;
use crate::secrets::SecretReadError;

/// How long one request to Vault may take (the Vault Go client's default).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why talking to Vault failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A referenced Secret does not exist (cert-manager reports this as "SecretMissing").
    #[error("secret \"{name}\" not found")]
    SecretNotFound { namespace: String, name: String },
    /// A referenced Secret could not be read.
    #[error(transparent)]
    SecretRead(#[from] SecretReadError),
    /// Configuration that cannot work until the issuer changes: not retried.
    #[error("{0}")]
    InvalidData(String),
    /// Vault answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Anything else (network, TLS, unexpected answers, Secret contents): retried.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// `context: self`, keeping the kind (cert-manager wraps errors with `%w`).
    fn context(self, context: &str) -> Self {
        match self {
            Self::InvalidData(m) => Self::InvalidData(format!("{context}: {m}")),
            Self::Other(m) => Self::Other(format!("{context}: {m}")),
            Self::Api(e) => Self::Other(format!("{context}: {e}")),
            Self::SecretRead(e) => Self::Other(format!("{context}: {e}")),
            not_found @ Self::SecretNotFound { .. } => not_found,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::SecretNotFound { .. })
    }

    pub fn is_invalid_data(&self) -> bool {
        matches!(self, Self::InvalidData(_))
    }
}

/// The issuer a client is built for.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub spec: &'a VaultIssuer,
    /// The issuer's namespace; `None` for a ClusterIssuer.
    pub issuer_namespace: Option<&'a str>,
    pub issuer_name: &'a str,
    /// Where its Secrets and ServiceAccount live (the cluster resource namespace for a
    /// ClusterIssuer).
    pub resource_namespace: &'a str,
}

/// A logged-in client.
#[derive(Debug)]
pub struct Client {
    conn: Connection,
    token: Token,
    /// `spec.vault.path`, the PKI sign endpoint.
    path: String,
}

impl Client {
    /// Connects to `target`'s Vault and logs in with its auth method.
    pub async fn connect(ctx: &Context, target: &Target<'_>) -> Result<Self, Error> {
        let ca_bundle = auth::ca_bundle(ctx, target)
            .await
            .map_err(|e| e.context("failed to load vault CA bundle"))?;
        unsupported_tls_options(target.spec)?;
        let conn = Connection::new(
            &target.spec.server,
            target.spec.namespace.as_deref(),
            ca_bundle,
            REQUEST_TIMEOUT,
        )?;
        let token = auth::login(ctx, &conn, target).await?;
        Ok(Self {
            conn,
            token,
            path: target.spec.path.clone(),
        })
    }

    /// cert-manager's `IsVaultInitializedAndUnsealed`: `GET /v1/sys/health` (unauthenticated,
    /// without the namespace header); standbys count as healthy.
    pub async fn check_health(&self) -> Result<(), Error> {
        self.conn.check_health().await
    }

    /// Signs `csr_pem` for `duration`; returns `(chain, ca)` PEM as cert-manager stores them.
    pub async fn sign(
        &self,
        csr_pem: &[u8],
        duration: GoDuration,
    ) -> Result<(String, String), Error> {
        sign::sign(&self.conn, &self.token, &self.path, csr_pem, duration).await
    }
}

/// Options of the Vault issuer this client cannot honour yet (its HTTP client has no TLS
/// client certificates and no server-name override): a clear error instead of silently
/// connecting differently than configured.
fn unsupported_tls_options(spec: &VaultIssuer) -> Result<(), Error> {
    let unsupported = |what: &str| {
        Err(Error::InvalidData(format!(
            "{what} is not supported by cert-manager-rs yet"
        )))
    };
    if spec.client_cert_secret_ref.is_some() || spec.client_key_secret_ref.is_some() {
        return unsupported("mutual TLS (clientCertSecretRef, clientKeySecretRef)");
    }
    if spec.server_name.as_deref().is_some_and(|s| !s.is_empty()) {
        return unsupported("serverName");
    }
    Ok(())
}

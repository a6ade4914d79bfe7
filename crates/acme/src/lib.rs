//! An RFC 8555 (ACME) client for cert-manager-rs's ACME issuer.
//!
//! Why our own client: cert-manager's account keys are RSA-2048 (PKCS#1 PEM in the Secret
//! named by `spec.acme.privateKeySecretRef`, key `tls.key`) and must keep working, and
//! instant-acme signs with ECDSA P-256 only. This crate signs RS256 for RSA keys and
//! ES256/ES384/ES512 for ECDSA keys, with keys loaded by `pki` and signatures from aws-lc-rs.
//!
//! ```no_run
//! # async fn t(pem: &[u8], csr_der: &[u8]) -> Result<(), acme::Error> {
//! use acme::{AccountKey, Client, NewOrder};
//! let client = Client::new(
//!     "https://acme-staging-v02.api.letsencrypt.org/directory",
//!     httpclient::Trust::system(),
//!     AccountKey::from_pem(pem)?,
//! )?;
//! let account = client.register(Some("ops@example.com"), None, true).await?;
//! let order = client.new_order(&NewOrder::new(&["example.com"], &[])).await?;
//! for url in &order.authorizations {
//!     let authz = client.get_authorization(url).await?;
//!     let challenge = authz.challenge("http-01").unwrap();
//!     // serve client.http01_response(&challenge.token) at
//!     // http://example.com/.well-known/acme-challenge/<token>, then:
//!     client.accept_challenge(&challenge.url).await?;
//! }
//! let order = client.wait_order(&order.url, std::time::Duration::from_secs(60)).await?;
//! client.finalize(&order.finalize, csr_der).await?;
//! let order = client.wait_order(&order.url, std::time::Duration::from_secs(60)).await?;
//! let chain = client.certificate_chain(order.certificate.as_deref().unwrap()).await?;
//! # let _ = (account, chain); Ok(()) }
//! ```
//!
//! Behaviour:
//! * The directory is fetched once per [`Client`]; nonces come from every answer's
//!   `Replay-Nonce` (a `HEAD newNonce` only when none is left).
//! * `badNonce` answers are retried with the fresh nonce they carry, up to
//!   [`ClientOptions::bad_nonce_retries`] times (cert-manager's retry budget); nothing else is
//!   retried: like cert-manager, the controller decides (see [`Error::is_transient`],
//!   [`Error::retry_after`]).
//! * Error answers become [`Error::Problem`] with the server's RFC 7807 document
//!   ([`Problem`]); answers without one get a synthetic Problem with the HTTP status.
//! * A request signed with an account URL the server does not know
//!   (`accountDoesNotExist`, e.g. after the CA lost its state) makes the client forget that
//!   URL; [`Client::register`] creates the account afresh.
//! * Metrics: see [`Metrics`] (cert-manager's names and labels).
//! * Nothing secret is logged: requests are logged (debug) with action, method, URL and
//!   status only; `Debug` of keys and EAB shows no key material.

mod b64;
mod client;
mod eab;
mod error;
mod jws;
mod key;
mod metrics;
mod problem;
mod response;
mod types;

pub use client::{Client, ClientOptions, DEFAULT_BAD_NONCE_RETRIES, DEFAULT_TIMEOUT};
pub use eab::{EabAlgorithm, ExternalAccountBinding};
pub use error::Error;
pub use key::AccountKey;
pub use metrics::Metrics;
pub use problem::{ACME_ERROR_PREFIX, Problem, Subproblem};
pub use types::{
    Account, Authorization, CertificateChain, Challenge, Directory, DirectoryMeta, Identifier,
    NewOrder, Order, Status,
};

/// Re-exported so callers need no direct dependency for [`Client::new`].
pub use httpclient::Trust;

//! CertificateRequest controllers: the built-in approver and the signers of the SelfSigned, CA,
//! Vault and ACME issuers (cert-manager's `certificaterequests-*` controllers).

pub mod acme;
pub mod approver;
pub mod ca;
pub mod conditions;
pub mod selfsigned;
pub mod sync;
pub mod vault;

/// Annotation naming the Secret that holds the request's private key (self-signed issuance).
pub const PRIVATE_KEY_SECRET_ANNOTATION: &str = "cert-manager.io/private-key-secret-name";

//! The certificates pipeline (cert-manager's `pkg/controller/certificates`): six controllers,
//! each keyed on the Certificate, that together keep `spec.secretName` holding a current key
//! pair. The trigger decides an issuance is due (`Issuing=True`), the key manager prepares the
//! next private key, the request manager creates the CertificateRequest for the next revision,
//! issuing writes the Secret once it is signed, readiness reports `Ready`, and the revision
//! manager garbage-collects old requests.

pub mod issuing;
pub mod keymanager;
pub mod keystores;
pub mod managedfields;
pub mod metrics;
pub mod policy;
pub mod postissuance;
pub mod readiness;
pub mod requestmanager;
pub mod revisionmanager;
pub mod spec;
pub mod status;
pub mod temporary;
pub mod trigger;
pub mod watch;

/// Annotations cert-manager puts on CertificateRequests and issued Secrets.
pub mod annotations {
    pub const CERTIFICATE_NAME: &str = "cert-manager.io/certificate-name";
    pub const REVISION: &str = "cert-manager.io/certificate-revision";
    pub const PRIVATE_KEY_SECRET_NAME: &str = "cert-manager.io/private-key-secret-name";
    pub const ISSUER_NAME: &str = "cert-manager.io/issuer-name";
    pub const ISSUER_KIND: &str = "cert-manager.io/issuer-kind";
    pub const ISSUER_GROUP: &str = "cert-manager.io/issuer-group";
    pub const COMMON_NAME: &str = "cert-manager.io/common-name";
    pub const ALT_NAMES: &str = "cert-manager.io/alt-names";
    pub const IP_SANS: &str = "cert-manager.io/ip-sans";
    pub const URI_SANS: &str = "cert-manager.io/uri-sans";
    pub const EMAIL_SANS: &str = "cert-manager.io/email-sans";
    /// Label of next-private-key Secrets.
    pub const NEXT_PRIVATE_KEY_LABEL: &str = "cert-manager.io/next-private-key";
}

/// Secret data keys.
pub const TLS_CRT: &str = "tls.crt";
pub const TLS_KEY: &str = "tls.key";
pub const CA_CRT: &str = "ca.crt";

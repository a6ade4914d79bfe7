//! The crate's error type.
//!
//! Messages name what is wrong but never carry key material: only block types,
//! sizes, OIDs and fixed reasons are interpolated.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds no PEM block at all.
    #[error("no PEM data was found in given input")]
    NoPemData,

    /// The input is bigger than the configured PEM size limit.
    #[error("provided PEM data was larger than the maximum {max}B")]
    PemTooLarge {
        /// The limit that was exceeded, in bytes.
        max: usize,
    },

    /// A PEM block could not be decoded.
    #[error("malformed PEM data: {0}")]
    MalformedPem(String),

    /// A private key PEM block of a type we do not handle.
    #[error("unknown private key type: {0}")]
    UnknownPrivateKeyType(String),

    /// A private key that could not be parsed or validated.
    #[error("error parsing {format} private key: {reason}")]
    InvalidPrivateKey {
        /// The encoding being parsed (e.g. `pkcs#8`).
        format: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// A key algorithm, size or curve this crate does not support.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),

    /// A signature algorithm that cannot be used with the key.
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedSignatureAlgorithm(String),

    /// A public key that could not be parsed.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),

    /// An X.509 certificate that could not be parsed.
    #[error("error parsing X.509 certificate: {0}")]
    InvalidCertificate(String),

    /// A PKCS#10 certificate request that could not be parsed.
    #[error("error parsing certificate request: {0}")]
    InvalidCsr(String),

    /// A signature did not verify.
    #[error("signature verification failed: {0}")]
    BadSignature(String),

    /// A subject (structured or RFC 4514 literal) that cannot be encoded.
    #[error("invalid subject: {0}")]
    InvalidSubject(String),

    /// A spec field holds a value that cannot be encoded.
    #[error("invalid {field}: {reason}")]
    InvalidSpec {
        /// The field, named after cert-manager's Certificate spec.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// A CSR extension conflicts with what the request asks for.
    #[error("encoded CSR error: {0}")]
    CsrMismatch(String),

    /// Two keys that should be the same key are not.
    #[error("{0}")]
    KeyMismatch(String),

    /// A certificate chain that cannot be assembled into one chain.
    #[error("{0}")]
    InvalidChain(String),

    /// Building a keystore failed.
    #[error("error encoding {format} keystore: {reason}")]
    Keystore {
        /// `PKCS#12` or `JKS`.
        format: &'static str,
        /// Why it failed.
        reason: String,
    },

    /// DER encoding failed (only on internal inconsistencies or absurd sizes).
    #[error("DER encoding error: {0}")]
    Encoding(String),

    /// The crypto backend reported a failure.
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

impl Error {
    /// True for errors caused by bad input data, as opposed to internal
    /// failures; cert-manager's `errors.IsInvalidData` equivalent.
    pub fn is_invalid_data(&self) -> bool {
        !matches!(self, Error::Encoding(_) | Error::Crypto(_))
    }
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::Encoding(e.to_string())
    }
}

//! X.509 building blocks for cert-manager-rs, behaving like cert-manager's
//! `pkg/util/pki` so that keys, CSRs, certificates and keystores written by
//! either implementation are read identically by the other.
//!
//! * [`keys`]: generate RSA/ECDSA/Ed25519 keys, PKCS#1/SEC 1/PKCS#8 PEM in
//!   and out, public key comparison and fingerprints.
//! * [`csr`]: build a CSR from a [`CsrSpec`], parse one back and verify it.
//! * [`sign`]: certificate templates, CA and self-signed issuance.
//! * [`parse`]: parsed certificates and spec matching.
//! * [`chain`]: chain ordering (`ParseSingleCertificateChain`) and CA bundle
//!   merging for the cainjector.
//! * [`encode`]: `tls-combined.pem`, `key.der`, PKCS#12 and JKS stores.
//!
//! Crypto is aws-lc-rs; parsing is x509-parser; DER is assembled with the
//! encoding-only `der`/`pkcs1`/`pkcs8`/`sec1` crates. Private key material
//! never appears in `Debug` output or error messages.
//!
//! Certificates and CSRs are not built with rcgen: its distinguished names
//! are a map keyed by attribute type (no repeated O/OU/DC, no multi-valued
//! RDNs, CA subjects re-encoded rather than copied), it adds an SKI to every
//! certificate with BasicConstraints, always marks name constraints critical
//! and has no AIA. Go's encodings are reproduced instead (see the parity
//! tests against certificates issued by Go cert-manager).
//!
//! Known differences from cert-manager:
//! * RSA keys can be generated at 2048, 3072, 4096 and 8192 bits only (Go
//!   accepts any size in 2048..=8192).
//! * An explicit ECDSA `signatureAlgorithm` must be one aws-lc-rs signs
//!   with: P-256/SHA-256, P-384/SHA-384, P-521 with SHA-256/384/512.
//! * [`ParsedCsr::matches_spec`] covers the CSR-derived fields of
//!   `RequestMatchesSpec`; isCA, usages, duration and issuerRef live on the
//!   CertificateRequest object and are compared by the caller. otherNames
//!   are compared when the spec lists any (Go: when the list is non-nil).
//! * URIs are compared as written (Go re-serialises them through `net/url`).
//! * PKCS#12 and JKS details: see [`encode::pkcs12`] and [`encode::jks`].
//! * Parsing is somewhat more lenient than Go's (e.g. invalid characters in a
//!   PrintableString are accepted), while malformed PEM blocks are errors
//!   rather than silently skipped.

mod asn1;
pub mod chain;
pub mod csr;
pub mod encode;
mod error;
mod ext;
pub mod keys;
mod oid;
pub mod parse;
mod pem_codec;
pub mod sign;
pub mod signature;
mod spec;
pub mod subject;
pub mod usages;

pub use chain::{
    PemBundle, append_certificates_to_bundle, decode_certificate_chain, decode_certificate_set,
    parse_single_certificate_chain, parse_single_certificate_chain_pem,
};
pub use csr::{CertificateRequest, ParsedCsr, create_csr};
pub use error::{Error, Result};
pub use keys::{EcCurve, KeyAlgorithm, KeyEncoding, KeyType, PrivateKey, PublicKey, PublicKeyKind};
pub use parse::ParsedCertificate;
pub use pem_codec::SizeLimits;
pub use sign::{
    CertificateTemplate, DEFAULT_CERT_DURATION, IssuedCertificate, Issuer, RequestOverrides,
    self_sign, temporary_certificate,
};
pub use signature::SignatureAlgorithm;
pub use spec::{
    BasicConstraints, CsrSpec, NameConstraintItems, NameConstraints, OtherName, parse_ip_addresses,
};
pub use subject::Subject;
pub use usages::{ExtKeyUsage, KeyUsages, Usage, key_usages_for, parse_usages};

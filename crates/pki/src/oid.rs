//! Object identifiers used across the crate.

use der::asn1::ObjectIdentifier as Oid;

// Public key algorithms and curves.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");

// Signature algorithms.
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

// Certificate and CSR extensions.
pub const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
pub const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
pub const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
pub const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
pub const AD_CA_ISSUERS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.2");
pub const EXTENSION_REQUEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.14");

// Distinguished name attribute types.
pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
pub const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
pub const COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
pub const LOCALITY: Oid = Oid::new_unwrap("2.5.4.7");
pub const PROVINCE: Oid = Oid::new_unwrap("2.5.4.8");
pub const STREET_ADDRESS: Oid = Oid::new_unwrap("2.5.4.9");
pub const ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
pub const ORGANIZATIONAL_UNIT: Oid = Oid::new_unwrap("2.5.4.11");
pub const POSTAL_CODE: Oid = Oid::new_unwrap("2.5.4.17");
pub const DOMAIN_COMPONENT: Oid = Oid::new_unwrap("0.9.2342.19200300.100.1.25");
pub const USER_ID: Oid = Oid::new_unwrap("0.9.2342.19200300.100.1.1");

// Sun's proprietary JKS key protection algorithm.
pub const JKS_KEY_PROTECTOR: Oid = Oid::new_unwrap("1.3.6.1.4.1.42.2.17.1.1");

/// Converts an x509-parser OID into ours (both are plain DER arcs).
pub(crate) fn from_parser(oid: &x509_parser::der_parser::oid::Oid<'_>) -> Option<Oid> {
    Oid::from_bytes(oid.as_bytes()).ok()
}

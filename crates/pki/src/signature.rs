//! Signature algorithms: choosing one like Go does, and verifying signatures.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::signature::{self as lc, EcdsaSigningAlgorithm, RsaEncoding, VerificationAlgorithm};
use der::asn1::ObjectIdentifier;

use crate::error::{Error, Result};
use crate::keys::{EcCurve, KeyType, PublicKey, PublicKeyKind};
use crate::{asn1, oid};

/// `spec.signatureAlgorithm` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// `SHA256WithRSA`.
    Sha256WithRsa,
    /// `SHA384WithRSA`.
    Sha384WithRsa,
    /// `SHA512WithRSA`.
    Sha512WithRsa,
    /// `ECDSAWithSHA256`.
    EcdsaWithSha256,
    /// `ECDSAWithSHA384`.
    EcdsaWithSha384,
    /// `ECDSAWithSHA512`.
    EcdsaWithSha512,
    /// `PureEd25519`.
    PureEd25519,
}

impl SignatureAlgorithm {
    /// Go's `signatureAlgorithmFromPublicKey`: SHA-512 for RSA >= 4096 bits,
    /// SHA-384 for >= 3072, else SHA-256; ECDSA hash by curve.
    pub fn default_for(key_type: KeyType) -> Self {
        match key_type {
            KeyType::Rsa(bits) if bits >= 4096 => SignatureAlgorithm::Sha512WithRsa,
            KeyType::Rsa(bits) if bits >= 3072 => SignatureAlgorithm::Sha384WithRsa,
            KeyType::Rsa(_) => SignatureAlgorithm::Sha256WithRsa,
            KeyType::Ecdsa(EcCurve::P256) => SignatureAlgorithm::EcdsaWithSha256,
            KeyType::Ecdsa(EcCurve::P384) => SignatureAlgorithm::EcdsaWithSha384,
            KeyType::Ecdsa(EcCurve::P521) => SignatureAlgorithm::EcdsaWithSha512,
            KeyType::Ed25519 => SignatureAlgorithm::PureEd25519,
        }
    }

    /// The cert-manager API name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureAlgorithm::Sha256WithRsa => "SHA256WithRSA",
            SignatureAlgorithm::Sha384WithRsa => "SHA384WithRSA",
            SignatureAlgorithm::Sha512WithRsa => "SHA512WithRSA",
            SignatureAlgorithm::EcdsaWithSha256 => "ECDSAWithSHA256",
            SignatureAlgorithm::EcdsaWithSha384 => "ECDSAWithSHA384",
            SignatureAlgorithm::EcdsaWithSha512 => "ECDSAWithSHA512",
            SignatureAlgorithm::PureEd25519 => "PureEd25519",
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            SignatureAlgorithm::Sha256WithRsa => oid::SHA256_WITH_RSA,
            SignatureAlgorithm::Sha384WithRsa => oid::SHA384_WITH_RSA,
            SignatureAlgorithm::Sha512WithRsa => oid::SHA512_WITH_RSA,
            SignatureAlgorithm::EcdsaWithSha256 => oid::ECDSA_WITH_SHA256,
            SignatureAlgorithm::EcdsaWithSha384 => oid::ECDSA_WITH_SHA384,
            SignatureAlgorithm::EcdsaWithSha512 => oid::ECDSA_WITH_SHA512,
            SignatureAlgorithm::PureEd25519 => oid::ED25519,
        }
    }

    /// DER AlgorithmIdentifier; RSA carries an explicit NULL like Go emits.
    pub(crate) fn algorithm_identifier(self) -> Result<Vec<u8>> {
        let null = asn1::null();
        let params = self.rsa_padding().is_some().then_some(null.as_slice());
        asn1::algorithm_identifier(&self.oid(), params)
    }

    pub(crate) fn rsa_padding(self) -> Option<&'static dyn RsaEncoding> {
        match self {
            SignatureAlgorithm::Sha256WithRsa => Some(&lc::RSA_PKCS1_SHA256),
            SignatureAlgorithm::Sha384WithRsa => Some(&lc::RSA_PKCS1_SHA384),
            SignatureAlgorithm::Sha512WithRsa => Some(&lc::RSA_PKCS1_SHA512),
            _ => None,
        }
    }

    /// The aws-lc-rs signer for this hash on `curve`, where one exists.
    pub(crate) fn ecdsa_signing(self, curve: EcCurve) -> Option<&'static EcdsaSigningAlgorithm> {
        use SignatureAlgorithm::*;
        match (curve, self) {
            (EcCurve::P256, EcdsaWithSha256) => Some(&lc::ECDSA_P256_SHA256_ASN1_SIGNING),
            (EcCurve::P384, EcdsaWithSha384) => Some(&lc::ECDSA_P384_SHA384_ASN1_SIGNING),
            (EcCurve::P521, EcdsaWithSha256) => Some(&lc::ECDSA_P521_SHA256_ASN1_SIGNING),
            (EcCurve::P521, EcdsaWithSha384) => Some(&lc::ECDSA_P521_SHA384_ASN1_SIGNING),
            (EcCurve::P521, EcdsaWithSha512) => Some(&lc::ECDSA_P521_SHA512_ASN1_SIGNING),
            _ => None,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        use SignatureAlgorithm::*;
        [
            Sha256WithRsa,
            Sha384WithRsa,
            Sha512WithRsa,
            EcdsaWithSha256,
            EcdsaWithSha384,
            EcdsaWithSha512,
            PureEd25519,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| Error::UnsupportedSignatureAlgorithm(s.to_string()))
    }
}

/// Whether SHA-1 signatures are acceptable. Go accepts them on CSRs but not
/// when checking one certificate against another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sha1 {
    Allow,
    Reject,
}

/// Verifies `signature` over `signed` by `signer`, given the signature
/// AlgorithmIdentifier (OID plus the contents of its parameters).
pub(crate) fn verify(
    signer: &PublicKey,
    algorithm: &ObjectIdentifier,
    params: Option<&[u8]>,
    signature: &[u8],
    signed: &[u8],
    sha1: Sha1,
) -> Result<()> {
    let verifier = verification_algorithm(signer.kind(), algorithm, params, sha1)?;
    lc::UnparsedPublicKey::new(verifier, signer.raw())
        .verify(signed, signature)
        .map_err(|_| {
            Error::BadSignature("signature does not verify with the signer's public key".into())
        })
}

fn verification_algorithm(
    kind: PublicKeyKind,
    algorithm: &ObjectIdentifier,
    params: Option<&[u8]>,
    sha1: Sha1,
) -> Result<&'static dyn VerificationAlgorithm> {
    let unsupported = || {
        Error::BadSignature(format!(
            "signature algorithm {algorithm} is not supported for a {kind:?} key"
        ))
    };
    let alg: &'static dyn VerificationAlgorithm = match (kind, *algorithm) {
        (PublicKeyKind::Rsa { .. }, oid::SHA1_WITH_RSA) if sha1 == Sha1::Allow => {
            &lc::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        // Go verifies RSA keys from 1024 bits up; keep the same floor.
        (PublicKeyKind::Rsa { .. }, oid::SHA256_WITH_RSA) => {
            &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        (PublicKeyKind::Rsa { .. }, oid::SHA384_WITH_RSA) => &lc::RSA_PKCS1_2048_8192_SHA384,
        (PublicKeyKind::Rsa { .. }, oid::SHA512_WITH_RSA) => {
            &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        (PublicKeyKind::Rsa { .. }, oid::RSASSA_PSS) => rsa_pss(params).ok_or_else(unsupported)?,
        (PublicKeyKind::Ecdsa(curve), alg) => ecdsa(curve, alg, sha1).ok_or_else(unsupported)?,
        (PublicKeyKind::Ed25519, oid::ED25519) => &lc::ED25519,
        _ => return Err(unsupported()),
    };
    Ok(alg)
}

fn ecdsa(
    curve: EcCurve,
    algorithm: ObjectIdentifier,
    sha1: Sha1,
) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match (curve, algorithm) {
        (EcCurve::P256, oid::ECDSA_WITH_SHA1) if sha1 == Sha1::Allow => &lc::ECDSA_P256_SHA1_ASN1,
        (EcCurve::P521, oid::ECDSA_WITH_SHA1) if sha1 == Sha1::Allow => &lc::ECDSA_P521_SHA1_ASN1,
        (EcCurve::P256, oid::ECDSA_WITH_SHA256) => &lc::ECDSA_P256_SHA256_ASN1,
        (EcCurve::P256, oid::ECDSA_WITH_SHA384) => &lc::ECDSA_P256_SHA384_ASN1,
        (EcCurve::P256, oid::ECDSA_WITH_SHA512) => &lc::ECDSA_P256_SHA512_ASN1,
        (EcCurve::P384, oid::ECDSA_WITH_SHA256) => &lc::ECDSA_P384_SHA256_ASN1,
        (EcCurve::P384, oid::ECDSA_WITH_SHA384) => &lc::ECDSA_P384_SHA384_ASN1,
        (EcCurve::P384, oid::ECDSA_WITH_SHA512) => &lc::ECDSA_P384_SHA512_ASN1,
        (EcCurve::P521, oid::ECDSA_WITH_SHA256) => &lc::ECDSA_P521_SHA256_ASN1,
        (EcCurve::P521, oid::ECDSA_WITH_SHA384) => &lc::ECDSA_P521_SHA384_ASN1,
        (EcCurve::P521, oid::ECDSA_WITH_SHA512) => &lc::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

/// RSASSA-PSS with the hash named in the parameters (Go supports
/// SHA-256/384/512 with MGF1 of the same hash).
fn rsa_pss(params: Option<&[u8]>) -> Option<&'static dyn VerificationAlgorithm> {
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier, ... }
    let (tag, hash_wrapper, _) = asn1::read_tlv(params?)?;
    if tag != 0xa0 {
        return None;
    }
    let (_, hash_alg, _) = asn1::read_tlv(hash_wrapper)?;
    let (_, hash_oid, _) = asn1::read_tlv(hash_alg)?;
    let hash = ObjectIdentifier::from_bytes(hash_oid).ok()?;
    Some(match hash {
        oid::SHA256 => &lc::RSA_PSS_2048_8192_SHA256,
        oid::SHA384 => &lc::RSA_PSS_2048_8192_SHA384,
        oid::SHA512 => &lc::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_go() {
        use SignatureAlgorithm::*;
        assert_eq!(
            SignatureAlgorithm::default_for(KeyType::Rsa(2048)),
            Sha256WithRsa
        );
        assert_eq!(
            SignatureAlgorithm::default_for(KeyType::Rsa(3072)),
            Sha384WithRsa
        );
        assert_eq!(
            SignatureAlgorithm::default_for(KeyType::Rsa(8192)),
            Sha512WithRsa
        );
        assert_eq!(
            SignatureAlgorithm::default_for(KeyType::Ecdsa(EcCurve::P521)),
            EcdsaWithSha512
        );
        assert_eq!(
            "PureEd25519".parse::<SignatureAlgorithm>().unwrap(),
            PureEd25519
        );
        assert!("MD5WithRSA".parse::<SignatureAlgorithm>().is_err());
    }

    #[test]
    fn rsa_identifiers_carry_null() {
        let rsa = SignatureAlgorithm::Sha256WithRsa
            .algorithm_identifier()
            .unwrap();
        assert!(rsa.ends_with(&[0x05, 0x00]));
        let ec = SignatureAlgorithm::EcdsaWithSha256
            .algorithm_identifier()
            .unwrap();
        assert!(!ec.ends_with(&[0x05, 0x00]));
    }
}

//! Account keys: JWS signatures (RS256 for RSA, ES256/ES384/ES512 for ECDSA), the public JWK,
//! its RFC 7638 thumbprint and the challenge values derived from it.
//!
//! cert-manager generates RSA-2048 account keys (PKCS#1 PEM in the Secret's `tls.key`), and
//! keys written by hand may be PKCS#8 or ECDSA: all of them load through `pki`'s parser and
//! sign with aws-lc-rs.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use pki::{EcCurve, KeyType, PrivateKey};

use crate::Error;
use crate::b64;

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

struct Inner {
    signer: Signer,
    /// JWS `alg`.
    alg: &'static str,
    /// The public JWK with only the required members, in lexicographic order and without
    /// whitespace: both the `jwk` header value and the RFC 7638 thumbprint input.
    jwk: String,
    /// base64url(SHA-256(jwk)).
    thumbprint: String,
    key_type: KeyType,
}

/// An ACME account key. Cheap to clone; `Debug` shows the key type and thumbprint only.
#[derive(Clone)]
pub struct AccountKey {
    inner: Arc<Inner>,
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountKey")
            .field("type", &self.inner.key_type.to_string())
            .field("thumbprint", &self.inner.thumbprint)
            .finish_non_exhaustive()
    }
}

fn key_error(reason: impl fmt::Display) -> Error {
    Error::AccountKey(reason.to_string())
}

impl AccountKey {
    /// Loads a PEM private key: `RSA PRIVATE KEY` (PKCS#1, what cert-manager writes),
    /// `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC 1).
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = PrivateKey::from_pem(pem).map_err(key_error)?;
        Self::from_private_key(&key)
    }

    /// Uses a key parsed (or generated) by `pki`. RSA keys of any size aws-lc-rs accepts
    /// (2048 bits and more) and ECDSA P-256/P-384/P-521 keys are supported.
    pub fn from_private_key(key: &PrivateKey) -> Result<Self, Error> {
        let key_type = key.key_type();
        let (signer, alg, jwk) = match key_type {
            KeyType::Rsa(_) => {
                let der = key.to_pkcs1_der().map_err(key_error)?;
                let pair = RsaKeyPair::from_der(&der).map_err(key_error)?;
                let public = pair.public_key();
                let jwk = rsa_jwk(
                    public.modulus().big_endian_without_leading_zero(),
                    public.exponent().big_endian_without_leading_zero(),
                );
                (Signer::Rsa(pair), "RS256", jwk)
            }
            KeyType::Ecdsa(curve) => {
                let (alg, signing, crv) = match curve {
                    EcCurve::P256 => ("ES256", &lc::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256"),
                    EcCurve::P384 => ("ES384", &lc::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384"),
                    EcCurve::P521 => ("ES512", &lc::ECDSA_P521_SHA512_FIXED_SIGNING, "P-521"),
                };
                let der = key.to_sec1_der().map_err(key_error)?;
                let pair = EcdsaKeyPair::from_private_key_der(signing, &der).map_err(key_error)?;
                let jwk = ec_jwk(crv, pair.public_key().as_ref())?;
                (Signer::Ec(pair), alg, jwk)
            }
            KeyType::Ed25519 => {
                return Err(key_error(
                    "Ed25519 account keys are not supported (use RSA or ECDSA)",
                ));
            }
        };
        let thumbprint = b64::encode(sha256(jwk.as_bytes()));
        Ok(Self {
            inner: Arc::new(Inner {
                signer,
                alg,
                jwk,
                thumbprint,
                key_type,
            }),
        })
    }

    /// The JWS algorithm: `RS256`, `ES256`, `ES384` or `ES512`.
    pub fn algorithm(&self) -> &'static str {
        self.inner.alg
    }

    /// The key's type and size.
    pub fn key_type(&self) -> KeyType {
        self.inner.key_type
    }

    /// The public key as a JWK (JSON text, required members only).
    pub fn jwk(&self) -> &str {
        &self.inner.jwk
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// The key authorization for a challenge token (RFC 8555 §8.1): what an HTTP-01 solver
    /// serves at `/.well-known/acme-challenge/<token>`.
    pub fn key_authorization(&self, token: &str) -> String {
        format!("{token}.{}", self.inner.thumbprint)
    }

    /// The DNS-01 TXT record value for a token (RFC 8555 §8.4):
    /// base64url(SHA-256(key authorization)).
    pub fn dns01_value(&self, token: &str) -> String {
        b64::encode(sha256(self.key_authorization(token).as_bytes()))
    }

    /// Signs `message` (the JWS signing input) with the key's JWS algorithm. ECDSA
    /// signatures are the fixed-size `r || s` form JWS requires.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        match &self.inner.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&lc::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| key_error("RSA signing failed"))?;
                Ok(signature)
            }
            Signer::Ec(pair) => pair
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| key_error("ECDSA signing failed")),
        }
    }
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// RFC 7638 §3.2: members `e`, `kty`, `n` in this order, no whitespace.
fn rsa_jwk(modulus: &[u8], exponent: &[u8]) -> String {
    format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        b64::encode(exponent),
        b64::encode(modulus)
    )
}

/// RFC 7638 §3.2: members `crv`, `kty`, `x`, `y`; coordinates are full field-size octets.
fn ec_jwk(crv: &str, point: &[u8]) -> Result<String, Error> {
    let coordinates = point
        .strip_prefix(&[0x04])
        .filter(|c| !c.is_empty() && c.len() % 2 == 0)
        .ok_or_else(|| key_error("ECDSA public key is not an uncompressed point"))?;
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    Ok(format!(
        r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
        b64::encode(x),
        b64::encode(y)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = rsa_jwk(&b64::decode(n).unwrap(), &b64::decode("AQAB").unwrap());
        assert_eq!(
            b64::encode(sha256(jwk.as_bytes())),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rsa_and_ecdsa_keys_load_from_every_pem_encoding() {
        for key_type in [
            KeyType::Rsa(2048),
            KeyType::Ecdsa(EcCurve::P256),
            KeyType::Ecdsa(EcCurve::P384),
        ] {
            let key = PrivateKey::generate(key_type).unwrap();
            let a = AccountKey::from_pem(key.to_pem(pki::KeyEncoding::Pkcs1).unwrap().as_bytes())
                .unwrap();
            let b = AccountKey::from_pem(key.to_pem(pki::KeyEncoding::Pkcs8).unwrap().as_bytes())
                .unwrap();
            assert_eq!(a.thumbprint(), b.thumbprint(), "{key_type}");
            assert_eq!(a.jwk(), b.jwk());
            let jwk: serde_json::Value = serde_json::from_str(a.jwk()).unwrap();
            match key_type {
                KeyType::Rsa(_) => {
                    assert_eq!(a.algorithm(), "RS256");
                    assert_eq!(jwk["e"], "AQAB");
                    assert_eq!(b64::decode(jwk["n"].as_str().unwrap()).unwrap().len(), 256);
                }
                _ => {
                    assert!(a.algorithm().starts_with("ES"));
                    assert_eq!(jwk["kty"], "EC");
                }
            }
        }
    }

    #[test]
    fn ed25519_and_garbage_are_refused_with_a_clear_error() {
        let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let err = AccountKey::from_private_key(&key).unwrap_err();
        assert!(err.to_string().contains("Ed25519"), "{err}");
        let err = AccountKey::from_pem(b"not a key").unwrap_err();
        assert!(err.to_string().starts_with("account key:"), "{err}");
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
        let account = AccountKey::from_private_key(&key).unwrap();
        let debug = format!("{account:?}");
        assert!(debug.contains(account.thumbprint()));
        assert!(!debug.contains(&account.jwk()[..20]));
    }

    #[test]
    fn challenge_values() {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
        let account = AccountKey::from_private_key(&key).unwrap();
        let ka = account.key_authorization("tok");
        assert_eq!(ka, format!("tok.{}", account.thumbprint()));
        let value = account.dns01_value("tok");
        assert_eq!(value, b64::encode(sha256(ka.as_bytes())));
        assert_eq!(value.len(), 43);
    }
}

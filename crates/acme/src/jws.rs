//! JWS in the flattened JSON serialization (RFC 7515 §7.2.2) as RFC 8555 §6.2 requires:
//! protected header only, `jwk` for newAccount and `kid` (the account URL) for everything else.

use serde::Serialize;

use crate::b64;
use crate::{AccountKey, Error};

/// How the request names its signer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signer<'a> {
    /// The account key itself (newAccount, lookups by key).
    Jwk,
    /// An existing account, by URL.
    Kid(&'a str),
}

#[derive(Serialize)]
struct Protected<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwk: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    url: &'a str,
}

/// A flattened JWS object.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct Jws {
    pub(crate) protected: String,
    pub(crate) payload: String,
    pub(crate) signature: String,
}

/// Signs `payload` for `url`. `None` is the empty payload of a POST-as-GET (RFC 8555 §6.3),
/// which is different from `{}`.
pub(crate) fn sign(
    key: &AccountKey,
    signer: Signer<'_>,
    nonce: Option<&str>,
    url: &str,
    payload: Option<&[u8]>,
) -> Result<Jws, Error> {
    let (jwk, kid) = match signer {
        Signer::Jwk => (
            Some(serde_json::from_str(key.jwk()).map_err(|e| Error::AccountKey(e.to_string()))?),
            None,
        ),
        Signer::Kid(kid) => (None, Some(kid)),
    };
    let header = Protected {
        alg: key.algorithm(),
        jwk,
        kid,
        nonce,
        url,
    };
    let protected = b64::encode(serde_json::to_vec(&header).map_err(Error::encode)?);
    let payload = payload.map(b64::encode).unwrap_or_default();
    let signature = b64::encode(key.sign(format!("{protected}.{payload}").as_bytes())?);
    Ok(Jws {
        protected,
        payload,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, RSA_PKCS1_2048_8192_SHA256,
        RsaPublicKeyComponents, UnparsedPublicKey,
    };
    use pki::{EcCurve, KeyType, PrivateKey};

    fn header(jws: &Jws) -> serde_json::Value {
        serde_json::from_slice(&b64::decode(&jws.protected).unwrap()).unwrap()
    }

    fn component(jwk: &serde_json::Value, name: &str) -> Vec<u8> {
        b64::decode(jwk[name].as_str().unwrap()).unwrap()
    }

    /// Verifies a JWS with aws-lc-rs from nothing but the JWK in its header.
    fn verify(jws: &Jws) {
        let h = header(jws);
        let jwk = &h["jwk"];
        let input = format!("{}.{}", jws.protected, jws.payload);
        let signature = b64::decode(&jws.signature).unwrap();
        match h["alg"].as_str().unwrap() {
            "RS256" => RsaPublicKeyComponents {
                n: component(jwk, "n"),
                e: component(jwk, "e"),
            }
            .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature)
            .expect("RS256 signature verifies"),
            alg @ ("ES256" | "ES384") => {
                let mut point = vec![4u8];
                point.extend(component(jwk, "x"));
                point.extend(component(jwk, "y"));
                let verifier = if alg == "ES256" {
                    &ECDSA_P256_SHA256_FIXED
                } else {
                    &ECDSA_P384_SHA384_FIXED
                };
                UnparsedPublicKey::new(verifier, &point)
                    .verify(input.as_bytes(), &signature)
                    .expect("ECDSA signature verifies");
            }
            other => panic!("unexpected alg {other}"),
        }
    }

    #[test]
    fn signatures_verify_for_rsa_and_ecdsa() {
        for key_type in [
            KeyType::Rsa(2048),
            KeyType::Ecdsa(EcCurve::P256),
            KeyType::Ecdsa(EcCurve::P384),
        ] {
            let key =
                AccountKey::from_private_key(&PrivateKey::generate(key_type).unwrap()).unwrap();
            let jws = sign(
                &key,
                Signer::Jwk,
                Some("n0nce"),
                "https://ca.test/new-acct",
                Some(br#"{"termsOfServiceAgreed":true}"#),
            )
            .unwrap();
            verify(&jws);
            let h = header(&jws);
            assert_eq!(h["nonce"], "n0nce");
            assert_eq!(h["url"], "https://ca.test/new-acct");
            assert!(h.get("kid").is_none());
            if let KeyType::Ecdsa(curve) = key_type {
                // Fixed-size r || s, not DER.
                let len = (curve.bits() as usize).div_ceil(8) * 2;
                assert_eq!(b64::decode(&jws.signature).unwrap().len(), len);
            }
        }
    }

    #[test]
    fn kid_requests_carry_no_jwk_and_post_as_get_has_an_empty_payload() {
        let key = AccountKey::from_private_key(&PrivateKey::generate(KeyType::Rsa(2048)).unwrap())
            .unwrap();
        let jws = sign(
            &key,
            Signer::Kid("https://ca.test/acct/1"),
            Some("n"),
            "https://ca.test/order/1",
            None,
        )
        .unwrap();
        let h = header(&jws);
        assert_eq!(h["kid"], "https://ca.test/acct/1");
        assert!(h.get("jwk").is_none());
        assert_eq!(jws.payload, "");
        let empty_object = sign(
            &key,
            Signer::Kid("k"),
            Some("n"),
            "u",
            Some(b"{}".as_slice()),
        )
        .unwrap();
        assert_eq!(empty_object.payload, "e30");
    }
}

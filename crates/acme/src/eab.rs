//! External Account Binding (RFC 8555 §7.3.4): an HMAC-signed JWS over the account's public
//! JWK, keyed by the CA-issued key ID and MAC key (cert-manager's
//! `spec.acme.externalAccountBinding.keyID` and `keySecretRef`).

use std::fmt;

use aws_lc_rs::hmac;
use serde::Serialize;

use crate::b64;
use crate::jws::Jws;
use crate::{AccountKey, Error};

/// The HMAC algorithm of the binding. cert-manager deprecated `keyAlgorithm` and always
/// uses HS256; HS384/HS512 are here for CAs that ask for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EabAlgorithm {
    /// HMAC-SHA256.
    #[default]
    Hs256,
    /// HMAC-SHA384.
    Hs384,
    /// HMAC-SHA512.
    Hs512,
}

impl EabAlgorithm {
    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            EabAlgorithm::Hs256 => "HS256",
            EabAlgorithm::Hs384 => "HS384",
            EabAlgorithm::Hs512 => "HS512",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            EabAlgorithm::Hs256 => hmac::HMAC_SHA256,
            EabAlgorithm::Hs384 => hmac::HMAC_SHA384,
            EabAlgorithm::Hs512 => hmac::HMAC_SHA512,
        }
    }
}

impl std::str::FromStr for EabAlgorithm {
    type Err = Error;
    /// cert-manager's `keyAlgorithm` values; empty means HS256.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "" | "HS256" => Ok(EabAlgorithm::Hs256),
            "HS384" => Ok(EabAlgorithm::Hs384),
            "HS512" => Ok(EabAlgorithm::Hs512),
            other => Err(Error::InvalidInput {
                field: "externalAccountBinding.keyAlgorithm",
                reason: format!("unknown algorithm {other:?} (HS256, HS384 or HS512)"),
            }),
        }
    }
}

/// An External Account Binding. `Debug` never shows the MAC key.
#[derive(Clone)]
pub struct ExternalAccountBinding {
    key_id: String,
    mac_key: Vec<u8>,
    algorithm: EabAlgorithm,
}

impl fmt::Debug for ExternalAccountBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalAccountBinding")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Drop for ExternalAccountBinding {
    fn drop(&mut self) {
        self.mac_key.fill(0);
    }
}

impl ExternalAccountBinding {
    /// A binding from the raw (already decoded) MAC key.
    pub fn new(
        key_id: impl Into<String>,
        mac_key: Vec<u8>,
        algorithm: EabAlgorithm,
    ) -> Result<Self, Error> {
        let key_id = key_id.into();
        if key_id.is_empty() {
            return Err(Error::InvalidInput {
                field: "externalAccountBinding.keyID",
                reason: "must not be empty".into(),
            });
        }
        if mac_key.is_empty() {
            return Err(Error::InvalidInput {
                field: "externalAccountBinding.keySecretRef",
                reason: "the MAC key is empty".into(),
            });
        }
        Ok(Self {
            key_id,
            mac_key,
            algorithm,
        })
    }

    /// A binding from the base64url MAC key as CAs hand it out and cert-manager stores it in
    /// the Secret referenced by `keySecretRef` (padding tolerated).
    pub fn from_base64url(
        key_id: impl Into<String>,
        encoded_mac_key: &str,
        algorithm: EabAlgorithm,
    ) -> Result<Self, Error> {
        let mac_key = b64::decode(encoded_mac_key).map_err(|e| Error::InvalidInput {
            field: "externalAccountBinding.keySecretRef",
            reason: format!("the MAC key is not valid base64url: {e}"),
        })?;
        Self::new(key_id, mac_key, algorithm)
    }

    /// The CA's key identifier.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> EabAlgorithm {
        self.algorithm
    }

    /// The inner JWS for a newAccount request to `url`.
    pub(crate) fn sign(&self, account: &AccountKey, url: &str) -> Result<Jws, Error> {
        #[derive(Serialize)]
        struct Protected<'a> {
            alg: &'a str,
            kid: &'a str,
            url: &'a str,
        }
        let header = Protected {
            alg: self.algorithm.as_str(),
            kid: &self.key_id,
            url,
        };
        let protected = b64::encode(serde_json::to_vec(&header).map_err(Error::encode)?);
        let payload = b64::encode(account.jwk());
        let key = hmac::Key::new(self.algorithm.hmac(), &self.mac_key);
        let tag = hmac::sign(&key, format!("{protected}.{payload}").as_bytes());
        Ok(Jws {
            protected,
            payload,
            signature: b64::encode(tag.as_ref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pki::{KeyType, PrivateKey};

    #[test]
    fn binding_is_an_hmac_over_the_account_jwk() {
        let account =
            AccountKey::from_private_key(&PrivateKey::generate(KeyType::Rsa(2048)).unwrap())
                .unwrap();
        for alg in [
            EabAlgorithm::Hs256,
            EabAlgorithm::Hs384,
            EabAlgorithm::Hs512,
        ] {
            let eab = ExternalAccountBinding::from_base64url(
                "kid-1",
                "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
                alg,
            )
            .unwrap();
            let jws = eab.sign(&account, "https://ca.test/new-acct").unwrap();
            let header: serde_json::Value =
                serde_json::from_slice(&b64::decode(&jws.protected).unwrap()).unwrap();
            assert_eq!(header["alg"], alg.as_str());
            assert_eq!(header["kid"], "kid-1");
            assert_eq!(header["url"], "https://ca.test/new-acct");
            assert!(
                header.get("nonce").is_none(),
                "RFC 8555: no nonce in the EAB"
            );
            assert_eq!(b64::decode(&jws.payload).unwrap(), account.jwk().as_bytes());
            let key = hmac::Key::new(alg.hmac(), &eab.mac_key);
            hmac::verify(
                &key,
                format!("{}.{}", jws.protected, jws.payload).as_bytes(),
                &b64::decode(&jws.signature).unwrap(),
            )
            .expect("HMAC verifies");
        }
    }

    #[test]
    fn bad_input_names_the_field_and_debug_hides_the_key() {
        let err =
            ExternalAccountBinding::from_base64url("k", "!!!", EabAlgorithm::Hs256).unwrap_err();
        assert!(err.to_string().contains("keySecretRef"), "{err}");
        let err = ExternalAccountBinding::new("", vec![1], EabAlgorithm::Hs256).unwrap_err();
        assert!(err.to_string().contains("keyID"), "{err}");
        assert!("HS1".parse::<EabAlgorithm>().is_err());
        let eab =
            ExternalAccountBinding::from_base64url("kid", "c2VjcmV0LWtleQ", EabAlgorithm::Hs256)
                .unwrap();
        let debug = format!("{eab:?}");
        assert!(debug.contains("kid") && !debug.contains("c2VjcmV0") && !debug.contains("115"));
    }
}

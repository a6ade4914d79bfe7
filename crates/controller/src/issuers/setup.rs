//! Each issuer type's readiness check (cert-manager's `Issuer.Setup`), without I/O: the caller
//! reads the CA Secret.

use api::{ConditionStatus, IssuerConfig};
use k8s_openapi::api::core::v1::Secret;

use super::conditions::Readiness;

pub const REASON_SELF_SIGNED_READY: &str = "IsReady";
pub const REASON_GET_KEY_PAIR: &str = "ErrGetKeyPair";
pub const REASON_INVALID_KEY_PAIR: &str = "ErrInvalidKeyPair";
pub const REASON_KEY_PAIR_VERIFIED: &str = "KeyPairVerified";
pub const MESSAGE_KEY_PAIR_VERIFIED: &str = "Signing CA verified";
const MESSAGE_GET_KEY_PAIR: &str = "Error getting keypair for CA issuer: ";

/// Which check an issuer's configuration calls for.
#[derive(Debug, PartialEq, Eq)]
pub enum IssuerType<'a> {
    SelfSigned,
    Ca {
        secret_name: &'a str,
    },
    /// Vault: readiness and signing need I/O (`issuers::vault`, `certificaterequests::vault`).
    Vault,
    /// ACME: account registration (`issuers::acme`), Orders (`certificaterequests::acme`).
    Acme,
    /// Venafi (or none): cert-manager-rs does not run these issuers, so it
    /// neither claims they are ready nor overwrites what another controller reported.
    Unsupported(&'static str),
}

pub fn issuer_type(config: &IssuerConfig) -> IssuerType<'_> {
    if config.self_signed.is_some() {
        IssuerType::SelfSigned
    } else if let Some(ca) = &config.ca {
        IssuerType::Ca {
            secret_name: &ca.secret_name,
        }
    } else if config.acme.is_some() {
        IssuerType::Acme
    } else if config.vault.is_some() {
        IssuerType::Vault
    } else if config.venafi.is_some() {
        IssuerType::Unsupported("venafi")
    } else {
        IssuerType::Unsupported("none")
    }
}

pub fn self_signed_ready() -> Readiness {
    Readiness {
        status: ConditionStatus::True,
        reason: REASON_SELF_SIGNED_READY,
        message: String::new(),
    }
}

/// A CA issuer's readiness from its Secret (`None`: not found). Like cert-manager, the
/// certificate (first of `tls.crt`) must parse and be a CA, and `tls.key` must parse.
pub fn ca_readiness(secret: Option<&Secret>, namespace: &str, name: &str) -> Readiness {
    let not_ready = |reason, detail: String| Readiness {
        status: ConditionStatus::False,
        reason,
        message: format!("{MESSAGE_GET_KEY_PAIR}{detail}"),
    };
    let Some(secret) = secret else {
        return not_ready(REASON_GET_KEY_PAIR, format!("secret \"{name}\" not found"));
    };
    let data = |key: &str| secret.data.as_ref().and_then(|d| d.get(key)).map(|b| &b.0);
    let Some(crt) = data("tls.crt") else {
        return not_ready(
            REASON_GET_KEY_PAIR,
            format!("no data for \"tls.crt\" in secret '{namespace}/{name}'"),
        );
    };
    let cert = match pki::ParsedCertificate::from_pem(crt) {
        Ok(c) => c,
        Err(e) => return not_ready(REASON_GET_KEY_PAIR, e.to_string()),
    };
    let Some(key) = data("tls.key") else {
        return not_ready(
            REASON_GET_KEY_PAIR,
            format!("no data for \"tls.key\" in secret '{namespace}/{name}'"),
        );
    };
    // The error of a key that does not parse never contains key material (pki guarantees it).
    if let Err(e) = pki::PrivateKey::from_pem(key) {
        return not_ready(REASON_GET_KEY_PAIR, e.to_string());
    }
    if !cert.is_ca() {
        return not_ready(REASON_INVALID_KEY_PAIR, "certificate is not a CA".into());
    }
    Readiness {
        status: ConditionStatus::True,
        reason: REASON_KEY_PAIR_VERIFIED,
        message: MESSAGE_KEY_PAIR_VERIFIED.into(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use pki::{CsrSpec, EcCurve, KeyEncoding, KeyType, PrivateKey, RequestOverrides, Subject};

    use super::*;

    fn secret(entries: &[(&str, Vec<u8>)]) -> Secret {
        Secret {
            data: Some(
                entries
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.clone())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    fn keypair(is_ca: bool) -> (Vec<u8>, Vec<u8>) {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
        let spec = CsrSpec {
            subject: Subject {
                common_name: "test-ca".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let overrides = RequestOverrides::new(pki::DEFAULT_CERT_DURATION, is_ca, &[]);
        let template =
            pki::CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides)
                .unwrap();
        let cert = pki::self_sign(&template, &key).unwrap();
        let key_pem = key.to_pem(KeyEncoding::Pkcs8).unwrap();
        (cert.chain_pem.into_bytes(), key_pem.as_bytes().to_vec())
    }

    #[test]
    fn missing_secret_names_it() {
        let r = ca_readiness(None, "ns", "ca");
        assert_eq!(r.status, ConditionStatus::False);
        assert_eq!(r.reason, REASON_GET_KEY_PAIR);
        assert_eq!(
            r.message,
            "Error getting keypair for CA issuer: secret \"ca\" not found"
        );
    }

    #[test]
    fn missing_key_and_bad_cert_are_reported() {
        let (crt, _) = keypair(true);
        let r = ca_readiness(Some(&secret(&[("tls.crt", crt)])), "ns", "ca");
        assert_eq!(r.reason, REASON_GET_KEY_PAIR);
        assert!(
            r.message
                .contains("no data for \"tls.key\" in secret 'ns/ca'")
        );
        let r = ca_readiness(Some(&secret(&[("tls.crt", b"junk".to_vec())])), "ns", "ca");
        assert_eq!(r.status, ConditionStatus::False);
    }

    #[test]
    fn leaf_certificate_is_not_a_ca() {
        let (crt, key) = keypair(false);
        let r = ca_readiness(
            Some(&secret(&[("tls.crt", crt), ("tls.key", key)])),
            "ns",
            "ca",
        );
        assert_eq!(r.reason, REASON_INVALID_KEY_PAIR);
        assert!(r.message.ends_with("certificate is not a CA"));
    }

    #[test]
    fn ca_keypair_is_verified() {
        let (crt, key) = keypair(true);
        let r = ca_readiness(
            Some(&secret(&[("tls.crt", crt), ("tls.key", key)])),
            "ns",
            "ca",
        );
        assert_eq!(r.status, ConditionStatus::True);
        assert_eq!(r.reason, REASON_KEY_PAIR_VERIFIED);
        assert_eq!(r.message, MESSAGE_KEY_PAIR_VERIFIED);
    }
}

//! Defaulting, exactly as far as cert-manager v1.21 goes.
//!
//! What upstream does, and therefore what this module offers:
//! - On admission nothing is defaulted into stored objects. The only mutation is the
//!   CertificateRequest identity ([`set_certificate_request_identity`]). In particular
//!   `revisionHistoryLimit`, `duration`, `usages` and `privateKey` stay unset in the API.
//! - The scheme defaulters (`SetObjectDefaults_*`) fill an empty `issuerRef.kind`/`group` in
//!   memory ([`set_object_defaults_certificate`] and friends); controllers that compare issuer
//!   references use them, or [`crate::IssuerReference::effective_kind`].
//! - The key manager applies [`set_runtime_defaults_certificate`] (rotation policy `Always`) to
//!   its in-memory copy before deciding whether to generate a key.
//! - Everything else is an effective value computed where it is used; the helpers and
//!   constants below give those values one home.

use k8s_openapi::api::authentication::v1::UserInfo;

use crate::certificate::{
    Certificate, CertificatePrivateKey, DEFAULT_CERTIFICATE_DURATION, KeyUsage, Pkcs12Profile,
    PrivateKeyAlgorithm, PrivateKeyEncoding, PrivateKeyRotationPolicy,
};
use crate::certificaterequest::{CertificateRequest, CertificateRequestSpec};
use crate::challenge::Challenge;
use crate::duration::{Duration, DurationError, GoDuration};
use crate::meta::{CERT_MANAGER_GROUP, ISSUER_KIND, IssuerReference};
use crate::order::Order;

/// CertificateRequests kept per Certificate when `revisionHistoryLimit` is unset (applied by
/// the revision manager, not stored).
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 1;
/// RSA key size when `privateKey.size` is unset.
pub const DEFAULT_RSA_KEY_SIZE: i64 = 2048;
/// ECDSA curve size when `privateKey.size` is unset.
pub const DEFAULT_ECDSA_KEY_SIZE: i64 = 256;
/// JKS key entry alias when `keystores.jks.alias` is unset.
pub const DEFAULT_JKS_ALIAS: &str = "certificate";
/// Secret key of the ACME account key when `privateKeySecretRef.key` is unset.
pub const DEFAULT_ACME_PRIVATE_KEY_SECRET_KEY: &str = "tls.key";
/// Secret key of a CA bundle when `caBundleSecretRef.key` is unset.
pub const DEFAULT_CA_BUNDLE_SECRET_KEY: &str = "ca.crt";

fn default_issuer_ref(r: &mut IssuerReference) {
    if r.kind.as_deref().unwrap_or("").is_empty() {
        r.kind = Some(ISSUER_KIND.to_owned());
    }
    if r.group.as_deref().unwrap_or("").is_empty() {
        r.group = Some(CERT_MANAGER_GROUP.to_owned());
    }
}

/// Scheme defaults of a Certificate: `issuerRef.kind` `Issuer`, `issuerRef.group`
/// `cert-manager.io`.
pub fn set_object_defaults_certificate(crt: &mut Certificate) {
    default_issuer_ref(&mut crt.spec.issuer_ref);
}

/// Scheme defaults of a CertificateRequest (issuer reference, as for Certificates).
pub fn set_object_defaults_certificate_request(cr: &mut CertificateRequest) {
    default_issuer_ref(&mut cr.spec.issuer_ref);
}

/// Scheme defaults of an Order (issuer reference, as for Certificates).
pub fn set_object_defaults_order(order: &mut Order) {
    default_issuer_ref(&mut order.spec.issuer_ref);
}

/// Scheme defaults of a Challenge (issuer reference, as for Certificates).
pub fn set_object_defaults_challenge(challenge: &mut Challenge) {
    default_issuer_ref(&mut challenge.spec.issuer_ref);
}

/// Runtime defaults of a Certificate: `privateKey.rotationPolicy` `Always` (the default
/// since cert-manager 1.18). Apply to a copy, never to a cached object.
pub fn set_runtime_defaults_certificate(crt: &mut Certificate) {
    let pk = crt
        .spec
        .private_key
        .get_or_insert_with(CertificatePrivateKey::default);
    if pk
        .rotation_policy
        .as_ref()
        .is_none_or(|p| p.as_str().is_empty())
    {
        pk.rotation_policy = Some(PrivateKeyRotationPolicy::Always);
    }
}

/// The identity mutation of the webhook on CertificateRequest create: `uid`, `username` and
/// `groups` always set from the requester (empty values included), `extra` set when the
/// requester has any and removed otherwise.
pub fn set_certificate_request_identity(spec: &mut CertificateRequestSpec, user: &UserInfo) {
    spec.uid = Some(user.uid.clone().unwrap_or_default());
    spec.username = Some(user.username.clone().unwrap_or_default());
    spec.groups = Some(user.groups.clone().unwrap_or_default());
    spec.extra = user.extra.clone().filter(|e| !e.is_empty());
}

/// The requested lifetime: `duration`, or 90 days when unset.
pub fn effective_duration(duration: Option<&Duration>) -> Result<GoDuration, DurationError> {
    duration.map_or(Ok(DEFAULT_CERTIFICATE_DURATION), Duration::parse)
}

/// The requested usages: the list, or `digital signature` and `key encipherment` when empty.
pub fn effective_usages(usages: Option<&[KeyUsage]>) -> Vec<KeyUsage> {
    match usages {
        Some(u) if !u.is_empty() => u.to_vec(),
        _ => KeyUsage::defaults(),
    }
}

/// Key algorithm, size and encoding with their defaults applied (RSA 2048, ECDSA P-256,
/// PKCS#1). The size of an Ed25519 key is 0.
pub fn effective_private_key(
    pk: Option<&CertificatePrivateKey>,
) -> (PrivateKeyAlgorithm, i64, PrivateKeyEncoding) {
    let algorithm = pk
        .and_then(|p| p.algorithm.clone())
        .filter(|a| !a.as_str().is_empty())
        .unwrap_or(PrivateKeyAlgorithm::Rsa);
    let size = pk.and_then(|p| p.size).filter(|s| *s > 0);
    let size = match algorithm {
        PrivateKeyAlgorithm::Ecdsa => size.unwrap_or(DEFAULT_ECDSA_KEY_SIZE),
        PrivateKeyAlgorithm::Ed25519 => 0,
        _ => size.unwrap_or(DEFAULT_RSA_KEY_SIZE),
    };
    let encoding = pk
        .and_then(|p| p.encoding.clone())
        .filter(|e| !e.as_str().is_empty())
        .unwrap_or(PrivateKeyEncoding::Pkcs1);
    (algorithm, size, encoding)
}

/// The PKCS#12 profile, `LegacyRC2` when unset.
pub fn effective_pkcs12_profile(profile: Option<&Pkcs12Profile>) -> Pkcs12Profile {
    profile
        .filter(|p| !p.as_str().is_empty())
        .cloned()
        .unwrap_or(Pkcs12Profile::LegacyRc2)
}

/// The revision history limit, 1 when unset.
pub fn effective_revision_history_limit(limit: Option<i32>) -> i32 {
    limit.unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CertificateSpec;

    fn certificate() -> Certificate {
        Certificate::new(
            "c",
            CertificateSpec {
                secret_name: "tls".into(),
                issuer_ref: IssuerReference {
                    name: "ca".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    #[test]
    fn scheme_defaults_fill_only_the_issuer_reference() {
        let mut crt = certificate();
        set_object_defaults_certificate(&mut crt);
        assert_eq!(crt.spec.issuer_ref.kind.as_deref(), Some("Issuer"));
        assert_eq!(
            crt.spec.issuer_ref.group.as_deref(),
            Some("cert-manager.io")
        );
        assert_eq!(crt.spec.private_key, None);
        assert_eq!(crt.spec.revision_history_limit, None);
        assert_eq!(crt.spec.duration, None);

        let mut external = certificate();
        external.spec.issuer_ref.kind = Some("AWSPCAIssuer".into());
        external.spec.issuer_ref.group = Some("awspca.cert-manager.io".into());
        set_object_defaults_certificate(&mut external);
        assert_eq!(
            external.spec.issuer_ref.kind.as_deref(),
            Some("AWSPCAIssuer")
        );
    }

    #[test]
    fn runtime_defaults_rotate_keys_by_default() {
        let mut crt = certificate();
        set_runtime_defaults_certificate(&mut crt);
        let pk = crt.spec.private_key.unwrap();
        assert_eq!(pk.rotation_policy, Some(PrivateKeyRotationPolicy::Always));
        assert_eq!(pk.algorithm, None);

        let mut never = certificate();
        never.spec.private_key = Some(CertificatePrivateKey {
            rotation_policy: Some(PrivateKeyRotationPolicy::Never),
            ..Default::default()
        });
        set_runtime_defaults_certificate(&mut never);
        assert_eq!(
            never.spec.private_key.unwrap().rotation_policy,
            Some(PrivateKeyRotationPolicy::Never)
        );
    }

    #[test]
    fn effective_values() {
        assert_eq!(effective_duration(None), Ok(GoDuration::from_hours(2160)));
        assert_eq!(
            effective_duration(Some(&Duration::new("1h30m"))),
            Ok(GoDuration::from_secs(5400))
        );
        assert_eq!(effective_usages(Some(&[])), KeyUsage::defaults());
        assert_eq!(
            effective_private_key(None),
            (PrivateKeyAlgorithm::Rsa, 2048, PrivateKeyEncoding::Pkcs1)
        );
        let ec = CertificatePrivateKey {
            algorithm: Some(PrivateKeyAlgorithm::Ecdsa),
            ..Default::default()
        };
        assert_eq!(effective_private_key(Some(&ec)).1, 256);
        assert_eq!(effective_pkcs12_profile(None), Pkcs12Profile::LegacyRc2);
        assert_eq!(effective_revision_history_limit(None), 1);
    }

    #[test]
    fn identity_mutation_sets_empty_values_too() {
        let mut spec = CertificateRequestSpec::default();
        let user = UserInfo {
            username: Some("system:anonymous".into()),
            ..Default::default()
        };
        set_certificate_request_identity(&mut spec, &user);
        assert_eq!(spec.uid.as_deref(), Some(""));
        assert_eq!(spec.groups, Some(vec![]));
        assert_eq!(spec.extra, None);
    }
}

//! The `caBundle` a field should have, given what it has and the source's CA.

use std::time::SystemTime;

/// With `CAInjectorMerging` the source's certificates are added to the existing bundle
/// (duplicates and expired certificates dropped), so a rotated CA is trusted alongside the old
/// one until that expires; if the existing bundle cannot be parsed it is replaced, as upstream.
/// Without the gate the bundle is the source's CA.
pub fn desired(current: &[u8], ca: &[u8], merging: bool, now: SystemTime) -> Vec<u8> {
    if !merging {
        return ca.to_vec();
    }
    pki::append_certificates_to_bundle(current, ca, now).unwrap_or_else(|_| ca.to_vec())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use pki::{
        CertificateTemplate, CsrSpec, EcCurve, KeyType, PrivateKey, RequestOverrides, Subject,
        Usage,
    };

    use super::*;

    fn ca(name: &str, not_after: Option<SystemTime>) -> Vec<u8> {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
        let spec = CsrSpec {
            subject: Subject {
                common_name: name.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let overrides = RequestOverrides::new(Duration::from_secs(3600), true, &[Usage::CertSign]);
        let mut template =
            CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides).unwrap();
        if let Some(t) = not_after {
            template.not_before = t - Duration::from_secs(3600);
            template.not_after = t;
        }
        pki::self_sign(&template, &key)
            .unwrap()
            .chain_pem
            .into_bytes()
    }

    fn count(pem: &[u8]) -> usize {
        pki::decode_certificate_set(pem).unwrap().len()
    }

    #[test]
    fn merging_appends_dedups_and_drops_expired() {
        let now = SystemTime::now();
        let (a, b) = (ca("a", None), ca("b", None));
        let expired = ca("old", Some(now - Duration::from_secs(60)));

        let first = desired(b"", &a, true, now);
        assert_eq!(count(&first), 1);
        assert_eq!(desired(&first, &a, true, now), first, "idempotent");
        let both = desired(&first, &b, true, now);
        assert_eq!(count(&both), 2);
        assert!(both.starts_with(&first), "the old CA stays first");

        let mut with_expired = expired.clone();
        with_expired.extend_from_slice(&a);
        assert_eq!(desired(&with_expired, &b, true, now), both);
    }

    #[test]
    fn without_merging_or_with_garbage_the_bundle_is_replaced() {
        let now = SystemTime::now();
        let (a, b) = (ca("a", None), ca("b", None));
        assert_eq!(desired(&a, &b, false, now), b);
        assert_eq!(desired(b"garbage", &b, true, now), b);
    }
}

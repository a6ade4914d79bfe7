use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::{Certificate, CertificateRequest, CertificateSpec, IssuerReference};
use featuregates::FeatureGates;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::ObjectMeta;

use super::*;
use crate::certificates::{issuing, spec};

fn gates() -> FeatureGates {
    let mut g = FeatureGates::new();
    g.add(featuregates::certmanager::CONTROLLER).unwrap();
    g
}

fn certificate() -> Certificate {
    let mut crt = Certificate::new(
        "web",
        CertificateSpec {
            secret_name: "web-tls".into(),
            dns_names: Some(vec!["web.example.com".into()]),
            issuer_ref: IssuerReference {
                name: "ca".into(),
                kind: None,
                group: None,
            },
            private_key: Some(api::certificate::CertificatePrivateKey {
                algorithm: Some(api::certificate::PrivateKeyAlgorithm::Ecdsa),
                ..Default::default()
            }),
            duration: Some(api::Duration::new("1h")),
            ..Default::default()
        },
    );
    crt.metadata.namespace = Some("ns".into());
    crt
}

/// A Secret as the issuing controller writes it for `crt`, signed for 1h from now.
fn issued(crt: &Certificate) -> (Secret, pki::ParsedCertificate) {
    let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
    let csr_spec = spec::csr_spec(crt, &gates()).unwrap();
    let overrides = pki::RequestOverrides::new(Duration::from_secs(3600), false, &[]);
    let template =
        pki::CertificateTemplate::from_spec(&csr_spec, key.public_key().clone(), &overrides)
            .unwrap();
    let cert = pki::self_sign(&template, &key).unwrap().certificate;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("web-tls".into()),
            namespace: Some("ns".into()),
            annotations: Some(issuing::secret_annotations(crt, &cert)),
            ..Default::default()
        },
        data: Some(BTreeMap::from([
            ("tls.crt".to_owned(), ByteString(cert.to_pem().into_bytes())),
            (
                "tls.key".to_owned(),
                ByteString(
                    key.to_pem(pki::KeyEncoding::Pkcs1)
                        .unwrap()
                        .as_bytes()
                        .to_vec(),
                ),
            ),
        ])),
        ..Default::default()
    };
    (secret, cert)
}

fn eval(
    crt: &Certificate,
    secret: Option<&Secret>,
    cr: Option<&CertificateRequest>,
    now: SystemTime,
    chain: Chain,
) -> Option<&'static str> {
    let g = gates();
    let input = Input {
        crt,
        secret,
        current_request: cr,
        now,
        gates: &g,
    };
    evaluate(&input, chain).map(|v| v.reason)
}

#[test]
fn missing_secret_and_data() {
    let crt = certificate();
    let now = SystemTime::now();
    assert_eq!(
        eval(&crt, None, None, now, Chain::Trigger),
        Some(DOES_NOT_EXIST)
    );
    let (mut secret, _) = issued(&crt);
    secret.data.as_mut().unwrap().remove("tls.crt");
    assert_eq!(
        eval(&crt, Some(&secret), None, now, Chain::Readiness),
        Some(MISSING_DATA)
    );
    secret.data = None;
    assert_eq!(
        eval(&crt, Some(&secret), None, now, Chain::Trigger),
        Some(MISSING_DATA)
    );
}

#[test]
fn up_to_date_secret_needs_nothing() {
    let crt = certificate();
    let (secret, _) = issued(&crt);
    let now = SystemTime::now();
    assert_eq!(eval(&crt, Some(&secret), None, now, Chain::Trigger), None);
    assert_eq!(eval(&crt, Some(&secret), None, now, Chain::Readiness), None);
}

#[test]
fn key_not_matching_certificate_is_invalid_key_pair() {
    let crt = certificate();
    let (mut secret, _) = issued(&crt);
    let (other, _) = issued(&crt);
    let other_key = other.data.unwrap()["tls.key"].clone();
    secret
        .data
        .as_mut()
        .unwrap()
        .insert("tls.key".into(), other_key);
    assert_eq!(
        eval(&crt, Some(&secret), None, SystemTime::now(), Chain::Trigger),
        Some(INVALID_KEY_PAIR)
    );
    secret
        .data
        .as_mut()
        .unwrap()
        .insert("tls.key".into(), ByteString(b"garbage".to_vec()));
    assert_eq!(
        eval(&crt, Some(&secret), None, SystemTime::now(), Chain::Trigger),
        Some(INVALID_KEY_PAIR)
    );
}

#[test]
fn private_key_spec_change_is_secret_mismatch() {
    let mut crt = certificate();
    let (secret, _) = issued(&crt);
    crt.spec.private_key = None; // RSA 2048 now
    assert_eq!(
        eval(&crt, Some(&secret), None, SystemTime::now(), Chain::Trigger),
        Some(SECRET_MISMATCH)
    );
}

#[test]
fn issuer_annotations_default_kind_and_group() {
    let mut crt = certificate();
    let (mut secret, _) = issued(&crt);
    // Explicit defaults are the same issuer as empty ones.
    crt.spec.issuer_ref.kind = Some("Issuer".into());
    crt.spec.issuer_ref.group = Some("cert-manager.io".into());
    assert_eq!(
        eval(&crt, Some(&secret), None, SystemTime::now(), Chain::Trigger),
        None
    );
    crt.spec.issuer_ref.kind = Some("ClusterIssuer".into());
    let g = gates();
    let input = Input {
        crt: &crt,
        secret: Some(&secret),
        current_request: None,
        now: SystemTime::now(),
        gates: &g,
    };
    let v = evaluate(&input, Chain::Trigger).unwrap();
    assert_eq!(v.reason, INCORRECT_ISSUER);
    assert_eq!(
        v.message,
        "Issuing certificate as Secret was previously issued by \"Issuer.cert-manager.io/ca\""
    );
    crt.spec.issuer_ref.kind = None;
    secret
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(annotations::CERTIFICATE_NAME.into(), "other".into());
    assert_eq!(
        eval(&crt, Some(&secret), None, SystemTime::now(), Chain::Trigger),
        Some(INCORRECT_CERTIFICATE)
    );
}

#[test]
fn spec_change_without_request_is_secret_mismatch() {
    let mut crt = certificate();
    let (secret, _) = issued(&crt);
    crt.spec.dns_names = Some(vec!["other.example.com".into()]);
    assert_eq!(
        eval(&crt, Some(&secret), None, SystemTime::now(), Chain::Trigger),
        Some(SECRET_MISMATCH)
    );
}

#[test]
fn request_mismatch_is_request_changed() {
    let crt = certificate();
    let (secret, _) = issued(&crt);
    let key = pki::PrivateKey::from_pem(&secret.data.as_ref().unwrap()["tls.key"].0).unwrap();
    let csr = pki::create_csr(&spec::csr_spec(&crt, &gates()).unwrap(), &key, None).unwrap();
    let mut cr = CertificateRequest::new(
        "web-1",
        api::CertificateRequestSpec {
            request: ByteString(csr.to_pem().into_bytes()),
            issuer_ref: crt.spec.issuer_ref.clone(),
            duration: crt.spec.duration.clone(),
            ..Default::default()
        },
    );
    assert_eq!(
        eval(
            &crt,
            Some(&secret),
            Some(&cr),
            SystemTime::now(),
            Chain::Trigger
        ),
        None
    );
    cr.spec.is_ca = Some(true);
    assert_eq!(
        eval(
            &crt,
            Some(&secret),
            Some(&cr),
            SystemTime::now(),
            Chain::Trigger
        ),
        Some(REQUEST_CHANGED)
    );
    cr.spec.is_ca = None;
    cr.spec.duration = Some(api::Duration::new("2h"));
    assert_eq!(
        eval(
            &crt,
            Some(&secret),
            Some(&cr),
            SystemTime::now(),
            Chain::Readiness
        ),
        Some(REQUEST_CHANGED)
    );
}

#[test]
fn renewal_and_expiry() {
    let crt = certificate();
    let (secret, cert) = issued(&crt);
    let renewal = renewal_time(&crt, cert.not_before, cert.not_after).unwrap();
    assert_eq!(
        eval(
            &crt,
            Some(&secret),
            None,
            renewal - Duration::from_secs(1),
            Chain::Trigger
        ),
        None
    );
    assert_eq!(
        eval(&crt, Some(&secret), None, renewal, Chain::Trigger),
        Some(RENEWING)
    );
    assert_eq!(
        eval(&crt, Some(&secret), None, renewal, Chain::Readiness),
        None
    );
    let after = cert.not_after + Duration::from_secs(1);
    assert_eq!(
        eval(&crt, Some(&secret), None, after, Chain::Readiness),
        Some(EXPIRED)
    );
}

#[test]
fn renewal_time_rules() {
    let start = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let mut crt = certificate();
    let end = start + Duration::from_secs(90);
    // Default: a third of the lifetime before the end.
    assert_eq!(
        renewal_time(&crt, start, end),
        Some(start + Duration::from_secs(60))
    );
    crt.spec.renew_before = Some(api::Duration::new("40s"));
    assert_eq!(
        renewal_time(&crt, start, end),
        Some(start + Duration::from_secs(50))
    );
    // Longer than the lifetime: ignored.
    crt.spec.renew_before = Some(api::Duration::new("2m"));
    assert_eq!(
        renewal_time(&crt, start, end),
        Some(start + Duration::from_secs(60))
    );
    crt.spec.renew_before = None;
    crt.spec.renew_before_percentage = Some(25);
    // 7,775,999 s at 25%: 1,943,999.75 s before the end, truncated (not rounded) to seconds.
    let end = start + Duration::from_secs(7_775_999);
    assert_eq!(
        renewal_time(&crt, start, end),
        Some(start + Duration::from_secs(5_831_999))
    );
    crt.spec.renewal = Some(api::certificate::CertificateRenewal {
        policy: Some(api::certificate::CertificateRenewalPolicy::Disabled),
        windows: None,
    });
    assert_eq!(renewal_time(&crt, start, end), None);
}

#[test]
fn failure_backoff_doubles_and_caps() {
    let mut crt = certificate();
    let (min, max) = (Duration::from_secs(3600), Duration::from_secs(32 * 3600));
    assert_eq!(backoff_until(&crt, min, max), None);
    let last = k8s_openapi::jiff::Timestamp::from_second(1_000_000).unwrap();
    let status = crt.status.get_or_insert_with(Default::default);
    status.last_failure_time = Some(Time(last));
    let base = UNIX_EPOCH + Duration::from_secs(1_000_000);
    for (attempts, hours) in [(1, 1), (2, 2), (3, 4), (6, 32), (40, 32)] {
        crt.status.as_mut().unwrap().failed_issuance_attempts = Some(attempts);
        assert_eq!(
            backoff_until(&crt, min, max),
            Some(base + Duration::from_secs(hours * 3600)),
            "{attempts}"
        );
    }
}

#[test]
fn request_signed_by_another_key_is_secret_mismatch() {
    let crt = certificate();
    let (secret, _) = issued(&crt);
    let other = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
    let csr = pki::create_csr(&spec::csr_spec(&crt, &gates()).unwrap(), &other, None).unwrap();
    let cr = CertificateRequest::new(
        "web-1",
        api::CertificateRequestSpec {
            request: ByteString(csr.to_pem().into_bytes()),
            issuer_ref: crt.spec.issuer_ref.clone(),
            duration: crt.spec.duration.clone(),
            ..Default::default()
        },
    );
    let g = gates();
    let input = Input {
        crt: &crt,
        secret: Some(&secret),
        current_request: Some(&cr),
        now: SystemTime::now(),
        gates: &g,
    };
    let v = evaluate(&input, Chain::Trigger).unwrap();
    assert_eq!(v.reason, SECRET_MISMATCH);
    assert_eq!(
        v.message,
        "Secret contains a private key that does not match the current CertificateRequest"
    );
}

#[test]
fn messages_print_times_as_go_does() {
    let mut crt = certificate();
    let (secret, cert) = issued(&crt);
    let renewal = renewal_time(&crt, cert.not_before, cert.not_after).unwrap();
    crt.status = Some(api::CertificateStatus {
        renewal_time: Some(Time(crate::certificates::status::timestamp(renewal))),
        ..Default::default()
    });
    let g = gates();
    let input = Input {
        crt: &crt,
        secret: Some(&secret),
        current_request: None,
        now: cert.not_after + Duration::from_secs(5),
        gates: &g,
    };
    let renewing = evaluate(&input, Chain::Trigger).unwrap().message;
    let expired = evaluate(&input, Chain::Readiness).unwrap().message;
    let re = |s: &str, prefix: &str| {
        s.strip_prefix(prefix)
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{s}"))
    };
    let when = re(
        &renewing,
        "Renewing certificate as renewal was scheduled at ",
    );
    assert!(
        when.ends_with(" +0000 UTC") && when.len() == "2006-01-02 15:04:05 +0000 UTC".len(),
        "{when}"
    );
    let when = re(&expired, "Certificate expired on ");
    assert!(
        when.ends_with(" UTC") && when.len() == "Mon, 02 Jan 2006 15:04:05 UTC".len(),
        "{when}"
    );
}

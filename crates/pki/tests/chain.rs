//! Chain assembly, CA bundles and byte parity with Go-issued certificates.

mod common;

use std::time::{Duration, SystemTime};

use common::{ec_key, fixture, leaf_spec, self_signed_ca};
use pki::{
    CertificateTemplate, Error, Issuer, ParsedCertificate, RequestOverrides, Subject, Usage,
    append_certificates_to_bundle, decode_certificate_chain, parse_single_certificate_chain,
    parse_single_certificate_chain_pem,
};

fn go(name: &str) -> ParsedCertificate {
    ParsedCertificate::from_pem(&fixture(name)).unwrap()
}

#[test]
fn chain_is_ordered_deduplicated_and_split_from_the_root() {
    let (root, i1, i2) = (
        go("go/root.crt"),
        go("go/issuer1.crt"),
        go("go/issuer2.crt"),
    );
    let shuffled = vec![
        i1.clone(),
        root.clone(),
        i2.clone(),
        i1.clone(),
        root.clone(),
    ];
    let bundle = parse_single_certificate_chain(shuffled).unwrap();
    assert_eq!(bundle.chain_pem, [i2.to_pem(), i1.to_pem()].concat());
    assert_eq!(bundle.ca_pem, root.to_pem());

    // Without the root, the highest intermediate is the CA and stays in the chain.
    let bundle = parse_single_certificate_chain(vec![i1.clone(), i2.clone()]).unwrap();
    assert_eq!(bundle.chain_pem, [i2.to_pem(), i1.to_pem()].concat());
    assert_eq!(bundle.ca_pem, i1.to_pem());

    // PEM input with comments and blank lines between blocks.
    let messy = format!("# leaf\n{}\n\n# root\n{}", i2.to_pem(), root.to_pem());
    let err = parse_single_certificate_chain_pem(messy.as_bytes()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidChain(_)),
        "gap in the chain: {err}"
    );
    let messy = format!(
        "junk\n{}\n\n{}\n{}",
        i2.to_pem(),
        i1.to_pem(),
        root.to_pem()
    );
    let bundle = parse_single_certificate_chain_pem(messy.as_bytes()).unwrap();
    assert_eq!(bundle.ca_pem, root.to_pem());
}

#[test]
fn single_certificates() {
    let root = go("go/root.crt");
    let bundle = parse_single_certificate_chain(vec![root.clone()]).unwrap();
    assert_eq!(bundle.chain_pem, root.to_pem());
    assert_eq!(bundle.ca_pem, root.to_pem());

    let i2 = go("go/issuer2.crt");
    let bundle = parse_single_certificate_chain(vec![i2.clone()]).unwrap();
    assert_eq!(bundle.chain_pem, i2.to_pem());
    assert_eq!(bundle.ca_pem, "");

    // A self-signed leaf is not a CA, so Go does not treat it as self-signed.
    let key = ec_key();
    let overrides = RequestOverrides::new(Duration::from_secs(60), false, &[]);
    let template =
        CertificateTemplate::from_spec(&leaf_spec("leaf"), key.public_key().clone(), &overrides)
            .unwrap();
    let leaf = pki::self_sign(&template, &key).unwrap().certificate;
    assert!(!leaf.is_self_signed());
    let bundle = parse_single_certificate_chain(vec![leaf.clone()]).unwrap();
    assert_eq!(bundle.ca_pem, "");
}

#[test]
fn broken_and_unrelated_chains_are_rejected() {
    let err =
        parse_single_certificate_chain(vec![go("go/root.crt"), go("go/issuer2.crt")]).unwrap_err();
    assert_eq!(err.to_string(), "certificate chain is malformed or broken");
    let other_ca = self_signed_ca("other", &ec_key()).certificate;
    assert!(parse_single_certificate_chain(vec![go("go/root.crt"), other_ca]).is_err());
    assert!(parse_single_certificate_chain(Vec::new()).is_err());
}

#[test]
fn decoding_rejects_bad_input() {
    assert!(decode_certificate_chain(b"").is_err());
    assert!(decode_certificate_chain(b"garbage").is_err());
    let key_block = fixture("go/root.key");
    let err = decode_certificate_chain(&key_block).unwrap_err();
    assert!(matches!(err, Error::InvalidCertificate(_)), "{err}");
    let cert = fixture("go/root.crt");
    let truncated = String::from_utf8(cert.clone())
        .unwrap()
        .replacen("MIIB", "MIIC", 1);
    assert!(decode_certificate_chain(truncated.as_bytes()).is_err());
    let der = go("go/root.crt").der().to_vec();
    for cut in [0, 1, der.len() / 2, der.len() - 1] {
        assert!(ParsedCertificate::from_der(&der[..cut]).is_err());
    }
    let huge = vec![b'A'; 400_000];
    assert!(matches!(
        decode_certificate_chain(&huge),
        Err(Error::PemTooLarge { .. })
    ));
}

fn expired_ca() -> ParsedCertificate {
    let key = ec_key();
    let overrides = RequestOverrides::new(Duration::from_secs(60), true, &[]);
    let mut template =
        CertificateTemplate::from_spec(&leaf_spec("expired"), key.public_key().clone(), &overrides)
            .unwrap();
    template.not_before = SystemTime::now() - Duration::from_secs(7200);
    template.not_after = SystemTime::now() - Duration::from_secs(3600);
    pki::self_sign(&template, &key).unwrap().certificate
}

#[test]
fn ca_bundles_are_merged_deduplicated_and_pruned() {
    let (root, i1) = (go("go/root.crt"), go("go/issuer1.crt"));
    let expired = expired_ca();
    let bundle = [root.to_pem(), expired.to_pem()].concat();
    let additional = [i1.to_pem(), root.to_pem()].concat();
    let merged =
        append_certificates_to_bundle(bundle.as_bytes(), additional.as_bytes(), SystemTime::now())
            .unwrap();
    assert_eq!(
        String::from_utf8(merged).unwrap(),
        [root.to_pem(), i1.to_pem()].concat()
    );
    let only_new =
        append_certificates_to_bundle(b"", i1.to_pem().as_bytes(), SystemTime::now()).unwrap();
    assert_eq!(only_new, i1.to_pem().into_bytes());
    assert!(
        append_certificates_to_bundle(b"", b"", SystemTime::now())
            .unwrap()
            .is_empty()
    );
    let err = append_certificates_to_bundle(b"not pem", b"", SystemTime::now()).unwrap_err();
    assert!(err.to_string().contains("failed to parse bundle"), "{err}");
    assert!(append_certificates_to_bundle(b"", b"\n", SystemTime::now()).is_err());
}

#[test]
fn go_issued_certificates_parse() {
    let root = go("go/root.crt");
    assert!(root.is_self_signed() && root.is_ca());
    assert_eq!(root.version, 3);
    assert_eq!(root.serial_hex(), "f268075efbb15e74ab27cfa57c032fb8");
    assert_eq!(
        root.spec.key_usage.to_usages(),
        [
            Usage::DigitalSignature,
            Usage::KeyEncipherment,
            Usage::CertSign
        ]
    );
    let i1 = go("go/issuer1.crt");
    i1.check_signature_from(&root).unwrap();
    assert_eq!(i1.authority_key_id, root.subject_key_id);
    assert!(go("go/issuer2.crt").check_signature_from(&root).is_err());
}

#[test]
fn subject_and_extension_encodings_match_go_byte_for_byte() {
    for (name, cn) in [
        ("go/root.crt", "cert-manager testing CA"),
        ("go/issuer1.crt", "cert-manager testing Issuer"),
        ("go/issuer2.crt", "cert-manager testing Issuer Level 2"),
    ] {
        let subject = Subject {
            common_name: cn.into(),
            organizations: vec!["cert-manager".into()],
            countries: vec!["UK".into()],
            ..Default::default()
        };
        assert_eq!(subject.to_der().unwrap(), go(name).subject_der, "{name}");
    }
    // A CA issued here with the same spec carries the same KeyUsage and
    // BasicConstraints bytes as Go's.
    let key = ec_key();
    let issuer = Issuer::from_pem(&fixture("go/root.crt"), &fixture("go/root.key"), None).unwrap();
    let overrides = RequestOverrides::new(Duration::from_secs(60), true, &[]);
    let template =
        CertificateTemplate::from_spec(&leaf_spec("x"), key.public_key().clone(), &overrides)
            .unwrap();
    let ours = issuer.sign(&template).unwrap().certificate;
    let go_cert = go("go/issuer1.crt");
    let extension = |der: &[u8], oid: &str| {
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        let ext = cert
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == oid)
            .unwrap()
            .clone();
        (ext.critical, ext.value.to_vec())
    };
    for oid in ["2.5.29.15", "2.5.29.19", "2.5.29.35"] {
        assert_eq!(
            extension(ours.der(), oid),
            extension(go_cert.der(), oid),
            "{oid}"
        );
    }
}

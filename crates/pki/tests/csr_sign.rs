//! CSRs from specs, parsing them back, and issuing certificates from them.

mod common;

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use common::{Scratch, ec_key, fixture, have, leaf_spec, p, run, server_overrides, stdout};
use pki::usages::ExtKeyUsage;
use pki::{
    BasicConstraints, CertificateTemplate, CsrSpec, EcCurve, Error, Issuer, KeyType,
    NameConstraintItems, NameConstraints, OtherName, ParsedCertificate, ParsedCsr, PrivateKey,
    RequestOverrides, Subject, Usage, create_csr, key_usages_for,
};

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A spec using every field a CSR can carry.
fn full_spec() -> CsrSpec {
    let (key_usage, ext_key_usages) = key_usages_for(&Usage::ALL, true);
    CsrSpec {
        subject: Subject {
            common_name: "example.com".into(),
            serial_number: "1234".into(),
            countries: strings(&["GB", "US"]),
            organizations: strings(&["Acme", "Acme & Co"]),
            organizational_units: strings(&["Engineering"]),
            localities: strings(&["London"]),
            provinces: strings(&["Greater London"]),
            street_addresses: strings(&["1 Main St, Suite 2"]),
            postal_codes: strings(&["N1 9GU"]),
        },
        literal_subject: None,
        dns_names: strings(&["example.com", "*.example.com"]),
        ip_addresses: ips(&["10.0.0.1", "::1", "2001:db8::5"]),
        uris: strings(&["spiffe://cluster.local/ns/default/sa/app"]),
        email_addresses: strings(&["admin@example.com"]),
        other_names: vec![
            OtherName {
                oid: "1.3.6.1.4.1.311.20.2.3".into(),
                utf8_value: "upn@example.com".into(),
            },
            OtherName {
                oid: "1.2.3.4".into(),
                utf8_value: "ünïcode".into(),
            },
        ],
        key_usage,
        ext_key_usages,
        basic_constraints: Some(BasicConstraints {
            is_ca: true,
            max_path_len: None,
        }),
        name_constraints: Some(NameConstraints {
            critical: true,
            permitted: NameConstraintItems {
                dns_domains: strings(&["example.com"]),
                ip_ranges: strings(&["10.0.0.0/8", "2001:db8::/32"]),
                email_addresses: strings(&["example.com"]),
                uri_domains: strings(&[".example.com"]),
            },
            excluded: NameConstraintItems {
                dns_domains: strings(&["bad.example.com"]),
                ip_ranges: strings(&["10.1.0.0/16"]),
                ..Default::default()
            },
        }),
    }
}

fn x509_parser_verify(cert_der: &[u8], issuer_der: &[u8]) {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).unwrap();
    let (_, issuer) = x509_parser::parse_x509_certificate(issuer_der).unwrap();
    cert.verify_signature(Some(issuer.public_key()))
        .expect("x509-parser verifies the signature");
}

#[test]
fn csr_with_every_field_parses_back_identically() {
    let spec = full_spec();
    let key_types = [
        KeyType::Ecdsa(EcCurve::P256),
        KeyType::Ecdsa(EcCurve::P384),
        KeyType::Ecdsa(EcCurve::P521),
        KeyType::Ed25519,
        KeyType::Rsa(2048),
    ];
    for key_type in key_types {
        let key = PrivateKey::generate(key_type).unwrap();
        let csr = create_csr(&spec, &key, None).unwrap();
        let pem = csr.to_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
        let parsed = ParsedCsr::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(parsed.spec, spec, "{key_type}");
        assert_eq!(parsed.public_key(), key.public_key());
        parsed.verify_signature().unwrap();
        assert!(parsed.matches_spec(&spec).unwrap().is_empty());
        if matches!(key_type, KeyType::Ecdsa(EcCurve::P256) | KeyType::Ed25519) {
            let (_, x) =
                x509_parser::certification_request::X509CertificationRequest::from_der(csr.der())
                    .unwrap();
            x.verify_signature().expect("x509-parser verifies the CSR");
        }
    }
}

use x509_parser::prelude::FromDer;

#[test]
fn openssl_reads_our_csr() {
    if !have("openssl") {
        return;
    }
    let dir = Scratch::new();
    let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P521)).unwrap();
    let csr = create_csr(&full_spec(), &key, None).unwrap();
    let path = dir.write("csr.pem", csr.to_pem());
    let out = run(
        "openssl",
        &["req", "-in", p(&path), "-noout", "-verify", "-text"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("verify OK"), "{all}");
    for expected in [
        "ecdsa-with-SHA512",
        "X509v3 Subject Alternative Name",
        "DNS:*.example.com",
        "IP Address:2001:DB8:0:0:0:0:0:5",
        "URI:spiffe://cluster.local/ns/default/sa/app",
        "email:admin@example.com",
        "othername: UPN::upn@example.com",
        "othername: 1.2.3.4::ünïcode",
        "X509v3 Key Usage: critical",
        "Decipher Only",
        "TLS Web Server Authentication",
        "X509v3 Basic Constraints: critical",
        "CA:TRUE",
        "X509v3 Name Constraints: critical",
        "IP:10.1.0.0/255.255.0.0",
        "serialNumber",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn literal_subject_is_encoded_verbatim() {
    let literal = r"CN=foo,OU=a+OU=b,O=Acme\, Inc,DC=example,DC=com,2.5.4.17=12345";
    let spec = CsrSpec {
        literal_subject: Some(literal.into()),
        ..Default::default()
    };
    let key = ec_key();
    let csr = create_csr(&spec, &key, None).unwrap();
    let parsed = ParsedCsr::from_der(csr.der()).unwrap();
    assert_eq!(
        parsed.subject_der(),
        pki::subject::literal_subject_to_der(literal).unwrap()
    );
    assert_eq!(parsed.spec.subject.common_name, "foo");
    assert_eq!(parsed.spec.subject.postal_codes, ["12345"]);
    assert!(parsed.matches_spec(&spec).unwrap().is_empty());
    let other = CsrSpec {
        literal_subject: Some("CN=foo,O=Acme\\, Inc,DC=example,DC=com".into()),
        ..Default::default()
    };
    assert_eq!(
        parsed.matches_spec(&other).unwrap(),
        ["spec.literalSubject"]
    );
    if have("openssl") {
        let dir = Scratch::new();
        let path = dir.write("csr.pem", csr.to_pem());
        let subject = stdout(
            "openssl",
            &[
                "req",
                "-in",
                p(&path),
                "-noout",
                "-subject",
                "-nameopt",
                "RFC2253",
            ],
        );
        // OpenSSL prints the multi-valued RDN's members in reverse as well.
        assert!(
            subject.contains(r"CN=foo,OU=b+OU=a,O=Acme\, Inc,DC=example,DC=com,postalCode=12345"),
            "{subject}"
        );
    }
}

#[test]
fn csr_spec_errors_are_reported() {
    let key = ec_key();
    let err = create_csr(&CsrSpec::default(), &key, None).unwrap_err();
    assert!(
        err.to_string().contains("at least one of commonName"),
        "{err}"
    );
    let bad_dns = CsrSpec {
        dns_names: vec!["bücher.example".into()],
        ..Default::default()
    };
    let err = create_csr(&bad_dns, &key, None).unwrap_err();
    assert!(err.to_string().contains("IA5String"), "{err}");
    let bad_literal = CsrSpec {
        literal_subject: Some("cn=lower".into()),
        ..Default::default()
    };
    assert!(matches!(
        create_csr(&bad_literal, &key, None),
        Err(Error::InvalidSubject(_))
    ));
    let err = create_csr(
        &leaf_spec("a"),
        &key,
        Some(pki::SignatureAlgorithm::Sha256WithRsa),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedSignatureAlgorithm(_)),
        "{err}"
    );
}

#[test]
fn request_matches_spec_reports_go_field_names_in_order() {
    let spec = full_spec();
    let key = ec_key();
    let parsed = ParsedCsr::from_der(create_csr(&spec, &key, None).unwrap().der()).unwrap();

    // Reordering lists is not a change.
    let mut reordered = spec.clone();
    reordered.dns_names.reverse();
    reordered.ip_addresses.reverse();
    reordered.other_names.reverse();
    reordered.subject.countries.reverse();
    assert!(parsed.matches_spec(&reordered).unwrap().is_empty());
    // IPv4 equals its IPv4-mapped form.
    reordered.ip_addresses = ips(&["::ffff:10.0.0.1", "::1", "2001:db8::5"]);
    assert!(parsed.matches_spec(&reordered).unwrap().is_empty());

    let mut changed = spec.clone();
    changed.ip_addresses.pop();
    changed.uris.clear();
    changed.email_addresses.push("x@example.com".into());
    changed.dns_names.push("example.com".into()); // duplicates count
    changed.other_names[0].utf8_value = "other".into();
    changed.subject.common_name = "other".into();
    changed.subject.serial_number.clear();
    changed.subject.organizations.pop();
    changed.subject.countries.pop();
    changed.subject.localities.clear();
    changed.subject.organizational_units.push("x".into());
    changed.subject.postal_codes.clear();
    changed.subject.provinces.clear();
    changed.subject.street_addresses.clear();
    assert_eq!(
        parsed.matches_spec(&changed).unwrap(),
        [
            "spec.ipAddresses",
            "spec.uris",
            "spec.emailAddresses",
            "spec.dnsNames",
            "spec.otherNames",
            "spec.commonName",
            "spec.subject.serialNumber",
            "spec.subject.organizations",
            "spec.subject.countries",
            "spec.subject.localities",
            "spec.subject.organizationalUnits",
            "spec.subject.postCodes",
            "spec.subject.provinces",
            "spec.subject.streetAddresses",
        ]
    );
}

#[test]
fn tampered_csr_fails_verification() {
    let key = ec_key();
    let csr = create_csr(&leaf_spec("tamper.example.com"), &key, None).unwrap();
    let mut der = csr.der().to_vec();
    let pos = der.windows(6).position(|w| w == b"tamper").unwrap();
    der[pos] = b'T';
    let parsed = ParsedCsr::from_der(&der).unwrap();
    assert!(matches!(
        parsed.verify_signature(),
        Err(Error::BadSignature(_))
    ));
    let err = CertificateTemplate::from_csr(&parsed, &server_overrides()).unwrap_err();
    assert!(matches!(err, Error::BadSignature(_)), "{err}");
    // Truncated or garbage CSRs are errors, not panics.
    for cut in [0, 10, der.len() / 2, der.len() - 1] {
        assert!(ParsedCsr::from_der(&der[..cut]).is_err());
    }
    assert!(ParsedCsr::from_pem(b"junk").is_err());
}

fn go_root() -> (ParsedCertificate, Issuer) {
    let root = ParsedCertificate::from_pem(&fixture("go/root.crt")).unwrap();
    let issuer = Issuer::from_pem(&fixture("go/root.crt"), &fixture("go/root.key"), None).unwrap();
    (root, issuer)
}

fn leaf_request(key: &PrivateKey) -> (CsrSpec, ParsedCsr) {
    let (key_usage, ext_key_usages) = key_usages_for(
        &[
            Usage::DigitalSignature,
            Usage::KeyEncipherment,
            Usage::ServerAuth,
        ],
        false,
    );
    let spec = CsrSpec {
        ip_addresses: ips(&["192.0.2.10"]),
        uris: strings(&["https://leaf.example.com/"]),
        email_addresses: strings(&["leaf@example.com"]),
        key_usage,
        ext_key_usages,
        ..leaf_spec("leaf.example.com")
    };
    let csr = create_csr(&spec, key, None).unwrap();
    (spec, ParsedCsr::from_pem(csr.to_pem().as_bytes()).unwrap())
}

#[test]
fn ca_issuer_signs_like_cert_manager() {
    let (root, issuer) = go_root();
    let key = ec_key();
    let (spec, csr) = leaf_request(&key);
    let mut template = CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap();
    template.crl_distribution_points = strings(&["http://crl.example.com/ca.crl"]);
    template.ocsp_servers = strings(&["http://ocsp.example.com"]);
    template.issuing_certificate_urls = strings(&["http://example.com/ca.crt"]);
    let issued = issuer.sign(&template).unwrap();
    let cert = &issued.certificate;

    assert_eq!(cert.spec.dns_names, spec.dns_names);
    assert_eq!(cert.spec.ip_addresses, spec.ip_addresses);
    assert_eq!(cert.spec.uris, spec.uris);
    assert_eq!(cert.spec.email_addresses, spec.email_addresses);
    assert_eq!(cert.spec.subject, spec.subject);
    assert_eq!(cert.spec.key_usage, spec.key_usage);
    assert_eq!(cert.spec.ext_key_usages, spec.ext_key_usages);
    assert_eq!(
        cert.spec.basic_constraints,
        Some(BasicConstraints::default())
    );
    assert!(!cert.is_ca());
    assert_eq!(&cert.public_key, key.public_key());
    assert_eq!(cert.issuer_der, root.subject_der);
    assert_eq!(cert.issuer, root.spec.subject);
    assert_eq!(cert.authority_key_id, root.subject_key_id);
    assert_eq!(
        cert.subject_key_id, None,
        "Go only adds SKIs to CA certificates"
    );
    assert!(cert.serial_number.len() <= 20 && cert.serial_number.len() >= 16);
    assert_eq!(
        cert.not_after.duration_since(cert.not_before).unwrap(),
        Duration::from_secs(3600)
    );
    assert_eq!(
        cert.crl_distribution_points,
        template.crl_distribution_points
    );
    assert_eq!(cert.ocsp_servers, template.ocsp_servers);
    assert_eq!(
        cert.issuing_certificate_urls,
        template.issuing_certificate_urls
    );
    assert!(cert.matches_spec(&spec).is_empty());

    // The root is self-signed, so it is the CA and not part of the chain.
    assert_eq!(issued.chain_pem, cert.to_pem());
    assert_eq!(issued.ca_pem, root.to_pem());

    cert.check_signature_from(&root).unwrap();
    x509_parser_verify(cert.der(), root.der());
    if have("openssl") {
        let dir = Scratch::new();
        let ca = dir.write("ca.pem", root.to_pem());
        let leaf = dir.write("leaf.pem", &issued.chain_pem);
        let out = stdout("openssl", &["verify", "-CAfile", p(&ca), p(&leaf)]);
        assert!(out.contains(": OK"), "{out}");
        let text = stdout("openssl", &["x509", "-in", p(&leaf), "-noout", "-text"]);
        for expected in [
            "OCSP - URI:http://ocsp.example.com",
            "CA Issuers - URI:http://example.com/ca.crt",
            "URI:http://crl.example.com/ca.crl",
            "DNS:leaf.example.com, email:leaf@example.com, IP Address:192.0.2.10, URI:https://leaf.example.com/",
            "X509v3 Basic Constraints: critical",
            "CA:FALSE",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }
}

#[test]
fn intermediate_issuer_returns_chain_and_root() {
    let chain = [fixture("go/issuer2.crt"), fixture("go/issuer1.crt")].concat();
    let issuer = Issuer::from_pem(
        &chain,
        &fixture("go/issuer2.key"),
        Some(&fixture("go/root.crt")),
    )
    .unwrap();
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let (_, csr) = leaf_request(&key);
    let template = CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap();
    let issued = issuer.sign(&template).unwrap();
    let root = ParsedCertificate::from_pem(&fixture("go/root.crt")).unwrap();
    let chain_certs = pki::decode_certificate_chain(issued.chain_pem.as_bytes()).unwrap();
    assert_eq!(chain_certs.len(), 3);
    assert_eq!(chain_certs[0].der(), issued.certificate.der());
    assert_eq!(
        chain_certs[1].spec.subject.common_name,
        "cert-manager testing Issuer Level 2"
    );
    assert_eq!(
        chain_certs[2].spec.subject.common_name,
        "cert-manager testing Issuer"
    );
    assert_eq!(issued.ca_pem, root.to_pem());
    if have("openssl") {
        let dir = Scratch::new();
        let ca = dir.write("ca.pem", &issued.ca_pem);
        let leaf = dir.write("leaf.pem", chain_certs[0].to_pem());
        let untrusted = dir.write(
            "chain.pem",
            [chain_certs[1].to_pem(), chain_certs[2].to_pem()].concat(),
        );
        let out = stdout(
            "openssl",
            &[
                "verify",
                "-CAfile",
                p(&ca),
                "-untrusted",
                p(&untrusted),
                p(&leaf),
            ],
        );
        assert!(out.contains(": OK"), "{out}");
    }
}

#[test]
fn self_signed_certificates_for_every_key_type() {
    for key_type in [
        KeyType::Ed25519,
        KeyType::Rsa(2048),
        KeyType::Ecdsa(EcCurve::P384),
    ] {
        let key = PrivateKey::generate(key_type).unwrap();
        let spec = CsrSpec {
            basic_constraints: Some(BasicConstraints {
                is_ca: true,
                max_path_len: None,
            }),
            ..leaf_spec("self.example.com")
        };
        let csr = ParsedCsr::from_der(create_csr(&spec, &key, None).unwrap().der()).unwrap();
        let overrides = RequestOverrides::new(Duration::from_secs(86400), true, &[]);
        let template = CertificateTemplate::from_csr(&csr, &overrides).unwrap();
        let issued = pki::self_sign(&template, &key).unwrap();
        let cert = &issued.certificate;
        assert!(cert.is_self_signed(), "{key_type}");
        assert!(cert.is_ca());
        assert_eq!(cert.subject_der, cert.issuer_der);
        assert_eq!(cert.subject_key_id, Some(key.public_key().key_identifier()));
        assert_eq!(cert.authority_key_id, None);
        assert_eq!(issued.chain_pem, issued.ca_pem);
        x509_parser_verify(cert.der(), cert.der());
        if have("openssl") {
            let dir = Scratch::new();
            let path = dir.write("self.pem", &issued.chain_pem);
            let out = stdout("openssl", &["verify", "-CAfile", p(&path), p(&path)]);
            assert!(out.contains(": OK"), "{key_type}: {out}");
        }
    }
}

#[test]
fn ca_keys_pick_go_signature_hashes() {
    for (key_type, algorithm) in [
        (KeyType::Ecdsa(EcCurve::P521), "ecdsa-with-SHA512"),
        (KeyType::Rsa(3072), "sha384WithRSAEncryption"),
    ] {
        let ca_key = PrivateKey::generate(key_type).unwrap();
        let ca = common::self_signed_ca("hash-test-ca", &ca_key);
        let issuer = Issuer::new(vec![ca.certificate.clone()], ca_key).unwrap();
        let leaf_key = ec_key();
        let (_, csr) = leaf_request(&leaf_key);
        let issued = issuer
            .sign(&CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap())
            .unwrap();
        issued
            .certificate
            .check_signature_from(&ca.certificate)
            .unwrap();
        if have("openssl") {
            let dir = Scratch::new();
            let ca_path = dir.write("ca.pem", &ca.chain_pem);
            let leaf = dir.write("leaf.pem", issued.certificate.to_pem());
            let text = stdout("openssl", &["x509", "-in", p(&leaf), "-noout", "-text"]);
            assert!(text.contains(algorithm), "{algorithm}");
            let out = stdout("openssl", &["verify", "-CAfile", p(&ca_path), p(&leaf)]);
            assert!(out.contains(": OK"), "{out}");
        }
    }
}

#[test]
fn csr_contradicting_the_request_is_rejected() {
    let key = ec_key();
    let with_bc = CsrSpec {
        basic_constraints: Some(BasicConstraints::default()),
        ..leaf_spec("bc.example.com")
    };
    let csr = ParsedCsr::from_der(create_csr(&with_bc, &key, None).unwrap().der()).unwrap();
    let ca_overrides = RequestOverrides::new(Duration::from_secs(60), true, &[]);
    let err = CertificateTemplate::from_csr(&csr, &ca_overrides).unwrap_err();
    assert_eq!(
        err.to_string(),
        "encoded CSR error: IsCA false does not match expected value true"
    );

    let (key_usage, ext_key_usages) = key_usages_for(&[Usage::Signing, Usage::ServerAuth], false);
    let usages = CsrSpec {
        key_usage,
        ext_key_usages,
        ..leaf_spec("usages.example.com")
    };
    let csr = ParsedCsr::from_der(create_csr(&usages, &key, None).unwrap().der()).unwrap();
    let client = RequestOverrides::new(
        Duration::from_secs(60),
        false,
        &[Usage::DigitalSignature, Usage::ClientAuth],
    );
    let err = CertificateTemplate::from_csr(&csr, &client).unwrap_err();
    assert_eq!(
        err.to_string(),
        "encoded CSR error: the ExtKeyUsages [ 'server auth' ] do not match the expected ExtKeyUsages [ 'client auth' ]"
    );
    let defaults = RequestOverrides::new(Duration::from_secs(60), false, &[Usage::ServerAuth]);
    let err = CertificateTemplate::from_csr(&csr, &defaults).unwrap_err();
    assert_eq!(
        err.to_string(),
        "encoded CSR error: the KeyUsages [ 'digital signature' ] do not match the expected KeyUsages []"
    );

    // Without usage extensions in the CSR the request's usages simply apply.
    let bare =
        ParsedCsr::from_der(create_csr(&leaf_spec("bare"), &key, None).unwrap().der()).unwrap();
    let template = CertificateTemplate::from_csr(&bare, &client).unwrap();
    assert_eq!(template.ext_key_usages, [ExtKeyUsage::ClientAuth]);
}

#[test]
fn unknown_ekus_are_carried_into_the_certificate() {
    let key = ec_key();
    let (key_usage, mut ext_key_usages) = key_usages_for(&[Usage::ServerAuth], false);
    let custom = der_oid("1.3.6.1.4.1.99999.1");
    ext_key_usages.push(ExtKeyUsage::Other(custom));
    let spec = CsrSpec {
        key_usage,
        ext_key_usages,
        ..leaf_spec("eku.example.com")
    };
    let csr = ParsedCsr::from_der(create_csr(&spec, &key, None).unwrap().der()).unwrap();
    let overrides = RequestOverrides::new(Duration::from_secs(60), false, &[Usage::ServerAuth]);
    let template = CertificateTemplate::from_csr(&csr, &overrides).unwrap();
    let (_, issuer) = go_root();
    let cert = issuer.sign(&template).unwrap().certificate;
    assert_eq!(
        cert.spec.ext_key_usages,
        [ExtKeyUsage::ServerAuth, ExtKeyUsage::Other(custom)]
    );
}

fn der_oid(s: &str) -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new(s).unwrap()
}

#[test]
fn name_constraints_and_other_names_reach_the_certificate() {
    let key = ec_key();
    let mut spec = full_spec();
    spec.key_usage = pki::KeyUsages::default();
    spec.ext_key_usages.clear();
    let csr = ParsedCsr::from_der(create_csr(&spec, &key, None).unwrap().der()).unwrap();
    let overrides = RequestOverrides::new(Duration::from_secs(60), true, &[Usage::CertSign]);
    let template = CertificateTemplate::from_csr(&csr, &overrides).unwrap();
    let issued = pki::self_sign(&template, &key).unwrap();
    let cert = &issued.certificate;
    assert_eq!(cert.spec.name_constraints, spec.name_constraints);
    assert_eq!(cert.spec.other_names, spec.other_names);
    assert!(cert.matches_spec(&spec).is_empty());
    if have("openssl") {
        let dir = Scratch::new();
        let path = dir.write("ca.pem", &issued.chain_pem);
        let text = stdout("openssl", &["x509", "-in", p(&path), "-noout", "-text"]);
        assert!(text.contains("X509v3 Name Constraints: critical"), "{text}");
        assert!(text.contains("Excluded:"), "{text}");
    }
}

#[test]
fn san_is_critical_when_subject_is_empty() {
    let key = ec_key();
    let spec = CsrSpec {
        dns_names: strings(&["nosubject.example.com"]),
        ..Default::default()
    };
    let csr = ParsedCsr::from_der(create_csr(&spec, &key, None).unwrap().der()).unwrap();
    assert_eq!(csr.subject_der(), [0x30, 0x00]);
    let (_, issuer) = go_root();
    let cert = issuer
        .sign(&CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap())
        .unwrap()
        .certificate;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
    let san = parsed
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "2.5.29.17")
        .unwrap();
    assert!(san.critical);
}

#[test]
fn signing_refuses_the_wrong_key() {
    let key = ec_key();
    let (_, csr) = leaf_request(&key);
    let template = CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap();
    let err = pki::self_sign(&template, &ec_key()).unwrap_err();
    assert_eq!(err.to_string(), "CSR not signed by referenced private key");
    let wrong =
        Issuer::from_pem(&fixture("go/root.crt"), &fixture("go/issuer1.key"), None).unwrap();
    let err = wrong.sign(&template).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch(_)), "{err}");
}

#[test]
fn temporary_certificate_uses_a_throwaway_ca() {
    let key = ec_key();
    let spec = leaf_spec("temp.example.com");
    let pem = pki::temporary_certificate(&spec, &key, &server_overrides()).unwrap();
    let cert = ParsedCertificate::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(cert.issuer.common_name, "cert-manager.local");
    assert_eq!(&cert.public_key, key.public_key());
    assert_eq!(cert.spec.dns_names, spec.dns_names);
    assert!(cert.authority_key_id.is_some());
}

#[test]
fn certificate_matches_spec_is_fuzzy_about_common_names() {
    let key = ec_key();
    let issued_spec = CsrSpec {
        dns_names: strings(&["b.example.com"]),
        ip_addresses: ips(&["10.0.0.1"]),
        ..leaf_spec("a.example.com")
    };
    let issued_spec = CsrSpec {
        dns_names: strings(&["b.example.com"]),
        ..issued_spec
    };
    let csr = ParsedCsr::from_der(create_csr(&issued_spec, &key, None).unwrap().der()).unwrap();
    let (_, issuer) = go_root();
    let cert = issuer
        .sign(&CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap())
        .unwrap()
        .certificate;

    // The CA may move the CN into the DNS names or the other way round.
    let moved = CsrSpec {
        subject: Subject::default(),
        dns_names: strings(&["a.example.com", "b.example.com"]),
        ip_addresses: ips(&["10.0.0.1"]),
        ..Default::default()
    };
    assert!(cert.matches_spec(&moved).is_empty());

    let extra_dns = CsrSpec {
        dns_names: strings(&["a.example.com", "b.example.com", "c.example.com"]),
        ..moved.clone()
    };
    assert_eq!(cert.matches_spec(&extra_dns), ["spec.dnsNames"]);

    let other_cn = CsrSpec {
        subject: Subject {
            common_name: "z.example.com".into(),
            ..Default::default()
        },
        ip_addresses: ips(&["10.0.0.2"]),
        email_addresses: strings(&["x@example.com"]),
        ..moved
    };
    assert_eq!(
        cert.matches_spec(&other_cn),
        ["spec.commonName", "spec.ipAddresses", "spec.emailAddresses"]
    );
}

#[test]
fn not_after_can_be_clamped_to_the_issuer() {
    let key = ec_key();
    let (_, csr) = leaf_request(&key);
    let mut template = CertificateTemplate::from_csr(
        &csr,
        &RequestOverrides::new(
            Duration::from_secs(365 * 86400),
            false,
            &[
                Usage::DigitalSignature,
                Usage::KeyEncipherment,
                Usage::ServerAuth,
            ],
        ),
    )
    .unwrap();
    let limit = SystemTime::now() + Duration::from_secs(7200);
    template.clamp_not_after(limit);
    assert_eq!(template.not_after, limit);
}

#[test]
fn openssl_made_requests_and_certificates() {
    if !have("openssl") {
        return;
    }
    let dir = Scratch::new();
    let key = dir.path("key.pem");
    run(
        "openssl",
        &["genpkey", "-algorithm", "RSA", "-out", p(&key)],
    );
    let csr_for = |digest: &str| {
        let path = dir.path(&format!("{digest}.csr"));
        run(
            "openssl",
            &[
                "req",
                "-new",
                "-key",
                p(&key),
                &format!("-{digest}"),
                "-subj",
                "/O=Acme/CN=ossl.example.com",
                "-addext",
                "subjectAltName=DNS:ossl.example.com,IP:192.0.2.1,URI:urn:x",
                "-addext",
                "keyUsage=critical,digitalSignature,keyEncipherment",
                "-addext",
                "extendedKeyUsage=serverAuth",
                "-out",
                p(&path),
            ],
        );
        ParsedCsr::from_pem(&std::fs::read(path).unwrap()).unwrap()
    };
    let csr = csr_for("sha256");
    csr.verify_signature().unwrap();
    assert_eq!(csr.spec.dns_names, ["ossl.example.com"]);
    assert_eq!(csr.spec.ip_addresses, ips(&["192.0.2.1"]));
    assert_eq!(csr.spec.uris, ["urn:x"]);
    assert_eq!(csr.spec.subject.organizations, ["Acme"]);
    let (_, issuer) = go_root();
    let cert = issuer
        .sign(&CertificateTemplate::from_csr(&csr, &server_overrides()).unwrap())
        .unwrap()
        .certificate;
    assert_eq!(cert.spec.dns_names, ["ossl.example.com"]);
    // Go accepts SHA-1 on CSRs.
    csr_for("sha1").verify_signature().unwrap();

    // RSA-PSS signatures verify (salt length = hash length, as Go requires);
    // SHA-1 certificate signatures are refused.
    let pss = dir.path("pss.crt");
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-key",
            p(&key),
            "-subj",
            "/CN=pss",
            "-days",
            "1",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
            "-out",
            p(&pss),
        ],
    );
    let pss = ParsedCertificate::from_pem(&std::fs::read(pss).unwrap()).unwrap();
    assert!(pss.is_self_signed());
    let sha1 = dir.path("sha1.crt");
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-key",
            p(&key),
            "-subj",
            "/CN=sha1",
            "-days",
            "1",
            "-sha1",
            "-out",
            p(&sha1),
        ],
    );
    let sha1 = ParsedCertificate::from_pem(&std::fs::read(sha1).unwrap()).unwrap();
    assert!(sha1.is_ca());
    assert!(!sha1.is_self_signed());
}

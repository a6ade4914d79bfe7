//! PKCS#12 and JKS stores, read back by p12-keystore, OpenSSL and keytool.

mod common;

use common::{Scratch, ec_key, fixture, have, p, run, server_overrides, stdout};
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use pki::encode::jks::{DEFAULT_JKS_ALIAS, encode_jks_keystore, encode_jks_truststore};
use pki::encode::pkcs12::{
    PKCS12_KEY_ALIAS, Pkcs12Profile, encode_pkcs12_keystore, encode_pkcs12_truststore,
};
use pki::{CertificateTemplate, Issuer, KeyEncoding, KeyType, ParsedCertificate, PrivateKey};

const PASSWORD: &str = "s3cr3t-pass";

/// `tls.key`, `tls.crt` (leaf + two intermediates) and `ca.crt` for a leaf
/// issued by the Go fixture chain.
struct SecretData {
    key: PrivateKey,
    key_pem: String,
    cert_pem: String,
    ca_pem: String,
}

fn secret_data(key_type: KeyType) -> SecretData {
    let chain = [fixture("go/issuer2.crt"), fixture("go/issuer1.crt")].concat();
    let issuer = Issuer::from_pem(
        &chain,
        &fixture("go/issuer2.key"),
        Some(&fixture("go/root.crt")),
    )
    .unwrap();
    let key = PrivateKey::generate(key_type).unwrap();
    let template = CertificateTemplate::from_spec(
        &common::leaf_spec("store.example.com"),
        key.public_key().clone(),
        &server_overrides(),
    )
    .unwrap();
    let issued = issuer.sign(&template).unwrap();
    SecretData {
        key_pem: key.to_pem(KeyEncoding::Pkcs1).unwrap().to_string(),
        key,
        cert_pem: issued.chain_pem,
        ca_pem: issued.ca_pem,
    }
}

const PROFILES: [Pkcs12Profile; 4] = [
    Pkcs12Profile::LegacyRc2,
    Pkcs12Profile::LegacyDes,
    Pkcs12Profile::Modern2023,
    Pkcs12Profile::Modern2026,
];

#[test]
fn profiles_parse_from_api_values() {
    assert_eq!(Pkcs12Profile::from_api(""), Pkcs12Profile::LegacyRc2);
    assert_eq!(
        Pkcs12Profile::from_api("LegacyDES"),
        Pkcs12Profile::LegacyDes
    );
    assert_eq!(
        Pkcs12Profile::from_api("Modern2023"),
        Pkcs12Profile::Modern2023
    );
    assert_eq!(
        Pkcs12Profile::from_api("Modern2026"),
        Pkcs12Profile::Modern2026
    );
    assert_eq!(Pkcs12Profile::from_api("bogus"), Pkcs12Profile::LegacyRc2);
}

#[test]
fn pkcs12_keystore_round_trips_for_every_profile() {
    let data = secret_data(KeyType::Ecdsa(pki::EcCurve::P256));
    let leaf = ParsedCertificate::from_pem(data.cert_pem.as_bytes()).unwrap();
    for profile in PROFILES {
        let p12 = encode_pkcs12_keystore(
            profile,
            PASSWORD,
            data.key_pem.as_bytes(),
            data.cert_pem.as_bytes(),
            data.ca_pem.as_bytes(),
        )
        .unwrap();
        let store = KeyStore::from_pkcs12(&p12, PASSWORD, Pkcs12ImportPolicy::Relaxed).unwrap();
        let (alias, chain) = store.private_key_chain().expect("a key entry");
        assert_eq!(alias, PKCS12_KEY_ALIAS);
        let key = PrivateKey::from_pkcs8_der(chain.key().as_der()).unwrap();
        assert_eq!(key.public_key(), data.key.public_key(), "{profile:?}");
        // Leaf, two intermediates from tls.crt, then the root from ca.crt.
        assert_eq!(chain.certs().len(), 4, "{profile:?}");
        assert_eq!(chain.certs()[0].as_der(), leaf.der());
        assert!(KeyStore::from_pkcs12(&p12, "wrong", Pkcs12ImportPolicy::Relaxed).is_err());
    }
}

#[test]
fn pkcs12_truststore_holds_the_cas() {
    let data = secret_data(KeyType::Ed25519);
    let p12 = encode_pkcs12_truststore(Pkcs12Profile::Modern2023, PASSWORD, data.ca_pem.as_bytes())
        .unwrap();
    let store = KeyStore::from_pkcs12(&p12, PASSWORD, Pkcs12ImportPolicy::Relaxed).unwrap();
    let entries: Vec<_> = store.entries().collect();
    assert_eq!(entries.len(), 1);
    let (alias, entry) = entries[0];
    assert_eq!(alias, "CN=cert-manager testing CA,O=cert-manager,C=UK");
    assert!(matches!(entry, KeyStoreEntry::Certificate(_)));

    // Duplicate subjects are kept under distinct names.
    let twice = [data.ca_pem.clone(), fixture_text("go/root.crt")].concat();
    let p12 =
        encode_pkcs12_truststore(Pkcs12Profile::LegacyDes, PASSWORD, twice.as_bytes()).unwrap();
    let store = KeyStore::from_pkcs12(&p12, PASSWORD, Pkcs12ImportPolicy::Relaxed).unwrap();
    assert_eq!(store.entries_len(), 2);
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

#[test]
fn keystores_reject_bad_input() {
    let data = secret_data(KeyType::Ecdsa(pki::EcCurve::P256));
    let other_key = ec_key().to_pem(KeyEncoding::Pkcs8).unwrap();
    assert!(
        encode_pkcs12_keystore(
            Pkcs12Profile::LegacyRc2,
            PASSWORD,
            b"nope",
            data.cert_pem.as_bytes(),
            b""
        )
        .is_err()
    );
    assert!(
        encode_pkcs12_keystore(
            Pkcs12Profile::LegacyRc2,
            PASSWORD,
            other_key.as_bytes(),
            b"",
            b""
        )
        .is_err()
    );
    assert!(
        encode_jks_keystore(PASSWORD.as_bytes(), "a", data.key_pem.as_bytes(), b"x", b"").is_err()
    );
    assert!(encode_jks_truststore(PASSWORD.as_bytes(), b"not a cert").is_err());
}

#[test]
fn openssl_reads_pkcs12_stores() {
    if !have("openssl") {
        return;
    }
    let dir = Scratch::new();
    let data = secret_data(KeyType::Rsa(2048));
    let pass = format!("pass:{PASSWORD}");
    for profile in PROFILES {
        let p12 = encode_pkcs12_keystore(
            profile,
            PASSWORD,
            data.key_pem.as_bytes(),
            data.cert_pem.as_bytes(),
            data.ca_pem.as_bytes(),
        )
        .unwrap();
        let path = dir.write("keystore.p12", &p12);
        // No -legacy needed: nothing here uses RC2.
        let info = run(
            "openssl",
            &[
                "pkcs12",
                "-info",
                "-in",
                p(&path),
                "-passin",
                &pass,
                "-nodes",
            ],
        );
        let text = String::from_utf8_lossy(&info.stdout);
        assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 4, "{profile:?}");
        let key_pem = text
            .split("-----BEGIN PRIVATE KEY-----")
            .nth(1)
            .and_then(|rest| rest.split("-----END PRIVATE KEY-----").next())
            .expect("private key in output");
        let key_pem = format!("-----BEGIN PRIVATE KEY-----{key_pem}-----END PRIVATE KEY-----\n");
        let key = PrivateKey::from_pem(key_pem.as_bytes()).unwrap();
        assert_eq!(key.public_key(), data.key.public_key(), "{profile:?}");

        let trust = encode_pkcs12_truststore(profile, PASSWORD, data.ca_pem.as_bytes()).unwrap();
        let path = dir.write("truststore.p12", &trust);
        let out = stdout(
            "openssl",
            &[
                "pkcs12",
                "-info",
                "-in",
                p(&path),
                "-passin",
                &pass,
                "-nokeys",
            ],
        );
        assert!(
            out.contains("friendlyName: CN=cert-manager testing CA,O=cert-manager,C=UK"),
            "{out}"
        );
        assert!(
            out.contains("2.16.840.1.113894.746875.1.1"),
            "Java trust attribute: {out}"
        );
    }
}

#[test]
fn keytool_reads_pkcs12_stores() {
    if !have("keytool") {
        return;
    }
    let dir = Scratch::new();
    let data = secret_data(KeyType::Ecdsa(pki::EcCurve::P384));
    for profile in [Pkcs12Profile::LegacyRc2, Pkcs12Profile::Modern2023] {
        let p12 = encode_pkcs12_keystore(
            profile,
            PASSWORD,
            data.key_pem.as_bytes(),
            data.cert_pem.as_bytes(),
            data.ca_pem.as_bytes(),
        )
        .unwrap();
        let path = dir.write("keystore.p12", &p12);
        let out = stdout(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                p(&path),
                "-storepass",
                PASSWORD,
            ],
        );
        assert!(out.contains("Your keystore contains 1 entry"), "{out}");
        assert!(
            out.contains("1, ") && out.contains("PrivateKeyEntry"),
            "{out}"
        );
        let trust = encode_pkcs12_truststore(profile, PASSWORD, data.ca_pem.as_bytes()).unwrap();
        let path = dir.write("truststore.p12", &trust);
        let out = stdout(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                p(&path),
                "-storepass",
                PASSWORD,
            ],
        );
        assert!(out.contains("trustedCertEntry"), "{out}");
    }
}

#[test]
fn keytool_reads_jks_stores_and_recovers_the_key() {
    if !have("keytool") {
        return;
    }
    let dir = Scratch::new();
    let data = secret_data(KeyType::Ecdsa(pki::EcCurve::P256));
    let jks = encode_jks_keystore(
        PASSWORD.as_bytes(),
        "My-Alias",
        data.key_pem.as_bytes(),
        data.cert_pem.as_bytes(),
        data.ca_pem.as_bytes(),
    )
    .unwrap();
    let path = dir.write("keystore.jks", &jks);
    let out = stdout(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            "JKS",
            "-keystore",
            p(&path),
            "-storepass",
            PASSWORD,
        ],
    );
    assert!(out.contains("Your keystore contains 2 entries"), "{out}");
    assert!(out.contains("Alias name: my-alias"), "{out}");
    assert!(out.contains("Entry type: PrivateKeyEntry"), "{out}");
    assert!(out.contains("Certificate chain length: 3"), "{out}");
    assert!(out.contains("Alias name: ca"), "{out}");
    assert!(out.contains("Entry type: trustedCertEntry"), "{out}");

    // Java must be able to unprotect the key: convert to PKCS#12 and read
    // the key back.
    if have("openssl") {
        let p12 = dir.path("converted.p12");
        run(
            "keytool",
            &[
                "-importkeystore",
                "-noprompt",
                "-srckeystore",
                p(&path),
                "-srcstoretype",
                "JKS",
                "-srcstorepass",
                PASSWORD,
                "-destkeystore",
                p(&p12),
                "-deststoretype",
                "PKCS12",
                "-deststorepass",
                PASSWORD,
            ],
        );
        let pass = format!("pass:{PASSWORD}");
        let key_pem = stdout(
            "openssl",
            &[
                "pkcs12",
                "-in",
                p(&p12),
                "-passin",
                &pass,
                "-nodes",
                "-nocerts",
            ],
        );
        let start = key_pem.find("-----BEGIN").unwrap();
        let key = PrivateKey::from_pem(&key_pem.as_bytes()[start..]).unwrap();
        assert_eq!(key.public_key(), data.key.public_key());
    }

    let trust = encode_jks_truststore(PASSWORD.as_bytes(), data.ca_pem.as_bytes()).unwrap();
    let path = dir.write("truststore.jks", &trust);
    let out = stdout(
        "keytool",
        &[
            "-list",
            "-storetype",
            "JKS",
            "-keystore",
            p(&path),
            "-storepass",
            PASSWORD,
        ],
    );
    assert!(out.contains("Your keystore contains 1 entry"), "{out}");
    assert!(
        out.contains("ca, ") && out.contains("trustedCertEntry"),
        "{out}"
    );

    // A wrong password fails the integrity check.
    let bad = std::process::Command::new("keytool")
        .args([
            "-list",
            "-storetype",
            "JKS",
            "-keystore",
            p(&path),
            "-storepass",
            "wrong-pass",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn jks_default_alias_is_certificate() {
    assert_eq!(DEFAULT_JKS_ALIAS, "certificate");
}

#[test]
fn additional_output_formats() {
    let data = secret_data(KeyType::Ecdsa(pki::EcCurve::P256));
    let combined = pki::encode::combined_pem(data.key_pem.as_bytes(), data.cert_pem.as_bytes());
    let text = std::str::from_utf8(&combined).unwrap();
    assert!(text.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    assert!(text.contains("-----END EC PRIVATE KEY-----\n\n-----BEGIN CERTIFICATE-----"));
    // key.der is the tls.key block as-is: SEC 1 here, PKCS#8 for PKCS8 keys.
    let der = pki::encode::private_key_der(data.key_pem.as_bytes()).unwrap();
    assert_eq!(&der[..], &data.key.to_sec1_der().unwrap()[..]);
    let pkcs8_pem = data.key.to_pem(KeyEncoding::Pkcs8).unwrap();
    let der = pki::encode::private_key_der(pkcs8_pem.as_bytes()).unwrap();
    assert_eq!(&der[..], &data.key.to_pkcs8_der().unwrap()[..]);
}

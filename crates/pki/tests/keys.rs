//! Key generation, encodings and interop with Go- and OpenSSL-written keys.

mod common;

use common::{Scratch, fixture, have, p, run, stdout};
use pki::{
    EcCurve, Error, KeyAlgorithm, KeyEncoding, KeyType, PrivateKey, PublicKey, PublicKeyKind,
};

const FAST_TYPES: [KeyType; 5] = [
    KeyType::Rsa(2048),
    KeyType::Ecdsa(EcCurve::P256),
    KeyType::Ecdsa(EcCurve::P384),
    KeyType::Ecdsa(EcCurve::P521),
    KeyType::Ed25519,
];

fn pem_tag(pem: &str) -> &str {
    pem.lines()
        .next()
        .unwrap()
        .trim_start_matches("-----BEGIN ")
        .trim_end_matches("-----")
}

fn assert_round_trip(key: &PrivateKey) {
    let key_type = key.key_type();
    for encoding in [KeyEncoding::Pkcs1, KeyEncoding::Pkcs8] {
        let pem = key.to_pem(encoding).unwrap();
        let expected_tag = match (encoding, key_type) {
            (KeyEncoding::Pkcs1, KeyType::Rsa(_)) => "RSA PRIVATE KEY",
            (KeyEncoding::Pkcs1, KeyType::Ecdsa(_)) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        assert_eq!(pem_tag(&pem), expected_tag, "{key_type} {encoding:?}");
        let back = PrivateKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(back.key_type(), key_type);
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(
            back.to_pem(encoding).unwrap(),
            pem,
            "{key_type} re-encodes identically"
        );
    }
    let pkcs8 = key.to_pkcs8_der().unwrap();
    assert_eq!(
        PrivateKey::from_pkcs8_der(&pkcs8).unwrap().public_key(),
        key.public_key()
    );
    match key_type {
        KeyType::Rsa(_) => {
            let der = key.to_pkcs1_der().unwrap();
            assert_eq!(
                PrivateKey::from_pkcs1_der(&der).unwrap().public_key(),
                key.public_key()
            );
            assert!(key.to_sec1_der().is_err());
        }
        KeyType::Ecdsa(_) => {
            let der = key.to_sec1_der().unwrap();
            assert_eq!(
                PrivateKey::from_sec1_der(&der).unwrap().public_key(),
                key.public_key()
            );
            assert!(key.to_pkcs1_der().is_err());
        }
        KeyType::Ed25519 => {
            assert!(key.to_pkcs1_der().is_err());
            assert!(key.to_sec1_der().is_err());
        }
    }
}

#[test]
fn every_key_type_round_trips_through_every_encoding() {
    for key_type in FAST_TYPES {
        let key = PrivateKey::generate(key_type).unwrap();
        assert_eq!(key.key_type(), key_type);
        assert_round_trip(&key);
    }
}

#[test]
fn large_rsa_keys_round_trip() {
    // RSA-3072 and 4096 are the sizes with their own signature hashes.
    for bits in [3072, 4096] {
        let key = PrivateKey::generate(KeyType::Rsa(bits)).unwrap();
        assert_eq!(
            key.public_key().kind(),
            PublicKeyKind::Rsa {
                bits: bits as usize
            }
        );
        assert_round_trip(&key);
    }
}

/// The one RSA-8192 generation (several seconds in debug builds).
#[test]
fn rsa_8192_round_trips() {
    let key = PrivateKey::generate(KeyType::Rsa(8192)).unwrap();
    assert_round_trip(&key);
}

#[test]
fn go_written_keys_load_and_reencode_byte_for_byte() {
    for (name, encoding) in [
        ("go/root.key", KeyEncoding::Pkcs1),
        ("go/issuer1.key", KeyEncoding::Pkcs1),
        ("go/rsa-pkcs1.key", KeyEncoding::Pkcs1),
        ("go/rsa-pkcs8.key", KeyEncoding::Pkcs8),
    ] {
        let pem = String::from_utf8(fixture(name)).unwrap();
        let key = PrivateKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(
            key.to_pem(encoding).unwrap().trim_end(),
            pem.trim_end(),
            "{name}"
        );
    }
    let root = pki::ParsedCertificate::from_pem(&fixture("go/root.crt")).unwrap();
    let key = PrivateKey::from_pem(&fixture("go/root.key")).unwrap();
    assert!(key.public_key().matches(&root.public_key).unwrap());
    let other = PrivateKey::from_pem(&fixture("go/issuer1.key")).unwrap();
    assert!(!other.public_key().matches(&root.public_key).unwrap());
}

/// `openssl pkey -pubout -outform DER` for a key file.
fn openssl_spki(path: &std::path::Path) -> Vec<u8> {
    run(
        "openssl",
        &["pkey", "-in", p(path), "-pubout", "-outform", "DER"],
    )
    .stdout
}

#[test]
fn openssl_generated_keys_load() {
    if !have("openssl") {
        return;
    }
    let dir = Scratch::new();
    let cases: [(&str, &[&str], KeyType); 8] = [
        (
            "rsa8.pem",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            KeyType::Rsa(2048),
        ),
        (
            "rsa1.pem",
            &["genrsa", "-traditional", "2048"],
            KeyType::Rsa(2048),
        ),
        (
            "ec256.pem",
            &["ecparam", "-genkey", "-name", "prime256v1", "-noout"],
            KeyType::Ecdsa(EcCurve::P256),
        ),
        (
            "ec384.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
            ],
            KeyType::Ecdsa(EcCurve::P384),
        ),
        (
            "ec521.pem",
            &["ecparam", "-genkey", "-name", "secp521r1", "-noout"],
            KeyType::Ecdsa(EcCurve::P521),
        ),
        (
            "ec521p8.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
            ],
            KeyType::Ecdsa(EcCurve::P521),
        ),
        (
            "ed.pem",
            &["genpkey", "-algorithm", "ED25519"],
            KeyType::Ed25519,
        ),
        (
            "ec256p8.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ],
            KeyType::Ecdsa(EcCurve::P256),
        ),
    ];
    for (name, args, key_type) in cases {
        let path = dir.path(name);
        let mut args = args.to_vec();
        args.splice(1..1, ["-out", p(&path)]);
        run("openssl", &args);
        let key = PrivateKey::from_pem(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.key_type(), key_type, "{name}");
        let spki = openssl_spki(&path);
        assert_eq!(key.public_key().spki_der(), spki, "{name}");
        let expected = stdout(
            "openssl",
            &["dgst", "-sha256", "-r", p(&dir.write("spki.der", &spki))],
        );
        assert!(
            expected.starts_with(&key.public_key().fingerprint_hex()),
            "{name}"
        );
    }
    // SEC 1 without the optional public key: derived from the scalar.
    let no_pub = dir.path("nopub.pem");
    run(
        "openssl",
        &[
            "ec",
            "-in",
            p(&dir.path("ec256.pem")),
            "-no_public",
            "-out",
            p(&no_pub),
        ],
    );
    let key = PrivateKey::from_pem(&std::fs::read(&no_pub).unwrap()).unwrap();
    assert_eq!(
        key.public_key().spki_der(),
        openssl_spki(&dir.path("ec256.pem"))
    );
}

#[test]
fn openssl_reads_our_keys() {
    if !have("openssl") {
        return;
    }
    let dir = Scratch::new();
    for key_type in FAST_TYPES {
        let key = PrivateKey::generate(key_type).unwrap();
        for encoding in [KeyEncoding::Pkcs1, KeyEncoding::Pkcs8] {
            let path = dir.write("key.pem", key.to_pem(encoding).unwrap().as_bytes());
            run("openssl", &["pkey", "-in", p(&path), "-check", "-noout"]);
            assert_eq!(
                openssl_spki(&path),
                key.public_key().spki_der(),
                "{key_type}"
            );
        }
    }
}

#[test]
fn spki_encoding_differences_do_not_matter() {
    let key = PrivateKey::generate(KeyType::Rsa(2048)).unwrap();
    let spki = key.public_key().spki_der();
    // Same key with the RSA AlgorithmIdentifier NULL parameter left out.
    let without_null = {
        let alg_no_null = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
        ];
        let alg_with_null_len = 15;
        let bits = &spki[4 + alg_with_null_len..];
        let mut body = alg_no_null.to_vec();
        body.extend_from_slice(bits);
        let mut out = vec![0x30, 0x82, (body.len() >> 8) as u8, body.len() as u8];
        out.extend(body);
        out
    };
    let other = PublicKey::from_spki_der(&without_null).unwrap();
    assert!(key.public_key().matches(&other).unwrap());
    assert_eq!(other.spki_der(), spki, "canonical form restores the NULL");
    assert_eq!(other.fingerprint(), key.public_key().fingerprint());
}

#[test]
fn public_keys_of_different_types_do_not_match() {
    let a = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
    let b = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P384)).unwrap();
    let c = PrivateKey::generate(KeyType::Ed25519).unwrap();
    assert!(!a.public_key().matches(b.public_key()).unwrap());
    assert!(!c.public_key().matches(a.public_key()).unwrap());
    assert!(a.public_key().matches(a.public_key()).unwrap());
}

#[test]
fn private_key_matches_spec_uses_cert_manager_defaults() {
    let key = PrivateKey::from_pem(&fixture("go/rsa-pkcs1.key")).unwrap();
    assert!(key.matches_spec(KeyAlgorithm::Rsa, 0).is_empty());
    assert_eq!(
        key.matches_spec(KeyAlgorithm::Rsa, 4096),
        ["spec.privateKey.size"]
    );
    assert_eq!(
        key.matches_spec(KeyAlgorithm::Ed25519, 0),
        ["spec.privateKey.algorithm"]
    );
}

fn assert_error_is_clean(err: &Error, secret_pem: &str) {
    let text = format!("{err} {err:?}");
    for line in secret_pem.lines().filter(|l| !l.starts_with("-----")) {
        for chunk in line.as_bytes().chunks(16) {
            let chunk = std::str::from_utf8(chunk).unwrap();
            assert!(!text.contains(chunk), "error leaks key material: {text}");
        }
    }
}

#[test]
fn bad_key_input_is_reported_not_panicked() {
    let good = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
    let sec1_pem = good.to_pem(KeyEncoding::Pkcs1).unwrap();
    let pkcs8 = good.to_pkcs8_der().unwrap();

    // Garbage and non-PEM input.
    assert!(matches!(
        PrivateKey::from_pem(b"not a key"),
        Err(Error::NoPemData)
    ));
    assert!(matches!(PrivateKey::from_pem(b""), Err(Error::NoPemData)));
    // Wrong block type.
    let cert = fixture("go/root.crt");
    let err = PrivateKey::from_pem(&cert).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown private key type: CERTIFICATE"),
        "{err}"
    );
    let err = PrivateKey::from_pem(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap_err();
    assert!(matches!(err, Error::UnknownPrivateKeyType(_)), "{err}");
    // Right tag, wrong contents: a SEC 1 key labelled as PKCS#1.
    let mislabelled = sec1_pem.replace("EC PRIVATE KEY", "RSA PRIVATE KEY");
    let err = PrivateKey::from_pem(mislabelled.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("rsa private key"), "{err}");
    assert_error_is_clean(&err, &sec1_pem);
    // Truncated DER.
    for cut in [1, pkcs8.len() / 2, pkcs8.len() - 1] {
        let err = PrivateKey::from_pkcs8_der(&pkcs8[..cut]).unwrap_err();
        assert!(err.to_string().contains("pkcs#8"), "{err}");
        assert_error_is_clean(&err, &sec1_pem);
    }
    // SEC 1 whose public key belongs to another key.
    let other = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
    let mut sec1 = good.to_sec1_der().unwrap().to_vec();
    let theirs = other.to_sec1_der().unwrap();
    let n = sec1.len();
    sec1[n - 65..].copy_from_slice(&theirs[theirs.len() - 65..]);
    let err = PrivateKey::from_sec1_der(&sec1).unwrap_err();
    assert!(err.to_string().contains("ecdsa"), "{err}");
    assert_error_is_clean(&err, &sec1_pem);
    // Oversized input.
    let huge = vec![b'A'; 20_000];
    assert!(matches!(
        PrivateKey::from_pem(&huge),
        Err(Error::PemTooLarge { max: 13000 })
    ));
    // Unsupported algorithm (X25519 is not a signing key).
    let x25519 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIFBvKjc1p2+DTpJJUnR5qZEuTMhdGahVqIfOQJ2aVkBu\n-----END PRIVATE KEY-----\n";
    let err = PrivateKey::from_pem(x25519.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedKey(_)), "{err}");
}

#[test]
fn key_identifier_is_truncated_sha256_of_key_bits() {
    if !have("openssl") {
        return;
    }
    let key = PrivateKey::from_pem(&fixture("go/root.key")).unwrap();
    let spki = key.public_key().spki_der();
    // For P-256 the key bits are the last 65 bytes of the SPKI.
    let dir = Scratch::new();
    let bits = dir.write("bits", &spki[spki.len() - 65..]);
    let digest = run("openssl", &["dgst", "-sha256", "-binary", p(&bits)]).stdout;
    assert_eq!(key.public_key().key_identifier(), digest[..20]);
}

#[test]
fn pem_layout_variations_are_accepted() {
    let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
    let pem = key.to_pem(KeyEncoding::Pkcs8).unwrap();
    let crlf = pem.replace('\n', "\r\n");
    let padded = format!("\n  leading text\n{}\ntrailing text\n", *pem);
    for input in [crlf, padded] {
        let back = PrivateKey::from_pem(input.as_bytes()).unwrap();
        assert_eq!(back.public_key(), key.public_key());
    }
}

#[test]
fn keys_match_their_certificate_and_csr() {
    let key = PrivateKey::from_pem(&fixture("go/issuer1.key")).unwrap();
    let cert = pki::ParsedCertificate::from_pem(&fixture("go/issuer1.crt")).unwrap();
    assert!(cert.public_key_matches(key.public_key()).unwrap());
    let other = PrivateKey::generate(KeyType::Ed25519).unwrap();
    assert!(!cert.public_key_matches(other.public_key()).unwrap());
    let csr = pki::create_csr(&common::leaf_spec("k.example.com"), &other, None).unwrap();
    let csr = pki::ParsedCsr::from_der(csr.der()).unwrap();
    assert!(csr.public_key_matches(other.public_key()).unwrap());
    assert!(!csr.public_key_matches(key.public_key()).unwrap());
}

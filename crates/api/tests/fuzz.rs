//! Fuzz-style robustness: thousands of random mutations of the example manifests (and of
//! their YAML text) go through decoding and validation. Bad input must produce errors, never a
//! panic; decode errors name the offending field.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use api::validation::{self, ValidationGates};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const NASTY_STRINGS: &[&str] = &[
    "",
    " ",
    "..",
    "a/../b",
    "-1h",
    "0",
    "1h",
    "9223372036854775807h",
    "1e400",
    "\u{0}",
    "é",
    "CN=",
    "CN=\\",
    "=,+;",
    "#zz",
    "[::1",
    "::1",
    "256.0.0.1",
    "*.example.com",
    "@daily",
    "* * * * * *",
    "60 * * * *",
    "CRON_TZ=",
    "Europe/Nowhere",
    "a@b@c",
    "<x@y>",
    "RSA",
    "ECDSA",
    "Ed25519",
    "DER",
    "True",
    "False",
    "Approved",
    "Denied",
    "HTTP-01",
    "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 2 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.next() as i64 >> rng.below(64)),
        3 => json!((rng.next() as f64) / 7.0 - 1e18),
        4 | 5 => Value::String(if rng.below(3) == 0 {
            "x".repeat(rng.below(400))
        } else {
            NASTY_STRINGS[rng.below(NASTY_STRINGS.len())].to_owned()
        }),
        6 => Value::Array(
            (0..rng.below(3))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(3) {
                m.insert(
                    ["name", "key", "type", "status", "size", "kind", "x"][rng.below(7)].to_owned(),
                    random_value(rng, depth + 1),
                );
            }
            Value::Object(m)
        }
    }
}

/// Picks a random node and replaces, deletes or duplicates it.
fn mutate(rng: &mut Rng, v: &mut Value) {
    // Choose a random path first, then borrow that node mutably.
    let mut pointer = String::new();
    let mut cursor: &Value = v;
    for _ in 0..rng.below(8) {
        let step = match cursor {
            Value::Object(m) if !m.is_empty() => {
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                Some((k.replace('~', "~0").replace('/', "~1"), &m[&k]))
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                Some((i.to_string(), &a[i]))
            }
            _ => None,
        };
        match step {
            Some((token, next)) => {
                pointer.push('/');
                pointer.push_str(&token);
                cursor = next;
            }
            None => break,
        }
    }
    let node = v.pointer_mut(&pointer).unwrap();
    match rng.below(4) {
        0 => *node = random_value(rng, 0),
        1 => {
            if let Value::Object(m) = node
                && !m.is_empty()
            {
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                m.remove(&k);
            }
        }
        2 => {
            if let Value::Array(a) = node
                && let Some(first) = a.first().cloned()
            {
                a.push(first);
            } else {
                *node = random_value(rng, 0);
            }
        }
        _ => {
            if let Value::Object(m) = node {
                m.insert("unknownField".into(), random_value(rng, 0));
            }
        }
    }
}

fn example_docs() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/examples");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        out.push(("text".to_owned(), Value::String(text.clone())));
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap();
            out.push((v["kind"].as_str().unwrap().to_owned(), v));
        }
    }
    out
}

/// Decodes `v` as `kind` and validates it as created and as updated from `original`.
fn exercise(kind: &str, original: &Value, v: &Value) {
    let gates = ValidationGates::default();
    macro_rules! run {
        ($t:ty, $create:expr, $update:expr) => {{
            let new = api::decode::from_value::<$t>(v.clone());
            let old = api::decode::from_value::<$t>(original.clone());
            match (old, new) {
                (Ok(old), Ok(new)) => {
                    let _ = $create(&new);
                    let _ = $update(&old, &new);
                    // Encoding what was decoded must work too.
                    serde_json::to_vec(&new).unwrap();
                }
                (_, Err(e)) => assert!(!e.message.is_empty()),
                _ => {}
            }
        }};
    }
    match kind {
        "Certificate" => run!(
            api::Certificate,
            |c| validation::validate_certificate(c, &gates),
            |o, n| validation::validate_certificate_update(o, n, &gates)
        ),
        "CertificateRequest" => run!(
            api::CertificateRequest,
            validation::validate_certificate_request,
            |o, n| (
                validation::validate_certificate_request_update(o, n),
                validation::validate_certificate_request_identity_update(o, n)
            )
        ),
        "Issuer" => run!(
            api::Issuer,
            validation::validate_issuer,
            validation::validate_issuer_update
        ),
        "ClusterIssuer" => run!(
            api::ClusterIssuer,
            validation::validate_cluster_issuer,
            validation::validate_cluster_issuer_update
        ),
        "Order" => run!(
            api::Order,
            validation::validate_order,
            validation::validate_order_update
        ),
        "Challenge" => run!(
            api::Challenge,
            validation::validate_challenge,
            validation::validate_challenge_update
        ),
        _ => unreachable!(),
    }
}

#[test]
fn mutated_examples_never_panic() {
    let docs = example_docs();
    let kinds = [
        "Certificate",
        "CertificateRequest",
        "Issuer",
        "ClusterIssuer",
        "Order",
        "Challenge",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let iterations = 6000;
    for i in 0..iterations {
        let (kind, original) = &docs[rng.below(docs.len())];
        if kind == "text" {
            continue;
        }
        let mut v = original.clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut v);
        }
        // Sometimes decode as another kind entirely.
        let as_kind = if rng.below(5) == 0 {
            kinds[rng.below(kinds.len())]
        } else {
            kind.as_str()
        };
        let result = catch_unwind(AssertUnwindSafe(|| exercise(as_kind, original, &v)));
        assert!(
            result.is_ok(),
            "iteration {i}: panic on {as_kind}:\n{}",
            serde_json::to_string_pretty(&v).unwrap()
        );
    }
}

#[test]
fn mutated_yaml_text_never_panics() {
    let texts: Vec<String> = example_docs()
        .into_iter()
        .filter(|(k, _)| k == "text")
        .map(|(_, v)| v.as_str().unwrap().to_owned())
        .collect();
    let mut rng = Rng(42);
    for i in 0..3000 {
        let mut bytes = texts[rng.below(texts.len())].clone().into_bytes();
        for _ in 0..=rng.below(6) {
            let pos = rng.below(bytes.len());
            match rng.below(3) {
                0 => {
                    let alphabet = b" :-[]{}#'\"\n\t0a";
                    bytes[pos] = alphabet[rng.below(alphabet.len())];
                }
                1 => {
                    bytes.remove(pos);
                }
                _ => bytes.insert(pos, b"\n -:"[rng.below(4)]),
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let result = catch_unwind(AssertUnwindSafe(|| {
            for doc in serde_yaml::Deserializer::from_str(&text) {
                let Ok(v) = Value::deserialize(doc) else {
                    break;
                };
                let kind = v["kind"].as_str().unwrap_or("Certificate");
                let kind = if [
                    "Certificate",
                    "CertificateRequest",
                    "Issuer",
                    "ClusterIssuer",
                    "Order",
                    "Challenge",
                ]
                .contains(&kind)
                {
                    kind
                } else {
                    "Issuer"
                };
                exercise(kind, &v, &v);
            }
            // The direct YAML path as well.
            let _ = api::decode::from_yaml::<api::Certificate>(&text);
        }));
        assert!(result.is_ok(), "iteration {i}: panic on YAML:\n{text}");
    }
}

#[test]
fn random_json_never_panics() {
    let mut rng = Rng(7);
    for _ in 0..3000 {
        let spec = random_value(&mut rng, 0);
        for (api_version, kind) in [
            ("cert-manager.io/v1", "Certificate"),
            ("cert-manager.io/v1", "CertificateRequest"),
            ("cert-manager.io/v1", "Issuer"),
            ("cert-manager.io/v1", "ClusterIssuer"),
            ("acme.cert-manager.io/v1", "Order"),
            ("acme.cert-manager.io/v1", "Challenge"),
        ] {
            let v = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec});
            exercise(kind, &v, &v);
        }
    }
}

#[test]
fn decode_errors_name_the_field() {
    let cases = [
        (
            json!({"spec": {"secretName": "s", "issuerRef": {"name": "i"}, "privateKey": {"size": "big"}}}),
            "spec.privateKey.size",
        ),
        (
            json!({"spec": {"secretName": "s", "issuerRef": {"name": 5}}}),
            "spec.issuerRef.name",
        ),
        (
            json!({"spec": {"secretName": "s", "issuerRef": {"name": "i"}, "dnsNames": ["a", 7]}}),
            "spec.dnsNames[1]",
        ),
        (
            json!({"spec": {"secretName": "s", "issuerRef": {"name": "i"}, "renewBeforePercentage": 1e12}}),
            "spec.renewBeforePercentage",
        ),
        (
            json!({"spec": {"secretName": "s", "issuerRef": {"name": "i"}}, "status": {"notAfter": "yesterday"}}),
            "status.notAfter",
        ),
    ];
    for (v, path) in cases {
        let mut obj = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}});
        obj.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        let err = api::decode::from_value::<api::Certificate>(obj).unwrap_err();
        assert_eq!(err.path, path, "{err}");
        assert!(err.to_string().starts_with(&format!("{path}: ")), "{err}");
    }
    let err =
        api::decode::from_yaml::<api::Issuer>("spec:\n  acme:\n    solvers: {}\n").unwrap_err();
    assert_eq!(err.path, "spec.acme.solvers");
}

#[test]
fn unknown_fields_are_tolerated() {
    let v = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"},
        "spec": {"secretName": "s", "issuerRef": {"name": "i", "futureField": 1}, "dnsNames": ["a"], "somethingNew": {"x": 1}},
        "status": {"newStatusField": true},
    });
    let crt: api::Certificate = api::decode::from_value(v).unwrap();
    assert!(validation::validate_certificate(&crt, &ValidationGates::default()).is_valid());
}

//! The example manifests under `tests/examples` (written from cert-manager's documentation)
//! decode, validate clean, and survive a decode/encode round trip unchanged.

use std::path::PathBuf;

use api::validation::{self, ValidationGates, ValidationResult};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn examples() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
            let value = Value::deserialize(doc).unwrap();
            let name = format!(
                "{}#{i} ({})",
                file.file_name().unwrap().to_string_lossy(),
                value["metadata"]["name"]
            );
            docs.push((name, value));
        }
    }
    docs
}

/// Decodes, checks the round trip and validates one document.
fn check<T>(name: &str, value: &Value, validate: impl Fn(&T) -> ValidationResult)
where
    T: DeserializeOwned + serde::Serialize,
{
    let typed: T = api::decode::from_value(value.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        &back, value,
        "{name}: decoding and encoding changed the object"
    );
    let result = validate(&typed);
    assert!(result.errors.is_empty(), "{name}: {}", result.errors);
    assert!(
        result.warnings.is_empty(),
        "{name}: warnings {:?}",
        result.warnings
    );
}

#[test]
fn examples_decode_round_trip_and_validate() {
    let gates = ValidationGates::default();
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for (name, value) in examples() {
        let kind = value["kind"].as_str().unwrap().to_owned();
        match kind.as_str() {
            "Certificate" => check(&name, &value, |c: &api::Certificate| {
                validation::validate_certificate(c, &gates)
            }),
            "CertificateRequest" => check(&name, &value, validation::validate_certificate_request),
            "Issuer" => check(&name, &value, validation::validate_issuer),
            "ClusterIssuer" => check(&name, &value, validation::validate_cluster_issuer),
            "Order" => check(&name, &value, |o: &api::Order| {
                validation::validate_order_update(o, o)
            }),
            "Challenge" => check(&name, &value, |c: &api::Challenge| {
                validation::validate_challenge_update(c, c)
            }),
            other => panic!("{name}: unexpected kind {other}"),
        }
        *kinds.entry(kind).or_default() += 1;
    }
    for kind in [
        "Certificate",
        "CertificateRequest",
        "Issuer",
        "ClusterIssuer",
        "Order",
        "Challenge",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} example");
    }
    assert!(kinds.values().sum::<usize>() >= 20, "{kinds:?}");
}

#[test]
fn examples_cover_the_documented_issuer_types() {
    let docs = examples();
    let has = |pointer: &str| docs.iter().any(|(_, v)| v.pointer(pointer).is_some());
    for p in [
        "/spec/selfSigned",
        "/spec/ca/secretName",
        "/spec/acme/solvers/0/http01/ingress/podTemplate/spec/affinity",
        "/spec/acme/solvers/1/http01/gatewayHTTPRoute/parentRefs",
        "/spec/acme/solvers/0/dns01/rfc2136/tsigKeyName",
        "/spec/acme/solvers/0/dns01/cloudflare/apiTokenSecretRef",
        "/spec/acme/solvers/0/dns01/route53/auth/kubernetes/serviceAccountRef",
        "/spec/acme/solvers/5/dns01/webhook/config",
        "/spec/vault/auth/kubernetes/serviceAccountRef",
        "/spec/venafi/tpp",
        "/spec/nameConstraints",
        "/spec/literalSubject",
    ] {
        assert!(has(p), "no example has {p}");
    }
}

#[test]
fn the_all_fields_certificate_sets_every_spec_field() {
    let docs = examples();
    let certs: Vec<&Value> = docs
        .iter()
        .filter(|(_, v)| v["kind"] == "Certificate")
        .map(|(_, v)| &v["spec"])
        .collect();
    let schema = api::crds::all().unwrap().remove(0);
    let schema = serde_json::to_value(schema.spec.versions[0].schema.as_ref().unwrap()).unwrap();
    let fields = schema["openAPIV3Schema"]["properties"]["spec"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    for field in fields.keys() {
        assert!(
            certs.iter().any(|c| c.get(field).is_some()),
            "no Certificate example sets spec.{field}"
        );
    }
}

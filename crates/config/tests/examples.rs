//! The example files in `tests/examples/` (the chart's documented `config:` examples, one with
//! every field set, and upstream's own `defaults.json` test data) load, and the effective
//! configuration written back as a config file (JSON and YAML) loads to the same thing.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

use common::*;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/examples")
        .join(name)
}

/// The effective configuration as a config file: the serialization plus apiVersion/kind,
/// without our flag-only fields.
fn as_file<C: serde::Serialize>(cfg: &C, api_version: &str, kind: &str) -> Value {
    let mut v = serde_json::to_value(cfg).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("bindAddress");
    o.insert("apiVersion".into(), api_version.into());
    o.insert("kind".into(), kind.into());
    v
}

fn round_trip<C, E>(
    names: &[&str],
    api_version: &str,
    kind: &str,
    load: impl Fn(&[&str], Option<&Path>) -> Result<C, E>,
) where
    C: serde::Serialize + PartialEq + std::fmt::Debug,
    E: std::fmt::Display,
{
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        let cfg = load(&[], Some(&example(name))).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = as_file(&cfg, api_version, kind);
        let json = write(
            dir.path(),
            "rt.json",
            &serde_json::to_string_pretty(&v).unwrap(),
        );
        let again = load(&[], Some(&json)).unwrap_or_else(|e| panic!("{name} as JSON: {e}"));
        assert_eq!(again, cfg, "{name} via JSON");
        let yaml = write(dir.path(), "rt.yaml", &serde_yaml::to_string(&v).unwrap());
        let again = load(&[], Some(&yaml)).unwrap_or_else(|e| panic!("{name} as YAML: {e}"));
        assert_eq!(again, cfg, "{name} via YAML");
    }
}

#[test]
fn controller_examples_round_trip() {
    round_trip(
        &[
            "controller-chart.yaml",
            "controller-full.yaml",
            "controller-defaults.json",
        ],
        config::controller::API_VERSION,
        config::controller::KIND,
        controller,
    );
}

#[test]
fn webhook_examples_round_trip() {
    round_trip(
        &[
            "webhook-chart.yaml",
            "webhook-full.yaml",
            "webhook-defaults.json",
        ],
        config::webhook::API_VERSION,
        config::webhook::KIND,
        webhook,
    );
}

#[test]
fn cainjector_examples_round_trip() {
    round_trip(
        &[
            "cainjector-chart.yaml",
            "cainjector-full.yaml",
            "cainjector-defaults.json",
        ],
        config::cainjector::API_VERSION,
        config::cainjector::KIND,
        cainjector,
    );
}

#[test]
fn chart_examples_mean_what_they_say() {
    let c = controller(&[], Some(&example("controller-chart.yaml"))).unwrap();
    assert_eq!(
        (c.kubernetes_api_qps, c.kubernetes_api_burst),
        (9000.0, 9000)
    );
    assert_eq!(c.number_of_concurrent_workers, 200);
    assert!(c.gateway_api.enabled);
    assert_eq!(c.logging.verbosity, 2);
    assert_eq!(c.feature_gates.len(), 12);
    assert_eq!(c.metrics_tls.dynamic.secret_name, "cert-manager-metrics-ca");
    assert_eq!(c.metrics_tls.dynamic.dns_names, ["cert-manager-metrics"]);

    let w = webhook(&[], Some(&example("webhook-chart.yaml"))).unwrap();
    assert_eq!(w.secure_port, 10250);
    assert_eq!(w.secure_addr(), "0.0.0.0:10250");
    assert_eq!(w.metrics_tls.dynamic.secret_namespace, "cert-manager");

    let ca = cainjector(&[], Some(&example("cainjector-chart.yaml"))).unwrap();
    assert_eq!(ca.leader_election.namespace, "kube-system");
    assert_eq!(ca.logging.verbosity, 2);

    // The chart's deployment adds flags next to the file; they win (lists append).
    let w = webhook(
        &[
            "--v=2",
            "--secure-port=10250",
            "--dynamic-serving-ca-secret-namespace=cert-manager",
            "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca",
            "--dynamic-serving-dns-names=cert-manager-webhook,cert-manager-webhook.cert-manager,cert-manager-webhook.cert-manager.svc",
        ],
        Some(&example("webhook-chart.yaml")),
    )
    .unwrap();
    assert_eq!(w.tls.dynamic.dns_names.len(), 3);
    assert_eq!(w.tls.dynamic.secret_name, "cert-manager-webhook-ca");
}

#[test]
fn full_examples_set_every_field() {
    let c = controller(&[], Some(&example("controller-full.yaml"))).unwrap();
    let d = config::ControllerConfig::default();
    let (c, d) = (
        serde_json::to_value(&c).unwrap(),
        serde_json::to_value(&d).unwrap(),
    );
    for (k, v) in d.as_object().unwrap() {
        // Left empty on purpose: a non-empty namespace would disable clusterissuers.
        if k != "namespace" {
            assert_ne!(&c[k], v, "controller-full.yaml leaves {k} at its default");
        }
    }
    let w = webhook(&[], Some(&example("webhook-full.yaml"))).unwrap();
    let d = config::WebhookConfig::default();
    let (w, d) = (
        serde_json::to_value(&w).unwrap(),
        serde_json::to_value(&d).unwrap(),
    );
    for (k, v) in d.as_object().unwrap() {
        if k != "bindAddress" {
            assert_ne!(&w[k], v, "webhook-full.yaml leaves {k} at its default");
        }
    }
    let ca = cainjector(&[], Some(&example("cainjector-full.yaml"))).unwrap();
    let d = config::CAInjectorConfig::default();
    let (ca, d) = (
        serde_json::to_value(&ca).unwrap(),
        serde_json::to_value(&d).unwrap(),
    );
    for (k, v) in d.as_object().unwrap() {
        if !["namespace", "metricsListenAddress"].contains(&k.as_str()) {
            assert_ne!(&ca[k], v, "cainjector-full.yaml leaves {k} at its default");
        }
    }
}

/// Every key upstream's defaulted configuration has, ours has with the same value: same
/// names, same defaults, same duration text.
fn assert_subset(upstream: &Value, ours: &Value, path: &str) {
    match (upstream, ours) {
        (Value::Object(u), Value::Object(o)) => {
            for (k, v) in u {
                // Upstream's deprecated mirrors of gatewayAPI.enabled/enableListenerSet.
                if [
                    "enableGatewayAPI",
                    "enableGatewayAPIListenerSet",
                    "apiVersion",
                    "kind",
                ]
                .contains(&k.as_str())
                {
                    continue;
                }
                let o = o
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}/{k} missing from ours"));
                assert_subset(v, o, &format!("{path}/{k}"));
            }
        }
        (Value::Number(u), Value::Number(o)) => assert_eq!(u.as_f64(), o.as_f64(), "{path}"),
        (u, o) => assert_eq!(u, o, "{path}"),
    }
}

#[test]
fn our_defaults_match_upstreams_defaults_json() {
    let read = |name: &str| -> Value {
        serde_yaml::from_str(&std::fs::read_to_string(example(name)).unwrap()).unwrap()
    };
    let mut controller_defaults =
        serde_json::to_value(config::ControllerConfig::default()).unwrap();
    // Upstream's test data is built with the image tag "canary".
    controller_defaults["acmeHTTP01Config"]["solverImage"] =
        "quay.io/jetstack/cert-manager-acmesolver:canary".into();
    assert_subset(&read("controller-defaults.json"), &controller_defaults, "");
    assert_subset(
        &read("webhook-defaults.json"),
        &serde_json::to_value(config::WebhookConfig::default()).unwrap(),
        "",
    );
    assert_subset(
        &read("cainjector-defaults.json"),
        &serde_json::to_value(config::CAInjectorConfig::default()).unwrap(),
        "",
    );

    // Loading upstream's defaults gives our defaults.
    let mut c = controller(&[], Some(&example("controller-defaults.json"))).unwrap();
    c.acme_http01.solver_image = config::controller::DEFAULT_ACME_HTTP01_SOLVER_IMAGE.into();
    assert_eq!(c, config::ControllerConfig::default());
    assert_eq!(
        webhook(&[], Some(&example("webhook-defaults.json"))).unwrap(),
        config::WebhookConfig::default()
    );
    assert_eq!(
        cainjector(&[], Some(&example("cainjector-defaults.json"))).unwrap(),
        config::CAInjectorConfig::default()
    );
}

//! End to end: the real webhook keeps its serving CA in `cert-manager-webhook-ca`; the
//! cainjector injects it into the webhook configurations (as the chart annotates them), and
//! only then does the API server trust the webhook and admit cert-manager objects.

use std::path::PathBuf;
use std::time::Duration;
use testkit::ClusterCleanup;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Secret, Service};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use testkit::component::{self, Component};
use testkit::{Backend, ControlPlane};

use crate::support::*;

const SERVICE: &str = "cert-manager-webhook";
const CA_SECRET: &str = "cert-manager-webhook-ca";
const WEBHOOK_NAME: &str = "webhook.cert-manager.io";
/// Webhook configurations reach the API server's admission plugin through an informer.
const PROPAGATION: Duration = Duration::from_secs(30);

/// The webhook binary cargo built next to ours (`cargo nextest run --workspace` builds it).
fn webhook_bin() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("WEBHOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(BIN)
                .parent()
                .expect("the binary has a folder")
                .join("webhook")
        });
    ensure!(
        path.exists(),
        "{} not found: build it first (cargo build -p webhook) or set WEBHOOK_BIN",
        path.display()
    );
    Ok(path)
}

async fn start_webhook(cp: &ControlPlane, namespace: &str) -> anyhow::Result<(Component, u16)> {
    let (secure, healthz, metrics) = (
        component::free_port()?,
        component::free_addr()?,
        component::free_addr()?,
    );
    let mut webhook = Component::command("webhook", webhook_bin()?)
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .arg(format!("--secure-port={secure}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--healthz-port={}", healthz.port()))
        .arg(format!("--metrics-listen-address={metrics}"))
        .arg(format!("--dynamic-serving-ca-secret-namespace={namespace}"))
        .arg(format!("--dynamic-serving-ca-secret-name={CA_SECRET}"))
        .arg(format!(
            "--dynamic-serving-dns-names={SERVICE},{SERVICE}.{namespace},{SERVICE}.{namespace}.svc"
        ))
        .start()?;
    webhook.wait_ready(healthz, READY).await?;
    Ok((webhook, secure))
}

/// Service + Endpoints 127.0.0.1:<secure port>, as the chart's Service resolves to the pod.
async fn create_service(client: &kube::Client, namespace: &str, port: u16) -> anyhow::Result<()> {
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": SERVICE},
        "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]}
    }))?;
    Api::<Service>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &svc)
        .await?;
    let ep: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": SERVICE},
        "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]
    }))?;
    Api::<Endpoints>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &ep)
        .await?;
    Ok(())
}

/// The chart's webhook configurations, without `caBundle`, annotated for the cainjector and
/// limited to namespaces labelled for this test.
fn webhook_configuration(kind: Kind, name: &str, namespace: &str) -> anyhow::Result<DynamicObject> {
    let (path, rules) = match kind {
        Kind::Validating => (
            "/validate",
            json!([{"apiGroups": ["cert-manager.io", "acme.cert-manager.io"], "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"], "resources": ["*/*"]}]),
        ),
        _ => (
            "/mutate",
            json!([{"apiGroups": ["cert-manager.io"], "apiVersions": ["v1"],
                    "operations": ["CREATE"], "resources": ["certificaterequests"]}]),
        ),
    };
    Ok(serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind.kind(),
        "metadata": {"name": name,
                     "annotations": {INJECT_CA_FROM_SECRET: format!("{namespace}/{CA_SECRET}")}},
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "namespaceSelector": {"matchLabels": {"cainjector.test/e2e": namespace}},
            "rules": rules,
            "admissionReviewVersions": ["v1"],
            "matchPolicy": "Equivalent",
            "timeoutSeconds": 10,
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "clientConfig": {"service": {"name": SERVICE, "namespace": namespace, "path": path}},
        }],
    }))?)
}

fn certificate(name: &str, key_size: u32) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name},
        "spec": {"secretName": name, "dnsNames": ["e2e.example.com"], "issuerRef": {"name": "ca"},
                 "privateKey": {"algorithm": "RSA", "size": key_size}},
    })
}

async fn create_certificate(
    client: &kube::Client,
    namespace: &str,
    object: &Value,
    dry_run: bool,
) -> Result<DynamicObject, kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &certificate_resource());
    let obj: DynamicObject = serde_json::from_value(object.clone()).expect("a Certificate");
    let pp = PostParams {
        dry_run,
        ..Default::default()
    };
    api.create(&pp, &obj).await
}

#[tokio::test]
async fn webhook_ca_is_injected_and_trusted_end_to_end() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    if cp.backend() == Backend::Existing {
        eprintln!("skipped: an existing cluster cannot call a webhook on this machine");
        return Ok(());
    }
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-e2e").await?;
    Api::<Namespace>::all(client.clone())
        .patch(
            &ns,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"cainjector.test/e2e": &*ns}}})),
        )
        .await?;
    let (_webhook, port) = start_webhook(cp, &ns).await?;
    create_service(&client, &ns, port).await?;
    let ca = component::eventually("the webhook's CA Secret", READY, async || {
        let secret = Api::<Secret>::namespaced(client.clone(), &ns)
            .get_opt(CA_SECRET)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("not yet")?;
        secret
            .data
            .and_then(|mut d| d.remove("ca.crt"))
            .map(|b| b.0)
            .ok_or_else(|| "no ca.crt yet".to_owned())
    })
    .await?;

    // Each test configuration is removed again before the webhook process goes.
    let mut cleanup = ClusterCleanup::new(cp);
    let name = format!("{}-webhook", &*ns);
    for kind in [Kind::Validating, Kind::Mutating] {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource());
        api.create(
            &PostParams::default(),
            &webhook_configuration(kind, &name, &ns)?,
        )
        .await?;
        cleanup.add(kind.resource(), &name);
    }

    // Without the CA the API server cannot verify the webhook: creates fail.
    let untrusted = component::eventually(
        "the API server to call the webhook",
        PROPAGATION,
        async || match create_certificate(&client, &ns, &certificate("probe", 2048), true).await {
            Err(kube::Error::Api(s)) if s.message.contains("failed calling webhook") => {
                Ok(s.message)
            }
            other => Err(format!("{other:?}")),
        },
    )
    .await?;
    assert!(!untrusted.contains("denied the request"), "{untrusted}");

    let _c = start_cainjector(cp, &[]).await?;
    for kind in [Kind::Validating, Kind::Mutating] {
        wait_for_bundle(&client, kind, &name, &ders(&ca)).await?;
    }
    // The webhook is reached over verified TLS: it answers (denying a bad key size) ...
    let denial = component::eventually(
        "the webhook to deny a bad Certificate",
        PROPAGATION,
        async || match create_certificate(&client, &ns, &certificate("probe", 1000), true).await {
            Err(kube::Error::Api(s))
                if s.message.contains(&format!(
                    "admission webhook \"{WEBHOOK_NAME}\" denied the request"
                )) =>
            {
                Ok(s.message)
            }
            other => Err(format!("{other:?}")),
        },
    )
    .await?;
    assert!(denial.contains("spec.privateKey.size"), "{denial}");
    // ... and admits a good one.
    let created = create_certificate(&client, &ns, &certificate("e2e", 2048), false)
        .await
        .context("creating a Certificate through the webhook")?;
    assert_eq!(created.metadata.name.as_deref(), Some("e2e"));
    Ok(())
}

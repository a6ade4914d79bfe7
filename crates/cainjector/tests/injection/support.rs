//! What the injection tests share: the cainjector process, CAs, sources (Secrets and
//! Certificates), the four kinds of target as generic objects, and reading their `caBundle`s.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::ClusterCleanup;

use anyhow::Context as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use pki::{
    CertificateTemplate, CsrSpec, EcCurve, KeyType, PrivateKey, RequestOverrides, Subject, Usage,
};
use serde_json::{Value, json};
use testkit::ControlPlane;
use testkit::component::{self, Component};

pub const BIN: &str = env!("CARGO_BIN_EXE_cainjector");
pub const READY: Duration = Duration::from_secs(60);
/// How long an injection may take to show up on a target.
pub const INJECT: Duration = Duration::from_secs(30);

pub const INJECT_CA_FROM: &str = "cert-manager.io/inject-ca-from";
pub const INJECT_CA_FROM_SECRET: &str = "cert-manager.io/inject-ca-from-secret";
pub const INJECT_APISERVER_CA: &str = "cert-manager.io/inject-apiserver-ca";
pub const ALLOW_DIRECT_INJECTION: &str = "cert-manager.io/allow-direct-injection";
pub const CERTIFICATE_NAME: &str = "cert-manager.io/certificate-name";

/// Every cainjector watches the whole cluster: tests sharing one control plane (`cargo test`;
/// nextest gives each test its own) take turns, so one test's cainjector never handles another
/// test's targets.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// The binary under test: `CAINJECTOR_BIN` (e.g. a release build for the RSS measurement) or
/// the one cargo built for these tests.
pub fn cainjector_bin() -> PathBuf {
    std::env::var_os("CAINJECTOR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(BIN))
}

pub fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds")
}

/// A running cainjector; killed on drop.
pub struct CAInjector {
    pub process: Component,
    pub metrics: SocketAddr,
}

/// Starts the cainjector against `cp` with `args` and waits for /readyz (caches synced).
pub async fn start_cainjector(cp: &ControlPlane, args: &[&str]) -> anyhow::Result<CAInjector> {
    start_cainjector_env(cp, args, &[]).await
}

pub async fn start_cainjector_env(
    cp: &ControlPlane,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<CAInjector> {
    let metrics = component::free_addr()?;
    let mut cmd = Component::command("cainjector", cainjector_bin())
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .arg(format!("--metrics-listen-address={metrics}"));
    // Leader election is tested on its own; elsewhere one replica just works.
    if !args.iter().any(|a| a.starts_with("--leader-elect")) {
        cmd = cmd.arg("--leader-elect=false");
    }
    cmd = cmd.args(args);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let mut process = cmd.start()?;
    process.wait_ready(metrics, READY).await?;
    Ok(CAInjector { process, metrics })
}

/// A self-signed CA certificate (PEM), valid for a day.
pub fn new_ca(common_name: &str) -> Vec<u8> {
    let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).expect("key");
    let spec = CsrSpec {
        subject: Subject {
            common_name: common_name.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let overrides = RequestOverrides::new(
        Duration::from_secs(24 * 3600),
        true,
        &[Usage::CertSign, Usage::DigitalSignature],
    );
    let template =
        CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides).expect("tmpl");
    pki::self_sign(&template, &key)
        .expect("self-signed CA")
        .chain_pem
        .into_bytes()
}

/// The DER of every certificate of a PEM bundle, in order; how tests compare bundles.
pub fn ders(pem: &[u8]) -> Vec<Vec<u8>> {
    if pem.is_empty() {
        return Vec::new();
    }
    pki::decode_certificate_set(pem)
        .map(|certs| certs.iter().map(|c| c.der().to_vec()).collect())
        .unwrap_or_else(|_| vec![pem.to_vec()])
}

/// The certificates of several PEM bundles, concatenated.
pub fn ders_of(pems: &[&[u8]]) -> Vec<Vec<u8>> {
    pems.iter().flat_map(|p| ders(p)).collect()
}

// ---- sources ----

/// Creates or replaces Secret `namespace/name` with `annotations` and `data`.
pub async fn put_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    annotations: &[(&str, &str)],
    data: &[(&str, &[u8])],
) -> anyhow::Result<()> {
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "annotations": to_map(annotations)},
        "data": data.iter().map(|(k, v)| (k.to_string(), ByteString(v.to_vec()))).collect::<BTreeMap<_, _>>(),
    }))?;
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    api.patch(
        name,
        &PatchParams::apply("cainjector-test").force(),
        &Patch::Apply(&secret),
    )
    .await
    .with_context(|| format!("applying Secret {namespace}/{name}"))?;
    Ok(())
}

/// A Secret `inject-ca-from-secret` may read: allowed, with `ca.crt`.
pub async fn put_ca_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    ca: &[u8],
) -> anyhow::Result<()> {
    put_secret(
        client,
        namespace,
        name,
        &[(ALLOW_DIRECT_INJECTION, "true")],
        &[("ca.crt", ca)],
    )
    .await
}

fn to_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn certificate_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate"),
        "certificates",
    )
}

/// Creates or updates Certificate `namespace/name` keeping its certificate in `secret_name`.
pub async fn put_certificate(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    secret_name: &str,
) -> anyhow::Result<()> {
    let cert: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"secretName": secret_name, "dnsNames": ["example.com"],
                 "issuerRef": {"name": "ca", "kind": "Issuer"}},
    }))?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &certificate_resource());
    api.patch(
        name,
        &PatchParams::apply("cainjector-test").force(),
        &Patch::Apply(&cert),
    )
    .await
    .with_context(|| format!("applying Certificate {namespace}/{name}"))?;
    Ok(())
}

/// The Secret cert-manager writes for Certificate `cert`: named by it, with `ca.crt`.
pub async fn put_certificate_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    cert: &str,
    ca: &[u8],
) -> anyhow::Result<()> {
    put_secret(
        client,
        namespace,
        name,
        &[(CERTIFICATE_NAME, cert)],
        &[("ca.crt", ca)],
    )
    .await
}

// ---- targets ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Validating,
    Mutating,
    Crd,
    ApiService,
}

pub const ALL_KINDS: [Kind; 4] = [
    Kind::Validating,
    Kind::Mutating,
    Kind::Crd,
    Kind::ApiService,
];

impl Kind {
    pub fn resource(self) -> ApiResource {
        let (group, kind, plural) = match self {
            Kind::Validating => (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
            ),
            Kind::Mutating => (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
            ),
            Kind::Crd => (
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "customresourcedefinitions",
            ),
            Kind::ApiService => ("apiregistration.k8s.io", "APIService", "apiservices"),
        };
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural)
    }

    pub fn kind(self) -> String {
        self.resource().kind
    }
}

/// A target of `kind` named after `base` (unique per test), with `annotations` and, when
/// given, `initial` as every `caBundle`. Webhook configurations get two webhooks, for a group
/// nothing serves, so they never affect other requests. Returns the object's name.
pub async fn create_target(
    client: &kube::Client,
    cleanup: &mut ClusterCleanup,
    kind: Kind,
    base: &str,
    annotations: &[(&str, &str)],
    initial: Option<&[u8]>,
) -> anyhow::Result<String> {
    let group = format!("{base}.cainjector.test");
    let bundle = initial.map(|b| ByteString(b.to_vec()));
    let client_config = |path: &str| {
        let mut c = json!({"url": format!("https://127.0.0.1:1/{path}")});
        if let Some(b) = &bundle {
            c["caBundle"] = serde_json::to_value(b).expect("base64");
        }
        c
    };
    let annotations = to_map(annotations);
    let (name, body) = match kind {
        Kind::Validating | Kind::Mutating => {
            let name = format!("{base}-{}", kind.kind().to_lowercase());
            let webhooks: Vec<Value> = ["a", "b"]
                .iter()
                .map(|w| {
                    json!({
                        "name": format!("{w}.{group}"),
                        "clientConfig": client_config(w),
                        "rules": [{"apiGroups": [group], "apiVersions": ["v1"],
                                   "operations": ["CREATE"], "resources": ["nothings"]}],
                        "admissionReviewVersions": ["v1"],
                        "sideEffects": "None",
                        "failurePolicy": "Ignore",
                    })
                })
                .collect();
            let body = json!({
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind.kind(),
                "metadata": {"name": name, "annotations": annotations},
                "webhooks": webhooks,
            });
            (name, body)
        }
        Kind::Crd => {
            let name = format!("widgets.{group}");
            let body = json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": name, "annotations": annotations},
                "spec": {
                    "group": group, "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                    "versions": [{"name": "v1", "served": true, "storage": true,
                                  "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
                    "conversion": {"strategy": "Webhook", "webhook": {
                        "conversionReviewVersions": ["v1"], "clientConfig": client_config("convert")}},
                },
            });
            (name, body)
        }
        Kind::ApiService => {
            let name = format!("v1.{group}");
            let mut spec = json!({
                "group": group, "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                "service": {"namespace": "default", "name": "nothing", "port": 443},
            });
            if let Some(b) = &bundle {
                spec["caBundle"] = serde_json::to_value(b)?;
            }
            let body = json!({
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": name, "annotations": annotations},
                "spec": spec,
            });
            (name, body)
        }
    };
    let obj: DynamicObject = serde_json::from_value(body)?;
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource());
    api.create(&PostParams::default(), &obj)
        .await
        .with_context(|| format!("creating {} {name}", kind.kind()))?;
    cleanup.add(kind.resource(), &name);
    Ok(name)
}

/// Every `caBundle` the cainjector sets on the object (empty when unset), decoded.
pub fn bundles_of(kind: Kind, obj: &DynamicObject) -> Vec<Vec<u8>> {
    let decode = |v: &Value| -> Vec<u8> {
        if v.is_null() {
            return Vec::new();
        }
        serde_json::from_value::<ByteString>(v.clone())
            .map(|b| b.0)
            .unwrap_or_default()
    };
    match kind {
        Kind::Validating | Kind::Mutating => obj.data["webhooks"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .map(|w| decode(&w["clientConfig"]["caBundle"]))
                    .collect()
            })
            .unwrap_or_default(),
        Kind::Crd => vec![decode(
            &obj.data["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"],
        )],
        Kind::ApiService => vec![decode(&obj.data["spec"]["caBundle"])],
    }
}

pub async fn get_target(
    client: &kube::Client,
    kind: Kind,
    name: &str,
) -> anyhow::Result<DynamicObject> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource());
    Ok(api.get(name).await?)
}

/// The certificates of every `caBundle` of the target, one list per field.
pub async fn target_certs(
    client: &kube::Client,
    kind: Kind,
    name: &str,
) -> anyhow::Result<Vec<Vec<Vec<u8>>>> {
    let obj = get_target(client, kind, name).await?;
    Ok(bundles_of(kind, &obj).iter().map(|b| ders(b)).collect())
}

/// Waits until every `caBundle` of the target holds exactly `expected` (certificates, in order).
pub async fn wait_for_bundle(
    client: &kube::Client,
    kind: Kind,
    name: &str,
    expected: &[Vec<u8>],
) -> anyhow::Result<()> {
    let what = format!("{} {name} has the expected caBundle", kind.kind());
    component::eventually(&what, INJECT, async || {
        let fields = target_certs(client, kind, name)
            .await
            .map_err(|e| e.to_string())?;
        if !fields.is_empty() && fields.iter().all(|f| f == expected) {
            Ok(())
        } else {
            Err(format!(
                "fields hold {:?} certificates, want {} ({})",
                fields.iter().map(Vec::len).collect::<Vec<_>>(),
                expected.len(),
                if fields.iter().any(|f| !f.is_empty()) {
                    "different ones or a different order"
                } else {
                    "none yet"
                }
            ))
        }
    })
    .await?;
    Ok(())
}

/// The Warning events recorded on a target (in `default`, where events of cluster-scoped
/// objects go).
pub async fn target_events(
    client: &kube::Client,
    kind: Kind,
    name: &str,
) -> anyhow::Result<Vec<Event>> {
    let api: Api<Event> = Api::namespaced(client.clone(), "default");
    Ok(api
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            e.involved_object.name.as_deref() == Some(name)
                && e.involved_object.kind.as_deref() == Some(kind.kind().as_str())
        })
        .collect())
}

/// Waits for a Warning event with `reason` on the target and returns its message.
pub async fn wait_for_event(
    client: &kube::Client,
    kind: Kind,
    name: &str,
    reason: &str,
) -> anyhow::Result<String> {
    let what = format!("a {reason} event on {} {name}", kind.kind());
    Ok(component::eventually(&what, INJECT, async || {
        let events = target_events(client, kind, name)
            .await
            .map_err(|e| e.to_string())?;
        events
            .iter()
            .find(|e| e.reason.as_deref() == Some(reason))
            .map(|e| {
                assert_eq!(e.type_.as_deref(), Some("Warning"));
                e.message.clone().unwrap_or_default()
            })
            .ok_or_else(|| {
                format!(
                    "events: {:?}",
                    events.iter().map(|e| &e.reason).collect::<Vec<_>>()
                )
            })
    })
    .await?)
}

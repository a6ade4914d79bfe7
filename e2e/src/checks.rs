//! The checks, each run against whatever [`Target`] the suite has.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};
use testkit::component::{ApiRequest, events_of, user_agent};

use crate::manifest::Component;
use crate::metrics::ListModes;
use crate::report::Outcome;
use crate::target::Target;
use crate::{NAMESPACE, RELEASE, eventually};

/// The webhook's name in both webhook configurations (the chart's).
const WEBHOOK_NAME: &str = "webhook.cert-manager.io";
/// How long issuance, injection and the first admission may take.
const SLOW: Duration = Duration::from_secs(120);

fn webhook_fullname() -> String {
    format!("{RELEASE}-webhook")
}

fn ca_secret_name() -> String {
    format!("{}-ca", webhook_fullname())
}

fn cert_manager(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: "cert-manager.io".into(),
        version: "v1".into(),
        api_version: "cert-manager.io/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("a literal object with apiVersion, kind and metadata")
}

// ---------------------------------------------------------------------------------------------
// (c) The cainjector injects the webhook's CA.

/// The webhook's CA certificate (`ca.crt` of its CA Secret), once the webhook created it.
async fn webhook_ca(target: &Target) -> Result<ByteString, String> {
    let secrets: Api<Secret> = Api::namespaced(target.client(), NAMESPACE);
    let name = ca_secret_name();
    eventually(
        &format!("Secret {NAMESPACE}/{name} with ca.crt"),
        SLOW,
        async || {
            let s = secrets.get_opt(&name).await.map_err(|e| e.to_string())?;
            s.and_then(|s| s.data)
                .and_then(|mut d| d.remove("ca.crt"))
                .ok_or_else(|| "not there yet".to_owned())
        },
    )
    .await
    .map_err(|e| e.to_string())
}

/// The caBundles of both webhook configurations, by "<Kind>/<webhook name>".
async fn ca_bundles(target: &Target) -> Result<BTreeMap<String, Option<ByteString>>, String> {
    let name = webhook_fullname();
    let v: Api<ValidatingWebhookConfiguration> = Api::all(target.client());
    let m: Api<MutatingWebhookConfiguration> = Api::all(target.client());
    let mut out = BTreeMap::new();
    let vwc = v
        .get(&name)
        .await
        .map_err(|e| format!("ValidatingWebhookConfiguration {name}: {e}"))?;
    for w in vwc.webhooks.unwrap_or_default() {
        out.insert(
            format!("ValidatingWebhookConfiguration/{}", w.name),
            w.client_config.ca_bundle,
        );
    }
    let mwc = m
        .get(&name)
        .await
        .map_err(|e| format!("MutatingWebhookConfiguration {name}: {e}"))?;
    for w in mwc.webhooks.unwrap_or_default() {
        out.insert(
            format!("MutatingWebhookConfiguration/{}", w.name),
            w.client_config.ca_bundle,
        );
    }
    if out.len() != 2 {
        return Err(format!(
            "expected one webhook in each configuration, found {:?}",
            out.keys()
        ));
    }
    Ok(out)
}

/// Waits until the cainjector has put the webhook's CA into both webhook configurations.
/// With `by_hand` (E2E_SKIP_INJECTION=1) the suite copies the CA itself instead, so the
/// checks that need a trusted webhook can still run, and reports the check as skipped.
pub async fn webhook_ca_injected(target: &Target, by_hand: Option<&str>) -> Outcome {
    let ca = match webhook_ca(target).await {
        Ok(ca) => ca,
        Err(e) => return Outcome::Failed(e),
    };
    if let Some(reason) = by_hand {
        return match inject_by_hand(target, &ca).await {
            Ok(()) => Outcome::Skipped(format!(
                "{reason}; the suite copied ca.crt of {NAMESPACE}/{} into the webhook configurations itself",
                ca_secret_name()
            )),
            Err(e) => Outcome::Failed(format!("injecting the CA by hand: {e}")),
        };
    }
    let waited = eventually("the webhook CA in every caBundle", SLOW, async || {
        let bundles = ca_bundles(target).await?;
        let wrong: Vec<&String> = bundles
            .iter()
            .filter(|(_, b)| b.as_ref() != Some(&ca))
            .map(|(k, _)| k)
            .collect();
        if wrong.is_empty() {
            Ok(bundles.len())
        } else {
            Err(format!("caBundle missing or different in {wrong:?}"))
        }
    })
    .await;
    match waited {
        Ok(n) => Outcome::Passed(format!(
            "{n} caBundles equal ca.crt of Secret {NAMESPACE}/{} ({} bytes)",
            ca_secret_name(),
            ca.0.len()
        )),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

async fn inject_by_hand(target: &Target, ca: &ByteString) -> Result<(), String> {
    let name = webhook_fullname();
    let pp = PostParams::default();
    let v: Api<ValidatingWebhookConfiguration> = Api::all(target.client());
    let mut vwc = v.get(&name).await.map_err(|e| e.to_string())?;
    for w in vwc.webhooks.iter_mut().flatten() {
        w.client_config.ca_bundle = Some(ca.clone());
    }
    v.replace(&name, &pp, &vwc)
        .await
        .map_err(|e| e.to_string())?;
    let m: Api<MutatingWebhookConfiguration> = Api::all(target.client());
    let mut mwc = m.get(&name).await.map_err(|e| e.to_string())?;
    for w in mwc.webhooks.iter_mut().flatten() {
        w.client_config.ca_bundle = Some(ca.clone());
    }
    m.replace(&name, &pp, &mwc)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// (b) The webhook rejects an invalid Certificate.

/// What the API server says when the webhook denies `message`.
fn denied(message: &str) -> String {
    format!("admission webhook \"{WEBHOOK_NAME}\" denied the request: {message}")
}

/// A Certificate the CRD schema accepts and the webhook must not: a 1000-bit RSA key.
const INVALID_MESSAGE: &str =
    "spec.privateKey.size: Invalid value: 1000: must be between 2048 and 8192 for rsa keyAlgorithm";

fn certificate(name: &str, spec: Value) -> DynamicObject {
    object(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name},
        "spec": spec,
    }))
}

/// The API server calls the webhook, which denies an invalid Certificate with upstream's
/// field-path message and admits a valid one.
pub async fn webhook_rejects_invalid_certificate(target: &Target, namespace: &str) -> Outcome {
    let api: Api<DynamicObject> = Api::namespaced_with(
        target.client(),
        namespace,
        &cert_manager("Certificate", "certificates"),
    );
    let invalid = certificate(
        "e2e-invalid",
        json!({"secretName": "e2e-invalid", "dnsNames": ["invalid.e2e.example"],
               "issuerRef": {"name": "any"}, "privateKey": {"algorithm": "RSA", "size": 1000}}),
    );
    let want = denied(INVALID_MESSAGE);
    // Until the webhook serves with a trusted certificate the API server fails to call it
    // (and says so); only that is retried.
    let denial = eventually("the webhook's denial", SLOW, async || {
        match api.create(&PostParams::default(), &invalid).await {
            Ok(_) => Ok(Err("the invalid Certificate was admitted".to_owned())),
            Err(kube::Error::Api(s)) if s.message.contains(&want) => Ok(Ok(s.message)),
            Err(kube::Error::Api(s)) if s.message.contains("failed calling webhook") => {
                Err(s.message)
            }
            Err(e) => Ok(Err(format!("unexpected error: {e}"))),
        }
    })
    .await;
    let message = match denial {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Outcome::Failed(format!("{e}; expected a denial with {want:?}")),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let valid = certificate(
        "e2e-valid",
        json!({"secretName": "e2e-valid", "dnsNames": ["valid.e2e.example"], "issuerRef": {"name": "any"}}),
    );
    let dry_run = PostParams {
        dry_run: true,
        ..Default::default()
    };
    match api.create(&dry_run, &valid).await {
        Ok(_) => Outcome::Passed(format!(
            "denied: {message:?}; a valid Certificate is admitted (dry run)"
        )),
        Err(e) => Outcome::Failed(format!(
            "the invalid one was denied, but a valid one too: {e}"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// (a) A self-signed ClusterIssuer -> CA Certificate -> CA Issuer -> leaf Certificate.

/// `Ok` with a summary when the object's condition `Ready` is `True`.
fn ready(obj: &DynamicObject) -> Result<String, String> {
    let conditions = obj
        .data
        .pointer("/status/conditions")
        .and_then(Value::as_array);
    let ready = conditions
        .into_iter()
        .flatten()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"));
    match ready {
        Some(c) if c.get("status").and_then(Value::as_str) == Some("True") => Ok(c
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()),
        Some(c) => Err(format!("Ready={}", c)),
        None => Err("no Ready condition yet".to_owned()),
    }
}

async fn wait_ready(api: &Api<DynamicObject>, kind: &str, name: &str) -> Result<(), String> {
    eventually(&format!("{kind} {name} Ready"), SLOW, async || {
        let obj = api.get(name).await.map_err(|e| e.to_string())?;
        ready(&obj).map(|_| ())
    })
    .await
    .map_err(|e| e.to_string())
}

/// Issues a CA from a self-signed ClusterIssuer, a CA Issuer on it, and a leaf from that;
/// then checks the Secrets: a self-signed CA, a leaf it signed, and `ca.crt` = that CA.
pub async fn issuance_chain(target: &Target, namespace: &str) -> Outcome {
    match issue_chain(target, namespace).await {
        Ok(summary) => Outcome::Passed(summary),
        Err(e) => Outcome::Failed(e),
    }
}

async fn issue_chain(target: &Target, namespace: &str) -> Result<String, String> {
    let client = target.client();
    let cluster_issuers: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &cert_manager("ClusterIssuer", "clusterissuers"),
    );
    let issuers: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &cert_manager("Issuer", "issuers"),
    );
    let certs: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &cert_manager("Certificate", "certificates"),
    );
    let pp = PostParams::default();
    let err = |what: &'static str| move |e: kube::Error| format!("creating {what}: {e}");

    let root = format!("{namespace}-selfsigned");
    let cluster_issuer = object(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": {"name": root}, "spec": {"selfSigned": {}},
    }));
    cluster_issuers
        .create(&pp, &cluster_issuer)
        .await
        .map_err(err("the ClusterIssuer"))?;
    let ca = certificate(
        "e2e-ca",
        json!({"isCA": true, "commonName": "e2e-ca", "secretName": "e2e-ca",
               "privateKey": {"algorithm": "ECDSA", "size": 256},
               "issuerRef": {"name": root, "kind": "ClusterIssuer", "group": "cert-manager.io"}}),
    );
    certs
        .create(&pp, &ca)
        .await
        .map_err(err("the CA Certificate"))?;
    let issuer = object(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": {"name": "e2e-ca"}, "spec": {"ca": {"secretName": "e2e-ca"}},
    }));
    issuers
        .create(&pp, &issuer)
        .await
        .map_err(err("the CA Issuer"))?;
    let leaf = certificate(
        "e2e-leaf",
        json!({"dnsNames": ["leaf.e2e.example"], "secretName": "e2e-leaf",
               "issuerRef": {"name": "e2e-ca", "kind": "Issuer"}}),
    );
    certs
        .create(&pp, &leaf)
        .await
        .map_err(err("the leaf Certificate"))?;

    let result = async {
        wait_ready(&cluster_issuers, "ClusterIssuer", &root).await?;
        wait_ready(&certs, "Certificate", "e2e-ca").await?;
        wait_ready(&issuers, "Issuer", "e2e-ca").await?;
        wait_ready(&certs, "Certificate", "e2e-leaf").await?;
        verify_secrets(target, namespace).await
    }
    .await;
    // The ClusterIssuer is cluster-scoped: the namespace's deletion does not take it along.
    let _ = cluster_issuers.delete(&root, &Default::default()).await;
    result
}

async fn verify_secrets(target: &Target, namespace: &str) -> Result<String, String> {
    use pki::ParsedCertificate;
    let secrets: Api<Secret> = Api::namespaced(target.client(), namespace);
    let key = |s: &Secret, k: &str| -> Result<Vec<u8>, String> {
        s.data
            .as_ref()
            .and_then(|d| d.get(k))
            .map(|b| b.0.clone())
            .ok_or_else(|| {
                format!(
                    "Secret {} has no {k}",
                    s.metadata.name.clone().unwrap_or_default()
                )
            })
    };
    let ca_secret = secrets
        .get("e2e-ca")
        .await
        .map_err(|e| format!("Secret e2e-ca: {e}"))?;
    let leaf_secret = secrets
        .get("e2e-leaf")
        .await
        .map_err(|e| format!("Secret e2e-leaf: {e}"))?;
    let ca = ParsedCertificate::from_pem(&key(&ca_secret, "tls.crt")?)
        .map_err(|e| format!("e2e-ca tls.crt: {e}"))?;
    if !(ca.is_ca() && ca.is_self_signed()) {
        return Err("e2e-ca tls.crt is not a self-signed CA certificate".into());
    }
    let chain = pki::chain::decode_certificate_chain(&key(&leaf_secret, "tls.crt")?)
        .map_err(|e| format!("e2e-leaf tls.crt: {e}"))?;
    let leaf = chain
        .first()
        .ok_or("e2e-leaf tls.crt holds no certificate")?;
    if leaf.is_ca() {
        return Err("the leaf certificate is a CA".into());
    }
    leaf.check_signature_from(&ca)
        .map_err(|e| format!("the leaf is not signed by e2e-ca: {e}"))?;
    let leaf_ca = ParsedCertificate::from_pem(&key(&leaf_secret, "ca.crt")?)
        .map_err(|e| format!("e2e-leaf ca.crt: {e}"))?;
    if leaf_ca.der() != ca.der() {
        return Err("ca.crt of e2e-leaf is not the e2e-ca certificate".into());
    }
    key(&leaf_secret, "tls.key")?;
    Ok(format!(
        "ClusterIssuer, CA Certificate, CA Issuer and leaf Ready; leaf {} signed by CA {}, ca.crt = CA",
        leaf.serial_hex(),
        ca.serial_hex()
    ))
}

// ---------------------------------------------------------------------------------------------
// (d) WatchListClient per component, through chart values.

/// How each component should list in one phase: `true` streaming, `false` paged.
pub type Modes = BTreeMap<Component, bool>;

fn mode_name(streaming: bool) -> &'static str {
    if streaming { "streaming" } else { "paged" }
}

/// Checks that `component` lists as `streaming` says: through its own metrics, and on the
/// local control plane also through the audit log of the API server.
pub async fn list_mode(target: &Target, component: Component, streaming: bool) -> Outcome {
    let mode = mode_name(streaming);
    let from_metrics = eventually(
        &format!("{component}'s caches synced {mode}"),
        SLOW,
        async || {
            let text = target.metrics(component).await.map_err(|e| e.to_string())?;
            let modes = ListModes::from_metrics(&text);
            modes
                .check(mode)
                .map(|()| modes.summary())
                .map_err(|e| format!("{e} ({})", modes.summary()))
        },
    )
    .await;
    let mut summary = match from_metrics {
        Ok(s) => format!("{mode}: metrics {s}"),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    if let Some(events) = target.audit_events(component) {
        let events = match events {
            Ok(e) => e,
            Err(e) => return Outcome::Failed(format!("reading the audit log: {e}")),
        };
        match audit_mode(&events, component, streaming) {
            Ok(s) => summary.push_str(&format!("; audit log {s}")),
            Err(e) => {
                return Outcome::Failed(format!(
                    "metrics agree ({summary}) but the audit log does not: {e}"
                ));
            }
        }
    }
    Outcome::Passed(summary)
}

/// The component's list and watch requests as the API server logged them: streaming means
/// successful `watch?sendInitialEvents=true` and no `list?limit=500`; paged the reverse.
fn audit_mode(
    events: &[testkit::AuditEvent],
    component: Component,
    streaming: bool,
) -> Result<String, String> {
    // A watch is logged when it starts and again when it ends; the end of a predecessor's
    // watch (its process stopping during the rollout) lands in this process's window, so a
    // successful watch counts by its start only. A rejected one (e.g. a streaming attempt
    // the server refused) still counts at any stage.
    let ended = |e: &testkit::AuditEvent| {
        e.verb == "watch"
            && e.stage == "ResponseComplete"
            && e.code.is_some_and(|c| (200..300).contains(&c))
    };
    let requests: Vec<ApiRequest> = events_of(events, &user_agent(component.name()))
        .into_iter()
        .filter(|e| (e.verb == "list" || e.verb == "watch") && !ended(e))
        .map(ApiRequest::from_event)
        .collect();
    let ok = |r: &ApiRequest| r.code.is_some_and(|c| (200..300).contains(&c));
    let streams = requests
        .iter()
        .filter(|r| r.is_streaming_list() && ok(r))
        .count();
    let pages = requests
        .iter()
        .filter(|r| r.is_first_page() && ok(r))
        .count();
    let initial_events = requests
        .iter()
        .filter(|r| r.param("sendInitialEvents").is_some())
        .count();
    let seen = format!(
        "{streams} streaming list(s), {pages} paged list(s) of {} list/watch requests",
        requests.len()
    );
    match streaming {
        true if streams > 0 && pages == 0 => Ok(seen),
        false if pages > 0 && initial_events == 0 => Ok(seen),
        _ => Err(format!("expected {}: {seen}", mode_name(streaming))),
    }
}

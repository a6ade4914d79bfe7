//! The serving certificate changes under a running process: the dynamic CA is regenerated when
//! its Secret is spoiled or deleted, and `--tls-cert-file` is re-read when the files change.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, PostParams};
use pki::{
    CertificateTemplate, CsrSpec, EcCurve, KeyEncoding, KeyType, PrivateKey, RequestOverrides,
    Usage,
};
use serde_json::json;
use testkit::ControlPlane;

use crate::support::{self, CA_SECRET, Deployment, SERVICE, WebhookProcess};

/// How long the webhook may take to notice a spoiled CA and serve a new leaf.
const ROTATION: Duration = Duration::from_secs(30);

/// Waits until the CA Secret holds a parseable CA other than `old`, and the webhook serves a
/// leaf that verifies against it. Returns the new CA.
async fn wait_new_ca(d: &Deployment, old: &[u8]) -> anyhow::Result<Vec<u8>> {
    let secrets: Api<Secret> = Api::namespaced(d.client.clone(), &d.namespace);
    let deadline = Instant::now() + ROTATION;
    let ca = loop {
        let ca = secrets
            .get_opt(CA_SECRET)
            .await?
            .and_then(|s| s.data)
            .and_then(|data| data.get("ca.crt").map(|b| b.0.clone()));
        if let Some(ca) = ca.filter(|ca| ca != old)
            && pki::ParsedCertificate::from_pem(&ca).is_ok_and(|c| c.is_ca())
        {
            break ca;
        }
        ensure!(Instant::now() < deadline, "no new CA in the Secret");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    loop {
        match support::served_leaf(d.webhook.secure_port, &d.server_name(), &ca).await {
            Ok(_) => return Ok(ca),
            Err(e) => ensure!(
                Instant::now() < deadline,
                "the webhook never served a leaf of the new CA: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a valid Certificate named `name` through the API server, retrying while the
/// API server still calls the webhook with the previous caBundle.
async fn create_until_accepted(d: &Deployment, name: &str) -> anyhow::Result<()> {
    let cert = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name},
        "spec": {"secretName": name, "dnsNames": [format!("{name}.example.com")], "issuerRef": {"name": "ca"}},
    });
    let deadline = Instant::now() + support::PROPAGATION;
    loop {
        match support::create(&d.client, &d.namespace, &cert, false).await {
            Ok(_) => return Ok(()),
            Err(e) => ensure!(
                Instant::now() < deadline,
                "{name} never accepted after the caBundle update: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The API server keeps its connections to the webhook (one client per distinct clientConfig),
/// so requests through the chart's configurations may keep working for a while with the
/// replaced CA. A new configuration whose caBundle is `stale_ca` plus a newline (a new client,
/// so new connections) shows that the API server no longer trusts what is served: it judges a
/// namespace of its own, which the chart's configuration skips.
async fn stale_bundle_fails(d: &Deployment, stale_ca: &[u8]) -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("cm-webhook-stale").await?;
    let label = ns.name().to_owned();
    support::label_namespace(
        &d.client,
        &ns,
        json!({"cert-manager.io/disable-validation": "true", "webhook-stale-test": label}),
    )
    .await?;
    let name = format!("{ns}-stale");
    let mut bundle = stale_ca.to_vec();
    bundle.push(b'\n');
    let vwc = support::validating_config(
        &name,
        &d.namespace,
        SERVICE,
        &bundle,
        Some(json!({"matchLabels": {"webhook-stale-test": label}})),
    )?;
    let mut cleanup = testkit::ClusterCleanup::new(cp);
    Api::<ValidatingWebhookConfiguration>::all(d.client.clone())
        .create(&PostParams::default(), &vwc)
        .await?;
    cleanup.add(support::vwc_resource(), &name);
    let deadline = Instant::now() + support::PROPAGATION;
    loop {
        match support::create(&d.client, &ns, &support::probe_certificate(), true).await {
            Err(kube::Error::Api(s))
                if s.message.contains("failed calling webhook") && s.message.contains("x509") =>
            {
                return Ok(());
            }
            other => ensure!(
                Instant::now() < deadline,
                "the API server never refused the stale caBundle: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn dynamic_ca_is_regenerated_without_restart() -> anyhow::Result<()> {
    let Some(mut d) = Deployment::start(&[]).await? else {
        return Ok(());
    };
    let pid = d.webhook.pid();
    let first_ca = d.ca_pem.clone();
    let first_leaf =
        support::served_leaf(d.webhook.secure_port, &d.server_name(), &first_ca).await?;
    create_until_accepted(&d, "before").await?;

    // 1. Garbage in the Secret: the webhook replaces the data with a new CA.
    let secrets: Api<Secret> = Api::namespaced(d.client.clone(), &d.namespace);
    let mut secret = secrets.get(CA_SECRET).await?;
    let garbage = ByteString(b"garbage".to_vec());
    secret.data = Some(
        [
            ("ca.crt", &garbage),
            ("tls.crt", &garbage),
            ("tls.key", &garbage),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect(),
    );
    secrets
        .replace(CA_SECRET, &PostParams::default(), &secret)
        .await?;
    let second_ca = wait_new_ca(&d, &first_ca).await?;
    let second_leaf =
        support::served_leaf(d.webhook.secure_port, &d.server_name(), &second_ca).await?;
    assert_ne!(first_leaf, second_leaf);
    // The old CA no longer verifies what is served: the API server needs the new caBundle.
    assert!(
        support::served_leaf(d.webhook.secure_port, &d.server_name(), &first_ca)
            .await
            .is_err()
    );
    stale_bundle_fails(&d, &first_ca).await?;
    d.inject_ca(&second_ca).await?;
    create_until_accepted(&d, "after-garbage").await?;
    // Admission really is served again, denials included.
    support::wait_webhook_active(&d.client, &d.namespace).await?;

    // 2. Secret deleted: the webhook creates it again with a new CA.
    secrets.delete(CA_SECRET, &DeleteParams::default()).await?;
    let third_ca = wait_new_ca(&d, &second_ca).await?;
    assert_ne!(third_ca, first_ca);
    stale_bundle_fails(&d, &second_ca).await?;
    d.inject_ca(&third_ca).await?;
    create_until_accepted(&d, "after-delete").await?;
    support::wait_webhook_active(&d.client, &d.namespace).await?;

    // One process throughout.
    assert!(d.webhook.is_running(), "{}", d.webhook.log_tail());
    assert_eq!(d.webhook.pid(), pid);
    let log = d.webhook.log();
    ensure!(
        log.matches("generating a new webhook CA").count() >= 3,
        "expected three CA generations in the log:\n{log}"
    );
    Ok(())
}

/// A serving pair for `name` from a fresh CA: (CA PEM, leaf chain PEM, leaf key PEM).
fn serving_pair(name: &str) -> anyhow::Result<(String, String, String)> {
    let template = |spec: CsrSpec, key: &PrivateKey, is_ca: bool, usages: &[Usage]| {
        let overrides = RequestOverrides::new(Duration::from_secs(3600), is_ca, usages);
        CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides)
    };
    let ca_key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256))?;
    let ca_spec = CsrSpec {
        subject: pki::Subject {
            common_name: "test serving CA".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let ca = pki::self_sign(
        &template(
            ca_spec,
            &ca_key,
            true,
            &[Usage::CertSign, Usage::DigitalSignature],
        )?,
        &ca_key,
    )?;
    let issuer = pki::Issuer::new(vec![ca.certificate.clone()], ca_key)?;
    let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256))?;
    let spec = CsrSpec {
        dns_names: vec![name.to_owned()],
        ..Default::default()
    };
    let usages = [
        Usage::DigitalSignature,
        Usage::KeyEncipherment,
        Usage::ServerAuth,
    ];
    let leaf = issuer.sign(&template(spec, &key, false, &usages)?)?;
    Ok((
        ca.chain_pem,
        leaf.chain_pem,
        key.to_pem(KeyEncoding::Pkcs8)?.to_string(),
    ))
}

/// Replaces `path` atomically (write beside, then rename).
fn replace_file(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[tokio::test]
async fn tls_files_are_reloaded() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    const NAME: &str = "webhook.files.example.com";
    let dir = tempfile::tempdir()?;
    let (cert_file, key_file) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let (first_ca, first_cert, first_key) = serving_pair(NAME)?;
    std::fs::write(&cert_file, &first_cert)?;
    std::fs::write(&key_file, &first_key)?;
    let mut webhook = WebhookProcess::start(
        cp.kubeconfig_path(),
        &[
            format!("--tls-cert-file={}", cert_file.display()),
            format!("--tls-private-key-file={}", key_file.display()),
        ],
    )
    .await?;
    let served = support::served_leaf(webhook.secure_port, NAME, first_ca.as_bytes()).await?;
    assert_eq!(
        served,
        pki::ParsedCertificate::from_pem(first_cert.as_bytes())?.der()
    );

    let (second_ca, second_cert, second_key) = serving_pair(NAME)?;
    replace_file(&key_file, &second_key)?;
    replace_file(&cert_file, &second_cert)?;
    let changed = Instant::now();
    // The files are checked every 10 s.
    let deadline = changed + Duration::from_secs(15);
    loop {
        if support::served_leaf(webhook.secure_port, NAME, second_ca.as_bytes())
            .await
            .is_ok()
        {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the new certificate was not served within 15 s:\n{}",
            webhook.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "new certificate served {:?} after the change",
        changed.elapsed()
    );
    // The old one is gone, and the process is the same.
    assert!(
        support::served_leaf(webhook.secure_port, NAME, first_ca.as_bytes())
            .await
            .is_err()
    );
    assert!(webhook.is_running());

    // A broken pair keeps the last good certificate.
    replace_file(&cert_file, "not a certificate")?;
    tokio::time::sleep(Duration::from_secs(11)).await;
    support::served_leaf(webhook.secure_port, NAME, second_ca.as_bytes())
        .await
        .context("the last good certificate after a bad write")?;
    assert!(webhook.is_running());
    Ok(())
}

//! Admission webhooks are really called over HTTPS: via a Service + Endpoints pointing at a
//! loopback server (TLS name `<svc>.<ns>.svc`) and via `clientConfig.url`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Service};
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use testkit::{Backend, ControlPlane};
use tokio::net::TcpListener;

/// A one-purpose validating webhook: denies everything it is asked about, counting calls.
struct Webhook {
    port: u16,
    ca_pem: String,
    calls: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start_webhook(service_dns: &str) -> anyhow::Result<Webhook> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate()?;
    let cert = CertificateParams::new(vec![service_dns.to_string(), "127.0.0.1".to_string()])?
        .signed_by(&key, &issuer)?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let body = req.into_body().collect().await?.to_bytes();
                        let review: Value = serde_json::from_slice(&body).unwrap_or_default();
                        let resp = json!({
                            "apiVersion": "admission.k8s.io/v1",
                            "kind": "AdmissionReview",
                            "response": {
                                "uid": review["request"]["uid"],
                                "allowed": false,
                                "status": {"code": 403, "message": "denied by testkit webhook"}
                            }
                        });
                        let mut out =
                            hyper::Response::new(Full::new(Bytes::from(resp.to_string())));
                        out.headers_mut()
                            .insert("content-type", "application/json".parse().expect("static"));
                        Ok::<_, hyper::Error>(out)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Webhook {
        port,
        ca_pem: ca_cert.pem(),
        calls,
        task,
    })
}

fn labelled_configmap(name: &str, label: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(BTreeMap::from([(label.to_string(), "yes".to_string())])),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn webhook_config(
    name: &str,
    label: &str,
    client_config: Value,
) -> anyhow::Result<ValidatingWebhookConfiguration> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [{
            "name": format!("{name}.testkit.example.com"),
            "clientConfig": client_config,
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
            "objectSelector": {"matchLabels": {label: "yes"}},
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5
        }]
    }))?)
}

/// Webhook configurations reach the admission plugin through an informer: retry briefly.
async fn expect_denied(api: &Api<ConfigMap>, cm: &ConfigMap) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match api.create(&PostParams::default(), cm).await {
            Err(kube::Error::Api(s)) if s.message.contains("denied by testkit webhook") => {
                assert_eq!(s.code, 403, "{s:?}");
                return Ok(());
            }
            Err(e) => return Err(e).context("unexpected error"),
            Ok(_) => {
                // Created before the webhook was active: remove it and try again.
                api.delete(
                    cm.metadata.name.as_deref().unwrap_or_default(),
                    &DeleteParams::default(),
                )
                .await?;
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "webhook never denied the request"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test]
async fn validating_webhook_denies_via_service_and_url() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    if cp.backend() == Backend::Existing {
        // A remote API server cannot reach a webhook on this machine's loopback.
        eprintln!("skipped: existing cluster");
        return Ok(());
    }
    let ns = cp.namespace("webhook").await?;
    let client = cp.client();
    let hook = start_webhook(&format!("deny.{ns}.svc")).await?;
    let ca_bundle = k8s_openapi::ByteString(hook.ca_pem.clone().into_bytes());

    // Service port 443 -> Endpoints 127.0.0.1:<actual port>, matched by port name.
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "deny"},
        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": "https"}]}
    }))?;
    Api::<Service>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &svc)
        .await?;
    let ep: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": "deny"},
        "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": hook.port}]}]
    }))?;
    Api::<Endpoints>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &ep)
        .await?;

    let vwcs: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let by_service = format!("{ns}-svc");
    let by_url = format!("{ns}-url");
    vwcs.create(
        &PostParams::default(),
        &webhook_config(
            &by_service,
            "deny-by-service",
            json!({"service": {"namespace": ns.name(), "name": "deny", "path": "/validate"}, "caBundle": ca_bundle}),
        )?,
    )
    .await?;
    vwcs.create(
        &PostParams::default(),
        &webhook_config(
            &by_url,
            "deny-by-url",
            json!({"url": format!("https://127.0.0.1:{}/validate", hook.port), "caBundle": ca_bundle}),
        )?,
    )
    .await?;

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let result = async {
        // Service resolution through Endpoints is this project's server's behaviour; a real
        // kube-apiserver would dial the Service's cluster IP.
        if cp.backend() == Backend::Envtest {
            expect_denied(&cms, &labelled_configmap("a", "deny-by-service")).await?;
        }
        expect_denied(&cms, &labelled_configmap("b", "deny-by-url")).await?;
        // Objects the selectors do not match are not sent to the webhook.
        let before = hook.calls.load(Ordering::SeqCst);
        cms.create(
            &PostParams::default(),
            &labelled_configmap("c", "unrelated"),
        )
        .await?;
        assert_eq!(hook.calls.load(Ordering::SeqCst), before);
        anyhow::Ok(())
    }
    .await;
    // Cluster-scoped: clean up even when the assertions failed.
    for name in [&by_service, &by_url] {
        let _ = vwcs.delete(name, &DeleteParams::default()).await;
    }
    result?;
    assert!(hook.calls.load(Ordering::SeqCst) >= 1);
    Ok(())
}

//! Issuers and CertificateRequests end to end (issue 5): the controller binary, with only the
//! issuer and CertificateRequest controllers enabled, against the local control plane.
//! Issued certificates are checked with the `openssl` command line tool, a parser and
//! verifier independent of ours.

use std::time::Duration;

use api::{CertificateRequest, ClusterIssuer, Issuer};
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use kube::core::NamespaceResourceScope;
use pki::{CsrSpec, EcCurve, KeyEncoding, KeyType, PrivateKey, Subject};
use serde_json::json;
use testkit::ControlPlane;
use testkit::component::{self, Component};

use crate::common::{condition, create, openssl_verify, wait_condition};

const WAIT: Duration = Duration::from_secs(30);
const CONTROLLERS: &str = "issuers,clusterissuers,certificaterequests-approver,certificaterequests-issuer-selfsigned,certificaterequests-issuer-ca";
/// The default `--cluster-resource-namespace`.
const CLUSTER_RESOURCE_NAMESPACE: &str = "kube-system";

async fn start(cp: &ControlPlane) -> anyhow::Result<Component> {
    start_controllers(cp, CONTROLLERS).await
}

/// The controller running only `controllers`.
async fn start_controllers(cp: &ControlPlane, controllers: &str) -> anyhow::Result<Component> {
    let controllers = format!("--controllers={controllers}");
    let args = [&["--leader-elect=false", &controllers], super::SUITE_ARGS].concat();
    Ok(crate::common::start_controller(cp, &args, &[]).await?.0)
}

fn key() -> PrivateKey {
    PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap()
}

fn csr_pem(key: &PrivateKey, common_name: &str, dns: &[&str]) -> String {
    let spec = CsrSpec {
        subject: Subject {
            common_name: common_name.into(),
            ..Default::default()
        },
        dns_names: dns.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    pki::create_csr(&spec, key, None).unwrap().to_pem()
}

fn key_secret(name: &str, key: &PrivateKey) -> Secret {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.key": key.to_pem(KeyEncoding::Pkcs8).unwrap().as_str(), "tls.crt": ""},
    }))
    .unwrap()
}

fn request(
    name: &str,
    issuer: serde_json::Value,
    csr: &str,
    key_secret: Option<&str>,
) -> CertificateRequest {
    let annotations = match key_secret {
        Some(s) => json!({"cert-manager.io/private-key-secret-name": s}),
        None => json!({}),
    };
    serde_json::from_value(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "issuerRef": issuer,
            "request": k8s_openapi::ByteString(csr.as_bytes().to_vec()),
            "duration": "2h",
            "usages": ["digital signature", "key encipherment", "server auth"],
        },
    }))
    .unwrap()
}

fn status_pem(cr: &serde_json::Value, field: &str) -> String {
    let bytes: k8s_openapi::ByteString = serde_json::from_value(cr["status"][field].clone())
        .unwrap_or_else(|e| panic!("status.{field}: {e}"));
    String::from_utf8(bytes.0).unwrap()
}

fn namespaced<K: Resource<Scope = NamespaceResourceScope>>(cp: &ControlPlane, ns: &str) -> Api<K>
where
    K::DynamicType: Default,
{
    Api::namespaced(cp.client(), ns)
}

#[tokio::test]
async fn self_signed_cluster_issuer_issues_and_other_requests_wait_or_fail() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let mut controller = start(cp).await?;
    let ns = cp.namespace("selfsigned").await?;
    let ns = ns.name();

    let issuers: Api<ClusterIssuer> = Api::all(cp.client());
    let issuer_name = format!("selfsigned-{ns}");
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": issuer_name}, "spec": {"selfSigned": {}},
        }),
    )
    .await?;
    wait_condition(&issuers, &issuer_name, "Ready", "True", "IsReady").await?;

    let secrets: Api<Secret> = namespaced(cp, ns);
    let requests: Api<CertificateRequest> = namespaced(cp, ns);
    let k = key();
    create(&secrets, &key_secret("leaf-key", &k)).await?;
    let cluster_ref =
        json!({"name": issuer_name, "kind": "ClusterIssuer", "group": "cert-manager.io"});
    create(
        &requests,
        &request(
            "ok",
            cluster_ref.clone(),
            &csr_pem(&k, "self.example", &["self.example"]),
            Some("leaf-key"),
        ),
    )
    .await?;
    let cr = wait_condition(&requests, "ok", "Ready", "True", "Issued").await?;
    assert_eq!(
        condition(&cr, "Approved"),
        Some((
            "True".into(),
            "cert-manager.io".into(),
            "Certificate request has been approved by cert-manager.io".into()
        ))
    );
    assert_eq!(
        condition(&cr, "Ready").unwrap().2,
        "Certificate fetched from issuer successfully"
    );
    let cert = status_pem(&cr, "certificate");
    assert_eq!(
        cert,
        status_pem(&cr, "ca"),
        "a self-signed certificate is its own CA"
    );
    let text = openssl_verify(&cert, &cert);
    assert!(text.contains("Subject: CN=self.example"), "{text}");
    assert!(text.contains("DNS:self.example"), "{text}");
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    let parsed = pki::ParsedCertificate::from_pem(cert.as_bytes())?;
    assert!(parsed.public_key_matches(k.public_key())?);
    let lifetime = parsed.not_after.duration_since(parsed.not_before)?;
    assert_eq!(
        lifetime,
        Duration::from_secs(2 * 3600),
        "spec.duration is honoured"
    );

    // A CSR that is not signed by the referenced key: final failure.
    let other = key();
    create(
        &requests,
        &request(
            "mismatch",
            cluster_ref.clone(),
            &csr_pem(&other, "x.example", &[]),
            Some("leaf-key"),
        ),
    )
    .await?;
    let cr = wait_condition(&requests, "mismatch", "Ready", "False", "Failed").await?;
    assert!(cr["status"]["failureTime"].is_string());
    assert!(
        condition(&cr, "Ready")
            .unwrap()
            .2
            .contains("CSR not signed by referenced private key")
    );

    // Denied (whether or not the approver got there first): Ready=False/Denied with a failure time, never signed.
    let denied = request(
        "denied",
        json!({"name": "not-there-yet", "kind": "ClusterIssuer"}),
        &csr_pem(&k, "denied.example", &[]),
        Some("leaf-key"),
    );
    create(&requests, &denied).await?;
    let deny = json!({"status": {"conditions": [{
        "type": "Denied", "status": "True", "reason": "test", "message": "denied by the test",
        "lastTransitionTime": "2024-01-01T00:00:00Z",
    }]}});
    requests
        .patch_status("denied", &PatchParams::default(), &Patch::Merge(deny))
        .await?;
    let cr = wait_condition(&requests, "denied", "Ready", "False", "Denied").await?;
    assert!(cr["status"]["failureTime"].is_string());
    assert!(cr["status"]["certificate"].is_null());

    // A missing issuer: approved, then Pending, and it stays so.
    create(
        &requests,
        &request(
            "orphan",
            json!({"name": "does-not-exist"}),
            &csr_pem(&k, "o.example", &[]),
            Some("leaf-key"),
        ),
    )
    .await?;
    let cr = wait_condition(&requests, "orphan", "Ready", "False", "Pending").await?;
    assert_eq!(
        condition(&cr, "Ready").unwrap().2,
        "Referenced \"Issuer\" not found: issuer.cert-manager.io \"does-not-exist\" not found"
    );
    assert_eq!(condition(&cr, "Approved").unwrap().0, "True");
    assert!(cr["status"]["certificate"].is_null());

    // Each decision is written once: approval, then the certificate (no rewrite afterwards,
    // though the other requests' syncs ran since).
    let path = format!("/apis/cert-manager.io/v1/namespaces/{ns}/certificaterequests/ok/status");
    let writes = component::eventually("status writes of ok in the audit log", WAIT, async || {
        let events = cp.audit_events().map_err(|e| e.to_string())?;
        let n = component::events_of(&events, &component::user_agent("controller"))
            .into_iter()
            .map(component::ApiRequest::from_event)
            .filter(|r| r.path == path && r.verb == "patch" && r.code == Some(200))
            .count();
        if n >= 2 {
            Ok(n)
        } else {
            Err(format!("{n} writes"))
        }
    })
    .await?;
    assert_eq!(writes, 2);

    controller.fail_if_exited()?;
    assert!(
        !controller.stderr().contains("BEGIN"),
        "no PEM material in the log"
    );
    Ok(())
}

fn ca_secret(name: &str) -> (Secret, String) {
    let ca_key = key();
    let spec = CsrSpec {
        subject: Subject {
            common_name: "test root CA".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let overrides = pki::RequestOverrides::new(Duration::from_secs(24 * 3600), true, &[]);
    let template =
        pki::CertificateTemplate::from_spec(&spec, ca_key.public_key().clone(), &overrides)
            .unwrap();
    let ca = pki::self_sign(&template, &ca_key).unwrap();
    let secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": ca.chain_pem, "tls.key": ca_key.to_pem(KeyEncoding::Pkcs1).unwrap().as_str()},
    }))
    .unwrap();
    (secret, ca.chain_pem)
}

#[tokio::test]
async fn ca_issuer_signs_once_its_secret_holds_a_ca() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let mut controller = start(cp).await?;
    let ns = cp.namespace("ca").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = namespaced(cp, ns);
    let secrets: Api<Secret> = namespaced(cp, ns);
    let requests: Api<CertificateRequest> = namespaced(cp, ns);

    // The Secret does not exist yet: not ready, with a reason naming it.
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "ca"}, "spec": {"ca": {"secretName": "ca-key-pair"}},
        }),
    )
    .await?;
    let issuer = wait_condition(&issuers, "ca", "Ready", "False", "ErrGetKeyPair").await?;
    assert_eq!(
        condition(&issuer, "Ready").unwrap().2,
        "Error getting keypair for CA issuer: secret \"ca-key-pair\" not found"
    );
    assert_eq!(issuer["status"]["conditions"][0]["observedGeneration"], 1);
    let events: Api<k8s_openapi::api::core::v1::Event> = namespaced(cp, ns);
    component::eventually("ErrGetKeyPair event", WAIT, async || {
        let list = events
            .list(&Default::default())
            .await
            .map_err(|e| e.to_string())?;
        list.items
            .iter()
            .find(|e| {
                e.reason.as_deref() == Some("ErrGetKeyPair")
                    && e.involved_object.name.as_deref() == Some("ca")
            })
            .map(|_| ())
            .ok_or_else(|| format!("{} events", list.items.len()))
    })
    .await?;

    // A request meanwhile waits for the issuer.
    let k = key();
    let ca_ref = json!({"name": "ca"});
    create(
        &requests,
        &request(
            "leaf",
            ca_ref,
            &csr_pem(&k, "leaf.example", &["leaf.example"]),
            None,
        ),
    )
    .await?;
    let cr = wait_condition(&requests, "leaf", "Ready", "False", "Pending").await?;
    assert_eq!(
        condition(&cr, "Ready").unwrap().2,
        "Referenced issuer does not have a Ready status condition"
    );

    // The Secret appears: the issuer becomes ready and the request is signed by the CA.
    let (secret, ca_pem) = ca_secret("ca-key-pair");
    create(&secrets, &secret).await?;
    let issuer = wait_condition(&issuers, "ca", "Ready", "True", "KeyPairVerified").await?;
    assert_eq!(
        condition(&issuer, "Ready").unwrap().2,
        "Signing CA verified"
    );
    let cr = wait_condition(&requests, "leaf", "Ready", "True", "Issued").await?;
    let chain = status_pem(&cr, "certificate");
    assert_eq!(status_pem(&cr, "ca"), ca_pem);
    let text = openssl_verify(&chain, &ca_pem);
    assert!(text.contains("Issuer: CN=test root CA"), "{text}");
    assert!(text.contains("DNS:leaf.example"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");

    // A ClusterIssuer whose Secret lives in the cluster resource namespace.
    let cluster_issuers: Api<ClusterIssuer> = Api::all(cp.client());
    let secret_name = format!("ca-{ns}");
    let crn_secrets: Api<Secret> = namespaced(cp, CLUSTER_RESOURCE_NAMESPACE);
    let (secret, _) = ca_secret(&secret_name);
    create(&crn_secrets, &secret).await?;
    create(
        &cluster_issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": secret_name}, "spec": {"ca": {"secretName": secret_name}},
        }),
    )
    .await?;
    wait_condition(
        &cluster_issuers,
        &secret_name,
        "Ready",
        "True",
        "KeyPairVerified",
    )
    .await?;

    // A certificate that is not a CA is refused.
    let leaf_secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "not-a-ca"},
        "stringData": {"tls.crt": chain, "tls.key": k.to_pem(KeyEncoding::Pkcs8).unwrap().as_str()},
    }))?;
    create(&secrets, &leaf_secret).await?;
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "leaf-as-ca"}, "spec": {"ca": {"secretName": "not-a-ca"}},
        }),
    )
    .await?;
    let issuer = wait_condition(
        &issuers,
        "leaf-as-ca",
        "Ready",
        "False",
        "ErrInvalidKeyPair",
    )
    .await?;
    assert_eq!(
        condition(&issuer, "Ready").unwrap().2,
        "Error getting keypair for CA issuer: certificate is not a CA"
    );

    controller.fail_if_exited()?;
    assert!(
        !controller.stderr().contains("PRIVATE KEY"),
        "no key material in the log"
    );
    Ok(())
}

#[tokio::test]
async fn only_the_issuers_signer_says_it_waits_for_approval() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    // No approver: the request waits until the test approves it.
    let _c = start_controllers(
        cp,
        "issuers,certificaterequests-issuer-selfsigned,certificaterequests-issuer-ca",
    )
    .await?;
    let ns = cp.namespace("issuers-approval").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = namespaced(cp, ns);
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}},
        }),
    )
    .await?;
    wait_condition(&issuers, "selfsigned", "Ready", "True", "IsReady").await?;
    let secrets: Api<Secret> = namespaced(cp, ns);
    let requests: Api<CertificateRequest> = namespaced(cp, ns);
    let k = key();
    create(&secrets, &key_secret("wait-key", &k)).await?;
    create(
        &requests,
        &request(
            "wait",
            json!({"name": "selfsigned", "kind": "Issuer"}),
            &csr_pem(&k, "wait.example", &["wait.example"]),
            Some("wait-key"),
        ),
    )
    .await?;
    let events: Api<Event> = namespaced(cp, ns);
    let waiting = async || -> anyhow::Result<Vec<String>> {
        Ok(events
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .filter(|e| {
                e.involved_object.name.as_deref() == Some("wait")
                    && e.reason.as_deref() == Some("WaitingForApproval")
            })
            .map(|e| e.source.and_then(|s| s.component).unwrap_or_default())
            .collect())
    };
    component::eventually("a WaitingForApproval event", WAIT, async || match waiting()
        .await
        .map_err(|e| e.to_string())?
    {
        found if !found.is_empty() => Ok(()),
        _ => Err("none yet".to_owned()),
    })
    .await?;
    // Approve; once the request is signed, both signers have long seen it unapproved.
    let approved = json!({"status": {"conditions": [{
        "type": "Approved", "status": "True", "reason": "test", "message": "approved by the test",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }]}});
    requests
        .patch_status("wait", &PatchParams::default(), &Patch::Merge(&approved))
        .await?;
    wait_condition(&requests, "wait", "Ready", "True", "Issued").await?;
    let sources = waiting().await?;
    assert!(
        !sources.is_empty()
            && sources
                .iter()
                .all(|c| c == "cert-manager-certificaterequests-issuer-selfsigned"),
        "WaitingForApproval from {sources:?}"
    );
    Ok(())
}

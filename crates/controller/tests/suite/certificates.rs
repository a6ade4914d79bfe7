//! The certificates pipeline end to end (issue 5): the controller binary with its default
//! controllers (issuers, approver, selfsigned/CA signers and the six certificates
//! controllers) against the local control plane. Issued Secrets are checked with `openssl`, a
//! parser and verifier independent of ours.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use api::{Certificate, CertificateRequest, ClusterIssuer, Issuer};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};
use testkit::ControlPlane;
use testkit::component::{self, Component};

use crate::common::{create, data, openssl_verify, requests_of};

const READY: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(60);

async fn start(cp: &ControlPlane) -> anyhow::Result<Component> {
    Ok(start_with(cp, &[]).await?.0)
}

/// The controller with its default controllers plus `args`, leader election off; returns it
/// and its metrics address.
async fn start_with(cp: &ControlPlane, args: &[&str]) -> anyhow::Result<(Component, SocketAddr)> {
    launch(cp, &[&["--leader-elect=false"], args].concat()).await
}

/// The controller with `args` and the suite's flags, once it reports ready; returns it and its
/// metrics address.
async fn launch(cp: &ControlPlane, args: &[&str]) -> anyhow::Result<(Component, SocketAddr)> {
    crate::common::start_controller(cp, &[args, super::SUITE_ARGS].concat(), &[]).await
}

async fn self_signed_issuer(issuers: &Api<Issuer>) -> anyhow::Result<Issuer> {
    create(
        issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}},
        }),
    )
    .await
}

fn certificate(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name}, "spec": spec,
    })
}

fn condition(crt: &Certificate, t: &str) -> Option<(String, String)> {
    crt.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.condition_type.as_str() == t)
        .map(|c| {
            (
                c.status.as_str().to_owned(),
                c.reason.clone().unwrap_or_default(),
            )
        })
}

/// Waits until the Certificate is Ready=True at `revision` or later; returns it.
async fn wait_ready(
    api: &Api<Certificate>,
    name: &str,
    revision: i64,
) -> anyhow::Result<Certificate> {
    Ok(component::eventually(
        &format!("Certificate {name} Ready at revision {revision}"),
        WAIT,
        async || {
            let crt = api.get(name).await.map_err(|e| e.to_string())?;
            let rev = crt.status.as_ref().and_then(|s| s.revision).unwrap_or(0);
            match condition(&crt, "Ready") {
                Some((s, _))
                    if s == "True" && rev >= revision && condition(&crt, "Issuing").is_none() =>
                {
                    Ok(crt)
                }
                other => Err(format!(
                    "Ready={other:?} revision={rev} Issuing={:?}",
                    condition(&crt, "Issuing")
                )),
            }
        },
    )
    .await?)
}

/// The key in `tls.key` belongs to the certificate in `tls.crt` (checked by openssl).
fn assert_key_matches(secret: &Secret) {
    let dir = tempfile::tempdir().unwrap();
    let (k, c) = (dir.path().join("tls.key"), dir.path().join("tls.crt"));
    std::fs::write(&k, data(secret, "tls.key")).unwrap();
    std::fs::write(&c, data(secret, "tls.crt")).unwrap();
    let pubkey = |args: &[&str], path: &Path| {
        let out = Command::new("openssl")
            .args(args)
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(
        pubkey(&["pkey", "-pubout", "-in"], &k),
        pubkey(&["x509", "-noout", "-pubkey", "-in"], &c),
        "tls.key does not belong to tls.crt"
    );
}

/// `openssl <args> <file>` accepts the Secret's `key` (written to a file).
fn assert_openssl_reads(secret: &Secret, key: &str, args: &[&str]) {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .unwrap_or_else(|| panic!("{key} missing"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(key);
    std::fs::write(&path, &bytes.0).unwrap();
    let out = Command::new("openssl")
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} {key}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn self_signed_ca_chain_becomes_ready() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let (_controller, metrics) = start_with(cp, &[]).await?;
    let ns = cp.namespace("certs-chain").await?;
    let ns = ns.name();
    let cluster_issuers: Api<ClusterIssuer> = Api::all(cp.client());
    let root_issuer = format!("selfsigned-{ns}");
    create(
        &cluster_issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": root_issuer}, "spec": {"selfSigned": {}},
        }),
    )
    .await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(
        &certs,
        certificate(
            "root-ca",
            json!({
                "isCA": true, "commonName": "Test Root CA", "secretName": "root-ca-tls",
                "privateKey": {"algorithm": "ECDSA", "size": 256},
                "issuerRef": {"name": root_issuer, "kind": "ClusterIssuer"},
            }),
        ),
    )
    .await?;
    let root = wait_ready(&certs, "root-ca", 1).await?;
    assert_eq!(root.status.as_ref().unwrap().revision, Some(1));
    let root_secret = secrets.get("root-ca-tls").await?;
    let root_pem = data(&root_secret, "tls.crt");
    assert_key_matches(&root_secret);
    openssl_verify(&root_pem, &root_pem);

    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "ca"}, "spec": {"ca": {"secretName": "root-ca-tls"}},
        }),
    )
    .await?;
    create(
        &certs,
        certificate(
            "web",
            json!({
                    "commonName": "web.example.com",
                    "dnsNames": ["web.example.com", "www.example.com"],
                    "ipAddresses": ["127.0.0.1"],
                    "subject": {"organizations": ["Example"]},
                    "secretName": "web-tls",
                    "usages": ["digital signature", "key encipherment", "server auth"],
                    "secretTemplate": {"labels": {"app": "web"}, "annotations": {"team": "a"}},
                    "additionalOutputFormats": [{"type": "CombinedPEM"}, {"type": "DER"}],
            "keystores": {
                "pkcs12": {"create": true, "profile": "Modern2023", "password": "changeit"},
                "jks": {"create": true, "password": "changeit"},
            },
                    "issuerRef": {"name": "ca"},
                }),
        ),
    )
    .await?;
    let web = wait_ready(&certs, "web", 1).await?;
    let st = web.status.as_ref().unwrap();
    assert!(
        st.not_after.is_some() && st.not_before.is_some() && st.renewal_time.is_some(),
        "{st:?}"
    );
    assert_eq!(st.next_private_key_secret_name, None);
    let secret = secrets.get("web-tls").await?;
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_key_matches(&secret);
    let text = openssl_verify(&data(&secret, "tls.crt"), &root_pem);
    assert!(
        text.contains("DNS:web.example.com") && text.contains("DNS:www.example.com"),
        "{text}"
    );
    assert!(text.contains("IP Address:127.0.0.1"), "{text}");
    assert!(
        text.contains("O=Example") || text.contains("O = Example"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert_eq!(data(&secret, "ca.crt"), root_pem);
    // cert-manager's layout: the key, a newline, the chain (no key material in the message).
    let combined = data(&secret, "tls-combined.pem");
    assert!(
        combined == format!("{}\n{}", data(&secret, "tls.key"), data(&secret, "tls.crt")),
        "tls-combined.pem is not tls.key, newline, tls.crt"
    );
    assert_openssl_reads(
        &secret,
        "key.der",
        &["pkey", "-inform", "DER", "-noout", "-in"],
    );
    let p12 = ["pkcs12", "-noout", "-passin", "pass:changeit", "-in"];
    assert_openssl_reads(&secret, "keystore.p12", &p12);
    assert_openssl_reads(&secret, "truststore.p12", &p12);
    for key in ["keystore.jks", "truststore.jks"] {
        assert!(
            secret.data.as_ref().unwrap().contains_key(key),
            "{key} missing"
        );
    }
    let labels = secret.labels();
    assert_eq!(
        labels
            .get("controller.cert-manager.io/fao")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    let ann = secret.annotations();
    for (k, v) in [
        ("cert-manager.io/certificate-name", "web"),
        ("cert-manager.io/issuer-name", "ca"),
        ("cert-manager.io/issuer-kind", "Issuer"),
        ("cert-manager.io/common-name", "web.example.com"),
        (
            "cert-manager.io/alt-names",
            "web.example.com,www.example.com",
        ),
        ("cert-manager.io/ip-sans", "127.0.0.1"),
        ("cert-manager.io/uri-sans", ""),
        ("team", "a"),
    ] {
        assert_eq!(
            ann.get(k).map(String::as_str),
            Some(v),
            "annotation {k}: {ann:?}"
        );
    }
    assert!(
        secret
            .managed_fields()
            .iter()
            .any(|m| m.manager.as_deref() == Some("cert-manager-certificates-issuing"))
    );

    // One request, for revision 1, under its stable name and owned by the Certificate.
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    let requests = requests_of(&crs, "web").await?;
    assert_eq!(requests.len(), 1, "{requests:?}");
    let cr = &requests[0];
    assert_eq!(cr.name_any(), "web-1");
    assert_eq!(
        cr.annotations()
            .get("cert-manager.io/certificate-revision")
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(cr.owner_references()[0].uid, web.uid().unwrap());
    // The next-private-key Secret is gone once issued.
    component::eventually("next private key Secrets deleted", WAIT, async || {
        let left = secrets
            .list(&ListParams::default().labels("cert-manager.io/next-private-key=true"))
            .await
            .map_err(|e| e.to_string())?
            .items;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{} left", left.len()))
        }
    })
    .await?;
    // Scrape-time gauges from the Certificate cache.
    let text = component::eventually("certificate metrics", WAIT, async || {
        let text = component::metrics(metrics)
            .await
            .map_err(|e| e.to_string())?;
        let labels = [("name", "web"), ("namespace", ns), ("condition", "True")];
        match component::metric_value(&text, "certmanager_certificate_ready_status", &labels) {
            Some(1.0) => Ok(text),
            other => Err(format!("ready_status {other:?}")),
        }
    })
    .await?;
    let not_after = st.not_after.clone().unwrap().0.as_second() as f64;
    let labels = [("name", "web"), ("namespace", ns), ("issuer_name", "ca")];
    for name in [
        "certmanager_certificate_expiration_timestamp_seconds",
        "certmanager_certificate_not_after_timestamp_seconds",
    ] {
        assert_eq!(
            component::metric_value(&text, name, &labels),
            Some(not_after),
            "{name}"
        );
    }
    cluster_issuers
        .delete(&root_issuer, &DeleteParams::default())
        .await?;
    Ok(())
}

/// Serial number of `tls.crt`.
fn serial(secret: &Secret) -> String {
    pki::ParsedCertificate::from_pem(data(secret, "tls.crt").as_bytes())
        .unwrap()
        .serial_hex()
}

#[tokio::test]
async fn renews_at_renewal_time_and_reissues_a_deleted_secret() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let _controller = start(cp).await?;
    let ns = cp.namespace("certs-renew").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    self_signed_issuer(&issuers).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    create(
        &certs,
        certificate(
            "short",
            json!({
                "commonName": "short.example.com", "secretName": "short-tls",
                "duration": "60s", "renewBefore": "40s",
                "privateKey": {"algorithm": "ECDSA"},
                "issuerRef": {"name": "selfsigned"},
            }),
        ),
    )
    .await?;
    let first = wait_ready(&certs, "short", 1).await?;
    let first_serial = serial(&secrets.get("short-tls").await?);
    let st = first.status.as_ref().unwrap();
    let (not_after, renewal) = (
        st.not_after.clone().unwrap().0,
        st.renewal_time.clone().unwrap().0,
    );
    assert_eq!(
        not_after.as_second() - renewal.as_second(),
        40,
        "renewalTime = notAfter - renewBefore"
    );

    // About 20 s after issuance the trigger renews: revision 2 with a new certificate and key.
    let second = wait_ready(&certs, "short", 2).await?;
    let renewed = secrets.get("short-tls").await?;
    assert_ne!(serial(&renewed), first_serial);
    assert_key_matches(&renewed);
    // Readiness reports the new validity once it has seen the new Secret.
    component::eventually(
        "status.notAfter of the renewed certificate",
        WAIT,
        async || {
            let crt = certs.get("short").await.map_err(|e| e.to_string())?;
            let now_after = crt.status.and_then(|s| s.not_after).map(|t| t.0);
            if now_after.is_some_and(|t| t > not_after) {
                Ok(())
            } else {
                Err(format!("{now_after:?}"))
            }
        },
    )
    .await?;
    // revisionHistoryLimit 1: the request of revision 1 is garbage-collected.
    component::eventually("old requests deleted", WAIT, async || {
        let names: Vec<String> = requests_of(&crs, "short")
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .map(|c| c.name_any())
            .collect();
        if names.iter().all(|n| n != "short-1") {
            Ok(())
        } else {
            Err(format!("{names:?}"))
        }
    })
    .await?;

    // Deleting the Secret re-issues at once, long before the next renewal.
    let rev = second.status.as_ref().unwrap().revision.unwrap();
    secrets
        .delete("short-tls", &DeleteParams::default())
        .await?;
    wait_ready(&certs, "short", rev + 1).await?;
    let reissued = secrets.get("short-tls").await?;
    assert_key_matches(&reissued);
    assert_ne!(serial(&reissued), serial(&renewed));
    Ok(())
}

/// A replica with leader election on, its Lease in `lease_namespace` with short timings so
/// that a standby takes over within seconds of the leader being killed.
async fn start_elected(cp: &ControlPlane, lease_namespace: &str) -> anyhow::Result<Component> {
    let lease_namespace = format!("--leader-election-namespace={lease_namespace}");
    let args = [
        "--leader-elect=true",
        &lease_namespace,
        "--leader-election-lease-duration=4s",
        "--leader-election-renew-deadline=3s",
        "--leader-election-retry-period=1s",
    ];
    Ok(launch(cp, &args).await?.0)
}

#[tokio::test]
async fn killed_leader_is_replaced_without_a_duplicate_request() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("certs-restart").await?;
    let ns = ns.name();
    let mut leader = start_elected(cp, ns).await?;
    leader
        .wait_for_log("caches synced", READY)
        .await
        .map_err(|e| anyhow::anyhow!("the first replica did not lead: {e}"))?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    // The issuer does not exist yet, so the request stays pending across the failover.
    create(
        &certs,
        certificate(
            "restart",
            json!({
                "dnsNames": ["restart.example.com"], "secretName": "restart-tls",
                "privateKey": {"algorithm": "ECDSA"},
                "issuerRef": {"name": "later"},
            }),
        ),
    )
    .await?;
    let first = component::eventually("CertificateRequest restart-1 created", WAIT, async || {
        crs.get("restart-1").await.map_err(|e| e.to_string())
    })
    .await?;
    let mut standby = start_elected(cp, ns).await?;
    // SIGKILL: the Lease is not released, the standby must wait for it to expire.
    drop(leader);
    standby
        .wait_for_log("caches synced", READY)
        .await
        .map_err(|e| anyhow::anyhow!("the standby did not take over: {e}"))?;
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "later"}, "spec": {"selfSigned": {}},
        }),
    )
    .await?;
    wait_ready(&certs, "restart", 1).await?;
    let requests = requests_of(&crs, "restart").await?;
    assert_eq!(
        requests.len(),
        1,
        "{:?}",
        requests.iter().map(|r| r.name_any()).collect::<Vec<_>>()
    );
    assert_eq!(requests[0].uid(), first.uid(), "the request was replaced");
    Ok(())
}

async fn set_request_condition(
    api: &Api<CertificateRequest>,
    name: &str,
    t: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let body = json!({"status": {"conditions": [{
        "type": t, "status": "True", "reason": reason,
        "message": format!("{t} by the test"), "lastTransitionTime": now,
    }]}});
    api.patch_status(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&body),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn denied_request_fails_issuance_and_a_spec_change_skips_the_backoff() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let (_controller, _) =
        start_with(cp, &["--controllers=*,-certificaterequests-approver"]).await?;
    let ns = cp.namespace("certs-denied").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    self_signed_issuer(&issuers).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    create(
        &certs,
        certificate(
            "denied",
            json!({
                "dnsNames": ["a.example.com"], "secretName": "denied-tls",
                "privateKey": {"algorithm": "ECDSA"},
                "issuerRef": {"name": "selfsigned"},
            }),
        ),
    )
    .await?;
    let first = component::eventually("CertificateRequest denied-1 created", WAIT, async || {
        crs.get("denied-1").await.map_err(|e| e.to_string())
    })
    .await?;
    set_request_condition(&crs, "denied-1", "Denied", "TestDenied").await?;
    let failed = component::eventually("Issuing=False after the denial", WAIT, async || {
        let crt = certs.get("denied").await.map_err(|e| e.to_string())?;
        match condition(&crt, "Issuing") {
            Some((s, r)) if s == "False" && r == "TestDenied" => Ok(crt),
            other => Err(format!("Issuing={other:?}")),
        }
    })
    .await?;
    let st = failed.status.as_ref().unwrap();
    assert_eq!(st.failed_issuance_attempts, Some(1));
    assert!(st.last_failure_time.is_some());
    assert_eq!(
        condition(&failed, "Ready").map(|c| c.1).as_deref(),
        Some("DoesNotExist")
    );

    // Within the 1h backoff, only a spec change starts a new issuance: the stale request is
    // replaced by one for the new spec.
    certs
        .patch(
            "denied",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"dnsNames": ["b.example.com"]}})),
        )
        .await?;
    component::eventually("a new request for the changed spec", WAIT, async || {
        let cr = crs.get("denied-1").await.map_err(|e| e.to_string())?;
        if cr.uid() != first.uid() {
            Ok(())
        } else {
            Err("still the denied request".into())
        }
    })
    .await?;
    set_request_condition(&crs, "denied-1", "Approved", "TestApproved").await?;
    let crt = wait_ready(&certs, "denied", 1).await?;
    let st = crt.status.as_ref().unwrap();
    assert_eq!(
        (st.failed_issuance_attempts, st.last_failure_time.as_ref()),
        (None, None)
    );
    let secret: Secret = Api::namespaced(cp.client(), ns).get("denied-tls").await?;
    let cert = pki::ParsedCertificate::from_pem(data(&secret, "tls.crt").as_bytes())?;
    assert_eq!(cert.spec.dns_names, ["b.example.com"]);
    Ok(())
}

/// The objects cert-manager leaves behind for an issued Certificate `name` (revision 1,
/// Secret `<name>-tls`, request `<name>-1`), written by hand.
async fn existing_install(
    cp: &ControlPlane,
    ns: &str,
    name: &str,
) -> anyhow::Result<(Certificate, Secret)> {
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let spec = json!({
        "dnsNames": [format!("{name}.example.com")], "secretName": format!("{name}-tls"),
        "privateKey": {"algorithm": "ECDSA"}, "duration": "2h",
        "issuerRef": {"name": "selfsigned"},
    });
    let crt = create(&certs, certificate(name, spec)).await?;
    let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256))?;
    let csr_spec = pki::CsrSpec {
        dns_names: vec![format!("{name}.example.com")],
        key_usage: pki::KeyUsages::DIGITAL_SIGNATURE | pki::KeyUsages::KEY_ENCIPHERMENT,
        ..Default::default()
    };
    let overrides = pki::RequestOverrides::new(Duration::from_secs(7200), false, &[]);
    let template =
        pki::CertificateTemplate::from_spec(&csr_spec, key.public_key().clone(), &overrides)?;
    let issued = pki::self_sign(&template, &key)?;
    let key_pem = key.to_pem(pki::KeyEncoding::Pkcs1)?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let secret = secrets
        .patch(
            &format!("{name}-tls"),
            &kube::api::PatchParams::apply("cert-manager-certificates-issuing").force(),
            &kube::api::Patch::Apply(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {
                    "name": format!("{name}-tls"),
                    "labels": {"controller.cert-manager.io/fao": "true"},
                    "annotations": {
                        "cert-manager.io/certificate-name": name,
                        "cert-manager.io/issuer-name": "selfsigned",
                        "cert-manager.io/issuer-kind": "Issuer",
                        "cert-manager.io/issuer-group": "",
                        "cert-manager.io/common-name": "",
                        "cert-manager.io/alt-names": format!("{name}.example.com"),
                        "cert-manager.io/ip-sans": "",
                        "cert-manager.io/uri-sans": "",
                    },
                },
                "type": "kubernetes.io/tls",
                "stringData": {"tls.key": key_pem.as_str(), "tls.crt": issued.chain_pem, "ca.crt": issued.ca_pem},
            })),
        )
        .await?;
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    let csr = pki::create_csr(&csr_spec, &key, None)?;
    create(
        &crs,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {
                "name": format!("{name}-1"),
                "annotations": {
                    "cert-manager.io/certificate-name": name,
                    "cert-manager.io/certificate-revision": "1",
                    "cert-manager.io/private-key-secret-name": format!("{name}-abcde"),
                },
                "ownerReferences": [{
                    "apiVersion": "cert-manager.io/v1", "kind": "Certificate", "name": name,
                    "uid": crt.uid().unwrap(), "controller": true, "blockOwnerDeletion": true,
                }],
            },
            "spec": {
                "request": k8s_openapi::ByteString(csr.to_pem().into_bytes()),
                "issuerRef": {"name": "selfsigned"}, "duration": "2h",
            },
        }),
    )
    .await?;
    let status = json!({"status": {"revision": 1}});
    let crt = certs
        .patch_status(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&status),
        )
        .await?;
    Ok((crt, secret))
}

#[tokio::test]
async fn takes_over_an_existing_install_without_reissuing() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds");
    cp.install_crds(&[&crds]).await?;
    let ns = cp.namespace("certs-takeover").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    self_signed_issuer(&issuers).await?;
    let (_, before) = existing_install(cp, ns, "kept").await?;
    let (controller, metrics) = start_with(cp, &[]).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let crt = wait_ready(&certs, "kept", 1).await?;
    assert!(crt.status.as_ref().unwrap().not_after.is_some());
    // Every controller has looked at the Certificate at least once by now.
    component::eventually("trigger and request manager ran", WAIT, async || {
        let text = component::metrics(metrics)
            .await
            .map_err(|e| e.to_string())?;
        for c in [
            "certificates-trigger",
            "certificates-request-manager",
            "certificates-issuing",
        ] {
            let n = component::metric_value(
                &text,
                "certmanager_controller_sync_call_count",
                &[("controller", c)],
            );
            if n.unwrap_or(0.0) < 1.0 {
                return Err(format!("{c}: {n:?}"));
            }
        }
        Ok(())
    })
    .await?;
    let crt = certs.get("kept").await?;
    assert_eq!(condition(&crt, "Issuing"), None);
    assert_eq!(crt.status.as_ref().unwrap().revision, Some(1));
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    let names: Vec<String> = requests_of(&crs, "kept")
        .await?
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert_eq!(names, ["kept-1"]);
    let after: Secret = Api::namespaced(cp.client(), ns).get("kept-tls").await?;
    assert_eq!(
        after.resource_version(),
        before.resource_version(),
        "the Secret was rewritten"
    );

    // A secretTemplate change re-applies the Secret's metadata, keeping its key pair.
    let template = json!({"spec": {"secretTemplate": {"labels": {"tier": "gold"}}}});
    certs
        .patch(
            "kept",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&template),
        )
        .await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let relabelled = component::eventually("template label applied", WAIT, async || {
        let s = secrets.get("kept-tls").await.map_err(|e| e.to_string())?;
        match s.labels().get("tier") {
            Some(v) if v == "gold" => Ok(s),
            other => Err(format!("tier={other:?}")),
        }
    })
    .await?;
    assert_eq!(data(&relabelled, "tls.crt"), data(&before, "tls.crt"));
    assert_eq!(data(&relabelled, "tls.key"), data(&before, "tls.key"));
    let crt = certs.get("kept").await?;
    assert_eq!(crt.status.as_ref().unwrap().revision, Some(1));
    assert_eq!(condition(&crt, "Issuing"), None);
    drop(controller);
    Ok(())
}

#[tokio::test]
async fn a_secret_issued_for_another_certificate_is_not_overwritten() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let _controller = start(cp).await?;
    let ns = cp.namespace("certs-shared").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    self_signed_issuer(&issuers).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let spec = |dns: &str| {
        json!({
            "dnsNames": [dns], "secretName": "shared-tls",
            "privateKey": {"algorithm": "ECDSA"}, "issuerRef": {"name": "selfsigned"},
        })
    };
    create(&certs, certificate("first", spec("first.example.com"))).await?;
    wait_ready(&certs, "first", 1).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let before = secrets.get("shared-tls").await?;
    create(&certs, certificate("second", spec("second.example.com"))).await?;
    let second = component::eventually("second reports the conflict", WAIT, async || {
        let crt = certs.get("second").await.map_err(|e| e.to_string())?;
        match condition(&crt, "Ready") {
            Some((s, r)) if s == "False" && r == "IncorrectCertificate" => Ok(crt),
            other => Err(format!("Ready={other:?}")),
        }
    })
    .await?;
    assert_eq!(condition(&second, "Issuing"), None);
    let after = secrets.get("shared-tls").await?;
    assert_eq!(after.resource_version(), before.resource_version());
    assert_eq!(
        after
            .annotations()
            .get("cert-manager.io/certificate-name")
            .map(String::as_str),
        Some("first")
    );
    Ok(())
}

#[tokio::test]
async fn rotation_policy_never_keeps_the_key_across_reissuance() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let _controller = start(cp).await?;
    let ns = cp.namespace("certs-never").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    self_signed_issuer(&issuers).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(
        &certs,
        certificate(
            "stable",
            json!({
                "dnsNames": ["one.example.com"], "secretName": "stable-tls",
                "privateKey": {"algorithm": "ECDSA", "rotationPolicy": "Never"},
                "issuerRef": {"name": "selfsigned"},
            }),
        ),
    )
    .await?;
    wait_ready(&certs, "stable", 1).await?;
    let first = secrets.get("stable-tls").await?;
    // A spec change re-issues (revision 2) with the same key.
    let change = json!({"spec": {"dnsNames": ["one.example.com", "two.example.com"]}});
    certs
        .patch(
            "stable",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&change),
        )
        .await?;
    wait_ready(&certs, "stable", 2).await?;
    let second = secrets.get("stable-tls").await?;
    assert_ne!(serial(&second), serial(&first));
    assert!(
        data(&second, "tls.key") == data(&first, "tls.key"),
        "the private key was rotated"
    );
    assert_key_matches(&second);
    Ok(())
}

#[tokio::test]
async fn temporary_certificate_until_the_issuer_signs() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let _controller = start(cp).await?;
    let ns = cp.namespace("certs-temporary").await?;
    let ns = ns.name();
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(&certs, json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "temp", "annotations": {"cert-manager.io/issue-temporary-certificate": "true"}},
        "spec": {
            "dnsNames": ["temp.example.com"], "secretName": "temp-tls",
            "privateKey": {"algorithm": "ECDSA"}, "issuerRef": {"name": "later"},
        },
    }))
    .await?;
    // No issuer yet: the Secret holds the next key with a throwaway-CA certificate.
    let temporary = component::eventually("temporary certificate", WAIT, async || {
        secrets.get("temp-tls").await.map_err(|e| e.to_string())
    })
    .await?;
    assert_key_matches(&temporary);
    let text = openssl_text(&data(&temporary, "tls.crt"));
    assert!(
        text.contains("Issuer: CN=cert-manager.local")
            || text.contains("Issuer: CN = cert-manager.local"),
        "{text}"
    );
    assert!(text.contains("DNS:temp.example.com"), "{text}");

    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    create(
        &issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "later"}, "spec": {"selfSigned": {}},
        }),
    )
    .await?;
    wait_ready(&certs, "temp", 1).await?;
    let issued = secrets.get("temp-tls").await?;
    assert_key_matches(&issued);
    assert_eq!(
        data(&issued, "tls.key"),
        data(&temporary, "tls.key"),
        "the temporary certificate used the next key"
    );
    let text = openssl_text(&data(&issued, "tls.crt"));
    assert!(!text.contains("cert-manager.local"), "{text}");
    Ok(())
}

fn openssl_text(pem: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pem");
    std::fs::write(&path, pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn failed_issuance_is_retried_after_the_backoff() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let args = [
        "--controllers=*,-certificaterequests-approver",
        "--certificate-request-minimum-backoff-duration=3s",
    ];
    let (_controller, _) = start_with(cp, &args).await?;
    let ns = cp.namespace("certs-backoff").await?;
    let ns = ns.name();
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    self_signed_issuer(&issuers).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let crs: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);
    // rotationPolicy Never: the retry uses the same key, so the denied request would still
    // match it; it must be replaced, not counted as a second failure.
    create(
        &certs,
        certificate(
            "retry",
            json!({
                "dnsNames": ["retry.example.com"], "secretName": "retry-tls",
                "privateKey": {"algorithm": "ECDSA", "rotationPolicy": "Never"},
                "issuerRef": {"name": "selfsigned"},
            }),
        ),
    )
    .await?;
    component::eventually("request retry-1", WAIT, async || {
        crs.get("retry-1").await.map_err(|e| e.to_string())
    })
    .await?;
    set_request_condition(&crs, "retry-1", "Approved", "TestApproved").await?;
    wait_ready(&certs, "retry", 1).await?;

    let change = json!({"spec": {"dnsNames": ["retry.example.com", "again.example.com"]}});
    certs
        .patch(
            "retry",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&change),
        )
        .await?;
    let denied = component::eventually("request retry-2", WAIT, async || {
        crs.get("retry-2").await.map_err(|e| e.to_string())
    })
    .await?;
    set_request_condition(&crs, "retry-2", "Denied", "TestDenied").await?;
    let failed_at = std::time::Instant::now();
    // After the 3 s backoff the issuance starts again with a fresh request for revision 2.
    let replacement = component::eventually("replacement request retry-2", WAIT, async || {
        let cr = crs.get("retry-2").await.map_err(|e| e.to_string())?;
        if cr.uid() != denied.uid() {
            Ok(cr)
        } else {
            Err("still the denied request".into())
        }
    })
    .await?;
    assert!(
        failed_at.elapsed() >= Duration::from_secs(2),
        "retried after {:?}, before the backoff",
        failed_at.elapsed()
    );
    let crt = certs.get("retry").await?;
    assert_eq!(
        crt.status.as_ref().unwrap().failed_issuance_attempts,
        Some(1),
        "the stale denial counted twice"
    );
    set_request_condition(&crs, &replacement.name_any(), "Approved", "TestApproved").await?;
    let crt = wait_ready(&certs, "retry", 2).await?;
    assert_eq!(crt.status.as_ref().unwrap().failed_issuance_attempts, None);
    Ok(())
}

#[tokio::test]
async fn namespace_scoped_controller_leaves_other_namespaces_alone() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let inside = cp.namespace("certs-scoped-in").await?;
    let outside = cp.namespace("certs-scoped-out").await?;
    let scope = format!("--namespace={}", inside.name());
    let (_controller, _) = start_with(cp, &[&scope]).await?;
    // The Certificate outside the scope is created first: by the time the one inside is
    // Ready, a controller watching it would long have requested it.
    for ns in [outside.name(), inside.name()] {
        self_signed_issuer(&Api::namespaced(cp.client(), ns)).await?;
        create(
            &Api::<Certificate>::namespaced(cp.client(), ns),
            certificate(
                "scoped",
                json!({
                    "dnsNames": ["scoped.example.com"], "secretName": "scoped-tls",
                    "privateKey": {"algorithm": "ECDSA"},
                    "issuerRef": {"name": "selfsigned"},
                }),
            ),
        )
        .await?;
    }
    wait_ready(&Api::namespaced(cp.client(), inside.name()), "scoped", 1).await?;

    let out_certs: Api<Certificate> = Api::namespaced(cp.client(), outside.name());
    let out_issuers: Api<Issuer> = Api::namespaced(cp.client(), outside.name());
    let out_crs: Api<CertificateRequest> = Api::namespaced(cp.client(), outside.name());
    let out_secrets: Api<Secret> = Api::namespaced(cp.client(), outside.name());
    assert!(out_certs.get("scoped").await?.status.is_none());
    assert!(out_issuers.get("selfsigned").await?.status.is_none());
    assert!(requests_of(&out_crs, "scoped").await?.is_empty());
    assert!(out_secrets.get_opt("scoped-tls").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn metadata_and_outputs_dropped_from_the_spec_leave_the_secret() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let _controller = start(cp).await?;
    let ns = cp.namespace("certs-drift").await?;
    let ns = ns.name();
    self_signed_issuer(&Api::namespaced(cp.client(), ns)).await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(
        &certs,
        certificate(
            "drift",
            json!({
                "dnsNames": ["drift.example.com"], "secretName": "drift-tls",
                "privateKey": {"algorithm": "ECDSA"},
                "issuerRef": {"name": "selfsigned"},
                "secretTemplate": {"labels": {"app": "web", "tier": "gold"},
                                   "annotations": {"team": "a"}},
                "additionalOutputFormats": [{"type": "CombinedPEM"}],
            }),
        ),
    )
    .await?;
    wait_ready(&certs, "drift", 1).await?;
    // Someone else's label: not the controller's to remove.
    secrets
        .patch(
            "drift-tls",
            &kube::api::PatchParams::apply("someone-else"),
            &kube::api::Patch::Apply(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "drift-tls", "labels": {"owner": "ops"}},
            })),
        )
        .await?;
    let before = secrets.get("drift-tls").await?;
    assert!(
        before
            .data
            .as_ref()
            .unwrap()
            .contains_key("tls-combined.pem")
    );

    // Drop a label, the annotation and the output format from the spec.
    let mut crt = certs.get("drift").await?;
    crt.spec.secret_template = Some(serde_json::from_value(json!({"labels": {"app": "web"}}))?);
    crt.spec.additional_output_formats = None;
    certs.replace("drift", &PostParams::default(), &crt).await?;
    let after = component::eventually("dropped fields removed from the Secret", WAIT, async || {
        let s = secrets.get("drift-tls").await.map_err(|e| e.to_string())?;
        let has_data = s
            .data
            .as_ref()
            .is_some_and(|d| d.contains_key("tls-combined.pem"));
        if s.labels().contains_key("tier") || s.annotations().contains_key("team") || has_data {
            return Err(format!(
                "labels {:?}, annotations {:?}, combined {has_data}",
                s.labels(),
                s.annotations()
            ));
        }
        Ok(s)
    })
    .await?;
    assert_eq!(after.labels().get("app").map(String::as_str), Some("web"));
    assert_eq!(after.labels().get("owner").map(String::as_str), Some("ops"));
    assert_eq!(
        serial(&after),
        serial(&before),
        "the certificate was re-issued"
    );
    assert_eq!(data(&after, "tls.key"), data(&before, "tls.key"));
    assert_eq!(certs.get("drift").await?.status.unwrap().revision, Some(1));
    Ok(())
}

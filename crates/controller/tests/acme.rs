//! The ACME issuer end to end (issue 7): the controller binary with its default controllers
//! against the local control plane, a real Pebble (ACME server) and a real BIND 9 (the DNS-01
//! zone, updated with TSIG-signed RFC 2136 updates). Pebble resolves through BIND 9, so its
//! DNS-01 validation reads the records the controller wrote. Chains are verified with
//! `openssl` against the root Pebble issues from.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use api::{Certificate, CertificateRequest, Challenge, ClusterIssuer, Issuer, Order};
use base64::Engine;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use testkit::ControlPlane;
use testkit::bind9::Bind9;
use testkit::component::{self, Component};
use testkit::pebble::{Pebble, PebbleOptions};

mod common;
use common::{condition, create, data, openssl_verify, pem_blocks, requests_of, wait_condition};

const WAIT: Duration = Duration::from_secs(90);

/// How the controller is started for a test.
struct Flags<'a> {
    /// `--dns01-recursive-nameservers` (with `--dns01-recursive-nameservers-only`).
    resolver: SocketAddr,
    /// A config file body (`ControllerConfiguration`), e.g. a short request backoff.
    config: Option<&'a str>,
    /// Further environment variables (test hooks).
    env: Vec<(&'a str, String)>,
}

async fn start(
    cp: &ControlPlane,
    ns: &str,
    flags: Flags<'_>,
    dir: &Path,
) -> anyhow::Result<(Component, SocketAddr)> {
    let crn = format!("--cluster-resource-namespace={ns}");
    let resolver = format!("--dns01-recursive-nameservers={}", flags.resolver);
    let mut args = vec![
        "--leader-elect=false".to_owned(),
        crn,
        resolver,
        "--dns01-recursive-nameservers-only".to_owned(),
        "--dns01-check-retry-period=1s".to_owned(),
        "-v=4".to_owned(),
    ];
    if let Some(body) = flags.config {
        let path = dir.join("controller.yaml");
        std::fs::write(
            &path,
            format!(
                "apiVersion: controller.config.cert-manager.io/v1alpha1\nkind: ControllerConfiguration\n{body}"
            ),
        )?;
        args.push(format!("--config={}", path.display()));
    }
    // The record's TTL is waited for after the self check; not in tests.
    let mut env = vec![(
        "CERT_MANAGER_RS_DNS01_PROPAGATION_WAIT_SECONDS",
        "0".to_owned(),
    )];
    env.extend(flags.env.iter().map(|(k, v)| (*k, v.clone())));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::start_controller(cp, &args, &env).await
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// An ACME Issuer for Pebble solving DNS-01 through `dns` (RFC 2136, TSIG Secret `tsig`).
fn acme_issuer(name: &str, pebble: &Pebble, dns: &Bind9, account_secret: &str) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": {"name": name},
        "spec": {"acme": {
            "server": pebble.directory_url(),
            "caBundle": b64(pebble.ca_pem()),
            "email": "ops@example.com",
            "privateKeySecretRef": {"name": account_secret},
            "solvers": [{"dns01": {"rfc2136": {
                "nameserver": dns.addr().to_string(),
                "tsigKeyName": dns.tsig_key_name(),
                "tsigAlgorithm": "HMACSHA256",
                "tsigSecretSecretRef": {"name": "tsig", "key": "secret"},
            }}}],
        }},
    })
}

fn tsig_secret(dns: &Bind9) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tsig"},
           "stringData": {"secret": dns.tsig_secret()}})
}

fn certificate(name: &str, issuer: &str, dns_name: &str) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name},
        "spec": {
            "secretName": format!("{name}-tls"),
            "dnsNames": [dns_name],
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": issuer},
        },
    })
}

/// `tls.crt` of `secret` (leaf + intermediates) verifies with openssl against `root`, names
/// `dns_name`, and matches `tls.key`. Returns the leaf's serial.
async fn check_issued(
    secrets: &Api<Secret>,
    secret: &str,
    dns_name: &str,
    root: &str,
) -> anyhow::Result<String> {
    let s = secrets.get(secret).await?;
    let (chain, key) = (data(&s, "tls.crt"), data(&s, "tls.key"));
    let blocks = pem_blocks(&chain);
    assert!(
        blocks.len() >= 2,
        "leaf and intermediate in tls.crt: {chain}"
    );
    let text = openssl_verify(&chain, root);
    assert!(
        text.contains(&format!("DNS:{dns_name}")),
        "{dns_name} in SANs:\n{text}"
    );
    let dir = tempfile::tempdir()?;
    let (leaf, key_file) = (dir.path().join("leaf.pem"), dir.path().join("tls.key"));
    std::fs::write(&leaf, &blocks[0])?;
    std::fs::write(&key_file, &key)?;
    let public_key = |args: &[&str], file: &Path| -> anyhow::Result<String> {
        let out = Command::new("openssl").args(args).arg(file).output()?;
        anyhow::ensure!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    };
    assert_eq!(
        public_key(&["pkey", "-pubout", "-in"], &key_file)?,
        public_key(&["x509", "-noout", "-pubkey", "-in"], &leaf)?,
        "tls.key belongs to tls.crt"
    );
    let cert = pki::ParsedCertificate::from_pem(blocks[0].as_bytes())?;
    Ok(cert.serial_hex())
}

async fn txt_values(dns: &Bind9, name: &str) -> anyhow::Result<Vec<String>> {
    Ok(dns01::lookup_txt(
        &format!("_acme-challenge.{name}."),
        &[dns.addr()],
        Duration::from_secs(5),
    )
    .await?)
}

async fn count<K>(api: &Api<K>) -> anyhow::Result<usize>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Ok(api.list(&ListParams::default()).await?.items.len())
}

/// Issuance with a generated account key, chain verification, cleanup of the record and the
/// Challenges, an existing PKCS#1 key used as is, and a manually triggered renewal.
#[tokio::test]
async fn dns01_issues_renews_and_keeps_existing_account_keys() -> anyhow::Result<()> {
    let dns = Bind9::start().await?;
    let pebble = Pebble::start(PebbleOptions {
        dns_server: Some(dns.addr()),
        ..Default::default()
    })
    .await?;
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("acme-dns01").await?;
    let ns = ns.name();
    let dir = tempfile::tempdir()?;
    let flags = Flags {
        resolver: dns.addr(),
        config: None,
        env: Vec::new(),
    };
    let (mut controller, metrics) = start(cp, ns, flags, dir.path()).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let orders: Api<Order> = Api::namespaced(cp.client(), ns);
    let challenges: Api<Challenge> = Api::namespaced(cp.client(), ns);
    let requests: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);

    create(&secrets, tsig_secret(&dns)).await?;
    create(&issuers, acme_issuer("acme", &pebble, &dns, "acme-account")).await?;
    let issuer = wait_condition(&issuers, "acme", "Ready", "True", "ACMEAccountRegistered").await?;
    assert_eq!(
        condition(&issuer, "Ready").map(|c| c.2).as_deref(),
        Some("The ACME account was registered with the ACME server")
    );
    let issuer = issuers.get("acme").await?;
    let acme_status = issuer
        .status
        .as_ref()
        .and_then(|s| s.acme.clone())
        .expect("status.acme");
    let uri = acme_status.uri.clone().unwrap_or_default();
    assert!(
        uri.starts_with(pebble.directory_url().trim_end_matches("/dir")),
        "account URL {uri}"
    );
    assert_eq!(
        acme_status.last_registered_email.as_deref(),
        Some("ops@example.com")
    );
    // The generated account key: RSA-2048, PKCS#1, labelled as cert-manager does.
    let account = secrets.get("acme-account").await?;
    let key_pem = data(&account, "tls.key");
    assert!(
        key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "PKCS#1 PEM"
    );
    let key = pki::PrivateKey::from_pem(key_pem.as_bytes())?;
    assert_eq!(key.key_type(), pki::KeyType::Rsa(2048));
    assert_eq!(
        account
            .labels()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("cert-manager")
    );

    // An existing RSA-2048 PKCS#1 key, as cert-manager creates them, is used as it is.
    let existing = pki::PrivateKey::generate(pki::KeyType::Rsa(2048))?;
    let existing_pem = existing.to_pem(pki::KeyEncoding::Pkcs1)?.to_string();
    create(
        &secrets,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "existing-account"},
        "stringData": {"tls.key": existing_pem}}),
    )
    .await?;
    create(
        &issuers,
        acme_issuer("existing", &pebble, &dns, "existing-account"),
    )
    .await?;
    wait_condition(
        &issuers,
        "existing",
        "Ready",
        "True",
        "ACMEAccountRegistered",
    )
    .await?;
    assert_eq!(
        data(&secrets.get("existing-account").await?, "tls.key"),
        existing_pem,
        "key kept"
    );
    let existing_status = issuers
        .get("existing")
        .await?
        .status
        .and_then(|s| s.acme)
        .expect("status.acme");
    assert_ne!(
        existing_status.uri, acme_status.uri,
        "another key, another account"
    );
    assert_ne!(
        existing_status.last_private_key_hash,
        acme_status.last_private_key_hash
    );

    let name = format!("x.{}", dns.zone().trim_end_matches('.'));
    create(&certs, certificate("web", "acme", &name)).await?;
    wait_condition(&certs, "web", "Ready", "True", "Ready").await?;
    let root = pebble.issuer_roots_pem().await?;
    let serial = check_issued(&secrets, "web-tls", &name, &root).await?;

    let all_orders = orders.list(&ListParams::default()).await?.items;
    assert_eq!(all_orders.len(), 1, "one Order");
    let order = &all_orders[0];
    let status = order.status.clone().unwrap_or_default();
    assert_eq!(
        status.state.map(|s| s.to_string()).as_deref(),
        Some("valid")
    );
    let cr_name = order.owner_references()[0].name.clone();
    assert!(
        order.name_any().starts_with(&format!("{cr_name}-")),
        "Order named after its request"
    );
    // As upstream, the Challenges of a valid Order are deleted (after their cleanup).
    component::eventually("Challenges deleted", WAIT, async || {
        match count(&challenges).await.map_err(|e| e.to_string())? {
            0 => Ok(()),
            n => Err(format!("{n} left")),
        }
    })
    .await?;
    assert!(
        txt_values(&dns, &name).await?.is_empty(),
        "TXT record cleaned up"
    );
    let cr = requests.get(&cr_name).await?;
    assert!(cr.status.and_then(|s| s.ca).is_none(), "ACME gives no CA");

    // Renewal, as `cmctl renew` triggers it: Issuing=True on the Certificate.
    let mut crt = certs.get("web").await?;
    let conditions = crt
        .status
        .as_mut()
        .and_then(|s| s.conditions.as_mut())
        .expect("conditions");
    let mut issuing = serde_json::to_value(&conditions[0])?;
    issuing["type"] = "Issuing".into();
    issuing["status"] = "True".into();
    issuing["reason"] = "ManuallyTriggered".into();
    issuing["message"] = "Certificate re-issuance manually triggered".into();
    let mut all = serde_json::to_value(&*conditions)?;
    all.as_array_mut().unwrap().push(issuing);
    certs
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": all}})),
        )
        .await?;
    let renewed = component::eventually("renewed certificate", WAIT, async || {
        let crt = certs.get("web").await.map_err(|e| e.to_string())?;
        let v = serde_json::to_value(&crt).map_err(|e| e.to_string())?;
        let ready = condition(&v, "Ready").is_some_and(|c| c.0 == "True");
        if !ready || condition(&v, "Issuing").is_some() {
            return Err("still issuing".into());
        }
        let s = check_issued(&secrets, "web-tls", &name, &root)
            .await
            .map_err(|e| e.to_string())?;
        if s == serial {
            Err("same serial".into())
        } else {
            Ok(s)
        }
    })
    .await?;
    assert_ne!(renewed, serial);
    assert_eq!(count(&orders).await?, 2, "one new Order for the renewal");
    // cert-manager's ACME client metrics, labelled by action.
    let text = component::metrics(metrics).await?;
    let host = pebble.directory_url();
    let host = host.trim_start_matches("https://").trim_end_matches("/dir");
    for action in [
        "register_account",
        "authorize_order",
        "create_order_cert",
        "fetch_cert",
    ] {
        let n: f64 = component::samples(&text, "certmanager_http_acme_client_request_count")
            .iter()
            .filter(|s| s.labels.get("action").map(String::as_str) == Some(action))
            .filter(|s| s.labels.get("host").map(String::as_str) == Some(host))
            .map(|s| s.value)
            .sum();
        assert!(n >= 1.0, "{action} counted: {text}");
    }
    assert!(
        !controller.stderr().contains(dns.tsig_secret()),
        "TSIG secret not logged"
    );
    assert!(
        !controller.stderr().contains("PRIVATE KEY"),
        "no key logged"
    );
    controller.fail_if_exited()?;
    Ok(())
}

/// A UDP relay to a DNS server that can be closed: while closed, queries go unanswered (the
/// controller's self check fails; Pebble asks the server directly and is not affected).
struct Relay {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> anyhow::Result<Self> {
        let socket = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await?);
        let addr = socket.local_addr()?;
        let open = Arc::new(AtomicBool::new(false));
        let flag = open.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                if !flag.load(Ordering::SeqCst) {
                    continue;
                }
                let query = buf[..n].to_vec();
                let socket = socket.clone();
                tokio::spawn(async move {
                    let Ok(up) = tokio::net::UdpSocket::bind("127.0.0.1:0").await else {
                        return;
                    };
                    if up.send_to(&query, upstream).await.is_err() {
                        return;
                    }
                    let mut answer = vec![0u8; 4096];
                    if let Ok(Ok(n)) =
                        tokio::time::timeout(Duration::from_secs(3), up.recv(&mut answer)).await
                    {
                        let _ = socket.send_to(&answer[..n], from).await;
                    }
                });
            }
        });
        Ok(Self { addr, open, task })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pebble restarts (forgetting accounts, orders and authorizations) while a challenge waits
/// for its self check: the Order fails, the account is registered again, and after the
/// request backoff a new Order issues; there is no Order loop.
#[tokio::test]
async fn pebble_restart_mid_order_recovers_without_an_order_loop() -> anyhow::Result<()> {
    let dns = Bind9::start().await?;
    let mut pebble = Pebble::start(PebbleOptions {
        dns_server: Some(dns.addr()),
        ..Default::default()
    })
    .await?;
    let relay = Relay::start(dns.addr()).await?;
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("acme-restart").await?;
    let ns = ns.name();
    let dir = tempfile::tempdir()?;
    let flags = Flags {
        resolver: relay.addr,
        config: Some("certificateRequestMinimumBackoffDuration: 5s\n"),
        env: Vec::new(),
    };
    let (mut controller, _) = start(cp, ns, flags, dir.path()).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let orders: Api<Order> = Api::namespaced(cp.client(), ns);
    let challenges: Api<Challenge> = Api::namespaced(cp.client(), ns);

    create(&secrets, tsig_secret(&dns)).await?;
    create(&issuers, acme_issuer("acme", &pebble, &dns, "acme-account")).await?;
    wait_condition(&issuers, "acme", "Ready", "True", "ACMEAccountRegistered").await?;
    let first_account = issuers
        .get("acme")
        .await?
        .status
        .and_then(|s| s.acme)
        .and_then(|a| a.uri);
    let name = format!("restart.{}", dns.zone().trim_end_matches('.'));
    create(&certs, certificate("web", "acme", &name)).await?;
    // The record is in place and the self check is failing: the challenge waits.
    component::eventually(
        "challenge presented, self check waiting",
        WAIT,
        async || {
            let list = challenges
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            let ch = list.items.first().ok_or("no Challenge yet")?;
            let s = ch.status.clone().unwrap_or_default();
            let reason = s.reason.unwrap_or_default();
            if s.presented && reason.starts_with("Waiting for DNS-01 challenge propagation") {
                Ok(())
            } else {
                Err(format!("presented={} reason={reason}", s.presented))
            }
        },
    )
    .await?;
    assert!(
        !txt_values(&dns, &name).await?.is_empty(),
        "record presented"
    );

    pebble.restart().await?;
    relay.open.store(true, Ordering::SeqCst);
    if let Err(e) = wait_condition(&certs, "web", "Ready", "True", "Ready").await {
        eprintln!(
            "orders: {}",
            serde_json::to_string_pretty(&orders.list(&ListParams::default()).await?.items)?
        );
        eprintln!(
            "challenges: {}",
            serde_json::to_string_pretty(&challenges.list(&ListParams::default()).await?.items)?
        );
        let log = controller.stderr();
        eprintln!(
            "controller log (tail): {}",
            &log[log.len().saturating_sub(20000)..]
        );
        return Err(e);
    }
    let root = pebble.issuer_roots_pem().await?;
    check_issued(&secrets, "web-tls", &name, &root).await?;
    let all = orders.list(&ListParams::default()).await?.items;
    let states: Vec<String> = all
        .iter()
        .map(|o| {
            o.status
                .clone()
                .unwrap_or_default()
                .state
                .map(|s| s.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert!(all.len() <= 3, "no Order loop: {states:?}");
    assert!(states.iter().any(|s| s == "valid"), "{states:?}");
    let account = issuers
        .get("acme")
        .await?
        .status
        .and_then(|s| s.acme)
        .and_then(|a| a.uri);
    assert_ne!(
        account, first_account,
        "the account was registered again: {account:?}"
    );
    // Nothing more happens once issued.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(count(&orders).await?, all.len());
    controller.fail_if_exited()?;
    Ok(())
}

/// Pebble validates against a nameserver that never gets the record: the Challenge and the
/// Order end invalid, the request fails with the server's reason, the Certificate reports
/// it, and no second Order follows (the Certificate backs off).
#[tokio::test]
async fn invalid_challenge_fails_clearly_without_an_order_loop() -> anyhow::Result<()> {
    let dns = Bind9::start().await?;
    // Same zone, never updated: what Pebble sees.
    let other = Bind9::start().await?;
    let pebble = Pebble::start(PebbleOptions {
        dns_server: Some(other.addr()),
        ..Default::default()
    })
    .await?;
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("acme-invalid").await?;
    let ns = ns.name();
    let dir = tempfile::tempdir()?;
    let flags = Flags {
        resolver: dns.addr(),
        config: None,
        env: Vec::new(),
    };
    let (mut controller, _) = start(cp, ns, flags, dir.path()).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let orders: Api<Order> = Api::namespaced(cp.client(), ns);
    let challenges: Api<Challenge> = Api::namespaced(cp.client(), ns);
    let requests: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);

    create(&secrets, tsig_secret(&dns)).await?;
    create(&issuers, acme_issuer("acme", &pebble, &dns, "acme-account")).await?;
    wait_condition(&issuers, "acme", "Ready", "True", "ACMEAccountRegistered").await?;
    let name = format!("bad.{}", dns.zone().trim_end_matches('.'));
    create(&certs, certificate("web", "acme", &name)).await?;

    let crt = wait_condition(&certs, "web", "Issuing", "False", "Failed").await?;
    let message = condition(&crt, "Issuing").map(|c| c.2).unwrap_or_default();
    assert!(
        message.contains("order is in \"invalid\" state"),
        "{message}"
    );
    let list = requests_of(&requests, "web").await?;
    assert_eq!(list.len(), 1);
    let cr = serde_json::to_value(&list[0])?;
    let (status, reason, cr_message) = condition(&cr, "Ready").expect("Ready condition");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Failed"));
    assert!(
        cr_message.starts_with("Failed to wait for order resource")
            && cr_message.contains("_acme-challenge"),
        "the server's reason is in the message: {cr_message}"
    );
    let order = &orders.list(&ListParams::default()).await?.items[0];
    let state = order
        .status
        .clone()
        .unwrap_or_default()
        .state
        .map(|s| s.to_string());
    assert_eq!(state.as_deref(), Some("invalid"));
    let ch = &challenges.list(&ListParams::default()).await?.items;
    if let Some(ch) = ch.first() {
        let s = ch.status.clone().unwrap_or_default();
        assert_eq!(s.state.map(|s| s.to_string()).as_deref(), Some("invalid"));
        assert!(!s.processing);
    }
    // Backoff, as upstream: no second Order.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        assert_eq!(count(&orders).await?, 1, "no second Order");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    component::eventually("TXT record cleaned up", WAIT, async || {
        let v = txt_values(&dns, &name).await.map_err(|e| e.to_string())?;
        if v.is_empty() {
            Ok(())
        } else {
            Err(format!("{v:?}"))
        }
    })
    .await?;
    controller.fail_if_exited()?;
    Ok(())
}

/// The `acmesolver` binary of this workspace (built here if it is not yet).
fn acmesolver_binary() -> anyhow::Result<std::path::PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug/acmesolver");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "acmesolver"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()?;
        anyhow::ensure!(status.success(), "building acmesolver failed");
    }
    Ok(bin)
}

/// HTTP-01: the controller creates the solver Pod; with no kubelet, the test runs
/// `acmesolver` with the Pod's arguments on the loopback port Pebble validates against, and
/// points the controller's self check there. The Certificate is issued and the solver
/// resources are removed afterwards.
#[tokio::test]
async fn http01_issues_with_the_acmesolver_the_controller_asked_for() -> anyhow::Result<()> {
    let dns = Bind9::start().await?;
    // challtestsrv answers every A query with 127.0.0.1: Pebble fetches 127.0.0.1:<http01>.
    let pebble = Pebble::start(PebbleOptions::default()).await?;
    let port = pebble.http01_port();
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("acme-http01").await?;
    let ns = ns.name();
    let dir = tempfile::tempdir()?;
    let flags = Flags {
        resolver: dns.addr(),
        config: None,
        env: vec![(
            "CERT_MANAGER_RS_HTTP01_SELF_CHECK_ADDR",
            format!("127.0.0.1:{port}"),
        )],
    };
    let (mut controller, _) = start(cp, ns, flags, dir.path()).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let pods: Api<Pod> = Api::namespaced(cp.client(), ns);
    let challenges: Api<Challenge> = Api::namespaced(cp.client(), ns);

    let mut issuer = acme_issuer("acme", &pebble, &dns, "acme-account");
    issuer["spec"]["acme"]["solvers"] =
        json!([{"http01": {"ingress": {"ingressClassName": "nginx"}}}]);
    create(&issuers, issuer).await?;
    wait_condition(&issuers, "acme", "Ready", "True", "ACMEAccountRegistered").await?;
    let name = "web.http01.test";
    create(&certs, certificate("web", "acme", name)).await?;

    let selector = ListParams::default().labels("acme.cert-manager.io/http01-solver=true");
    let args = component::eventually("solver Pod", WAIT, async || {
        let list = pods.list(&selector).await.map_err(|e| e.to_string())?;
        let pod = list.items.first().ok_or("no solver Pod yet")?;
        let spec = pod.spec.as_ref().ok_or("no spec")?;
        Ok(spec.containers[0].args.clone().unwrap_or_default())
    })
    .await?;
    assert!(
        args.iter().any(|a| a == &format!("--domain={name}")),
        "{args:?}"
    );
    let args: Vec<String> = args
        .into_iter()
        .filter(|a| !a.starts_with("--listen-port="))
        .chain([
            format!("--listen-port={port}"),
            "--listen-host=127.0.0.1".into(),
        ])
        .collect();
    let solver = Component::command("acmesolver", acmesolver_binary()?)
        .args(&args)
        .start()?;

    if let Err(e) = wait_condition(&certs, "web", "Ready", "True", "Ready").await {
        eprintln!(
            "challenges: {}",
            serde_json::to_string_pretty(&challenges.list(&ListParams::default()).await?.items)?
        );
        let log = controller.stderr();
        eprintln!(
            "controller log (tail): {}",
            &log[log.len().saturating_sub(20000)..]
        );
        eprintln!("acmesolver log: {}", solver.stderr());
        return Err(e);
    }
    let root = pebble.issuer_roots_pem().await?;
    check_issued(&secrets, "web-tls", name, &root).await?;
    component::eventually("solver Pod and Challenge removed", WAIT, async || {
        let pods_left = pods
            .list(&selector)
            .await
            .map_err(|e| e.to_string())?
            .items
            .len();
        let chs = count(&challenges).await.map_err(|e| e.to_string())?;
        if pods_left == 0 && chs == 0 {
            Ok(())
        } else {
            Err(format!("{pods_left} Pods, {chs} Challenges"))
        }
    })
    .await?;
    controller.fail_if_exited()?;
    Ok(())
}

/// A random EAB MAC key, base64url without padding (how CAs hand them out, and what both
/// Pebble's `externalAccountMACKeys` and cert-manager's `keySecretRef` hold).
fn eab_mac_key() -> anyhow::Result<String> {
    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key).map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key))
}

/// `acme_issuer` with an External Account Binding of `key_id` and the MAC key in Secret
/// `secret` (key `secret`).
fn eab_issuer(name: &str, pebble: &Pebble, dns: &Bind9, key_id: &str, secret: &str) -> Value {
    let mut issuer = acme_issuer(name, pebble, dns, &format!("{name}-account"));
    issuer["spec"]["acme"]["externalAccountBinding"] = json!({
        "keyID": key_id,
        "keySecretRef": {"name": secret, "key": "secret"},
    });
    issuer
}

/// Pebble requires External Account Binding: an Issuer with the right key ID and MAC key
/// registers and issues; no binding, a wrong MAC key or an unknown key ID is refused by the
/// server and a missing key Secret or Secret key is found locally, each reported as Ready=False
/// `ErrRegisterACMEAccount` with the cause; once the missing Secret appears, that Issuer
/// registers without any change to it.
#[tokio::test]
async fn eab_issuer_registers_and_issues_and_bad_bindings_fail_clearly() -> anyhow::Result<()> {
    let dns = Bind9::start().await?;
    let mac_key = eab_mac_key()?;
    let pebble = Pebble::start(PebbleOptions {
        dns_server: Some(dns.addr()),
        eab_required: true,
        eab_keys: vec![("kid-1".into(), mac_key.clone())],
        ..Default::default()
    })
    .await?;
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("acme-eab").await?;
    let ns = ns.name();
    let dir = tempfile::tempdir()?;
    let flags = Flags {
        resolver: dns.addr(),
        config: None,
        env: Vec::new(),
    };
    let (mut controller, _) = start(cp, ns, flags, dir.path()).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let eab_secret = |name: &str, key: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
               "stringData": {"secret": key}})
    };
    create(&secrets, tsig_secret(&dns)).await?;
    create(&secrets, eab_secret("eab", &mac_key)).await?;
    create(&secrets, eab_secret("eab-wrong", &eab_mac_key()?)).await?;

    create(&issuers, eab_issuer("eab", &pebble, &dns, "kid-1", "eab")).await?;
    create(
        &issuers,
        acme_issuer("no-eab", &pebble, &dns, "no-eab-account"),
    )
    .await?;
    create(
        &issuers,
        eab_issuer("wrong-key", &pebble, &dns, "kid-1", "eab-wrong"),
    )
    .await?;
    create(
        &issuers,
        eab_issuer("unknown-kid", &pebble, &dns, "kid-unknown", "eab"),
    )
    .await?;
    create(
        &issuers,
        eab_issuer("later", &pebble, &dns, "kid-1", "eab-later"),
    )
    .await?;
    let mut no_such_key = eab_issuer("no-such-key", &pebble, &dns, "kid-1", "eab");
    no_such_key["spec"]["acme"]["externalAccountBinding"]["keySecretRef"]["key"] = "hmac".into();
    create(&issuers, no_such_key).await?;

    wait_condition(&issuers, "eab", "Ready", "True", "ACMEAccountRegistered").await?;
    let failed = async |name: &str| -> anyhow::Result<String> {
        let issuer =
            wait_condition(&issuers, name, "Ready", "False", "ErrRegisterACMEAccount").await?;
        let message = condition(&issuer, "Ready").map(|c| c.2).unwrap_or_default();
        assert!(
            message.starts_with("Failed to register ACME account: "),
            "{name}: {message}"
        );
        assert!(
            !message.contains(&mac_key),
            "{name}: MAC key not in the message"
        );
        Ok(message)
    };
    // The server's problem as cert-manager words it: `<status> <type>: <detail>`.
    let message = failed("no-eab").await?;
    assert!(
        message.starts_with(
            "Failed to register ACME account: 403 urn:ietf:params:acme:error:externalAccountRequired: "
        ),
        "{message}"
    );
    let message = failed("wrong-key").await?;
    assert!(
        message.starts_with(
            "Failed to register ACME account: 403 urn:ietf:params:acme:error:unauthorized: "
        ) && message.contains("external account binding"),
        "{message}"
    );
    let message = failed("unknown-kid").await?;
    assert!(
        message.starts_with(
            "Failed to register ACME account: 403 urn:ietf:params:acme:error:unauthorized: "
        ) && message.contains("'kid'"),
        "{message}"
    );
    let message = failed("later").await?;
    assert_eq!(
        message,
        "Failed to register ACME account: secrets \"eab-later\" not found"
    );
    let message = failed("no-such-key").await?;
    assert_eq!(
        message,
        "Failed to register ACME account: failed to find external account binding key data in Secret \"eab\" at index \"hmac\""
    );
    // The refused Issuers have no account.
    for name in ["no-eab", "wrong-key", "unknown-kid", "later", "no-such-key"] {
        let uri = issuers
            .get(name)
            .await?
            .status
            .and_then(|s| s.acme)
            .and_then(|a| a.uri);
        assert!(
            uri.as_ref().is_none_or(|u| u.is_empty()),
            "{name}: account {uri:?}"
        );
    }

    // The bound account issues.
    let name = format!("eab.{}", dns.zone().trim_end_matches('.'));
    create(&certs, certificate("web", "eab", &name)).await?;
    wait_condition(&certs, "web", "Ready", "True", "Ready").await?;
    let root = pebble.issuer_roots_pem().await?;
    check_issued(&secrets, "web-tls", &name, &root).await?;

    // The missing MAC key Secret appears: the Secret watch runs the Issuer's setup again.
    create(&secrets, eab_secret("eab-later", &mac_key)).await?;
    wait_condition(&issuers, "later", "Ready", "True", "ACMEAccountRegistered").await?;
    assert!(
        !controller.stderr().contains(&mac_key),
        "MAC key not logged"
    );
    controller.fail_if_exited()?;
    Ok(())
}

/// A ClusterIssuer reads its account key and the TSIG Secret in the controller's
/// `--cluster-resource-namespace` (the generated account key goes there too) and issues a
/// Certificate of another namespace through DNS-01.
#[tokio::test]
async fn cluster_issuer_issues_with_secrets_in_the_cluster_resource_namespace() -> anyhow::Result<()>
{
    let dns = Bind9::start().await?;
    let pebble = Pebble::start(PebbleOptions {
        dns_server: Some(dns.addr()),
        ..Default::default()
    })
    .await?;
    let cp = ControlPlane::shared().await?;
    let resources = cp.namespace("acme-cluster-res").await?;
    let resources = resources.name();
    let app = cp.namespace("acme-cluster-app").await?;
    let app = app.name();
    let dir = tempfile::tempdir()?;
    let flags = Flags {
        resolver: dns.addr(),
        config: None,
        env: Vec::new(),
    };
    let (mut controller, _) = start(cp, resources, flags, dir.path()).await?;
    let resource_secrets: Api<Secret> = Api::namespaced(cp.client(), resources);
    let app_secrets: Api<Secret> = Api::namespaced(cp.client(), app);
    let cluster_issuers: Api<ClusterIssuer> = Api::all(cp.client());
    let certs: Api<Certificate> = Api::namespaced(cp.client(), app);
    let orders: Api<Order> = Api::namespaced(cp.client(), app);

    // Cluster-scoped: named after the test's namespace so that runs against an existing
    // cluster do not collide.
    let issuer_name = format!("{resources}-acme");
    create(&resource_secrets, tsig_secret(&dns)).await?;
    let mut issuer = acme_issuer(&issuer_name, &pebble, &dns, "cluster-acme-account");
    issuer["kind"] = "ClusterIssuer".into();
    create(&cluster_issuers, issuer).await?;
    let result = async {
        wait_condition(
            &cluster_issuers,
            &issuer_name,
            "Ready",
            "True",
            "ACMEAccountRegistered",
        )
        .await?;
        let account = resource_secrets.get("cluster-acme-account").await?;
        pki::PrivateKey::from_pem(data(&account, "tls.key").as_bytes())?;
        assert!(
            app_secrets.get_opt("cluster-acme-account").await?.is_none(),
            "the account key is in the cluster resource namespace only"
        );

        let name = format!("cluster.{}", dns.zone().trim_end_matches('.'));
        let mut crt = certificate("web", &issuer_name, &name);
        crt["spec"]["issuerRef"]["kind"] = "ClusterIssuer".into();
        create(&certs, crt).await?;
        wait_condition(&certs, "web", "Ready", "True", "Ready").await?;
        let root = pebble.issuer_roots_pem().await?;
        check_issued(&app_secrets, "web-tls", &name, &root).await?;
        let all = orders.list(&ListParams::default()).await?.items;
        assert_eq!(all.len(), 1, "one Order");
        assert_eq!(
            all[0].spec.issuer_ref.kind.as_deref(),
            Some("ClusterIssuer")
        );
        controller.fail_if_exited()?;
        anyhow::Ok(())
    }
    .await;
    // Not removed with the namespaces.
    cluster_issuers
        .delete(&issuer_name, &Default::default())
        .await?;
    result
}

//! Benchmark driver (ignored by default; `hack/bench/webhook-burst.sh` runs it against a
//! release build): a burst of AdmissionReview requests straight to the webhook over TLS, with
//! the process's peak RSS (VmHWM) read from /proc before and after.
//!
//! Environment: `WEBHOOK_BIN` (the binary; default the test build), `BURST_REQUESTS` (1000),
//! `BURST_CONCURRENCY` (16), `BURST_OUT` (write the figures there as JSON), `BURST_APPROVALS=1`
//! (every sixth request instead approves a CertificateRequest through the status subresource,
//! as one of 20 users: the approval check's discovery and SubjectAccessReviews against the
//! control plane, which allows everything).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use bytes::Bytes;
use k8s_openapi::ByteString;
use pki::{CsrSpec, EcCurve, KeyType, PrivateKey};
use serde_json::{Value, json};
use testkit::ControlPlane;

use crate::support::{self, HttpsClient, Memory, SERVICE, WebhookProcess};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One prepared request: path, body, whether the webhook must allow it.
struct Request {
    path: &'static str,
    body: Bytes,
    allowed: bool,
}

fn csr(key_type: KeyType, name: &str) -> anyhow::Result<String> {
    let key = PrivateKey::generate(key_type)?;
    let spec = CsrSpec {
        dns_names: vec![name.to_owned()],
        ..Default::default()
    };
    Ok(pki::create_csr(&spec, &key, None)?.to_pem())
}

/// A mix of five kinds, round robin: valid and invalid Certificates, valid and invalid
/// CertificateRequests (each with a real CSR, whose signature the webhook checks; the invalid
/// ones name an unknown usage), and CertificateRequest creations for `/mutate`.
/// A status update by `user` that adds `Approved` to `cr`.
fn approval_review(uid: &str, user: &str, cr: &Value) -> Value {
    let mut approved = cr.clone();
    approved["status"] = json!({"conditions": [
        {"type": "Approved", "status": "True", "reason": "bench", "message": "approved by the benchmark"}
    ]});
    let mut review = support::admission_review(uid, "UPDATE", &approved);
    let request = &mut review["request"];
    request["subResource"] = json!("status");
    request["requestSubResource"] = json!("status");
    request["oldObject"] = cr.clone();
    request["userInfo"] = json!({"username": user, "groups": ["system:authenticated"]});
    request["options"] = json!({"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"});
    review
}

fn workload(n: usize, approvals: bool) -> anyhow::Result<Vec<Request>> {
    // A few RSA CSRs (slow to make, costlier to verify) among fresh P-256 ones.
    let rsa: Vec<String> = (0..4)
        .map(|i| csr(KeyType::Rsa(2048), &format!("rsa-{i}.example.com")))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("burst-{i}");
        let dns = format!("{name}.example.com");
        let csr_pem = |i: usize| -> anyhow::Result<String> {
            if i.is_multiple_of(10) {
                Ok(rsa[(i / 10) % rsa.len()].clone())
            } else {
                csr(KeyType::Ecdsa(EcCurve::P256), &dns)
            }
        };
        let cr = |pem: String, usages: Value| {
            json!({
                "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
                "metadata": {"name": name, "namespace": "bench"},
                "spec": {"request": ByteString(pem.into_bytes()), "issuerRef": {"name": "ca"},
                         "usages": usages,
                         "username": "bench", "uid": "bench-uid", "groups": ["system:authenticated"]},
            })
        };
        if approvals && i % 6 == 5 {
            let review = approval_review(
                &format!("uid-{i}"),
                &format!("approver-{}", i % 20),
                &cr(csr_pem(i)?, json!(["server auth"])),
            );
            out.push(Request {
                path: "/validate",
                body: Bytes::from(serde_json::to_vec(&review)?),
                allowed: true,
            });
            continue;
        }
        let (path, object, allowed) = match i % 5 {
            0 => (
                "/validate",
                json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                       "metadata": {"name": name, "namespace": "bench"},
                       "spec": {"secretName": name, "dnsNames": [dns], "duration": "2160h",
                                "privateKey": {"algorithm": "ECDSA", "size": 256},
                                "usages": ["digital signature", "key encipherment", "server auth"],
                                "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}}}),
                true,
            ),
            1 => (
                "/validate",
                json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                       "metadata": {"name": name, "namespace": "bench"},
                       "spec": {"secretName": "Bad_Name", "dnsNames": [dns], "duration": "30m",
                                "privateKey": {"algorithm": "RSA", "size": 1000},
                                "issuerRef": {"name": "ca"}}}),
                false,
            ),
            // No extensions in the CSR: any usages are fine.
            2 => ("/validate", cr(csr_pem(i)?, json!(["server auth"])), true),
            // Invalid: the usages are unknown.
            3 => (
                "/validate",
                cr(csr_pem(i)?, json!(["nope", "server auth"])),
                false,
            ),
            // A claimed identity the mutating webhook must replace.
            _ => {
                let mut object = cr(csr_pem(i)?, json!(["client auth"]));
                object["spec"]["username"] = json!("mallory");
                ("/mutate", object, true)
            }
        };
        let review = support::admission_review(&format!("uid-{i}"), "CREATE", &object);
        out.push(Request {
            path,
            body: Bytes::from(serde_json::to_vec(&review)?),
            allowed,
        });
    }
    Ok(out)
}

struct Phase {
    name: &'static str,
    seconds: f64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    cpu_ms_per_request: f64,
    after: Memory,
}

/// Sends every request with `concurrency` workers; `reconnect` opens a new TLS connection per
/// request instead of keeping one per worker.
async fn run(
    webhook: &WebhookProcess,
    server_name: &str,
    ca: &[u8],
    requests: Arc<Vec<Request>>,
    concurrency: usize,
    reconnect: bool,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (requests, next) = (requests.clone(), next.clone());
        let (port, server_name, ca) = (webhook.secure_port, server_name.to_owned(), ca.to_vec());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut client = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(req) = requests.get(i) else {
                    return anyhow::Ok(latencies);
                };
                let t = Instant::now();
                if reconnect || client.is_none() {
                    client = Some(HttpsClient::connect(port, &server_name, &ca).await?);
                }
                let c = client.as_mut().context("connected")?;
                let (status, body) = c.post(req.path, req.body.clone()).await?;
                latencies.push(t.elapsed());
                ensure!(status == 200, "request {i}: HTTP {status}");
                let review: Value = serde_json::from_slice(&body)?;
                let response = &review["response"];
                ensure!(
                    response["uid"] == format!("uid-{i}"),
                    "request {i}: {review}"
                );
                ensure!(
                    response["allowed"] == req.allowed,
                    "request {i} ({}): expected allowed={}, got {response}",
                    req.path,
                    req.allowed
                );
                if req.path == "/mutate" {
                    // kube-rs writes the patch bytes as a JSON array of numbers (the API
                    // server's Go decoder takes that as well as base64).
                    ensure!(
                        response["patchType"] == "JSONPatch" && !response["patch"].is_null(),
                        "request {i}: no patch: {review}"
                    );
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await??);
    }
    Ok((start.elapsed(), latencies))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with hack/bench/webhook-burst.sh"]
async fn burst_peak_rss() -> anyhow::Result<()> {
    let n = env_usize("BURST_REQUESTS", 1000);
    let concurrency = env_usize("BURST_CONCURRENCY", 16);
    let approvals = env_usize("BURST_APPROVALS", 0) == 1;
    let cp = ControlPlane::shared().await?;
    if support::skip_without_local_server(cp) {
        return Ok(());
    }
    if approvals {
        // The approval check discovers cert-manager.io's Issuer.
        cp.install_crds(&[&support::crds_dir()]).await?;
    }
    let client = cp.client();
    let ns = cp.namespace("cm-webhook-bench").await?;
    let webhook =
        WebhookProcess::start(cp.kubeconfig_path(), &support::dynamic_args(&ns, SERVICE)).await?;
    let ca = support::read_ca(&client, &ns).await?;
    let server_name = format!("{SERVICE}.{ns}.svc");
    // Settle: the leaf is signed and the CA Secret watch is established.
    support::served_leaf(webhook.secure_port, &server_name, &ca).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = webhook.memory()?;
    let idle_mappings = webhook.largest_mappings(8)?;

    let prepared = Instant::now();
    let requests = Arc::new(workload(n, approvals)?);
    eprintln!("prepared {n} requests in {:?}", prepared.elapsed());

    let mut phases = Vec::new();
    for (name, reconnect) in [("keep-alive", false), ("new connection per request", true)] {
        let cpu_before = webhook.cpu_time()?;
        let (wall, mut latencies) = run(
            &webhook,
            &server_name,
            &ca,
            requests.clone(),
            concurrency,
            reconnect,
        )
        .await?;
        latencies.sort();
        let cpu = webhook.cpu_time()? - cpu_before;
        let after = webhook.memory()?;
        phases.push(Phase {
            name,
            seconds: wall.as_secs_f64(),
            rps: n as f64 / wall.as_secs_f64(),
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            max_ms: percentile(&latencies, 1.0),
            cpu_ms_per_request: cpu.as_secs_f64() * 1000.0 / n as f64,
            after,
        });
    }

    let mib = |kib: u64| kib as f64 / 1024.0;
    let memory = |m: &Memory| {
        format!(
            "VmHWM {:.1} MiB, VmRSS {:.1} MiB (anon {:.1}, file {:.1})",
            mib(m.hwm_kib),
            mib(m.rss_kib),
            mib(m.anon_kib),
            mib(m.file_kib)
        )
    };
    let threads = webhook.threads()?;
    println!(
        "webhook {} (pid {}, {threads} threads), {n} requests, concurrency {concurrency}, approvals {approvals}",
        support::webhook_bin().display(),
        webhook.pid()
    );
    println!("idle: {}", memory(&idle));
    for (kib, mapping) in &idle_mappings {
        println!("  idle {kib:>6} KiB  {mapping}");
    }
    for p in &phases {
        println!(
            "{}: {:.2} s, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, webhook CPU {:.2} ms/request; after: {}",
            p.name,
            p.seconds,
            p.rps,
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.cpu_ms_per_request,
            memory(&p.after)
        );
    }
    for (kib, mapping) in webhook.largest_mappings(8)? {
        println!("  after {kib:>6} KiB  {mapping}");
    }
    if let Some(path) = std::env::var_os("BURST_OUT") {
        let mem = |m: &Memory| json!({"vmhwm_kib": m.hwm_kib, "vmrss_kib": m.rss_kib, "rss_anon_kib": m.anon_kib, "rss_file_kib": m.file_kib});
        let out = json!({
            "binary": support::webhook_bin().display().to_string(),
            "requests": n,
            "concurrency": concurrency,
            "approvals": approvals,
            "threads": threads,
            "idle": mem(&idle),
            "phases": phases.iter().map(|p| json!({
                "name": p.name, "seconds": p.seconds, "requests_per_second": p.rps,
                "p50_ms": p.p50_ms, "p99_ms": p.p99_ms, "max_ms": p.max_ms,
                "webhook_cpu_ms_per_request": p.cpu_ms_per_request,
                "after": mem(&p.after),
            })).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}

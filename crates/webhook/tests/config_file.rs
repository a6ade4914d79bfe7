//! The webhook binary against a real API server (testkit's local control plane), seen from the
//! outside: its probes and metrics, its log, and the API server's audit log.
//!
//! - The config file (issue 12): a file setting takes effect, a flag overrides it, and a bad
//!   file stops the binary before it sends a single request.
//! - Its only cache, the dynamic serving CA Secret (issue 2): one Secret by name, watched with
//!   a streaming list, or paged when `WatchListClient` is off (flag, file or
//!   `KUBE_FEATURE_WatchListClient`), or paged after a fallback against a server without
//!   `WatchList`.
//!
//! Tests that read the audit log have a private control plane, so it holds only their requests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use testkit::ControlPlane;
use testkit::component::{self, CacheRequests, Component, ListMode};

const BIN: &str = env!("CARGO_BIN_EXE_webhook");
const READY: Duration = Duration::from_secs(60);
const AUDIT: Duration = Duration::from_secs(20);
const EXIT: Duration = Duration::from_secs(20);
const CA_SECRET: &str = "webhook-ca";

struct Webhook {
    process: Component,
    secure: SocketAddr,
    healthz: SocketAddr,
    metrics: SocketAddr,
}

fn ua() -> String {
    component::user_agent("webhook")
}

fn dynamic_serving(ns: &str) -> Vec<String> {
    vec![
        format!("--dynamic-serving-ca-secret-namespace={ns}"),
        format!("--dynamic-serving-ca-secret-name={CA_SECRET}"),
        "--dynamic-serving-dns-names=webhook.test".into(),
    ]
}

/// The webhook with loopback listeners only; ports come from `args` or a config file.
fn launch_bare(
    cp: &ControlPlane,
    metrics: SocketAddr,
    args: &[String],
    env: &[(&str, &str)],
) -> anyhow::Result<Component> {
    let mut cmd = Component::command("webhook", BIN)
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--metrics-listen-address={metrics}"))
        .args(args);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    Ok(cmd.start()?)
}

/// The webhook with its CA Secret in `ns`, on free loopback ports, ready.
async fn start(
    cp: &ControlPlane,
    ns: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Webhook> {
    let (secure, healthz, metrics) = (
        component::free_addr()?,
        component::free_addr()?,
        component::free_addr()?,
    );
    let mut all = vec![
        format!("--secure-port={}", secure.port()),
        format!("--healthz-port={}", healthz.port()),
    ];
    all.extend(dynamic_serving(ns));
    all.extend(args.iter().map(|a| a.to_string()));
    let mut process = launch_bare(cp, metrics, &all, env)?;
    process.wait_ready(healthz, READY).await?;
    Ok(Webhook {
        process,
        secure,
        healthz,
        metrics,
    })
}

fn ca_cache(ns: &str) -> CacheRequests {
    CacheRequests::new(format!("/api/v1/namespaces/{ns}/secrets"))
        .fields(format!("metadata.name={CA_SECRET}"))
}

/// Waits until the CA Secret cache in `ns` shows `mode` in the audit log.
async fn expect_ca_cache(cp: &ControlPlane, ns: &str, mode: ListMode) -> anyhow::Result<()> {
    let cache = ca_cache(ns);
    component::eventually(
        &format!("the CA Secret cache in {ns} {mode:?}"),
        AUDIT,
        async || {
            let events = cp.audit_events().map_err(|e| e.to_string())?;
            component::check_list_mode(&cache.of(&events, &ua()), mode)
        },
    )
    .await?;
    Ok(())
}

/// Every list or watch of Secrets by the webhook.
fn secret_requests(cp: &ControlPlane) -> anyhow::Result<Vec<component::ApiRequest>> {
    Ok(component::events_of(&cp.audit_events()?, &ua())
        .into_iter()
        .map(component::ApiRequest::from_event)
        .filter(|r| r.path.ends_with("/secrets") && (r.verb == "list" || r.verb == "watch"))
        .collect())
}

async fn listening(addr: SocketAddr) -> bool {
    tokio::net::TcpStream::connect(addr).await.is_ok()
}

#[tokio::test]
async fn ca_secret_watch_streams_by_default() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let ns = cp.namespace("webhook-ca").await?;
    let w = start(&cp, &ns, &[], &[]).await?;

    assert_eq!(component::http_get(w.healthz, "/livez").await?.0, 200);
    assert_eq!(component::http_get(w.healthz, "/readyz").await?.0, 200);
    assert!(listening(w.secure).await, "admission on {}", w.secure);
    component::eventually("the CA Secret in the cache", AUDIT, async || {
        let m = component::metrics(w.metrics)
            .await
            .map_err(|e| e.to_string())?;
        if !m.contains("process_resident_memory_bytes") {
            return Err(format!("no process metrics:\n{m}"));
        }
        match component::metric_value(
            &m,
            "kubeclient_cached_objects",
            &[("cache", "webhook-ca-secret")],
        ) {
            Some(1.0) => Ok(()),
            other => Err(format!(
                "kubeclient_cached_objects{{cache=\"webhook-ca-secret\"}} = {other:?}"
            )),
        }
    })
    .await?;

    expect_ca_cache(&cp, &ns, ListMode::Streaming).await?;
    let expected_ua = format!("cert-manager-rs-webhook/{}", env!("CARGO_PKG_VERSION"));
    for e in component::events_of(&cp.audit_events()?, &ua()) {
        assert_eq!(e.user_agent, expected_ua);
    }
    let requests = secret_requests(&cp)?;
    assert!(
        requests.iter().all(|r| r.verb == "watch"),
        "no list of Secrets: {requests:#?}"
    );
    assert_eq!(requests.len(), 1, "a single Secret watch: {requests:#?}");
    Ok(())
}

#[tokio::test]
async fn ca_secret_watch_follows_watch_list_client_flag_and_env() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    type Case = (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        ListMode,
    );
    let cases: [Case; 3] = [
        (
            &["--feature-gates=WatchListClient=false"],
            &[],
            ListMode::Paged,
        ),
        (
            &[],
            &[("KUBE_FEATURE_WatchListClient", "false")],
            ListMode::Paged,
        ),
        (
            &["--feature-gates=WatchListClient=true"],
            &[("KUBE_FEATURE_WatchListClient", "false")],
            ListMode::Streaming,
        ),
    ];
    // One namespace per run, so the audit log tells the runs apart.
    for (args, env, mode) in cases {
        let ns = cp.namespace("webhook-gates").await?;
        let _w = start(&cp, &ns, args, env).await?;
        expect_ca_cache(&cp, &ns, mode)
            .await
            .map_err(|e| anyhow::anyhow!("{args:?} {env:?}: {e}"))?;
    }
    Ok(())
}

#[tokio::test]
async fn ca_secret_watch_falls_back_without_server_watch_list() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(Some("WatchList=false")).await? else {
        return Ok(());
    };
    let ns = cp.namespace("webhook-fallback").await?;
    let w = start(&cp, &ns, &[], &[]).await?;
    expect_ca_cache(&cp, &ns, ListMode::FallBack).await?;
    let log = w.process.stderr();
    let fallbacks = log.matches("does not serve streaming lists").count();
    assert_eq!(fallbacks, 1, "one info line about the fallback:\n{log}");
    Ok(())
}

// ---- the config file (issue 12) ----

fn write_config(dir: &Path, name: &str, body: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    let text = format!(
        "apiVersion: webhook.config.cert-manager.io/v1alpha1\nkind: WebhookConfiguration\n{body}"
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

fn config_arg(path: &Path) -> String {
    format!("--config={}", path.display())
}

/// `tlsConfig` for the dynamic serving CA in `ns`.
fn dynamic_tls_config(ns: &str) -> String {
    format!(
        "tlsConfig:\n  dynamic:\n    secretNamespace: {ns}\n    secretName: {CA_SECRET}\n    dnsNames: [webhook.test]\n"
    )
}

#[tokio::test]
async fn config_file_ports_and_flag_override() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("webhook-ports").await?;
    let dir = tempfile::tempdir()?;
    let (secure_a, healthz_a) = (component::free_addr()?, component::free_addr()?);
    let (secure_b, healthz_b) = (component::free_addr()?, component::free_addr()?);
    let file = write_config(
        dir.path(),
        "config.yaml",
        &format!(
            "securePort: {}\nhealthzPort: {}\n{}",
            secure_a.port(),
            healthz_a.port(),
            dynamic_tls_config(&ns)
        ),
    )?;

    // Everything from the file: ports and the serving certificate.
    let mut w = launch_bare(cp, component::free_addr()?, &[config_arg(&file)], &[])?;
    w.wait_ready(healthz_a, READY).await?;
    assert!(listening(secure_a).await, "admission on {secure_a}");
    let log = w.wait_for_log("serving admission over TLS", READY).await?;
    assert!(log.contains(&secure_a.to_string()), "{log}");
    drop(w);

    // Flags win over the file.
    let flags = [
        config_arg(&file),
        format!("--secure-port={}", secure_b.port()),
        format!("--healthz-port={}", healthz_b.port()),
    ];
    let mut w = launch_bare(cp, component::free_addr()?, &flags, &[])?;
    w.wait_ready(healthz_b, READY).await?;
    assert!(listening(secure_b).await, "admission on {secure_b}");
    assert!(
        !listening(secure_a).await,
        "nothing on the file's {secure_a}"
    );
    assert!(
        !listening(healthz_a).await,
        "nothing on the file's {healthz_a}"
    );
    let log = w.stderr();
    assert!(log.contains(&secure_b.to_string()), "{log}");
    Ok(())
}

#[tokio::test]
async fn config_file_feature_gates_and_flag_override() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let body = |ns: &str| {
        format!(
            "featureGates:\n  WatchListClient: false\n{}",
            dynamic_tls_config(ns)
        )
    };
    let ports = |secure: SocketAddr, healthz: SocketAddr| {
        [
            format!("--secure-port={}", secure.port()),
            format!("--healthz-port={}", healthz.port()),
        ]
    };

    // The file turns streaming lists off ...
    let ns = cp.namespace("webhook-paged").await?;
    let file = write_config(dir.path(), "paged.yaml", &body(&ns))?;
    let (secure, healthz) = (component::free_addr()?, component::free_addr()?);
    let mut args = vec![config_arg(&file)];
    args.extend(ports(secure, healthz));
    let mut w = launch_bare(&cp, component::free_addr()?, &args, &[])?;
    w.wait_ready(healthz, READY).await?;
    expect_ca_cache(&cp, &ns, ListMode::Paged).await?;
    drop(w);

    // ... and the flag turns them back on.
    let ns = cp.namespace("webhook-streaming").await?;
    let file = write_config(dir.path(), "streaming.yaml", &body(&ns))?;
    let (secure, healthz) = (component::free_addr()?, component::free_addr()?);
    let mut args = vec![
        config_arg(&file),
        "--feature-gates=WatchListClient=true".to_owned(),
    ];
    args.extend(ports(secure, healthz));
    let mut w = launch_bare(&cp, component::free_addr()?, &args, &[])?;
    w.wait_ready(healthz, READY).await?;
    expect_ca_cache(&cp, &ns, ListMode::Streaming).await?;
    Ok(())
}

#[tokio::test]
async fn bad_config_files_stop_the_webhook_before_any_request() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let ns = cp.namespace("webhook-bad").await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    let tls = dynamic_tls_config(&ns);
    let port = write_config(path, "port.yaml", &format!("securePort: 70000\n{tls}"))?;
    let unknown = write_config(path, "unknown.yaml", &format!("notAField: 1\n{tls}"))?;
    let api_version = path.join("api-version.yaml");
    std::fs::write(
        &api_version,
        format!("apiVersion: webhook.config.cert-manager.io/v1\nkind: WebhookConfiguration\n{tls}"),
    )?;
    let cases = [
        (port, "securePort: Invalid value: 70000"),
        (unknown, "notAField"),
        (api_version, "apiVersion"),
    ];
    for (file, field) in &cases {
        let args = [
            config_arg(file),
            format!("--healthz-port={}", component::free_port()?),
        ];
        let mut w = launch_bare(&cp, component::free_addr()?, &args, &[])?;
        let status = w.wait_for_exit(EXIT).await?;
        let stderr = w.stderr();
        assert!(!status.success(), "{}: {status}", file.display());
        let shown = file.display().to_string();
        assert!(stderr.contains(&shown), "names the file {shown}:\n{stderr}");
        assert!(stderr.contains(field), "names {field}:\n{stderr}");
    }
    let events = cp.audit_events()?;
    let ours = component::events_of(&events, &ua());
    assert!(
        ours.is_empty(),
        "no request reached the API server: {ours:#?}"
    );

    // The audit log would have shown them: a good run's requests are there.
    let _good = start(&cp, &ns, &[], &[]).await?;
    assert!(!component::events_of(&cp.audit_events()?, &ua()).is_empty());
    Ok(())
}

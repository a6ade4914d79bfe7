//! The cainjector binary against a real API server (testkit's local control plane), seen from
//! the outside: its probes and metrics, its log, and the API server's audit log.
//!
//! - Its one Secret cache (issue 2) is metadata-only, and starts with a streaming list, or pages
//!   when `WatchListClient` is off (flag or `KUBE_FEATURE_WatchListClient`), or falls back to
//!   paging by itself against a server without `WatchList`.
//! - The config file (issue 12): a file setting takes effect, a flag overrides it, and a bad
//!   file stops the binary before it sends a single request.
//!
//! Tests that read the audit log have a private control plane, so it holds only their requests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use testkit::ControlPlane;
use testkit::component::{self, CacheRequests, Component, ListMode};

const BIN: &str = env!("CARGO_BIN_EXE_cainjector");
const READY: Duration = Duration::from_secs(60);
const AUDIT: Duration = Duration::from_secs(20);
const EXIT: Duration = Duration::from_secs(20);
/// Data of a Secret the metadata-only cache must never receive.
const BIG: usize = 512 * 1024;

struct CAInjector {
    process: Component,
    /// Probes and metrics (the cainjector serves both on `--metrics-listen-address`).
    metrics: SocketAddr,
}

fn ua() -> String {
    component::user_agent("cainjector")
}

/// Starts the cainjector against `cp`, without waiting. Unless `args` set it, the metrics
/// listener gets a free loopback port.
fn launch(cp: &ControlPlane, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<CAInjector> {
    let metrics = component::free_addr()?;
    let mut cmd = Component::command("cainjector", BIN)
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .arg(format!("--metrics-listen-address={metrics}"))
        .args(args);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    Ok(CAInjector {
        process: cmd.start()?,
        metrics,
    })
}

/// The cert-manager CRDs: with the Certificate data source on (the default) the cainjector
/// waits for the Certificate CRD before it starts its caches.
async fn install_crds(cp: &ControlPlane) -> anyhow::Result<()> {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds");
    cp.install_crds(&[&crds]).await?;
    Ok(())
}

/// [`install_crds`] and [`launch`], then wait for /readyz.
async fn start(
    cp: &ControlPlane,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<CAInjector> {
    install_crds(cp).await?;
    let mut c = launch(cp, args, env)?;
    c.process.wait_ready(c.metrics, READY).await?;
    Ok(c)
}

/// A small and a big Secret in a new namespace.
async fn seed_secrets(cp: &ControlPlane) -> anyhow::Result<testkit::TestNamespace> {
    let ns = cp.namespace("cainjector-secrets").await?;
    let labels = [("app", "test")];
    component::create_secret(cp.client(), &ns, "small", &labels, 16).await?;
    component::create_secret(cp.client(), &ns, "big", &[], BIG).await?;
    Ok(ns)
}

/// Waits until the Secret cache at `path` shows `mode` in the audit log.
async fn expect_secret_cache(cp: &ControlPlane, path: &str, mode: ListMode) -> anyhow::Result<()> {
    let cache = CacheRequests::new(path);
    component::eventually(&format!("the Secret cache {mode:?}"), AUDIT, async || {
        let events = cp.audit_events().map_err(|e| e.to_string())?;
        component::check_list_mode(&cache.of(&events, &ua()), mode)
    })
    .await?;
    Ok(())
}

/// Every list or watch of Secrets by the cainjector.
fn secret_requests(cp: &ControlPlane) -> anyhow::Result<Vec<component::ApiRequest>> {
    Ok(component::events_of(&cp.audit_events()?, &ua())
        .into_iter()
        .map(component::ApiRequest::from_event)
        .filter(|r| r.path.ends_with("/secrets") && (r.verb == "list" || r.verb == "watch"))
        .collect())
}

fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    component::metric_value(text, name, labels)
        .unwrap_or_else(|| panic!("no {name}{labels:?} in /metrics:\n{text}"))
}

#[tokio::test]
async fn default_gates_stream_secrets_metadata_only() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let _ns = seed_secrets(&cp).await?;
    let c = start(&cp, &[], &[]).await?;

    assert_eq!(component::http_get(c.metrics, "/livez").await?.0, 200);
    assert_eq!(component::http_get(c.metrics, "/readyz").await?.0, 200);
    let metrics = component::metrics(c.metrics).await?;
    assert!(
        metrics.contains("process_resident_memory_bytes"),
        "{metrics}"
    );
    let cached = metric(
        &metrics,
        "kubeclient_cached_objects",
        &[("cache", "secrets-metadata")],
    );
    assert!(cached >= 2.0, "both Secrets are cached: {cached}");
    // Metadata-only: the big Secret's data never crossed the wire.
    let watched = metric(
        &metrics,
        "kubeclient_response_bytes_total",
        &[("verb", "WATCH"), ("resource", "secrets")],
    );
    assert!(
        watched < BIG as f64,
        "{watched} bytes watched: the cache received Secret data"
    );

    expect_secret_cache(&cp, "/api/v1/secrets", ListMode::Streaming).await?;
    let expected_ua = format!("cert-manager-rs-cainjector/{}", env!("CARGO_PKG_VERSION"));
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

/// With WatchListClient off (however it is set) the cache pages; with it on, it streams.
async fn gate_case(args: &[&str], env: &[(&str, &str)], mode: ListMode) -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let _ns = seed_secrets(&cp).await?;
    let c = start(&cp, args, env).await?;
    expect_secret_cache(&cp, "/api/v1/secrets", mode).await?;
    let metrics = component::metrics(c.metrics).await?;
    let cached = metric(
        &metrics,
        "kubeclient_cached_objects",
        &[("cache", "secrets-metadata")],
    );
    assert!(cached >= 2.0, "{cached}");
    Ok(())
}

#[tokio::test]
async fn watch_list_client_flag_off_pages() -> anyhow::Result<()> {
    gate_case(
        &["--feature-gates=WatchListClient=false"],
        &[],
        ListMode::Paged,
    )
    .await
}

#[tokio::test]
async fn watch_list_client_env_off_pages() -> anyhow::Result<()> {
    gate_case(
        &[],
        &[("KUBE_FEATURE_WatchListClient", "false")],
        ListMode::Paged,
    )
    .await
}

#[tokio::test]
async fn watch_list_client_flag_beats_env() -> anyhow::Result<()> {
    gate_case(
        &["--feature-gates=WatchListClient=true"],
        &[("KUBE_FEATURE_WatchListClient", "false")],
        ListMode::Streaming,
    )
    .await
}

#[tokio::test]
async fn falls_back_to_paging_without_server_watch_list() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(Some("WatchList=false")).await? else {
        return Ok(());
    };
    let _ns = seed_secrets(&cp).await?;
    let c = start(&cp, &[], &[]).await?;
    expect_secret_cache(&cp, "/api/v1/secrets", ListMode::FallBack).await?;

    let log = c.process.stderr();
    let fallbacks = log.matches("does not serve streaming lists").count();
    assert_eq!(fallbacks, 1, "one info line about the fallback:\n{log}");
    let metrics = component::metrics(c.metrics).await?;
    let n = metric(
        &metrics,
        "kubeclient_watchlist_fallbacks_total",
        &[("cache", "secrets-metadata"), ("reason", "rejected")],
    );
    assert_eq!(n, 1.0);
    Ok(())
}

// ---- the config file (issue 12) ----

fn write_config(dir: &Path, name: &str, body: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    let text = format!(
        "apiVersion: cainjector.config.cert-manager.io/v1alpha1\nkind: CAInjectorConfiguration\n{body}"
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

fn config_arg(path: &Path) -> String {
    format!("--config={}", path.display())
}

/// Starts the cainjector with its own command line only (no default metrics address).
fn launch_bare(cp: &ControlPlane, args: &[&str]) -> anyhow::Result<Component> {
    Ok(Component::command("cainjector", BIN)
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .args(args)
        .start()?)
}

#[tokio::test]
async fn config_file_metrics_address_and_flag_override() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    install_crds(cp).await?;
    let dir = tempfile::tempdir()?;
    let (a, b) = (component::free_addr()?, component::free_addr()?);
    let file = write_config(
        dir.path(),
        "config.yaml",
        &format!("metricsListenAddress: {a}\n"),
    )?;

    let mut c = launch_bare(cp, &[&config_arg(&file)])?;
    c.wait_ready(a, READY).await?;
    let metrics = component::metrics(a).await?;
    assert!(metrics.contains("kubeclient_cached_objects"), "{metrics}");
    assert!(
        component::http_get(b, "/metrics").await.is_err(),
        "nothing on {b}"
    );
    drop(c);

    let flag = format!("--metrics-listen-address={b}");
    let mut c = launch_bare(cp, &[&config_arg(&file), &flag])?;
    c.wait_ready(b, READY).await?;
    let metrics = component::metrics(b).await?;
    assert!(metrics.contains("kubeclient_cached_objects"), "{metrics}");
    assert!(
        component::http_get(a, "/metrics").await.is_err(),
        "the flag overrides the file: nothing on {a}"
    );
    Ok(())
}

#[tokio::test]
async fn config_file_feature_gates_and_flag_override() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    // Each run is limited to its own namespace (a file setting too), so the audit log tells
    // the two runs apart.
    let (paged_ns, streaming_ns) = (
        cp.namespace("paged").await?,
        cp.namespace("streaming").await?,
    );
    let body = |ns: &str| format!("namespace: {ns}\nfeatureGates:\n  WatchListClient: false\n");

    let paged = write_config(dir.path(), "paged.yaml", &body(&paged_ns))?;
    let _c = start(&cp, &[&config_arg(&paged)], &[]).await?;
    let path = format!("/api/v1/namespaces/{paged_ns}/secrets");
    expect_secret_cache(&cp, &path, ListMode::Paged).await?;

    let streaming = write_config(dir.path(), "streaming.yaml", &body(&streaming_ns))?;
    let _c2 = start(
        &cp,
        &[
            &config_arg(&streaming),
            "--feature-gates=WatchListClient=true",
        ],
        &[],
    )
    .await?;
    let path = format!("/api/v1/namespaces/{streaming_ns}/secrets");
    expect_secret_cache(&cp, &path, ListMode::Streaming).await?;

    // No cluster-wide Secret request at all: `namespace` from the file took effect.
    let cluster_wide: Vec<_> = secret_requests(&cp)?
        .into_iter()
        .filter(|r| r.path == "/api/v1/secrets")
        .collect();
    assert!(cluster_wide.is_empty(), "{cluster_wide:#?}");
    Ok(())
}

#[tokio::test]
async fn bad_config_files_stop_the_cainjector_before_any_request() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let path = dir.path();
    let unknown = write_config(path, "unknown.yaml", "notAField: 1\n")?;
    let gate = write_config(path, "gate.yaml", "featureGates:\n  NotAGate: true\n")?;
    let address = write_config(path, "address.yaml", "metricsListenAddress: [1, 2]\n")?;
    let api_version = path.join("api-version.yaml");
    std::fs::write(
        &api_version,
        "apiVersion: cainjector.config.cert-manager.io/v1beta1\nkind: CAInjectorConfiguration\n",
    )?;
    let cases = [
        (unknown, "notAField"),
        (gate, "featureGates.NotAGate"),
        (address, "metricsListenAddress"),
        (api_version, "apiVersion"),
    ];
    for (file, field) in &cases {
        let mut c = launch(&cp, &[&config_arg(file)], &[])?;
        let status = c.process.wait_for_exit(EXIT).await?;
        let stderr = c.process.stderr();
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
    let _good = start(&cp, &[], &[]).await?;
    assert!(!component::events_of(&cp.audit_events()?, &ua()).is_empty());
    Ok(())
}

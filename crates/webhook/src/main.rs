//! cert-manager-rs webhook: validating and mutating admission for cert-manager resources.
//! It keeps no informer cache: the approval check asks the API server (discovery and
//! SubjectAccessReviews) and caches only those answers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use componentbase::cli::CommonArgs;
use componentbase::health::{Endpoints, Health};
use featuregates::certmanager::WEBHOOK as GATES;
use webhook::{admission, approval, serving, tls};

/// How often `--tls-cert-file` and `--tls-private-key-file` are checked for changes.
const FILE_RELOAD: Duration = Duration::from_secs(10);
/// cert-manager's default `--dynamic-serving-leaf-duration`.
const DEFAULT_LEAF_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Parser, Debug)]
#[command(
    name = "webhook",
    version,
    about = "cert-manager-rs webhook: validating and mutating admission for cert-manager resources"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    #[command(flatten)]
    flags: config::WebhookFlags,
}

/// One thread: it serves ~20,000 admission requests/s on kept-alive connections (0.05 ms of CPU
/// each) or ~3,000 TLS handshakes/s (0.32 ms), far more than an API server asks of it
/// (docs/benchmarks-webhook.md). A multi-threaded runtime starts one worker per CPU of the node,
/// and each worker adds a stack and a malloc arena (16 workers: +3 to +5 MiB RSS after a burst).
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = componentbase::cli::parse(GATES);
    // A bad config file or flag value ends the process here, before any client exists.
    let cfg = config::webhook::load(&cli.flags, &cli.common)?;
    let gates = config::start_component::<Cli>(&cfg, &cli.common, GATES);

    let health = Health::default();
    let metrics = Endpoints {
        probes: false,
        metrics: true,
    };
    let probes = Endpoints {
        probes: true,
        metrics: false,
    };
    componentbase::health::serve_unless_disabled(
        &cfg.metrics_listen_address,
        metrics,
        health.clone(),
    )
    .await?;
    componentbase::health::serve(&cfg.healthz_addr(), probes, health.clone()).await?;

    let client = kubeclient::connect::connect(&kubeclient::connect::ConnectOptions {
        kubeconfig: cfg.kube_config.clone(),
        master: Some(cfg.api_server_host.clone()).filter(|h| !h.is_empty()),
        user_agent: format!("cert-manager-rs-webhook/{}", env!("CARGO_PKG_VERSION")),
        // As upstream, the webhook has no --kube-api-qps: it only reads (SubjectAccessReviews).
        rate_limit: None,
    })
    .await
    .context("connecting to the Kubernetes API")?;

    let provider = Arc::new(tls::provider(&cfg.tls.cipher_suites)?);
    let cert = Arc::new(tls::SwappableCert::default());
    let approval = Arc::new(approval::Approval::new(approval::KubeCluster::new(
        client.clone(),
    )));
    start_serving_certificate(&cfg, &gates, client, provider.clone(), cert.clone()).await?;
    let server_config =
        tls::server_config((*provider).clone(), &cfg.tls.min_tls_version, cert.clone())?;
    let listener = tokio::net::TcpListener::bind(cfg.secure_addr())
        .await
        .with_context(|| format!("listening on {}", cfg.secure_addr()))?;
    tracing::info!(address = %listener.local_addr()?, "serving admission over TLS");
    let app = admission::router(admission::Policy::from_gates(&gates), Some(approval));
    tokio::spawn(tls::serve_https(listener, server_config, app));

    // Ready once a serving certificate is loaded (the dynamic authority may take a moment).
    let ready = health.clone();
    tokio::spawn(async move {
        while !cert.is_set() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        ready.set_ready(true);
    });
    componentbase::shutdown_signal().await;
    tracing::info!("shutting down");
    Ok(())
}

/// Load static files or start the dynamic authority, as the TLS configuration says.
async fn start_serving_certificate(
    cfg: &config::WebhookConfig,
    gates: &featuregates::FeatureGates,
    client: kube::Client,
    provider: Arc<rustls::crypto::CryptoProvider>,
    cert: Arc<tls::SwappableCert>,
) -> anyhow::Result<()> {
    if cfg.tls.filesystem_provided() {
        let (cert_file, key_file) = (
            PathBuf::from(&cfg.tls.filesystem.cert_file),
            PathBuf::from(&cfg.tls.filesystem.key_file),
        );
        let loaded = serving::load_files(&provider, &cert_file, &key_file, &cert)
            .await
            .with_context(|| format!("loading --tls-cert-file {}", cert_file.display()))?;
        tokio::spawn(serving::watch_files(
            provider,
            cert_file,
            key_file,
            cert,
            loaded,
            FILE_RELOAD,
        ));
        return Ok(());
    }
    if !cfg.tls.dynamic_provided() {
        anyhow::bail!(
            "no serving certificate: set --tls-cert-file/--tls-private-key-file or the --dynamic-serving-* flags"
        );
    }
    let dynamic = &cfg.tls.dynamic;
    let authority = serving::DynamicAuthority {
        client,
        namespace: dynamic.secret_namespace.clone(),
        secret_name: dynamic.secret_name.clone(),
        dns_names: dynamic.dns_names.clone(),
        leaf_duration: dynamic
            .leaf_duration
            .to_std()
            .unwrap_or(DEFAULT_LEAF_DURATION),
        streaming: gates.enabled(kubeclient::gates::WATCH_LIST_CLIENT),
    };
    tokio::spawn(authority.run(provider, cert));
    Ok(())
}

//! cert-manager-rs webhook: validating and mutating admission for cert-manager resources.
//! It keeps no informer cache.

use anyhow::Context;
use clap::Parser;
use componentbase::cli::CommonArgs;
use componentbase::health::{Endpoints, Health};
use featuregates::certmanager::WEBHOOK as GATES;

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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = componentbase::cli::parse(GATES);
    // A bad config file or flag value ends the process here, before any client exists.
    let cfg = config::webhook::load(&cli.flags, &cli.common)?;
    componentbase::logging::init_with(cfg.logging.log_format(), cfg.logging.verbosity);
    tracing::debug!(config = %cfg.summary(), "effective configuration");
    let gates = componentbase::cli::resolve_gates_with_config_file::<Cli>(
        GATES,
        &cli.common,
        Some(&cfg.feature_gates),
    );
    componentbase::gates::log_effective(&gates);

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
    })
    .await
    .context("connecting to the Kubernetes API")?;
    // The webhook caches nothing; being able to reach the API server is what readiness means
    // until the admission endpoints land.
    client
        .apiserver_version()
        .await
        .context("reaching the Kubernetes API")?;
    health.set_ready(true);
    componentbase::shutdown_signal().await;
    tracing::info!("shutting down");
    Ok(())
}

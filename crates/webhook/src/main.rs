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

    /// Port number to listen on for health checks (/healthz, /livez, /readyz).
    #[arg(long = "healthz-port", default_value_t = 6080)]
    healthz_port: u16,

    /// The IP address the secure and healthz ports listen on.
    #[arg(long = "bind-address", default_value = "0.0.0.0")]
    bind_address: String,

    /// The host and port that the metrics endpoint should listen on.
    #[arg(long = "metrics-listen-address", default_value = "0.0.0.0:9402")]
    metrics_listen_address: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = componentbase::cli::parse(GATES);
    componentbase::logging::init(&cli.common.logging);
    let gates = componentbase::cli::resolve_gates::<Cli>(GATES, &cli.common);
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
    componentbase::health::serve(&cli.metrics_listen_address, metrics, health.clone()).await?;
    let healthz = format!("{}:{}", cli.bind_address, cli.healthz_port);
    componentbase::health::serve(&healthz, probes, health.clone()).await?;

    let client = kubeclient::connect::connect(&kubeclient::connect::ConnectOptions {
        kubeconfig: cli.common.kubeconfig.clone(),
        master: None,
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

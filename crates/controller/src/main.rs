//! cert-manager-rs controller: issues and renews certificates.

mod secrets;

use anyhow::Context;
use clap::Parser;
use componentbase::cli::CommonArgs;
use componentbase::health::{Endpoints, Health};
use featuregates::certmanager::CONTROLLER as GATES;

#[derive(Parser, Debug)]
#[command(
    name = "controller",
    version,
    about = "cert-manager-rs controller: issues and renews X.509 certificates"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Optional apiserver host address to connect to. If not specified, autoconfiguration will be attempted.
    #[arg(long)]
    master: Option<String>,

    /// If set, this limits the scope of cert-manager to a single namespace and ClusterIssuers are disabled. If not specified, all namespaces will be watched.
    #[arg(long, default_value = "")]
    namespace: String,

    /// The host and port that the metrics endpoint should listen on.
    #[arg(long = "metrics-listen-address", default_value = "0.0.0.0:9402")]
    metrics_listen_address: String,

    /// The host and port that the healthz server should listen on.
    #[arg(
        long = "internal-healthz-listen-address",
        default_value = "0.0.0.0:9403",
        hide = true
    )]
    healthz_listen_address: String,
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
    componentbase::health::serve(&cli.healthz_listen_address, probes, health.clone()).await?;

    let client = kubeclient::connect::connect(&kubeclient::connect::ConnectOptions {
        kubeconfig: cli.common.kubeconfig.clone(),
        master: cli.master.clone(),
        user_agent: format!("cert-manager-rs-controller/{}", env!("CARGO_PKG_VERSION")),
    })
    .await
    .context("connecting to the Kubernetes API")?;

    let namespace = Some(cli.namespace.as_str()).filter(|ns| !ns.is_empty());
    let secrets = secrets::SecretCaches::start(client, &gates, namespace);
    tokio::select! {
        _ = secrets.wait_until_synced() => {
            health.set_ready(true);
            tracing::info!("caches synced");
        }
        _ = componentbase::shutdown_signal() => return Ok(()),
    }
    componentbase::shutdown_signal().await;
    tracing::info!("shutting down");
    Ok(())
}

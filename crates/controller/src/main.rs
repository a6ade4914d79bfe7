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

    #[command(flatten)]
    flags: config::ControllerFlags,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = componentbase::cli::parse(GATES);
    // A bad config file or flag value ends the process here, before any client exists.
    let cfg = config::controller::load(&cli.flags, &cli.common)?;
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
    componentbase::health::serve(&cfg.healthz_listen_address, probes, health.clone()).await?;

    let client = kubeclient::connect::connect(&kubeclient::connect::ConnectOptions {
        kubeconfig: cfg.kube_config.clone(),
        master: Some(cfg.api_server_host.clone()).filter(|h| !h.is_empty()),
        user_agent: format!("cert-manager-rs-controller/{}", env!("CARGO_PKG_VERSION")),
    })
    .await
    .context("connecting to the Kubernetes API")?;

    let namespace = Some(cfg.namespace.as_str()).filter(|ns| !ns.is_empty());
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

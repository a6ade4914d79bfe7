//! cert-manager-rs cainjector: injects CA bundles into webhook configurations, CRDs and APIServices.

use anyhow::Context;
use clap::Parser;
use componentbase::cli::CommonArgs;
use componentbase::health::{Endpoints, Health};
use featuregates::certmanager::CAINJECTOR as GATES;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kubeclient::gates::WATCH_LIST_CLIENT;
use kubeclient::{Informer, WatchConfig, strip_managed_fields};

#[derive(Parser, Debug)]
#[command(
    name = "cainjector",
    version,
    about = "cert-manager-rs cainjector: injects CA bundles into webhook configurations, CRDs and APIServices"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    #[command(flatten)]
    flags: config::CAInjectorFlags,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = componentbase::cli::parse(GATES);
    // A bad config file or flag value ends the process here, before any client exists.
    let cfg = config::cainjector::load(&cli.flags, &cli.common)?;
    let gates = config::start_component::<Cli>(&cfg, &cli.common, GATES);

    let health = Health::default();
    let endpoints = Endpoints {
        probes: true,
        metrics: true,
    };
    componentbase::health::serve_unless_disabled(
        &cfg.metrics_listen_address,
        endpoints,
        health.clone(),
    )
    .await?;

    let client = kubeclient::connect::connect(&kubeclient::connect::ConnectOptions {
        kubeconfig: cfg.kube_config.clone(),
        master: None,
        user_agent: format!("cert-manager-rs-cainjector/{}", env!("CARGO_PKG_VERSION")),
    })
    .await
    .context("connecting to the Kubernetes API")?;

    // Secrets are only ever watched metadata-only: their data is read live when a Secret is
    // the CA source of some target, so unrelated Secrets cost a few hundred bytes each.
    let namespace = Some(cfg.namespace.as_str()).filter(|ns| !ns.is_empty());
    let config =
        WatchConfig::new("secrets-metadata", gates.enabled(WATCH_LIST_CLIENT)).namespace(namespace);
    let secrets =
        Informer::spawn_with_transform(client, config, |s: &mut PartialObjectMeta<Secret>| {
            strip_managed_fields(s);
            s.metadata.labels = None;
        });
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

//! cert-manager-rs controller: issues and renews certificates.

mod acme;
mod certificaterequests;
mod certificates;
mod context;
mod controllers;
mod events;
mod ingressshim;
mod issuers;
mod runtime;
mod secrets;
mod vault;

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use componentbase::cli::CommonArgs;
use componentbase::health::{Endpoints, Health};
use featuregates::certmanager::CONTROLLER as GATES;
use kubeclient::ratelimit::RateLimit;

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

    let connect = kubeclient::connect::ConnectOptions {
        kubeconfig: cfg.kube_config.clone(),
        master: Some(cfg.api_server_host.clone()).filter(|h| !h.is_empty()),
        user_agent: format!("cert-manager-rs-controller/{}", env!("CARGO_PKG_VERSION")),
        rate_limit: RateLimit::from_flags(cfg.kubernetes_api_qps, cfg.kubernetes_api_burst),
    };
    let client_config = kubeclient::connect::config(&connect)
        .await
        .context("loading the Kubernetes client configuration")?;
    // Leader election has a client (and so a token bucket) of its own, as upstream: a busy
    // controller must not delay its Lease renewals past the renew deadline.
    let election_client = kubeclient::connect::client(client_config.clone(), connect.rate_limit)
        .context("connecting to the Kubernetes API")?;
    let client = kubeclient::connect::client(client_config, connect.rate_limit)
        .context("connecting to the Kubernetes API")?;

    let cfg = Arc::new(cfg);
    // The controllers stop at SIGTERM; with leader election the Lease is then released, so a
    // successor takes over at once instead of waiting for it to expire.
    let work = async {
        tokio::select! {
            () = run_controllers(client.clone(), cfg.clone(), gates, health.clone()) => {}
            _ = componentbase::shutdown_signal() => {}
        }
    };
    if !cfg.leader_election.base.enabled {
        work.await;
        tracing::info!("shutting down");
        return Ok(());
    }
    // A standby replica is healthy: readiness must not wait for a Lease another replica holds,
    // or a rolling update (new Pod ready before the old one stops) could never finish.
    health.set_ready(true);
    let election = &cfg.leader_election.base;
    let lease = kubeclient::leader::LeaseConfig {
        namespace: election.namespace.clone(),
        name: "cert-manager-controller".to_owned(),
        identity: kubeclient::leader::default_identity(),
        lease_duration: std_duration(election.lease_duration),
        renew_deadline: std_duration(election.renew_deadline),
        retry_period: std_duration(election.retry_period),
    };
    tokio::select! {
        result = kubeclient::leader::run_elected(election_client, lease, work) => {
            // Controllers must not run unelected: exit and let the Pod restart (as upstream).
            result.context("leader election lost")?;
        }
        // SIGTERM while still waiting for the Lease. A leader's `work` ends at the same signal
        // and releases the Lease first; the grace period leaves it time to.
        _ = async {
            componentbase::shutdown_signal().await;
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        } => {}
    }
    tracing::info!("shutting down");
    Ok(())
}

/// Starts the caches, waits for them, then runs every enabled controller until shutdown.
async fn run_controllers(
    client: kube::Client,
    cfg: Arc<config::controller::ControllerConfig>,
    gates: featuregates::FeatureGates,
    health: Health,
) {
    let enabled = cfg.enabled_controllers(&gates);
    let ctx = context::Context::new(client, (*cfg).clone(), gates);
    ctx.caches.wait_until_synced().await;
    health.set_ready(true);
    tracing::info!("caches synced");
    let mut running = Vec::new();
    for name in &enabled {
        match controllers::spawn(name, ctx.clone()) {
            Some(task) => {
                tracing::info!(controller = %name, "starting controller");
                running.push(task);
            }
            None => {
                tracing::warn!(controller = %name, "controller not implemented by cert-manager-rs yet; skipping")
            }
        }
    }
    futures::future::join_all(running).await;
    // Every controller runs until the process ends; reaching here means none is enabled.
    std::future::pending::<()>().await;
}

/// A configured duration as a std one (negative values, rejected by validation, become zero).
fn std_duration(d: config::duration::Duration) -> std::time::Duration {
    d.to_std().unwrap_or_default()
}

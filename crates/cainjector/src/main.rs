//! cert-manager-rs cainjector: injects CA bundles into webhook configurations, CRDs and APIServices.
//!
//! - Targets (ValidatingWebhookConfiguration, MutatingWebhookConfiguration, CRD conversion
//!   webhooks, APIService) are cached as small types holding only their name, the injection
//!   annotations and the `caBundle` fields ([`targets`]); Secrets metadata-only; Certificates as
//!   name + `spec.secretName` ([`sources`]).
//! - Sources, in upstream's order: `inject-ca-from-secret` (the Secret must allow direct
//!   injection), `inject-ca-from` (the Certificate's Secret, which must name the Certificate),
//!   `inject-apiserver-ca`. A Secret's data is read with a live GET, only when it is a source.
//! - Changes of targets, Secrets and Certificates queue the targets that depend on them
//!   ([`injector`]); a reconcile server-side applies `caBundle` (field manager
//!   `cert-manager-cainjector`) only when it differs, merged with `CAInjectorMerging`
//!   ([`bundle`]).
//! - Bad input leaves the target unchanged and records a Warning event on it ([`events`]), with
//!   reason `InvalidAnnotation`, `SourceOutOfScope`, `SecretNotFound`, `CertificateNotFound`,
//!   `SecretNotAllowed`, `SecretNotOwned`, `MissingCAData`, `InvalidCAData`, `NoAPIServerCA` or
//!   `SourceForbidden` (upstream only logs these cases).

mod annotations;
mod bundle;
mod events;
mod injector;
mod sources;
mod targets;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use componentbase::cli::CommonArgs;
use componentbase::health::{Endpoints, Health};
use featuregates::certmanager::{CA_INJECTOR_MERGING, CAINJECTOR as GATES};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kubeclient::gates::WATCH_LIST_CLIENT;
use tokio::sync::watch;

use crate::injector::{Caches, Injector, Settings};

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

/// The CRD that must exist before Certificates can be watched.
const CERTIFICATES_CRD: &str = "certificates.cert-manager.io";
/// The Lease replicas compete for, as upstream names it.
const LEASE_NAME: &str = "cert-manager-cainjector-leader-election";
/// How long a leader may take to release its Lease when stopping.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);
/// Upstream waits this long for it, then gives up.
const CERTIFICATES_CRD_WAIT: Duration = Duration::from_secs(300);

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

    let connect = kubeclient::connect::ConnectOptions {
        kubeconfig: cfg.kube_config.clone(),
        master: None,
        user_agent: format!("cert-manager-rs-cainjector/{}", env!("CARGO_PKG_VERSION")),
        // As upstream, the cainjector has no --kube-api-qps / --kube-api-burst.
        rate_limit: None,
    };
    let client_config = kubeclient::connect::config(&connect)
        .await
        .context("loading the Kubernetes client configuration")?;
    let apiserver_ca = apiserver_ca(&client_config)?;
    let client = kubeclient::connect::client(client_config, connect.rate_limit)
        .context("connecting to the Kubernetes API")?;

    let settings = Settings {
        streaming: gates.enabled(WATCH_LIST_CLIENT),
        namespace: cfg.namespace.clone(),
        ignore_namespaces: cfg.ignore_namespaces.clone(),
        certificates: cfg.enable_data_source.certificates,
        merging: gates.enabled(CA_INJECTOR_MERGING),
        validating: cfg.enable_injectable.validating_webhook_configurations,
        mutating: cfg.enable_injectable.mutating_webhook_configurations,
        crds: cfg.enable_injectable.custom_resource_definitions,
        apiservices: cfg.enable_injectable.api_services,
    };
    let identity = kubeclient::leader::default_identity();
    // One signal listener; every phase below watches `stop`.
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        componentbase::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let leading = AtomicBool::new(false);
    let work = async {
        if settings.certificates {
            wait_for_certificates_crd(&client).await?;
        }
        let caches = Caches::spawn(&client, &settings);
        caches.wait_until_synced().await;
        health.set_ready(true);
        tracing::info!("caches synced");
        let inject = async {
            leading.store(true, Ordering::SeqCst);
            // A signal ends the work, so an elected replica releases its Lease on the way out.
            tokio::select! {
                () = Injector::run(client.clone(), settings.clone(), &caches, apiserver_ca, identity.clone()) => {}
                () = stopped(stop.clone()) => {}
            }
        };
        let election = &cfg.leader_election;
        if election.enabled {
            let lease = kubeclient::leader::LeaseConfig {
                namespace: election.namespace.clone(),
                name: LEASE_NAME.to_owned(),
                identity: identity.clone(),
                lease_duration: std_duration(election.lease_duration)?,
                renew_deadline: std_duration(election.renew_deadline)?,
                retry_period: std_duration(election.retry_period)?,
            };
            tracing::info!(lease = %format!("{}/{LEASE_NAME}", lease.namespace), identity = %identity, "waiting for leadership");
            kubeclient::leader::run_elected(client.clone(), lease, inject)
                .await
                .context("leader election")?;
        } else {
            inject.await;
        }
        anyhow::Ok(())
    };
    let mut work = std::pin::pin!(work);
    tokio::select! {
        result = &mut work => return result,
        () = stopped(stop.clone()) => {}
    }
    tracing::info!("shutting down");
    if leading.load(Ordering::SeqCst) {
        // The injector stopped on the same signal: let the election release the Lease, so a
        // successor need not wait for it to expire.
        if tokio::time::timeout(RELEASE_TIMEOUT, work).await.is_err() {
            tracing::warn!("the Lease was not released within {RELEASE_TIMEOUT:?}");
        }
    }
    Ok(())
}

/// Resolves once a shutdown signal has arrived.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// The API server's CA (PEM) for `cert-manager.io/inject-apiserver-ca`: the CA data of the
/// kubeconfig, or the in-cluster service account's CA, as upstream reads it from its REST config.
fn apiserver_ca(config: &kube::Config) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(roots) = &config.root_cert else {
        return Ok(None);
    };
    let mut pem = String::new();
    for der in roots {
        let cert = pki::ParsedCertificate::from_der(der)
            .context("parsing the API server CA of the client configuration")?;
        pem.push_str(&cert.to_pem());
    }
    Ok(Some(pem.into_bytes()).filter(|p| !p.is_empty()))
}

/// With the Certificate data source on, upstream polls for the Certificate CRD (up to five
/// minutes) before it starts, and stops if it never appears.
async fn wait_for_certificates_crd(client: &kube::Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let deadline = Instant::now() + CERTIFICATES_CRD_WAIT;
    loop {
        // Metadata only: the CRD's schema is large and not needed here.
        match api.get_metadata_opt(CERTIFICATES_CRD).await {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => tracing::info!(
                "cainjector has been configured to watch certificates, but {CERTIFICATES_CRD} CRD not found, retrying"
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("checking for the {CERTIFICATES_CRD} CRD"));
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the {CERTIFICATES_CRD} CRD did not appear within {CERTIFICATES_CRD_WAIT:?}; install it or set --enable-certificates-data-source=false"
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Leader election durations are validated positive when the config is loaded.
fn std_duration(d: config::Duration) -> anyhow::Result<Duration> {
    d.to_std()
        .with_context(|| format!("negative leader election duration {d:?}"))
}

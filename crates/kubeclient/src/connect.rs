//! Building the `kube::Client` every binary uses: kubeconfig or in-cluster config, a
//! per-component User-Agent, the request-metrics layer and client-side rate limiting.

use std::path::PathBuf;

use http::HeaderValue;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::metrics::RequestMetricsLayer;
use crate::ratelimit::{RateLimit, RateLimitLayer};

/// How to reach the API server (the `--kubeconfig` / `--master` flags).
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Path to a kubeconfig; None: `$KUBECONFIG`, `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// Overrides the server address of the kubeconfig.
    pub master: Option<String>,
    /// e.g. `cert-manager-rs-controller/0.1.0`, so audit logs tell the components apart.
    pub user_agent: String,
    /// `--kube-api-qps` / `--kube-api-burst`; None: unlimited.
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("reading kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("loading client configuration: {0}")]
    Infer(#[from] kube::config::InferConfigError),
    #[error("invalid --master {0:?}: {1}")]
    Master(String, String),
    #[error("invalid user agent {0:?}")]
    UserAgent(String),
    #[error("building client: {0}")]
    Client(#[from] kube::Error),
}

/// Load the client configuration as the flags ask.
pub async fn config(opts: &ConnectOptions) -> Result<Config, ConnectError> {
    let mut config = match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|source| ConnectError::Kubeconfig {
                path: path.clone(),
                source,
            })?;
            Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|source| ConnectError::Kubeconfig {
                    path: path.clone(),
                    source,
                })?
        }
        None => Config::infer().await?,
    };
    if let Some(master) = &opts.master {
        config.cluster_url = master.parse().map_err(|e: http::uri::InvalidUri| {
            ConnectError::Master(master.clone(), e.to_string())
        })?;
    }
    if !opts.user_agent.is_empty() {
        let ua = HeaderValue::from_str(&opts.user_agent)
            .map_err(|_| ConnectError::UserAgent(opts.user_agent.clone()))?;
        config.headers.push((http::header::USER_AGENT, ua));
    }
    Ok(config)
}

/// A client for `config` whose requests are counted in the `kubeclient_*` metrics and, with
/// a `rate_limit`, throttled by a token bucket of its own (each client built here has one).
pub fn client(config: Config, rate_limit: Option<RateLimit>) -> Result<Client, ConnectError> {
    let builder = kube::client::ClientBuilder::try_from(config)?.with_layer(&RequestMetricsLayer);
    Ok(match rate_limit {
        // Counted first, then throttled: the metrics time what the server took.
        Some(limit) => builder.with_layer(&RateLimitLayer::new(limit)).build(),
        None => builder.build(),
    })
}

/// `config` then `client` in one step.
pub async fn connect(opts: &ConnectOptions) -> Result<Client, ConnectError> {
    client(config(opts).await?, opts.rate_limit)
}

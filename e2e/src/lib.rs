//! The end-to-end suite of cert-manager-rs: the Helm chart installed and checked from the
//! outside, the way a user would see it.
//!
//! One suite, two targets (see [`target`]):
//! - `E2E_KUBECONFIG=<file>`: a real cluster (e.g. the kind cluster of `make e2e-kind`); the
//!   chart is installed with `helm upgrade --install --wait` and the components run as Pods.
//! - otherwise: the local control plane (`testkit`); the chart is installed the same way, and
//!   since no Pods run there, the three binaries are started as processes with the arguments
//!   and environment of the Deployments that `helm` installed (`helm get manifest`), so the
//!   chart and the suite cannot drift apart.
//!
//! The checks ([`checks`]) then run against either target through the Kubernetes API and the
//! components' `/metrics`.

pub mod checks;
pub mod helm;
pub mod manifest;
pub mod metrics;
pub mod report;
pub mod target;

use std::path::PathBuf;

/// The namespace the chart is installed into (upstream's default).
pub const NAMESPACE: &str = "cert-manager";
/// The release name (upstream's default, so resource names are upstream's).
pub const RELEASE: &str = "cert-manager";

/// Errors of the suite's plumbing (the checks report their own findings as text).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A helm command failed.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Helm {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The rendered manifest cannot be turned into processes.
    #[error("manifest: {0}")]
    Manifest(String),
    /// A required file or tool is missing.
    #[error("{0}")]
    Setup(String),
    /// The local control plane or a component process failed.
    #[error(transparent)]
    Testkit(#[from] testkit::Error),
    /// A Kubernetes API call failed.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// I/O.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Something did not happen in time.
    #[error("{what}: still not the case after {seconds} s: {last}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        seconds: u64,
        /// The last reason it was not the case.
        last: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ has a parent")
        .to_path_buf()
}

/// The chart's folder.
pub fn chart_dir() -> PathBuf {
    repo_root().join("charts").join("cert-manager-rs")
}

/// One of the chart's values files of the suite (`e2e/values/<name>`).
pub fn values_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("values")
        .join(name)
}

/// Whether the environment variable `name` is set to `1` or `true`.
pub fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Polls `check` every 200 ms until it returns `Ok` or `timeout` passes.
pub async fn eventually<T>(
    what: &str,
    timeout: std::time::Duration,
    mut check: impl AsyncFnMut() -> std::result::Result<T, String>,
) -> Result<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(last) if std::time::Instant::now() > deadline => {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    seconds: timeout.as_secs(),
                    last,
                });
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

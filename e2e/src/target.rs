//! Where the chart is installed and the components run.
//!
//! - [`Cluster`] (`E2E_KUBECONFIG`): a real cluster. `helm upgrade --install --wait` rolls the
//!   Pods; metrics are read through the API server's Pod proxy.
//! - [`Local`]: the local control plane (`testkit`, audit log on). `helm upgrade --install`
//!   stores the objects; no kubelet runs them, so each Deployment's container is started as a
//!   process with the Deployment's arguments and environment. What only makes sense in a Pod is
//!   replaced, and nothing else: in-cluster credentials become `--kubeconfig`, the listeners move
//!   to free loopback ports, ConfigMap volumes become folders, and the webhook Service gets the
//!   Endpoints that the endpoints controller would give it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use testkit::AuditEvent;
use testkit::component::{self as tk, Component as Process};

use crate::helm::Helm;
use crate::manifest::{self, Component, ComponentSpec};
use crate::{Error, NAMESPACE, RELEASE, Result, chart_dir, eventually};

/// The switch that makes upgrades on the local control plane stop each old process before
/// starting the new one, whatever the Deployment's strategy says.
pub const SKIP_SURGE_ROLLOUT: &str = "E2E_SKIP_SURGE_ROLLOUT";

/// How long a component may take to become ready after it was (re)started.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// The components' metrics port in the Pods (the chart's `http-metrics`).
const POD_METRICS_PORT: u16 = 9402;

/// The cluster under test.
pub enum Target {
    /// An existing cluster.
    Cluster(Cluster),
    /// The local control plane with the components as processes.
    Local(Box<Local>),
}

impl Target {
    /// A [`Cluster`] if `E2E_KUBECONFIG` is set, else a fresh [`Local`] control plane.
    pub async fn from_env() -> Result<Target> {
        match std::env::var_os("E2E_KUBECONFIG") {
            Some(path) => Ok(Target::Cluster(Cluster::new(PathBuf::from(path)).await?)),
            None => Ok(Target::Local(Box::new(Local::start().await?))),
        }
    }

    /// One line saying what this is.
    pub fn describe(&self) -> String {
        match self {
            Target::Cluster(c) => format!("cluster from E2E_KUBECONFIG={}", c.kubeconfig.display()),
            Target::Local(l) => format!(
                "local control plane at {} (components as processes from {})",
                l.cp.config().cluster_url,
                l.bin_dir.display()
            ),
        }
    }

    /// The kubeconfig helm and the components use.
    pub fn kubeconfig(&self) -> &Path {
        match self {
            Target::Cluster(c) => &c.kubeconfig,
            Target::Local(l) => l.cp.kubeconfig_path(),
        }
    }

    /// A client for the current runtime.
    pub fn client(&self) -> kube::Client {
        match self {
            Target::Cluster(c) => c.client.clone(),
            Target::Local(l) => l.cp.client(),
        }
    }

    /// Installs or upgrades the release with these values files (after the suite's own
    /// extra files, see [`Cluster`]) and waits until every component runs the new Deployment.
    pub async fn deploy(&mut self, helm: &Helm, values: &[PathBuf]) -> Result<()> {
        match self {
            Target::Cluster(c) => c.deploy(helm, values).await,
            Target::Local(l) => l.deploy(helm, values).await,
        }
    }

    /// The Prometheus text of a component's `/metrics`.
    pub async fn metrics(&self, component: Component) -> Result<String> {
        match self {
            Target::Cluster(c) => c.metrics(component).await,
            Target::Local(l) => l.metrics(component).await,
        }
    }

    /// The API server's audit events of `component`'s current process (local control plane
    /// only; `None` on a cluster, whose audit log the suite cannot read).
    pub fn audit_events(&self, component: Component) -> Option<Result<Vec<AuditEvent>>> {
        match self {
            Target::Cluster(_) => None,
            Target::Local(l) => Some(l.audit_events(component)),
        }
    }
}

/// An existing cluster, e.g. kind. `E2E_HELM_VALUES` names further values files (comma
/// separated) passed before the suite's own, typically the images to use.
pub struct Cluster {
    kubeconfig: PathBuf,
    client: kube::Client,
    extra_values: Vec<PathBuf>,
}

impl Cluster {
    async fn new(kubeconfig: PathBuf) -> Result<Cluster> {
        let kc = kube::config::Kubeconfig::read_from(&kubeconfig)
            .map_err(|e| Error::Setup(format!("E2E_KUBECONFIG={}: {e}", kubeconfig.display())))?;
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .map_err(|e| Error::Setup(format!("E2E_KUBECONFIG={}: {e}", kubeconfig.display())))?;
        let client = kube::Client::try_from(config)?;
        let extra_values = std::env::var("E2E_HELM_VALUES")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| PathBuf::from(s.trim()))
            .collect();
        Ok(Cluster {
            kubeconfig,
            client,
            extra_values,
        })
    }

    async fn deploy(&mut self, helm: &Helm, values: &[PathBuf]) -> Result<()> {
        let mut files = self.extra_values.clone();
        files.extend_from_slice(values);
        helm.upgrade_install(
            RELEASE,
            NAMESPACE,
            &chart_dir(),
            &files,
            &["--wait", "--timeout", "5m"],
        )
        .await?;
        let manifest = helm.manifest(RELEASE, NAMESPACE).await?;
        for spec in manifest::component_specs(&manifest, NAMESPACE)? {
            self.current_pod(&spec.deployment, READY_TIMEOUT).await?;
        }
        Ok(())
    }

    /// The name of a ready, not terminating Pod of the Deployment's current template (its
    /// container arguments equal the Deployment's: after an upgrade the old Pods differ).
    async fn current_pod(&self, deployment: &str, timeout: Duration) -> Result<String> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), NAMESPACE);
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), NAMESPACE);
        eventually(
            &format!("a ready Pod of Deployment {deployment}"),
            timeout,
            async || {
                let d = deployments
                    .get(deployment)
                    .await
                    .map_err(|e| e.to_string())?;
                let spec = d.spec.ok_or("no spec")?;
                let want_args = spec
                    .template
                    .spec
                    .as_ref()
                    .and_then(|p| p.containers[0].args.clone());
                let selector = spec
                    .selector
                    .match_labels
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                let list = pods
                    .list(&ListParams::default().labels(&selector))
                    .await
                    .map_err(|e| e.to_string())?;
                list.items
                    .into_iter()
                    .find(|p| {
                        p.metadata.deletion_timestamp.is_none()
                            && p.spec.as_ref().map(|s| s.containers[0].args.clone())
                                == Some(want_args.clone())
                            && p.status
                                .as_ref()
                                .and_then(|s| s.conditions.as_ref())
                                .is_some_and(|cs| {
                                    cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                                })
                    })
                    .and_then(|p| p.metadata.name)
                    .ok_or_else(|| {
                        format!("no ready Pod with the current arguments among {selector}")
                    })
            },
        )
        .await
    }

    async fn metrics(&self, component: Component) -> Result<String> {
        let manifest_name = deployment_name(component);
        let pod = self.current_pod(&manifest_name, READY_TIMEOUT).await?;
        let path =
            format!("/api/v1/namespaces/{NAMESPACE}/pods/{pod}:{POD_METRICS_PORT}/proxy/metrics");
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| Error::Setup(e.to_string()))?;
        Ok(self.client.request_text(req).await?)
    }
}

/// The Deployment name of a component for the suite's release (upstream's names).
fn deployment_name(component: Component) -> String {
    match component {
        Component::Controller => RELEASE.to_owned(),
        other => format!("{RELEASE}-{other}"),
    }
}

/// A component process and where it listens.
struct Running {
    process: Process,
    metrics: SocketAddr,
    /// The number of audit events before it started: later ones are its own.
    audit_from: usize,
}

/// Where a component process listens instead of its Pod's ports: free loopback ports.
struct Listeners {
    component: Component,
    metrics: SocketAddr,
    /// The address serving `/readyz`.
    ready_at: SocketAddr,
    /// The webhook's HTTPS port.
    webhook: Option<u16>,
}

impl Listeners {
    fn for_component(component: Component) -> Result<Listeners> {
        let metrics = tk::free_addr()?;
        let (ready_at, webhook) = match component {
            Component::Controller => (tk::free_addr()?, None),
            Component::Cainjector => (metrics, None),
            Component::Webhook => (tk::free_addr()?, Some(tk::free_port()?)),
        };
        Ok(Listeners {
            component,
            metrics,
            ready_at,
            webhook,
        })
    }

    /// The flags that put the component's listeners there.
    fn args(&self) -> Vec<String> {
        let mut args = vec![format!("--metrics-listen-address={}", self.metrics)];
        match self.component {
            Component::Controller => {
                args.push(format!(
                    "--internal-healthz-listen-address={}",
                    self.ready_at
                ));
            }
            Component::Cainjector => {}
            Component::Webhook => args.extend([
                "--bind-address=127.0.0.1".to_owned(),
                format!("--secure-port={}", self.webhook.unwrap_or_default()),
                format!("--healthz-port={}", self.ready_at.port()),
            ]),
        }
        args
    }
}

/// The local control plane with the components as processes.
pub struct Local {
    // Field order is drop order: the components before the control plane they talk to.
    running: BTreeMap<Component, Running>,
    files: tempfile::TempDir,
    bin_dir: PathBuf,
    /// `E2E_SKIP_SURGE_ROLLOUT=1`: always stop the old process first.
    stop_first: bool,
    cp: testkit::ControlPlane,
}

impl Local {
    async fn start() -> Result<Local> {
        let bin_dir = bin_dir()?;
        let cp = testkit::ControlPlane::start(testkit::Options {
            audit: true,
            ..Default::default()
        })
        .await?;
        Ok(Local {
            running: BTreeMap::new(),
            files: tempfile::tempdir()?,
            bin_dir,
            stop_first: crate::env_flag(SKIP_SURGE_ROLLOUT),
            cp,
        })
    }

    async fn deploy(&mut self, helm: &Helm, values: &[PathBuf]) -> Result<()> {
        // Without --wait: there is no kubelet to make the Deployments available.
        helm.upgrade_install(RELEASE, NAMESPACE, &chart_dir(), values, &[])
            .await?;
        let manifest = helm.manifest(RELEASE, NAMESPACE).await?;
        let specs = manifest::component_specs(&manifest, NAMESPACE)?;
        // Like a rollout, each component is replaced by one with the new arguments, in the
        // order its Deployment strategy allows: the new one first when no replica may be
        // unavailable (it must become ready while the old one still runs), else the old one
        // first. Old ones get SIGTERM, as from the kubelet.
        for spec in &specs {
            let old = self.running.remove(&spec.component);
            let running = match old {
                Some(old) if spec.surge_first && !self.stop_first => {
                    let new = self.launch(spec).await.map_err(|e| {
                        Error::Setup(format!(
                            "{}: the new process did not become ready while the old one still ran \
                             (the Deployment's rollout starts the new Pod first): {e}",
                            spec.component
                        ))
                    })?;
                    stop(spec.component, old).await?;
                    new
                }
                Some(old) => {
                    stop(spec.component, old).await?;
                    self.launch(spec).await?
                }
                None => self.launch(spec).await?,
            };
            self.running.insert(spec.component, running);
        }
        Ok(())
    }

    async fn launch(&self, spec: &ComponentSpec) -> Result<Running> {
        let listeners = Listeners::for_component(spec.component)?;
        let mut overrides = listeners.args();
        overrides.push(format!(
            "--kubeconfig={}",
            self.cp.kubeconfig_path().display()
        ));
        let names: Vec<&str> = overrides
            .iter()
            .map(|o| o.split_once('=').map_or(o.as_str(), |(n, _)| n))
            .collect();
        let mut args = manifest::without_flags(&self.mount_config_maps(spec).await?, &names);
        args.extend(overrides.iter().cloned());
        let (metrics, ready_at, webhook_port) =
            (listeners.metrics, listeners.ready_at, listeners.webhook);

        if let Some(port) = webhook_port {
            // The chart names the webhook's Service like its Deployment.
            self.publish_webhook(&spec.deployment, port).await?;
        }
        let audit_from = self.cp.audit_events()?.len();
        let bin = self.bin_dir.join(spec.component.name());
        let mut launch = Process::command(spec.component.name(), &bin).args(&args);
        for (key, value) in &spec.env {
            launch = launch.env(key, value);
        }
        let started = std::time::Instant::now();
        let mut process = launch.start()?;
        process.wait_ready(ready_at, READY_TIMEOUT).await?;
        eprintln!(
            "e2e: {} ready after {:.1} s (pid {}): {} {}",
            spec.component,
            started.elapsed().as_secs_f64(),
            process.id(),
            bin.display(),
            args.join(" ")
        );
        Ok(Running {
            process,
            metrics,
            audit_from,
        })
    }

    /// Writes each mounted ConfigMap into a folder and points the arguments there.
    async fn mount_config_maps(&self, spec: &ComponentSpec) -> Result<Vec<String>> {
        let mut args = spec.args.clone();
        let api: Api<ConfigMap> = Api::namespaced(self.cp.client(), NAMESPACE);
        for (i, mount) in spec.config_maps.iter().enumerate() {
            let dir = self
                .files
                .path()
                .join(format!("{}-{}-{i}", spec.component, mount.config_map));
            std::fs::create_dir_all(&dir)?;
            let cm = api.get(&mount.config_map).await?;
            for (key, value) in cm.data.unwrap_or_default() {
                std::fs::write(dir.join(key), value)?;
            }
            let from = mount.mount_path.trim_end_matches('/');
            let to = dir.display().to_string();
            for arg in &mut args {
                *arg = replace_path_prefix(arg, from, &to);
            }
        }
        Ok(args)
    }

    /// Endpoints for the webhook Service: the API server calls the process through them.
    async fn publish_webhook(&self, service: &str, port: u16) -> Result<()> {
        let endpoints: Api<Endpoints> = Api::namespaced(self.cp.client(), NAMESPACE);
        let body = json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": service, "namespace": NAMESPACE},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
        });
        endpoints
            .patch(
                service,
                &PatchParams::apply("e2e").force(),
                &Patch::Apply(&body),
            )
            .await?;
        Ok(())
    }

    async fn metrics(&self, component: Component) -> Result<String> {
        let running = self.running.get(&component).ok_or_else(|| {
            Error::Setup(format!(
                "{component} is not running (not in the chart's manifest?)"
            ))
        })?;
        Ok(tk::metrics(running.metrics).await?)
    }

    fn audit_events(&self, component: Component) -> Result<Vec<AuditEvent>> {
        let from = self.running.get(&component).map_or(0, |r| r.audit_from);
        let mut events = self.cp.audit_events()?;
        Ok(events.split_off(from.min(events.len())))
    }

    /// The log of a component process so far (for failure messages).
    pub fn log(&self, component: Component) -> Option<String> {
        self.running.get(&component).map(|r| r.process.stderr())
    }
}

/// How long a component may take to exit after SIGTERM (a Pod's default grace period).
const GRACE_PERIOD: Duration = Duration::from_secs(30);

/// Stops a component as the kubelet does: SIGTERM, then SIGKILL (on drop) after the grace period.
async fn stop(component: Component, mut running: Running) -> Result<()> {
    let pid = running.process.id().to_string();
    let started = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()?;
    match running.process.wait_for_exit(GRACE_PERIOD).await {
        Ok(status) => {
            eprintln!(
                "e2e: {component} (pid {pid}) stopped after {:.1} s: {status}",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(e) => Err(Error::Setup(format!(
            "{component} did not exit within {GRACE_PERIOD:?} of SIGTERM: {e}"
        ))),
    }
}

/// `path`, or `path/...`, at the start of `arg` or after `=` replaced by `to`.
fn replace_path_prefix(arg: &str, from: &str, to: &str) -> String {
    let (head, value) = match arg.split_once('=') {
        Some((flag, value)) => (format!("{flag}="), value),
        None => (String::new(), arg),
    };
    match value.strip_prefix(from) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{head}{to}{rest}"),
        _ => arg.to_owned(),
    }
}

/// The folder with the `controller`, `cainjector` and `webhook` binaries: `E2E_BIN_DIR`, else
/// the Cargo profile folder this test binary was built into (target/<profile>).
fn bin_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("E2E_BIN_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let exe = std::env::current_exe()?;
            // target/<profile>/deps/<test binary>
            exe.parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .ok_or_else(|| Error::Setup(format!("no profile folder above {}", exe.display())))?
        }
    };
    for c in Component::ALL {
        if !dir.join(c.name()).is_file() {
            return Err(Error::Setup(format!(
                "{} missing: build the binaries first (cargo build -p controller -p cainjector -p webhook) or set E2E_BIN_DIR",
                dir.join(c.name()).display()
            )));
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_paths_move() {
        let f = |a| replace_path_prefix(a, "/var/cert-manager/config", "/tmp/x");
        assert_eq!(
            f("--config=/var/cert-manager/config/config.yaml"),
            "--config=/tmp/x/config.yaml"
        );
        assert_eq!(f("/var/cert-manager/config"), "/tmp/x");
        assert_eq!(
            f("--config=/var/cert-manager/configs/a"),
            "--config=/var/cert-manager/configs/a"
        );
        assert_eq!(f("--v=2"), "--v=2");
    }

    #[test]
    fn listeners_stay_on_loopback() {
        for c in Component::ALL {
            let l = Listeners::for_component(c).unwrap();
            assert!(l.metrics.ip().is_loopback() && l.ready_at.ip().is_loopback());
            let args = l.args();
            assert!(args.iter().all(|a| !a.contains("0.0.0.0")), "{args:?}");
            assert_eq!(l.webhook.is_some(), c == Component::Webhook);
            if c == Component::Webhook {
                assert!(
                    args.contains(&"--bind-address=127.0.0.1".to_owned()),
                    "{args:?}"
                );
            }
        }
    }

    #[test]
    fn deployment_names_are_upstreams() {
        assert_eq!(deployment_name(Component::Controller), "cert-manager");
        assert_eq!(deployment_name(Component::Webhook), "cert-manager-webhook");
    }
}

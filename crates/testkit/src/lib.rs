//! A real local Kubernetes control plane for cert-manager-rs integration tests.
//!
//! By default this runs etcd and `cm-envtest-apiserver` (hack/envtest: the genuine
//! k8s.io/apiserver + apiextensions-apiserver libraries, built by `hack/install-envtest.sh`)
//! on free loopback ports. Real API semantics: protobuf storage, watch cache, WatchList,
//! server-side apply, CRDs with structural schemas, admission webhooks.
//!
//! ```no_run
//! # async fn t() -> Result<(), testkit::Error> {
//! use k8s_openapi::api::core::v1::Secret;
//! let cp = testkit::ControlPlane::shared().await?;
//! let ns = cp.namespace("my-test").await?; // deleted again when `ns` is dropped
//! let secrets: kube::Api<Secret> = kube::Api::namespaced(cp.client(), &ns);
//! secrets.list(&Default::default()).await?;
//! # Ok(()) }
//! ```
//!
//! Where the control plane comes from (first match wins):
//! 1. `TESTKIT_KUBECONFIG=<path>`, or `USE_EXISTING_CLUSTER=true` with `KUBECONFIG`: an
//!    existing cluster; nothing is started, namespaces are still created and deleted.
//!    (`KUBECONFIG` alone is ignored on purpose: a developer's current context must not
//!    receive test objects by accident.)
//! 2. `KUBEBUILDER_ASSETS=<dir with kube-apiserver and etcd>`: a real kube-apiserver.
//! 3. `ENVTEST_BIN_DIR=<dir with cm-envtest-apiserver and etcd>`, else the folder printed by
//!    `hack/install-envtest.sh` (which builds it on first use, ~5-10 minutes).
//!
//! Processes never outlive the test binary (see the `process` module); `TESTKIT_KEEP_DIR=1`
//! keeps run directories (logs, etcd data, kubeconfig) for debugging.

pub mod bind9;
pub mod cli;
pub mod component;
mod launch;
pub mod openbao;
pub mod pebble;
mod process;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Deserialize;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No API server binaries could be found or built.
    #[error(
        "no local control plane available: {0}\n\
         Build it with `hack/install-envtest.sh` and set ENVTEST_BIN_DIR to the folder it prints, \
         or set KUBEBUILDER_ASSETS (kube-apiserver + etcd) or TESTKIT_KUBECONFIG (existing cluster)."
    )]
    NotInstalled(String),
    /// A process could not be started.
    #[error("failed to start {what}: {source}")]
    Spawn {
        /// The program.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A process exited during start-up.
    #[error("{what} exited during start-up ({status}); log {}:\n{tail}", log.display())]
    Exited {
        /// The program.
        what: &'static str,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        tail: String,
    },
    /// A process did not become ready in time.
    #[error("{what} not ready after {timeout:?}; log {}:\n{tail}", log.display())]
    Timeout {
        /// The program.
        what: &'static str,
        /// How long we waited.
        timeout: Duration,
        /// Its log file.
        log: PathBuf,
        /// The end of its log.
        tail: String,
    },
    /// The shared control plane failed to start earlier in this process.
    #[error("the shared control plane failed to start: {0}")]
    SharedFailed(String),
    /// The request needs a control plane this crate starts (not an existing cluster).
    #[error("not supported with an existing cluster: {0}")]
    Unsupported(&'static str),
    /// A CRD manifest could not be used.
    #[error("CRD {0}")]
    Crd(String),
    /// Generating certificates failed.
    #[error("certificate generation: {0}")]
    Certificate(String),
    /// Reading the kubeconfig failed.
    #[error(transparent)]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    /// A Kubernetes API call failed.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// I/O.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// YAML/JSON decoding.
    #[error("decoding {path}: {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        message: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to start a private control plane.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Passed as `--feature-gates` to the API server, e.g. `"WatchList=false"`.
    pub feature_gates: Option<String>,
    /// Write an audit log (Metadata level, every request) readable with
    /// [`ControlPlane::audit_events`].
    pub audit: bool,
    /// Further API server flags.
    pub extra_args: Vec<String>,
}

/// Which kind of control plane this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// etcd + cm-envtest-apiserver started by this crate.
    Envtest,
    /// etcd + kube-apiserver from `KUBEBUILDER_ASSETS`, started by this crate.
    KubeApiserver,
    /// An existing cluster (`TESTKIT_KUBECONFIG`).
    Existing,
}

/// A running API server (or an existing cluster) and how to reach it.
///
/// Private instances ([`ControlPlane::start`]) are killed and their files removed on drop;
/// the [`shared`](ControlPlane::shared) one lives until the test binary exits.
pub struct ControlPlane {
    backend: Backend,
    kubeconfig: PathBuf,
    config: kube::Config,
    audit_log: Option<PathBuf>,
    // Field order is drop order: processes (server last in the Vec, killed first) before
    // the directory they write to.
    processes: Vec<process::ChildGuard>,
    dir: Option<process::RunDir>,
}

impl fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlPlane")
            .field("backend", &self.backend)
            .field("server", &self.config.cluster_url.to_string())
            .field("kubeconfig", &self.kubeconfig)
            .field(
                "pids",
                &self
                    .processes
                    .iter()
                    .map(process::ChildGuard::id)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // Server before etcd, so the server does not log a storm of etcd errors.
        while let Some(p) = self.processes.pop() {
            drop(p);
        }
    }
}

impl ControlPlane {
    /// The control plane shared by all tests of this test binary, started on first use
    /// (with the audit log on, unless it is an existing cluster). Under nextest every test is
    /// its own process, so each gets one.
    pub async fn shared() -> Result<&'static ControlPlane> {
        static SHARED: tokio::sync::OnceCell<std::result::Result<ControlPlane, String>> =
            tokio::sync::OnceCell::const_new();
        SHARED
            .get_or_init(|| async {
                let opts = Options {
                    audit: existing_kubeconfig().is_none(),
                    ..Options::default()
                };
                Self::start(opts).await.map_err(|e| e.to_string())
            })
            .await
            .as_ref()
            .map_err(|e| Error::SharedFailed(e.clone()))
    }

    /// Starts a private control plane, e.g. with `feature_gates: Some("WatchList=false".into())`.
    /// With an existing cluster, feature gates and the audit log cannot be honoured:
    /// [`Error::Unsupported`].
    pub async fn start(opts: Options) -> Result<ControlPlane> {
        if let Some(path) = existing_kubeconfig() {
            if opts.feature_gates.is_some() || opts.audit || !opts.extra_args.is_empty() {
                return Err(Error::Unsupported(
                    "feature gates, audit log and server flags",
                ));
            }
            let config = load_config(&path).await?;
            return Ok(ControlPlane {
                backend: Backend::Existing,
                kubeconfig: path,
                config,
                audit_log: None,
                processes: Vec::new(),
                dir: None,
            });
        }
        let dir = process::RunDir::create()?;
        let (backend, launched) = match std::env::var_os("KUBEBUILDER_ASSETS") {
            Some(assets) => (
                Backend::KubeApiserver,
                launch::start_kube_apiserver(Path::new(&assets), dir.path(), &opts).await?,
            ),
            None => {
                let bin = launch::envtest_bin_dir().await?;
                (
                    Backend::Envtest,
                    launch::start_envtest(&bin, dir.path(), &opts).await?,
                )
            }
        };
        let config = load_config(&launched.kubeconfig).await?;
        Ok(ControlPlane {
            backend,
            kubeconfig: launched.kubeconfig,
            config,
            audit_log: launched.audit_log,
            processes: launched.processes,
            dir: Some(dir),
        })
    }

    /// Which kind of control plane this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A new client for the current tokio runtime. (A client keeps background tasks on the
    /// runtime that created it, and every `#[tokio::test]` has its own runtime, so clients are
    /// not shared between tests.)
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(self.config.clone()).expect("client from a validated kubeconfig")
    }

    /// The client configuration (URL, CA, token).
    pub fn config(&self) -> &kube::Config {
        &self.config
    }

    /// A kubeconfig file for this control plane (for kubectl or binaries under test).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The folder with logs and data of the processes this crate started.
    pub fn run_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(process::RunDir::path)
    }

    /// PIDs of the processes this crate started (etcd, API server).
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(process::ChildGuard::id).collect()
    }

    /// Creates a namespace `<prefix>-<random>`; it is deleted when the guard is dropped.
    pub async fn namespace(&self, prefix: &str) -> Result<TestNamespace> {
        let name = namespace_name(prefix)?;
        let api: Api<Namespace> = Api::all(self.client());
        let ns = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                labels: Some(
                    [(
                        "testkit.cert-manager-rs.io/test".to_string(),
                        "true".to_string(),
                    )]
                    .into(),
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        api.create(&PostParams::default(), &ns).await?;
        Ok(TestNamespace {
            name,
            config: self.config.clone(),
        })
    }

    /// Applies every CustomResourceDefinition in the given YAML/JSON files or directories
    /// (multi-document YAML is fine; other kinds are skipped) with server-side apply, then
    /// waits until all are Established. Returns the CRD names.
    pub async fn install_crds(&self, paths: &[&Path]) -> Result<Vec<String>> {
        let mut crds = Vec::new();
        for path in paths {
            let mut files = Vec::new();
            if path.is_dir() {
                for e in std::fs::read_dir(path)? {
                    let p = e?.path();
                    if matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "json")
                    ) {
                        files.push(p);
                    }
                }
                files.sort();
            } else {
                files.push(path.to_path_buf());
            }
            for f in files {
                crds.extend(read_crds(&f)?);
            }
        }
        let api: Api<CustomResourceDefinition> = Api::all(self.client());
        let pp = PatchParams::apply("testkit").force();
        let mut names = Vec::new();
        for crd in &crds {
            let name = crd
                .metadata
                .name
                .clone()
                .ok_or_else(|| Error::Crd("without metadata.name".into()))?;
            api.patch(&name, &pp, &Patch::Apply(crd)).await?;
            names.push(name);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        for name in &names {
            loop {
                let crd = api.get(name).await?;
                let conds = crd.status.and_then(|s| s.conditions).unwrap_or_default();
                if conds
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(Error::Crd(format!(
                        "{name} not Established after 60s: {conds:?}"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(names)
    }

    /// The audit events written so far (started with `audit: true`; the shared instance
    /// always is). Requests of the server's own loopback client are not logged.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>> {
        let Some(path) = &self.audit_log else {
            return Err(Error::Unsupported("audit log not enabled (Options::audit)"));
        };
        let text = std::fs::read_to_string(path)?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str::<RawAuditEvent>(l)
                    .map(AuditEvent::from)
                    .map_err(|e| Error::Decode {
                        path: path.clone(),
                        message: e.to_string(),
                    })
            })
            .collect()
    }
}

/// One audit log entry (Metadata level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// `ResponseStarted` (watches) or `ResponseComplete`, `Panic`.
    pub stage: String,
    /// `get`, `list`, `watch`, `create`, `patch`, ...
    pub verb: String,
    /// The full request URI with query, e.g. `/api/v1/secrets?watch=1&sendInitialEvents=true&...`.
    pub request_uri: String,
    /// The client's User-Agent.
    pub user_agent: String,
    /// The authenticated user.
    pub user: String,
    /// The HTTP status code, when the response has one.
    pub code: Option<u16>,
    /// When the API server received the request (`requestReceivedTimestamp`, RFC 3339 with
    /// microseconds).
    pub received: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuditEvent {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    verb: String,
    #[serde(default, rename = "requestURI")]
    request_uri: String,
    #[serde(default)]
    user_agent: String,
    #[serde(default)]
    user: RawUser,
    #[serde(default)]
    response_status: Option<RawStatus>,
    #[serde(default)]
    request_received_timestamp: String,
}

#[derive(Deserialize, Default)]
struct RawUser {
    #[serde(default)]
    username: String,
}

#[derive(Deserialize)]
struct RawStatus {
    #[serde(default)]
    code: Option<u16>,
}

impl From<RawAuditEvent> for AuditEvent {
    fn from(r: RawAuditEvent) -> Self {
        AuditEvent {
            stage: r.stage,
            verb: r.verb,
            request_uri: r.request_uri,
            user_agent: r.user_agent,
            user: r.user.username,
            code: r.response_status.and_then(|s| s.code),
            received: r.request_received_timestamp,
        }
    }
}

/// A namespace created for one test; dereferences to its name. Deleted (without waiting
/// for the deletion to finish) when dropped.
pub struct TestNamespace {
    name: String,
    config: kube::Config,
}

impl TestNamespace {
    /// The namespace name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::ops::Deref for TestNamespace {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl AsRef<str> for TestNamespace {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for TestNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for TestNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TestNamespace({})", self.name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let namespaces = ApiResource::erase::<Namespace>(&());
        delete_now(self.config.clone(), vec![(namespaces, name)]);
    }
}

/// Cluster-scoped objects a test created (webhook configurations, CRDs, ...), deleted in
/// reverse order when dropped, without waiting for the deletions to finish.
pub struct ClusterCleanup {
    config: kube::Config,
    objects: Vec<(ApiResource, String)>,
}

impl ClusterCleanup {
    pub fn new(cp: &ControlPlane) -> Self {
        Self {
            config: cp.config().clone(),
            objects: Vec::new(),
        }
    }

    pub fn add(&mut self, resource: ApiResource, name: &str) {
        self.objects.push((resource, name.to_owned()));
    }
}

impl Drop for ClusterCleanup {
    fn drop(&mut self) {
        let mut objects = std::mem::take(&mut self.objects);
        objects.reverse();
        delete_now(self.config.clone(), objects);
    }
}

/// Deletes cluster-scoped `objects` in order. Drop cannot await, and the test's runtime may
/// be shutting down: this deletes from a short-lived thread with its own runtime, each request
/// bounded so a dead server cannot hang the test.
fn delete_now(config: kube::Config, objects: Vec<(ApiResource, String)>) {
    let handle = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let Ok(client) = kube::Client::try_from(config) else {
                return;
            };
            for (resource, name) in &objects {
                let api: Api<DynamicObject> = Api::all_with(client.clone(), resource);
                let _ = tokio::time::timeout(
                    Duration::from_secs(5),
                    api.delete(name, &DeleteParams::default()),
                )
                .await;
            }
        });
    });
    let _ = handle.join();
}

fn existing_kubeconfig() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TESTKIT_KUBECONFIG") {
        return Some(PathBuf::from(p));
    }
    let use_existing = std::env::var("USE_EXISTING_CLUSTER")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false);
    if use_existing {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        return Some(
            std::env::var_os("KUBECONFIG")
                .and_then(|k| std::env::split_paths(&k).next())
                .unwrap_or_else(|| home.join(".kube/config")),
        );
    }
    None
}

pub(crate) async fn load_config(path: &Path) -> Result<kube::Config> {
    let kc = Kubeconfig::read_from(path)?;
    Ok(kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?)
}

fn namespace_name(prefix: &str) -> Result<String> {
    use std::io::Read as _;
    let mut clean: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    clean.truncate(50);
    let clean = clean.trim_matches('-');
    let mut buf = [0u8; 6];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = buf
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    Ok(if clean.is_empty() {
        format!("test-{suffix}")
    } else {
        format!("{clean}-{suffix}")
    })
}

fn read_crds(path: &Path) -> Result<Vec<CustomResourceDefinition>> {
    let text = std::fs::read_to_string(path)?;
    let decode = |e: &dyn fmt::Display| Error::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(doc).map_err(|e| decode(&e))?;
        if value.is_null() {
            continue;
        }
        if value.get("kind").and_then(|k| k.as_str()) != Some("CustomResourceDefinition") {
            continue;
        }
        out.push(serde_yaml::from_value(value).map_err(|e| decode(&e))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names_are_dns_labels() {
        let n = namespace_name("My_Test::case").unwrap();
        assert!(n.starts_with("my-test--case-"), "{n}");
        assert!(n.len() <= 63);
        assert!(namespace_name("").unwrap().starts_with("test-"));
        assert!(namespace_name(&"x".repeat(100)).unwrap().len() <= 63);
    }

    #[test]
    fn audit_event_parses() {
        let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/secrets?limit=2","verb":"list","user":{"username":"envtest-admin"},"userAgent":"kube-rs","responseStatus":{"metadata":{},"code":200}}"#;
        let e: AuditEvent = serde_json::from_str::<RawAuditEvent>(line).unwrap().into();
        assert_eq!(e.verb, "list");
        assert_eq!(e.request_uri, "/api/v1/namespaces/a/secrets?limit=2");
        assert_eq!(e.code, Some(200));
        assert_eq!(e.user, "envtest-admin");
    }
}

//! Running the cert-manager-rs binaries (`controller`, `cainjector`, `webhook`) against a
//! control plane in integration tests, and reading what they did from the outside: their
//! probes and `/metrics`, their log, and the API server's audit log.
//!
//! ```no_run
//! # async fn t() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use testkit::component::{self, Component, ListMode};
//!
//! let cp = testkit::ControlPlane::shared().await?;
//! let metrics = component::free_addr()?;
//! let mut ca = Component::command("cainjector", "/path/to/cainjector")
//!     .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
//!     .arg(format!("--metrics-listen-address={metrics}"))
//!     .start()?; // killed when `ca` is dropped
//! ca.wait_ready(metrics, Duration::from_secs(30)).await?;
//! assert!(component::metrics(metrics).await?.contains("kubeclient_cached_objects"));
//! let secrets = component::CacheRequests::new("/api/v1/secrets");
//! component::eventually("a streaming list", Duration::from_secs(10), async || {
//!     let events = cp.audit_events().map_err(|e| e.to_string())?;
//!     let reqs = secrets.of(&events, &component::user_agent("cainjector"));
//!     component::check_list_mode(&reqs, ListMode::Streaming)
//! })
//! .await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::process::{self, ChildGuard, RunDir};
use crate::{AuditEvent, ControlPlane, Error, Options, Result};

/// How often the `wait_*` helpers look again.
const POLL: Duration = Duration::from_millis(100);
/// Longest a single probe or metrics request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// A private control plane with the audit log on (and `feature_gates` for the API server, e.g.
/// `"WatchList=false"`), so the audit log holds only the requests of one test. `None` with an
/// existing cluster, which has no audit log for us: the caller skips.
pub async fn audited_control_plane(feature_gates: Option<&str>) -> Result<Option<ControlPlane>> {
    match ControlPlane::start(Options {
        feature_gates: feature_gates.map(str::to_owned),
        audit: true,
        ..Options::default()
    })
    .await
    {
        Ok(cp) => Ok(Some(cp)),
        Err(Error::Unsupported(why)) => {
            eprintln!("skipped: {why}");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Creates Secret `namespace/name` with `labels` and `size` bytes of data (0: no data).
pub async fn create_secret(
    client: kube::Client,
    namespace: &str,
    name: &str,
    labels: &[(&str, &str)],
    size: usize,
) -> Result<()> {
    use k8s_openapi::api::core::v1::Secret;
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..Default::default()
        },
        data: (size > 0)
            .then(|| [("blob".to_owned(), k8s_openapi::ByteString(vec![b'x'; size]))].into()),
        ..Default::default()
    };
    kube::Api::<Secret>::namespaced(client, namespace)
        .create(&kube::api::PostParams::default(), &secret)
        .await?;
    Ok(())
}

/// The User-Agent prefix of a component's requests: `cert-manager-rs-<component>/` (the
/// binaries append their version).
pub fn user_agent(component: &str) -> String {
    format!("cert-manager-rs-{component}/")
}

/// A free TCP port on 127.0.0.1 (bound, read and released; another process could take it
/// before it is used, which is unlikely enough for tests).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `127.0.0.1:<free port>`.
pub fn free_addr() -> Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
}

/// A binary to start: [`Component::command`], then arguments and environment, then
/// [`start`](Launch::start).
#[derive(Debug)]
pub struct Launch {
    name: &'static str,
    cmd: Command,
}

impl Launch {
    /// One command line argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    /// Several command line arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// One environment variable (the inherited environment is cleaned, see
    /// [`Component::command`]).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Starts the process, stdout and stderr going to files in a fresh run directory. It is
    /// killed (SIGKILL) when the returned guard is dropped, and by the kernel if the test
    /// process dies first.
    pub fn start(mut self) -> Result<Component> {
        let dir = RunDir::create()?;
        let stdout = dir.path().join(format!("{}.stdout.log", self.name));
        let stderr = dir.path().join(format!("{}.stderr.log", self.name));
        self.cmd
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?);
        let child = process::spawn(self.cmd).map_err(|source| Error::Spawn {
            what: self.name,
            source,
        })?;
        Ok(Component {
            name: self.name,
            stdout,
            stderr,
            status: None,
            child: Some(child),
            _dir: dir,
        })
    }
}

/// A running (or exited) binary under test; killed when dropped. If the test is panicking,
/// the drop prints the end of the binary's stderr, so failures show what it logged.
#[derive(Debug)]
pub struct Component {
    name: &'static str,
    stdout: PathBuf,
    stderr: PathBuf,
    status: Option<ExitStatus>,
    // Field order is drop order: the process before the directory it writes to.
    child: Option<ChildGuard>,
    _dir: RunDir,
}

impl Component {
    /// A command for the binary at `bin` (usually `env!("CARGO_BIN_EXE_<name>")`), called
    /// `name` in errors. The environment is the test's minus what would change the binary's
    /// behaviour or its output behind the test's back: `KUBE_FEATURE_*`, `RUST_LOG`,
    /// `RUST_BACKTRACE`, proxies; `KUBECONFIG` points nowhere, so a binary started without
    /// `--kubeconfig` cannot reach a developer's cluster.
    pub fn command(name: &'static str, bin: impl AsRef<OsStr>) -> Launch {
        let mut cmd = Command::new(bin);
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("KUBE_FEATURE_")
                || k == "RUST_LOG"
                || k == "RUST_BACKTRACE"
                || k == "RUST_LIB_BACKTRACE"
                || k.eq_ignore_ascii_case("https_proxy")
                || k.eq_ignore_ascii_case("http_proxy")
                || k.eq_ignore_ascii_case("all_proxy")
            {
                cmd.env_remove(&key);
            }
        }
        cmd.env("KUBECONFIG", "/nonexistent/testkit/kubeconfig");
        Launch { name, cmd }
    }

    /// The name given to [`Component::command`].
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The process ID.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map(ChildGuard::id).unwrap_or(0)
    }

    /// Everything the process wrote to stderr so far (its log).
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr)
    }

    /// Everything the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout)
    }

    /// The file stderr goes to.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr
    }

    /// The exit status, if the process has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.as_mut().and_then(ChildGuard::exited);
        }
        self.status
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(self.timeout(timeout));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `GET http://<addr>/readyz` answers 200. Fails early, with the end of the
    /// log, if the process exits.
    pub async fn wait_ready(&mut self, addr: SocketAddr, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.fail_if_exited()?;
            if let Ok((200, _)) = http_get(addr, "/readyz").await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.timeout(timeout));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until stderr contains `needle`; returns the whole of stderr.
    pub async fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.stderr();
            if log.contains(needle) {
                return Ok(log);
            }
            self.fail_if_exited()?;
            if Instant::now() > deadline {
                return Err(self.timeout(timeout));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// An error if the process has exited (with its status and the end of its log).
    pub fn fail_if_exited(&mut self) -> Result<()> {
        match self.exit_status() {
            Some(status) => Err(Error::Exited {
                what: self.name,
                status: status.to_string(),
                log: self.stderr.clone(),
                tail: crate::launch::tail(&self.stderr),
            }),
            None => Ok(()),
        }
    }

    fn timeout(&self, timeout: Duration) -> Error {
        Error::Timeout {
            what: self.name,
            timeout,
            log: self.stderr.clone(),
            tail: crate::launch::tail(&self.stderr),
        }
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- {} (pid {}) stderr, {}:\n{}\n---",
                self.name,
                self.id(),
                self.stderr.display(),
                crate::launch::tail(&self.stderr)
            );
        }
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn other(message: impl Into<String>) -> Error {
    Error::Io(std::io::Error::other(message.into()))
}

/// `GET http://<addr><path>` (plain HTTP/1.0, as the probe and metrics listeners serve it);
/// returns the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String)> {
    let request = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    let buf = tokio::time::timeout(HTTP_TIMEOUT, request)
        .await
        .map_err(|_| {
            other(format!(
                "GET http://{addr}{path}: no answer in {HTTP_TIMEOUT:?}"
            ))
        })??;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
        other(format!(
            "GET http://{addr}{path}: malformed response {text:?}"
        ))
    })?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            other(format!(
                "GET http://{addr}{path}: bad status line in {head:?}"
            ))
        })?;
    Ok((code, body.to_owned()))
}

/// The Prometheus text of `GET http://<addr>/metrics` (an error unless it answers 200).
pub async fn metrics(addr: SocketAddr) -> Result<String> {
    match http_get(addr, "/metrics").await? {
        (200, body) => Ok(body),
        (code, body) => Err(other(format!("GET http://{addr}/metrics: {code}: {body}"))),
    }
}

/// One sample of a metric: its labels and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Label name to value.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// The samples of metric `name` in Prometheus text format.
pub fn samples(text: &str, name: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (labels, value) = match rest.strip_prefix('{') {
            Some(r) => match r.rsplit_once('}') {
                Some((labels, value)) => (parse_labels(labels), value),
                None => continue,
            },
            None if rest.starts_with(' ') => (BTreeMap::new(), rest),
            None => continue, // another metric whose name starts with `name`
        };
        if let Some(value) = value.split_whitespace().next().and_then(|v| v.parse().ok()) {
            out.push(Sample { labels, value });
        }
    }
    out
}

/// The sum of the samples of metric `name` whose labels include all of `labels`, from
/// Prometheus text; `None` when there is no such sample.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(text, name)
        .into_iter()
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .reduce(|a, b| a + b)
}

/// `a="x",b="y"` (values with `\"`, `\\` and `\n` escapes) into a map.
fn parse_labels(series: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = series;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.insert(key.trim_start_matches(',').trim().to_owned(), value);
        rest = &after[end..];
    }
    out
}

/// Polls `check` (an async closure) every 100 ms until it returns `Ok` or `timeout` passes; then the error names
/// `what` and carries the last message of `check`.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> std::result::Result<T, String>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(message) if Instant::now() > deadline => {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("{what}: still not the case after {timeout:?}: {message}"),
                )));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// The audit events whose User-Agent starts with `user_agent_prefix` (see [`user_agent`]).
pub fn events_of<'a>(events: &'a [AuditEvent], user_agent_prefix: &str) -> Vec<&'a AuditEvent> {
    events
        .iter()
        .filter(|e| e.user_agent.starts_with(user_agent_prefix))
        .collect()
}

/// One API request as the audit log shows it, with its query decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    /// `list`, `watch`, `get`, `create`, ...
    pub verb: String,
    /// The path without the query, e.g. `/api/v1/namespaces/a/secrets`.
    pub path: String,
    /// The query parameters (the last value of a repeated one).
    pub query: BTreeMap<String, String>,
    /// The response code (200 for a watch that started streaming).
    pub code: Option<u16>,
}

impl ApiRequest {
    /// Decodes the request URI of `event`.
    pub fn from_event(event: &AuditEvent) -> Self {
        let (path, query) = event
            .request_uri
            .split_once('?')
            .unwrap_or((&event.request_uri, ""));
        ApiRequest {
            verb: event.verb.clone(),
            path: path.to_owned(),
            query: form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            code: event.code,
        }
    }

    /// A query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    /// A streaming list: a watch with `sendInitialEvents=true`,
    /// `resourceVersionMatch=NotOlderThan`, `allowWatchBookmarks=true` and no resourceVersion
    /// (a consistent read).
    pub fn is_streaming_list(&self) -> bool {
        self.verb == "watch"
            && self.param("sendInitialEvents") == Some("true")
            && self.param("resourceVersionMatch") == Some("NotOlderThan")
            && self.param("allowWatchBookmarks") == Some("true")
            && self.param("resourceVersion").is_none()
    }

    /// The first page of a paged list: a `limit` (500, or fewer when sized by bytes), no
    /// resourceVersion (a consistent read), no continue token.
    pub fn is_first_page(&self) -> bool {
        // The limit is client-go's 500, or smaller for caches that size pages by bytes.
        self.verb == "list"
            && self.param("limit").is_some()
            && self.param("resourceVersion").is_none()
            && self.param("continue").is_none()
    }

    /// A watch resuming from a resourceVersion (after a list), without `sendInitialEvents`.
    pub fn is_resumed_watch(&self) -> bool {
        self.verb == "watch"
            && self
                .param("resourceVersion")
                .is_some_and(|rv| !rv.is_empty())
            && self.param("sendInitialEvents").is_none()
    }

    fn succeeded(&self) -> bool {
        self.code.is_some_and(|c| (200..300).contains(&c))
    }
}

impl std::fmt::Display for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let query = self
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let code = self.code.map(|c| c.to_string()).unwrap_or("-".into());
        write!(f, "{} {}?{query} -> {code}", self.verb, self.path)
    }
}

/// Which requests belong to one cache: a collection path and exactly these selectors (`None`:
/// the parameter is absent).
#[derive(Clone, Debug, Default)]
pub struct CacheRequests {
    /// e.g. `/api/v1/secrets` or `/api/v1/namespaces/ns/secrets`.
    pub path: String,
    /// e.g. `controller.cert-manager.io/fao=true`.
    pub label_selector: Option<String>,
    /// e.g. `metadata.name=webhook-ca`.
    pub field_selector: Option<String>,
}

impl CacheRequests {
    /// The requests to `path` without selectors.
    pub fn new(path: impl Into<String>) -> Self {
        CacheRequests {
            path: path.into(),
            ..Default::default()
        }
    }

    /// Only requests with this `labelSelector`.
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    /// Only requests with this `fieldSelector`.
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    /// The `list` and `watch` requests of this cache by `user_agent_prefix`, in order. A watch
    /// is logged at `ResponseStarted` and again at `ResponseComplete` (a rejected one too, with
    /// its error code); only the first of the two is kept.
    pub fn of(&self, events: &[AuditEvent], user_agent_prefix: &str) -> Vec<ApiRequest> {
        let mut started: Vec<&str> = Vec::new();
        events_of(events, user_agent_prefix)
            .into_iter()
            .filter(|e| e.verb == "list" || e.verb == "watch")
            .filter(|e| {
                if e.verb != "watch" {
                    return true;
                }
                if e.stage == "ResponseStarted" {
                    started.push(&e.request_uri);
                    return true;
                }
                // The end of a watch logged before, or a watch only logged when it completed.
                match started.iter().position(|uri| *uri == e.request_uri) {
                    Some(i) => {
                        started.swap_remove(i);
                        false
                    }
                    None => true,
                }
            })
            .map(ApiRequest::from_event)
            .filter(|r| {
                r.path == self.path
                    && r.param("labelSelector") == self.label_selector.as_deref()
                    && r.param("fieldSelector") == self.field_selector.as_deref()
            })
            .collect()
    }
}

/// How a cache loads its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListMode {
    /// `WatchListClient` on: one streaming list that carries on as the watch; no `list`.
    Streaming,
    /// `WatchListClient` off: `list?limit=500`, then a watch from the list's resourceVersion;
    /// no streaming attempt.
    Paged,
    /// A streaming list the server rejects (422), then paged as above.
    FallBack,
}

/// Checks that `requests` (of one cache, see [`CacheRequests::of`]) started in `mode`;
/// the error lists the requests.
pub fn check_list_mode(requests: &[ApiRequest], mode: ListMode) -> std::result::Result<(), String> {
    let fail = |why: &str| {
        let shown: Vec<String> = requests.iter().map(|r| format!("  {r}")).collect();
        Err(format!(
            "expected {mode:?}: {why}; requests:\n{}",
            shown.join("\n")
        ))
    };
    let Some(first) = requests.first() else {
        return fail("no request yet");
    };
    let paged_from = match mode {
        ListMode::Streaming => {
            if !(first.is_streaming_list() && first.succeeded()) {
                return fail("the first request is not a successful streaming list");
            }
            if requests.iter().any(|r| r.verb == "list") {
                return fail("there is a list request");
            }
            return Ok(());
        }
        ListMode::Paged => 0,
        ListMode::FallBack => {
            if !(first.is_streaming_list() && first.code == Some(422)) {
                return fail("the first request is not a streaming list rejected with 422");
            }
            1
        }
    };
    let rest = &requests[paged_from..];
    match rest.first() {
        Some(list) if list.is_first_page() && list.succeeded() => {}
        _ => return fail("no successful list?limit=500 without resourceVersion where expected"),
    }
    if rest.iter().any(|r| r.param("sendInitialEvents").is_some()) {
        return fail("a streaming list after the switch to paging");
    }
    if !rest.iter().any(|r| r.is_resumed_watch() && r.succeeded()) {
        return fail("no watch from the list's resourceVersion yet");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(verb: &str, stage: &str, uri: &str, code: u16) -> AuditEvent {
        AuditEvent {
            stage: stage.into(),
            verb: verb.into(),
            request_uri: uri.into(),
            user_agent: "cert-manager-rs-controller/0.1.0".into(),
            user: "admin".into(),
            code: Some(code),
            received: String::new(),
        }
    }

    #[test]
    fn metric_values_by_labels() {
        let text = "# HELP x y\n\
            kubeclient_cached_objects{cache=\"secrets-owned\"} 1\n\
            kubeclient_cached_objects{cache=\"secrets-metadata\"} 7\n\
            kubeclient_cached_objects_more 3\n\
            process_resident_memory_bytes 1.5e7\n\
            odd{a=\"x,\\\"y\",b=\"z\"} 2\n";
        let v = |n, l: &[(&str, &str)]| metric_value(text, n, l);
        assert_eq!(
            v("kubeclient_cached_objects", &[("cache", "secrets-owned")]),
            Some(1.0)
        );
        assert_eq!(v("kubeclient_cached_objects", &[]), Some(8.0));
        assert_eq!(v("kubeclient_cached_objects", &[("cache", "nope")]), None);
        assert_eq!(v("process_resident_memory_bytes", &[]), Some(1.5e7));
        assert_eq!(v("odd", &[("a", "x,\"y"), ("b", "z")]), Some(2.0));
    }

    #[test]
    fn list_modes_from_audit_events() {
        let stream = "/api/v1/secrets?labelSelector=a%3Dtrue&watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=250";
        let list = "/api/v1/secrets?labelSelector=a%3Dtrue&limit=500";
        let watch = "/api/v1/secrets?labelSelector=a%3Dtrue&watch=true&allowWatchBookmarks=true&resourceVersion=42&timeoutSeconds=250";
        let cache = CacheRequests::new("/api/v1/secrets").labels("a=true");
        let ua = user_agent("controller");

        let streaming = [
            event("watch", "ResponseStarted", stream, 200),
            event("watch", "ResponseComplete", stream, 200),
            event("list", "ResponseComplete", "/api/v1/secrets?limit=500", 200),
        ];
        let reqs = cache.of(&streaming, &ua);
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        check_list_mode(&reqs, ListMode::Streaming).unwrap();
        check_list_mode(&reqs, ListMode::Paged).unwrap_err();

        let paged = [
            event("list", "ResponseComplete", list, 200),
            event("watch", "ResponseStarted", watch, 200),
        ];
        check_list_mode(&cache.of(&paged, &ua), ListMode::Paged).unwrap();
        check_list_mode(&cache.of(&paged, &ua), ListMode::Streaming).unwrap_err();
        check_list_mode(&cache.of(&paged[..1], &ua), ListMode::Paged).unwrap_err();

        let fell_back = [
            event("watch", "ResponseStarted", stream, 422),
            event("watch", "ResponseComplete", stream, 422),
            event("list", "ResponseComplete", list, 200),
            event("watch", "ResponseStarted", watch, 200),
        ];
        check_list_mode(&cache.of(&fell_back, &ua), ListMode::FallBack).unwrap();
        check_list_mode(&cache.of(&fell_back[1..], &ua), ListMode::FallBack).unwrap();
        check_list_mode(&cache.of(&fell_back, &ua), ListMode::Paged).unwrap_err();
        assert!(cache.of(&fell_back, "cert-manager-rs-webhook/").is_empty());
    }
}

//! The pieces every test here needs: the real `webhook` binary as a child process (killed on
//! drop), an HTTPS client that trusts a given CA, and a cluster wired like cert-manager's chart
//! (Service + Endpoints to the loopback webhook, Validating- and MutatingWebhookConfiguration
//! with the webhook's CA in `caBundle`).

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::ClusterCleanup;

use anyhow::{Context as _, bail, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Secret, Service};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use testkit::{Backend, ControlPlane, TestNamespace};

/// The webhook name in both configurations, as in cert-manager's chart; the API server quotes it
/// in every denial.
pub const WEBHOOK_NAME: &str = "webhook.cert-manager.io";
/// The Service (and the first of the dynamic serving DNS names), as the chart names it.
pub const SERVICE: &str = "cert-manager-webhook";
/// The dynamic serving CA Secret.
pub const CA_SECRET: &str = "webhook-ca";

/// How long a webhook process may take to become ready (it creates its CA first).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long webhook configuration changes may take to reach the API server's admission plugin.
pub const PROPAGATION: Duration = Duration::from_secs(30);

/// The binary under test: `WEBHOOK_BIN` (e.g. a release build for the benchmark) or the one
/// cargo built for these tests.
pub fn webhook_bin() -> PathBuf {
    std::env::var_os("WEBHOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_webhook")))
}

/// `count` distinct free loopback ports (all bound at once, so they differ, then released).
pub fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

/// A running `webhook` process. Dropping it kills it (and the kernel kills it if the test
/// process dies first: PR_SET_PDEATHSIG).
pub struct WebhookProcess {
    child: Child,
    pub secure_port: u16,
    pub healthz_port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for WebhookProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- webhook (pid {}) log ---\n{}",
                self.child.id(),
                self.log_tail()
            );
        }
    }
}

impl WebhookProcess {
    /// Starts the binary on free loopback ports with `args` added, and waits for `/readyz`.
    pub async fn start(kubeconfig: &Path, args: &[String]) -> anyhow::Result<Self> {
        let ports = free_ports(3)?;
        let (secure_port, healthz_port, metrics_port) = (ports[0], ports[1], ports[2]);
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("webhook.log");
        let out = std::fs::File::create(&log)?;
        let mut cmd = Command::new(webhook_bin());
        cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
            .arg(format!("--secure-port={secure_port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--healthz-port={healthz_port}"))
            .arg(format!("--metrics-listen-address=127.0.0.1:{metrics_port}"))
            .args(args)
            .env_remove("KUBE_FEATURE_WatchListClient")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        // SAFETY: prctl is async-signal-safe. The signal fires when the spawning thread exits;
        // the guard is dropped on that thread (the test's) before it does.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().context("starting the webhook binary")?;
        let mut process = WebhookProcess {
            child,
            secure_port,
            healthz_port,
            log,
            _dir: dir,
        };
        process.wait_ready().await?;
        Ok(process)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "webhook exited ({status}) before ready:\n{}",
                    self.log_tail()
                );
            }
            if self.probe("/readyz").await.is_ok_and(|code| code == 200) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "webhook not ready after {READY_TIMEOUT:?}:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The HTTP status of a GET on the probe port.
    pub async fn probe(&self, path: &str) -> anyhow::Result<u16> {
        let port = self.healthz_port;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || -> anyhow::Result<u16> {
            let mut s = TcpStream::connect_timeout(
                &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                Duration::from_secs(2),
            )?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            let code = out
                .split_whitespace()
                .nth(1)
                .context("empty response")?
                .parse()?;
            Ok(code)
        })
        .await?
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // Fields after the command (which is in parentheses and may contain spaces).
        let rest = stat.rsplit_once(')').context("malformed /proc/pid/stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_millis(ticks * 1000 / hz))
    }

    /// Threads of the process.
    pub fn threads(&self) -> anyhow::Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{}/task", self.pid()))?.count())
    }

    /// Memory figures from /proc/<pid>/status.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc/pid/status"))?;
            Ok(line
                .split_whitespace()
                .nth(1)
                .context("no value")?
                .parse()?)
        };
        Ok(Memory {
            hwm_kib: field("VmHWM:")?,
            rss_kib: field("VmRSS:")?,
            anon_kib: field("RssAnon:")?,
            file_kib: field("RssFile:")?,
        })
    }

    /// The mappings of the process with the most resident memory: (KiB, mapping).
    pub fn largest_mappings(&self, count: usize) -> anyhow::Result<Vec<(u64, String)>> {
        let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", self.pid()))?;
        let mut out = Vec::new();
        let mut current = String::new();
        for line in smaps.lines() {
            if let Some(kib) = line.strip_prefix("Rss:") {
                let kib: u64 = kib.trim().trim_end_matches("kB").trim().parse()?;
                out.push((kib, current.clone()));
            } else if line
                .split_whitespace()
                .next()
                .is_some_and(|f| f.contains('-'))
            {
                current = line.to_owned();
            }
        }
        out.sort_by_key(|m| std::cmp::Reverse(m.0));
        out.truncate(count);
        Ok(out)
    }
}

/// Resident memory of a process, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Peak resident set size (VmHWM).
    pub hwm_kib: u64,
    /// Current resident set size (VmRSS).
    pub rss_kib: u64,
    /// Anonymous (heap, stacks) part of VmRSS.
    pub anon_kib: u64,
    /// File-backed (the binary's and libraries' pages) part of VmRSS.
    pub file_kib: u64,
}

/// The flags of a webhook using the dynamic serving CA in `namespace`, serving `service`.
pub fn dynamic_args(namespace: &str, service: &str) -> Vec<String> {
    vec![
        format!("--dynamic-serving-ca-secret-namespace={namespace}"),
        format!("--dynamic-serving-ca-secret-name={CA_SECRET}"),
        format!(
            "--dynamic-serving-dns-names={service},{service}.{namespace},{service}.{namespace}.svc"
        ),
    ]
}

// ---- HTTPS straight to the webhook ----

fn client_config(ca_pem: &[u8]) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TLS connection to `127.0.0.1:port` verified against `ca_pem` for `server_name`.
pub async fn tls_connect(
    port: u16,
    server_name: &str,
    ca_pem: &[u8],
) -> anyhow::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(client_config(ca_pem)?);
    let name = ServerName::try_from(server_name.to_owned())?;
    let tcp = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
    let tls = tokio::time::timeout(Duration::from_secs(10), connector.connect(name, tcp))
        .await
        .context("TLS handshake timed out")??;
    Ok(tls)
}

/// The leaf certificate (DER) served on `port`, if it verifies against `ca_pem`.
pub async fn served_leaf(port: u16, server_name: &str, ca_pem: &[u8]) -> anyhow::Result<Vec<u8>> {
    let tls = tls_connect(port, server_name, ca_pem).await?;
    let (_, conn) = tls.get_ref();
    let certs = conn.peer_certificates().context("no peer certificates")?;
    Ok(certs.first().context("empty chain")?.to_vec())
}

/// An HTTP/1.1 client on one TLS connection (keep-alive).
pub struct HttpsClient {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    conn: tokio::task::JoinHandle<()>,
}

impl Drop for HttpsClient {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

impl HttpsClient {
    pub async fn connect(port: u16, server_name: &str, ca_pem: &[u8]) -> anyhow::Result<Self> {
        let tls = tls_connect(port, server_name, ca_pem).await?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await?;
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { sender, conn })
    }

    /// POST `body` to `path`; the status and the whole response body.
    pub async fn post(&mut self, path: &str, body: Bytes) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let req = http::Request::post(path)
            .header(http::header::HOST, "cert-manager-webhook")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))?;
        let resp = tokio::time::timeout(Duration::from_secs(30), self.sender.send_request(req))
            .await
            .context("no response within 30s")??;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

// ---- The cluster side ----

/// A client and the namespaces of one test.
pub fn skip_without_local_server(cp: &ControlPlane) -> bool {
    if cp.backend() == Backend::Existing {
        // A remote API server cannot call a webhook on this machine's loopback.
        eprintln!("skipped: existing cluster");
        return true;
    }
    false
}

pub fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds")
}

/// The CA (PEM) the webhook keeps in its Secret, waiting for the Secret to exist.
pub async fn read_ca(client: &kube::Client, namespace: &str) -> anyhow::Result<Vec<u8>> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let secret = secrets.get_opt(CA_SECRET).await?;
        if let Some(ca) = secret.as_ref().and_then(|s| s.data.as_ref()?.get("ca.crt"))
            && pki::ParsedCertificate::from_pem(&ca.0).is_ok()
        {
            return Ok(ca.0.clone());
        }
        ensure!(
            Instant::now() < deadline,
            "no usable {CA_SECRET} Secret in {namespace}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Service `name` (port 443 -> the secure port) and Endpoints 127.0.0.1:<secure port>: the
/// API server resolves the webhook's Service reference through them.
pub async fn create_service(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    secure_port: u16,
) -> anyhow::Result<()> {
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": secure_port}]}
    }))?;
    Api::<Service>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &svc)
        .await?;
    let ep: Endpoints = serde_json::from_value(json!({
        "metadata": {"name": name},
        "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": secure_port, "protocol": "TCP"}]}]
    }))?;
    Api::<Endpoints>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &ep)
        .await?;
    Ok(())
}

/// cert-manager's chart `webhook-validating-webhook.yaml`, with `caBundle` set as the
/// cainjector would. `namespace_selector` replaces the chart's when given.
pub fn validating_config(
    name: &str,
    service_namespace: &str,
    service: &str,
    ca_pem: &[u8],
    namespace_selector: Option<Value>,
) -> anyhow::Result<ValidatingWebhookConfiguration> {
    let selector = namespace_selector.unwrap_or_else(|| {
        json!({"matchExpressions": [{"key": "cert-manager.io/disable-validation", "operator": "NotIn", "values": ["true"]}]})
    });
    Ok(serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {
            "name": name,
            "annotations": {"cert-manager.io/inject-ca-from-secret": format!("{service_namespace}/{CA_SECRET}")},
        },
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "namespaceSelector": selector,
            "rules": [{
                "apiGroups": ["cert-manager.io", "acme.cert-manager.io"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["*/*"],
            }],
            "admissionReviewVersions": ["v1"],
            "matchPolicy": "Equivalent",
            "timeoutSeconds": 30,
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "clientConfig": {
                "service": {"name": service, "namespace": service_namespace, "path": "/validate"},
                "caBundle": ByteString(ca_pem.to_vec()),
            },
        }],
    }))?)
}

/// cert-manager's chart `webhook-mutating-webhook.yaml`, with `caBundle` set.
pub fn mutating_config(
    name: &str,
    service_namespace: &str,
    service: &str,
    ca_pem: &[u8],
) -> anyhow::Result<MutatingWebhookConfiguration> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": name,
            "annotations": {"cert-manager.io/inject-ca-from-secret": format!("{service_namespace}/{CA_SECRET}")},
        },
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "rules": [{
                "apiGroups": ["cert-manager.io"],
                "apiVersions": ["v1"],
                "operations": ["CREATE"],
                "resources": ["certificaterequests"],
            }],
            "admissionReviewVersions": ["v1"],
            "matchPolicy": "Equivalent",
            "timeoutSeconds": 30,
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "clientConfig": {
                "service": {"name": service, "namespace": service_namespace, "path": "/mutate"},
                "caBundle": ByteString(ca_pem.to_vec()),
            },
        }],
    }))?)
}

pub fn resource(group: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural)
}

pub fn vwc_resource() -> ApiResource {
    resource(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    )
}

fn mwc_resource() -> ApiResource {
    resource(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    )
}

/// The API resource of a cert-manager kind, and whether it is namespaced.
pub fn cert_manager_resource(kind: &str) -> anyhow::Result<(ApiResource, bool)> {
    Ok(match kind {
        "Certificate" => (resource("cert-manager.io", kind, "certificates"), true),
        "CertificateRequest" => (
            resource("cert-manager.io", kind, "certificaterequests"),
            true,
        ),
        "Issuer" => (resource("cert-manager.io", kind, "issuers"), true),
        "ClusterIssuer" => (resource("cert-manager.io", kind, "clusterissuers"), false),
        "Order" => (resource("acme.cert-manager.io", kind, "orders"), true),
        "Challenge" => (resource("acme.cert-manager.io", kind, "challenges"), true),
        other => bail!("unexpected kind {other}"),
    })
}

/// Create `object` (a cert-manager kind, namespaced ones into `namespace`).
pub async fn create(
    client: &kube::Client,
    namespace: &str,
    object: &Value,
    dry_run: bool,
) -> Result<DynamicObject, kube::Error> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let (ar, namespaced) = cert_manager_resource(kind).expect("a cert-manager kind");
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client.clone(), namespace, &ar)
    } else {
        Api::all_with(client.clone(), &ar)
    };
    let mut obj: DynamicObject =
        serde_json::from_value(object.clone()).expect("an object with apiVersion, kind, metadata");
    if namespaced {
        obj.metadata.namespace = Some(namespace.to_owned());
    }
    let pp = PostParams {
        dry_run,
        ..Default::default()
    };
    api.create(&pp, &obj).await
}

/// The prefix the API server puts before the webhook's message in a denial.
pub fn denied(message: &str) -> String {
    format!("admission webhook \"{WEBHOOK_NAME}\" denied the request: {message}")
}

/// A Certificate the webhook rejects but the CRD schema accepts: used to see that the API
/// server calls the webhook.
pub fn probe_certificate() -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "webhook-probe"},
        "spec": {"secretName": "probe", "dnsNames": ["probe.example.com"], "issuerRef": {"name": "ca"},
                 "privateKey": {"algorithm": "RSA", "size": 1000}},
    })
}

pub const PROBE_MESSAGE: &str =
    "spec.privateKey.size: Invalid value: 1000: must be between 2048 and 8192 for rsa keyAlgorithm";

/// Waits until a dry-run create of the probe Certificate in `namespace` is denied by the
/// webhook (configurations reach the admission plugin through an informer).
pub async fn wait_webhook_active(client: &kube::Client, namespace: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + PROPAGATION;
    let mut last;
    loop {
        match create(client, namespace, &probe_certificate(), true).await {
            Err(kube::Error::Api(s)) if s.message.contains(&denied(PROBE_MESSAGE)) => {
                return Ok(());
            }
            Err(e) => last = e.to_string(),
            Ok(_) => last = "allowed".into(),
        }
        ensure!(
            Instant::now() < deadline,
            "the webhook never denied the probe Certificate in {namespace}; last: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One webhook process wired into the API server the way the chart does it.
pub struct Deployment {
    // Field order is drop order: configurations go before the process they point at.
    _cleanup: ClusterCleanup,
    pub webhook: WebhookProcess,
    pub ca_pem: Vec<u8>,
    pub client: kube::Client,
    /// The namespace of the webhook (its Service and CA Secret); test objects go here too.
    pub namespace: TestNamespace,
    pub vwc_name: String,
    pub mwc_name: String,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

/// Webhook configurations are cluster-wide: tests sharing one API server (`cargo test`; nextest
/// gives each test its own) take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Deployment {
    /// CRDs, a namespace, the webhook with a dynamic CA, Service + Endpoints and both webhook
    /// configurations; returns once the API server calls the webhook. `None` on an existing
    /// cluster.
    pub async fn start(extra_args: &[&str]) -> anyhow::Result<Option<Self>> {
        Self::start_on(ControlPlane::shared().await?, extra_args).await
    }

    /// As [`Deployment::start`], on a given control plane (which must outlive the deployment).
    pub async fn start_on(cp: &ControlPlane, extra_args: &[&str]) -> anyhow::Result<Option<Self>> {
        let serial = SERIAL.lock().await;
        if skip_without_local_server(cp) {
            return Ok(None);
        }
        let client = cp.client();
        cp.install_crds(&[&crds_dir()]).await?;
        let namespace = cp.namespace("cm-webhook").await?;
        let mut args = dynamic_args(&namespace, SERVICE);
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let webhook = WebhookProcess::start(cp.kubeconfig_path(), &args).await?;
        let ca_pem = read_ca(&client, &namespace).await?;
        create_service(&client, &namespace, SERVICE, webhook.secure_port).await?;

        let mut cleanup = ClusterCleanup::new(cp);
        let name = format!("{namespace}-webhook");
        Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .create(
                &PostParams::default(),
                &validating_config(&name, &namespace, SERVICE, &ca_pem, None)?,
            )
            .await?;
        cleanup.add(vwc_resource(), &name);
        Api::<MutatingWebhookConfiguration>::all(client.clone())
            .create(
                &PostParams::default(),
                &mutating_config(&name, &namespace, SERVICE, &ca_pem)?,
            )
            .await?;
        cleanup.add(mwc_resource(), &name);
        wait_webhook_active(&client, &namespace).await?;
        Ok(Some(Self {
            _cleanup: cleanup,
            webhook,
            ca_pem,
            client,
            namespace,
            vwc_name: name.clone(),
            mwc_name: name,
            _serial: serial,
        }))
    }

    /// The TLS server name the API server uses for the Service.
    pub fn server_name(&self) -> String {
        format!("{SERVICE}.{}.svc", self.namespace)
    }

    /// Sets `caBundle` of both configurations to `ca_pem` (what the cainjector does).
    pub async fn inject_ca(&self, ca_pem: &[u8]) -> anyhow::Result<()> {
        let bundle = ByteString(ca_pem.to_vec());
        let vwcs: Api<ValidatingWebhookConfiguration> = Api::all(self.client.clone());
        let mut vwc = vwcs.get(&self.vwc_name).await?;
        for w in vwc.webhooks.iter_mut().flatten() {
            w.client_config.ca_bundle = Some(bundle.clone());
        }
        vwcs.replace(&self.vwc_name, &PostParams::default(), &vwc)
            .await?;
        let mwcs: Api<MutatingWebhookConfiguration> = Api::all(self.client.clone());
        let mut mwc = mwcs.get(&self.mwc_name).await?;
        for w in mwc.webhooks.iter_mut().flatten() {
            w.client_config.ca_bundle = Some(bundle.clone());
        }
        mwcs.replace(&self.mwc_name, &PostParams::default(), &mwc)
            .await?;
        Ok(())
    }
}

/// Adds labels to a namespace.
pub async fn label_namespace(
    client: &kube::Client,
    name: &str,
    labels: Value,
) -> anyhow::Result<()> {
    Api::<Namespace>::all(client.clone())
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": labels}})),
        )
        .await?;
    Ok(())
}

/// An AdmissionReview as the API server sends it, for `object` (a cert-manager kind).
pub fn admission_review(uid: &str, operation: &str, object: &Value) -> Value {
    let kind = object["kind"].as_str().unwrap_or_default();
    let (ar, _) = cert_manager_resource(kind).expect("a cert-manager kind");
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": ar.group, "version": ar.version, "kind": ar.kind},
            "resource": {"group": ar.group, "version": ar.version, "resource": ar.plural},
            "requestKind": {"group": ar.group, "version": ar.version, "kind": ar.kind},
            "requestResource": {"group": ar.group, "version": ar.version, "resource": ar.plural},
            "name": object["metadata"]["name"],
            "namespace": object["metadata"]["namespace"],
            "operation": operation,
            "userInfo": {"username": "bench", "uid": "bench-uid", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        }
    })
}

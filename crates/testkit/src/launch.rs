//! Starting etcd and an API server: the project's cm-envtest-apiserver, or a real
//! kube-apiserver from `KUBEBUILDER_ASSETS`.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{self, ChildGuard};
use crate::{Error, Options, Result};

const ETCD_TIMEOUT: Duration = Duration::from_secs(30);
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);

/// What a launcher hands back: the processes (server last) and where to find the server.
pub(crate) struct Launched {
    pub(crate) processes: Vec<ChildGuard>,
    pub(crate) kubeconfig: PathBuf,
    pub(crate) audit_log: Option<PathBuf>,
}

/// The folder with `cm-envtest-apiserver` and `etcd`: `$ENVTEST_BIN_DIR`, or the last line
/// printed by `hack/install-envtest.sh` (run once per process; it is fast when up to date).
pub(crate) async fn envtest_bin_dir() -> Result<PathBuf> {
    static DIR: tokio::sync::OnceCell<std::result::Result<PathBuf, String>> =
        tokio::sync::OnceCell::const_new();
    DIR.get_or_init(|| async {
        if let Some(dir) = std::env::var_os("ENVTEST_BIN_DIR") {
            let dir = PathBuf::from(dir);
            return check_bin_dir(&dir, &["cm-envtest-apiserver", "etcd"])
                .map(|_| dir)
                .map_err(|e| format!("ENVTEST_BIN_DIR: {e}"));
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/install-envtest.sh");
        if !script.exists() {
            return Err(format!(
                "{} not found and ENVTEST_BIN_DIR not set",
                script.display()
            ));
        }
        let dir = run_install_script(&script).await?;
        check_bin_dir(&dir, &["cm-envtest-apiserver", "etcd"])
            .map(|_| dir)
            .map_err(|e| format!("{} printed an unusable folder: {e}", script.display()))
    })
    .await
    .clone()
    .map_err(Error::NotInstalled)
}

/// Runs one of the project's `hack/install-*.sh` scripts and returns the last non-empty
/// line it printed (what each prints last: the folder or binary it installed). stderr is
/// inherited so that a first, slow install shows its progress.
pub(crate) async fn run_install_script(script: &Path) -> std::result::Result<PathBuf, String> {
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed ({})", script.display(), output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    Ok(PathBuf::from(last.unwrap_or("").trim()))
}

fn check_bin_dir(dir: &Path, names: &[&str]) -> std::result::Result<(), String> {
    for name in names {
        let p = dir.join(name);
        if !p.is_file() {
            return Err(format!("{} is missing", p.display()));
        }
    }
    Ok(())
}

/// A free loopback port. The listener is closed before the port is used, so a retry loop
/// around the consumer handles the (rare) race with another process.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn log_file(dir: &Path, name: &str) -> Result<(File, File)> {
    let f = File::create(dir.join(name))?;
    Ok((f.try_clone()?, f))
}

/// The last lines of a log file, for error messages.
pub(crate) fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// Removes proxy variables: every test server is on loopback and must be reached directly.
pub(crate) fn no_proxy(cmd: &mut Command) {
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(v);
    }
}

/// Starts etcd on free loopback ports; returns it with its client URL.
pub(crate) async fn start_etcd(etcd: &Path, dir: &Path) -> Result<(ChildGuard, String)> {
    let mut last_err = None;
    for _ in 0..3 {
        let (client, peer) = (free_port()?, free_port()?);
        let data = dir.join("etcd");
        let _ = std::fs::remove_dir_all(&data);
        let (out, err) = log_file(dir, "etcd.log")?;
        let mut cmd = Command::new(etcd);
        cmd.args([
            "--name=default",
            &format!("--data-dir={}", data.display()),
            &format!("--listen-client-urls=http://127.0.0.1:{client}"),
            &format!("--advertise-client-urls=http://127.0.0.1:{client}"),
            &format!("--listen-peer-urls=http://127.0.0.1:{peer}"),
            &format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"),
            &format!("--initial-cluster=default=http://127.0.0.1:{peer}"),
            // Test data is disposable: skip fsync, it dominates write latency.
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        no_proxy(&mut cmd);
        let mut child = process::spawn(cmd).map_err(|source| Error::Spawn {
            what: "etcd",
            source,
        })?;
        match wait_etcd(&mut child, client, &dir.join("etcd.log")).await {
            Ok(()) => return Ok((child, format!("http://127.0.0.1:{client}"))),
            // Most likely a port taken between free_port() and etcd's bind: try new ports.
            Err(e @ Error::Exited { .. }) => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.expect("at least one attempt"))
}

async fn wait_etcd(child: &mut ChildGuard, port: u16, log: &Path) -> Result<()> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.exited() {
            return Err(Error::Exited {
                what: "etcd",
                status: status.to_string(),
                log: log.into(),
                tail: tail(log),
            });
        }
        if etcd_healthy(port) {
            return Ok(());
        }
        if start.elapsed() > ETCD_TIMEOUT {
            return Err(Error::Timeout {
                what: "etcd",
                timeout: ETCD_TIMEOUT,
                log: log.into(),
                tail: tail(log),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET /health with a few lines of blocking HTTP/1.0: no HTTP client dependency needed.
fn etcd_healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.contains("\"health\":\"true\"")
}

/// Waits until `path` exists, failing early if `child` exits.
async fn wait_for_file(
    child: &mut ChildGuard,
    what: &'static str,
    path: &Path,
    log: &Path,
) -> Result<()> {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.exited() {
            return Err(Error::Exited {
                what,
                status: status.to_string(),
                log: log.into(),
                tail: tail(log),
            });
        }
        if start.elapsed() > SERVER_TIMEOUT {
            return Err(Error::Timeout {
                what,
                timeout: SERVER_TIMEOUT,
                log: log.into(),
                tail: tail(log),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn random_token() -> Result<String> {
    let mut buf = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// etcd + cm-envtest-apiserver. The server picks its port and writes the kubeconfig only
/// once /readyz is OK, so there is no port race and no readiness polling here.
pub(crate) async fn start_envtest(bin: &Path, dir: &Path, opts: &Options) -> Result<Launched> {
    let (etcd, etcd_url) = start_etcd(&bin.join("etcd"), dir).await?;
    let kubeconfig = dir.join("kubeconfig");
    let audit_log = opts.audit.then(|| dir.join("audit.log"));
    let log = dir.join("apiserver.log");
    let (out, err) = log_file(dir, "apiserver.log")?;
    let mut cmd = Command::new(bin.join("cm-envtest-apiserver"));
    cmd.arg(format!("--etcd-servers={etcd_url}"))
        .arg("--secure-port=0")
        .arg(format!("--token={}", random_token()?))
        .arg(format!("--kubeconfig-out={}", kubeconfig.display()))
        .arg(format!("--parent-pid={}", std::process::id()));
    if let Some(a) = &audit_log {
        cmd.arg(format!("--audit-log-path={}", a.display()));
    }
    if let Some(g) = &opts.feature_gates {
        cmd.arg(format!("--feature-gates={g}"));
    }
    cmd.args(&opts.extra_args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    no_proxy(&mut cmd);
    let mut server = process::spawn(cmd).map_err(|source| Error::Spawn {
        what: "cm-envtest-apiserver",
        source,
    })?;
    wait_for_file(&mut server, "cm-envtest-apiserver", &kubeconfig, &log).await?;
    Ok(Launched {
        processes: vec![etcd, server],
        kubeconfig,
        audit_log,
    })
}

/// etcd + a real kube-apiserver (e.g. controller-runtime's envtest assets), configured like
/// cm-envtest-apiserver: loopback only, static system:masters token, AlwaysAllow.
pub(crate) async fn start_kube_apiserver(
    assets: &Path,
    dir: &Path,
    opts: &Options,
) -> Result<Launched> {
    check_bin_dir(assets, &["kube-apiserver", "etcd"])
        .map_err(|e| Error::NotInstalled(format!("KUBEBUILDER_ASSETS: {e}")))?;
    let (etcd, etcd_url) = start_etcd(&assets.join("etcd"), dir).await?;

    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki)?;
    let certs = kube_apiserver_certs()?;
    std::fs::write(pki.join("ca.crt"), &certs.ca_pem)?;
    std::fs::write(pki.join("apiserver.crt"), &certs.cert_pem)?;
    std::fs::write(pki.join("apiserver.key"), &certs.key_pem)?;
    std::fs::write(pki.join("sa.key"), &certs.sa_key_pem)?;
    let token = random_token()?;
    // token,user,uid,"group1,group2"
    std::fs::write(
        pki.join("tokens.csv"),
        format!("{token},envtest-admin,envtest-admin,\"system:masters\"\n"),
    )?;
    let audit_log = opts.audit.then(|| dir.join("audit.log"));
    if audit_log.is_some() {
        std::fs::write(dir.join("audit-policy.yaml"), AUDIT_POLICY)?;
    }

    let mut last_err = None;
    for _ in 0..3 {
        let port = free_port()?;
        let log = dir.join("apiserver.log");
        let (out, err) = log_file(dir, "apiserver.log")?;
        let mut cmd = Command::new(assets.join("kube-apiserver"));
        cmd.args([
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            format!("--tls-cert-file={}", pki.join("apiserver.crt").display()),
            format!(
                "--tls-private-key-file={}",
                pki.join("apiserver.key").display()
            ),
            format!("--token-auth-file={}", pki.join("tokens.csv").display()),
            "--authorization-mode=AlwaysAllow".into(),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!(
                "--service-account-key-file={}",
                pki.join("sa.key").display()
            ),
            format!(
                "--service-account-signing-key-file={}",
                pki.join("sa.key").display()
            ),
            // Without kube-controller-manager nobody creates "default" service accounts.
            "--disable-admission-plugins=ServiceAccount".into(),
            "--allow-privileged=true".into(),
        ]);
        if let Some(a) = &audit_log {
            cmd.arg(format!("--audit-log-path={}", a.display()))
                .arg(format!(
                    "--audit-policy-file={}",
                    dir.join("audit-policy.yaml").display()
                ))
                .arg("--audit-log-format=json")
                .arg("--audit-log-mode=blocking");
        }
        if let Some(g) = &opts.feature_gates {
            cmd.arg(format!("--feature-gates={g}"));
        }
        cmd.args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        no_proxy(&mut cmd);
        let mut server = process::spawn(cmd).map_err(|source| Error::Spawn {
            what: "kube-apiserver",
            source,
        })?;

        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            kubeconfig_yaml(
                &format!("https://127.0.0.1:{port}"),
                &pki.join("ca.crt"),
                &token,
            ),
        )?;
        match wait_ready(&mut server, &kubeconfig, &log).await {
            Ok(()) => {
                return Ok(Launched {
                    processes: vec![etcd, server],
                    kubeconfig,
                    audit_log,
                });
            }
            Err(e @ Error::Exited { .. }) => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.expect("at least one attempt"))
}

async fn wait_ready(server: &mut ChildGuard, kubeconfig: &Path, log: &Path) -> Result<()> {
    let config = crate::load_config(kubeconfig).await?;
    let client = kube::Client::try_from(config)?;
    let start = Instant::now();
    loop {
        if let Some(status) = server.exited() {
            return Err(Error::Exited {
                what: "kube-apiserver",
                status: status.to_string(),
                log: log.into(),
                tail: tail(log),
            });
        }
        let req = http::Request::get("/readyz")
            .body(Vec::new())
            .expect("static request");
        if client.request_text(req).await.is_ok() {
            return Ok(());
        }
        if start.elapsed() > SERVER_TIMEOUT {
            return Err(Error::Timeout {
                what: "kube-apiserver",
                timeout: SERVER_TIMEOUT,
                log: log.into(),
                tail: tail(log),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn kubeconfig_yaml(server: &str, ca_file: &Path, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: testkit\n  cluster:\n    server: {server}\n    certificate-authority: {}\n\
         users:\n- name: testkit\n  user:\n    token: {token}\ncontexts:\n- name: testkit\n  context:\n    cluster: testkit\n    user: testkit\n    namespace: default\n\
         current-context: testkit\n",
        ca_file.display()
    )
}

const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [\"system:apiserver\"]
- level: Metadata
";

struct KubeApiserverCerts {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    sa_key_pem: String,
}

fn kube_apiserver_certs() -> Result<KubeApiserverCerts> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let cert_err = |e: rcgen::Error| Error::Certificate(e.to_string());
    let ca_key = KeyPair::generate().map_err(cert_err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    ca.distinguished_name.push(DnType::CommonName, "testkit-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(cert_err)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(cert_err)?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
    ])
    .map_err(cert_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let cert = params.signed_by(&key, &issuer).map_err(cert_err)?;
    let sa_key = KeyPair::generate().map_err(cert_err)?;
    Ok(KubeApiserverCerts {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        sa_key_pem: sa_key.serialize_pem(),
    })
}

//! Pebble, Let's Encrypt's ACME test server, with `pebble-challtestsrv` as its DNS server, on
//! free loopback ports, for ACME integration tests.
//!
//! ```no_run
//! # async fn t() -> Result<(), testkit::Error> {
//! use testkit::pebble::{Pebble, PebbleOptions};
//! let pebble = Pebble::start(PebbleOptions::default()).await?;
//! // ACME client: pebble.directory_url(), trusting only pebble.ca_pem().
//! // HTTP-01: serve the key authorization on 127.0.0.1:<pebble.http01_port()>.
//! // DNS-01: pebble.challtestsrv().unwrap().set_txt("_acme-challenge.a.test", "...").await?;
//! # Ok(()) }
//! ```
//!
//! * Binaries: `$PEBBLE` and `$PEBBLE_CHALLTESTSRV`, else `pebble` and `pebble-challtestsrv`
//!   on `PATH` (Debian package `pebble`, 2.4; `hack/install-acme-tools.sh` installs it).
//! * The HTTPS listener gets a fresh CA and certificate (for `localhost`, `127.0.0.1`, `::1`)
//!   per instance: [`Pebble::ca_pem`]. The CA that *issues* ACME certificates is a different
//!   one, random per Pebble start: [`Pebble::issuer_roots_pem`].
//! * Pebble's validation authority resolves names through challtestsrv, whose default answer
//!   for every A query is 127.0.0.1 (no AAAA), and connects for HTTP-01 to
//!   `127.0.0.1:`[`http01_port`](Pebble::http01_port). With
//!   [`dns_server`](PebbleOptions::dns_server) it asks that server instead (e.g. bind9 for
//!   RFC2136 tests) and challtestsrv is not started.
//! * `PEBBLE_VA_NOSLEEP=1` always (no random 0-15 s validation delay).
//! * Every process is killed when the [`Pebble`] is dropped (and with the test process).

use std::fs::{File, OpenOptions};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::process::{self, ChildGuard, RunDir};
use crate::{Error, Result};

const START_TIMEOUT: Duration = Duration::from_secs(30);
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// How to run Pebble.
#[derive(Clone, Debug, Default)]
pub struct PebbleOptions {
    /// `externalAccountBindingRequired`: newAccount needs an External Account Binding.
    pub eab_required: bool,
    /// `externalAccountMACKeys`: key ID to base64url MAC key.
    pub eab_keys: Vec<(String, String)>,
    /// `PEBBLE_WFE_NONCEREJECT`: percentage of valid nonces rejected as `badNonce`. `None`
    /// keeps Pebble's default (5%), which exercises a client's retries all the time.
    pub nonce_reject_percent: Option<u8>,
    /// `PEBBLE_VA_ALWAYS_VALID=1`: every challenge passes without validation.
    pub always_valid: bool,
    /// `PEBBLE_AUTHZREUSE`: percentage of valid authorizations reused for new orders
    /// (Pebble's default is 50).
    pub authz_reuse_percent: Option<u8>,
    /// `PEBBLE_ALTERNATE_ROOTS`: number of alternate issuance chains (`Link: rel="alternate"`).
    pub alternate_roots: Option<u8>,
    /// `PEBBLE_CHAIN_LENGTH`: certificates in each chain, root included (default 2).
    pub chain_length: Option<u8>,
    /// Use this DNS server (UDP and TCP) instead of starting challtestsrv.
    pub dns_server: Option<SocketAddr>,
    /// Let challtestsrv answer HTTP-01 on the HTTP-01 port itself
    /// ([`ChallTestSrv::add_http01`]); then a test must not listen there.
    pub challtestsrv_http01: bool,
    /// Further environment variables for pebble.
    pub env: Vec<(String, String)>,
}

/// The loopback ports of one instance; kept across [`Pebble::restart`].
#[derive(Clone, Copy, Debug)]
struct Ports {
    acme: u16,
    management: u16,
    http01: u16,
    tls_alpn01: u16,
    /// challtestsrv's DNS (UDP + TCP) and management ports, when it runs.
    dns: Option<(u16, u16)>,
}

/// A running Pebble (and challtestsrv). Killed on drop.
pub struct Pebble {
    opts: PebbleOptions,
    bins: Binaries,
    ports: Ports,
    ca_pem: String,
    ca_der: Vec<u8>,
    config: PathBuf,
    // Field order is drop order: processes before the directory they write to.
    pebble: Option<ChildGuard>,
    challtestsrv: Option<ChildGuard>,
    dir: RunDir,
}

impl std::fmt::Debug for Pebble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pebble")
            .field("directory_url", &self.directory_url())
            .field("ports", &self.ports)
            .field("pids", &self.pids())
            .field("dir", &self.dir.path())
            .finish()
    }
}

#[derive(Clone, Debug)]
struct Binaries {
    pebble: PathBuf,
    challtestsrv: PathBuf,
}

impl Pebble {
    /// Starts Pebble (and challtestsrv unless [`PebbleOptions::dns_server`] is set) and waits
    /// until `GET /dir` answers over TLS.
    pub async fn start(opts: PebbleOptions) -> Result<Pebble> {
        let bins = Binaries {
            pebble: find_binary("PEBBLE", "pebble")?,
            challtestsrv: find_binary("PEBBLE_CHALLTESTSRV", "pebble-challtestsrv")?,
        };
        let mut dir = RunDir::create()?;
        let (ca_pem, ca_der) = write_listener_certificate(dir.path())?;
        let config = dir.path().join("pebble-config.json");
        let mut last_err = None;
        // A port picked free can be taken before the server binds it: try new ones.
        for _ in 0..3 {
            let ports = Ports::pick(opts.dns_server.is_none())?;
            let mut pebble = Pebble {
                opts: opts.clone(),
                bins: bins.clone(),
                ports,
                ca_pem: ca_pem.clone(),
                ca_der: ca_der.clone(),
                config: config.clone(),
                pebble: None,
                challtestsrv: None,
                dir,
            };
            pebble.write_config()?;
            match pebble.launch().await {
                Ok(()) => return Ok(pebble),
                Err(e @ Error::Exited { .. }) => {
                    last_err = Some(e);
                    pebble.pebble = None;
                    pebble.challtestsrv = None;
                    dir = pebble.dir;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    /// The ACME directory URL, `https://127.0.0.1:<port>/dir`.
    pub fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.ports.acme)
    }

    /// PEM of the CA that signed the HTTPS listener's certificate: what an ACME client must
    /// trust (`caBundle`).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The port Pebble's validation authority connects to for HTTP-01 (`httpPort`); a test's
    /// solver listens on `127.0.0.1` there.
    pub fn http01_port(&self) -> u16 {
        self.ports.http01
    }

    /// The port used for TLS-ALPN-01 (`tlsPort`).
    pub fn tls_alpn01_port(&self) -> u16 {
        self.ports.tls_alpn01
    }

    /// Pebble's management interface (`/roots/0`, `/intermediates/0`, ...), HTTPS with the
    /// same listener certificate.
    pub fn management_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.ports.management)
    }

    /// The DNS server Pebble resolves identifiers with.
    pub fn dns_server(&self) -> SocketAddr {
        match (self.opts.dns_server, self.ports.dns) {
            (Some(addr), _) => addr,
            (None, Some((dns, _))) => SocketAddr::new(LOOPBACK, dns),
            (None, None) => unreachable!("either a DNS server is given or challtestsrv runs"),
        }
    }

    /// challtestsrv's management API, unless a DNS server was given instead.
    pub fn challtestsrv(&self) -> Option<ChallTestSrv> {
        self.ports.dns.map(|(_, management)| ChallTestSrv {
            management: SocketAddr::new(LOOPBACK, management),
            http01: self.opts.challtestsrv_http01,
        })
    }

    /// PIDs of the processes (pebble, then challtestsrv).
    pub fn pids(&self) -> Vec<u32> {
        [&self.pebble, &self.challtestsrv]
            .into_iter()
            .flatten()
            .map(ChildGuard::id)
            .collect()
    }

    /// The folder with the configuration, certificates and logs.
    pub fn run_dir(&self) -> &Path {
        self.dir.path()
    }

    /// PEM of the root that issues ACME certificates in this Pebble run (`/roots/0`); it
    /// changes with every (re)start. Alternate roots are `/roots/1`, ...
    pub async fn issuer_roots_pem(&self) -> Result<String> {
        self.management_get("/roots/0").await
    }

    /// GET on the management interface, e.g. `/intermediates/0`.
    pub async fn management_get(&self, path: &str) -> Result<String> {
        let client = https_client(&self.management_url(), &self.ca_der)?;
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        Ok(client.request_text(request).await?)
    }

    /// Kills Pebble and starts it again on the same ports: it forgets every account, order
    /// and authorization, and issues from a new root. challtestsrv keeps running.
    pub async fn restart(&mut self) -> Result<()> {
        self.pebble = None;
        self.launch_pebble().await
    }

    async fn launch(&mut self) -> Result<()> {
        if let Some((dns, management)) = self.ports.dns {
            self.launch_challtestsrv(dns, management).await?;
        }
        self.launch_pebble().await
    }

    async fn launch_challtestsrv(&mut self, dns: u16, management: u16) -> Result<()> {
        let http01 = if self.opts.challtestsrv_http01 {
            format!("127.0.0.1:{}", self.ports.http01)
        } else {
            String::new()
        };
        let mut cmd = Command::new(&self.bins.challtestsrv);
        // Every listener explicit: the defaults bind all interfaces.
        cmd.args(["-dns01", &format!("127.0.0.1:{dns}")])
            .args(["-http01", &http01])
            .args(["-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{management}")])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""]);
        let log = self.dir.path().join("challtestsrv.log");
        let mut child = spawn(cmd, &log, "pebble-challtestsrv")?;
        let start = Instant::now();
        loop {
            check_running(&mut child, "pebble-challtestsrv", &log)?;
            // The DNS listener starts before the management one.
            if TcpStream::connect((LOOPBACK, management)).is_ok() {
                break;
            }
            check_timeout(start, "pebble-challtestsrv", &log)?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.challtestsrv = Some(child);
        Ok(())
    }

    async fn launch_pebble(&mut self) -> Result<()> {
        let mut cmd = Command::new(&self.bins.pebble);
        cmd.arg("-config")
            .arg(&self.config)
            .args(["-dnsserver", &self.dns_server().to_string()])
            .env("PEBBLE_VA_NOSLEEP", "1");
        let o = &self.opts;
        let vars = [
            ("PEBBLE_WFE_NONCEREJECT", o.nonce_reject_percent),
            ("PEBBLE_AUTHZREUSE", o.authz_reuse_percent),
            ("PEBBLE_ALTERNATE_ROOTS", o.alternate_roots),
            ("PEBBLE_CHAIN_LENGTH", o.chain_length),
        ];
        for (name, value) in vars {
            if let Some(v) = value {
                cmd.env(name, v.to_string());
            }
        }
        if o.always_valid {
            cmd.env("PEBBLE_VA_ALWAYS_VALID", "1");
        }
        cmd.envs(o.env.iter().map(|(k, v)| (k, v)));
        let log = self.dir.path().join("pebble.log");
        let mut child = spawn(cmd, &log, "pebble")?;
        let client = https_client(
            &format!("https://127.0.0.1:{}", self.ports.acme),
            &self.ca_der,
        )?;
        let start = Instant::now();
        loop {
            check_running(&mut child, "pebble", &log)?;
            if TcpStream::connect((LOOPBACK, self.ports.acme)).is_ok() {
                let request = http::Request::get("/dir")
                    .body(Vec::new())
                    .map_err(|e| Error::Io(std::io::Error::other(e)))?;
                if client
                    .request_text(request)
                    .await
                    .is_ok_and(|dir| dir.contains("newAccount"))
                {
                    break;
                }
            }
            check_timeout(start, "pebble", &log)?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.pebble = Some(child);
        Ok(())
    }

    fn write_config(&self) -> Result<()> {
        let dir = self.dir.path();
        let mac_keys: serde_json::Map<String, serde_json::Value> = self
            .opts
            .eab_keys
            .iter()
            .map(|(kid, key)| (kid.clone(), key.clone().into()))
            .collect();
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{}", self.ports.acme),
                "managementListenAddress": format!("127.0.0.1:{}", self.ports.management),
                "certificate": dir.join("cert.pem"),
                "privateKey": dir.join("key.pem"),
                "httpPort": self.ports.http01,
                "tlsPort": self.ports.tls_alpn01,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": self.opts.eab_required,
                "externalAccountMACKeys": mac_keys,
            }
        });
        std::fs::write(
            &self.config,
            serde_json::to_vec_pretty(&config).expect("JSON"),
        )?;
        Ok(())
    }
}

/// challtestsrv's management API (plain HTTP on loopback).
#[derive(Clone, Debug)]
pub struct ChallTestSrv {
    management: SocketAddr,
    http01: bool,
}

impl ChallTestSrv {
    /// Sets the TXT record of `host` (a trailing dot is added if missing), e.g.
    /// `_acme-challenge.a.test` with a DNS-01 value. Replaces earlier values.
    pub async fn set_txt(&self, host: &str, value: &str) -> Result<()> {
        self.post(
            "/set-txt",
            serde_json::json!({"host": fqdn(host), "value": value}),
        )
        .await
    }

    /// Removes the TXT records of `host`.
    pub async fn clear_txt(&self, host: &str) -> Result<()> {
        self.post("/clear-txt", serde_json::json!({"host": fqdn(host)}))
            .await
    }

    /// Answers A queries for `host` with `addresses` (instead of the 127.0.0.1 default).
    pub async fn add_a(&self, host: &str, addresses: &[Ipv4Addr]) -> Result<()> {
        let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        self.post(
            "/add-a",
            serde_json::json!({"host": fqdn(host), "addresses": addresses}),
        )
        .await
    }

    /// Serves `content` for the HTTP-01 `token` (needs
    /// [`PebbleOptions::challtestsrv_http01`]).
    pub async fn add_http01(&self, token: &str, content: &str) -> Result<()> {
        if !self.http01 {
            return Err(Error::Unsupported(
                "challtestsrv serves HTTP-01 only with PebbleOptions::challtestsrv_http01",
            ));
        }
        self.post(
            "/add-http01",
            serde_json::json!({"token": token, "content": content}),
        )
        .await
    }

    /// Stops serving the HTTP-01 `token`.
    pub async fn del_http01(&self, token: &str) -> Result<()> {
        self.post("/del-http01", serde_json::json!({"token": token}))
            .await
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Result<()> {
        let body = body.to_string();
        let mut stream = tokio::net::TcpStream::connect(self.management).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.management,
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
            .await
            .map_err(|_| std::io::Error::other(format!("challtestsrv {path}: no answer")))??;
        let response = String::from_utf8_lossy(&response);
        let status_line = response.lines().next().unwrap_or_default();
        if status_line.split_whitespace().nth(1) != Some("200") {
            return Err(Error::Io(std::io::Error::other(format!(
                "challtestsrv {path}: {status_line}"
            ))));
        }
        Ok(())
    }
}

fn fqdn(host: &str) -> String {
    if host.ends_with('.') {
        host.to_string()
    } else {
        format!("{host}.")
    }
}

impl Ports {
    fn pick(with_challtestsrv: bool) -> Result<Ports> {
        Ok(Ports {
            acme: free_tcp_port()?,
            management: free_tcp_port()?,
            http01: free_tcp_port()?,
            tls_alpn01: free_tcp_port()?,
            dns: if with_challtestsrv {
                Some((free_dns_port()?, free_tcp_port()?))
            } else {
                None
            },
        })
    }
}

/// A free loopback TCP port (closed again before use: the caller retries on a race).
fn free_tcp_port() -> Result<u16> {
    Ok(TcpListener::bind((LOOPBACK, 0))?.local_addr()?.port())
}

/// A port free for both UDP and TCP (DNS listens on both).
fn free_dns_port() -> Result<u16> {
    for _ in 0..50 {
        let udp = UdpSocket::bind((LOOPBACK, 0))?;
        let port = udp.local_addr()?.port();
        if TcpListener::bind((LOOPBACK, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(Error::Io(std::io::Error::other(
        "no loopback port free for both UDP and TCP",
    )))
}

fn find_binary(env: &str, name: &str) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Ok(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    found.ok_or_else(|| Error::Spawn {
        what: "pebble",
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{name} not found on PATH (set ${env}, or run hack/install-acme-tools.sh)"),
        ),
    })
}

/// Writes `cert.pem`/`key.pem` for the HTTPS listener; returns the CA as PEM and DER.
fn write_listener_certificate(dir: &Path) -> Result<(String, Vec<u8>)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let cert_err = |e: rcgen::Error| Error::Certificate(e.to_string());
    let ca_key = KeyPair::generate().map_err(cert_err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    ca.distinguished_name
        .push(DnType::CommonName, "testkit pebble listener CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca.self_signed(&ca_key).map_err(cert_err)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(cert_err)?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .map_err(cert_err)?;
    params.distinguished_name.push(DnType::CommonName, "pebble");
    let cert = params.signed_by(&key, &issuer).map_err(cert_err)?;
    std::fs::write(dir.join("cert.pem"), cert.pem())?;
    std::fs::write(dir.join("key.pem"), key.serialize_pem())?;
    std::fs::write(dir.join("ca.pem"), ca_cert.pem())?;
    Ok((ca_cert.pem(), ca_cert.der().to_vec()))
}

/// An HTTPS client for `url` that trusts only `ca_der` (kube's client: real TLS without a
/// further HTTP client dependency).
fn https_client(url: &str, ca_der: &[u8]) -> Result<kube::Client> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| Error::Io(std::io::Error::other(format!("{url}: {e}"))))?;
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(vec![ca_der.to_vec()]);
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(10));
    Ok(kube::Client::try_from(config)?)
}

fn spawn(mut cmd: Command, log: &Path, what: &'static str) -> Result<ChildGuard> {
    // Append: a restarted Pebble keeps the earlier run's log.
    let out = OpenOptions::new().create(true).append(true).open(log)?;
    let err: File = out.try_clone()?;
    crate::launch::no_proxy(&mut cmd);
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    process::spawn(cmd).map_err(|source| Error::Spawn { what, source })
}

fn check_running(child: &mut ChildGuard, what: &'static str, log: &Path) -> Result<()> {
    match child.exited() {
        Some(status) => Err(Error::Exited {
            what,
            status: status.to_string(),
            log: log.into(),
            tail: crate::launch::tail(log),
        }),
        None => Ok(()),
    }
}

fn check_timeout(start: Instant, what: &'static str, log: &Path) -> Result<()> {
    if start.elapsed() > START_TIMEOUT {
        return Err(Error::Timeout {
            what,
            timeout: START_TIMEOUT,
            log: log.into(),
            tail: crate::launch::tail(log),
        });
    }
    Ok(())
}

//! acmesolver: answers one ACME HTTP-01 challenge. The controller runs it in a solver Pod per
//! challenge with `--listen-port=8089 --domain=<d> --token=<t> --key=<k>`; it replies to
//! `GET /.well-known/acme-challenge/<token>` for host `<domain>` with the key authorization
//! and with 404 to anything else, and stops gracefully on SIGTERM.

mod challenge;
mod server;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Parser;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

use crate::challenge::Challenge;

#[derive(Parser, Debug)]
#[command(
    name = "acmesolver",
    about = "HTTP server used to solve ACME challenges."
)]
struct Args {
    /// the port number to listen on for connections
    #[arg(long = "listen-port", value_name = "int", default_value_t = 8089)]
    listen_port: u16,
    /// the domain name to verify
    #[arg(long, value_name = "string", default_value = "")]
    domain: String,
    /// the challenge token to verify against
    #[arg(long, value_name = "string", default_value = "")]
    token: String,
    /// the challenge key to respond with
    #[arg(long, value_name = "string", default_value = "")]
    key: String,
    /// Test aid: the address to listen on instead of all interfaces (e.g. 127.0.0.1).
    #[arg(long = "listen-host", value_name = "ip", hide = true)]
    listen_host: Option<IpAddr>,
}

impl Args {
    fn challenge(&self) -> anyhow::Result<Challenge> {
        for (flag, value) in [
            ("--domain", &self.domain),
            ("--token", &self.token),
            ("--key", &self.key),
        ] {
            if value.is_empty() {
                bail!("{flag} must be set");
            }
        }
        Ok(Challenge {
            domain: self.domain.clone(),
            token: self.token.clone(),
            key: self.key.clone(),
        })
    }
}

// One thread: the process serves a handful of requests in its lifetime, and every extra
// worker thread is stack memory multiplied by the number of solver Pods.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging();
    let challenge = Arc::new(args.challenge()?);
    // Installed before listening so that a stop request is never missed.
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let listener = bind(args.listen_host, args.listen_port).await?;
    let address = listener
        .local_addr()
        .context("reading the listen address")?;
    tracing::info!(
        %address,
        expected_domain = %challenge.domain,
        expected_token = %challenge.token,
        "starting listener"
    );
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("received SIGTERM"),
            _ = tokio::signal::ctrl_c() => tracing::info!("received SIGINT"),
        }
    };
    server::serve(listener, challenge, shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

/// All interfaces (dual-stack `[::]`, or `0.0.0.0` where IPv6 is unavailable) unless a host
/// is given.
async fn bind(host: Option<IpAddr>, port: u16) -> anyhow::Result<TcpListener> {
    if let Some(host) = host {
        let addr = SocketAddr::new(host, port);
        return TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"));
    }
    match TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)).await {
        Ok(listener) => Ok(listener),
        Err(v6) => TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
            .await
            .with_context(|| format!("listening on port {port} (IPv6: {v6})")),
    }
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

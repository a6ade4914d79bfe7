//! The acmesolver binary as the solver Pod runs it, on a loopback port: the answers to real
//! HTTP/1.1 requests, flag errors and the graceful stop on SIGTERM.

use std::net::SocketAddr;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const DOMAIN: &str = "solver.example.com";
const TOKEN: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
const KEY: &str =
    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
const PATH: &str = "/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

/// A running acmesolver (killed on drop) and its log lines.
struct Solver {
    child: Child,
    addr: SocketAddr,
    logs: mpsc::UnboundedReceiver<String>,
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_acmesolver"));
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    cmd
}

/// Starts the solver on an ephemeral loopback port and waits for its "starting listener"
/// line, which carries the bound address.
async fn start() -> Solver {
    let mut child = command(&[
        "--listen-host=127.0.0.1",
        "--listen-port=0",
        &format!("--domain={DOMAIN}"),
        &format!("--token={TOKEN}"),
        &format!("--key={KEY}"),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("starting acmesolver");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("acmesolver exited before listening");
        if line.contains("starting listener") {
            let addr = line
                .split_whitespace()
                .find_map(|field| field.strip_prefix("address="))
                .expect("address in the listener log line");
            break addr.parse().unwrap();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    let (tx, logs) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    Solver { child, addr, logs }
}

/// One request over a fresh connection; the status code and body.
async fn get(addr: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    parse(&response)
}

fn parse(response: &str) -> (u16, String) {
    let (head, body) = response.split_once("\r\n\r\n").expect("complete response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

async fn terminate(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn answers_only_the_expected_challenge() {
    let solver = start().await;
    let addr = solver.addr;

    assert_eq!(get(addr, DOMAIN, PATH).await, (200, KEY.to_string()));
    assert_eq!(
        get(addr, &format!("{DOMAIN}:80"), PATH).await,
        (200, KEY.to_string())
    );

    let wrong_token = "/.well-known/acme-challenge/not-the-token";
    assert_eq!(get(addr, DOMAIN, wrong_token).await.0, 404);
    assert_eq!(get(addr, "other.example.com", PATH).await.0, 404);
    assert_eq!(get(addr, "127.0.0.1", PATH).await.0, 404);
    for path in [
        "/index.html",
        "/.well-known/acme-challenge/",
        &format!("{PATH}/x"),
    ] {
        assert_eq!(
            get(addr, DOMAIN, path).await,
            (404, "404 page not found\n".into()),
            "{path}"
        );
    }
    assert_eq!(get(addr, DOMAIN, "/healthz").await, (200, String::new()));
}

#[tokio::test]
async fn stops_gracefully_on_sigterm() {
    let mut solver = start().await;
    // An idle keep-alive connection must not hold the process open.
    let mut idle = TcpStream::connect(solver.addr).await.unwrap();
    let request = format!("GET {PATH} HTTP/1.1\r\nHost: {DOMAIN}\r\n\r\n");
    idle.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(first.ends_with(KEY), "{first}");

    terminate(&solver.child).await;
    let status = solver.child.wait().await.unwrap();
    assert!(status.success(), "exit status {status}");
    // The idle connection was closed by the server.
    assert_eq!(idle.read(&mut buf).await.unwrap(), 0);
    let mut logs = Vec::new();
    while let Some(line) = solver.logs.recv().await {
        logs.push(line);
    }
    assert!(
        logs.iter().any(|l| l.contains("received SIGTERM")),
        "{logs:?}"
    );
    assert!(logs.iter().any(|l| l.contains("stopped")), "{logs:?}");
}

#[tokio::test]
async fn missing_or_bad_flags_are_clear_errors() {
    for (args, expected) in [
        (vec!["--domain=a.example", "--key=k"], "--token must be set"),
        (vec!["--listen-port=70000"], "--listen-port"),
    ] {
        let output = command(&args).output().await.unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn help_lists_upstream_flags_only() {
    let output = command(&["--help"]).output().await.unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--listen-port", "--domain", "--token", "--key"] {
        assert!(help.contains(flag), "{help}");
    }
    assert!(help.contains("[default: 8089]"), "{help}");
    assert!(!help.contains("--listen-host"), "{help}");
}

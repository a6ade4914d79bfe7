//! No etcd or API server survives the test process, however it ends.
//!
//! The helpers are `#[ignore]`d tests that this test runs in a child process of the same
//! test binary; they start the shared control plane, record its PIDs and then panic or abort.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::ControlPlane;

const PIDS_FILE: &str = "TESTKIT_HELPER_PIDS_FILE";

async fn record_pids() -> (Vec<u32>, PathBuf) {
    let cp = ControlPlane::shared().await.expect("control plane");
    let pids = cp.pids();
    let dir = cp.run_dir().map(Path::to_path_buf).unwrap_or_default();
    let file = std::env::var(PIDS_FILE).expect("helper run by no_leaks tests");
    let line = pids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    std::fs::write(file, format!("{line}\n{}\n", dir.display())).expect("write pids");
    (pids, dir)
}

#[tokio::test]
#[ignore = "helper for control_plane_dies_with_panicking_test"]
async fn helper_panic() {
    record_pids().await;
    panic!("intentional panic with a running control plane");
}

#[tokio::test]
#[ignore = "helper for control_plane_dies_with_aborted_test"]
async fn helper_abort() {
    record_pids().await;
    std::process::abort();
}

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped by whoever inherited it) counts as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(true),
        Err(_) => false,
    }
}

fn uses_existing_cluster() -> bool {
    std::env::var_os("TESTKIT_KUBECONFIG").is_some()
        || std::env::var_os("USE_EXISTING_CLUSTER").is_some()
}

fn run_helper(name: &str) -> (Vec<u32>, PathBuf) {
    let file = std::env::temp_dir().join(format!("testkit-{name}-{}.pids", std::process::id()));
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PIDS_FILE, &file)
        .output()
        .expect("run helper");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "helper {name} should have failed:\n{log}"
    );
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("helper wrote no pids ({e}):\n{log}"));
    let _ = std::fs::remove_file(&file);
    let mut lines = text.lines();
    let pids: Vec<u32> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    let dir = PathBuf::from(lines.next().unwrap_or(""));
    assert_eq!(pids.len(), 2, "etcd and API server pids: {text}");
    (pids, dir)
}

fn assert_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) {
        assert!(
            Instant::now() < deadline,
            "processes survived the test process: {pids:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn control_plane_dies_with_panicking_test() {
    if uses_existing_cluster() {
        return;
    }
    let (pids, dir) = run_helper("helper_panic");
    assert_gone(&pids);
    // The exit handler also removed the run directory.
    assert!(
        !dir.as_os_str().is_empty() && !dir.exists(),
        "{} left behind",
        dir.display()
    );
}

#[test]
fn control_plane_dies_with_aborted_test() {
    if uses_existing_cluster() {
        return;
    }
    // abort() runs no exit handlers: only PR_SET_PDEATHSIG (and --parent-pid) can help.
    let (pids, _dir) = run_helper("helper_abort");
    assert_gone(&pids);
}

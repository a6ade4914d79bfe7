//! The command line: the gate list in `--help` (golden file) and gate errors.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cainjector");

/// Tests only ever listen on loopback, even if a bad flag were accepted.
const LOOPBACK: &[&str] = &["--metrics-listen-address=127.0.0.1:0"];

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(LOOPBACK)
        .args(args)
        .env_remove("KUBE_FEATURE_WatchListClient")
        .envs(env.iter().copied())
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("binary runs")
}

#[test]
fn help_lists_component_and_client_gates() {
    let out = run(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let section = componentbase::cli::feature_gates_help(&help);
    let golden = include_str!("golden/feature-gates.txt");
    assert_eq!(section, golden, "regenerate with: {BIN} --help");
    assert!(section.contains("WatchListClient=true|false (BETA - default=true)\n"));
}

type Case = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[test]
fn gate_errors_exit_non_zero_with_a_clear_message() {
    // (flags, environment, expected message)
    let cases: [Case; 4] = [
        (
            &["--feature-gates=Nope=true"],
            &[],
            "invalid value for '--feature-gates': unrecognized feature gate: Nope",
        ),
        (
            &["--feature-gates=WatchListClient=maybe"],
            &[],
            "invalid value of WatchListClient=maybe, err: strconv.ParseBool: parsing \"maybe\": invalid syntax",
        ),
        (
            &["--feature-gates=WatchListClient"],
            &[],
            "missing bool value for WatchListClient",
        ),
        (
            &[],
            &[("KUBE_FEATURE_WatchListClient", "maybe")],
            "KUBE_FEATURE_WatchListClient=\"maybe\"",
        ),
    ];
    for (args, env, message) in cases {
        let out = run(args, env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?} {env:?}: {stderr}");
    }
}

//! Checks of a binary's command line shared by the three components' `tests/cli.rs`: the
//! `--feature-gates` help section against a golden file, and the gate error messages.

use std::process::{Command, Output};

/// A binary under test with the flags that keep it on loopback should a bad flag be accepted.
pub struct Cli<'a> {
    pub bin: &'a str,
    pub loopback: &'a [&'a str],
}

impl Cli<'_> {
    /// Run with `args` and `env`, no inherited client gate and no reachable cluster.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(self.bin)
            .args(self.loopback)
            .args(args)
            .env_remove("KUBE_FEATURE_WatchListClient")
            .envs(env.iter().copied())
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .output()
            .expect("binary runs")
    }

    /// `--help` lists exactly the gates of `golden`, `WatchListClient` among them.
    pub fn assert_gate_help(&self, golden: &str) {
        let out = self.run(&["--help"], &[]);
        assert!(out.status.success());
        let help = String::from_utf8(out.stdout).expect("help is UTF-8");
        let section = componentbase::cli::feature_gates_help(&help);
        assert_eq!(section, golden, "regenerate with: {} --help", self.bin);
        assert!(section.contains("WatchListClient=true|false (BETA - default=true)\n"));
    }

    /// Unknown gate, bad value, missing value and a bad `KUBE_FEATURE_` variable each exit 2
    /// with a message naming the problem.
    pub fn assert_gate_errors(&self) {
        type Case = (
            &'static [&'static str],
            &'static [(&'static str, &'static str)],
            &'static str,
        );
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
            let out = self.run(args, env);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
            assert!(stderr.contains(message), "{args:?} {env:?}: {stderr}");
        }
    }
}

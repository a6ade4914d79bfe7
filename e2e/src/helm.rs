//! The official `helm` binary, run as a user would run it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::{Error, Result, repo_root};

/// A `helm` binary bound to one kubeconfig. Helm's own state (repository cache, config) goes
/// to a private temporary folder, so a developer's helm setup neither changes nor influences
/// a run.
pub struct Helm {
    bin: PathBuf,
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
}

impl Helm {
    /// `helm` from `E2E_HELM`, else `$CHART_TOOLS_BIN/helm`, else the folder that
    /// `hack/install-chart-tools.sh` prints (it installs helm into a cache on first use).
    pub fn locate(kubeconfig: &Path) -> Result<Helm> {
        let bin = match (
            std::env::var_os("E2E_HELM"),
            std::env::var_os("CHART_TOOLS_BIN"),
        ) {
            (Some(helm), _) => PathBuf::from(helm),
            (None, Some(dir)) => PathBuf::from(dir).join("helm"),
            (None, None) => install_chart_tools()?.join("helm"),
        };
        if !bin.is_file() {
            return Err(Error::Setup(format!(
                "no helm binary at {} (set E2E_HELM or run hack/install-chart-tools.sh)",
                bin.display()
            )));
        }
        Ok(Helm {
            bin,
            kubeconfig: kubeconfig.to_path_buf(),
            home: tempfile::tempdir()?,
        })
    }

    /// The binary.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// `helm upgrade --install <release> <chart> -n <namespace> --create-namespace -f ...`
    /// plus `extra` flags (e.g. `--wait`); returns helm's stdout.
    pub async fn upgrade_install(
        &self,
        release: &str,
        namespace: &str,
        chart: &Path,
        values: &[PathBuf],
        extra: &[&str],
    ) -> Result<String> {
        let mut args: Vec<String> = vec![
            "upgrade".into(),
            "--install".into(),
            release.into(),
            chart.display().to_string(),
            "--namespace".into(),
            namespace.into(),
            "--create-namespace".into(),
        ];
        for v in values {
            args.push("--values".into());
            args.push(v.display().to_string());
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        self.run(&args).await
    }

    /// `helm get manifest <release> -n <namespace>`: what helm installed.
    pub async fn manifest(&self, release: &str, namespace: &str) -> Result<String> {
        self.run(&[
            "get".into(),
            "manifest".into(),
            release.into(),
            "--namespace".into(),
            namespace.into(),
        ])
        .await
    }

    async fn run(&self, args: &[String]) -> Result<String> {
        let home = self.home.path();
        let out = tokio::process::Command::new(&self.bin)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env_remove("HELM_KUBECONTEXT")
            .env_remove("HELM_NAMESPACE")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await?;
        if !out.status.success() {
            return Err(Error::Helm {
                command: format!("helm {}", args.join(" ")),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Runs `hack/install-chart-tools.sh` and returns the folder it prints last.
fn install_chart_tools() -> Result<PathBuf> {
    let script = repo_root().join("hack").join("install-chart-tools.sh");
    let out = std::process::Command::new(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(dir) if out.status.success() => Ok(PathBuf::from(dir.trim())),
        _ => Err(Error::Setup(format!(
            "{} failed ({})",
            script.display(),
            out.status
        ))),
    }
}

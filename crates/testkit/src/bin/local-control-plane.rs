//! Runs the local control plane outside of tests, for `make run` and manual poking:
//! etcd + the envtest API server on loopback, the project's CRDs installed, a kubeconfig
//! written where asked. Everything stops on Ctrl-C / SIGTERM.

use std::path::PathBuf;

use clap::Parser;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use testkit::{ControlPlane, Options};

#[derive(Parser, Debug)]
#[command(
    about = "Start the local control plane (etcd + API server on 127.0.0.1) until interrupted"
)]
struct Args {
    /// CRD manifests (files or folders) to install.
    #[arg(long = "crds")]
    crds: Vec<PathBuf>,
    /// Where to copy the kubeconfig once the server is ready.
    #[arg(long = "kubeconfig-out")]
    kubeconfig_out: PathBuf,
    /// Namespaces to create (e.g. the one the components keep their Secrets in).
    #[arg(long = "namespace")]
    namespaces: Vec<String>,
    /// API server feature gates, e.g. WatchList=false.
    #[arg(long = "feature-gates")]
    feature_gates: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let cp = ControlPlane::start(Options {
        feature_gates: args.feature_gates.clone(),
        audit: true,
        ..Default::default()
    })
    .await?;
    let crds: Vec<&std::path::Path> = args.crds.iter().map(PathBuf::as_path).collect();
    if !crds.is_empty() {
        let installed = cp.install_crds(&crds).await?;
        eprintln!("installed CRDs: {}", installed.join(", "));
    }
    let namespaces: Api<Namespace> = Api::all(cp.client());
    for name in &args.namespaces {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        namespaces.create(&PostParams::default(), &ns).await?;
    }
    // Written last: its appearance tells scripts that everything above is done.
    let tmp = args.kubeconfig_out.with_extension("tmp");
    std::fs::copy(cp.kubeconfig_path(), &tmp)?;
    std::fs::rename(&tmp, &args.kubeconfig_out)?;
    eprintln!(
        "control plane ready at {}; kubeconfig: {}",
        cp.config().cluster_url,
        args.kubeconfig_out.display()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping the control plane");
    drop(cp);
    Ok(())
}

//! Process plumbing shared by `controller`, `cainjector` and `webhook`, in the spirit of
//! Kubernetes' component-base: the `--feature-gates` flag with the client layer's gates merged
//! in, klog-style logging flags, the health and metrics HTTP server, and shutdown signals.

pub mod cli;
pub mod gates;
pub mod health;
pub mod logging;

/// Resolves on SIGTERM or SIGINT (Kubernetes stops pods with SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on Unix");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

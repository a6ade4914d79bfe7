//! The controllers by the names `--controllers` uses (cert-manager's names), and how each is
//! started.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use crate::context::Context;

/// Starts the controller called `name`; `None` when cert-manager-rs does not implement it yet.
pub fn spawn(name: &str, ctx: Arc<Context>) -> Option<JoinHandle<()>> {
    let run: BoxFuture<'static, ()> = match name {
        _ => return None,
    };
    Some(tokio::spawn(run))
}

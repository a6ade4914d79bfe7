//! The controllers by the names `--controllers` uses (cert-manager's names), and how each is
//! started.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use crate::context::Context;

/// Starts the controller called `name`; `None` when cert-manager-rs does not implement it yet.
pub fn spawn(name: &str, ctx: Arc<Context>) -> Option<JoinHandle<()>> {
    let run: BoxFuture<'static, ()> = match name {
        "issuers" => Box::pin(crate::issuers::controller::run_issuers(ctx)),
        "clusterissuers" => Box::pin(crate::issuers::controller::run_cluster_issuers(ctx)),
        "certificaterequests-approver" => Box::pin(crate::certificaterequests::approver::run(ctx)),
        "certificaterequests-issuer-selfsigned" => {
            Box::pin(crate::certificaterequests::selfsigned::run(ctx))
        }
        "certificaterequests-issuer-ca" => Box::pin(crate::certificaterequests::ca::run(ctx)),
        "certificaterequests-issuer-vault" => Box::pin(crate::certificaterequests::vault::run(ctx)),
        "certificaterequests-issuer-acme" => Box::pin(crate::certificaterequests::acme::run(ctx)),
        "orders" => Box::pin(crate::acme::orders::run(ctx)),
        "challenges" => Box::pin(crate::acme::challenges::run(ctx)),
        "certificates-trigger" => Box::pin(crate::certificates::trigger::run(ctx)),
        "certificates-key-manager" => Box::pin(crate::certificates::keymanager::run(ctx)),
        "certificates-request-manager" => Box::pin(crate::certificates::requestmanager::run(ctx)),
        "certificates-issuing" => Box::pin(crate::certificates::issuing::run(ctx)),
        "certificates-readiness" => Box::pin(crate::certificates::readiness::run(ctx)),
        "certificates-revision-manager" => Box::pin(crate::certificates::revisionmanager::run(ctx)),
        "certificates-metrics" => Box::pin(crate::certificates::metrics::run(ctx)),
        "ingress-shim" => Box::pin(crate::ingressshim::run(ctx)),
        _ => return None,
    };
    Some(tokio::spawn(run))
}

//! `certificates-revision-manager`: for Ready Certificates, deletes the oldest owned
//! CertificateRequests beyond `spec.revisionHistoryLimit` (default 1).

use std::sync::Arc;

use api::ConditionStatus;
use api::certificate::CertificateConditionType;
use kube::api::DeleteParams;
use kube::{Api, ResourceExt};

use super::{spec, status, watch};
use crate::context::Context;
use crate::runtime::Action;

pub const NAME: &str = "certificates-revision-manager";

pub async fn run(ctx: Arc<Context>) {
    watch::certificate_controller(NAME, &ctx)
        .run(ctx.workers(), reconcile)
        .await
}

async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(crt) = watch::certificate(&ctx, &key) else {
        return Ok(Action::done());
    };
    if !status::condition_is(&crt, CertificateConditionType::Ready, ConditionStatus::True) {
        return Ok(Action::done());
    }
    let limit =
        api::defaults::effective_revision_history_limit(crt.spec.revision_history_limit).max(1);
    let mut requests: Vec<_> = spec::owned_requests(ctx.caches.certificate_requests(), &crt)
        .into_iter()
        .filter_map(|cr| spec::revision_of(&cr).map(|r| (r, cr)))
        .collect();
    let excess = requests.len().saturating_sub(limit as usize);
    if excess == 0 {
        return Ok(Action::done());
    }
    requests.sort_by_key(|(r, _)| *r);
    let ns = crt.namespace().unwrap_or_default();
    let api: Api<api::CertificateRequest> = Api::namespaced(ctx.client.clone(), &ns);
    for (revision, cr) in requests.into_iter().take(excess) {
        tracing::info!(request = %format!("{ns}/{}", cr.name_any()), revision, "garbage collecting old CertificateRequest revision");
        match api.delete(&cr.name_any(), &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => anyhow::bail!("deleting CertificateRequest {ns}/{}: {e}", cr.name_any()),
        }
    }
    Ok(Action::done())
}

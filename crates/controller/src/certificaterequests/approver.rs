//! `certificaterequests-approver`: approves every CertificateRequest nobody has decided on yet,
//! whatever its issuer (as cert-manager; deployments with an external approver disable this
//! controller with `--controllers=-certificaterequests-approver`).

use std::sync::Arc;

use api::ConditionStatus;
use api::certificaterequest::CertificateRequestConditionType as T;
use k8s_openapi::jiff::Timestamp;

use super::conditions::{self, is_approved, is_denied, is_final};
use super::sync::write_status;
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::{Action, Controller};

pub const NAME: &str = "certificaterequests-approver";
pub const REASON: &str = "cert-manager.io";
pub const MESSAGE: &str = "Certificate request has been approved by cert-manager.io";

pub async fn run(ctx: Arc<Context>) {
    let store = ctx.caches.certificate_requests().clone();
    Controller::new(NAME, ctx.clone())
        .watch_self(&store)
        .run(ctx.workers(), move |ctx, key| {
            let store = store.clone();
            async move {
                let Some(cr) = store.get(&key) else {
                    return Ok(Action::done());
                };
                if is_approved(&cr) || is_denied(&cr) || is_final(&cr) {
                    return Ok(Action::done());
                }
                let mut approved = (*cr).clone();
                conditions::set(
                    &mut approved,
                    T::Approved,
                    ConditionStatus::True,
                    REASON,
                    MESSAGE,
                    Timestamp::now(),
                );
                write_status(&ctx, NAME, &cr, &approved).await?;
                ctx.recorder(NAME)
                    .publish(cr.as_ref(), EventType::Normal, REASON, MESSAGE);
                Ok(Action::done())
            }
        })
        .await
}

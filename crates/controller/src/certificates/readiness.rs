//! `certificates-readiness`: the `Ready` condition and the validity times of the certificate
//! currently in `spec.secretName`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api::ConditionStatus;
use api::certificate::CertificateConditionType;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::policy::{self, Chain, Input};
use super::{TLS_CRT, status, watch};
use crate::context::Context;
use crate::runtime::Action;

pub const NAME: &str = "certificates-readiness";
pub const READY_REASON: &str = "Ready";
pub const READY_MESSAGE: &str = "Certificate is up to date and has not expired";

pub async fn run(ctx: Arc<Context>) {
    watch::certificate_controller(NAME, &ctx)
        .run(ctx.workers(), reconcile)
        .await
}

async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(crt) = watch::certificate(&ctx, &key) else {
        return Ok(Action::done());
    };
    if crt.metadata.deletion_timestamp.is_some() {
        return Ok(Action::done());
    }
    let secret = watch::issued_secret(&ctx, &crt).await?;
    let current = watch::current_request(&ctx, &crt);
    let now = SystemTime::now();
    let input = Input {
        crt: &crt,
        secret: secret.as_deref(),
        current_request: current.as_deref(),
        now,
        gates: &ctx.gates,
    };
    let (state, reason, message) = match policy::evaluate(&input, Chain::Readiness) {
        None => (
            ConditionStatus::True,
            READY_REASON.to_owned(),
            READY_MESSAGE.to_owned(),
        ),
        Some(v) => (ConditionStatus::False, v.reason.to_owned(), v.message),
    };
    let conditions = status::with_condition(
        &crt,
        CertificateConditionType::Ready,
        state,
        &reason,
        &message,
        status::now(),
    );
    let cert = secret
        .as_ref()
        .and_then(|s| s.data.as_ref()?.get(TLS_CRT).cloned())
        .and_then(|pem| pki::ParsedCertificate::from_pem(&pem.0).ok());
    let time = |t: SystemTime| Time(status::timestamp(t));
    let (not_before, not_after, renewal) = match &cert {
        Some(c) => (
            Some(time(c.not_before)),
            Some(time(c.not_after)),
            policy::renewal_time(&crt, c.not_before, c.not_after).map(time),
        ),
        None => (None, None, None),
    };
    let current_status = crt.status.clone().unwrap_or_default();
    let unchanged = status::conditions_unchanged(&crt, &conditions)
        && current_status.not_before == not_before
        && current_status.not_after == not_after
        && current_status.renewal_time == renewal;
    if !unchanged {
        status::patch(
            &ctx,
            &crt,
            NAME,
            json!({
                "conditions": conditions,
                "notBefore": not_before,
                "notAfter": not_after,
                "renewalTime": renewal,
            }),
        )
        .await?;
    }
    // Come back when the certificate expires, to report it.
    Ok(match cert {
        Some(c) if c.not_after > now => Action::requeue_after(
            c.not_after.duration_since(now).unwrap_or_default() + Duration::from_secs(1),
        ),
        _ => Action::done(),
    })
}

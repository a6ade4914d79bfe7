//! `certificates-trigger`: decides that a Certificate needs (re)issuing and says why with
//! `Issuing=True`; otherwise comes back at the renewal time.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api::certificate::CertificateConditionType;
use api::{Certificate, ConditionStatus};
use kube::ResourceExt;
use serde_json::json;

use super::policy::{self, Chain, Input};
use super::{spec, status, watch};
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::Action;

pub const NAME: &str = "certificates-trigger";

pub async fn run(ctx: Arc<Context>) {
    watch::certificate_controller(NAME, &ctx)
        .run(ctx.workers(), reconcile)
        .await
}

async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(crt) = watch::certificate(&ctx, &key) else {
        return Ok(Action::done());
    };
    if crt.metadata.deletion_timestamp.is_some() || status::is_issuing(&crt) {
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
    if policy::evaluate(&input, Chain::Trigger).is_none() {
        return Ok(requeue_at_renewal(&crt, secret.as_deref(), now));
    }
    // The Secret cache may lag behind the Certificate (issuing writes the Secret, then the
    // status): confirm against the API before starting an issuance.
    let secret = live_secret(&ctx, &crt).await?;
    let input = Input {
        secret: secret.as_ref(),
        ..input
    };
    let Some(v) = policy::evaluate(&input, Chain::Trigger) else {
        return Ok(requeue_at_renewal(&crt, secret.as_ref(), now));
    };
    if v.reason == policy::INCORRECT_CERTIFICATE
        && shares_secret_with_other(&ctx, &crt, secret.as_ref())
    {
        ctx.recorder(NAME).publish(
            &*crt,
            EventType::Warning,
            "SecretInUse",
            format!(
                "Secret {:?} is used by another Certificate; not issuing into it",
                crt.spec.secret_name
            ),
        );
        return Ok(Action::done());
    }
    if let Some(wait) = backoff(&ctx, &crt, now) {
        tracing::info!(certificate = %key, retry_in = ?wait, "not re-issuing yet: backing off after a failed issuance");
        return Ok(Action::requeue_after(wait));
    }
    tracing::info!(certificate = %key, reason = v.reason, "{}", v.message);
    let conditions = status::with_condition(
        &crt,
        CertificateConditionType::Issuing,
        ConditionStatus::True,
        v.reason,
        &v.message,
        status::now(),
    );
    status::patch(&ctx, &crt, NAME, json!({ "conditions": conditions })).await?;
    ctx.recorder(NAME)
        .publish(&*crt, EventType::Normal, "Issuing", v.message);
    Ok(Action::done())
}

async fn live_secret(
    ctx: &Context,
    crt: &Certificate,
) -> anyhow::Result<Option<k8s_openapi::api::core::v1::Secret>> {
    let ns = crt.namespace().unwrap_or_default();
    let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(ctx.client.clone(), &ns);
    api.get_opt(&crt.spec.secret_name)
        .await
        .map_err(|e| anyhow::anyhow!("reading Secret {ns}/{}: {e}", crt.spec.secret_name))
}

/// Time left in the failure backoff, unless the spec changed since the failed request.
fn backoff(ctx: &Context, crt: &Certificate, now: SystemTime) -> Option<Duration> {
    let next = status::next_revision(crt);
    if let Some(cr) = spec::request_for_revision(ctx.caches.certificate_requests(), crt, next) {
        let changed = spec::request_violations(crt, &cr, &ctx.gates)
            .map(|v| !v.is_empty())
            .unwrap_or(true);
        if changed {
            return None;
        }
    }
    let min = ctx
        .config
        .certificate_request_minimum_backoff_duration
        .to_std()
        .unwrap_or(Duration::from_secs(3600));
    let max = ctx
        .config
        .certificate_request_maximum_backoff_duration
        .to_std()
        .unwrap_or(Duration::from_secs(32 * 3600));
    let until = policy::backoff_until(crt, min, max)?;
    until.duration_since(now).ok().filter(|d| !d.is_zero())
}

/// Whether another Certificate names the same Secret and the Secret was issued for it.
fn shares_secret_with_other(
    ctx: &Context,
    crt: &Certificate,
    secret: Option<&k8s_openapi::api::core::v1::Secret>,
) -> bool {
    let Some(owner) = secret.and_then(|s| policy::certificate_name_mismatch(crt, s)) else {
        return false;
    };
    let ns = crt.namespace().unwrap_or_default();
    ctx.caches
        .certificates()
        .get_by_name(Some(&ns), &owner)
        .is_some_and(|other| other.spec.secret_name == crt.spec.secret_name)
}

fn requeue_at_renewal(
    crt: &Certificate,
    secret: Option<&k8s_openapi::api::core::v1::Secret>,
    now: SystemTime,
) -> Action {
    let cert = secret
        .and_then(|s| s.data.as_ref()?.get(super::TLS_CRT).cloned())
        .and_then(|pem| pki::ParsedCertificate::from_pem(&pem.0).ok());
    let Some(cert) = cert else {
        return Action::done();
    };
    match policy::renewal_time(crt, cert.not_before, cert.not_after) {
        // A second late rather than early: the check compares whole seconds.
        Some(at) => Action::requeue_after(
            at.duration_since(now).unwrap_or_default() + Duration::from_secs(1),
        ),
        None => Action::done(),
    }
}

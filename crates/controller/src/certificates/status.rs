//! Certificate conditions and status writes. Every controller writes only the status fields it
//! owns, with a JSON merge patch carrying the cached resourceVersion: a concurrent write by
//! another controller makes it fail with 409, and the reconcile retries on fresh state.

use std::sync::Arc;

use api::certificate::{CertificateCondition, CertificateConditionType};
use api::{Certificate, ConditionStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::{Api, ResourceExt};
use serde_json::Value;

use crate::context::Context;

pub fn condition(crt: &Certificate, ty: CertificateConditionType) -> Option<&CertificateCondition> {
    crt.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.condition_type == ty)
}

pub fn condition_is(
    crt: &Certificate,
    ty: CertificateConditionType,
    status: ConditionStatus,
) -> bool {
    condition(crt, ty).is_some_and(|c| c.status == status)
}

/// The revision the next issuance will have (`status.revision` + 1).
pub fn next_revision(crt: &Certificate) -> i64 {
    crt.status.as_ref().and_then(|s| s.revision).unwrap_or(0) + 1
}

pub fn is_issuing(crt: &Certificate) -> bool {
    condition_is(
        crt,
        CertificateConditionType::Issuing,
        ConditionStatus::True,
    )
}

/// The conditions with `ty` set (or replaced): lastTransitionTime only moves when the status
/// changes, as cert-manager's `SetCertificateCondition`.
pub fn with_condition(
    crt: &Certificate,
    ty: CertificateConditionType,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> Vec<CertificateCondition> {
    let mut conditions = crt
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let previous = conditions.iter().position(|c| c.condition_type == ty);
    let transition = match previous.map(|i| &conditions[i]) {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => None,
    }
    .unwrap_or(Time(now));
    let new = CertificateCondition {
        condition_type: ty,
        status,
        last_transition_time: Some(transition),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        observed_generation: crt.metadata.generation,
    };
    match previous {
        Some(i) => conditions[i] = new,
        None => conditions.push(new),
    }
    conditions
}

/// The conditions without `ty`.
pub fn without_condition(
    crt: &Certificate,
    ty: CertificateConditionType,
) -> Vec<CertificateCondition> {
    crt.status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.condition_type != ty)
        .collect()
}

/// Whether the stored conditions equal `conditions` apart from lastTransitionTime.
pub fn conditions_unchanged(crt: &Certificate, conditions: &[CertificateCondition]) -> bool {
    let current = crt
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    current == conditions
}

/// Merge-patches `status` (an object of status fields, `null` deletes) with optimistic
/// concurrency on the cached resourceVersion.
pub async fn patch(
    ctx: &Arc<Context>,
    crt: &Certificate,
    controller: &str,
    status: Value,
) -> anyhow::Result<()> {
    let ns = crt.namespace().unwrap_or_default();
    let api: Api<Certificate> = Api::namespaced(ctx.client.clone(), &ns);
    crate::context::patch_status(&api, crt, controller, status)
        .await
        .map(|_| ())
        .map_err(|e| {
            anyhow::anyhow!(
                "updating status of Certificate {ns}/{}: {e}",
                crt.name_any()
            )
        })
}

/// `now` as the API's Time.
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// A SystemTime as a Timestamp (whole seconds: the API serialises seconds).
pub fn timestamp(t: std::time::SystemTime) -> Timestamp {
    let secs = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

//! Reading and setting CertificateRequest conditions, as cert-manager's
//! `SetCertificateRequestCondition`: the transition time only moves when the status changes.

use api::CertificateRequest;
use api::ConditionStatus;
use api::certificaterequest::{CertificateRequestCondition, CertificateRequestConditionType as T};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub const REASON_PENDING: &str = "Pending";
pub const REASON_FAILED: &str = "Failed";
pub const REASON_ISSUED: &str = "Issued";
pub const REASON_DENIED: &str = "Denied";

fn has_true(cr: &CertificateRequest, t: &T) -> bool {
    cr.condition(t)
        .is_some_and(|c| c.status == ConditionStatus::True)
}

pub fn is_approved(cr: &CertificateRequest) -> bool {
    has_true(cr, &T::Approved)
}

pub fn is_denied(cr: &CertificateRequest) -> bool {
    has_true(cr, &T::Denied)
}

pub fn has_invalid_request(cr: &CertificateRequest) -> bool {
    has_true(cr, &T::InvalidRequest)
}

/// The reason of the Ready condition (empty when there is none).
pub fn ready_reason(cr: &CertificateRequest) -> &str {
    cr.condition(&T::Ready)
        .and_then(|c| c.reason.as_deref())
        .unwrap_or_default()
}

/// Whether the request reached a final state (issued or failed) and is never worked on again.
pub fn is_final(cr: &CertificateRequest) -> bool {
    matches!(ready_reason(cr), REASON_FAILED | REASON_ISSUED)
}

/// Sets condition `t`, keeping its transition time when the status is unchanged.
pub fn set(
    cr: &mut CertificateRequest,
    t: T,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    let conditions = cr
        .status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new);
    let mut condition = CertificateRequestCondition {
        condition_type: t.clone(),
        status,
        last_transition_time: Some(Time(now)),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
    };
    match conditions.iter_mut().find(|c| c.condition_type == t) {
        Some(existing) => {
            if existing.status == condition.status && existing.last_transition_time.is_some() {
                condition.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = condition;
        }
        None => conditions.push(condition),
    }
}

/// Sets `failureTime` unless already set (the first failure counts).
pub fn set_failure_time(cr: &mut CertificateRequest, now: Timestamp) {
    let status = cr.status.get_or_insert_with(Default::default);
    if status.failure_time.is_none() {
        status.failure_time = Some(Time(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_with_status() {
        let mut cr = CertificateRequest::new("a", Default::default());
        let t0 = Timestamp::from_second(10).unwrap();
        let t1 = Timestamp::from_second(20).unwrap();
        set(
            &mut cr,
            T::Ready,
            ConditionStatus::False,
            REASON_PENDING,
            "x",
            t0,
        );
        set(
            &mut cr,
            T::Ready,
            ConditionStatus::False,
            REASON_PENDING,
            "y",
            t1,
        );
        let c = cr.condition(&T::Ready).unwrap();
        assert_eq!(c.last_transition_time, Some(Time(t0)));
        assert_eq!(c.message.as_deref(), Some("y"));
        set(
            &mut cr,
            T::Ready,
            ConditionStatus::True,
            REASON_ISSUED,
            "z",
            t1,
        );
        assert_eq!(
            cr.condition(&T::Ready).unwrap().last_transition_time,
            Some(Time(t1))
        );
        assert!(is_final(&cr));
        assert_eq!(
            cr.status
                .as_ref()
                .unwrap()
                .conditions
                .as_ref()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn approval_state() {
        let mut cr = CertificateRequest::new("a", Default::default());
        assert!(!is_approved(&cr) && !is_denied(&cr) && !is_final(&cr));
        set(
            &mut cr,
            T::Denied,
            ConditionStatus::True,
            "r",
            "m",
            Timestamp::now(),
        );
        assert!(is_denied(&cr));
        set_failure_time(&mut cr, Timestamp::from_second(5).unwrap());
        set_failure_time(&mut cr, Timestamp::from_second(9).unwrap());
        assert_eq!(
            cr.status.unwrap().failure_time,
            Some(Time(Timestamp::from_second(5).unwrap()))
        );
    }
}

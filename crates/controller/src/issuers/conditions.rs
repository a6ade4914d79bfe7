//! The issuer Ready condition, set as cert-manager's `SetIssuerCondition` does: the transition
//! time only moves when the status changes.

use api::ConditionStatus;
use api::issuer::{IssuerCondition, IssuerConditionType};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// What an issuer's `Setup` concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub status: ConditionStatus,
    pub reason: &'static str,
    pub message: String,
}

/// `conditions` with the Ready condition replaced by `readiness` (other types kept in place).
pub fn with_ready(
    conditions: &[IssuerCondition],
    readiness: &Readiness,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<IssuerCondition> {
    let previous = conditions
        .iter()
        .find(|c| c.condition_type == IssuerConditionType::Ready);
    let last_transition_time = match previous {
        Some(p) if p.status == readiness.status && p.last_transition_time.is_some() => {
            p.last_transition_time.clone()
        }
        _ => Some(Time(now)),
    };
    let ready = IssuerCondition {
        condition_type: IssuerConditionType::Ready,
        status: readiness.status.clone(),
        last_transition_time,
        reason: Some(readiness.reason.to_owned()),
        message: Some(readiness.message.clone()),
        observed_generation: generation,
    };
    let mut out: Vec<IssuerCondition> = Vec::with_capacity(conditions.len().max(1));
    let mut replaced = false;
    for c in conditions {
        if c.condition_type == IssuerConditionType::Ready {
            if !replaced {
                out.push(ready.clone());
                replaced = true;
            }
        } else {
            out.push(c.clone());
        }
    }
    if !replaced {
        out.push(ready);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readiness(status: ConditionStatus, reason: &'static str) -> Readiness {
        Readiness {
            status,
            reason,
            message: "m".into(),
        }
    }

    #[test]
    fn keeps_transition_time_while_status_is_unchanged() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let t1 = Timestamp::from_second(2_000).unwrap();
        let first = with_ready(&[], &readiness(ConditionStatus::True, "A"), Some(1), t0);
        let second = with_ready(&first, &readiness(ConditionStatus::True, "B"), Some(2), t1);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].last_transition_time, Some(Time(t0)));
        assert_eq!(second[0].reason.as_deref(), Some("B"));
        assert_eq!(second[0].observed_generation, Some(2));
        let third = with_ready(
            &second,
            &readiness(ConditionStatus::False, "C"),
            Some(2),
            t1,
        );
        assert_eq!(third[0].last_transition_time, Some(Time(t1)));
    }
}

//! Which Challenges to start (cert-manager's challenge scheduler): at most
//! `--max-concurrent-challenges` are processing at once, never two for the same identifier
//! and type (their TXT records or solver routes would collide), oldest first.

use std::cmp::Ordering;
use std::sync::Arc;

use api::Challenge;

use super::is_final_state;

/// How many Challenges one scheduling round starts at most.
pub const MAX_PER_ROUND: usize = 20;

fn processing(ch: &Challenge) -> bool {
    ch.status.as_ref().is_some_and(|s| s.processing)
}

fn same_identifier(a: &Challenge, b: &Challenge) -> Ordering {
    a.spec.dns_name.cmp(&b.spec.dns_name).then_with(|| {
        a.spec
            .challenge_type
            .as_str()
            .cmp(b.spec.challenge_type.as_str())
    })
}

fn created(ch: &Challenge) -> Option<k8s_openapi::jiff::Timestamp> {
    ch.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// The Challenges to mark as processing now, out of `all`.
pub fn schedule(all: &[Arc<Challenge>], max_concurrent: usize, n: usize) -> Vec<Arc<Challenge>> {
    let in_progress: Vec<&Arc<Challenge>> = all.iter().filter(|c| processing(c)).collect();
    if in_progress.len() >= max_concurrent {
        return Vec::new();
    }
    let mut candidates: Vec<Arc<Challenge>> = all
        .iter()
        .filter(|c| {
            !processing(c) && !is_final_state(c.status.as_ref().and_then(|s| s.state.as_ref()))
        })
        .filter(|c| c.metadata.deletion_timestamp.is_none())
        .cloned()
        .collect();
    // One per identifier and type: the oldest.
    candidates.sort_by(|a, b| same_identifier(a, b).then_with(|| created(a).cmp(&created(b))));
    candidates.dedup_by(|later, first| same_identifier(later, first) == Ordering::Equal);
    candidates.retain(|c| {
        !in_progress
            .iter()
            .any(|p| same_identifier(c, p) == Ordering::Equal)
    });
    candidates.sort_by_key(|c| created(c));
    candidates.truncate(n.min(max_concurrent - in_progress.len()));
    candidates
}

#[cfg(test)]
mod tests {
    use api::challenge::AcmeChallengeType;
    use api::order::State;

    use super::*;

    fn ch(
        name: &str,
        domain: &str,
        created_s: i64,
        processing: bool,
        state: Option<State>,
    ) -> Arc<Challenge> {
        let mut c: Challenge = serde_json::from_value(serde_json::json!({
            "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
            "metadata": {"name": name, "namespace": "ns",
                "creationTimestamp": k8s_openapi::jiff::Timestamp::from_second(created_s).unwrap().to_string()},
            "spec": {"dnsName": domain, "type": "DNS-01"},
        }))
        .unwrap();
        c.spec.challenge_type = AcmeChallengeType::Dns01;
        let status = c.status.get_or_insert_with(Default::default);
        status.processing = processing;
        status.state = state;
        Arc::new(c)
    }

    fn names(v: &[Arc<Challenge>]) -> Vec<String> {
        v.iter().map(|c| c.metadata.name.clone().unwrap()).collect()
    }

    #[test]
    fn respects_the_limit_and_orders_by_age() {
        let all = [
            ch("c", "c.test", 3, false, None),
            ch("a", "a.test", 1, false, None),
            ch("b", "b.test", 2, false, None),
        ];
        assert_eq!(names(&schedule(&all, 2, 20)), ["a", "b"]);
        assert_eq!(names(&schedule(&all, 60, 1)), ["a"]);
        let busy = [
            ch("p", "p.test", 0, true, None),
            ch("a", "a.test", 1, false, None),
        ];
        assert!(schedule(&busy, 1, 20).is_empty());
    }

    #[test]
    fn one_challenge_per_identifier_and_type() {
        let all = [
            ch("old", "a.test", 1, false, None),
            ch("new", "a.test", 2, false, None),
            ch("other", "b.test", 3, true, None),
            ch("blocked", "b.test", 0, false, None),
        ];
        assert_eq!(names(&schedule(&all, 60, 20)), ["old"]);
    }

    #[test]
    fn final_challenges_are_not_scheduled() {
        let all = [
            ch("done", "a.test", 1, false, Some(State::Valid)),
            ch("failed", "b.test", 1, false, Some(State::Invalid)),
            ch("pending", "c.test", 1, false, Some(State::Pending)),
        ];
        assert_eq!(names(&schedule(&all, 60, 20)), ["pending"]);
    }
}

//! Choosing the solver for an authorization (cert-manager's `solverpicker.Pick`): among the
//! issuer's solvers whose type the server offers, those whose selector matches the Order's
//! labels and the identifier; a `dnsNames` match beats a `dnsZones` match, a longer zone
//! beats a shorter one, more matching labels break ties, and the earlier solver wins the
//! rest. A solver without a selector is the fallback.

use std::collections::BTreeMap;

use api::acme::{AcmeChallengeSolver, CertificateDnsNameSelector};
use api::order::AcmeChallenge;

/// The chosen solver and the server's challenge it solves.
pub fn pick<'a>(
    domain: &str,
    challenges: &'a [AcmeChallenge],
    solvers: &[AcmeChallengeSolver],
    labels: &BTreeMap<String, String>,
) -> Option<(AcmeChallengeSolver, &'a AcmeChallenge)> {
    let challenge_for = |s: &AcmeChallengeSolver| {
        challenges.iter().find(|c| {
            (c.challenge_type == "http-01" && s.http01.is_some())
                || (c.challenge_type == "dns-01" && s.dns01.is_some())
        })
    };
    // (solver, challenge, labels, dnsNames, dnsZones) of the current choice.
    let mut chosen: Option<(&AcmeChallengeSolver, &AcmeChallenge, usize, usize, usize)> = None;
    for solver in solvers {
        let Some(challenge) = challenge_for(solver) else {
            continue;
        };
        let Some(selector) = &solver.selector else {
            if chosen.is_none() {
                chosen = Some((solver, challenge, 0, 0, 0));
            }
            continue;
        };
        let Some((labels_n, names_n, zones_n)) = matches(selector, labels, domain) else {
            continue;
        };
        let Some((_, _, c_labels, c_names, c_zones)) = chosen else {
            chosen = Some((solver, challenge, labels_n, names_n, zones_n));
            continue;
        };
        let better = match (c_names > 0, names_n > 0) {
            (false, true) => true,
            (true, false) => false,
            (true, true) => zones_n > c_zones || (zones_n == c_zones && labels_n > c_labels),
            (false, false) => match (c_zones > 0, zones_n > 0) {
                (false, true) => true,
                (true, false) => false,
                (true, true) => zones_n > c_zones || (zones_n == c_zones && labels_n > c_labels),
                (false, false) => labels_n > c_labels,
            },
        };
        if better {
            chosen = Some((solver, challenge, labels_n, names_n, zones_n));
        }
    }
    chosen.map(|(s, c, ..)| (s.clone(), c))
}

/// Whether `selector` matches, with the number of matching labels, dnsNames (0 or 1) and
/// zone labels.
fn matches(
    selector: &CertificateDnsNameSelector,
    labels: &BTreeMap<String, String>,
    domain: &str,
) -> Option<(usize, usize, usize)> {
    let required = selector.match_labels.as_ref().filter(|l| !l.is_empty());
    let labels_n = match required {
        None => 0,
        Some(required) => {
            if !required.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                return None;
            }
            required.len()
        }
    };
    let names_n = match selector.dns_names.as_ref().filter(|n| !n.is_empty()) {
        None => 0,
        Some(names) if names.iter().any(|n| n == domain) => 1,
        Some(_) => return None,
    };
    let zones_n = match selector.dns_zones.as_ref().filter(|z| !z.is_empty()) {
        None => 0,
        Some(zones) => {
            let best = zones
                .iter()
                .filter_map(|z| {
                    let n = count_labels(z);
                    (common_suffix_labels(z, domain) == n).then_some(n)
                })
                .max()
                .unwrap_or(0);
            if best == 0 {
                return None;
            }
            best
        }
    };
    Some((labels_n, names_n, zones_n))
}

fn labels_of(name: &str) -> impl DoubleEndedIterator<Item = &str> {
    name.trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
}

fn count_labels(name: &str) -> usize {
    labels_of(name).count()
}

/// How many labels, from the right, two names share (case-insensitive).
fn common_suffix_labels(a: &str, b: &str) -> usize {
    labels_of(a)
        .rev()
        .zip(labels_of(b).rev())
        .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
        .count()
}

#[cfg(test)]
mod tests {
    use api::acme::{AcmeChallengeSolverDns01, AcmeChallengeSolverHttp01};

    use super::*;

    fn challenges() -> Vec<AcmeChallenge> {
        ["http-01", "dns-01", "tls-alpn-01"]
            .iter()
            .map(|t| AcmeChallenge {
                url: format!("https://ca/{t}"),
                token: "tok".into(),
                challenge_type: (*t).into(),
            })
            .collect()
    }

    fn solver(dns: bool, selector: Option<CertificateDnsNameSelector>) -> AcmeChallengeSolver {
        AcmeChallengeSolver {
            selector,
            http01: (!dns).then(AcmeChallengeSolverHttp01::default),
            dns01: dns.then(AcmeChallengeSolverDns01::default),
            wait_instead_of_self_check: None,
        }
    }

    fn sel(
        names: &[&str],
        zones: &[&str],
        labels: &[(&str, &str)],
    ) -> Option<CertificateDnsNameSelector> {
        let v = |x: &[&str]| {
            Some(x.iter().map(|s| s.to_string()).collect::<Vec<_>>()).filter(|v| !v.is_empty())
        };
        Some(CertificateDnsNameSelector {
            match_labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
            .filter(|m: &BTreeMap<_, _>| !m.is_empty()),
            dns_names: v(names),
            dns_zones: v(zones),
        })
    }

    fn picked(
        domain: &str,
        solvers: &[AcmeChallengeSolver],
        labels: &[(&str, &str)],
    ) -> Option<usize> {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let chs = challenges();
        let (s, _) = pick(domain, &chs, solvers, &labels)?;
        solvers.iter().position(|x| *x == s)
    }

    #[test]
    fn default_solver_is_the_first_without_selector() {
        let solvers = [solver(false, None), solver(true, None)];
        assert_eq!(picked("a.example.com", &solvers, &[]), Some(0));
        let chs = challenges();
        let (_, ch) = pick("a.example.com", &chs, &solvers[1..], &BTreeMap::new()).unwrap();
        assert_eq!(ch.challenge_type, "dns-01");
    }

    #[test]
    fn dns_names_beat_zones_and_longer_zones_win() {
        let solvers = [
            solver(false, None),
            solver(true, sel(&[], &["example.com"], &[])),
            solver(true, sel(&[], &["sub.example.com"], &[])),
            solver(false, sel(&["www.sub.example.com"], &[], &[])),
        ];
        assert_eq!(picked("a.example.com", &solvers, &[]), Some(1));
        assert_eq!(picked("a.sub.example.com", &solvers, &[]), Some(2));
        assert_eq!(picked("www.sub.example.com", &solvers, &[]), Some(3));
        assert_eq!(picked("other.org", &solvers, &[]), Some(0));
        assert_eq!(picked("*.sub.example.com", &solvers, &[]), Some(2));
    }

    #[test]
    fn labels_must_all_match_and_break_ties() {
        let solvers = [
            solver(true, sel(&[], &["example.com"], &[("a", "1")])),
            solver(true, sel(&[], &["example.com"], &[("a", "1"), ("b", "2")])),
        ];
        assert_eq!(picked("x.example.com", &solvers, &[("a", "1")]), Some(0));
        assert_eq!(
            picked("x.example.com", &solvers, &[("a", "1"), ("b", "2")]),
            Some(1)
        );
        assert_eq!(picked("x.example.com", &solvers, &[]), None);
    }

    #[test]
    fn solver_types_the_server_does_not_offer_are_skipped() {
        let chs: Vec<_> = challenges()
            .into_iter()
            .filter(|c| c.challenge_type == "dns-01")
            .collect();
        let solvers = [solver(false, None)];
        assert!(pick("a.example.com", &chs, &solvers, &BTreeMap::new()).is_none());
    }
}

//! Reading the client-layer metrics of a component (`crates/kubeclient/src/metrics.rs`).

use std::collections::{BTreeMap, BTreeSet};

use testkit::component::samples;

/// How a component's caches made their initial lists, from `kubeclient_initial_sync_seconds`
/// and `kubeclient_requests_total`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListModes {
    /// Cache name to the modes (`streaming`, `paged`) its (re)lists used.
    pub caches: BTreeMap<String, BTreeSet<String>>,
    /// Successful requests by verb (`LIST`, `WATCH`, ...), all resources.
    pub requests: BTreeMap<String, f64>,
    /// `kubeclient_watchlist_fallbacks_total`, all caches.
    pub fallbacks: f64,
}

impl ListModes {
    /// Reads the modes from a component's `/metrics` text.
    pub fn from_metrics(text: &str) -> ListModes {
        let mut modes = ListModes::default();
        for s in samples(text, "kubeclient_initial_sync_seconds") {
            if let (Some(cache), Some(mode)) = (s.labels.get("cache"), s.labels.get("mode")) {
                modes
                    .caches
                    .entry(cache.clone())
                    .or_default()
                    .insert(mode.clone());
            }
        }
        for s in samples(text, "kubeclient_requests_total") {
            let ok = s.labels.get("code").is_some_and(|c| c.starts_with('2'));
            if let (true, Some(verb)) = (ok, s.labels.get("verb")) {
                *modes.requests.entry(verb.clone()).or_default() += s.value;
            }
        }
        modes.fallbacks = samples(text, "kubeclient_watchlist_fallbacks_total")
            .iter()
            .map(|s| s.value)
            .sum();
        modes
    }

    /// `Ok` when every cache synced in `mode` only (and at least one cache did), and the
    /// requests agree: streaming means WATCH requests and no fallback, paged means LIST ones.
    pub fn check(&self, mode: &str) -> Result<(), String> {
        if self.caches.is_empty() {
            return Err("no cache has synced yet".into());
        }
        for (cache, modes) in &self.caches {
            if modes.len() != 1 || !modes.contains(mode) {
                return Err(format!(
                    "cache {cache} synced {modes:?}, expected only {mode:?}"
                ));
            }
        }
        let count = |verb: &str| self.requests.get(verb).copied().unwrap_or(0.0);
        match mode {
            "streaming" if count("WATCH") == 0.0 => Err("no WATCH request".into()),
            "streaming" if self.fallbacks > 0.0 => {
                Err(format!("{} fallback(s) to paging", self.fallbacks))
            }
            "paged" if count("LIST") == 0.0 => Err("no LIST request".into()),
            _ => Ok(()),
        }
    }

    /// A one-line summary for the report.
    pub fn summary(&self) -> String {
        let caches: Vec<String> = self
            .caches
            .iter()
            .map(|(c, m)| format!("{c}={}", m.iter().cloned().collect::<Vec<_>>().join("+")))
            .collect();
        let count = |verb: &str| self.requests.get(verb).copied().unwrap_or(0.0);
        format!(
            "caches [{}], LIST {}, WATCH {}",
            caches.join(", "),
            count("LIST"),
            count("WATCH")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP kubeclient_initial_sync_seconds x\n\
        kubeclient_initial_sync_seconds{cache=\"secrets-owned\",mode=\"paged\"} 0.01\n\
        kubeclient_initial_sync_seconds{cache=\"secrets-metadata\",mode=\"paged\"} 0.02\n\
        kubeclient_initial_sync_seconds_other 3\n\
        kubeclient_requests_total{code=\"200\",resource=\"secrets\",verb=\"LIST\"} 2\n\
        kubeclient_requests_total{code=\"200\",resource=\"secrets\",verb=\"WATCH\"} 2\n\
        kubeclient_requests_total{code=\"410\",resource=\"secrets\",verb=\"WATCH\"} 1\n";

    #[test]
    fn modes_from_metrics() {
        let m = ListModes::from_metrics(TEXT);
        assert_eq!(m.caches.len(), 2);
        assert_eq!(m.requests["LIST"], 2.0);
        assert_eq!(m.requests["WATCH"], 2.0);
        m.check("paged").unwrap();
        let err = m.check("streaming").unwrap_err();
        assert!(err.contains("expected only \"streaming\""), "{err}");
        assert_eq!(
            m.summary(),
            "caches [secrets-metadata=paged, secrets-owned=paged], LIST 2, WATCH 2"
        );
    }

    #[test]
    fn no_cache_is_not_a_pass() {
        assert!(ListModes::from_metrics("").check("paged").is_err());
    }

    #[test]
    fn labels_with_escapes() {
        let s = samples("m{a=\"x,\\\"y\",b=\"z\"} 2\n", "m");
        assert_eq!(s[0].labels["a"], "x,\"y");
        assert_eq!(s[0].labels["b"], "z");
        assert_eq!(s[0].value, 2.0);
    }
}

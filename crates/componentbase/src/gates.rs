//! Assembling a binary's feature gates: its own cert-manager gates plus the client layer's,
//! from `KUBE_FEATURE_*` environment variables, the config file map and `--feature-gates`.

use std::collections::BTreeMap;

use featuregates::{FeatureGates, FeatureSpec, Source};

/// The registry of one binary, before any value is applied; also used for `--help`.
pub fn registry(component_gates: &[FeatureSpec]) -> FeatureGates {
    let mut gates = FeatureGates::new();
    gates
        .add(component_gates)
        .expect("component gate table is consistent");
    gates
        .add(kubeclient::gates::CLIENT_GATES)
        .expect("client gates do not clash with component gates");
    gates
}

/// Apply every source of gate values. Precedence: flag > config file > env > default.
pub fn resolve(
    component_gates: &[FeatureSpec],
    flag: Option<&str>,
    config_file: Option<&BTreeMap<String, bool>>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<FeatureGates, featuregates::Error> {
    let mut gates = registry(component_gates);
    let mut warnings = gates.set_from_env(env, &kubeclient::gates::names())?;
    if let Some(map) = config_file {
        warnings.extend(gates.set_from_map(map, Source::ConfigFile)?);
    }
    if let Some(flag) = flag {
        warnings.extend(gates.set(flag)?);
    }
    for w in warnings {
        tracing::warn!(feature_gate = %w.gate, "{w}");
    }
    Ok(gates)
}

/// Log the effective value of every gate, once at start.
pub fn log_effective(gates: &FeatureGates) {
    let effective = gates
        .effective()
        .iter()
        .map(|(name, on)| format!("{name}={on}"))
        .collect::<Vec<_>>()
        .join(",");
    tracing::info!(feature_gates = %effective, "feature gates");
}

#[cfg(test)]
mod tests {
    use super::*;
    use featuregates::certmanager::CONTROLLER;
    use kubeclient::gates::WATCH_LIST_CLIENT;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn client_gate_precedence_flag_over_env_over_default() {
        let g = resolve(CONTROLLER, None, None, env(&[])).unwrap();
        assert!(g.enabled(WATCH_LIST_CLIENT), "BETA, default true");
        let g = resolve(
            CONTROLLER,
            None,
            None,
            env(&[("KUBE_FEATURE_WatchListClient", "false")]),
        )
        .unwrap();
        assert!(!g.enabled(WATCH_LIST_CLIENT));
        let g = resolve(
            CONTROLLER,
            Some("WatchListClient=true"),
            None,
            env(&[("KUBE_FEATURE_WatchListClient", "false")]),
        )
        .unwrap();
        assert!(g.enabled(WATCH_LIST_CLIENT));
        let file = BTreeMap::from([(WATCH_LIST_CLIENT.to_owned(), false)]);
        let g = resolve(
            CONTROLLER,
            None,
            Some(&file),
            env(&[("KUBE_FEATURE_WatchListClient", "true")]),
        )
        .unwrap();
        assert!(!g.enabled(WATCH_LIST_CLIENT), "config file beats env");
    }

    #[test]
    fn env_does_not_reach_component_gates() {
        let g = resolve(
            CONTROLLER,
            None,
            None,
            env(&[("KUBE_FEATURE_SecretsFilteredCaching", "false")]),
        )
        .unwrap();
        assert!(g.enabled("SecretsFilteredCaching"));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = resolve(CONTROLLER, Some("Nope=true"), None, env(&[])).unwrap_err();
        assert_eq!(e.to_string(), "unrecognized feature gate: Nope");
        let e = resolve(
            CONTROLLER,
            None,
            None,
            env(&[("KUBE_FEATURE_WatchListClient", "maybe")]),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("KUBE_FEATURE_WatchListClient"),
            "{e}"
        );
    }
}

//! The client layer's own feature gates, merged into each binary's `--feature-gates`.
//!
//! They mirror client-go's gates of the same name (client-go 0.36), so a user's
//! `KUBE_FEATURE_WatchListClient=false` keeps working after switching from cert-manager.

use featuregates::FeatureSpec;

/// Initial lists are streamed (watch with `sendInitialEvents=true`) instead of paged LISTs.
pub const WATCH_LIST_CLIENT: &str = "WatchListClient";

/// The client gates, registered by every binary next to its own.
pub const CLIENT_GATES: &[FeatureSpec] = &[
    // BETA and on by default, as client-go since 0.35.
    FeatureSpec::beta(WATCH_LIST_CLIENT, true),
];

/// Names of the client gates, for `FeatureGates::set_from_env` (only these honour `KUBE_FEATURE_*`).
pub fn names() -> Vec<&'static str> {
    CLIENT_GATES.iter().map(|s| s.name).collect()
}

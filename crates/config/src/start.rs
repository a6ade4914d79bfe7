//! The start-up every binary shares once its configuration is loaded.

use std::collections::BTreeMap;

use componentbase::cli::CommonArgs;
use featuregates::{FeatureGates, FeatureSpec};

use crate::shared::Logging;

/// What the shared start-up needs from a component's effective configuration.
pub trait ComponentConfig {
    fn logging(&self) -> &Logging;
    /// The config file's `featureGates` map (the `--feature-gates` flag wins per gate).
    fn feature_gates(&self) -> &BTreeMap<String, bool>;
    /// The effective configuration for the debug log (no secrets).
    fn summary(&self) -> String;
}

macro_rules! component_config {
    ($($t:ty),*) => {$(
        impl ComponentConfig for $t {
            fn logging(&self) -> &Logging {
                &self.logging
            }
            fn feature_gates(&self) -> &BTreeMap<String, bool> {
                &self.feature_gates
            }
            fn summary(&self) -> String {
                <$t>::summary(self)
            }
        }
    )*};
}

component_config!(
    crate::ControllerConfig,
    crate::CAInjectorConfig,
    crate::WebhookConfig
);

/// Logging as configured, the effective configuration at debug level, then the feature gates
/// (component gates plus the client gates; a bad gate exits like clap, naming the flag), whose
/// effective values are logged once. `C` is the binary's clap command, for that error.
pub fn start_component<C: clap::CommandFactory>(
    cfg: &impl ComponentConfig,
    common: &CommonArgs,
    component_gates: &[FeatureSpec],
) -> FeatureGates {
    componentbase::logging::init_with(cfg.logging().log_format(), cfg.logging().verbosity);
    tracing::debug!(config = %cfg.summary(), "effective configuration");
    let gates = componentbase::cli::resolve_gates_with_config_file::<C>(
        component_gates,
        common,
        Some(cfg.feature_gates()),
    );
    componentbase::gates::log_effective(&gates);
    gates
}

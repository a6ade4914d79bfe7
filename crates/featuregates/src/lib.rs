//! Feature gates for one process: a small Rust counterpart of Kubernetes component-base's
//! `featuregate` package, plus client-go's `KUBE_FEATURE_<Name>` environment variables.
//!
//! A binary registers its gates ([`certmanager`] tables plus the client layer's), applies the
//! config file's `featureGates:` map, the `--feature-gates` flag and the environment, then asks
//! [`FeatureGates::enabled`]. Every value is kept per [`Source`] and the effective value is derived
//! on demand, so the order in which sources are applied never matters:
//! `Flag > ConfigFile > Env > Default`, and `AllAlpha`/`AllBeta` only fill in gates that no source
//! set explicitly. Error texts match component-base, because users search for them.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

pub mod certmanager;

/// Pseudo-gate setting every ALPHA gate that has no explicit value.
pub const ALL_ALPHA: &str = "AllAlpha";
/// Pseudo-gate setting every BETA gate that has no explicit value.
pub const ALL_BETA: &str = "AllBeta";
/// client-go's environment convention: `KUBE_FEATURE_<Name>=true|false`.
pub const ENV_PREFIX: &str = "KUBE_FEATURE_";

/// Lead sentence of the `--feature-gates` help, verbatim from component-base's `AddFlag`.
const USAGE_LEAD: &str = "A set of key=value pairs that describe feature gates for alpha/experimental features. Options are:";

/// Maturity of a gate; only ALPHA and BETA gates are listed in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Alpha,
    Beta,
    Ga,
    Deprecated,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Alpha => "ALPHA",
            Stage::Beta => "BETA",
            Stage::Ga => "GA",
            Stage::Deprecated => "DEPRECATED",
        })
    }
}

/// Static description of one gate; tables of these are `const` so they cost nothing at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeatureSpec {
    pub name: &'static str,
    pub default: bool,
    pub stage: Stage,
    /// The gate can only be "set" to its default (used for GA gates whose old code path is gone).
    pub lock_to_default: bool,
}

impl FeatureSpec {
    const fn new(name: &'static str, default: bool, stage: Stage) -> Self {
        Self {
            name,
            default,
            stage,
            lock_to_default: false,
        }
    }
    pub const fn alpha(name: &'static str, default: bool) -> Self {
        Self::new(name, default, Stage::Alpha)
    }
    pub const fn beta(name: &'static str, default: bool) -> Self {
        Self::new(name, default, Stage::Beta)
    }
    pub const fn ga(name: &'static str, default: bool) -> Self {
        Self::new(name, default, Stage::Ga)
    }
    pub const fn deprecated(name: &'static str, default: bool) -> Self {
        Self::new(name, default, Stage::Deprecated)
    }
    /// Locks the gate to its default: setting it to anything else is an error.
    pub const fn locked(self) -> Self {
        Self {
            lock_to_default: true,
            ..self
        }
    }
}

/// Where a value came from. The derived order is the precedence order (later wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The spec's default. Passed to [`FeatureGates::set_from_map`] it overrides the default
    /// (like component-base's `OverrideDefault`): `AllAlpha`/`AllBeta` still take precedence.
    Default,
    /// `KUBE_FEATURE_<Name>` environment variables (client gates only).
    Env,
    /// The config file's `featureGates:` map.
    ConfigFile,
    /// `--feature-gates`.
    Flag,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("unrecognized feature gate: {0}")]
    Unrecognized(String),
    #[error("cannot set feature gate {name} to {value}, feature is locked to {default}")]
    Locked {
        name: String,
        value: bool,
        default: bool,
    },
    #[error("missing bool value for {0}")]
    MissingValue(String),
    // `{:?}` stands in for Go's `%q` (strconv.NumError); identical for printable text.
    #[error(
        "invalid value of {key}={value}, err: strconv.ParseBool: parsing {value:?}: invalid syntax"
    )]
    InvalidValue { key: String, value: String },
    // client-go only logs a bad variable and carries on; we fail, as a typo would silently change
    // behaviour.
    #[error(
        "invalid value of environment variable {var}={value:?}: strconv.ParseBool: parsing {value:?}: invalid syntax"
    )]
    InvalidEnvValue { var: String, value: String },
    #[error("feature gate {name:?} with different spec already exists: {existing:?}")]
    Conflict { name: String, existing: FeatureSpec },
}

/// Something worth logging about an accepted setting (e.g. a GA gate that will go away).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub gate: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The registry of known gates and the values each source gave them.
#[derive(Debug, Clone)]
pub struct FeatureGates {
    known: BTreeMap<&'static str, FeatureSpec>,
    /// Per gate, the value each source set; resolution picks the highest-precedence one.
    values: BTreeMap<&'static str, BTreeMap<Source, bool>>,
}

impl Default for FeatureGates {
    fn default() -> Self {
        Self::new()
    }
}

impl FeatureGates {
    /// A registry holding only the `AllAlpha`/`AllBeta` pseudo-gates.
    pub fn new() -> Self {
        let known = [
            FeatureSpec::alpha(ALL_ALPHA, false),
            FeatureSpec::beta(ALL_BETA, false),
        ]
        .into_iter()
        .map(|s| (s.name, s))
        .collect();
        Self {
            known,
            values: BTreeMap::new(),
        }
    }

    /// Registers gates. Re-adding an identical spec is fine (components share client gates);
    /// a different spec under a known name is an error and nothing from `specs` is added.
    pub fn add(&mut self, specs: &[FeatureSpec]) -> Result<(), Error> {
        let mut known = self.known.clone();
        for spec in specs {
            match known.entry(spec.name) {
                Entry::Vacant(e) => {
                    e.insert(*spec);
                }
                Entry::Occupied(e) if e.get() != spec => {
                    return Err(Error::Conflict {
                        name: spec.name.to_owned(),
                        existing: *e.get(),
                    });
                }
                Entry::Occupied(_) => {}
            }
        }
        self.known = known;
        Ok(())
    }

    /// Records `m` as coming from `source`, merging with what that source set before.
    /// The whole map is validated first, so on error nothing is recorded.
    pub fn set_from_map(
        &mut self,
        m: &BTreeMap<String, bool>,
        source: Source,
    ) -> Result<Vec<Warning>, Error> {
        let mut accepted = Vec::with_capacity(m.len());
        let mut warnings = Vec::new();
        for (name, &value) in m {
            let spec = self
                .known
                .get(name.as_str())
                .ok_or_else(|| Error::Unrecognized(name.clone()))?;
            if spec.lock_to_default && value != spec.default {
                return Err(Error::Locked {
                    name: name.clone(),
                    value,
                    default: spec.default,
                });
            }
            // component-base's wording, with the key/values folded into the text.
            let kind = match spec.stage {
                Stage::Ga => Some("GA"),
                Stage::Deprecated => Some("deprecated"),
                Stage::Alpha | Stage::Beta => None,
            };
            if let Some(kind) = kind {
                warnings.push(Warning {
                    gate: name.clone(),
                    message: format!(
                        "Setting {kind} feature gate {name}={value}. It will be removed in a future release."
                    ),
                });
            }
            accepted.push((spec.name, value));
        }
        for (name, value) in accepted {
            self.values.entry(name).or_default().insert(source, value);
        }
        Ok(warnings)
    }

    /// Applies a `--feature-gates` value (`A=true,B=false`); repeated flags accumulate.
    pub fn set(&mut self, flag_value: &str) -> Result<Vec<Warning>, Error> {
        self.set_from_map(&parse_map(flag_value)?, Source::Flag)
    }

    /// Applies `KUBE_FEATURE_<Name>` variables (names are case-sensitive, values not trimmed, as
    /// in client-go) for the gates in `client_gates` only: client-go reads just its own gates, so
    /// honouring others here would make the same variable mean different things per layer.
    /// `AllAlpha`/`AllBeta` are not client-go gates and are ignored.
    pub fn set_from_env<I: IntoIterator<Item = (String, String)>>(
        &mut self,
        vars: I,
        client_gates: &[&str],
    ) -> Result<Vec<Warning>, Error> {
        let mut m = BTreeMap::new();
        for (var, value) in vars {
            let Some(name) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if !client_gates.contains(&name) || name == ALL_ALPHA || name == ALL_BETA {
                continue;
            }
            let Some(b) = parse_bool(&value) else {
                return Err(Error::InvalidEnvValue {
                    var: var.clone(),
                    value,
                });
            };
            m.insert(name.to_owned(), b);
        }
        self.set_from_map(&m, Source::Env)
    }

    /// The effective value of gate `name`. Asking for an unregistered gate is a programming
    /// error: it panics in debug builds and reads as disabled in release builds.
    pub fn enabled(&self, name: &str) -> bool {
        match self.resolve(name) {
            Some((value, _)) => value,
            None if cfg!(debug_assertions) => panic!("feature gate {name} is not registered"),
            None => false,
        }
    }

    /// Where the effective value of `name` came from (`None` if not registered). A gate set by
    /// `AllAlpha`/`AllBeta` reports the source of that pseudo-gate.
    pub fn source(&self, name: &str) -> Option<Source> {
        self.resolve(name).map(|(_, source)| source)
    }

    /// Help lines `<Name>=true|false (<STAGE> - default=<bool>)` for ALPHA and BETA gates
    /// (GA and deprecated ones are hidden, as in component-base), sorted bytewise like Go's
    /// `sort.Strings` — on whole lines, not names, exactly as upstream.
    pub fn known_features(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .known
            .values()
            .filter(|s| matches!(s.stage, Stage::Alpha | Stage::Beta))
            .map(|s| {
                format!(
                    "{}=true|false ({} - default={})",
                    s.name, s.stage, s.default
                )
            })
            .collect();
        lines.sort();
        lines
    }

    /// The full `--feature-gates` help text.
    pub fn usage(&self) -> String {
        format!("{USAGE_LEAD}\n{}", self.known_features().join("\n"))
    }

    /// Every registered gate (GA and the pseudo-gates included) with its effective value, for
    /// the single start-up log line.
    pub fn effective(&self) -> BTreeMap<&'static str, bool> {
        self.known
            .keys()
            .map(|&name| (name, self.enabled(name)))
            .collect()
    }

    fn resolve(&self, name: &str) -> Option<(bool, Source)> {
        let spec = self.known.get(name)?;
        let values = self.values.get(name);
        // 1. An explicit value from a real source beats everything, whatever the order of calls.
        if let Some((&source, &value)) = values.and_then(|v| v.range(Source::Env..).next_back()) {
            return Some((value, source));
        }
        // 2. AllAlpha/AllBeta fill in the rest of their stage. Locked gates are skipped (unlike
        //    component-base) so a locked gate can never end up off its default.
        let toggle = match spec.stage {
            Stage::Alpha if name != ALL_ALPHA => Some(ALL_ALPHA),
            Stage::Beta if name != ALL_BETA => Some(ALL_BETA),
            _ => None,
        };
        if let Some(toggle) = toggle.filter(|_| !spec.lock_to_default)
            && let Some((&source, &value)) =
                self.values.get(toggle).and_then(|v| v.last_key_value())
        {
            return Some((value, source));
        }
        // 3. An overridden default, else the spec's.
        let default = values.and_then(|v| v.get(&Source::Default)).copied();
        Some((default.unwrap_or(spec.default), Source::Default))
    }
}

/// Parses the `--feature-gates` syntax `A=true, B=false` with component-base's error texts.
/// Keys and values are trimmed; empty or blank elements are skipped (component-base skips only
/// empty ones, so it rejects `A=true, ` — being lenient there costs nothing). Later keys win.
pub fn parse_map(s: &str) -> Result<BTreeMap<String, bool>, Error> {
    let mut m = BTreeMap::new();
    for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Error::MissingValue(pair.trim().to_owned()));
        };
        let (key, value) = (key.trim(), value.trim());
        let b = parse_bool(value).ok_or_else(|| Error::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
        })?;
        m.insert(key.to_owned(), b);
    }
    Ok(m)
}

/// Go's `strconv.ParseBool`: the spellings users of Kubernetes components already rely on.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

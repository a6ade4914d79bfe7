//! Configuration of `controller`, `webhook` and `cainjector`, as cert-manager v1.21 has it: a
//! versioned config file (`--config`, YAML or JSON, strictly decoded) and flags with upstream's
//! names, merged with upstream's precedence (a flag given on the command line > the file > the
//! default) and validated with upstream's rules and wording before anything touches the
//! cluster.
//!
//! Each component module has its flags (a clap `Args` struct to flatten next to
//! `componentbase::cli::CommonArgs`), the file format (`v1alpha1`), the effective configuration
//! and `load(&flags, &common)`.

pub mod cainjector;
pub mod controller;
pub mod duration;
pub mod error;
mod file;
mod merge;
pub mod pflag;
pub mod shared;
mod start;
pub mod webhook;

use std::fmt;

use serde::{Serialize, Serializer};

pub use cainjector::{CAInjectorConfig, CAInjectorFlags};
pub use controller::{ControllerConfig, ControllerFlags};
pub use duration::Duration;
pub use error::{ConfigError, FieldError, InvalidField, ValueSource};
pub use start::{ComponentConfig, start_component};
pub use webhook::{WebhookConfig, WebhookFlags};

/// A value that must never reach a log: `Debug` and `Serialize` (hence every `summary()`)
/// print `<redacted>`. No v1alpha1 field holds a secret today; a future one (a password, a
/// token) must be wrapped in this.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

const REDACTED: &str = "<redacted>";

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Redacted<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_values_stay_out_of_logs() {
        #[derive(Debug, Serialize)]
        struct WithSecret {
            user: String,
            password: Redacted<String>,
        }
        let v = WithSecret {
            user: "admin".into(),
            password: Redacted("hunter2".into()),
        };
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"user":"admin","password":"<redacted>"}"#);
        assert!(!format!("{v:?}").contains("hunter2"));
    }
}

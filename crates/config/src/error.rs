//! Errors of loading a configuration. Each names where the bad value came from (the config
//! file, a flag) and the field, in the wording of Kubernetes' `field.Error` that upstream uses
//! (`kubernetesAPIQPS: Invalid value: -2: must be greater than or equal to -1`).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The OS error is part of the message (not a `source`), so `anyhow`'s `Error: ...` line
    /// says it all without a repeated "Caused by".
    #[error("config file {}: failed to read: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("config file {} was empty", path.display())]
    Empty { path: PathBuf },

    /// Not YAML/JSON, not an object, a wrong type or an unknown field (decoding is strict).
    #[error("config file {}: {message}", path.display())]
    Decode { path: PathBuf, message: String },

    #[error(
        "config file {}: expected apiVersion {expected_api_version:?} and kind {expected_kind:?}, got apiVersion {} and kind {}",
        path.display(),
        shown(got_api_version),
        shown(got_kind)
    )]
    TypeMeta {
        path: PathBuf,
        expected_api_version: &'static str,
        expected_kind: &'static str,
        got_api_version: Option<String>,
        got_kind: Option<String>,
    },

    /// The merged configuration failed validation; one entry per bad field.
    #[error("{}", join(.0))]
    Invalid(Vec<InvalidField>),
}

fn shown(v: &Option<String>) -> String {
    match v {
        Some(v) => format!("{v:?}"),
        None => "(none)".to_owned(),
    }
}

fn join(errors: &[InvalidField]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Kubernetes' `field.ErrorType`s that the config validators use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    Invalid,
    Required,
    Forbidden,
}

/// One validation failure at a field path such as `leaderElectionConfig.leaseDuration` or
/// `controllers[2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub kind: FieldErrorKind,
    /// The offending value as upstream prints it (strings quoted, numbers bare);
    /// only for [`FieldErrorKind::Invalid`].
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn invalid(
        field: impl Into<String>,
        value: impl fmt::Display,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Invalid,
            value: Some(value.to_string()),
            detail: detail.into(),
        }
    }

    /// An invalid string value, quoted as Go's `%q` would.
    pub fn invalid_str(field: impl Into<String>, value: &str, detail: impl Into<String>) -> Self {
        Self::invalid(field, format!("{value:?}"), detail)
    }

    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Required,
            value: None,
            detail: detail.into(),
        }
    }

    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Forbidden,
            value: None,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.field)?;
        match (self.kind, &self.value) {
            (FieldErrorKind::Invalid, Some(v)) => write!(f, "Invalid value: {v}")?,
            (FieldErrorKind::Invalid, None) => f.write_str("Invalid value")?,
            (FieldErrorKind::Required, _) => f.write_str("Required value")?,
            (FieldErrorKind::Forbidden, _) => f.write_str("Forbidden")?,
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Where the value of a field came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// The built-in default (or a cross-field check with nothing more specific to blame).
    Default,
    ConfigFile(PathBuf),
    /// A flag given on the command line, with its leading dashes.
    Flag(&'static str),
}

/// A [`FieldError`] with the source its value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    pub source: ValueSource,
    pub error: FieldError,
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            ValueSource::Default => write!(f, "{}", self.error),
            ValueSource::ConfigFile(p) => write!(f, "config file {}: {}", p.display(), self.error),
            ValueSource::Flag(flag) => write!(f, "flag {flag}: {}", self.error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_read_like_kubernetes() {
        assert_eq!(
            FieldError::invalid(
                "kubernetesAPIQPS",
                -2,
                "must be greater than or equal to -1"
            )
            .to_string(),
            "kubernetesAPIQPS: Invalid value: -2: must be greater than or equal to -1"
        );
        assert_eq!(
            FieldError::invalid_str(
                "controllers[0]",
                "foo",
                "is not in the list of known controllers"
            )
            .to_string(),
            r#"controllers[0]: Invalid value: "foo": is not in the list of known controllers"#
        );
        assert_eq!(
            FieldError::required("ingressShimConfig.defaultIssuerKind", "must not be empty")
                .to_string(),
            "ingressShimConfig.defaultIssuerKind: Required value: must not be empty"
        );
        assert_eq!(
            FieldError::forbidden("ignoreNamespaces", "should not be used with --namespace.")
                .to_string(),
            "ignoreNamespaces: Forbidden: should not be used with --namespace."
        );
    }

    #[test]
    fn invalid_lists_every_field_with_its_source() {
        let e = ConfigError::Invalid(vec![
            InvalidField {
                source: ValueSource::ConfigFile("/x/y.yaml".into()),
                error: FieldError::invalid("securePort", 70000, "must be a valid port number"),
            },
            InvalidField {
                source: ValueSource::Flag("--healthz-port"),
                error: FieldError::invalid("healthzPort", -1, "must be a valid port number"),
            },
        ]);
        assert_eq!(
            e.to_string(),
            "config file /x/y.yaml: securePort: Invalid value: 70000: must be a valid port number; \
             flag --healthz-port: healthzPort: Invalid value: -1: must be a valid port number"
        );
    }
}

//! Reading a versioned config file: YAML or JSON, `apiVersion`/`kind` checked first so a
//! wrong file says so instead of listing unknown fields, then strict decoding (unknown fields
//! are errors, as upstream decodes with `serializer.EnableStrict`).

use std::path::{Component, Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::ConfigError;

pub(crate) struct Loaded<T> {
    pub config: T,
    /// The path as given on the command line, for messages.
    pub path: PathBuf,
    /// The absolute directory of the file: relative paths inside it are relative to it.
    pub dir: PathBuf,
}

pub(crate) fn load<T: DeserializeOwned>(
    path: &Path,
    api_version: &'static str,
    kind: &'static str,
) -> Result<Loaded<T>, ConfigError> {
    let decode_err = |message: String| ConfigError::Decode {
        path: path.to_owned(),
        message,
    };
    let read_err = |error| ConfigError::Read {
        path: path.to_owned(),
        error,
    };
    let absolute = std::path::absolute(path).map_err(read_err)?;
    let text = std::fs::read_to_string(&absolute).map_err(read_err)?;
    if text.is_empty() {
        return Err(ConfigError::Empty {
            path: path.to_owned(),
        });
    }

    // YAML 1.2 is a superset of JSON, so one parser reads both.
    let value: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| decode_err(e.to_string()))?;
    let serde_yaml::Value::Mapping(map) = &value else {
        return Err(decode_err(format!(
            "expected a YAML or JSON object with apiVersion {api_version:?} and kind {kind:?}"
        )));
    };
    let field = |name: &str| match map.get(name) {
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(
            serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let (got_api_version, got_kind) = (field("apiVersion"), field("kind"));
    if got_api_version.as_deref() != Some(api_version) || got_kind.as_deref() != Some(kind) {
        return Err(ConfigError::TypeMeta {
            path: path.to_owned(),
            expected_api_version: api_version,
            expected_kind: kind,
            got_api_version,
            got_kind,
        });
    }

    // Decoding from the text (not the Value) keeps line numbers in the messages; serde_yaml
    // prefixes them with the field path, e.g. `leaderElectionConfig.leaseDuration: ...`.
    let config = serde_yaml::from_str(&text).map_err(|e| decode_err(e.to_string()))?;
    let dir = absolute
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("/"));
    Ok(Loaded {
        config,
        path: path.to_owned(),
        dir,
    })
}

/// Go's `filepath.Join(dir, p)` for a relative, non-empty `p` (lexically cleaned, as Go does);
/// empty and absolute paths are left alone.
pub(crate) fn resolve_relative(dir: &Path, p: &str) -> String {
    if p.is_empty() || Path::new(p).is_absolute() {
        return p.to_owned();
    }
    let mut out = PathBuf::new();
    for c in dir.join(p).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_file_directory() {
        let dir = Path::new("/etc/cm");
        assert_eq!(resolve_relative(dir, ""), "");
        assert_eq!(resolve_relative(dir, "/abs/kubeconfig"), "/abs/kubeconfig");
        assert_eq!(resolve_relative(dir, "kubeconfig"), "/etc/cm/kubeconfig");
        assert_eq!(
            resolve_relative(dir, "./tls/tls.crt"),
            "/etc/cm/tls/tls.crt"
        );
        assert_eq!(resolve_relative(dir, "../kubeconfig"), "/etc/kubeconfig");
    }
}

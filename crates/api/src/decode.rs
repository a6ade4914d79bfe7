//! Decoding objects with errors that name the offending field, for callers that receive
//! arbitrary input (the webhook) and must answer with a message, never a panic.

use serde::de::DeserializeOwned;

/// An object could not be decoded into its Rust type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
pub struct DecodeError {
    /// Path of the field that failed, for example `spec.privateKey.size` (empty at the root).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

fn wrap<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> DecodeError {
    DecodeError {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    }
}

/// Decodes a JSON document.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(wrap)
}

/// Decodes an already parsed JSON value.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(wrap)
}

/// Decodes a single YAML document.
pub fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(text)).map_err(wrap)
}

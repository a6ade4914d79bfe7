//! Challenge update rule: the spec never changes after creation.

use serde_json::Value;

use crate::challenge::Challenge;
use crate::field::{Error, ErrorList, Path};

pub(super) fn validate_update(old: &Challenge, new: &Challenge) -> ErrorList {
    let mut el = ErrorList::new();
    if go_normalised(&old.spec) != go_normalised(&new.spec) {
        el.push(Error::forbidden(
            &Path::new("spec"),
            "challenge spec is immutable after creation",
        ));
    }
    el
}

/// The spec as JSON with empty strings and `false` removed, so an omitted Go string or bool
/// compares equal to its zero value as in Go's `reflect.DeepEqual`.
fn go_normalised<T: serde::Serialize>(spec: &T) -> Value {
    fn strip(v: Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(_, v)| {
                        !matches!(v, Value::String(s) if s.is_empty()) && *v != Value::Bool(false)
                    })
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    strip(serde_json::to_value(spec).unwrap_or(Value::Null))
}

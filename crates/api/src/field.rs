//! Field-level validation errors, formatted exactly like Kubernetes apimachinery's
//! `field.ErrorList` (`k8s.io/apimachinery/pkg/util/validation/field`), so users see the same
//! messages from cert-manager-rs as from cert-manager:
//!
//! ```text
//! spec.secretName: Required value: must be specified
//! spec.privateKey.size: Invalid value: 1000: must be between 2048 and 8192 for rsa keyAlgorithm
//! spec.renewal.policy: Unsupported value: "Sometimes": supported values: "Disabled", "RenewBefore"
//! ```

use std::collections::HashSet;
use std::fmt;

/// Path to a field: `spec.solvers[0].dns01`, `metadata.annotations[cert-manager.io/x]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path {
    rendered: String,
}

impl Path {
    /// A path starting at a top-level field, such as `spec`.
    pub fn new(name: &str) -> Self {
        Self {
            rendered: name.to_owned(),
        }
    }

    /// The path to a named child.
    pub fn child(&self, name: &str) -> Self {
        let mut rendered = self.rendered.clone();
        if !rendered.is_empty() && !name.is_empty() {
            rendered.push('.');
        }
        rendered.push_str(name);
        Self { rendered }
    }

    /// The path through several named children: `p.children(&["privateKey", "size"])`.
    pub fn children(&self, names: &[&str]) -> Self {
        names.iter().fold(self.clone(), |p, n| p.child(n))
    }

    /// The path to a list element.
    pub fn index(&self, i: usize) -> Self {
        self.key(&i.to_string())
    }

    /// The path to a map entry (or a keyed list entry).
    pub fn key(&self, key: &str) -> Self {
        Self {
            rendered: format!("{}[{key}]", self.rendered),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.rendered
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

/// Kind of field error. [`ErrorType::reason`] gives the API `StatusCause` type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorType {
    /// The `StatusCause` type, for example `FieldValueRequired`.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
        })
    }
}

/// The offending value, rendered as apimachinery renders it: strings quoted, numbers and
/// booleans bare, anything else as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BadValue {
    /// No value is shown (Required, Forbidden, TooLong, Internal).
    Omitted,
    Str(String),
    Int(i64),
    Bool(bool),
    /// Pre-rendered JSON (lists, objects, Go durations as nanoseconds, named string types).
    Json(String),
}

impl BadValue {
    /// A value shown as JSON.
    pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> Self {
        BadValue::Json(serde_json::to_string(v).unwrap_or_else(|_| "null".into()))
    }

    fn render(&self) -> Option<String> {
        match self {
            BadValue::Omitted => None,
            BadValue::Str(s) => Some(go_quote(s)),
            BadValue::Int(i) => Some(i.to_string()),
            BadValue::Bool(b) => Some(b.to_string()),
            BadValue::Json(j) => Some(j.clone()),
        }
    }
}

impl From<&str> for BadValue {
    fn from(s: &str) -> Self {
        BadValue::Str(s.to_owned())
    }
}
impl From<String> for BadValue {
    fn from(s: String) -> Self {
        BadValue::Str(s)
    }
}
impl From<&String> for BadValue {
    fn from(s: &String) -> Self {
        BadValue::Str(s.clone())
    }
}
impl From<i64> for BadValue {
    fn from(i: i64) -> Self {
        BadValue::Int(i)
    }
}
impl From<i32> for BadValue {
    fn from(i: i32) -> Self {
        BadValue::Int(i.into())
    }
}
impl From<bool> for BadValue {
    fn from(b: bool) -> Self {
        BadValue::Bool(b)
    }
}

/// One field error.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Error {
    pub error_type: ErrorType,
    /// Rendered field path.
    pub field: String,
    pub bad_value: BadValue,
    pub detail: String,
}

impl Error {
    fn new(error_type: ErrorType, path: &Path, bad_value: BadValue, detail: &str) -> Self {
        Self {
            error_type,
            field: path.to_string(),
            bad_value,
            detail: detail.to_owned(),
        }
    }

    /// A required value is missing.
    pub fn required(path: &Path, detail: &str) -> Self {
        Self::new(ErrorType::Required, path, BadValue::Omitted, detail)
    }

    /// A value is malformed or out of range.
    pub fn invalid(path: &Path, value: impl Into<BadValue>, detail: &str) -> Self {
        Self::new(ErrorType::Invalid, path, value.into(), detail)
    }

    /// A value is not one of an enumeration; `supported` is listed quoted, in the given order.
    pub fn not_supported(path: &Path, value: impl Into<BadValue>, supported: &[&str]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, path, value.into(), &detail)
    }

    /// A value is well formed but not allowed here.
    pub fn forbidden(path: &Path, detail: &str) -> Self {
        Self::new(ErrorType::Forbidden, path, BadValue::Omitted, detail)
    }

    /// A value that must be unique is repeated.
    pub fn duplicate(path: &Path, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::Duplicate, path, value.into(), "")
    }

    /// A value is longer than `max` bytes (the value itself is not shown).
    pub fn too_long(path: &Path, max: usize) -> Self {
        let detail = if max == 1 {
            "may not be more than 1 byte".to_owned()
        } else {
            format!("may not be more than {max} bytes")
        };
        Self::new(ErrorType::TooLong, path, BadValue::Omitted, &detail)
    }

    /// A list has more than `max` items.
    pub fn too_many(path: &Path, actual: usize, max: usize) -> Self {
        let unit = if max == 1 { "item" } else { "items" };
        Self::new(
            ErrorType::TooMany,
            path,
            BadValue::Int(i64::try_from(actual).unwrap_or(i64::MAX)),
            &format!("must have at most {max} {unit}"),
        )
    }

    /// Something went wrong that is not the user's fault.
    pub fn internal(path: &Path, err: &dyn fmt::Display) -> Self {
        Self::new(
            ErrorType::Internal,
            path,
            BadValue::Omitted,
            &err.to_string(),
        )
    }

    /// The message without the field, as apimachinery's `ErrorBody`.
    pub fn body(&self) -> String {
        let mut s = match (self.error_type, self.bad_value.render()) {
            (
                ErrorType::Required
                | ErrorType::Forbidden
                | ErrorType::TooLong
                | ErrorType::Internal,
                _,
            )
            | (_, None) => self.error_type.to_string(),
            (t, Some(v)) => format!("{t}: {v}"),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for Error {}

/// An ordered list of field errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorList(pub Vec<Error>);

impl ErrorList {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn push(&mut self, e: Error) {
        self.0.push(e);
    }

    pub fn append(&mut self, other: ErrorList) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Error> {
        self.0.iter()
    }

    /// Each error's message.
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// The combined message, as `ErrorList.ToAggregate().Error()`: duplicates dropped, a single
    /// error as is, several as `[a, b]`. `None` when empty.
    pub fn aggregate(&self) -> Option<String> {
        let mut seen = HashSet::new();
        let unique: Vec<String> = self
            .0
            .iter()
            .map(ToString::to_string)
            .filter(|m| seen.insert(m.clone()))
            .collect();
        match unique.len() {
            0 => None,
            1 => unique.into_iter().next(),
            _ => Some(format!("[{}]", unique.join(", "))),
        }
    }
}

impl Extend<Error> for ErrorList {
    fn extend<I: IntoIterator<Item = Error>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for ErrorList {
    type Item = Error;
    type IntoIter = std::vec::IntoIter<Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ErrorList {
    type Item = &'a Error;
    type IntoIter = std::slice::Iter<'a, Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for ErrorList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.aggregate().as_deref().unwrap_or(""))
    }
}

/// Go's `strconv.Quote` (as `%q` prints strings): double quotes, backslash escapes, printable
/// Unicode kept.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() => {
                let n = c as u32;
                if n < 0x80 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_apimachinery() {
        let p = Path::new("spec").child("solvers").index(2).child("dns01");
        assert_eq!(p.to_string(), "spec.solvers[2].dns01");
        let k = Path::new("spec")
            .children(&["additionalOutputFormats"])
            .key("type");
        assert_eq!(k.to_string(), "spec.additionalOutputFormats[type]");
    }

    #[test]
    fn bodies_render_like_apimachinery() {
        let p = Path::new("spec").child("x");
        assert_eq!(
            Error::required(&p, "must be specified").to_string(),
            "spec.x: Required value: must be specified"
        );
        assert_eq!(
            Error::required(&p, "").to_string(),
            "spec.x: Required value"
        );
        assert_eq!(
            Error::invalid(&p, "a\"b", "bad").to_string(),
            r#"spec.x: Invalid value: "a\"b": bad"#
        );
        assert_eq!(
            Error::invalid(&p, 5i64, "bad").to_string(),
            "spec.x: Invalid value: 5: bad"
        );
        assert_eq!(
            Error::not_supported(&p, "z", &["a", "b"]).to_string(),
            r#"spec.x: Unsupported value: "z": supported values: "a", "b""#
        );
        assert_eq!(
            Error::forbidden(&p, "no").to_string(),
            "spec.x: Forbidden: no"
        );
        assert_eq!(
            Error::duplicate(&p, "DER").to_string(),
            r#"spec.x: Duplicate value: "DER""#
        );
        assert_eq!(
            Error::too_long(&p, 64).to_string(),
            "spec.x: Too long: may not be more than 64 bytes"
        );
    }

    #[test]
    fn aggregate_dedups_and_brackets() {
        let p = Path::new("spec");
        let mut l = ErrorList::new();
        assert_eq!(l.aggregate(), None);
        l.push(Error::forbidden(&p, "a"));
        assert_eq!(l.aggregate().unwrap(), "spec: Forbidden: a");
        l.push(Error::forbidden(&p, "a"));
        assert_eq!(l.aggregate().unwrap(), "spec: Forbidden: a");
        l.push(Error::forbidden(&p, "b"));
        assert_eq!(
            l.aggregate().unwrap(),
            "[spec: Forbidden: a, spec: Forbidden: b]"
        );
    }
}

//! Problem documents (RFC 7807 as profiled by RFC 8555 §6.7): the typed form of every error
//! answer of an ACME server, also found in `error` fields of orders, authorizations and
//! challenges.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Identifier;

/// The URN prefix of the ACME error types.
pub const ACME_ERROR_PREFIX: &str = "urn:ietf:params:acme:error:";

/// An RFC 7807 problem document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// e.g. `urn:ietf:params:acme:error:rateLimited`; empty when the server sent no problem
    /// document (then `detail` holds the start of whatever it sent).
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub detail: String,
    /// The HTTP status (from the document, else from the response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// A URI for this occurrence, if the server gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Per-identifier problems (RFC 8555 §6.7.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subproblems: Vec<Subproblem>,
    /// The response's `Retry-After` (RFC 8555 §6.6 rate limits, §8.2 retries); not part of
    /// the document.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

/// One entry of [`Problem::subproblems`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subproblem {
    /// The problem type URN.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub detail: String,
    /// The identifier it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
}

impl Problem {
    /// Whether this is the ACME error `name`, e.g. `is("badNonce")` for
    /// `urn:ietf:params:acme:error:badNonce` (compared case-insensitively, as Go's client does).
    pub fn is(&self, name: &str) -> bool {
        type_is(&self.type_, name)
    }

    /// `badNonce`: the request may be repeated with a fresh nonce.
    pub fn is_bad_nonce(&self) -> bool {
        self.is("badNonce")
    }

    /// `accountDoesNotExist`: the key (or the account URL used as `kid`) is unknown to the
    /// server, e.g. after the CA lost its state. Register again.
    pub fn is_account_does_not_exist(&self) -> bool {
        self.is("accountDoesNotExist")
    }

    /// `rateLimited`, or HTTP 429 without a document. See [`Problem::retry_after`].
    pub fn is_rate_limited(&self) -> bool {
        self.is("rateLimited") || self.status == Some(429)
    }

    /// `externalAccountRequired`: the CA wants an External Account Binding.
    pub fn is_external_account_required(&self) -> bool {
        self.is("externalAccountRequired")
    }

    /// `unauthorized`.
    pub fn is_unauthorized(&self) -> bool {
        self.is("unauthorized")
    }

    /// HTTP 404: the order/authorization/challenge URL does not exist (any more).
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    /// A 4xx answer: repeating the same request will not help (except `badNonce`, which the
    /// client retries itself, and rate limits after `retry_after`).
    pub fn is_client_error(&self) -> bool {
        self.status.is_some_and(|s| (400..500).contains(&s))
    }

    /// A 5xx answer: the server's fault, worth retrying later.
    pub fn is_server_error(&self) -> bool {
        self.status.is_some_and(|s| s >= 500)
    }
}

fn type_is(type_: &str, name: &str) -> bool {
    type_.len() == ACME_ERROR_PREFIX.len() + name.len()
        && type_.is_char_boundary(ACME_ERROR_PREFIX.len())
        && type_[..ACME_ERROR_PREFIX.len()].eq_ignore_ascii_case(ACME_ERROR_PREFIX)
        && type_[ACME_ERROR_PREFIX.len()..].eq_ignore_ascii_case(name)
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "{status} ")?;
        }
        let type_ = if self.type_.is_empty() {
            "(no problem document)"
        } else {
            &self.type_
        };
        write!(f, "{type_}: {}", self.detail)?;
        for sub in &self.subproblems {
            match &sub.identifier {
                Some(id) => write!(f, "; {}: {}: {}", id.value, sub.type_, sub.detail)?,
                None => write!(f, "; {}: {}", sub.type_, sub.detail)?,
            }
        }
        if let Some(after) = self.retry_after {
            write!(f, " (retry after {}s)", after.as_secs())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc8555_example_with_subproblems() {
        let doc = r#"{
            "type": "urn:ietf:params:acme:error:malformed",
            "detail": "Some of the identifiers requested were rejected",
            "subproblems": [
                {"type": "urn:ietf:params:acme:error:malformed",
                 "detail": "Invalid underscore in DNS name \"_example.org\"",
                 "identifier": {"type": "dns", "value": "_example.org"}},
                {"type": "urn:ietf:params:acme:error:rejectedIdentifier",
                 "detail": "This CA will not issue for \"example.net\"",
                 "identifier": {"type": "dns", "value": "example.net"}}
            ]
        }"#;
        let p: Problem = serde_json::from_str(doc).unwrap();
        assert!(p.is("malformed"));
        assert!(!p.is_bad_nonce());
        assert_eq!(p.subproblems.len(), 2);
        assert_eq!(
            p.subproblems[1].identifier.as_ref().unwrap().value,
            "example.net"
        );
        let text = p.to_string();
        assert!(
            text.contains("example.net: urn:ietf:params:acme:error:rejectedIdentifier"),
            "{text}"
        );
    }

    #[test]
    fn type_checks() {
        let p = Problem {
            type_: "urn:ietf:params:acme:error:BADNONCE".into(),
            status: Some(400),
            ..Problem::default()
        };
        assert!(p.is_bad_nonce() && p.is_client_error() && !p.is_server_error());
        let p = Problem {
            type_: "urn:ietf:params:acme:error:rateLimited".into(),
            retry_after: Some(Duration::from_secs(7)),
            ..Problem::default()
        };
        assert!(p.is_rate_limited());
        assert!(p.to_string().ends_with("(retry after 7s)"));
        assert!(!type_is("urn:ietf:params:acme:error:badNoncex", "badNonce"));
        assert!(!type_is("badNonce", "badNonce"));
    }
}

//! The crate's error type.

use std::time::Duration;

use crate::Problem;

/// Everything that can go wrong talking to an ACME server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status; its problem document (or, without one, a
    /// problem made from the status and body).
    #[error("acme: {action}: {problem}")]
    Problem {
        /// The client operation (the metrics `action` label, e.g. `get_order`).
        action: &'static str,
        /// The server's problem.
        problem: Box<Problem>,
    },
    /// The request did not get a response (connection, TLS, timeout).
    #[error("acme: {action}: {source}")]
    Http {
        /// The client operation.
        action: &'static str,
        /// The transport error.
        #[source]
        source: httpclient::Error,
    },
    /// The server answered successfully but not as RFC 8555 says (missing `Location`,
    /// undecodable JSON, no `Replay-Nonce`, ...).
    #[error("acme: {action}: unexpected response from {url}: {reason}")]
    Protocol {
        /// The client operation.
        action: &'static str,
        /// The request URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The account key cannot be used.
    #[error("account key: {0}")]
    AccountKey(String),
    /// An argument is unusable; `field` names it the way the API objects do.
    #[error("{field}: {reason}")]
    InvalidInput {
        /// e.g. `externalAccountBinding.keyID`.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The server does not offer what was asked for (e.g. an order profile).
    #[error("acme: {0}")]
    Unsupported(String),
    /// A wait for an order or authorization to leave `pending`/`processing` ran out.
    #[error("acme: {url} still {status} after {waited:?}")]
    WaitTimeout {
        /// The resource.
        url: String,
        /// Its last status.
        status: String,
        /// How long we waited.
        waited: Duration,
    },
    /// Building a request failed (a bug, not an input problem).
    #[error("acme: encoding request: {0}")]
    Encode(String),
}

impl Error {
    pub(crate) fn encode(e: impl std::fmt::Display) -> Self {
        Error::Encode(e.to_string())
    }

    /// The server's problem document, if this is a server answer.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        self.problem().and_then(|p| p.status)
    }

    /// See [`Problem::is_account_does_not_exist`].
    pub fn is_account_does_not_exist(&self) -> bool {
        self.problem()
            .is_some_and(Problem::is_account_does_not_exist)
    }

    /// See [`Problem::is_rate_limited`].
    pub fn is_rate_limited(&self) -> bool {
        self.problem().is_some_and(Problem::is_rate_limited)
    }

    /// See [`Problem::is_not_found`].
    pub fn is_not_found(&self) -> bool {
        self.problem().is_some_and(Problem::is_not_found)
    }

    /// See [`Problem::is_bad_nonce`] (seen only when the client's own retries ran out).
    pub fn is_bad_nonce(&self) -> bool {
        self.problem().is_some_and(Problem::is_bad_nonce)
    }

    /// The server's `Retry-After`, if it sent one with the error.
    pub fn retry_after(&self) -> Option<Duration> {
        self.problem().and_then(|p| p.retry_after)
    }

    /// Whether the same request may succeed later without any change: transport errors,
    /// 5xx, rate limits and exhausted nonce retries. Other 4xx answers are final for the
    /// request (cert-manager marks the Order `errored` on those).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Http { .. } | Error::WaitTimeout { .. } => true,
            Error::Problem { problem, .. } => {
                problem.is_server_error() || problem.is_rate_limited() || problem.is_bad_nonce()
            }
            _ => false,
        }
    }
}

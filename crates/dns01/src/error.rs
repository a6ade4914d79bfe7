//! Errors of this crate. Every variant names what failed: the field, the server, the name.

use std::net::SocketAddr;
use std::time::Duration;

/// Errors of DNS-01 solving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A solver configuration field is invalid (`spec.acme.solvers[0].dns01.rfc2136.nameserver`).
    #[error("{field}: {message}")]
    InvalidField {
        /// The path of the field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A DNS name is not usable.
    #[error("invalid DNS name {name:?}: {message}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why.
        message: String,
    },
    /// No nameserver to ask.
    #[error("no nameservers to query for {0}")]
    NoNameservers(String),
    /// A nameserver did not answer in time.
    #[error("{what}: no answer from {server} within {timeout:?}")]
    Timeout {
        /// The request, e.g. `SOA query for example.com.`.
        what: String,
        /// The nameserver.
        server: SocketAddr,
        /// How long we waited.
        timeout: Duration,
    },
    /// Sending to or receiving from a nameserver failed.
    #[error("{what}: {server}: {source}")]
    Io {
        /// The request.
        what: String,
        /// The nameserver.
        server: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A nameserver answered something that is not a valid response to our request.
    #[error("{what}: bad response from {server}: {message}")]
    BadResponse {
        /// The request.
        what: String,
        /// The nameserver.
        server: SocketAddr,
        /// What is wrong with it.
        message: String,
    },
    /// A nameserver answered with an error RCODE (`REFUSED`, `NOTAUTH`, `SERVFAIL`, ...);
    /// `tsig_error` carries the TSIG error (`BADSIG`, `BADKEY`, `BADTIME`) when there is one.
    #[error(
        "{what}: {server} replied {rcode}{}",
        tsig_error.as_ref().map(|e| format!(" (TSIG error {e})")).unwrap_or_default()
    )]
    Rcode {
        /// The request.
        what: String,
        /// The nameserver.
        server: SocketAddr,
        /// The response code, as `dig` prints it.
        rcode: String,
        /// The TSIG error of the response, if any.
        tsig_error: Option<String>,
    },
    /// The signed response to a signed request did not verify (RFC 8945 §5.3).
    #[error("{what}: TSIG verification of the response from {server} failed: {message}")]
    TsigVerify {
        /// The request.
        what: String,
        /// The nameserver.
        server: SocketAddr,
        /// Why.
        message: String,
    },
    /// The zone apex of a name could not be found.
    #[error(
        "could not find the SOA record in the DNS tree for {fqdn} using nameservers {nameservers:?}"
    )]
    NoZone {
        /// The name.
        fqdn: String,
        /// The nameservers asked.
        nameservers: Vec<SocketAddr>,
    },
    /// The authoritative nameservers of a zone could not be determined or resolved.
    #[error("could not determine the authoritative nameservers of {fqdn}: {message}")]
    NoAuthoritativeNameservers {
        /// The name.
        fqdn: String,
        /// Why.
        message: String,
    },
    /// A CNAME chain leads back to a name already visited.
    #[error("found a CNAME loop at {target} when looking up {fqdn}")]
    CnameLoop {
        /// The name being followed.
        fqdn: String,
        /// The target seen before.
        target: String,
    },
    /// The name to update is not inside the zone to update.
    #[error("{fqdn} is not inside zone {zone}")]
    NotInZone {
        /// The name.
        fqdn: String,
        /// The zone.
        zone: String,
    },
    /// A DNS message could not be encoded (a name or value too long, ...).
    #[error("encoding the DNS message for {what}: {message}")]
    Encode {
        /// The request.
        what: String,
        /// The encoder's message.
        message: String,
    },
}

impl Error {
    pub(crate) fn invalid_field(field: impl ToString, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn invalid_name(name: &str, message: impl Into<String>) -> Self {
        Error::InvalidName {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

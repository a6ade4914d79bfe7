//! [`CsrSpec`]: what a certificate request (and a certificate) asserts.
//!
//! It mirrors the parts of cert-manager's `CertificateSpec` that end up in an
//! X.509 request, without depending on the API types. Feature gates are the
//! caller's business: leave a field empty and it is not encoded.

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::subject::{self, Subject};
use crate::usages::{ExtKeyUsage, KeyUsages};

/// Everything that goes into a CSR apart from the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsrSpec {
    /// Structured subject, including `commonName`.
    pub subject: Subject,
    /// RFC 4514 `literalSubject`; when set and non-empty it replaces
    /// `subject` entirely.
    pub literal_subject: Option<String>,
    /// `dnsNames`.
    pub dns_names: Vec<String>,
    /// `ipAddresses`; see [`parse_ip_addresses`].
    pub ip_addresses: Vec<IpAddr>,
    /// `uris`, encoded verbatim.
    pub uris: Vec<String>,
    /// `emailAddresses`.
    pub email_addresses: Vec<String>,
    /// `otherNames` (UTF8String values).
    pub other_names: Vec<OtherName>,
    /// KeyUsage bits; empty means no KeyUsage extension. Build it with
    /// [`crate::key_usages_for`] (or leave it empty when
    /// `encodeUsagesInRequest` is false).
    pub key_usage: KeyUsages,
    /// Extended key usages, in order; empty means no extension.
    pub ext_key_usages: Vec<ExtKeyUsage>,
    /// BasicConstraints; `None` means no extension (cert-manager only
    /// encodes it with the `UseCertificateRequestBasicConstraints` gate).
    pub basic_constraints: Option<BasicConstraints>,
    /// `nameConstraints`; `None` or empty means no extension.
    pub name_constraints: Option<NameConstraints>,
}

/// `otherNames[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OtherName {
    /// Dotted OID of the name type.
    pub oid: String,
    /// The UTF8String value.
    pub utf8_value: String,
}

/// X.509 BasicConstraints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BasicConstraints {
    /// `cA`.
    pub is_ca: bool,
    /// `pathLenConstraint`; `None` means unlimited.
    pub max_path_len: Option<u32>,
}

/// `nameConstraints`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameConstraints {
    /// Mark the extension critical.
    pub critical: bool,
    /// `permitted` subtrees.
    pub permitted: NameConstraintItems,
    /// `excluded` subtrees.
    pub excluded: NameConstraintItems,
}

/// One side of `nameConstraints`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameConstraintItems {
    /// `dnsDomains`.
    pub dns_domains: Vec<String>,
    /// `ipRanges` in CIDR notation.
    pub ip_ranges: Vec<String>,
    /// `emailAddresses`.
    pub email_addresses: Vec<String>,
    /// `uriDomains`.
    pub uri_domains: Vec<String>,
}

impl NameConstraintItems {
    /// No constraint of any kind.
    pub fn is_empty(&self) -> bool {
        self.dns_domains.is_empty()
            && self.ip_ranges.is_empty()
            && self.email_addresses.is_empty()
            && self.uri_domains.is_empty()
    }
}

impl NameConstraints {
    /// Neither permitted nor excluded subtrees.
    pub fn is_empty(&self) -> bool {
        self.permitted.is_empty() && self.excluded.is_empty()
    }
}

impl CsrSpec {
    /// The literal subject, if one is in effect.
    pub fn literal(&self) -> Option<&str> {
        self.literal_subject.as_deref().filter(|s| !s.is_empty())
    }

    /// The DER subject: from the literal subject when set, else structured.
    pub fn subject_der(&self) -> Result<Vec<u8>> {
        match self.literal() {
            Some(literal) => subject::literal_subject_to_der(literal),
            None => self.subject.to_der(),
        }
    }

    /// The common name in effect (first CN of a literal subject).
    pub fn common_name(&self) -> Result<String> {
        match self.literal() {
            Some(literal) => subject::literal_subject_common_name(literal),
            None => Ok(self.subject.common_name.clone()),
        }
    }

    /// Any subject alternative name set.
    pub fn has_sans(&self) -> bool {
        !(self.dns_names.is_empty()
            && self.ip_addresses.is_empty()
            && self.uris.is_empty()
            && self.email_addresses.is_empty()
            && self.other_names.is_empty())
    }
}

/// Parses `ipAddresses` like Go's `netip.ParseAddr` (no zones).
pub fn parse_ip_addresses<S: AsRef<str>>(ips: &[S]) -> Result<Vec<IpAddr>> {
    ips.iter()
        .map(|s| {
            s.as_ref()
                .parse::<IpAddr>()
                .map_err(|_| Error::InvalidSpec {
                    field: "spec.ipAddresses",
                    reason: format!("failed to parse IP address {:?}", s.as_ref()),
                })
        })
        .collect()
}

/// IPs compare like Go's `EqualIPsUnsorted`: IPv4 equals its IPv4-mapped
/// IPv6 form.
pub(crate) fn ip_key(ip: &IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

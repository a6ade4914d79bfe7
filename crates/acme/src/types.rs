//! RFC 8555 resources as the client hands them out.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Problem;

/// An identifier (RFC 8555 §9.7.7): `dns` names and, per RFC 8738, `ip` addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    /// `dns` or `ip`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The name (wildcards as `*.example.com` in orders, without `*.` in authorizations) or
    /// the textual IP address.
    pub value: String,
}

impl Identifier {
    /// A DNS name.
    pub fn dns(name: impl Into<String>) -> Self {
        Self {
            type_: "dns".into(),
            value: name.into(),
        }
    }

    /// An IP address (RFC 8738).
    pub fn ip(addr: IpAddr) -> Self {
        Self {
            type_: "ip".into(),
            value: addr.to_string(),
        }
    }
}

/// The status of an account, order, authorization or challenge (RFC 8555 §7.1.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the client (orders, authorizations, challenges).
    #[default]
    Pending,
    /// Order: all authorizations valid, ready to finalize.
    Ready,
    /// Order being issued, or challenge being validated.
    Processing,
    /// Done.
    Valid,
    /// Failed; see the resource's `error`.
    Invalid,
    /// Expired before completion.
    Expired,
    /// Deactivated by the client (accounts, authorizations).
    Deactivated,
    /// Revoked by the server (accounts, authorizations).
    Revoked,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

impl Status {
    /// The wire value (also cert-manager's `State` value where one exists).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ready => "ready",
            Status::Processing => "processing",
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Expired => "expired",
            Status::Deactivated => "deactivated",
            Status::Revoked => "revoked",
            Status::Unknown => "unknown",
        }
    }

    /// Whether nothing will change any more without a new request from the client
    /// (`valid`, `invalid`, `expired`, `deactivated`, `revoked`).
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            Status::Pending | Status::Ready | Status::Processing | Status::Unknown
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The directory (RFC 8555 §7.1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// newNonce URL.
    pub new_nonce: String,
    /// newAccount URL.
    pub new_account: String,
    /// newOrder URL.
    pub new_order: String,
    /// newAuthz URL (pre-authorization; rarely offered).
    #[serde(default)]
    pub new_authz: Option<String>,
    /// revokeCert URL.
    #[serde(default)]
    pub revoke_cert: Option<String>,
    /// keyChange URL.
    #[serde(default)]
    pub key_change: Option<String>,
    /// ACME Renewal Information (RFC 9773) base URL.
    #[serde(default)]
    pub renewal_info: Option<String>,
    /// Metadata.
    #[serde(default)]
    pub meta: DirectoryMeta,
}

/// The directory's `meta` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryMeta {
    /// The current terms of service.
    #[serde(default)]
    pub terms_of_service: Option<String>,
    /// The CA's website.
    #[serde(default)]
    pub website: Option<String>,
    /// CAA issuer domain names.
    #[serde(default)]
    pub caa_identities: Vec<String>,
    /// Whether newAccount requires an External Account Binding.
    #[serde(default)]
    pub external_account_required: bool,
    /// Certificate profiles offered (name to description), draft-ietf-acme-profiles.
    #[serde(default)]
    pub profiles: BTreeMap<String, String>,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The account URL (the `kid` of later requests; cert-manager's `status.acme.uri`).
    pub uri: String,
    /// `valid`, `deactivated` or `revoked`.
    pub status: Status,
    /// Contact URLs (`mailto:`).
    pub contact: Vec<String>,
    /// The orders list URL, if the server gives one.
    pub orders: Option<String>,
    /// Whether this request created the account (201); `false` when the key already had one.
    pub created: bool,
}

/// What to order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewOrder {
    /// DNS names and IP addresses.
    pub identifiers: Vec<Identifier>,
    /// Requested `notBefore`.
    pub not_before: Option<jiff::Timestamp>,
    /// Requested `notAfter` (cert-manager: `spec.duration` with `enableDurationFeature`).
    pub not_after: Option<jiff::Timestamp>,
    /// Certificate profile (must be one the directory lists).
    pub profile: Option<String>,
    /// ARI: the certificate this order replaces (RFC 9773 `replaces`).
    pub replaces: Option<String>,
}

impl NewOrder {
    /// An order for DNS names and IP addresses.
    pub fn new<S: AsRef<str>>(dns_names: &[S], ip_addresses: &[IpAddr]) -> Self {
        let mut identifiers: Vec<Identifier> = dns_names
            .iter()
            .map(|n| Identifier::dns(n.as_ref()))
            .collect();
        identifiers.extend(ip_addresses.iter().copied().map(Identifier::ip));
        Self {
            identifiers,
            ..Self::default()
        }
    }
}

/// An order (RFC 8555 §7.1.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// The order URL (from `Location` on creation and finalization, or the URL it was
    /// fetched from). Empty only if a finalize answer carried no `Location`.
    #[serde(skip)]
    pub url: String,
    /// Status.
    pub status: Status,
    /// When a pending order expires (RFC 3339).
    #[serde(default)]
    pub expires: Option<String>,
    /// The identifiers.
    #[serde(default)]
    pub identifiers: Vec<Identifier>,
    /// Requested notBefore (RFC 3339).
    #[serde(default)]
    pub not_before: Option<String>,
    /// Requested notAfter (RFC 3339).
    #[serde(default)]
    pub not_after: Option<String>,
    /// Authorization URLs.
    #[serde(default)]
    pub authorizations: Vec<String>,
    /// Where to POST the CSR.
    #[serde(default)]
    pub finalize: String,
    /// The certificate URL once `valid`.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Why the order is `invalid`.
    #[serde(default)]
    pub error: Option<Problem>,
    /// The certificate profile.
    #[serde(default)]
    pub profile: Option<String>,
    /// The response's `Retry-After` (poll hint while `processing`).
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

/// An authorization (RFC 8555 §7.1.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// The authorization URL it was fetched from.
    #[serde(skip)]
    pub url: String,
    /// The identifier (without `*.` for wildcards).
    pub identifier: Identifier,
    /// Status.
    pub status: Status,
    /// Expiry (RFC 3339).
    #[serde(default)]
    pub expires: Option<String>,
    /// The challenges offered (or, once valid, the one that succeeded).
    #[serde(default)]
    pub challenges: Vec<Challenge>,
    /// Whether the order asked for `*.` + identifier.
    #[serde(default)]
    pub wildcard: bool,
}

impl Authorization {
    /// The challenge of this type (`http-01`, `dns-01`, `tls-alpn-01`), if offered.
    pub fn challenge(&self, type_: &str) -> Option<&Challenge> {
        self.challenges.iter().find(|c| c.type_ == type_)
    }
}

/// A challenge (RFC 8555 §7.1.5, §8).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    /// `http-01`, `dns-01`, `tls-alpn-01`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// The challenge URL.
    pub url: String,
    /// Status.
    pub status: Status,
    /// The token (absent for unknown challenge types).
    #[serde(default)]
    pub token: String,
    /// When it was validated (RFC 3339).
    #[serde(default)]
    pub validated: Option<String>,
    /// Why validation failed.
    #[serde(default)]
    pub error: Option<Problem>,
}

/// A downloaded certificate chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateChain {
    /// `application/pem-certificate-chain`: the leaf first, then the issuers.
    pub pem: String,
    /// URLs of alternate chains (`Link: <...>;rel="alternate"`).
    pub alternates: Vec<String>,
}

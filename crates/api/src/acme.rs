//! ACME issuer configuration (`spec.acme` of an Issuer or ClusterIssuer) and its challenge
//! solvers. The Order and Challenge resources live in [`crate::order`] and [`crate::challenge`].

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::macros::string_enum;
use crate::meta::SecretKeySelector;

pub mod dns01;
pub mod http01;

pub use dns01::*;
pub use http01::*;

/// Finalizer the controller puts on Challenges.
pub const FINALIZER: &str = "acme.cert-manager.io/finalizer";
/// Finalizer name used by older cert-manager versions; still removed when found.
pub const LEGACY_FINALIZER: &str = "finalizer.acme.cert-manager.io";

/// An RFC 8555 (ACME) issuer: obtains certificates by solving challenges that prove control of
/// the requested identifiers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuer {
    /// Contact email of the ACME account (recommended; used for expiry and problem notices).
    /// May change after registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,

    /// URL of the ACME server's directory, for example
    /// `https://acme-staging-v02.api.letsencrypt.org/directory`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub server: String,

    /// When the server offers several chains, prefer the one whose root-most certificate was
    /// issued by this common name (for example `ISRG Root X1`). Best effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub preferred_chain: Option<String>,

    /// Base64 PEM bundle of CAs trusted for the ACME server's TLS certificate. Exclusive with
    /// `skipTLSVerify`; the system bundle is used when neither is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub ca_bundle: Option<ByteString>,

    /// INSECURE: do not verify the ACME server's TLS certificate. Development only. Exclusive
    /// with `caBundle`.
    #[serde(
        rename = "skipTLSVerify",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_tls_verify: Option<bool>,

    /// External account of the CA to bind the ACME account to when registering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_account_binding: Option<AcmeExternalAccountBinding>,

    /// Secret that stores the ACME account private key (generated unless
    /// `disableAccountKeyGeneration`). `key` defaults to `tls.key`.
    #[serde(rename = "privateKeySecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub private_key: SecretKeySelector,

    /// Challenge solvers, chosen per identifier by their selectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub solvers: Option<Vec<AcmeChallengeSolver>>,

    /// Use the account key already in the Secret instead of generating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_account_key_generation: Option<bool>,

    /// Ask the server for a NotAfter matching the requested duration. Servers that do not
    /// support it (Let's Encrypt) fail the Order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_duration_feature: Option<bool>,

    /// Certificate profile to request; the server's directory lists the supported ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// External account binding credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeExternalAccountBinding {
    /// Key ID of the external account.
    #[serde(rename = "keyID", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub key_id: String,

    /// Secret key holding the MAC key, as unpadded base64url.
    #[serde(rename = "keySecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub key: SecretKeySelector,

    /// Deprecated and ignored: the MAC algorithm is always HS256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<HmacKeyAlgorithm>,
}

string_enum! {
    /// HMAC algorithm of an external account binding.
    pub enum HmacKeyAlgorithm (enum) {
        Hs256 = "HS256",
        Hs384 = "HS384",
        Hs512 = "HS512",
    }
}

/// How to solve challenges for the identifiers this solver's selector matches. Exactly one of
/// `http01` and `dns01`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolver {
    /// Which Certificates and DNS names use this solver; without it the solver is the
    /// lowest-priority default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<CertificateDnsNameSelector>,

    /// Solve with HTTP-01 (not possible for wildcard names).
    #[serde(rename = "http01", default, skip_serializing_if = "Option::is_none")]
    pub http01: Option<AcmeChallengeSolverHttp01>,

    /// Solve with DNS-01.
    #[serde(rename = "dns01", default, skip_serializing_if = "Option::is_none")]
    pub dns01: Option<AcmeChallengeSolverDns01>,

    /// Skip cert-manager's self check and wait this long after presenting before asking the
    /// server to validate (for split-horizon DNS or NAT hairpinning). `0` asks at once,
    /// relying on the server's retries. Must not be negative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_instead_of_self_check: Option<Duration>,
}

/// Selects Certificates by labels and, optionally, DNS names or zones within them. Empty
/// matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateDnsNameSelector {
    /// Labels the Certificate must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,

    /// Exact DNS names; a match here beats a `dnsZones` match. Ties go to the solver with
    /// more matching labels, then to the earlier one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub dns_names: Option<Vec<String>>,

    /// DNS zones; the most specific matching zone wins. Ties go to the solver with more
    /// matching labels, then to the earlier one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub dns_zones: Option<Vec<String>>,
}

/// ACME account state recorded on the issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerStatus {
    /// Account URL at the CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,

    /// Email of the last registration, to notice changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_registered_email: Option<String>,

    /// Hash of the account key of the last registration, to notice changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_private_key_hash: Option<String>,
}

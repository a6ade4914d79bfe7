//! `Order` (`acme.cert-manager.io/v1`): one ACME order for one CertificateRequest.

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::macros::string_enum;
use crate::meta::IssuerReference;

/// Spec of an Order.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "acme.cert-manager.io",
    version = "v1",
    kind = "Order",
    namespaced,
    status = "OrderStatus",
    category = "cert-manager",
    category = "cert-manager-acme",
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".status.state"}"#,
    printcolumn = r#"{"name":"Issuer","type":"string","jsonPath":".spec.issuerRef.name","priority":1}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.reason","priority":1,"description":""}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."}"#,
    selectable = ".spec.issuerRef.group",
    selectable = ".spec.issuerRef.kind",
    selectable = ".spec.issuerRef.name",
    derive = "PartialEq",
    doc = "An Order is one certificate order placed with an ACME server."
)]
#[serde(rename_all = "camelCase")]
pub struct OrderSpec {
    /// The CSR (DER) sent when finalizing the order.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::bytes", extend("x-cert-manager-rs-required" = true))]
    pub request: ByteString,

    /// ACME issuer the order is placed with; retried while it does not exist, failed when it
    /// is not an ACME issuer.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub issuer_ref: IssuerReference,

    /// Common name of the CSR; must also appear in `dnsNames` or `ipAddresses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,

    /// DNS identifiers to validate; must match the CSR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub dns_names: Option<Vec<String>>,

    /// IP identifiers to validate; must match the CSR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub ip_addresses: Option<Vec<String>>,

    /// Requested lifetime, sent as the order's NotAfter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,

    /// Certificate profile to request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,

    /// ARI CertID (`base64url(AKI).base64url(serial)`, RFC 9773 4.1) of the certificate this
    /// order replaces; sent only to servers that support ARI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// Observed state of an Order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatus {
    /// URL of the order at the ACME server; immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,

    /// URL to finalize the order at.
    #[serde(
        rename = "finalizeURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub finalize_url: Option<String>,

    /// Authorizations the server requires for this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub authorizations: Option<Vec<AcmeAuthorization>>,

    /// The issued certificate (PEM), once the order is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub certificate: Option<ByteString>,

    /// State of the order; `valid`, `invalid`, `expired` and `errored` are final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,

    /// Why the order is in its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// When the order failed; drives garbage collection and back-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_time: Option<Time>,
}

/// An authorization of an Order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeAuthorization {
    /// URL of the authorization.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub url: String,

    /// The identifier (DNS name without `*.`) being authorized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,

    /// Whether the identifier was requested as a wildcard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wildcard: Option<bool>,

    /// State when first fetched; already-`valid` authorizations get no Challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_state: Option<State>,

    /// Challenges the server offers; one supported type is picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub challenges: Option<Vec<AcmeChallenge>>,
}

/// A challenge offered by the ACME server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallenge {
    /// URL of the challenge.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub url: String,

    /// Token from which the key authorization is computed.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub token: String,

    /// Challenge type as the server names it (`http-01`, `dns-01`, ...); others are ignored.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub challenge_type: String,
}

string_enum! {
    /// State of an ACME resource, as in RFC 8555 7.1.6, plus `errored` for internal
    /// failures. Unknown values must be tolerated.
    pub enum State (enum) {
        Valid = "valid",
        Ready = "ready",
        Pending = "pending",
        Processing = "processing",
        Invalid = "invalid",
        Expired = "expired",
        Errored = "errored",
    }
}

impl State {
    /// Whether no further transitions will happen.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            State::Valid | State::Invalid | State::Expired | State::Errored
        )
    }
}

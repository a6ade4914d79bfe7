//! `Challenge` (`acme.cert-manager.io/v1`): one ACME challenge being solved.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::acme::AcmeChallengeSolver;
use crate::macros::string_enum;
use crate::meta::IssuerReference;
use crate::order::State;

/// Spec of a Challenge; immutable after creation.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "acme.cert-manager.io",
    version = "v1",
    kind = "Challenge",
    namespaced,
    status = "ChallengeStatus",
    category = "cert-manager",
    category = "cert-manager-acme",
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".status.state"}"#,
    printcolumn = r#"{"name":"Domain","type":"string","jsonPath":".spec.dnsName"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.reason","priority":1,"description":""}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."}"#,
    selectable = ".spec.issuerRef.group",
    selectable = ".spec.issuerRef.kind",
    selectable = ".spec.issuerRef.name",
    derive = "PartialEq",
    doc = "A Challenge is one ACME challenge that cert-manager is solving."
)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeSpec {
    /// URL of the challenge at the ACME server.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub url: String,

    /// URL of the authorization the challenge belongs to.
    #[serde(rename = "authorizationURL", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub authorization_url: String,

    /// Identifier being proven, without the `*.` of a wildcard.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub dns_name: String,

    /// Whether the identifier was requested as a wildcard.
    #[serde(default)]
    pub wildcard: bool,

    /// `HTTP-01` or `DNS-01`.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub challenge_type: AcmeChallengeType,

    /// Challenge token as returned by the server.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub token: String,

    /// What to present: for HTTP-01 the key authorization
    /// (`<token>.<account key thumbprint>`), for DNS-01 its base64url SHA-256 digest.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub key: String,

    /// Solver configuration chosen for this challenge.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub solver: AcmeChallengeSolver,

    /// ACME issuer the challenge belongs to.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub issuer_ref: IssuerReference,
}

string_enum! {
    /// Challenge types cert-manager solves.
    pub enum AcmeChallengeType (enum) {
        Http01 = "HTTP-01",
        Dns01 = "DNS-01",
    }
}

/// Observed state of a Challenge.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeStatus {
    /// Whether the controller should work on this challenge; set by the scheduler, cleared
    /// when the challenge is final or timed out.
    #[serde(default)]
    pub processing: bool,

    /// Whether the solver resources (TXT record, solver pod and route) are in place. Says
    /// nothing about self checks or server validation.
    #[serde(default)]
    pub presented: bool,

    /// When the solver resources were first put in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presented_at: Option<Time>,

    /// Why the challenge is in its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// State of the challenge; unknown when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

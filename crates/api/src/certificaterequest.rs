//! `CertificateRequest` (`cert-manager.io/v1`): a one-shot request to sign a CSR.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::certificate::KeyUsage;
use crate::duration::Duration;
use crate::macros::string_enum;
use crate::meta::{ConditionStatus, IssuerReference};

/// `Ready` reason while the request is being processed.
pub const REASON_PENDING: &str = "Pending";
/// `Ready` reason for a permanent failure (`status.failureTime` is set).
pub const REASON_FAILED: &str = "Failed";
/// `Ready` reason once `status.certificate` is set.
pub const REASON_ISSUED: &str = "Issued";
/// `Ready` reason when the request was denied; it will never be signed.
pub const REASON_DENIED: &str = "Denied";

/// Spec of a CertificateRequest. Immutable after creation; the identity fields are filled in
/// by the webhook from the creating user.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "cert-manager.io",
    version = "v1",
    kind = "CertificateRequest",
    namespaced,
    status = "CertificateRequestStatus",
    shortname = "cr",
    shortname = "crs",
    category = "cert-manager",
    printcolumn = r#"{"name":"Approved","type":"string","jsonPath":".status.conditions[?(@.type == \"Approved\")].status"}"#,
    printcolumn = r#"{"name":"Denied","type":"string","jsonPath":".status.conditions[?(@.type == \"Denied\")].status"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Issuer","type":"string","jsonPath":".spec.issuerRef.name"}"#,
    printcolumn = r#"{"name":"Requester","type":"string","jsonPath":".spec.username"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].message","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."}"#,
    selectable = ".spec.issuerRef.group",
    selectable = ".spec.issuerRef.kind",
    selectable = ".spec.issuerRef.name",
    derive = "PartialEq",
    doc = "A CertificateRequest asks an issuer to sign one CSR. It succeeds or fails once (see the `Ready` condition and `status.failureTime`) and is never reused; its spec cannot change."
)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRequestSpec {
    /// Requested lifetime as a Go duration; the issuer may ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,

    /// Issuer that should sign the request. `name` is required.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub issuer_ref: IssuerReference,

    /// PEM-encoded PKCS#10 CSR. Its basic constraints and key usage extensions, when present,
    /// must match `isCA` and `usages`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::bytes", extend("x-cert-manager-rs-required" = true))]
    pub request: ByteString,

    /// Requests a CA certificate; must match the CSR's basic constraints when present. Adds
    /// the `cert sign` usage.
    #[serde(rename = "isCA", default, skip_serializing_if = "Option::is_none")]
    pub is_ca: Option<bool>,

    /// Requested usages; must equal the CSR's key usage extensions when present. Defaults to
    /// `digital signature` and `key encipherment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub usages: Option<Vec<KeyUsage>>,

    /// Name of the user who created the request (set by the webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,

    /// UID of the user who created the request (set by the webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,

    /// Groups of the user who created the request (set by the webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub groups: Option<Vec<String>>,

    /// Extra attributes of the user who created the request (set by the webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, Vec<String>>>,
}

/// Observed state of a CertificateRequest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRequestStatus {
    /// Conditions; known types are `Ready`, `InvalidRequest`, `Approved` and `Denied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<CertificateRequestCondition>>,

    /// The signed certificate (PEM); unset until issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub certificate: Option<ByteString>,

    /// The signing CA's certificate (PEM), when the issuer knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub ca: Option<ByteString>,

    /// When the request failed; drives garbage collection and back-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_time: Option<Time>,
}

/// A CertificateRequest condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRequestCondition {
    /// Condition type: `Ready`, `InvalidRequest`, `Approved` or `Denied`.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub condition_type: CertificateRequestConditionType,

    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub status: ConditionStatus,

    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,

    /// Machine-readable reason for the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// Human-readable details of the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

string_enum! {
    /// CertificateRequest condition type.
    pub enum CertificateRequestConditionType (string) {
        /// `status.certificate` holds the signed certificate.
        Ready = "Ready",
        /// The signer refused the request because of its content.
        InvalidRequest = "InvalidRequest",
        /// Approved for signing; only ever True and never changed once set.
        Approved = "Approved",
        /// Denied; it must never be signed. Only ever True and never changed once set.
        Denied = "Denied",
    }
}

impl CertificateRequest {
    /// The condition of the given type, if present.
    pub fn condition(
        &self,
        condition_type: &CertificateRequestConditionType,
    ) -> Option<&CertificateRequestCondition> {
        self.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| &c.condition_type == condition_type)
    }
}

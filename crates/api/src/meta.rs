//! Types shared by every cert-manager API group (Go package `pkg/apis/meta/v1`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::macros::string_enum;

/// API group of the built-in issuers and of Certificates and CertificateRequests.
pub const CERT_MANAGER_GROUP: &str = "cert-manager.io";
/// API group of Orders and Challenges.
pub const ACME_GROUP: &str = "acme.cert-manager.io";
/// Kind of a namespaced issuer.
pub const ISSUER_KIND: &str = "Issuer";
/// Kind of a cluster-scoped issuer.
pub const CLUSTER_ISSUER_KIND: &str = "ClusterIssuer";

string_enum! {
    /// Status of a condition.
    pub enum ConditionStatus (enum) {
        True = "True",
        False = "False",
        Unknown = "Unknown",
    }
}

/// Names an object in the same namespace. For a ClusterIssuer the namespace is the controller's
/// cluster resource namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectReference {
    /// Name of the referenced object.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub name: String,
}

/// Points at the issuer that should sign: name, kind and API group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerReference {
    /// Name of the issuer.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub name: String,
    /// Kind of the issuer; empty means `Issuer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group of the issuer; empty means `cert-manager.io`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl IssuerReference {
    /// The kind, with an empty or missing value read as `Issuer` (as the controller does).
    pub fn effective_kind(&self) -> &str {
        match self.kind.as_deref() {
            None | Some("") => ISSUER_KIND,
            Some(k) => k,
        }
    }

    /// The group, with an empty or missing value read as `cert-manager.io`.
    pub fn effective_group(&self) -> &str {
        match self.group.as_deref() {
            None | Some("") => CERT_MANAGER_GROUP,
            Some(g) => g,
        }
    }
}

/// Selects one entry of a Secret's `data`. Whether `key` is required depends on the field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeySelector {
    /// Name of the Secret.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub name: String,
    /// Key within the Secret's `data`; some fields default it when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl SecretKeySelector {
    /// The key, or `""` when unset.
    pub fn key_str(&self) -> &str {
        self.key.as_deref().unwrap_or("")
    }
}

/// A ServiceAccount whose bound token cert-manager requests (with a 10 minute lifetime) to
/// authenticate to Vault, AWS or another identity provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountRef {
    /// Name of the ServiceAccount.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub name: String,
    /// Extra audiences for the token; the default audiences are always included.
    #[serde(rename = "audiences", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub token_audiences: Option<Vec<String>>,
}

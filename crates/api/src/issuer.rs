//! `Issuer` and `ClusterIssuer` (`cert-manager.io/v1`) and the non-ACME, non-Vault issuer
//! configurations (CA, self-signed, Venafi).
//!
//! Both kinds share one configuration, [`IssuerConfig`]; their spec types are transparent
//! wrappers of it (Go's `IssuerSpec` embeds it) and dereference to it, so `issuer.spec.acme`
//! reads naturally. (Transparent rather than `#[serde(flatten)]`, which would hide the path of
//! a decoding error inside the spec.)

use std::ops::{Deref, DerefMut};

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::acme::{AcmeIssuer, AcmeIssuerStatus};
use crate::macros::string_enum;
use crate::meta::{ConditionStatus, LocalObjectReference, SecretKeySelector};
use crate::vault::VaultIssuer;

/// Spec of a namespaced Issuer: exactly one issuer configuration.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "cert-manager.io",
    version = "v1",
    kind = "Issuer",
    namespaced,
    status = "IssuerStatus",
    shortname = "iss",
    category = "cert-manager",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].message","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."}"#,
    derive = "PartialEq",
    doc = "An Issuer is a certificate authority that `issuerRef` fields in the same namespace can name."
)]
#[serde(transparent)]
pub struct IssuerSpec {
    pub config: IssuerConfig,
}

/// Spec of a ClusterIssuer: exactly one issuer configuration.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "cert-manager.io",
    version = "v1",
    kind = "ClusterIssuer",
    status = "IssuerStatus",
    shortname = "ciss",
    category = "cert-manager",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type == \"Ready\")].message","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp","description":"CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC."}"#,
    derive = "PartialEq",
    doc = "A ClusterIssuer is a cluster-scoped certificate authority that `issuerRef` fields in any namespace can name. Its Secrets are read from the controller's cluster resource namespace."
)]
#[serde(transparent)]
pub struct ClusterIssuerSpec {
    pub config: IssuerConfig,
}

macro_rules! deref_config {
    ($t:ty) => {
        impl Deref for $t {
            type Target = IssuerConfig;
            fn deref(&self) -> &IssuerConfig {
                &self.config
            }
        }
        impl DerefMut for $t {
            fn deref_mut(&mut self) -> &mut IssuerConfig {
                &mut self.config
            }
        }
        impl From<IssuerConfig> for $t {
            fn from(config: IssuerConfig) -> Self {
                Self { config }
            }
        }
    };
}
deref_config!(IssuerSpec);
deref_config!(ClusterIssuerSpec);

/// What Issuer and ClusterIssuer have in common, for code that handles either.
pub trait GenericIssuer: kube::Resource<DynamicType = ()> {
    fn issuer_config(&self) -> &IssuerConfig;
    fn issuer_status(&self) -> Option<&IssuerStatus>;
}

impl GenericIssuer for Issuer {
    fn issuer_config(&self) -> &IssuerConfig {
        &self.spec.config
    }
    fn issuer_status(&self) -> Option<&IssuerStatus> {
        self.status.as_ref()
    }
}

impl GenericIssuer for ClusterIssuer {
    fn issuer_config(&self) -> &IssuerConfig {
        &self.spec.config
    }
    fn issuer_status(&self) -> Option<&IssuerStatus> {
        self.status.as_ref()
    }
}

/// The issuer configuration; exactly one member may be set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerConfig {
    /// Obtain certificates from an RFC 8555 (ACME) server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<AcmeIssuer>,

    /// Sign with a CA key pair stored in a Secret (an internal PKI managed by cert-manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaIssuer>,

    /// Sign with a HashiCorp Vault PKI backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultIssuer>,

    /// Sign each request with its own private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<SelfSignedIssuer>,

    /// Sign with a CyberArk Certificate Manager (Venafi) zone. Accepted for compatibility;
    /// cert-manager-rs does not implement this issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venafi: Option<VenafiIssuer>,
}

/// CA issuer: signs with the key pair in a Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaIssuer {
    /// Secret (`tls.crt`, `tls.key`) holding the signing CA.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub secret_name: String,

    /// CRL distribution point URLs to put into issued certificates; none when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub crl_distribution_points: Option<Vec<String>>,

    /// OCSP responder URLs to put into issued certificates, for example
    /// `http://ocsp.int-x3.letsencrypt.org`; none when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub ocsp_servers: Option<Vec<String>>,

    /// CA issuer URLs (authority information access, RFC 5280 4.2.2.1) to put into issued
    /// certificates, for example `http://ca.domain.com/ca.crt`.
    #[serde(
        rename = "issuingCertificateURLs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub issuing_certificate_urls: Option<Vec<String>>,
}

/// Self-signed issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfSignedIssuer {
    /// CRL distribution point URLs to put into issued certificates; none when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub crl_distribution_points: Option<Vec<String>>,
}

/// CyberArk Certificate Manager (Venafi) issuer: exactly one of `tpp`, `cloud` and `ngts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "message": "exactly one of tpp, cloud, or ngts must be configured",
    "rule": "(has(self.tpp) ? 1 : 0) + (has(self.cloud) ? 1 : 0) + (has(self.ngts) ? 1 : 0) == 1",
}]))]
pub struct VenafiIssuer {
    /// Policy zone all requests are made in.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub zone: String,

    /// Self-hosted (TPP) connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpp: Option<VenafiTpp>,

    /// SaaS connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<VenafiCloud>,

    /// Palo Alto Networks Next Generation Trust Services connection (OAuth 2.0 client
    /// credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngts: Option<VenafiNgts>,
}

/// NGTS connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenafiNgts {
    /// API base URL; `https://api.strata.paloaltonetworks.com/ngts` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,

    /// OAuth 2.0 token endpoint; `https://auth.apps.paloaltonetworks.com/oauth2/access_token`
    /// when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,

    /// Tenant Service Group ID scoping the token (the `tsg_id:` prefix is added).
    #[serde(rename = "tsgID", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub tsg_id: String,

    /// Secret with `client-id` and `client-secret`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub credentials_ref: LocalObjectReference,
}

/// Self-hosted (TPP) connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenafiTpp {
    /// Base URL of the vedsdk endpoint, for example `https://tpp.example.com/vedsdk`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub url: String,

    /// Secret with `access-token`, or with `username` and `password`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub credentials_ref: LocalObjectReference,

    /// Base64 PEM bundle of CAs trusted for the server (HTTPS only). Exclusive with
    /// `caBundleSecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub ca_bundle: Option<ByteString>,

    /// Secret key holding a PEM bundle of CAs trusted for the server (HTTPS only). Exclusive
    /// with `caBundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_secret_ref: Option<SecretKeySelector>,
}

/// SaaS connection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenafiCloud {
    /// Base URL; `https://api.venafi.cloud/` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,

    /// Secret key holding the API token.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub api_token_secret_ref: SecretKeySelector,
}

/// Observed state of an Issuer or ClusterIssuer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerStatus {
    /// Conditions; the known type is `Ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Option<Vec<IssuerCondition>>,

    /// ACME account state; only for ACME issuers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<AcmeIssuerStatus>,
}

/// An Issuer condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerCondition {
    /// Condition type; `Ready`.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub condition_type: IssuerConditionType,

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

    /// `metadata.generation` the condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

string_enum! {
    /// Issuer condition type.
    pub enum IssuerConditionType (string) {
        /// The issuer can sign; when False, requests are not attempted.
        Ready = "Ready",
    }
}

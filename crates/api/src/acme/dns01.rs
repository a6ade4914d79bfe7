//! DNS-01 solver configuration: one provider per solver, plus the CNAME strategy.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::macros::string_enum;
use crate::meta::{SecretKeySelector, ServiceAccountRef};

/// DNS-01 solver. Exactly one provider may be configured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeChallengeSolverDns01 {
    /// Whether to follow CNAMEs from `_acme-challenge.<domain>` to find the zone to update
    /// (`Follow`), or not (`None`, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname_strategy: Option<CnameStrategy>,

    /// Akamai Edge DNS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub akamai: Option<AcmeIssuerDns01ProviderAkamai>,

    /// Google Cloud DNS.
    #[serde(rename = "cloudDNS", default, skip_serializing_if = "Option::is_none")]
    pub cloud_dns: Option<AcmeIssuerDns01ProviderCloudDns>,

    /// Cloudflare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudflare: Option<AcmeIssuerDns01ProviderCloudflare>,

    /// AWS Route 53.
    #[serde(rename = "route53", default, skip_serializing_if = "Option::is_none")]
    pub route53: Option<AcmeIssuerDns01ProviderRoute53>,

    /// Azure DNS (public or private zones).
    #[serde(rename = "azureDNS", default, skip_serializing_if = "Option::is_none")]
    pub azure_dns: Option<AcmeIssuerDns01ProviderAzureDns>,

    /// DigitalOcean Domains.
    #[serde(
        rename = "digitalocean",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub digital_ocean: Option<AcmeIssuerDns01ProviderDigitalOcean>,

    /// An acme-dns server (github.com/joohoi/acme-dns).
    #[serde(rename = "acmeDNS", default, skip_serializing_if = "Option::is_none")]
    pub acme_dns: Option<AcmeIssuerDns01ProviderAcmeDns>,

    /// RFC 2136 dynamic updates, optionally signed with TSIG.
    #[serde(rename = "rfc2136", default, skip_serializing_if = "Option::is_none")]
    pub rfc2136: Option<AcmeIssuerDns01ProviderRfc2136>,

    /// An out-of-tree solver served by a webhook API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<AcmeIssuerDns01ProviderWebhook>,
}

string_enum! {
    /// CNAME handling when looking for the zone to update.
    pub enum CnameStrategy (enum) {
        None = "None",
        Follow = "Follow",
    }
}

/// Akamai Edge DNS (Zone Record Management API) credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderAkamai {
    /// API host of the Akamai account.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub service_consumer_domain: String,

    /// Secret key holding the client token.
    #[serde(rename = "clientTokenSecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub client_token: SecretKeySelector,

    /// Secret key holding the client secret.
    #[serde(rename = "clientSecretSecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub client_secret: SecretKeySelector,

    /// Secret key holding the access token.
    #[serde(rename = "accessTokenSecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub access_token: SecretKeySelector,
}

/// Google Cloud DNS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderCloudDns {
    /// Secret key holding a service account JSON key; ambient credentials when unset.
    #[serde(
        rename = "serviceAccountSecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_account: Option<SecretKeySelector>,

    /// Google Cloud project of the zone.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub project: String,

    /// Cloud DNS zone for the record; found automatically when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_name: Option<String>,
}

/// Cloudflare credentials: an API token (recommended) or an API key with the account email.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderCloudflare {
    /// Account email; needed with `apiKeySecretRef` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,

    /// Secret key holding a global API key.
    #[serde(
        rename = "apiKeySecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_key: Option<SecretKeySelector>,

    /// Secret key holding a scoped API token.
    #[serde(
        rename = "apiTokenSecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_token: Option<SecretKeySelector>,
}

/// DigitalOcean credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderDigitalOcean {
    /// Secret key holding the API token.
    #[serde(rename = "tokenSecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub token: SecretKeySelector,
}

/// AWS Route 53. Without explicit credentials the SDK's ambient chain is used (environment,
/// shared config, instance metadata, IRSA, Pod Identity).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderRoute53 {
    /// Authenticate with a bound ServiceAccount token (AssumeRoleWithWebIdentity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Route53Auth>,

    /// Access key ID. Exclusive with `accessKeyIDSecretRef`.
    #[serde(
        rename = "accessKeyID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub access_key_id: Option<String>,

    /// Secret key holding the access key ID. Exclusive with `accessKeyID`.
    #[serde(
        rename = "accessKeyIDSecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_access_key_id: Option<SecretKeySelector>,

    /// Secret key holding the secret access key.
    #[serde(
        rename = "secretAccessKeySecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_access_key: Option<SecretKeySelector>,

    /// Role ARN to assume with the explicit or ambient credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,

    /// Only manage this hosted zone, skipping the ListHostedZonesByName lookup.
    #[serde(
        rename = "hostedZoneID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub hosted_zone_id: Option<String>,

    /// Region used to pick the credential scope and partition; `AWS_REGION` or
    /// `AWS_DEFAULT_REGION` when unset. Not needed with IRSA or Pod Identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Route 53 authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Route53Auth {
    /// Authenticate with a bound ServiceAccount token.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub kubernetes: Option<Route53KubernetesAuth>,
}

/// Route 53 authentication with a ServiceAccount token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Route53KubernetesAuth {
    /// ServiceAccount whose token is exchanged (cert-manager needs RBAC to create tokens for
    /// it). The audience defaults to `sts.amazonaws.com`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub service_account_ref: Option<ServiceAccountRef>,
}

/// Azure DNS. Either a service principal (`clientID`, `clientSecretSecretRef`, `tenantID`) or
/// a managed/workload identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderAzureDns {
    /// Service principal client ID; needs `clientSecretSecretRef` and `tenantID`.
    #[serde(rename = "clientID", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,

    /// Secret key holding the service principal password; needs `clientID` and `tenantID`.
    #[serde(
        rename = "clientSecretSecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<SecretKeySelector>,

    /// Azure subscription ID.
    #[serde(rename = "subscriptionID", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub subscription_id: String,

    /// Service principal tenant ID; needs `clientID` and `clientSecretSecretRef`.
    #[serde(rename = "tenantID", default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,

    /// Resource group of the zone.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub resource_group_name: String,

    /// Name of the zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_name: Option<String>,

    /// Azure cloud; `AzurePublicCloud` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<AzureDnsEnvironment>,

    /// Workload identity or managed identity; exclusive with the service principal fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_identity: Option<AzureManagedIdentity>,

    /// `AzurePublicZone` (default) or `AzurePrivateZone` (experimental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_type: Option<AzureZoneType>,
}

string_enum! {
    /// Azure DNS zone type.
    pub enum AzureZoneType (enum) {
        AzurePublicZone = "AzurePublicZone",
        AzurePrivateZone = "AzurePrivateZone",
    }
}

string_enum! {
    /// Azure cloud environment.
    pub enum AzureDnsEnvironment (enum) {
        AzurePublicCloud = "AzurePublicCloud",
        AzureChinaCloud = "AzureChinaCloud",
        AzureGermanCloud = "AzureGermanCloud",
        AzureUsGovernmentCloud = "AzureUSGovernmentCloud",
    }
}

/// Azure workload identity (when `AZURE_FEDERATED_TOKEN_FILE` is set) or managed identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureManagedIdentity {
    /// Client ID of the identity; exclusive with `resourceID`.
    #[serde(rename = "clientID", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,

    /// Resource ID of the identity; exclusive with `clientID` and `tenantID`. Not usable
    /// with managed service identity.
    #[serde(
        rename = "resourceID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_id: Option<String>,

    /// Tenant ID of the identity; exclusive with `resourceID`.
    #[serde(rename = "tenantID", default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// acme-dns server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderAcmeDns {
    /// URL of the acme-dns server.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub host: String,

    /// Secret key holding the JSON account registrations per domain.
    #[serde(rename = "accountSecretRef", default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub account_secret: SecretKeySelector,
}

/// RFC 2136 dynamic DNS updates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderRfc2136 {
    /// Authoritative server as `host[:port]`; an IPv6 host in brackets (`[2001:db8::1]:53`).
    /// The port defaults to 53.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub nameserver: String,

    /// Secret key holding the TSIG secret; required with `tsigKeyName`.
    #[serde(
        rename = "tsigSecretSecretRef",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tsig_secret: Option<SecretKeySelector>,

    /// TSIG key name; required with `tsigSecretSecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsig_key_name: Option<String>,

    /// TSIG algorithm, case-insensitive: `HMACMD5` (default), `HMACSHA1`, `HMACSHA256` or
    /// `HMACSHA512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsig_algorithm: Option<String>,

    /// Transport of the updates: `UDP` (default) or `TCP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Rfc2136UpdateProtocol>,
}

string_enum! {
    /// Transport of RFC 2136 updates.
    pub enum Rfc2136UpdateProtocol (enum) {
        Tcp = "TCP",
        Udp = "UDP",
    }
}

/// Out-of-tree DNS-01 solver reached through an aggregated API server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcmeIssuerDns01ProviderWebhook {
    /// API group the solver's webhook serves (as the solver implementation declares it).
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub group_name: String,

    /// Name of the solver within that group, for example `cloudflare`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub solver_name: String,

    /// Solver-specific configuration, passed through as arbitrary JSON. Reference Secrets for
    /// credentials instead of putting them here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_json")]
    pub config: Option<serde_json::Value>,
}

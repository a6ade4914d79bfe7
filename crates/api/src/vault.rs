//! Vault issuer configuration (`spec.vault`): signs with a HashiCorp Vault (or OpenBao) PKI
//! mount.

use k8s_openapi::ByteString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{SecretKeySelector, ServiceAccountRef};

/// Default `key` of `auth.tokenSecretRef`.
pub const DEFAULT_TOKEN_SECRET_KEY: &str = "token";
/// Default `mountPath` of Kubernetes auth.
pub const DEFAULT_KUBERNETES_AUTH_MOUNT_PATH: &str = "/v1/auth/kubernetes";
/// Default `mountPath` of client certificate auth.
pub const DEFAULT_CLIENT_CERTIFICATE_AUTH_MOUNT_PATH: &str = "/v1/auth/cert";
/// Default `mountPath` of AWS IAM auth.
pub const DEFAULT_AWS_AUTH_MOUNT_PATH: &str = "/v1/auth/aws";

/// A Vault PKI backend.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultIssuer {
    /// How to authenticate to Vault.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub auth: VaultAuth,

    /// Address of the Vault server, for example `https://vault.example.com:8200`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub server: String,

    /// Host name to verify the server's certificate against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,

    /// Path of the PKI mount's `sign` endpoint, for example `my_pki_mount/sign/my-role-name`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub path: String,

    /// Vault Enterprise namespace, for example `ns1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,

    /// Base64 PEM bundle of CAs trusted for Vault's TLS certificate. Exclusive with
    /// `caBundleSecretRef`; the system bundle is used when neither is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub ca_bundle: Option<ByteString>,

    /// Secret key holding a PEM bundle of CAs trusted for Vault's TLS certificate (`ca.crt`
    /// when `key` is unset). Exclusive with `caBundle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_secret_ref: Option<SecretKeySelector>,

    /// Secret key holding a PEM client certificate for mutual TLS; needs `clientKeySecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_secret_ref: Option<SecretKeySelector>,

    /// Secret key holding the PEM client private key for mutual TLS; needs
    /// `clientCertSecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_secret_ref: Option<SecretKeySelector>,
}

/// How to authenticate to Vault. When several are set the first in this order wins:
/// `tokenSecretRef`, `appRole`, `clientCertificate`, `kubernetes`, `aws`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultAuth {
    /// Secret key holding a Vault token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret_ref: Option<SecretKeySelector>,

    /// AppRole auth with the secret ID in a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_role: Option<VaultAppRole>,

    /// TLS client certificate auth (HTTPS only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<VaultClientCertificateAuth>,

    /// Kubernetes auth with a ServiceAccount token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<VaultKubernetesAuth>,

    /// AWS IAM auth (IRSA, EKS Pod Identity or ambient credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<VaultAwsAuth>,
}

/// AppRole auth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultAppRole {
    /// Mount path of the AppRole backend, for example `approle`.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub path: String,

    /// Role ID.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub role_id: String,

    /// Secret key holding the secret ID; `key` is required.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub secret_ref: SecretKeySelector,
}

/// TLS client certificate auth with a `kubernetes.io/tls` Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultClientCertificateAuth {
    /// Mount path of the cert auth backend; `/v1/auth/cert` when unset (login is at
    /// `<mountPath>/login`).
    #[serde(rename = "mountPath", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,

    /// `kubernetes.io/tls` Secret with `tls.crt` and `tls.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,

    /// Certificate role to log in to; any matching role when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Kubernetes auth: either a static token from a Secret or a bound ServiceAccount token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultKubernetesAuth {
    /// Mount path of the kubernetes auth backend; `/v1/auth/kubernetes` when unset.
    #[serde(rename = "mountPath", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,

    /// Secret key holding a ServiceAccount JWT. Exclusive with `serviceAccountRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeySelector>,

    /// ServiceAccount for which cert-manager requests a short-lived token (needs RBAC to
    /// create tokens). The audiences always include the issuer's own. Exclusive with
    /// `secretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_ref: Option<ServiceAccountRef>,

    /// Vault role to log in as.
    #[serde(default)]
    #[schemars(extend("x-cert-manager-rs-required" = true))]
    pub role: String,
}

/// AWS IAM auth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultAwsAuth {
    /// Mount path of the aws auth backend; `/v1/auth/aws` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,

    /// Vault role to log in as.
    #[serde(default)]
    #[schemars(length(min = 1), extend("x-cert-manager-rs-required" = true))]
    pub role: String,

    /// AWS region; `AWS_REGION`, `AWS_DEFAULT_REGION` or `us-east-1` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// ServiceAccount whose web identity token is exchanged (IRSA); needs `iamRoleArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_ref: Option<ServiceAccountRef>,

    /// IAM role assumed with the ServiceAccount token; required with `serviceAccountRef`.
    #[serde(
        rename = "iamRoleArn",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub iam_role_arn: Option<String>,

    /// Value of the Vault header signed into the STS request (replay protection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_header_value: Option<String>,
}

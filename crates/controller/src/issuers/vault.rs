//! The Vault issuer's readiness (cert-manager's Vault `Setup`): the configuration must name a
//! server, a path and exactly one complete auth method; then the controller logs in (which
//! reads the credential Secrets) and checks that Vault is initialized and unsealed.

use api::ConditionStatus;
use api::vault::VaultIssuer;

use super::conditions::Readiness;
use crate::context::Context;
use crate::vault::{Client, Target};

pub const REASON_VERIFIED: &str = "VaultVerified";
pub const MESSAGE_VERIFIED: &str = "Vault verified";
pub const REASON_ERROR: &str = "VaultError";

const MESSAGE_CONFIG_REQUIRED: &str = "Vault config cannot be empty";
const MESSAGE_SERVER_AND_PATH_REQUIRED: &str = "Vault server and path are required fields";
const MESSAGE_AUTH_REQUIRED: &str =
    "Vault tokenSecretRef, appRole, clientCertificate, kubernetes, or aws is required";
const MESSAGE_MULTIPLE_AUTH: &str = "Multiple auth methods cannot be set on the same Vault issuer";
const MESSAGE_TOKEN_NAME_REQUIRED: &str = "Vault Token auth requires tokenSecretRef.name";
const MESSAGE_APP_ROLE_FIELDS_REQUIRED: &str =
    "Vault AppRole auth requires both roleId and tokenSecretRef.name";
const MESSAGE_APP_ROLE_KEY_REQUIRED: &str = "Vault AppRole auth requires secretRef.key";
const MESSAGE_KUBERNETES_ROLE_REQUIRED: &str = "Vault Kubernetes auth requires a role to be set";
const MESSAGE_KUBERNETES_EITHER_REQUIRED: &str =
    "Vault Kubernetes auth requires either secretRef.name or serviceAccountRef.name to be set";
const MESSAGE_KUBERNETES_SINGLE_REQUIRED: &str =
    "Vault Kubernetes auth cannot be used with both secretRef.name and serviceAccountRef.name";
const MESSAGE_CLIENT_INIT_FAILED: &str = "Failed to initialize Vault client";
const MESSAGE_NOT_HEALTHY: &str = "Failed to verify Vault is initialized and unsealed";

/// The configuration checks of cert-manager's Setup, in its order; the message of the first
/// that fails.
pub fn validate(spec: Option<&VaultIssuer>) -> Result<&VaultIssuer, &'static str> {
    let spec = spec.ok_or(MESSAGE_CONFIG_REQUIRED)?;
    if spec.server.is_empty() || spec.path.is_empty() {
        return Err(MESSAGE_SERVER_AND_PATH_REQUIRED);
    }
    let auth = &spec.auth;
    let methods = [
        auth.token_secret_ref.is_some(),
        auth.app_role.is_some(),
        auth.client_certificate.is_some(),
        auth.kubernetes.is_some(),
        auth.aws.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count();
    match methods {
        0 => return Err(MESSAGE_AUTH_REQUIRED),
        1 => {}
        _ => return Err(MESSAGE_MULTIPLE_AUTH),
    }
    if auth
        .token_secret_ref
        .as_ref()
        .is_some_and(|r| r.name.is_empty())
    {
        return Err(MESSAGE_TOKEN_NAME_REQUIRED);
    }
    if let Some(app_role) = &auth.app_role {
        if app_role.role_id.is_empty() || app_role.secret_ref.name.is_empty() {
            return Err(MESSAGE_APP_ROLE_FIELDS_REQUIRED);
        }
        if app_role.secret_ref.key_str().is_empty() {
            return Err(MESSAGE_APP_ROLE_KEY_REQUIRED);
        }
    }
    if let Some(kubernetes) = &auth.kubernetes {
        if kubernetes.role.is_empty() {
            return Err(MESSAGE_KUBERNETES_ROLE_REQUIRED);
        }
        let secret = kubernetes
            .secret_ref
            .as_ref()
            .is_some_and(|r| !r.name.is_empty());
        match (secret, kubernetes.service_account_ref.is_some()) {
            (false, false) => return Err(MESSAGE_KUBERNETES_EITHER_REQUIRED),
            (true, true) => return Err(MESSAGE_KUBERNETES_SINGLE_REQUIRED),
            _ => {}
        }
    }
    Ok(spec)
}

/// The Secrets a Vault issuer reads (credentials and CA bundle), so that their changes
/// re-run its Setup.
pub fn referenced_secrets(spec: Option<&VaultIssuer>) -> Vec<&str> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let auth = &spec.auth;
    [
        auth.token_secret_ref.as_ref().map(|r| r.name.as_str()),
        auth.app_role.as_ref().map(|a| a.secret_ref.name.as_str()),
        auth.kubernetes
            .as_ref()
            .and_then(|k| k.secret_ref.as_ref())
            .map(|r| r.name.as_str()),
        spec.ca_bundle_secret_ref.as_ref().map(|r| r.name.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|n| !n.is_empty())
    .collect()
}

/// The readiness of a Vault issuer, and the error to retry on when Vault or its credentials
/// could not be used (cert-manager returns that error from Setup, which requeues the issuer).
pub async fn readiness(
    ctx: &Context,
    spec: Option<&VaultIssuer>,
    issuer_namespace: Option<&str>,
    issuer_name: &str,
    resource_namespace: &str,
) -> (Readiness, Option<String>) {
    let not_ready = |message: String| Readiness {
        status: ConditionStatus::False,
        reason: REASON_ERROR,
        message,
    };
    let spec = match validate(spec) {
        Ok(spec) => spec,
        Err(message) => return (not_ready(message.to_owned()), None),
    };
    let target = Target {
        spec,
        issuer_namespace,
        issuer_name,
        resource_namespace,
    };
    let client = match Client::connect(ctx, &target).await {
        Ok(client) => client,
        Err(e) => {
            let message = format!("{MESSAGE_CLIENT_INIT_FAILED}: {e}");
            return (not_ready(message), Some(e.to_string()));
        }
    };
    if let Err(e) = client.check_health().await {
        let message = format!("{MESSAGE_NOT_HEALTHY}: {e}");
        return (not_ready(message), Some(e.to_string()));
    }
    let ready = Readiness {
        status: ConditionStatus::True,
        reason: REASON_VERIFIED,
        message: MESSAGE_VERIFIED.into(),
    };
    (ready, None)
}

#[cfg(test)]
mod tests {
    use api::meta::{SecretKeySelector, ServiceAccountRef};
    use api::vault::{VaultAppRole, VaultAuth, VaultAwsAuth, VaultKubernetesAuth};

    use super::*;

    fn selector(name: &str, key: Option<&str>) -> SecretKeySelector {
        SecretKeySelector {
            name: name.into(),
            key: key.map(str::to_owned),
        }
    }

    fn spec(auth: VaultAuth) -> VaultIssuer {
        VaultIssuer {
            server: "https://vault:8200".into(),
            path: "pki/sign/web".into(),
            auth,
            ..Default::default()
        }
    }

    fn check(auth: VaultAuth) -> Result<(), &'static str> {
        validate(Some(&spec(auth))).map(|_| ())
    }

    #[test]
    fn config_server_and_path_are_required() {
        assert_eq!(validate(None).unwrap_err(), MESSAGE_CONFIG_REQUIRED);
        let mut s = spec(VaultAuth::default());
        s.path.clear();
        assert_eq!(
            validate(Some(&s)).unwrap_err(),
            "Vault server and path are required fields"
        );
    }

    #[test]
    fn exactly_one_auth_method() {
        assert_eq!(
            check(VaultAuth::default()).unwrap_err(),
            "Vault tokenSecretRef, appRole, clientCertificate, kubernetes, or aws is required"
        );
        let two = VaultAuth {
            token_secret_ref: Some(selector("token", None)),
            aws: Some(VaultAwsAuth {
                role: "r".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(check(two).unwrap_err(), MESSAGE_MULTIPLE_AUTH);
        let token = VaultAuth {
            token_secret_ref: Some(selector("token", None)),
            ..Default::default()
        };
        assert_eq!(check(token), Ok(()));
    }

    #[test]
    fn incomplete_methods_name_the_missing_field() {
        let token = VaultAuth {
            token_secret_ref: Some(selector("", None)),
            ..Default::default()
        };
        assert_eq!(check(token).unwrap_err(), MESSAGE_TOKEN_NAME_REQUIRED);
        let app_role = |role_id: &str, key: Option<&str>| VaultAuth {
            app_role: Some(VaultAppRole {
                path: "approle".into(),
                role_id: role_id.into(),
                secret_ref: selector("approle", key),
            }),
            ..Default::default()
        };
        assert_eq!(
            check(app_role("", Some("secretId"))).unwrap_err(),
            MESSAGE_APP_ROLE_FIELDS_REQUIRED
        );
        assert_eq!(
            check(app_role("role", None)).unwrap_err(),
            "Vault AppRole auth requires secretRef.key"
        );
        assert_eq!(check(app_role("role", Some("secretId"))), Ok(()));
        let kubernetes = |role: &str, secret: bool, sa: bool| VaultAuth {
            kubernetes: Some(VaultKubernetesAuth {
                role: role.into(),
                secret_ref: secret.then(|| selector("jwt", None)),
                service_account_ref: sa.then(|| ServiceAccountRef {
                    name: "vault".into(),
                    token_audiences: None,
                }),
                path: None,
            }),
            ..Default::default()
        };
        assert_eq!(
            check(kubernetes("", true, false)).unwrap_err(),
            MESSAGE_KUBERNETES_ROLE_REQUIRED
        );
        assert_eq!(
            check(kubernetes("r", false, false)).unwrap_err(),
            MESSAGE_KUBERNETES_EITHER_REQUIRED
        );
        assert_eq!(
            check(kubernetes("r", true, true)).unwrap_err(),
            MESSAGE_KUBERNETES_SINGLE_REQUIRED
        );
        assert_eq!(check(kubernetes("r", false, true)), Ok(()));
        assert_eq!(check(kubernetes("r", true, false)), Ok(()));
    }

    #[test]
    fn referenced_secrets_cover_credentials_and_ca_bundle() {
        let mut s = spec(VaultAuth {
            app_role: Some(VaultAppRole {
                path: "approle".into(),
                role_id: "r".into(),
                secret_ref: selector("approle", Some("secretId")),
            }),
            ..Default::default()
        });
        s.ca_bundle_secret_ref = Some(selector("vault-ca", None));
        assert_eq!(referenced_secrets(Some(&s)), ["approle", "vault-ca"]);
        assert!(referenced_secrets(None).is_empty());
    }
}

//! Getting a Vault token for an issuer (cert-manager's `setToken`) and the CA bundle it trusts.
//! When several auth methods are set the first one wins, in cert-manager's order: token,
//! AppRole, client certificate, Kubernetes, AWS (the issuer's Setup reports that
//! configuration as not ready, but signing keeps cert-manager's behaviour).

use std::sync::Arc;

use api::vault::{
    DEFAULT_KUBERNETES_AUTH_MOUNT_PATH, DEFAULT_TOKEN_SECRET_KEY, VaultAppRole, VaultKubernetesAuth,
};
use http::Method;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use super::transport::{Connection, Token, join_path};
use super::{Error, Target};
use crate::context::Context;

/// Default `key` of `caBundleSecretRef`.
const CA_BUNDLE_SECRET_KEY: &str = "ca.crt";
/// Lifetime of a requested ServiceAccount token: it is used once, right away, and 10 minutes
/// is the shortest the Kubernetes API allows.
const SERVICE_ACCOUNT_TOKEN_SECONDS: i64 = 600;

/// The PEM bundle to trust instead of the system roots, if the issuer has one.
pub async fn ca_bundle(ctx: &Context, target: &Target<'_>) -> Result<Option<Vec<u8>>, Error> {
    if let Some(bundle) = target.spec.ca_bundle.as_ref().filter(|b| !b.0.is_empty()) {
        return Ok(Some(bundle.0.clone()));
    }
    let Some(r) = &target.spec.ca_bundle_secret_ref else {
        return Ok(None);
    };
    let ns = target.resource_namespace;
    let secret = read_secret(ctx, ns, &r.name)
        .await
        .map_err(|e| Error::Other(format!("could not access secret '{ns}/{}': {e}", r.name)))?;
    let key = non_empty(r.key.as_deref()).unwrap_or(CA_BUNDLE_SECRET_KEY);
    Ok(Some(secret_value(&secret, key, ns, &r.name)?.to_vec()))
}

/// Logs in with the issuer's auth method; the token to use for the next requests.
pub async fn login(ctx: &Context, conn: &Connection, target: &Target<'_>) -> Result<Token, Error> {
    let auth = &target.spec.auth;
    let ns = target.resource_namespace;
    if let Some(r) = &auth.token_secret_ref {
        let secret = read_secret(ctx, ns, &r.name).await?;
        let key = non_empty(r.key.as_deref()).unwrap_or(DEFAULT_TOKEN_SECRET_KEY);
        let token = text(secret_value(&secret, key, ns, &r.name)?);
        return Ok(Token::new(token));
    }
    if let Some(app_role) = &auth.app_role {
        return app_role_login(ctx, conn, ns, app_role).await;
    }
    if auth.client_certificate.is_some() {
        return Err(unsupported("Vault clientCertificate auth"));
    }
    if let Some(kubernetes) = &auth.kubernetes {
        return kubernetes_login(ctx, conn, target, kubernetes)
            .await
            .map_err(|e| e.context("while requesting a Vault token using the Kubernetes auth"));
    }
    if auth.aws.is_some() {
        return Err(unsupported("Vault AWS auth"));
    }
    Err(Error::InvalidData(
        "error initializing Vault client: unable to load credentials. One of: tokenSecretRef, \
         appRole, clientCertificate, kubernetes, or aws auth must be set"
            .into(),
    ))
}

fn unsupported(what: &str) -> Error {
    Error::InvalidData(format!("{what} is not supported by cert-manager-rs yet"))
}

/// `POST /v1/auth/<path>/login {role_id, secret_id}`.
async fn app_role_login(
    ctx: &Context,
    conn: &Connection,
    ns: &str,
    app_role: &VaultAppRole,
) -> Result<Token, Error> {
    let r = &app_role.secret_ref;
    let secret = read_secret(ctx, ns, &r.name).await?;
    let secret_id = text(secret_value(&secret, r.key_str(), ns, &r.name)?);
    let mount = non_empty(Some(app_role.path.as_str())).unwrap_or("approle");
    let path = join_path(&["/v1", "auth", mount, "login"]);
    let body = json!({"role_id": app_role.role_id.trim(), "secret_id": secret_id});
    let answer: LoginAnswer = conn
        .call(Method::POST, &path, None, Some(&body))
        .await
        .map_err(|e| e.context("error logging in to Vault server"))?;
    answer.token()
}

/// `POST <mountPath>/login {role, jwt}` with the JWT of a Secret or a fresh ServiceAccount
/// token.
async fn kubernetes_login(
    ctx: &Context,
    conn: &Connection,
    target: &Target<'_>,
    kubernetes: &VaultKubernetesAuth,
) -> Result<Token, Error> {
    let ns = target.resource_namespace;
    let jwt = match (&kubernetes.secret_ref, &kubernetes.service_account_ref) {
        (Some(r), _) if !r.name.is_empty() => {
            let secret = read_secret(ctx, ns, &r.name).await?;
            let key = non_empty(r.key.as_deref()).unwrap_or(DEFAULT_TOKEN_SECRET_KEY);
            text(secret_value(&secret, key, ns, &r.name)?)
        }
        (_, Some(sa)) => {
            let audiences = service_account_audiences(target, sa.token_audiences.as_deref());
            service_account_token(ctx, ns, &sa.name, audiences)
                .await
                .map_err(|e| {
                    Error::Other(format!(
                        "while requesting a token for the service account {}/{}: {}",
                        target.issuer_namespace.unwrap_or_default(),
                        sa.name,
                        kube_message(&e)
                    ))
                })?
        }
        _ => {
            return Err(Error::InvalidData(
                "Vault Kubernetes auth requires either secretRef.name or serviceAccountRef.name \
                 to be set"
                    .into(),
            ));
        }
    };
    let mount = non_empty(kubernetes.path.as_deref()).unwrap_or(DEFAULT_KUBERNETES_AUTH_MOUNT_PATH);
    let path = join_path(&[mount, "login"]);
    let body = json!({"role": kubernetes.role, "jwt": jwt});
    let answer: LoginAnswer = conn
        .call(Method::POST, &path, None, Some(&body))
        .await
        .map_err(|e| e.context("error calling Vault server"))?;
    answer.token()
}

/// The audiences of a requested ServiceAccount token, as cert-manager asks for them: the
/// issuer's extra audiences, then `vault://<namespace>/<issuer>` (`vault://<issuer>` for a
/// ClusterIssuer), then the Vault server address.
pub fn service_account_audiences(target: &Target<'_>, extra: Option<&[String]>) -> Vec<String> {
    let own = match target.issuer_namespace.filter(|n| !n.is_empty()) {
        Some(ns) => format!("vault://{ns}/{}", target.issuer_name),
        None => format!("vault://{}", target.issuer_name),
    };
    let mut audiences = extra.map(<[String]>::to_vec).unwrap_or_default();
    audiences.push(own);
    audiences.push(target.spec.server.clone());
    audiences
}

/// A short-lived token for ServiceAccount `namespace/name` (the TokenRequest API).
async fn service_account_token(
    ctx: &Context,
    namespace: &str,
    name: &str,
    audiences: Vec<String>,
) -> Result<String, kube::Error> {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences,
            expiration_seconds: Some(SERVICE_ACCOUNT_TOKEN_SECONDS),
            bound_object_ref: None,
        },
        ..Default::default()
    };
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), namespace);
    let answer = api
        .create_token_request(name, &PostParams::default(), &request)
        .await?;
    Ok(answer.status.map(|s| s.token).unwrap_or_default())
}

/// The API server's message for an API error (as client-go prints it), else the error.
fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// A login answer: `auth.client_token`.
#[derive(serde::Deserialize)]
struct LoginAnswer {
    auth: Option<LoginAuth>,
}

#[derive(serde::Deserialize)]
struct LoginAuth {
    #[serde(default)]
    client_token: String,
}

impl LoginAnswer {
    fn token(self) -> Result<Token, Error> {
        match self.auth {
            Some(a) if !a.client_token.is_empty() => Ok(Token::new(a.client_token)),
            Some(_) => Err(Error::Other("no token returned".into())),
            None => Err(Error::Other(
                "unable to read token: the login answer has no auth section".into(),
            )),
        }
    }
}

async fn read_secret(ctx: &Context, namespace: &str, name: &str) -> Result<Arc<Secret>, Error> {
    ctx.caches
        .secrets
        .get(&ctx.client, namespace, name)
        .await?
        .ok_or_else(|| Error::SecretNotFound {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
}

/// `key` of the Secret; a missing key reads as cert-manager's error.
fn secret_value<'a>(
    secret: &'a Secret,
    key: &str,
    namespace: &str,
    name: &str,
) -> Result<&'a [u8], Error> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| v.0.as_slice())
        .ok_or_else(|| {
            Error::Other(format!(
                "no data for {key:?} in secret '{namespace}/{name}'"
            ))
        })
}

/// A credential from a Secret, without the surrounding whitespace files often end with.
fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).trim().to_owned()
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use api::meta::SecretKeySelector;
    use api::vault::VaultIssuer;

    use super::*;

    fn target<'a>(spec: &'a VaultIssuer, namespace: Option<&'a str>) -> Target<'a> {
        Target {
            spec,
            issuer_namespace: namespace,
            issuer_name: "vault-issuer",
            resource_namespace: namespace.unwrap_or("cert-manager"),
        }
    }

    #[test]
    fn audiences_of_issuers_and_cluster_issuers() {
        let spec = VaultIssuer {
            server: "https://vault.example.com".into(),
            ..Default::default()
        };
        assert_eq!(
            service_account_audiences(&target(&spec, Some("team-a")), None),
            ["vault://team-a/vault-issuer", "https://vault.example.com"]
        );
        let extra = vec!["aud-1".to_owned()];
        assert_eq!(
            service_account_audiences(&target(&spec, None), Some(&extra)),
            ["aud-1", "vault://vault-issuer", "https://vault.example.com"]
        );
    }

    #[test]
    fn missing_keys_name_the_secret() {
        let secret = Secret::default();
        let err = secret_value(&secret, "token", "ns", "vault-token").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no data for \"token\" in secret 'ns/vault-token'"
        );
    }

    #[test]
    fn login_answers_without_a_token_are_errors() {
        let answer: LoginAnswer =
            serde_json::from_value(json!({"auth": {"client_token": ""}})).unwrap();
        assert_eq!(answer.token().unwrap_err().to_string(), "no token returned");
        let answer: LoginAnswer = serde_json::from_value(json!({"data": {}})).unwrap();
        assert!(answer.token().is_err());
        let answer: LoginAnswer =
            serde_json::from_value(json!({"auth": {"client_token": "s.abc"}})).unwrap();
        assert_eq!(answer.token().unwrap(), Token::new("s.abc".into()));
    }

    #[test]
    fn default_key_selectors() {
        let r = SecretKeySelector {
            name: "x".into(),
            key: Some(String::new()),
        };
        assert_eq!(
            non_empty(r.key.as_deref()).unwrap_or(DEFAULT_TOKEN_SECRET_KEY),
            "token"
        );
    }
}

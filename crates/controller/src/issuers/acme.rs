//! The ACME issuer's readiness (cert-manager's ACME `Setup`): the account key Secret is read
//! (an RSA-2048 key is generated into it when missing, unless
//! `disableAccountKeyGeneration`), the account is registered (or found) at the server, its
//! contact email kept up to date, and `status.acme` records the account URL, the email and
//! the key hash so that later checks can skip the server round trip.

use std::collections::BTreeMap;

use api::ConditionStatus;
use api::acme::{AcmeIssuer, AcmeIssuerStatus};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, ResourceExt};

use super::conditions::{Readiness, with_ready};
use super::lookup::IssuerKind;
use crate::acme::account::{self, AccountError};
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::Action;

pub const REASON_REGISTERED: &str = "ACMEAccountRegistered";
pub const MESSAGE_REGISTERED: &str = "The ACME account was registered with the ACME server";
pub const REASON_REGISTRATION_FAILED: &str = "ErrRegisterACMEAccount";
pub const REASON_VERIFICATION_FAILED: &str = "ErrVerifyACMEAccount";
pub const REASON_UPDATE_FAILED: &str = "ErrUpdateACMEAccount";
pub const REASON_INVALID_CONFIG: &str = "InvalidConfig";
pub const REASON_INVALID_URL: &str = "InvalidURL";

const MESSAGE_REGISTRATION_FAILED: &str = "Failed to register ACME account: ";
const MESSAGE_VERIFICATION_FAILED: &str = "Failed to verify ACME account: ";
const MESSAGE_UPDATE_FAILED: &str = "Failed to update ACME account:";
const MESSAGE_NO_KEY_GENERATION: &str = "the ACME issuer config has 'disableAccountKeyGeneration' set to true, but the secret was not found: ";
const MESSAGE_INVALID_KEY: &str = "Account private key is invalid: ";

/// Let's Encrypt's retired v1 endpoints and their v2 successors.
const V1_TO_V2: [(&str, &str); 2] = [
    (
        "https://acme-v01.api.letsencrypt.org/directory",
        "https://acme-v02.api.letsencrypt.org/directory",
    ),
    (
        "https://acme-staging.api.letsencrypt.org/directory",
        "https://acme-staging-v02.api.letsencrypt.org/directory",
    ),
];

/// The Secrets an ACME issuer's Setup reads, so that their changes run it again.
pub fn referenced_secrets(spec: Option<&AcmeIssuer>) -> Vec<&str> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    [
        Some(spec.private_key.name.as_str()),
        spec.external_account_binding
            .as_ref()
            .map(|e| e.key.name.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|n| !n.is_empty())
    .collect()
}

/// What Setup concluded: the Ready condition, the account status, and the error to retry
/// on (with backoff) when retrying can help.
struct Outcome {
    readiness: Readiness,
    acme: Option<AcmeIssuerStatus>,
    retry: Option<String>,
}

impl Outcome {
    fn not_ready(reason: &'static str, message: String, retry: bool) -> Self {
        Self {
            retry: retry.then(|| message.clone()),
            readiness: Readiness {
                status: ConditionStatus::False,
                reason,
                message,
            },
            acme: None,
        }
    }
}

fn issuer_id<K: IssuerKind>(issuer: &K) -> String {
    match issuer.namespace() {
        Some(ns) => format!("Issuer/{ns}/{}", issuer.name_any()),
        None => format!("ClusterIssuer/{}", issuer.name_any()),
    }
}

/// Runs Setup for one ACME issuer and writes its status when it changed.
pub async fn sync<K: IssuerKind>(
    controller: &'static str,
    ctx: &Context,
    issuer: &K,
) -> anyhow::Result<Action> {
    let Some(spec) = issuer.issuer_config().acme.as_ref() else {
        return Ok(Action::done());
    };
    let namespace = K::resource_namespace(issuer, ctx);
    let outcome = setup(ctx, issuer, spec, &namespace).await;
    write_status(controller, ctx, issuer, &outcome).await?;
    match outcome.retry {
        Some(err) => {
            let message = format!("Error initializing issuer: {err}");
            ctx.recorder(controller).publish(
                issuer,
                EventType::Warning,
                "ErrInitIssuer",
                message.clone(),
            );
            Err(anyhow::anyhow!(message))
        }
        None => Ok(Action::done()),
    }
}

async fn setup<K: IssuerKind>(
    ctx: &Context,
    issuer: &K,
    spec: &AcmeIssuer,
    namespace: &str,
) -> Outcome {
    if let Some((_, v2)) = V1_TO_V2
        .iter()
        .find(|(v1, _)| spec.server.trim_end_matches('/') == *v1)
    {
        let message = format!(
            "Your ACME server URL is set to a v1 endpoint ({}). You should update the spec.acme.server field to \"{v2}\"",
            spec.server
        );
        return Outcome::not_ready(REASON_INVALID_CONFIG, message, false);
    }
    let status = issuer
        .issuer_status()
        .and_then(|s| s.acme.clone())
        .unwrap_or_default();
    let mut uri = status.uri.clone().unwrap_or_default();

    let pem = match account::read_key_pem(ctx, namespace, &spec.private_key).await {
        Ok(Some(pem)) => pem,
        Ok(None) if spec.disable_account_key_generation != Some(true) => {
            match create_account_key(ctx, namespace, &spec.private_key).await {
                Ok(pem) => {
                    // A new key is a new account.
                    uri.clear();
                    pem
                }
                Err(e) => {
                    let message = format!("{MESSAGE_REGISTRATION_FAILED}{e}");
                    return Outcome::not_ready(REASON_REGISTRATION_FAILED, message, true);
                }
            }
        }
        Ok(None) => {
            let message = format!(
                "{MESSAGE_VERIFICATION_FAILED}{MESSAGE_NO_KEY_GENERATION}secrets \"{}\" not found",
                spec.private_key.name
            );
            // The Secret watch runs Setup again when it appears.
            return Outcome::not_ready(REASON_VERIFICATION_FAILED, message, false);
        }
        Err(AccountError::Api(e)) => {
            let message = format!("{MESSAGE_VERIFICATION_FAILED}{e}");
            return Outcome::not_ready(REASON_VERIFICATION_FAILED, message, true);
        }
        Err(e) => {
            let message = format!("{MESSAGE_INVALID_KEY}{e}");
            return Outcome::not_ready(REASON_VERIFICATION_FAILED, message, false);
        }
    };
    if let Err(e) = account::parse_key(&pem) {
        let message = format!("{MESSAGE_INVALID_KEY}{e}");
        return Outcome::not_ready(REASON_VERIFICATION_FAILED, message, false);
    }
    if spec.server.parse::<http::Uri>().is_err() || !spec.server.starts_with("http") {
        let message = format!(
            "Failed to parse existing ACME server URI \"{}\": not an absolute URL",
            spec.server
        );
        return Outcome::not_ready(REASON_INVALID_URL, message, false);
    }
    let hash = account::key_hash(&pem).unwrap_or_default();
    let email = spec.email.clone().unwrap_or_default();
    let id = issuer_id(issuer);
    let same_host = account::same_host(&uri, &spec.server);
    if !same_host {
        uri.clear();
    }
    let client = match account::client_with_key(&id, spec, &pem, Some(&uri)) {
        Ok(c) => c,
        Err(e) => return Outcome::not_ready(REASON_INVALID_CONFIG, e.to_string(), false),
    };
    // Nothing changed since the last registration: skip the server round trip (as upstream).
    if is_ready(issuer)
        && !uri.is_empty()
        && status.last_registered_email.as_deref().unwrap_or_default() == email
        && status.last_private_key_hash.as_deref() == Some(hash.as_str())
    {
        return Outcome {
            readiness: registered(),
            acme: Some(status),
            retry: None,
        };
    }

    let eab = match account::external_account_binding(ctx, namespace, spec).await {
        Ok(eab) => eab,
        Err(AccountError::Api(e)) => {
            let message = format!("{MESSAGE_REGISTRATION_FAILED}{e}");
            return Outcome::not_ready(REASON_REGISTRATION_FAILED, message, true);
        }
        Err(e) => {
            let message = format!("{MESSAGE_REGISTRATION_FAILED}{e}");
            return Outcome::not_ready(REASON_REGISTRATION_FAILED, message, false);
        }
    };
    let contact = Some(email.as_str()).filter(|e| !e.is_empty());
    let account = match client.register(contact, eab.as_ref(), true).await {
        Ok(a) => a,
        Err(e) => {
            let message = format!("{MESSAGE_REGISTRATION_FAILED}{}", acme_message(&e));
            // A 4xx answer means the request itself is wrong: wait for a change.
            return Outcome::not_ready(REASON_REGISTRATION_FAILED, message, retryable(&e));
        }
    };
    let registered_email = account
        .contact
        .first()
        .map(|c| c.trim_start_matches("mailto:").to_owned())
        .unwrap_or_default();
    let registered_email = if registered_email != email {
        match client.update_account(contact).await {
            Ok(_) => email.clone(),
            Err(e) => {
                let message = format!("{MESSAGE_UPDATE_FAILED}{}", acme_message(&e));
                return Outcome::not_ready(REASON_UPDATE_FAILED, message, retryable(&e));
            }
        }
    } else {
        registered_email
    };
    tracing::info!(issuer = %id, account = %account.uri, created = account.created, "verified ACME account");
    Outcome {
        readiness: registered(),
        acme: Some(AcmeIssuerStatus {
            uri: Some(account.uri),
            last_registered_email: Some(registered_email),
            last_private_key_hash: Some(hash),
        }),
        retry: None,
    }
}

fn registered() -> Readiness {
    Readiness {
        status: ConditionStatus::True,
        reason: REASON_REGISTERED,
        message: MESSAGE_REGISTERED.into(),
    }
}

/// An ACME error as cert-manager's client words it: a server problem as
/// `<status> <type>: <detail>`, without our client's `acme: <action>:` prefix.
fn acme_message(e: &acme::Error) -> String {
    match e {
        acme::Error::Problem { problem, .. } => problem.to_string(),
        other => other.to_string(),
    }
}

/// Errors other than a 4xx answer may go away by themselves.
fn retryable(e: &acme::Error) -> bool {
    e.is_transient() || !e.status().is_some_and(|s| (400..500).contains(&s))
}

fn is_ready<K: IssuerKind>(issuer: &K) -> bool {
    issuer
        .issuer_status()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.condition_type == api::issuer::IssuerConditionType::Ready
                    && c.status == ConditionStatus::True
            })
        })
}

/// Generates an RSA-2048 account key (PKCS#1 PEM, as cert-manager) into a new Secret.
async fn create_account_key(
    ctx: &Context,
    namespace: &str,
    sel: &api::meta::SecretKeySelector,
) -> anyhow::Result<Vec<u8>> {
    let key = pki::PrivateKey::generate(pki::KeyType::Rsa(2048))?;
    let pem = key.to_pem(pki::KeyEncoding::Pkcs1)?;
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(sel.name.clone()),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "cert-manager".to_owned(),
            )])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            account::key_of(sel).to_owned(),
            ByteString(pem.as_bytes().to_vec()),
        )])),
        ..Default::default()
    };
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let params = PostParams {
        field_manager: Some(Context::field_manager("issuers")),
        ..Default::default()
    };
    api.create(&params, &secret).await?;
    tracing::info!(secret = %format!("{namespace}/{}", sel.name), "generated ACME account private key");
    Ok(pem.as_bytes().to_vec())
}

/// Writes the Ready condition and `status.acme` when either changed (conditional on the
/// resourceVersion read), with an Event for a changed condition.
async fn write_status<K: IssuerKind>(
    controller: &'static str,
    ctx: &Context,
    issuer: &K,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let status = issuer.issuer_status();
    let current = status
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let current_acme = status.and_then(|s| s.acme.clone());
    let updated = with_ready(
        &current,
        &outcome.readiness,
        issuer.meta().generation,
        Timestamp::now(),
    );
    let acme = outcome.acme.clone().or_else(|| current_acme.clone());
    if updated == current && acme == current_acme {
        return Ok(());
    }
    let status = serde_json::json!({"conditions": updated, "acme": acme});
    super::controller::patch_status(controller, ctx, issuer, status).await?;
    if updated != current {
        super::controller::publish_readiness(controller, ctx, issuer, &outcome.readiness);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use api::acme::AcmeExternalAccountBinding;
    use api::meta::SecretKeySelector;

    use super::*;

    #[test]
    fn server_problems_are_worded_as_by_cert_manager() {
        let e = acme::Error::Problem {
            action: "register_account",
            problem: Box::new(acme::Problem {
                type_: "urn:ietf:params:acme:error:unauthorized".into(),
                detail: "unknown key".into(),
                status: Some(403),
                ..Default::default()
            }),
        };
        assert_eq!(
            acme_message(&e),
            "403 urn:ietf:params:acme:error:unauthorized: unknown key"
        );
    }

    #[test]
    fn referenced_secrets_are_key_and_eab() {
        let spec = AcmeIssuer {
            private_key: SecretKeySelector {
                name: "account".into(),
                key: None,
            },
            external_account_binding: Some(AcmeExternalAccountBinding {
                key_id: "kid".into(),
                key: SecretKeySelector {
                    name: "eab".into(),
                    key: Some("secret".into()),
                },
                key_algorithm: None,
            }),
            ..Default::default()
        };
        assert_eq!(referenced_secrets(Some(&spec)), ["account", "eab"]);
        assert!(referenced_secrets(None).is_empty());
    }
}

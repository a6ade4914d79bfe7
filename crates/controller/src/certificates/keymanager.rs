//! `certificates-key-manager`: while a Certificate is Issuing, keeps exactly one "next private
//! key" Secret matching `spec.privateKey` and names it in `status.nextPrivateKeySecretName`;
//! when issuance is over, deletes them.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::Certificate;
use api::certificate::PrivateKeyRotationPolicy;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::annotations::NEXT_PRIVATE_KEY_LABEL;
use super::{TLS_KEY, spec, status, watch};
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::Action;
use crate::secrets::FAO_LABEL;

pub const NAME: &str = "certificates-key-manager";

pub async fn run(ctx: Arc<Context>) {
    watch::certificate_controller(NAME, &ctx)
        .run(ctx.workers(), reconcile)
        .await
}

/// The next-private-key Secrets `crt` owns, from the cache.
pub fn next_key_secrets(ctx: &Context, crt: &Certificate) -> Vec<Arc<Secret>> {
    let ns = crt.namespace().unwrap_or_default();
    ctx.caches
        .secrets
        .owned_store()
        .list_namespace(&ns)
        .into_iter()
        .filter(|s| {
            s.labels().get(NEXT_PRIVATE_KEY_LABEL).map(String::as_str) == Some("true")
                && spec::owned_by(&s.metadata, crt)
        })
        .collect()
}

/// The private key in a next-key Secret, if it parses.
pub fn key_of(secret: &Secret) -> Option<pki::PrivateKey> {
    let pem = secret.data.as_ref()?.get(TLS_KEY)?;
    pki::PrivateKey::from_pem(&pem.0).ok()
}

/// `status.nextPrivateKeySecretName` and the readable private key in that Secret, from the
/// cache.
pub fn next_private_key<'a>(
    ctx: &Context,
    crt: &'a Certificate,
) -> Option<(&'a str, pki::PrivateKey)> {
    let name = status_name(crt)?;
    let ns = crt.namespace().unwrap_or_default();
    let secret = ctx
        .caches
        .secrets
        .owned_store()
        .get_by_name(Some(&ns), name)?;
    Some((name, key_of(&secret)?))
}

fn status_name(crt: &Certificate) -> Option<&str> {
    crt.status.as_ref()?.next_private_key_secret_name.as_deref()
}

async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(crt) = watch::certificate(&ctx, &key) else {
        return Ok(Action::done());
    };
    let secrets = next_key_secrets(&ctx, &crt);
    if !status::is_issuing(&crt) || crt.metadata.deletion_timestamp.is_some() {
        delete_all(&ctx, &crt, &secrets, None).await?;
        if status_name(&crt).is_some() && !status::is_issuing(&crt) {
            status::patch(
                &ctx,
                &crt,
                NAME,
                json!({ "nextPrivateKeySecretName": null }),
            )
            .await?;
        }
        return Ok(Action::done());
    }
    if spec::key_type(&crt).is_err() {
        let err = spec::key_type(&crt)
            .err()
            .map(|e| e.reason)
            .unwrap_or_default();
        ctx.recorder(NAME).publish(
            &*crt,
            EventType::Warning,
            "BadConfig",
            format!("Invalid private key spec: {err}"),
        );
        return Ok(Action::done());
    }
    let valid = |s: &Secret| key_of(s).is_some_and(|k| spec::key_violations(&crt, &k).is_empty());
    if let Some(name) = status_name(&crt) {
        match secrets.iter().find(|s| s.name_any() == name) {
            Some(s) if valid(s) => {
                delete_all(&ctx, &crt, &secrets, Some(name)).await?;
                return Ok(Action::done());
            }
            Some(_) => {
                // Stale (spec changed while issuing) or corrupted: start over with a new key.
                delete_all(&ctx, &crt, &secrets, None).await?;
                status::patch(
                    &ctx,
                    &crt,
                    NAME,
                    json!({ "nextPrivateKeySecretName": null }),
                )
                .await?;
                return Ok(Action::done());
            }
            None => {
                // Named but not (yet) cached: creating it under that name either recreates
                // a deleted one or fails with AlreadyExists when the cache lags.
                create(&ctx, &crt, Some(name)).await?;
                return Ok(Action::done());
            }
        }
    }
    // A Secret created before a failed status write is adopted rather than duplicated.
    if let Some(s) = secrets.iter().find(|s| valid(s)) {
        status::patch(
            &ctx,
            &crt,
            NAME,
            json!({ "nextPrivateKeySecretName": s.name_any() }),
        )
        .await?;
        return Ok(Action::done());
    }
    let name = create(&ctx, &crt, None).await?;
    status::patch(
        &ctx,
        &crt,
        NAME,
        json!({ "nextPrivateKeySecretName": name }),
    )
    .await?;
    ctx.recorder(NAME).publish(
        &*crt,
        EventType::Normal,
        "Generated",
        format!("Stored new private key in temporary Secret resource {name:?}"),
    );
    Ok(Action::done())
}

/// Deletes next-key Secrets except `keep`.
async fn delete_all(
    ctx: &Context,
    crt: &Certificate,
    secrets: &[Arc<Secret>],
    keep: Option<&str>,
) -> anyhow::Result<()> {
    let ns = crt.namespace().unwrap_or_default();
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    for s in secrets
        .iter()
        .filter(|s| Some(s.name_any().as_str()) != keep)
    {
        match api.delete(&s.name_any(), &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => anyhow::bail!(
                "deleting next private key Secret {ns}/{}: {e}",
                s.name_any()
            ),
        }
    }
    Ok(())
}

/// The key the next issuance uses: with rotationPolicy Never the current one when it still
/// matches the spec, else a new one.
async fn next_key(ctx: &Context, crt: &Certificate) -> anyhow::Result<pki::PrivateKey> {
    let never = crt
        .spec
        .private_key
        .as_ref()
        .and_then(|p| p.rotation_policy.as_ref())
        .is_some_and(|p| *p == PrivateKeyRotationPolicy::Never);
    if never
        && let Some(current) = watch::issued_secret(ctx, crt).await?
        && let Some(key) = key_of(&current)
        && spec::key_violations(crt, &key).is_empty()
    {
        return Ok(key);
    }
    let kt = spec::key_type(crt)?;
    // RSA generation is CPU-bound for a while; keep it off the async workers.
    Ok(tokio::task::spawn_blocking(move || pki::PrivateKey::generate(kt)).await??)
}

/// Creates a next-key Secret (`name`, or generated from the Certificate's name).
async fn create(ctx: &Context, crt: &Certificate, name: Option<&str>) -> anyhow::Result<String> {
    let key = next_key(ctx, crt).await?;
    let pem = key.to_pem(spec::key_encoding(crt))?;
    let ns = crt.namespace().unwrap_or_default();
    let secret = Secret {
        metadata: ObjectMeta {
            name: name.map(str::to_owned),
            generate_name: name
                .is_none()
                .then(|| format!("{}-", spec::shorten_to_52(&crt.name_any()))),
            namespace: Some(ns.clone()),
            labels: Some(BTreeMap::from([
                (NEXT_PRIVATE_KEY_LABEL.to_owned(), "true".to_owned()),
                (FAO_LABEL.to_owned(), "true".to_owned()),
            ])),
            owner_references: Some(vec![spec::owner_reference(crt)]),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            TLS_KEY.to_owned(),
            ByteString(pem.as_bytes().to_vec()),
        )])),
        type_: Some("Opaque".to_owned()),
        ..Default::default()
    };
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    match api.create(&PostParams::default(), &secret).await {
        Ok(created) => Ok(created.name_any()),
        Err(kube::Error::Api(e)) if e.code == 409 && name.is_some() => {
            Ok(name.unwrap_or_default().to_owned())
        }
        Err(e) => Err(anyhow::anyhow!(
            "creating next private key Secret for Certificate {ns}/{}: {e}",
            crt.name_any()
        )),
    }
}

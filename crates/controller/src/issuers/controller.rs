//! The `issuers` and `clusterissuers` controllers: run the readiness check of each issuer and
//! write its Ready condition when it changed. A CA issuer is checked again whenever the
//! Secret it names changes (created, updated, deleted).

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kubeclient::store::key_of;

use super::conditions::{Readiness, with_ready};
use super::lookup::IssuerKind;
use super::setup::{self, IssuerType};
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::{Action, Controller};

pub const ISSUERS: &str = "issuers";
pub const CLUSTER_ISSUERS: &str = "clusterissuers";

pub async fn run_issuers(ctx: Arc<Context>) {
    let store = ctx.caches.issuers().clone();
    let by_secret = store.clone();
    let controller = Controller::new(ISSUERS, ctx.clone()).watch_self(&store);
    let controller = watch_secrets(controller, &ctx, move |ns, name| {
        by_secret
            .list_namespace(ns)
            .into_iter()
            .filter(|i| references_secret(i.as_ref(), name))
            .map(|i| key_of(i.as_ref()))
            .collect()
    });
    run_with_store(ISSUERS, &ctx, controller, store).await
}

pub async fn run_cluster_issuers(ctx: Arc<Context>) {
    let Some(store) = ctx.caches.cluster_issuers().cloned() else {
        tracing::warn!(
            "clusterissuers controller disabled: cluster-scoped resources are not watched with --namespace"
        );
        return std::future::pending().await;
    };
    let by_secret = store.clone();
    let crn = ctx.cluster_resource_namespace().to_owned();
    let controller = Controller::new(CLUSTER_ISSUERS, ctx.clone()).watch_self(&store);
    let controller = watch_secrets(controller, &ctx, move |ns, name| {
        if ns != crn {
            return Vec::new();
        }
        by_secret
            .list_filtered(|i| references_secret(i, name))
            .into_iter()
            .map(|i| key_of(i.as_ref()))
            .collect()
    });
    run_with_store(CLUSTER_ISSUERS, &ctx, controller, store).await
}

/// Whether the issuer's Setup reads Secret `name` (of its resource namespace).
fn references_secret<K: api::GenericIssuer>(issuer: &K, name: &str) -> bool {
    ca_secret_name(issuer) == Some(name)
        || super::vault::referenced_secrets(issuer.issuer_config().vault.as_ref()).contains(&name)
        || super::acme::referenced_secrets(issuer.issuer_config().acme.as_ref()).contains(&name)
}

fn ca_secret_name<K: api::GenericIssuer>(issuer: &K) -> Option<&str> {
    issuer
        .issuer_config()
        .ca
        .as_ref()
        .map(|ca| ca.secret_name.as_str())
}

/// Enqueues the issuers `map(namespace, name)` returns for every Secret event, from both the
/// owned (full) and the unowned (metadata-only) Secret caches.
/// Runs `controller`, syncing each queued issuer from `store`; a deleted one needs nothing.
async fn run_with_store<K: IssuerKind>(
    name: &'static str,
    ctx: &Context,
    controller: Controller,
    store: kubeclient::Store<K>,
) {
    controller
        .run(ctx.workers(), move |ctx, key| {
            let store = store.clone();
            async move {
                match store.get(&key) {
                    Some(issuer) => sync(name, &ctx, issuer).await,
                    None => Ok(Action::done()),
                }
            }
        })
        .await
}

fn watch_secrets<F>(controller: Controller, ctx: &Context, map: F) -> Controller
where
    F: Fn(&str, &str) -> Vec<String> + Send + Sync + 'static,
{
    let map = Arc::new(map);
    let owned_map = map.clone();
    let controller = controller.watch(ctx.caches.secrets.owned_store(), move |s: &Secret| {
        owned_map(&s.namespace().unwrap_or_default(), &s.name_any())
    });
    match ctx.caches.secrets.unowned_keys_store() {
        Some(others) => controller.watch(others, move |s| {
            map(&s.namespace().unwrap_or_default(), &s.name_any())
        }),
        None => controller,
    }
}

/// One issuer: its readiness, written only when the Ready condition changes.
async fn sync<K: IssuerKind>(
    controller: &'static str,
    ctx: &Context,
    issuer: Arc<K>,
) -> anyhow::Result<Action> {
    let readiness = match setup::issuer_type(issuer.issuer_config()) {
        IssuerType::SelfSigned => setup::self_signed_ready(),
        IssuerType::Ca { secret_name } => {
            let namespace = K::resource_namespace(&issuer, ctx);
            let secret = ctx
                .caches
                .secrets
                .get(&ctx.client, &namespace, secret_name)
                .await?;
            setup::ca_readiness(secret.as_deref(), &namespace, secret_name)
        }
        IssuerType::Vault => {
            let namespace = K::resource_namespace(&issuer, ctx);
            let issuer_namespace = issuer.namespace();
            let (readiness, retry) = super::vault::readiness(
                ctx,
                issuer.issuer_config().vault.as_ref(),
                issuer_namespace.as_deref(),
                &issuer.name_any(),
                &namespace,
            )
            .await;
            write_ready(controller, ctx, issuer.as_ref(), &readiness).await?;
            // As cert-manager: a failed Setup is an event and a retry with backoff.
            return match retry {
                Some(err) => {
                    let message = format!("Error initializing issuer: {err}");
                    ctx.recorder(controller).publish(
                        issuer.as_ref(),
                        EventType::Warning,
                        "ErrInitIssuer",
                        message.clone(),
                    );
                    Err(anyhow::anyhow!(message))
                }
                None => Ok(Action::done()),
            };
        }
        IssuerType::Acme => return super::acme::sync(controller, ctx, issuer.as_ref()).await,
        IssuerType::Unsupported(kind) => {
            tracing::debug!(controller, issuer = %issuer.name_any(), kind, "issuer type not implemented by cert-manager-rs; status left unchanged");
            return Ok(Action::done());
        }
    };
    write_ready(controller, ctx, issuer.as_ref(), &readiness).await?;
    Ok(Action::done())
}

async fn write_ready<K: IssuerKind>(
    controller: &'static str,
    ctx: &Context,
    issuer: &K,
    readiness: &Readiness,
) -> anyhow::Result<()> {
    let current = issuer
        .issuer_status()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let generation = issuer.meta().generation;
    let updated = with_ready(&current, readiness, generation, Timestamp::now());
    if updated == current {
        return Ok(());
    }
    patch_status(
        controller,
        ctx,
        issuer,
        serde_json::json!({"conditions": updated}),
    )
    .await?;
    publish_readiness(controller, ctx, issuer, readiness);
    Ok(())
}

/// Merge-patches the issuer's `status` fields. The resourceVersion read makes the patch
/// conditional: a concurrent change is a 409, retried.
pub(super) async fn patch_status<K: IssuerKind>(
    controller: &'static str,
    ctx: &Context,
    issuer: &K,
    status: serde_json::Value,
) -> anyhow::Result<()> {
    crate::context::patch_status(
        &K::api(ctx.client.clone(), issuer),
        issuer,
        controller,
        status,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "updating status of {} {}: {e}",
            K::kind(&()),
            issuer.name_any()
        )
    })?;
    Ok(())
}

/// The Event for a changed Ready condition: Normal when ready, Warning otherwise.
pub(super) fn publish_readiness<K: IssuerKind>(
    controller: &'static str,
    ctx: &Context,
    issuer: &K,
    readiness: &Readiness,
) {
    // SelfSigned issuers get no event upstream; the others report each Setup outcome.
    if readiness.reason == setup::REASON_SELF_SIGNED_READY {
        return;
    }
    let event_type = if readiness.status == api::ConditionStatus::True {
        EventType::Normal
    } else {
        EventType::Warning
    };
    let message = if readiness.message.is_empty() {
        "Issuer is ready".to_owned()
    } else {
        readiness.message.clone()
    };
    ctx.recorder(controller)
        .publish(issuer, event_type, readiness.reason, message);
}

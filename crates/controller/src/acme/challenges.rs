//! The `challenges` controller (cert-manager's `acmechallenges`): a scheduler marks
//! Challenges as processing (see [`super::scheduler`]); a processing Challenge gets the
//! finalizer, its state from the server, is presented, self-checked (or waited for,
//! `waitInsteadOfSelfCheck`), accepted, and the authorization awaited. A finished or deleted
//! Challenge is cleaned up before its finalizer is removed.

use std::sync::Arc;
use std::time::Duration;

use api::acme::{FINALIZER, LEGACY_FINALIZER};
use api::challenge::AcmeChallengeType;
use api::order::State;
use api::{Challenge, ChallengeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

use super::{ErrorKind, account, classify, is_final_state, state_of};
use crate::context::Context;
use crate::events::EventType;
use crate::issuers::lookup::{IssuerRef, ResolvedIssuer};
use crate::runtime::{Action, Controller};

pub const NAME: &str = "challenges";
/// How long the server gets to validate an accepted challenge (as upstream).
const AUTHORIZATION_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the scheduler runs (as upstream).
const SCHEDULE_PERIOD: Duration = Duration::from_secs(1);

pub async fn run(ctx: Arc<Context>) {
    tokio::spawn(run_scheduler(ctx.clone()));
    let challenges = ctx.caches.challenges().clone();
    Controller::new(NAME, ctx.clone())
        .watch_self(&challenges)
        .run(ctx.workers(), move |ctx, key| {
            let challenges = challenges.clone();
            async move {
                match challenges.get(&key) {
                    Some(ch) => sync(&ctx, &ch).await,
                    None => Ok(Action::done()),
                }
            }
        })
        .await
}

/// Every second: start the Challenges the scheduler picks (status.processing = true).
async fn run_scheduler(ctx: Arc<Context>) {
    let max = ctx.config.max_concurrent_challenges.max(0) as usize;
    let mut tick = tokio::time::interval(SCHEDULE_PERIOD);
    loop {
        tick.tick().await;
        let all = ctx.caches.challenges().list();
        for ch in super::scheduler::schedule(&all, max, super::scheduler::MAX_PER_ROUND) {
            let mut status = ch.status.clone().unwrap_or_default();
            status.processing = true;
            if let Err(e) = write_status(&ctx, &ch, &status).await {
                tracing::warn!(challenge = %ch.name_any(), error = %e, "scheduling challenge for processing");
                break;
            }
            ctx.recorder(NAME).publish(
                ch.as_ref(),
                EventType::Normal,
                "Started",
                "Challenge scheduled for processing",
            );
        }
    }
}

async fn sync(ctx: &Context, ch: &Challenge) -> anyhow::Result<Action> {
    let mut status = ch.status.clone().unwrap_or_default();
    let result = step(ctx, ch, &mut status).await;
    if ch.status.clone().unwrap_or_default() != status {
        write_status(ctx, ch, &status).await?;
    }
    result
}

fn has_finalizer(ch: &Challenge, name: &str) -> bool {
    ch.finalizers().iter().any(|f| f == name)
}

async fn step(
    ctx: &Context,
    ch: &Challenge,
    status: &mut ChallengeStatus,
) -> anyhow::Result<Action> {
    let finished =
        ch.metadata.deletion_timestamp.is_some() || is_final_state(status.state.as_ref());
    if finished {
        if has_finalizer(ch, FINALIZER) || has_finalizer(ch, LEGACY_FINALIZER) {
            if let Err(e) = cleanup(ctx, ch).await {
                let message = format!("Error cleaning up challenge: {e:#}");
                ctx.recorder(NAME)
                    .publish(ch, EventType::Warning, "CleanUpError", message.clone());
                status.reason = Some(message.clone());
                return Err(anyhow::anyhow!(message));
            }
            set_finalizers(ctx, ch, &[]).await?;
            return Ok(Action::done());
        }
        status.presented = false;
        status.processing = false;
        return Ok(Action::done());
    }
    if !status.processing {
        return Ok(Action::done());
    }
    if !has_finalizer(ch, FINALIZER) || has_finalizer(ch, LEGACY_FINALIZER) {
        set_finalizers(ctx, ch, &[FINALIZER]).await?;
        return Ok(Action::done());
    }
    let namespace = ch.namespace().unwrap_or_default();
    let issuer_ref = IssuerRef::of(&ch.spec.issuer_ref);
    let issuer = ResolvedIssuer::lookup(ctx, &issuer_ref, &namespace).map_err(|e| {
        anyhow::anyhow!("error reading (cluster)issuer \"{}\": {e}", issuer_ref.name)
    })?;
    let client = account::client_for(ctx, &issuer)
        .await
        .map_err(|e| anyhow::anyhow!("ACME client for issuer \"{}\": {e}", issuer_ref.name))?;

    if status.state.is_none() {
        return match fetch_state(&client, ch).await {
            Ok((state, reason)) => {
                status.state = Some(state);
                status.reason = reason;
                Ok(Action::done())
            }
            Err(e) => handle_error(ctx, &issuer, &client, status, e).await,
        };
    }

    if !status.presented {
        if let Err(e) = present(ctx, ch, &issuer).await {
            let message = format!("{e:#}");
            ctx.recorder(NAME).publish(
                ch,
                EventType::Warning,
                "PresentError",
                format!("Error presenting challenge: {message}"),
            );
            status.reason = Some(message.clone());
            return Err(anyhow::anyhow!("presenting challenge: {message}"));
        }
        status.presented = true;
        status.presented_at = Some(Time(Timestamp::now()));
        ctx.recorder(NAME).publish(
            ch,
            EventType::Normal,
            "Presented",
            format!(
                "Presented challenge using {} challenge mechanism",
                ch.spec.challenge_type
            ),
        );
    }

    if let Some((reason, retry)) = not_ready(ctx, ch, status).await? {
        status.reason = Some(reason);
        return Ok(Action::requeue_after(retry));
    }
    accept(ctx, &issuer, &client, ch, status).await
}

/// The challenge's state and error at the server.
async fn fetch_state(
    client: &acme::Client,
    ch: &Challenge,
) -> Result<(State, Option<String>), acme::Error> {
    let authz = client.get_authorization(&ch.spec.authorization_url).await?;
    let Some(c) = authz.challenges.iter().find(|c| c.url == ch.spec.url) else {
        return Err(acme::Error::Protocol {
            action: "get_authorization",
            url: ch.spec.authorization_url.clone(),
            reason: "challenge was not present in authorization".into(),
        });
    };
    Ok((
        state_of(c.status),
        c.error.as_ref().map(|p| p.detail.clone()),
    ))
}

/// `Some((reason, retry_after))` while the challenge must not be accepted yet.
async fn not_ready(
    ctx: &Context,
    ch: &Challenge,
    status: &ChallengeStatus,
) -> anyhow::Result<Option<(String, Duration)>> {
    let retry = ctx
        .config
        .acme_dns01
        .check_retry_period
        .to_std()
        .unwrap_or(Duration::from_secs(10))
        .max(Duration::from_millis(100));
    if let Some(wait) = &ch.spec.solver.wait_instead_of_self_check {
        let wait = wait
            .parse()
            .ok()
            .and_then(|d: api::GoDuration| d.to_std())
            .unwrap_or_default();
        let presented = status
            .presented_at
            .as_ref()
            .map(|t| t.0)
            .unwrap_or_else(Timestamp::now);
        let elapsed = Timestamp::now().duration_since(presented).unsigned_abs();
        if elapsed >= wait {
            return Ok(None);
        }
        let remaining = wait - elapsed;
        let reason = format!(
            "Waiting {remaining:?} before accepting {} challenge without self-check",
            ch.spec.challenge_type
        );
        return Ok(Some((reason, remaining.min(retry))));
    }
    let checked = match ch.spec.challenge_type {
        AcmeChallengeType::Dns01 => super::dns01::check(ctx, ch).await,
        _ => super::http01::check(ctx, ch).await,
    };
    match checked {
        Ok(Ok(())) => Ok(None),
        Ok(Err(why)) => Ok(Some((
            format!(
                "Waiting for {} challenge propagation: {why}",
                ch.spec.challenge_type
            ),
            retry,
        ))),
        Err(e) => Ok(Some((
            format!(
                "Waiting for {} challenge propagation: {e:#}",
                ch.spec.challenge_type
            ),
            retry,
        ))),
    }
}

async fn accept(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    ch: &Challenge,
    status: &mut ChallengeStatus,
) -> anyhow::Result<Action> {
    match client.accept_challenge(&ch.spec.url).await {
        Ok(c) => status.state = Some(state_of(c.status)),
        Err(e) => {
            status.reason = Some(format!("Error accepting challenge: {e}"));
            return handle_error(ctx, issuer, client, status, e).await;
        }
    }
    let authz = match client
        .wait_authorization(&ch.spec.authorization_url, AUTHORIZATION_TIMEOUT)
        .await
    {
        Ok(a) => a,
        Err(e) => return handle_error(ctx, issuer, client, status, e).await,
    };
    if authz.status == acme::Status::Valid {
        status.state = Some(State::Valid);
        status.reason = Some("Successfully authorized domain".into());
        ctx.recorder(NAME).publish(
            ch,
            EventType::Normal,
            "DomainVerified",
            format!(
                "Domain \"{}\" verified with \"{}\" validation",
                ch.spec.dns_name, ch.spec.challenge_type
            ),
        );
        return Ok(Action::done());
    }
    // The server refused: the reason is the challenge's error, when it gave one.
    let detail = authz
        .challenges
        .iter()
        .find(|c| c.url == ch.spec.url)
        .and_then(|c| c.error.as_ref())
        .map(|p| p.to_string())
        .unwrap_or_else(|| format!("authorization is {}", authz.status));
    status.state = Some(State::Invalid);
    status.reason = Some(format!("Error accepting authorization: {detail}"));
    ctx.recorder(NAME).publish(
        ch,
        EventType::Warning,
        "Failed",
        format!("Accepting challenge authorization failed: {detail}"),
    );
    Ok(Action::done())
}

/// As upstream's `handleError`: a lost account is registered again and retried; transient
/// errors are retried; `malformed` expires the challenge; other 4xx answers make it errored.
async fn handle_error(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    status: &mut ChallengeStatus,
    e: acme::Error,
) -> anyhow::Result<Action> {
    match classify(&e) {
        ErrorKind::AccountGone => {
            account::reregister(ctx, issuer, client).await?;
            Err(anyhow::anyhow!("{e} (account registered again)"))
        }
        ErrorKind::Transient => Err(e.into()),
        ErrorKind::Final if e.problem().is_some_and(|p| p.is("malformed")) => {
            status.state = Some(State::Expired);
            Ok(Action::done())
        }
        ErrorKind::Final => {
            status.state = Some(State::Errored);
            status.reason = Some(format!("Failed to retrieve Order resource: {e}"));
            Ok(Action::done())
        }
    }
}

async fn present(ctx: &Context, ch: &Challenge, issuer: &ResolvedIssuer) -> anyhow::Result<()> {
    match ch.spec.challenge_type {
        AcmeChallengeType::Dns01 => super::dns01::present(ctx, ch, issuer).await,
        AcmeChallengeType::Http01 => super::http01::present(ctx, ch, issuer).await,
        ref other => anyhow::bail!("no solver for \"{other}\" implemented"),
    }
}

async fn cleanup(ctx: &Context, ch: &Challenge) -> anyhow::Result<()> {
    match ch.spec.challenge_type {
        AcmeChallengeType::Dns01 => super::dns01::cleanup(ctx, ch).await,
        AcmeChallengeType::Http01 => super::http01::cleanup(ctx, ch).await,
        // Nothing was presented for a type we do not solve.
        _ => Ok(()),
    }
}

/// Replaces the Challenge's finalizers with `keep` plus those of others (conditional on the
/// resourceVersion read).
async fn set_finalizers(ctx: &Context, ch: &Challenge, add: &[&str]) -> anyhow::Result<()> {
    let mut finalizers: Vec<String> = ch
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER && *f != LEGACY_FINALIZER)
        .cloned()
        .collect();
    finalizers.extend(add.iter().map(|f| (*f).to_owned()));
    let patch = serde_json::json!({
        "metadata": {"resourceVersion": ch.resource_version(), "finalizers": finalizers},
    });
    merge_patch(ctx, ch, patch, Part::Finalizers).await
}

/// What a merge patch of a Challenge writes.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Finalizers,
    Status,
}

/// Merge-patches `ch` (its status subresource for [`Part::Status`]); the patch carries the
/// resourceVersion read, so a concurrent change is a conflict and retried. A Challenge
/// already gone needs nothing.
async fn merge_patch(
    ctx: &Context,
    ch: &Challenge,
    patch: serde_json::Value,
    part: Part,
) -> anyhow::Result<()> {
    let api: Api<Challenge> =
        Api::namespaced(ctx.client.clone(), &ch.namespace().unwrap_or_default());
    let params = PatchParams {
        field_manager: Some(Context::field_manager(NAME)),
        ..Default::default()
    };
    let name = ch.name_any();
    let result = match part {
        Part::Finalizers => api.patch(&name, &params, &Patch::Merge(patch)).await,
        Part::Status => api.patch_status(&name, &params, &Patch::Merge(patch)).await,
    };
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => {
            let what = if part == Part::Status {
                "status"
            } else {
                "finalizers"
            };
            Err(anyhow::anyhow!("updating {what} of Challenge {name}: {e}"))
        }
    }
}

/// Writes the status (every field, so that cleared ones are removed).
async fn write_status(
    ctx: &Context,
    ch: &Challenge,
    status: &ChallengeStatus,
) -> anyhow::Result<()> {
    let patch = serde_json::json!({
        "metadata": {"resourceVersion": ch.resource_version()},
        "status": {
            "processing": status.processing,
            "presented": status.presented,
            "presentedAt": status.presented_at,
            "reason": status.reason.as_deref().filter(|r| !r.is_empty()),
            "state": status.state,
        },
    });
    merge_patch(ctx, ch, patch, Part::Status).await
}

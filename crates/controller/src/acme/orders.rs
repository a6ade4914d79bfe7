//! The `orders` controller (cert-manager's `acmeorders`): places the ACME order, records its
//! URLs and authorizations, creates one Challenge per authorization to solve (with the
//! solver [`super::solver::pick`] chooses), finalizes with the request's CSR once the server
//! says `ready`, and stores the chain (honouring `preferredChain`). A failed Order is final:
//! it is never placed again (the Certificate's backoff decides when a new request comes).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use api::acme::AcmeIssuer;
use api::challenge::AcmeChallengeType;
use api::order::{AcmeAuthorization, AcmeChallenge, State};
use api::{Challenge, ChallengeSpec, Order, OrderStatus};
use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Resource, ResourceExt};
use kubeclient::store::key_of;

use super::account;
use super::order_name::compute_name;
use super::{ErrorKind, classify, is_failure_state, state_of};
use crate::certificaterequests::acme::{controller_ref, is_controlled_by, owner_of_kind};
use crate::context::Context;
use crate::events::EventType;
use crate::issuers::lookup::{IssuerRef, ResolvedIssuer};
use crate::runtime::{Action, Controller};

pub const NAME: &str = "orders";
/// How soon an Order is looked at again while the server works on it.
const REQUEUE: Duration = Duration::from_secs(5);

pub async fn run(ctx: Arc<Context>) {
    let orders = ctx.caches.orders().clone();
    let by_issuer = orders.clone();
    let mut controller = Controller::new(NAME, ctx.clone())
        .watch_self(&orders)
        .watch(ctx.caches.challenges(), |ch: &Challenge| {
            owner_of_kind(ch.meta(), "Order")
                .map(|o| format!("{}/{o}", ch.namespace().unwrap_or_default()))
                .into_iter()
                .collect()
        })
        .watch(ctx.caches.issuers(), move |issuer| {
            let (ns, name) = (issuer.namespace(), issuer.name_any());
            orders_where(&by_issuer, |o| {
                let r = IssuerRef::of(&o.spec.issuer_ref);
                r.kind == "Issuer" && r.name == name && o.namespace() == ns
            })
        });
    if let Some(cluster_issuers) = ctx.caches.cluster_issuers() {
        let by_issuer = orders.clone();
        controller = controller.watch(cluster_issuers, move |issuer| {
            let name = issuer.name_any();
            orders_where(&by_issuer, |o| {
                let r = IssuerRef::of(&o.spec.issuer_ref);
                r.kind == "ClusterIssuer" && r.name == name
            })
        });
    }
    controller
        .run(ctx.workers(), move |ctx, key| {
            let orders = orders.clone();
            async move {
                match orders.get(&key) {
                    Some(o) if o.metadata.deletion_timestamp.is_none() => sync(&ctx, &o).await,
                    _ => Ok(Action::done()),
                }
            }
        })
        .await
}

fn orders_where(store: &kubeclient::Store<Order>, pred: impl Fn(&Order) -> bool) -> Vec<String> {
    store
        .list_filtered(|o| pred(o))
        .iter()
        .map(|o| key_of(o.as_ref()))
        .collect()
}

/// One Order's work; the status is written when it changed.
async fn sync(ctx: &Context, order: &Order) -> anyhow::Result<Action> {
    let mut status = order.status.clone().unwrap_or_default();
    let result = step(ctx, order, &mut status).await;
    if order.status.clone().unwrap_or_default() != status {
        write_status(ctx, order, &status).await?;
    }
    result
}

/// Marks the Order failed for good.
fn errored(status: &mut OrderStatus, reason: String) {
    set_state(status, State::Errored);
    status.reason = Some(reason);
}

fn set_state(status: &mut OrderStatus, state: State) {
    if is_failure_state(Some(&state)) {
        status.failure_time = Some(Time(Timestamp::now()));
    }
    status.state = Some(state);
}

/// An ACME error: the account is registered again (then retried), transient errors are
/// retried, others make the Order `errored` with `what` as the reason's start.
async fn acme_failure(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    status: &mut OrderStatus,
    what: &str,
    e: acme::Error,
) -> anyhow::Result<Action> {
    match classify(&e) {
        ErrorKind::AccountGone => {
            account::reregister(ctx, issuer, client).await?;
            Err(anyhow::anyhow!("{what}: {e} (account registered again)"))
        }
        ErrorKind::Transient => Err(match e.retry_after() {
            Some(after) => anyhow::anyhow!("{what}: {e} (server asks to retry after {after:?})"),
            None => anyhow::anyhow!("{what}: {e}"),
        }),
        ErrorKind::Final => {
            tracing::warn!(error = %e, "{what}; marking the Order as errored");
            errored(status, format!("{what}: {e}"));
            Ok(Action::done())
        }
    }
}

async fn step(ctx: &Context, order: &Order, status: &mut OrderStatus) -> anyhow::Result<Action> {
    if is_failure_state(status.state.as_ref()) {
        return Ok(Action::done());
    }
    let namespace = order.namespace().unwrap_or_default();
    let issuer_ref = IssuerRef::of(&order.spec.issuer_ref);
    let issuer = ResolvedIssuer::lookup(ctx, &issuer_ref, &namespace).map_err(|e| {
        anyhow::anyhow!("error reading (cluster)issuer \"{}\": {e}", issuer_ref.name)
    })?;
    let Some(spec) = issuer.config().acme.clone() else {
        errored(
            status,
            format!("issuer \"{}\" is not an ACME issuer", issuer_ref.name),
        );
        return Ok(Action::done());
    };
    let client = account::client_for(ctx, &issuer)
        .await
        .map_err(|e| anyhow::anyhow!("ACME client for issuer \"{}\": {e}", issuer_ref.name))?;

    let url = status.url.clone().unwrap_or_default();
    if url.is_empty() {
        return create_order(ctx, &issuer, &client, order, status).await;
    }
    if status
        .finalize_url
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return match client.get_order(&url).await {
            Ok(o) => {
                update_from(status, &o);
                Ok(Action::done())
            }
            Err(e) => {
                acme_failure(
                    ctx,
                    &issuer,
                    &client,
                    status,
                    "Failed to retrieve Order resource",
                    e,
                )
                .await
            }
        };
    }
    if status
        .authorizations
        .iter()
        .flatten()
        .any(|a| a.identifier.as_deref().unwrap_or_default().is_empty())
    {
        return fetch_authorizations(ctx, &issuer, &client, status).await;
    }
    let has_certificate = status.certificate.as_ref().is_some_and(|c| !c.0.is_empty());
    match status.state {
        Some(State::Valid) if has_certificate => return delete_challenges(ctx, order).await,
        Some(State::Valid) | Some(State::Processing) => {
            return sync_certificate(ctx, &issuer, &client, &spec, order, status).await;
        }
        _ => {}
    }

    let required = match required_challenges(order, status, &spec) {
        Ok(r) => r,
        Err(e) => {
            ctx.recorder(NAME).publish(
                order,
                EventType::Warning,
                "Solver",
                format!("Failed to determine a valid solver configuration for the set of domains on the Order: {e}"),
            );
            return Ok(Action::done());
        }
    };
    let owned = owned_challenges(ctx, order);
    let missing: Vec<&Challenge> = required
        .iter()
        .filter(|c| !owned.iter().any(|o| o.name_any() == c.name_any()))
        .collect();
    if !missing.is_empty() {
        return create_challenges(ctx, &client, order, &missing).await;
    }
    let leftover: Vec<&Arc<Challenge>> = owned
        .iter()
        .filter(|o| !required.iter().any(|c| c.name_any() == o.name_any()))
        .collect();
    if !leftover.is_empty() {
        for ch in leftover {
            delete_challenge(ctx, ch).await?;
        }
        return Ok(Action::done());
    }

    if status.state == Some(State::Ready) {
        return finalize(ctx, &issuer, &client, &spec, order, status).await;
    }
    let states: Vec<Option<&State>> = owned
        .iter()
        .map(|c| c.status.as_ref().and_then(|s| s.state.as_ref()))
        .collect();
    let any_failed = states.iter().any(|s| is_failure_state(*s));
    let all_final = states.iter().all(|s| super::is_final_state(*s));
    if !any_failed && !all_final {
        return Ok(Action::done());
    }
    let acme_order = match client.get_order(&url).await {
        Ok(o) => o,
        Err(e) => {
            return acme_failure(
                ctx,
                &issuer,
                &client,
                status,
                "Failed to retrieve Order resource",
                e,
            )
            .await;
        }
    };
    update_from(status, &acme_order);
    if any_failed && status.reason.as_deref().unwrap_or_default().is_empty() {
        status.reason = failed_challenge_reason(&owned);
    }
    if !any_failed && acme_order.status == acme::Status::Pending {
        // All challenges are done but the server has not caught up yet.
        set_state(status, State::Pending);
        return Ok(Action::requeue_after(REQUEUE));
    }
    if status.state == Some(State::Ready) {
        return Ok(Action::requeue_after(Duration::from_millis(100)));
    }
    Ok(Action::done())
}

/// Why the first failed Challenge failed, for the Order's reason.
fn failed_challenge_reason(owned: &[Arc<Challenge>]) -> Option<String> {
    owned.iter().find_map(|c| {
        let s = c.status.as_ref()?;
        is_failure_state(s.state.as_ref()).then(|| {
            format!(
                "Challenge {} for \"{}\" is {}: {}",
                c.name_any(),
                c.spec.dns_name,
                s.state.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                s.reason.as_deref().unwrap_or_default()
            )
        })
    })
}

/// Copies the server's view: URL, finalize URL, state, and the authorizations once.
fn update_from(status: &mut OrderStatus, o: &acme::Order) {
    if !o.url.is_empty() {
        status.url = Some(o.url.clone());
    }
    status.finalize_url = Some(o.finalize.clone());
    set_state(status, state_of(o.status));
    if let Some(problem) = &o.error {
        status.reason = Some(problem.to_string());
    }
    if status.authorizations.as_ref().is_none_or(|a| a.is_empty()) {
        status.authorizations = Some(authorizations_of(o));
    }
}

fn authorizations_of(o: &acme::Order) -> Vec<AcmeAuthorization> {
    o.authorizations
        .iter()
        .map(|url| AcmeAuthorization {
            url: url.clone(),
            ..Default::default()
        })
        .collect()
}

async fn create_order(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    order: &Order,
    status: &mut OrderStatus,
) -> anyhow::Result<Action> {
    let mut dns: BTreeSet<String> = order.spec.dns_names.iter().flatten().cloned().collect();
    let mut ips: BTreeSet<std::net::IpAddr> = order
        .spec
        .ip_addresses
        .iter()
        .flatten()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    if let Some(cn) = order.spec.common_name.as_deref().filter(|c| !c.is_empty()) {
        match cn.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                ips.insert(ip);
            }
            Err(_) => {
                dns.insert(cn.to_owned());
            }
        }
    }
    let dns: Vec<String> = dns.into_iter().collect();
    let ips: Vec<std::net::IpAddr> = ips.into_iter().collect();
    let mut request = acme::NewOrder::new(&dns, &ips);
    if let Some(d) = &order.spec.duration {
        match d.parse() {
            Ok(d) if !d.is_negative() => {
                let secs = d.as_nanos() / 1_000_000_000;
                request.not_after = Timestamp::now()
                    .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(secs))
                    .ok();
            }
            _ => {
                errored(
                    status,
                    format!("Failed to create Order: spec.duration: invalid value {d:?}"),
                );
                return Ok(Action::done());
            }
        }
    }
    request.profile = order.spec.profile.clone().filter(|p| !p.is_empty());
    let created = match client.new_order(&request).await {
        Ok(o) => o,
        Err(e) => {
            return acme_failure(ctx, issuer, client, status, "Failed to create Order", e).await;
        }
    };
    tracing::debug!(order = %order.name_any(), url = %created.url, "placed ACME order");
    status.url = Some(created.url.clone());
    status.finalize_url = Some(created.finalize.clone());
    status.authorizations = Some(authorizations_of(&created));
    set_state(status, state_of(created.status));
    Ok(Action::done())
}

async fn fetch_authorizations(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    status: &mut OrderStatus,
) -> anyhow::Result<Action> {
    let mut authzs = status.authorizations.clone().unwrap_or_default();
    for a in authzs.iter_mut() {
        if !a.identifier.as_deref().unwrap_or_default().is_empty() {
            continue;
        }
        let authz = match client.get_authorization(&a.url).await {
            Ok(authz) => authz,
            Err(e) => {
                status.authorizations = Some(authzs.clone());
                return acme_failure(
                    ctx,
                    issuer,
                    client,
                    status,
                    "Failed to fetch authorization",
                    e,
                )
                .await;
            }
        };
        a.initial_state = Some(state_of(authz.status));
        a.identifier = Some(authz.identifier.value.clone());
        a.wildcard = Some(authz.wildcard);
        a.challenges = Some(
            authz
                .challenges
                .iter()
                .map(|c| AcmeChallenge {
                    url: c.url.clone(),
                    token: c.token.clone(),
                    challenge_type: c.type_.clone(),
                })
                .collect(),
        );
    }
    status.authorizations = Some(authzs);
    Ok(Action::done())
}

/// The Challenges the Order needs (without their keys), one per authorization not already
/// valid; their names hash their spec, so they are found again.
fn required_challenges(
    order: &Order,
    status: &OrderStatus,
    spec: &AcmeIssuer,
) -> anyhow::Result<Vec<Challenge>> {
    let solvers = spec.solvers.clone().unwrap_or_default();
    let mut out = Vec::new();
    for a in status.authorizations.iter().flatten() {
        if a.initial_state == Some(State::Valid) {
            continue;
        }
        let wildcard = a.wildcard.unwrap_or(false);
        let identifier = a.identifier.clone().unwrap_or_default();
        let domain = if wildcard {
            format!("*.{identifier}")
        } else {
            identifier.clone()
        };
        let offered = a.challenges.clone().unwrap_or_default();
        let (mut solver, challenge) =
            super::solver::pick(&domain, &offered, &solvers, order.labels()).ok_or_else(|| {
                anyhow::anyhow!("no configured challenge solvers can be used for this challenge")
            })?;
        super::http01::apply_ingress_overrides(order.annotations(), &mut solver)?;
        let challenge_type = match challenge.challenge_type.as_str() {
            "http-01" => AcmeChallengeType::Http01,
            "dns-01" => AcmeChallengeType::Dns01,
            other => anyhow::bail!("unsupported challenge type: {other}"),
        };
        let ch_spec = ChallengeSpec {
            url: challenge.url.clone(),
            authorization_url: a.url.clone(),
            dns_name: identifier,
            wildcard,
            challenge_type,
            token: challenge.token.clone(),
            key: String::new(),
            solver,
            issuer_ref: order.spec.issuer_ref.clone(),
        };
        // Not yet cert-manager's Challenge names (those hash Go's JSON of the whole solver).
        let hashed = serde_json::to_vec(&serde_json::to_value(&ch_spec)?)?;
        let name = compute_name(&order.name_any(), &hashed);
        let mut ch = Challenge::new(&name, ch_spec);
        ch.metadata.namespace = order.namespace();
        ch.metadata.owner_references = Some(vec![controller_ref(order)]);
        out.push(ch);
    }
    Ok(out)
}

fn owned_challenges(ctx: &Context, order: &Order) -> Vec<Arc<Challenge>> {
    let uid = order.meta().uid.clone();
    ctx.caches
        .challenges()
        .list_namespace(&order.namespace().unwrap_or_default())
        .into_iter()
        .filter(|c| is_controlled_by(c.meta(), uid.as_deref()))
        .collect()
}

async fn create_challenges(
    ctx: &Context,
    client: &acme::Client,
    order: &Order,
    missing: &[&Challenge],
) -> anyhow::Result<Action> {
    let namespace = order.namespace().unwrap_or_default();
    let api: Api<Challenge> = Api::namespaced(ctx.client.clone(), &namespace);
    for ch in missing {
        let mut ch = (*ch).clone();
        ch.spec.key = match ch.spec.challenge_type {
            AcmeChallengeType::Dns01 => client.dns01_value(&ch.spec.token),
            _ => client.http01_response(&ch.spec.token),
        };
        match api.create(&PostParams::default(), &ch).await {
            Ok(_) => ctx.recorder(NAME).publish(
                order,
                EventType::Normal,
                "Created",
                format!(
                    "Created Challenge resource \"{}\" for domain \"{}\"",
                    ch.name_any(),
                    ch.spec.dns_name
                ),
            ),
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "creating Challenge {namespace}/{}: {e}",
                    ch.name_any()
                ));
            }
        }
    }
    Ok(Action::done())
}

async fn delete_challenge(ctx: &Context, ch: &Challenge) -> anyhow::Result<()> {
    let api: Api<Challenge> =
        Api::namespaced(ctx.client.clone(), &ch.namespace().unwrap_or_default());
    match api.delete(&ch.name_any(), &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(anyhow::anyhow!("deleting Challenge {}: {e}", ch.name_any())),
    }
}

/// A completed Order needs its Challenges no more (their finalizers clean up).
async fn delete_challenges(ctx: &Context, order: &Order) -> anyhow::Result<Action> {
    for ch in owned_challenges(ctx, order) {
        if ch.metadata.deletion_timestamp.is_none() {
            delete_challenge(ctx, &ch).await?;
        }
    }
    Ok(Action::done())
}

/// The CSR as DER: `spec.request` is PEM (older cert-manager versions stored DER).
fn csr_der(request: &ByteString) -> Vec<u8> {
    match pki::ParsedCsr::from_pem(&request.0) {
        Ok(csr) => csr.der().to_vec(),
        Err(_) => request.0.clone(),
    }
}

async fn finalize(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    spec: &AcmeIssuer,
    order: &Order,
    status: &mut OrderStatus,
) -> anyhow::Result<Action> {
    let finalize_url = status.finalize_url.clone().unwrap_or_default();
    match client
        .finalize(&finalize_url, &csr_der(&order.spec.request))
        .await
    {
        Ok(o) => {
            update_from(status, &o);
        }
        // 403: perhaps finalized before and the status write was lost; the server knows.
        Err(e) if e.status() == Some(403) || classify(&e) == ErrorKind::Transient => {
            tracing::debug!(error = %e, "finalizing failed; reading the order");
        }
        Err(e) => {
            return acme_failure(ctx, issuer, client, status, "Failed to finalize Order", e).await;
        }
    }
    sync_certificate(ctx, issuer, client, spec, order, status).await
}

/// Reads the order; once valid, downloads the chain (the preferred one when configured).
async fn sync_certificate(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &acme::Client,
    spec: &AcmeIssuer,
    order: &Order,
    status: &mut OrderStatus,
) -> anyhow::Result<Action> {
    let url = status.url.clone().unwrap_or_default();
    let acme_order = match client.get_order(&url).await {
        Ok(o) => o,
        Err(e) => {
            return acme_failure(
                ctx,
                issuer,
                client,
                status,
                "Failed to retrieve Order resource",
                e,
            )
            .await;
        }
    };
    update_from(status, &acme_order);
    if acme_order.status != acme::Status::Valid {
        if acme_order.status == acme::Status::Processing {
            return Ok(Action::requeue_after(
                acme_order.retry_after.unwrap_or(Duration::from_secs(1)),
            ));
        }
        return Ok(Action::done());
    }
    let Some(cert_url) = acme_order.certificate.as_deref() else {
        return Ok(Action::requeue_after(Duration::from_secs(1)));
    };
    let chain = match spec.preferred_chain.as_deref().filter(|p| !p.is_empty()) {
        Some(cn) => client.preferred_chain(cert_url, cn).await,
        None => client.certificate_chain(cert_url).await,
    };
    let chain = match chain {
        Ok(c) => c,
        Err(e) => {
            return acme_failure(
                ctx,
                issuer,
                client,
                status,
                "Failed to retrieve signed certificate",
                e,
            )
            .await;
        }
    };
    status.certificate = Some(ByteString(chain.pem.into_bytes()));
    ctx.recorder(NAME).publish(
        order,
        EventType::Normal,
        "Complete",
        "Order completed successfully",
    );
    Ok(Action::done())
}

/// Writes the status, conditional on the resourceVersion read (409: retried).
async fn write_status(ctx: &Context, order: &Order, status: &OrderStatus) -> anyhow::Result<()> {
    let namespace = order.namespace().unwrap_or_default();
    let api: Api<Order> = Api::namespaced(ctx.client.clone(), &namespace);
    crate::context::patch_status(&api, order, NAME, status)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "updating status of Order {namespace}/{}: {e}",
                order.name_any()
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_states_set_the_failure_time_once_final() {
        let mut s = OrderStatus::default();
        set_state(&mut s, State::Pending);
        assert!(s.failure_time.is_none());
        errored(&mut s, "boom".into());
        assert_eq!(s.state, Some(State::Errored));
        assert!(s.failure_time.is_some());
        assert_eq!(s.reason.as_deref(), Some("boom"));
    }

    #[test]
    fn csr_is_sent_as_der() {
        let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
        let spec = pki::CsrSpec {
            dns_names: vec!["a.example.com".into()],
            ..Default::default()
        };
        let csr = pki::create_csr(&spec, &key, None).unwrap();
        let pem = ByteString(csr.to_pem().into_bytes());
        assert_eq!(csr_der(&pem), csr.der());
        assert_eq!(csr_der(&ByteString(csr.der().to_vec())), csr.der());
    }
}

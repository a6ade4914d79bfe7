//! ACME HTTP-01 solving, as cert-manager's `pkg/issuer/acme/http`: for each Challenge a solver
//! Pod running `acmesolver`, a Service selecting it and an Ingress routing
//! `/.well-known/acme-challenge/<token>` for the challenge's host to that Service (or, with
//! `http01.ingress.name`, that path added to an existing Ingress: "edit in place"), then a
//! self check that fetches the URL the ACME server will fetch.
//!
//! The challenges controller calls:
//! * [`present`]: idempotently ensures the Pod, Service and Ingress (path);
//! * [`check`]: ensures them again (Pods get evicted), then the self check: five passes two
//!   seconds apart, each `GET http://<dnsName>/.well-known/acme-challenge/<token>` following
//!   redirects, expecting 200 and exactly the key authorization. `Ok(Err(reason))` when the
//!   URL is not (yet) right: the reason is meant for the Challenge's `status.reason`;
//! * [`cleanup`]: deletes what `present` created (found by labels and owner reference) and
//!   removes the path from an edited Ingress; idempotent.
//!
//! The `acme.cert-manager.io/http01-override-ingress-name` (and `-ingress-class`,
//! `-ingressclassname`) annotations are applied by whoever builds the Challenge's solver from
//! the Order's annotations (upstream: the orders controller); [`apply_ingress_overrides`] does
//! it. This module reads only `spec.solver.http01.ingress`. Gateway API `gatewayHTTPRoute`
//! solvers are refused with a clear error (not supported by cert-manager-rs yet).
//!
//! # Test aid: `CERT_MANAGER_RS_HTTP01_SELF_CHECK_ADDR`
//! Set `CERT_MANAGER_RS_HTTP01_SELF_CHECK_ADDR=127.0.0.1:<port>` in the controller's
//! environment and the self check connects to that address whenever it would connect to
//! `<dnsName>:80` (the Host header stays `<dnsName>`, like `curl --connect-to`). Integration
//! tests run `acmesolver --listen-host=127.0.0.1 --listen-port=<Pebble's HTTP-01 port>` themselves
//! (there is no kubelet to run the solver Pod) and point this variable at it. Not a flag on
//! purpose: it is not part of cert-manager's interface.

mod ingress;
mod pod;
mod resolve;
mod selfcheck;
mod service;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use api::Challenge;
use api::acme::{
    AcmeChallengeSolver, AcmeChallengeSolverHttp01Ingress, DOMAIN_LABEL_KEY,
    SOLVER_IDENTIFICATION_LABEL_KEY, TOKEN_LABEL_KEY,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::issuers::lookup::ResolvedIssuer;

/// `generateName` of solver Pods, Services and Ingresses.
pub const SOLVER_NAME_PREFIX: &str = "cm-acme-http-solver-";
/// The port acmesolver listens on, the Service port and the Ingress backend port.
pub const SOLVER_PORT: i32 = 8089;
/// Path prefix of HTTP-01 challenge requests.
pub const CHALLENGE_PATH: &str = "/.well-known/acme-challenge";

/// Order annotations that override the chosen solver's ingress settings (upstream
/// `ACMECertificateHTTP01Ingress*Override`).
pub const INGRESS_NAME_OVERRIDE: &str = "acme.cert-manager.io/http01-override-ingress-name";
pub const INGRESS_CLASS_OVERRIDE: &str = "acme.cert-manager.io/http01-ingress-class";
pub const INGRESS_CLASS_NAME_OVERRIDE: &str =
    "acme.cert-manager.io/http01-ingress-ingressclassname";

/// Self-check passes that must all succeed, and the pause between them (upstream values:
/// one success may be a lucky load balancer backend).
const REQUIRED_PASSES: usize = 5;
const PASS_INTERVAL: Duration = Duration::from_secs(2);

/// The field manager of the objects this module writes (they belong to the challenges
/// controller, as upstream).
fn field_manager() -> String {
    Context::field_manager("challenges")
}

/// Ensures the solver Pod, Service and Ingress (or the path on the named Ingress) exist.
/// Idempotent; removes duplicates it finds (and then fails so that the caller retries).
pub async fn present(
    ctx: &Context,
    ch: &Challenge,
    _issuer: &ResolvedIssuer,
) -> anyhow::Result<()> {
    ensure(ctx, ch).await
}

/// Ensures the resources again, then runs the reachability self check.
pub async fn check(ctx: &Context, ch: &Challenge) -> anyhow::Result<Result<(), String>> {
    let probe = selfcheck::Probe::from_config(&ctx.config.acme_http01.solver_nameservers)?;
    check_with(ctx, ch, &probe).await
}

async fn check_with(
    ctx: &Context,
    ch: &Challenge,
    probe: &selfcheck::Probe,
) -> anyhow::Result<Result<(), String>> {
    ensure(ctx, ch).await?;
    for pass in 0..REQUIRED_PASSES {
        if pass > 0 {
            tokio::time::sleep(PASS_INTERVAL).await;
        }
        if let Err(reason) = probe
            .test(&ch.spec.dns_name, &ch.spec.token, &ch.spec.key)
            .await
        {
            tracing::debug!(challenge = %key_of(ch), pass, %reason, "HTTP-01 self check failed");
            return Ok(Err(reason));
        }
    }
    tracing::debug!(challenge = %key_of(ch), "HTTP-01 self check passed");
    Ok(Ok(()))
}

/// Deletes the solver Pods, Services and created Ingresses of `ch`, or removes its path from
/// the named Ingress. Every kind is attempted; the errors are reported together.
pub async fn cleanup(ctx: &Context, ch: &Challenge) -> anyhow::Result<()> {
    let ns = namespace_of(ch)?;
    let uid = uid_of(ch)?;
    let mut errors = Vec::new();
    let pods = Api::namespaced(ctx.client.clone(), ns);
    if let Err(e) = delete_owned::<k8s_openapi::api::core::v1::Pod>(&pods, ch, uid).await {
        errors.push(e.context("cleaning up solver pods"));
    }
    let services = Api::namespaced(ctx.client.clone(), ns);
    if let Err(e) = delete_owned::<k8s_openapi::api::core::v1::Service>(&services, ch, uid).await {
        errors.push(e.context("cleaning up solver services"));
    }
    let ingress_cfg = ch
        .spec
        .solver
        .http01
        .as_ref()
        .and_then(|h| h.ingress.as_ref());
    if let Some(cfg) = ingress_cfg
        && let Err(e) = ingress::cleanup(ctx, ch, cfg).await
    {
        errors.push(e.context("cleaning up solver ingresses"));
    }
    aggregate(errors)
}

/// Sets the solver's ingress `name`, `class` or `ingressClassName` from an Order's override
/// annotations, as upstream's orders controller does before creating Challenges: at most one
/// annotation may be given, and a given one replaces all three fields.
pub fn apply_ingress_overrides(
    annotations: &BTreeMap<String, String>,
    solver: &mut AcmeChallengeSolver,
) -> anyhow::Result<()> {
    let Some(ing) = solver.http01.as_mut().and_then(|h| h.ingress.as_mut()) else {
        return Ok(());
    };
    let name = annotations.get(INGRESS_NAME_OVERRIDE);
    let class = annotations.get(INGRESS_CLASS_OVERRIDE);
    let class_name = annotations.get(INGRESS_CLASS_NAME_OVERRIDE);
    match [name, class, class_name].iter().flatten().count() {
        0 => return Ok(()),
        1 => {}
        _ => bail!(
            "may not specify more than one of: name, class, ingressClassName override annotations"
        ),
    }
    ing.name = name.cloned();
    ing.class = class.cloned();
    ing.ingress_class_name = class_name.cloned();
    Ok(())
}

async fn ensure(ctx: &Context, ch: &Challenge) -> anyhow::Result<()> {
    let ingress_cfg = ingress_config(ch)?;
    let ns = namespace_of(ch)?;
    let uid = uid_of(ch)?;
    let cfg = &ctx.config.acme_http01;
    let owner = controller_ref(ch)?;

    let pods = Api::namespaced(ctx.client.clone(), ns);
    let pod = ensure_one(&pods, ch, uid, "pod", || {
        pod::build(ch, cfg, ingress_cfg.pod_template.as_ref(), owner.clone())
    })
    .await;
    let services = Api::namespaced(ctx.client.clone(), ns);
    let service = ensure_one(&services, ch, uid, "service", || {
        Ok(service::build(
            ch,
            ingress_cfg.service_type.as_deref(),
            &cfg.solver_extra_labels,
            owner.clone(),
        ))
    })
    .await;
    let service_name = match service {
        Ok(name) => name,
        Err(e) => return aggregate(pod.err().into_iter().chain([e]).collect()),
    };
    let ingress = ingress::ensure(ctx, ch, ingress_cfg, &service_name, owner).await;
    aggregate(pod.err().into_iter().chain(ingress.err()).collect())
}

/// The challenge's ingress solver config; a clear error for Gateway API or missing config.
fn ingress_config(ch: &Challenge) -> anyhow::Result<&AcmeChallengeSolverHttp01Ingress> {
    let http01 = ch.spec.solver.http01.as_ref();
    if let Some(ing) = http01.and_then(|h| h.ingress.as_ref()) {
        return Ok(ing);
    }
    if http01.is_some_and(|h| h.gateway_http_route.is_some()) {
        bail!(
            "challenge {}: HTTP-01 solvers with gatewayHTTPRoute are not supported by \
             cert-manager-rs yet; use solvers[].http01.ingress",
            key_of(ch)
        );
    }
    bail!(
        "challenge's 'solver' field is specified but no HTTP01 ingress config provided. \
         Ensure solvers[].http01.ingress is specified on your issuer resource"
    )
}

/// The labels every solver object carries and is found by: Adler-32 of domain and token
/// (decimal; the values fit in a label whatever the domain's length), and the solver marker.
pub fn solver_labels(ch: &Challenge) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            DOMAIN_LABEL_KEY.to_owned(),
            adler32(ch.spec.dns_name.as_bytes()).to_string(),
        ),
        (
            TOKEN_LABEL_KEY.to_owned(),
            adler32(ch.spec.token.as_bytes()).to_string(),
        ),
        (
            SOLVER_IDENTIFICATION_LABEL_KEY.to_owned(),
            "true".to_owned(),
        ),
    ])
}

/// `--acme-http01-solver-extra-labels` without the identity labels, which cannot be
/// overridden (the objects would no longer be found).
fn extra_labels(extra: &BTreeMap<String, String>) -> impl Iterator<Item = (String, String)> {
    extra
        .iter()
        .filter(|(k, _)| {
            ![
                DOMAIN_LABEL_KEY,
                TOKEN_LABEL_KEY,
                SOLVER_IDENTIFICATION_LABEL_KEY,
            ]
            .contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
}

fn label_selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Adler-32 (RFC 1950), Go's `hash/adler32.Checksum`.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % MOD;
        b = (b + a) % MOD;
    }
    (b << 16) | a
}

/// The ownerReference that makes the Challenge the controller of a solver object (garbage
/// collected with it).
pub fn controller_ref(ch: &Challenge) -> anyhow::Result<OwnerReference> {
    Ok(OwnerReference {
        api_version: Challenge::api_version(&()).into_owned(),
        kind: Challenge::kind(&()).into_owned(),
        name: ch.name_any(),
        uid: uid_of(ch)?.to_owned(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

fn namespace_of(ch: &Challenge) -> anyhow::Result<&str> {
    ch.metadata
        .namespace
        .as_deref()
        .filter(|ns| !ns.is_empty())
        .ok_or_else(|| anyhow!("challenge {} has no namespace", ch.name_any()))
}

fn uid_of(ch: &Challenge) -> anyhow::Result<&str> {
    ch.metadata
        .uid
        .as_deref()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| anyhow!("challenge {} has no uid", key_of(ch)))
}

fn key_of(ch: &Challenge) -> String {
    format!(
        "{}/{}",
        ch.metadata.namespace.as_deref().unwrap_or_default(),
        ch.name_any()
    )
}

/// The names of the objects of kind `K` in the challenge's namespace that carry its solver
/// labels and are controlled by it (metadata-only LIST: nothing else is needed).
async fn owned_names<K>(api: &Api<K>, ch: &Challenge, uid: &str) -> anyhow::Result<Vec<String>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let selector = label_selector(&solver_labels(ch));
    let list = api
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .with_context(|| format!("listing with labels {selector}"))?;
    Ok(list
        .items
        .into_iter()
        .filter(|o| {
            let owned = is_controlled_by(&o.metadata, uid);
            if !owned {
                tracing::info!(name = ?o.metadata.name, "found an object with this challenge's solver labels that it does not control; skipping it");
            }
            owned
        })
        .filter_map(|o| o.metadata.name)
        .collect())
}

/// Exactly one owned object: returns its name, creates it when there is none, and deletes
/// all of them (then fails, for a retry) when there are several.
async fn ensure_one<K>(
    api: &Api<K>,
    ch: &Challenge,
    uid: &str,
    what: &str,
    build: impl FnOnce() -> anyhow::Result<K>,
) -> anyhow::Result<String>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug,
{
    let existing = owned_names(api, ch, uid).await?;
    match existing.as_slice() {
        [name] => return Ok(name.clone()),
        [] => {}
        _ => {
            tracing::info!(challenge = %key_of(ch), what, "multiple challenge solver {what}s found; deleting all of them");
            delete_names(api, &existing).await?;
            bail!(
                "multiple existing challenge solver {what}s found and cleaned up. retrying challenge sync"
            );
        }
    }
    let object = build()?;
    let params = PostParams {
        field_manager: Some(field_manager()),
        ..Default::default()
    };
    let created = api
        .create(&params, &object)
        .await
        .with_context(|| format!("creating the HTTP-01 solver {what}"))?;
    let name = created.meta().name.clone().unwrap_or_default();
    tracing::info!(challenge = %key_of(ch), what, %name, "created HTTP-01 solver {what}");
    Ok(name)
}

async fn delete_owned<K>(api: &Api<K>, ch: &Challenge, uid: &str) -> anyhow::Result<()>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let names = owned_names(api, ch, uid).await?;
    delete_names(api, &names).await
}

/// Deletes each name; already gone is fine.
async fn delete_names<K>(api: &Api<K>, names: &[String]) -> anyhow::Result<()>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut errors = Vec::new();
    for name in names {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => tracing::debug!(%name, "deleted HTTP-01 solver object"),
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => errors.push(anyhow!(e).context(format!("deleting {name}"))),
        }
    }
    aggregate(errors)
}

/// One error, several joined (upstream's aggregate), or none.
fn aggregate(mut errors: Vec<anyhow::Error>) -> anyhow::Result<()> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(anyhow!(
            "[{}]",
            errors
                .iter()
                .map(|e| format!("{e:#}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

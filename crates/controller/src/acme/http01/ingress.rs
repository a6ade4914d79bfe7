//! The solver Ingress: one rule for the challenge's host with the exact challenge path to the
//! solver Service, or, with `http01.ingress.name`, that path added to (and later removed
//! from) an existing Ingress.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anyhow::{Context as _, bail};
use api::Challenge;
use api::acme::AcmeChallengeSolverHttp01Ingress;
use featuregates::certmanager::ACME_HTTP01_INGRESS_PATH_TYPE_EXACT;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, ListParams, PostParams};

use super::{
    CHALLENGE_PATH, SOLVER_NAME_PREFIX, SOLVER_PORT, delete_names, extra_labels, field_manager,
    is_controlled_by, key_of, label_selector, solver_labels, uid_of,
};
use crate::context::Context;

/// The well-known (pre-`ingressClassName`) ingress class annotation.
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
/// Kept for users whose ingress-nginx allow-lists would otherwise block the ACME server.
const WHITELIST_ANNOTATION: &str = "nginx.ingress.kubernetes.io/whitelist-source-range";

/// Ensures the challenge path routes to `service_name`: on the named Ingress when the solver
/// names one, else on exactly one Ingress created for the challenge.
pub async fn ensure(
    ctx: &Context,
    ch: &Challenge,
    cfg: &AcmeChallengeSolverHttp01Ingress,
    service_name: &str,
    owner: OwnerReference,
) -> anyhow::Result<()> {
    let exact = ctx.gates.enabled(ACME_HTTP01_INGRESS_PATH_TYPE_EXACT);
    let api: Api<Ingress> = Api::namespaced(ctx.client.clone(), super::namespace_of(ch)?);
    let path = challenge_path(&ch.spec.token, service_name, exact);
    if let Some(name) = cfg.name.as_deref().filter(|n| !n.is_empty()) {
        return edit_in_place(&api, ch, name, path).await;
    }
    let existing = owned(&api, ch).await?;
    match existing.as_slice() {
        [ing] if backend_service_name(ing) == Some(service_name) => return Ok(()),
        [] => {}
        [_] => {
            delete_all(&api, &existing).await?;
            bail!(
                "service name changed, existing challenge solver ingresses found and cleaned up. retrying challenge sync"
            );
        }
        _ => {
            delete_all(&api, &existing).await?;
            bail!(
                "multiple existing challenge solver ingresses found and cleaned up. retrying challenge sync"
            );
        }
    }
    let extra = &ctx.config.acme_http01.solver_extra_labels;
    let ing = build(ch, cfg, path, extra, owner)?;
    let params = PostParams {
        field_manager: Some(field_manager()),
        ..Default::default()
    };
    let created = api
        .create(&params, &ing)
        .await
        .context("creating the HTTP-01 solver ingress")?;
    tracing::info!(challenge = %key_of(ch), name = ?created.metadata.name, "created HTTP-01 solver ingress");
    Ok(())
}

/// Deletes the Ingresses created for the challenge, or removes its path from the named one
/// (gone already is fine).
pub async fn cleanup(
    ctx: &Context,
    ch: &Challenge,
    cfg: &AcmeChallengeSolverHttp01Ingress,
) -> anyhow::Result<()> {
    let api: Api<Ingress> = Api::namespaced(ctx.client.clone(), super::namespace_of(ch)?);
    let Some(name) = cfg.name.as_deref().filter(|n| !n.is_empty()) else {
        let existing = owned(&api, ch).await?;
        return delete_all(&api, &existing).await;
    };
    let Some(mut ing) = api
        .get_opt(name)
        .await
        .with_context(|| format!("getting ingress {name}"))?
    else {
        tracing::info!(challenge = %key_of(ch), ingress = name, "named ingress resource not found, skipping cleanup");
        return Ok(());
    };
    if remove_challenge_path(&mut ing, &ch.spec.dns_name, &solver_path(&ch.spec.token)) {
        api.replace(name, &post_params(), &ing)
            .await
            .with_context(|| format!("removing the challenge path from ingress {name}"))?;
        tracing::info!(challenge = %key_of(ch), ingress = name, "removed the challenge path from the ingress");
    }
    Ok(())
}

async fn edit_in_place(
    api: &Api<Ingress>,
    ch: &Challenge,
    name: &str,
    path: HTTPIngressPath,
) -> anyhow::Result<()> {
    let mut ing = api.get(name).await.with_context(|| {
        format!(
            "getting ingress {}/{name} named by the HTTP-01 solver",
            super::namespace_of(ch).unwrap_or_default()
        )
    })?;
    if add_challenge_path(&mut ing, &ch.spec.dns_name, path) {
        // Replace carries the resourceVersion read: a concurrent edit is a conflict (retried),
        // never lost.
        api.replace(name, &post_params(), &ing)
            .await
            .with_context(|| format!("adding the challenge path to ingress {name}"))?;
        tracing::info!(challenge = %key_of(ch), ingress = name, "added the challenge path to the ingress");
    }
    Ok(())
}

fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(field_manager()),
        ..Default::default()
    }
}

async fn owned(api: &Api<Ingress>, ch: &Challenge) -> anyhow::Result<Vec<Ingress>> {
    let uid = uid_of(ch)?;
    let selector = label_selector(&solver_labels(ch));
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .with_context(|| format!("listing ingresses with labels {selector}"))?;
    Ok(list
        .items
        .into_iter()
        .filter(|i| is_controlled_by(&i.metadata, uid))
        .collect())
}

async fn delete_all(api: &Api<Ingress>, ingresses: &[Ingress]) -> anyhow::Result<()> {
    let names: Vec<String> = ingresses
        .iter()
        .filter_map(|i| i.metadata.name.clone())
        .collect();
    delete_names(api, &names).await
}

/// `/.well-known/acme-challenge/<token>`.
pub fn solver_path(token: &str) -> String {
    format!("{CHALLENGE_PATH}/{token}")
}

/// The path entry routing the challenge to the solver Service (`Exact` with the
/// ACMEHTTP01IngressPathTypeExact gate, else `ImplementationSpecific`).
pub fn challenge_path(token: &str, service_name: &str, exact: bool) -> HTTPIngressPath {
    HTTPIngressPath {
        path: Some(solver_path(token)),
        path_type: if exact {
            "Exact"
        } else {
            "ImplementationSpecific"
        }
        .to_owned(),
        backend: IngressBackend {
            service: Some(IngressServiceBackend {
                name: service_name.to_owned(),
                port: Some(ServiceBackendPort {
                    number: Some(SOLVER_PORT),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        },
    }
}

/// The Ingress created for `ch`, with the solver's class and `ingressTemplate` applied.
pub fn build(
    ch: &Challenge,
    cfg: &AcmeChallengeSolverHttp01Ingress,
    path: HTTPIngressPath,
    extra: &BTreeMap<String, String>,
    owner: OwnerReference,
) -> anyhow::Result<Ingress> {
    if cfg.class.is_some() && cfg.ingress_class_name.is_some() {
        bail!("the fields ingressClassName and class cannot be set at the same time");
    }
    let mut annotations =
        BTreeMap::from([(WHITELIST_ANNOTATION.to_owned(), "0.0.0.0/0,::/0".to_owned())]);
    if let Some(class) = &cfg.class {
        annotations.insert(CLASS_ANNOTATION.to_owned(), class.clone());
    }
    let mut labels = solver_labels(ch);
    labels.extend(extra_labels(extra));
    // An IP address identifier is validated on every host the Ingress serves.
    let host = Some(ch.spec.dns_name.clone()).filter(|h| h.parse::<IpAddr>().is_err());
    let mut ing = Ingress {
        metadata: ObjectMeta {
            generate_name: Some(SOLVER_NAME_PREFIX.to_owned()),
            namespace: ch.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(IngressSpec {
            ingress_class_name: cfg.ingress_class_name.clone(),
            rules: Some(vec![IngressRule {
                host,
                http: Some(HTTPIngressRuleValue { paths: vec![path] }),
            }]),
            ..Default::default()
        }),
        status: None,
    };
    if let Some(meta) = cfg
        .ingress_template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
    {
        merge_template(
            &mut ing.metadata,
            meta.labels.as_ref(),
            meta.annotations.as_ref(),
        );
    }
    Ok(ing)
}

/// Template labels and annotations win; a template's own `*/whitelist-source-range`
/// annotation (any prefix) replaces the default nginx one.
fn merge_template(
    meta: &mut ObjectMeta,
    labels: Option<&BTreeMap<String, String>>,
    annotations: Option<&BTreeMap<String, String>>,
) {
    if let Some(labels) = labels {
        meta.labels.get_or_insert_default().extend(labels.clone());
    }
    if let Some(annotations) = annotations {
        let own = meta.annotations.get_or_insert_default();
        for (k, v) in annotations {
            if k.rsplit('/').next() == Some("whitelist-source-range") {
                own.remove(WHITELIST_ANNOTATION);
            }
            own.insert(k.clone(), v.clone());
        }
    }
}

/// The backend Service of the first path of the first rule (how upstream recognises a solver
/// Ingress that points at an older Service).
fn backend_service_name(ing: &Ingress) -> Option<&str> {
    let rule = ing.spec.as_ref()?.rules.as_ref()?.first()?;
    let path = rule.http.as_ref()?.paths.first()?;
    Some(path.backend.service.as_ref()?.name.as_str())
}

/// Adds `path` to the rule for `host` (first, so it wins over broader paths), replacing a
/// same-path entry with another backend, or appends a new rule for `host`. Returns whether
/// the Ingress changed.
pub fn add_challenge_path(ing: &mut Ingress, host: &str, path: HTTPIngressPath) -> bool {
    let rules = ing
        .spec
        .get_or_insert_default()
        .rules
        .get_or_insert_default();
    let Some(rule) = rules.iter_mut().find(|r| r.host.as_deref() == Some(host)) else {
        rules.push(IngressRule {
            host: Some(host.to_owned()),
            http: Some(HTTPIngressRuleValue { paths: vec![path] }),
        });
        return true;
    };
    let http = rule.http.get_or_insert_default();
    match http.paths.iter_mut().find(|p| p.path == path.path) {
        Some(existing) if same_backend(&existing.backend, &path.backend) => false,
        Some(existing) => {
            *existing = path;
            true
        }
        None => {
            http.paths.insert(0, path);
            true
        }
    }
}

fn same_backend(a: &IngressBackend, b: &IngressBackend) -> bool {
    match (&a.service, &b.service) {
        (Some(a), Some(b)) => a.name == b.name && a.port == b.port,
        _ => false,
    }
}

/// Removes the challenge path from the rules for `host`, dropping rules left without paths
/// (rules for other hosts and rules without `http` are kept). Returns whether it changed.
pub fn remove_challenge_path(ing: &mut Ingress, host: &str, path: &str) -> bool {
    let Some(rules) = ing.spec.as_mut().and_then(|s| s.rules.as_mut()) else {
        return false;
    };
    let before = rules.clone();
    rules.retain_mut(|rule| {
        if rule.host.as_deref() != Some(host) {
            return true;
        }
        let Some(http) = rule.http.as_mut() else {
            return true;
        };
        http.paths.retain(|p| p.path.as_deref() != Some(path));
        !http.paths.is_empty()
    });
    *rules != before
}

//! `ingress-shim`: Certificates for annotated Ingresses (`networking.k8s.io/v1`).
//!
//! An Ingress annotated with `cert-manager.io/issuer`, `cert-manager.io/cluster-issuer` or a
//! true auto-certificate annotation (`kubernetes.io/tls-acme`, with the `--default-issuer-*`
//! flags) gets one Certificate per `spec.tls` entry, named after the entry's Secret and
//! controlled by the Ingress. They follow the Ingress as it changes; those whose entry is gone
//! are deleted. Certificates are left in place when the annotations are removed (as
//! cert-manager does), and a Certificate the Ingress does not control is never touched.

mod annotations;
mod csv;
mod desired;
mod sync;

use std::sync::Arc;

use api::Certificate;
use k8s_openapi::api::networking::v1::{Ingress, IngressSpec};
use kube::ResourceExt;

use crate::context::Context;
use crate::runtime::Controller;

pub const NAME: &str = "ingress-shim";

pub async fn run(ctx: Arc<Context>) {
    let Some(ingresses) = ctx.caches.ingresses() else {
        // The cache is started whenever this controller is enabled; not reachable.
        tracing::error!(controller = NAME, "no Ingress cache; not starting");
        return std::future::pending().await;
    };
    Controller::new(NAME, ctx.clone())
        .watch_self(ingresses)
        // A changed or deleted Certificate is put back as its Ingress wants it.
        .watch(ctx.caches.certificates(), |crt: &Certificate| {
            controlling_ingress(crt).into_iter().collect()
        })
        .run(ctx.workers(), sync::reconcile)
        .await
}

/// `namespace/name` of the Ingress that controls `crt`, if one does.
fn controlling_ingress(crt: &Certificate) -> Option<String> {
    let owner = crt
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true))?;
    (owner.kind == "Ingress")
        .then(|| format!("{}/{}", crt.namespace().unwrap_or_default(), owner.name))
}

/// What the Ingress cache keeps: metadata (without managed fields) and `spec.tls`. Rules,
/// backends and status are never read here and can be large.
pub fn trim_cached(ing: &mut Ingress) {
    kubeclient::strip_managed_fields(ing);
    ing.status = None;
    ing.spec = ing.spec.take().map(|s| IngressSpec {
        tls: s.tls,
        ..Default::default()
    });
}

#[cfg(test)]
mod tests;

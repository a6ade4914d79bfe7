//! The watches every certificates controller shares: its Certificates, the CertificateRequests
//! they own, and the Secrets they issue into or keep their next private key in.

use std::sync::Arc;

use api::{Certificate, CertificateRequest};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use crate::context::Context;
use crate::runtime::Controller;

/// `namespace/name` of the Certificates that own `meta` (controller owner references).
fn owner_keys(meta: &kube::api::ObjectMeta) -> Vec<String> {
    let ns = meta.namespace.clone().unwrap_or_default();
    meta.owner_references
        .iter()
        .flatten()
        .filter(|r| r.kind == "Certificate" && r.api_version.starts_with("cert-manager.io/"))
        .map(|r| format!("{ns}/{}", r.name))
        .collect()
}

/// A controller keyed on Certificates, fed by Certificates, owned CertificateRequests and
/// owned Secrets.
pub fn certificate_controller(name: &'static str, ctx: &Arc<Context>) -> Controller {
    let certificates = ctx.caches.certificates().clone();
    Controller::new(name, ctx.clone())
        .watch_self(ctx.caches.certificates())
        .watch(
            ctx.caches.certificate_requests(),
            |cr: &CertificateRequest| owner_keys(&cr.metadata),
        )
        .watch(ctx.caches.secrets.owned_store(), move |s: &Secret| {
            let ns = s.namespace().unwrap_or_default();
            let name = s.name_any();
            let mut keys = owner_keys(&s.metadata);
            keys.extend(
                certificates
                    .list_filtered(|c: &Certificate| {
                        c.namespace().as_deref() == Some(ns.as_str()) && c.spec.secret_name == name
                    })
                    .iter()
                    .map(|c| format!("{ns}/{}", c.name_any())),
            );
            keys
        })
        .watch_unowned_secrets(ctx)
}

trait WatchUnowned {
    fn watch_unowned_secrets(self, ctx: &Arc<Context>) -> Self;
}

impl WatchUnowned for Controller {
    /// Secrets without the fao label (e.g. written by something else) map by secretName.
    fn watch_unowned_secrets(self, ctx: &Arc<Context>) -> Self {
        let Some(store) = ctx.caches.secrets.unowned_keys_store() else {
            return self;
        };
        let certificates = ctx.caches.certificates().clone();
        self.watch(store, move |s| {
            let ns = s.metadata.namespace.clone().unwrap_or_default();
            let name = s.metadata.name.clone().unwrap_or_default();
            certificates
                .list_filtered(|c: &Certificate| {
                    c.namespace().as_deref() == Some(ns.as_str()) && c.spec.secret_name == name
                })
                .iter()
                .map(|c| format!("{ns}/{}", c.name_any()))
                .collect()
        })
    }
}

/// The Secret `spec.secretName` names, with its data.
pub async fn issued_secret(
    ctx: &Context,
    crt: &Certificate,
) -> anyhow::Result<Option<Arc<Secret>>> {
    let ns = crt.namespace().unwrap_or_default();
    Ok(ctx
        .caches
        .secrets
        .get(&ctx.client, &ns, &crt.spec.secret_name)
        .await?)
}

/// The CertificateRequest of the current revision, if it is still there.
pub fn current_request(ctx: &Context, crt: &Certificate) -> Option<Arc<CertificateRequest>> {
    let revision = crt.status.as_ref()?.revision?;
    super::spec::request_for_revision(ctx.caches.certificate_requests(), crt, revision)
}

/// The cached Certificate of `key`, or `None` once deleted.
pub fn certificate(ctx: &Context, key: &str) -> Option<Arc<Certificate>> {
    ctx.caches.certificates().get(key)
}

//! `certificates-request-manager`: while a Certificate is Issuing and its next private key
//! exists, makes sure exactly one CertificateRequest for the next revision exists, signed by
//! that key and matching the spec.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{Certificate, CertificateRequest, CertificateRequestSpec};
use featuregates::certmanager::STABLE_CERTIFICATE_REQUEST_NAME;
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, ResourceExt};

use super::annotations::{CERTIFICATE_NAME, PRIVATE_KEY_SECRET_NAME, REVISION};
use super::{keymanager, spec, status, watch};
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::Action;

pub const NAME: &str = "certificates-request-manager";

pub async fn run(ctx: Arc<Context>) {
    watch::certificate_controller(NAME, &ctx)
        .run(ctx.workers(), reconcile)
        .await
}

async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(crt) = watch::certificate(&ctx, &key) else {
        return Ok(Action::done());
    };
    if !status::is_issuing(&crt) || crt.metadata.deletion_timestamp.is_some() {
        return Ok(Action::done());
    }
    // No key yet, or an unreadable one: the key manager creates or replaces it.
    let Some((key_name, private_key)) = keymanager::next_private_key(&ctx, &crt) else {
        return Ok(Action::done());
    };
    let next = status::next_revision(&crt);
    let existing: Vec<_> = spec::owned_requests(ctx.caches.certificate_requests(), &crt)
        .into_iter()
        .filter(|cr| spec::revision_of(cr) == Some(next))
        .collect();
    let mut deleted = false;
    let mut have_valid = false;
    for cr in &existing {
        if !have_valid
            && request_is_current(&ctx, &crt, cr, &private_key)
            && !spec::failed_before_this_issuance(&crt, cr)
        {
            have_valid = true;
            continue;
        }
        delete(&ctx, cr).await?;
        deleted = true;
    }
    if have_valid || deleted {
        // After a deletion, the delete event brings us back to create the replacement.
        return Ok(Action::done());
    }
    create(&ctx, &crt, key_name, &private_key, next).await?;
    Ok(Action::done())
}

/// Signed by the next key and matching the spec.
fn request_is_current(
    ctx: &Context,
    crt: &Certificate,
    cr: &CertificateRequest,
    key: &pki::PrivateKey,
) -> bool {
    let Ok(csr) = pki::ParsedCsr::from_pem(&cr.spec.request.0) else {
        return false;
    };
    csr.public_key_matches(key.public_key()).unwrap_or(false)
        && spec::request_violations(crt, cr, &ctx.gates).is_ok_and(|v| v.is_empty())
}

async fn delete(ctx: &Context, cr: &CertificateRequest) -> anyhow::Result<()> {
    let ns = cr.namespace().unwrap_or_default();
    let api: Api<CertificateRequest> = Api::namespaced(ctx.client.clone(), &ns);
    tracing::info!(request = %format!("{ns}/{}", cr.name_any()), "deleting CertificateRequest that no longer matches its Certificate");
    match api.delete(&cr.name_any(), &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "deleting CertificateRequest {ns}/{}: {e}",
            cr.name_any()
        )),
    }
}

/// Annotations of the Certificate that `--copied-annotation-prefixes` selects: `*` means
/// all, a `-` prefix excludes.
pub fn copied_annotations(
    annotations: &BTreeMap<String, String>,
    prefixes: &[String],
) -> BTreeMap<String, String> {
    let (excludes, includes): (Vec<&str>, Vec<&str>) = prefixes
        .iter()
        .map(String::as_str)
        .partition(|p| p.starts_with('-'));
    let all = includes.contains(&"*");
    annotations
        .iter()
        .filter(|(k, _)| all || includes.iter().any(|p| k.starts_with(p)))
        .filter(|(k, _)| !excludes.iter().any(|p| k.starts_with(&p[1..])))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn create(
    ctx: &Context,
    crt: &Certificate,
    key_name: &str,
    key: &pki::PrivateKey,
    revision: i64,
) -> anyhow::Result<()> {
    let ns = crt.namespace().unwrap_or_default();
    let csr = spec::csr_spec(crt, &ctx.gates)
        .map_err(|e| e.reason)
        .and_then(|s| {
            let alg = spec::signature_algorithm(crt).map_err(|e| e.reason)?;
            pki::create_csr(&s, key, alg).map_err(|e| e.to_string())
        });
    let csr = match csr {
        Ok(csr) => csr,
        Err(e) => {
            // Bad input stays visible on the Certificate; a spec change brings us back.
            ctx.recorder(NAME).publish(
                crt,
                EventType::Warning,
                "InvalidCertificate",
                format!("Failed to create a certificate signing request: {e}"),
            );
            return Ok(());
        }
    };
    let mut annotations =
        copied_annotations(crt.annotations(), &ctx.config.copied_annotation_prefixes);
    annotations.insert(CERTIFICATE_NAME.to_owned(), crt.name_any());
    annotations.insert(REVISION.to_owned(), revision.to_string());
    annotations.insert(PRIVATE_KEY_SECRET_NAME.to_owned(), key_name.to_owned());
    let stable = ctx.gates.enabled(STABLE_CERTIFICATE_REQUEST_NAME);
    let short = spec::shorten_to_52(&crt.name_any());
    let cr = CertificateRequest {
        metadata: ObjectMeta {
            name: stable.then(|| spec::request_name(&crt.name_any(), revision)),
            generate_name: (!stable).then(|| format!("{short}-")),
            namespace: Some(ns.clone()),
            labels: Some(crt.labels().clone()).filter(|l| !l.is_empty()),
            annotations: Some(annotations),
            owner_references: Some(vec![spec::owner_reference(crt)]),
            ..Default::default()
        },
        spec: CertificateRequestSpec {
            duration: crt.spec.duration.clone(),
            issuer_ref: crt.spec.issuer_ref.clone(),
            request: ByteString(csr.to_pem().into_bytes()),
            is_ca: crt.spec.is_ca,
            usages: crt.spec.usages.clone(),
            ..Default::default()
        },
        status: None,
    };
    let api: Api<CertificateRequest> = Api::namespaced(ctx.client.clone(), &ns);
    match api.create(&PostParams::default(), &cr).await {
        Ok(created) => {
            ctx.recorder(NAME).publish(
                crt,
                EventType::Normal,
                "Requested",
                format!(
                    "Created new CertificateRequest resource {:?}",
                    created.name_any()
                ),
            );
            Ok(())
        }
        // The stable name makes a second create for the same revision fail here: the request
        // exists already (created before a restart, or not cached yet).
        Err(kube::Error::Api(e)) if e.code == 409 && stable => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "creating CertificateRequest for Certificate {ns}/{}: {e}",
            crt.name_any()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_prefixes_include_and_exclude() {
        let ann = BTreeMap::from([
            ("a.io/x".to_owned(), "1".to_owned()),
            (
                "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
                "{}".to_owned(),
            ),
            ("b.io/y".to_owned(), "2".to_owned()),
        ]);
        let all = copied_annotations(&ann, &["*".into(), "-kubectl.kubernetes.io/".into()]);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a.io/x", "b.io/y"]);
        let some = copied_annotations(&ann, &["a.io/".into()]);
        assert_eq!(some.keys().collect::<Vec<_>>(), ["a.io/x"]);
    }
}

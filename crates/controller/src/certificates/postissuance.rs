//! What `certificates-issuing` does between issuances (cert-manager's post-issuance policy
//! chain): when the issued Secret's metadata or derived outputs drift from the spec (labels,
//! annotations, secretTemplate, additionalOutputFormats, missing keystores, owner reference),
//! re-apply the Secret with the same key pair. This never issues a new certificate.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::Certificate;
use api::certificate::CertificateSecretTemplate;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

use super::managedfields::{Owned, is_cert_manager_key};
use super::{CA_CRT, TLS_CRT, TLS_KEY, issuing, keystores, policy, spec};
use crate::context::Context;
use crate::secrets::{FAO_LABEL, value_matches};

fn bytes<'a>(secret: &'a Secret, key: &str) -> Option<&'a [u8]> {
    secret.data.as_ref()?.get(key).map(|v| v.0.as_slice())
}

/// What the Certificate wants in its Secret besides the key pair, worked out once per check.
struct Wanted {
    template: CertificateSecretTemplate,
    /// The issuer and certificate-data annotations the issuing controller writes.
    annotations: BTreeMap<String, String>,
    /// The additional output formats, keyed as in the Secret.
    outputs: Vec<(&'static str, Vec<u8>)>,
    keystores: Vec<&'static str>,
}

/// Why the Secret needs its metadata re-applied, if it does.
pub fn drift(
    ctx: &Context,
    crt: &Certificate,
    secret: &Secret,
    cert: &pki::ParsedCertificate,
) -> Option<String> {
    let (key_pem, cert_pem) = (bytes(secret, TLS_KEY)?, bytes(secret, TLS_CRT)?);
    let stores = crt.spec.keystores.clone().unwrap_or_default();
    let mut keystores = Vec::new();
    if stores.pkcs12.is_some_and(|s| s.create) {
        keystores.push(keystores::PKCS12_KEYSTORE);
    }
    if stores.jks.is_some_and(|s| s.create) {
        keystores.push(keystores::JKS_KEYSTORE);
    }
    let wanted = Wanted {
        template: crt.spec.secret_template.clone().unwrap_or_default(),
        annotations: issuing::secret_annotations(crt, cert),
        outputs: issuing::additional_outputs(crt, key_pem, cert_pem),
        keystores,
    };
    missing(ctx, crt, secret, &wanted).or_else(|| leftovers(ctx, crt, secret, &wanted))
}

/// What the Secret lacks or holds wrongly of what the Certificate wants.
fn missing(ctx: &Context, crt: &Certificate, secret: &Secret, wanted: &Wanted) -> Option<String> {
    let labels = secret.labels();
    if labels.get(FAO_LABEL).map(String::as_str) != Some("true") {
        return Some(format!("wrong base label {FAO_LABEL}"));
    }
    let annotations = secret.annotations();
    for (k, v) in &wanted.annotations {
        if annotations.get(k) != Some(v) {
            return Some(format!("managed annotation {k} missing or incorrect"));
        }
    }
    if wanted
        .template
        .labels
        .iter()
        .flatten()
        .any(|(k, v)| labels.get(k) != Some(v))
    {
        return Some(
            "Certificate's SecretTemplate Labels missing or incorrect value on Secret".into(),
        );
    }
    if wanted
        .template
        .annotations
        .iter()
        .flatten()
        .any(|(k, v)| annotations.get(k) != Some(v))
    {
        return Some(
            "Certificate's SecretTemplate Annotations missing or incorrect value on Secret".into(),
        );
    }
    for (key, expected) in &wanted.outputs {
        if !value_matches(secret, key, expected) {
            return Some(format!(
                "additional output format {key} missing or outdated"
            ));
        }
    }
    if let Some(missing) = wanted
        .keystores
        .iter()
        .find(|k| bytes(secret, k).is_none_or(<[u8]>::is_empty))
    {
        return Some(format!("keystore {missing} missing"));
    }
    if ctx.config.enable_certificate_owner_ref && !spec::owned_by(&secret.metadata, crt) {
        return Some("owner reference to the Certificate missing".into());
    }
    None
}

/// What the issuing controller applied to the Secret earlier but the Certificate no longer
/// asks for (cert-manager's `*ManagedFieldsMismatch` checks): a secretTemplate label or
/// annotation, a certificate-details annotation, an additional output format, a keystore, the
/// owner reference after `--enable-certificate-owner-ref` was turned off. Re-applying removes
/// them.
fn leftovers(ctx: &Context, crt: &Certificate, secret: &Secret, wanted: &Wanted) -> Option<String> {
    let owned = Owned::of(secret);
    let template = &wanted.template;
    let extra: Vec<&String> = owned
        .labels
        .iter()
        .filter(|k| !is_cert_manager_key(k))
        .filter(|k| !template.labels.as_ref().is_some_and(|l| l.contains_key(*k)))
        .collect();
    if !extra.is_empty() {
        return Some(format!("Secret has these extra Labels: {extra:?}"));
    }
    let extra: Vec<&String> = owned
        .annotations
        .iter()
        .filter(|k| !wanted.annotations.contains_key(*k))
        .filter(|k| {
            !template
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(*k))
        })
        .collect();
    if !extra.is_empty() {
        return Some(format!("Secret has these extra Annotations: {extra:?}"));
    }
    if issuing::OUTPUT_FORMAT_KEYS
        .iter()
        .any(|k| owned.data.contains(*k) && !wanted.outputs.iter().any(|(w, _)| w == k))
    {
        return Some(
            "Certificate's AdditionalOutputFormats doesn't match Secret ManagedFields".into(),
        );
    }
    let all_keystores = [
        keystores::PKCS12_KEYSTORE,
        keystores::PKCS12_TRUSTSTORE,
        keystores::JKS_KEYSTORE,
        keystores::JKS_TRUSTSTORE,
    ];
    let store_wanted = |k: &str| {
        let family = if k.ends_with(".p12") { ".p12" } else { ".jks" };
        wanted.keystores.iter().any(|w| w.ends_with(family))
    };
    if let Some(k) = all_keystores
        .iter()
        .find(|k| owned.data.contains(**k) && !store_wanted(k))
    {
        return Some(format!("keystore {k} no longer requested"));
    }
    let uid = crt.uid().unwrap_or_default();
    if !ctx.config.enable_certificate_owner_ref && owned.owner_uids.contains(&uid) {
        return Some(
            "unexpected managed Secret Owner Reference field on Secret --enable-certificate-owner-ref=false"
                .into(),
        );
    }
    None
}

/// Re-applies the Secret's metadata and outputs when they drifted; `Ok(false)` when nothing
/// needed doing.
pub async fn ensure(
    ctx: &Arc<Context>,
    crt: &Certificate,
    field_manager: &str,
) -> anyhow::Result<bool> {
    let ns = crt.namespace().unwrap_or_default();
    let cached = ctx
        .caches
        .secrets
        .owned_store()
        .get_by_name(Some(&ns), &crt.spec.secret_name);
    let secret = match cached {
        Some(s) => s,
        None => match ctx
            .caches
            .secrets
            .get(&ctx.client, &ns, &crt.spec.secret_name)
            .await?
        {
            Some(s) => s,
            None => return Ok(false),
        },
    };
    // Only a Secret holding this Certificate's own, valid key pair is touched.
    if policy::certificate_name_mismatch(crt, &secret).is_some() {
        return Ok(false);
    }
    let (Some(key_pem), Some(cert_pem)) = (bytes(&secret, TLS_KEY), bytes(&secret, TLS_CRT)) else {
        return Ok(false);
    };
    let (Ok(key), Ok(cert)) = (
        pki::PrivateKey::from_pem(key_pem),
        pki::ParsedCertificate::from_pem(cert_pem),
    ) else {
        return Ok(false);
    };
    if !cert.public_key_matches(key.public_key()).unwrap_or(false) {
        return Ok(false);
    }
    let Some(why) = drift(ctx, crt, &secret, &cert) else {
        return Ok(false);
    };
    tracing::info!(certificate = %format!("{ns}/{}", crt.name_any()), "re-applying Secret metadata: {why}");
    // The cache may hold digests of large values: apply from the live object.
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    let Some(live) = api.get_opt(&crt.spec.secret_name).await? else {
        return Ok(false);
    };
    let (key_pem, cert_pem) = (
        bytes(&live, TLS_KEY).unwrap_or_default(),
        bytes(&live, TLS_CRT).unwrap_or_default(),
    );
    let ca_pem = bytes(&live, CA_CRT).unwrap_or_default();
    let mut desired = issuing::issued_secret(ctx, crt, &cert, cert_pem, key_pem, ca_pem);
    // Keystores are only checked for presence: existing ones are kept byte for byte (a new
    // encoding would draw a new salt), missing ones are encoded.
    let mut stores = keystores::encode(ctx, crt, key_pem, cert_pem, ca_pem).await?;
    for (k, v) in stores.iter_mut() {
        if let Some(existing) = live.data.as_ref().and_then(|d| d.get(k)) {
            *v = existing.clone();
        }
    }
    desired
        .data
        .get_or_insert_with(Default::default)
        .extend(stores);
    api.patch(
        &crt.spec.secret_name,
        &PatchParams::apply(field_manager).force(),
        &Patch::Apply(&desired),
    )
    .await
    .map_err(|e| anyhow::anyhow!("re-applying Secret {ns}/{}: {e}", crt.spec.secret_name))?;
    Ok(true)
}

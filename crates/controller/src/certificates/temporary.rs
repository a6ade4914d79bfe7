//! `cert-manager.io/issue-temporary-certificate: "true"`: while the real certificate is
//! pending, the Secret gets the next private key with a certificate signed by a throwaway CA,
//! so workloads mounting it can start.

use std::sync::Arc;

use api::Certificate;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

use super::policy::{self, Chain, Input};
use super::{issuing, spec};
use crate::context::Context;
use crate::events::EventType;

pub const ANNOTATION: &str = "cert-manager.io/issue-temporary-certificate";

/// Writes a temporary certificate when asked for and the Secret holds no valid key pair.
pub async fn ensure(
    ctx: &Arc<Context>,
    crt: &Certificate,
    key: &pki::PrivateKey,
) -> anyhow::Result<()> {
    if crt.annotations().get(ANNOTATION).map(String::as_str) != Some("true") {
        return Ok(());
    }
    let ns = crt.namespace().unwrap_or_default();
    let secret = ctx
        .caches
        .secrets
        .get(&ctx.client, &ns, &crt.spec.secret_name)
        .await?;
    // The temporary-certificate chain: the Secret, its data and a matching key pair.
    let input = Input {
        crt,
        secret: secret.as_deref(),
        current_request: None,
        now: std::time::SystemTime::now(),
        gates: &ctx.gates,
    };
    let needed = matches!(
        policy::evaluate(&input, Chain::Readiness),
        Some(v) if [policy::DOES_NOT_EXIST, policy::MISSING_DATA, policy::INVALID_KEY_PAIR, policy::INVALID_CERTIFICATE].contains(&v.reason)
    );
    if !needed {
        return Ok(());
    }
    let csr_spec = spec::csr_spec(crt, &ctx.gates)?;
    let duration = api::defaults::effective_duration(crt.spec.duration.as_ref())
        .ok()
        .and_then(|d| d.to_std())
        .unwrap_or(std::time::Duration::from_secs(90 * 24 * 3600));
    let usages = api::defaults::effective_usages(crt.spec.usages.as_deref());
    let names: Vec<&str> = usages.iter().map(|u| u.as_str()).collect();
    let usages = pki::parse_usages(&names)?;
    let overrides = pki::RequestOverrides::new(duration, crt.spec.is_ca.unwrap_or(false), &usages);
    let cert_pem = pki::temporary_certificate(&csr_spec, key, &overrides)?;
    let cert = pki::ParsedCertificate::from_pem(cert_pem.as_bytes())?;
    let key_pem = key.to_pem(spec::key_encoding(crt))?;
    let secret = issuing::issued_secret(
        ctx,
        crt,
        &cert,
        cert_pem.as_bytes(),
        key_pem.as_bytes(),
        b"",
    );
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(ctx.client.clone(), &ns);
    api.patch(
        &crt.spec.secret_name,
        &PatchParams::apply(&Context::field_manager(issuing::NAME)).force(),
        &Patch::Apply(&secret),
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "writing temporary certificate to Secret {ns}/{}: {e}",
            crt.spec.secret_name
        )
    })?;
    ctx.recorder(issuing::NAME).publish(
        crt,
        EventType::Normal,
        "Issuing",
        "Issued temporary certificate",
    );
    Ok(())
}

//! `certificaterequests-issuer-ca`: signs requests with the CA keypair of a CA issuer's Secret
//! (`tls.crt`, `tls.key`, optional `ca.crt`).

use std::sync::Arc;

use api::CertificateRequest;
use api::defaults::{effective_duration, effective_usages};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::sync::{Issued, Reporter, Signer};
use crate::context::Context;
use crate::issuers::lookup::ResolvedIssuer;

pub async fn run(ctx: Arc<Context>) {
    super::sync::run(ctx, Signer::Ca).await
}

/// A Secret entry; the error reads as cert-manager's ("<what> for "<key>" in secret 'ns/name'").
pub fn secret_data<'a>(secret: &'a Secret, key: &str, what: &str) -> Result<&'a [u8], String> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.as_slice())
        .ok_or_else(|| {
            format!(
                "{what} for \"{key}\" in secret '{}/{}'",
                secret.namespace().unwrap_or_default(),
                secret.name_any()
            )
        })
}

/// The certificate template for a request: its CSR with duration, isCA and usages of the
/// request (defaults: 90 days, digital signature + key encipherment).
pub fn template(cr: &CertificateRequest) -> Result<pki::CertificateTemplate, String> {
    let csr = pki::ParsedCsr::from_pem(&cr.spec.request.0)
        .map_err(|e| format!("failed to decode csr: {e}"))?;
    let duration = effective_duration(cr.spec.duration.as_ref())
        .map_err(|e| format!("spec.duration: {e}"))?
        .to_std()
        .ok_or("spec.duration: must be positive")?;
    let usages: Vec<String> = effective_usages(cr.spec.usages.as_deref())
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect();
    let usages = pki::parse_usages(&usages).map_err(|e| format!("spec.usages: {e}"))?;
    let overrides = pki::RequestOverrides::new(duration, cr.spec.is_ca.unwrap_or(false), &usages);
    pki::CertificateTemplate::from_csr(&csr, &overrides).map_err(|e| e.to_string())
}

/// The CA keypair (and chain) from the issuer's Secret, as `SecretTLSKeyPairAndCA` reads it.
fn load_ca(secret: &Secret) -> Result<pki::Issuer, String> {
    let key = secret_data(secret, "tls.key", "no private key data")?;
    let crt = secret_data(secret, "tls.crt", "no certificate data")?;
    let ca = secret
        .data
        .as_ref()
        .and_then(|d| d.get("ca.crt"))
        .map(|b| b.0.as_slice());
    pki::Issuer::from_pem(crt, key, ca).map_err(|e| e.to_string())
}

/// `Ok(None)`: the outcome is reported on `cr`; `Err`: transient, retried.
pub async fn sign(
    ctx: &Context,
    reporter: &Reporter,
    cr: &mut CertificateRequest,
    issuer: &ResolvedIssuer,
) -> anyhow::Result<Option<Issued>> {
    let Some(ca_config) = issuer.config().ca.clone() else {
        return Ok(None);
    };
    let namespace = issuer.resource_namespace(ctx);
    let name = &ca_config.secret_name;
    let Some(secret) = reporter
        .signing_secret(ctx, cr, &namespace, name, "SecretMissing", "SecretGetError")
        .await?
    else {
        return Ok(None);
    };
    let ca = match load_ca(&secret) {
        Ok(ca) => ca,
        Err(e) => {
            let message =
                format!("Failed to parse signing CA keypair from secret {namespace}/{name}");
            reporter.pending(cr, Some(&e), "SecretInvalidData", &message);
            return Ok(None);
        }
    };
    let mut template = match template(cr) {
        Ok(t) => t,
        Err(e) => {
            reporter.failed(
                cr,
                &e,
                "SigningError",
                "Error generating certificate template",
            );
            return Ok(None);
        }
    };
    template.crl_distribution_points = ca_config.crl_distribution_points.unwrap_or_default();
    template.ocsp_servers = ca_config.ocsp_servers.unwrap_or_default();
    template.issuing_certificate_urls = ca_config.issuing_certificate_urls.unwrap_or_default();
    // A certificate cannot outlive the CA that signs it.
    template.clamp_not_after(ca.certificate().not_after);
    match ca.sign(&template) {
        Ok(issued) => Ok(Some(Issued {
            certificate: issued.chain_pem,
            ca: issued.ca_pem,
        })),
        Err(e) => {
            reporter.failed(cr, &e, "SigningError", "Error signing certificate");
            Ok(None)
        }
    }
}

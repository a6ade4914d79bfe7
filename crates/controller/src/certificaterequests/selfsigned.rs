//! `certificaterequests-issuer-selfsigned`: signs a request with its own private key, read
//! from the Secret the `cert-manager.io/private-key-secret-name` annotation names.

use std::sync::Arc;

use api::CertificateRequest;
use kube::ResourceExt;

use super::PRIVATE_KEY_SECRET_ANNOTATION;
use super::sync::{Issued, Reporter, Signer};
use crate::context::Context;
use crate::events::EventType;
use crate::issuers::lookup::ResolvedIssuer;

const EMPTY_DN_MESSAGE: &str = "Certificate will be issued with an empty Issuer DN, which contravenes RFC 5280 and could break some strict clients";
/// DER of an empty distinguished name (an empty SEQUENCE).
const EMPTY_NAME_DER: [u8; 2] = [0x30, 0x00];

pub async fn run(ctx: Arc<Context>) {
    super::sync::run(ctx, Signer::SelfSigned).await
}

/// `Ok(None)`: the outcome is reported on `cr`; `Err`: transient, retried.
pub async fn sign(
    ctx: &Context,
    reporter: &Reporter,
    cr: &mut CertificateRequest,
    issuer: &ResolvedIssuer,
) -> anyhow::Result<Option<Issued>> {
    let namespace = cr.namespace().unwrap_or_default();
    let Some(secret_name) = cr
        .annotations()
        .get(PRIVATE_KEY_SECRET_ANNOTATION)
        .filter(|s| !s.is_empty())
        .cloned()
    else {
        let message =
            format!("Annotation \"{PRIVATE_KEY_SECRET_ANNOTATION}\" missing or reference empty");
        reporter.failed(cr, &"secret name missing", "MissingAnnotation", &message);
        return Ok(None);
    };
    let Some(secret) = reporter
        .signing_secret(
            ctx,
            cr,
            &namespace,
            &secret_name,
            "MissingSecret",
            "ErrorGettingSecret",
        )
        .await?
    else {
        return Ok(None);
    };
    let key = match super::ca::secret_data(&secret, "tls.key", "no data")
        .and_then(|pem| pki::PrivateKey::from_pem(pem).map_err(|e| e.to_string()))
    {
        Ok(key) => key,
        Err(e) => {
            let message = format!(
                "Failed to get key \"{secret_name}\" referenced in annotation \"{PRIVATE_KEY_SECRET_ANNOTATION}\""
            );
            reporter.pending(cr, Some(&e), "ErrorParsingKey", &message);
            return Ok(None);
        }
    };
    let mut template = match super::ca::template(cr) {
        Ok(t) => t,
        Err(e) => {
            reporter.failed(
                cr,
                &e,
                "ErrorGenerating",
                "Error generating certificate template",
            );
            return Ok(None);
        }
    };
    if let Some(ss) = &issuer.config().self_signed {
        template.crl_distribution_points = ss.crl_distribution_points.clone().unwrap_or_default();
    }
    if template.subject_der == EMPTY_NAME_DER {
        reporter
            .recorder()
            .publish(&*cr, EventType::Warning, "BadConfig", EMPTY_DN_MESSAGE);
    }
    match key.public_key().matches(&template.public_key) {
        Ok(true) => {}
        Ok(false) => {
            reporter.failed(
                cr,
                &"CSR not signed by referenced private key",
                "ErrorKeyMatch",
                "Error generating certificate template",
            );
            return Ok(None);
        }
        Err(e) => {
            reporter.failed(
                cr,
                &e,
                "ErrorKeyMatch",
                "Error generating certificate template",
            );
            return Ok(None);
        }
    }
    match pki::self_sign(&template, &key) {
        Ok(issued) => Ok(Some(Issued {
            certificate: issued.chain_pem,
            ca: issued.ca_pem,
        })),
        Err(e) => {
            reporter.failed(cr, &e, "ErrorSigning", "Error signing certificate");
            Ok(None)
        }
    }
}

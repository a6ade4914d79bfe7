//! `certificaterequests-issuer-vault`: has the Vault of a Vault issuer sign requests (its PKI
//! `sign` endpoint), logging in afresh for each request as cert-manager does.

use std::sync::Arc;

use api::certificate::DEFAULT_CERTIFICATE_DURATION;
use api::{CertificateRequest, GoDuration};
use kube::ResourceExt;

use super::sync::{Issued, Reporter, Signer};
use crate::context::Context;
use crate::issuers::lookup::ResolvedIssuer;
use crate::vault::{Client, Target};

pub async fn run(ctx: Arc<Context>) {
    super::sync::run(ctx, Signer::Vault).await
}

/// `Ok(None)`: the outcome is reported on `cr`; `Err`: transient, retried.
pub async fn sign(
    ctx: &Context,
    reporter: &Reporter,
    cr: &mut CertificateRequest,
    issuer: &ResolvedIssuer,
) -> anyhow::Result<Option<Issued>> {
    let Some(spec) = issuer.config().vault.as_ref() else {
        return Ok(None);
    };
    let resource_namespace = issuer.resource_namespace(ctx);
    let (issuer_namespace, issuer_name) = match issuer {
        ResolvedIssuer::Issuer(i) => (i.namespace(), i.name_any()),
        ResolvedIssuer::ClusterIssuer(c) => (None, c.name_any()),
    };
    let target = Target {
        spec,
        issuer_namespace: issuer_namespace.as_deref(),
        issuer_name: &issuer_name,
        resource_namespace: &resource_namespace,
    };
    let client = match Client::connect(ctx, &target).await {
        Ok(client) => client,
        Err(e) if e.is_not_found() => {
            reporter.pending(
                cr,
                Some(&e),
                "SecretMissing",
                "Required secret resource not found",
            );
            return Ok(None);
        }
        Err(e) => {
            let message = "Failed to initialise vault client for signing";
            reporter.pending(cr, Some(&e), "VaultInitError", message);
            // A configuration error waits for the issuer to change; others are retried.
            if e.is_invalid_data() {
                return Ok(None);
            }
            return Err(anyhow::anyhow!("{message}: {e}"));
        }
    };
    let duration = match requested_duration(cr) {
        Ok(d) => d,
        Err(e) => {
            reporter.failed(cr, &e, "SigningError", "Vault failed to sign certificate");
            return Ok(None);
        }
    };
    match client.sign(&cr.spec.request.0, duration).await {
        Ok((certificate, ca)) => Ok(Some(Issued { certificate, ca })),
        Err(e) => {
            reporter.failed(cr, &e, "SigningError", "Vault failed to sign certificate");
            Ok(None)
        }
    }
}

/// `spec.duration`, or 90 days when unset or zero (cert-manager's `DefaultCertDuration`).
fn requested_duration(cr: &CertificateRequest) -> Result<GoDuration, String> {
    let Some(d) = cr.spec.duration.as_ref() else {
        return Ok(DEFAULT_CERTIFICATE_DURATION);
    };
    match d.parse() {
        Ok(GoDuration::ZERO) => Ok(DEFAULT_CERTIFICATE_DURATION),
        Ok(d) if d.is_negative() => Err("spec.duration: must not be negative".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("spec.duration: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(duration: Option<&str>) -> CertificateRequest {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": "r"},
            "spec": {"issuerRef": {"name": "vault"}, "request": "", "duration": duration},
        }))
        .unwrap()
    }

    #[test]
    fn duration_defaults_to_90_days() {
        assert_eq!(
            requested_duration(&request(None)).unwrap(),
            GoDuration::from_hours(2160)
        );
        assert_eq!(
            requested_duration(&request(Some("0s"))).unwrap(),
            GoDuration::from_hours(2160)
        );
        assert_eq!(
            requested_duration(&request(Some("2h"))).unwrap(),
            GoDuration::from_hours(2)
        );
        assert!(requested_duration(&request(Some("soon"))).is_err());
    }
}

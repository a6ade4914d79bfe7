//! `certificates-issuing`: once the CertificateRequest of the next revision is signed, writes
//! the key pair into `spec.secretName` (server-side apply, field manager
//! `cert-manager-certificates-issuing`) and completes the revision; when the request failed or
//! was denied, records the failure so the trigger backs off.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::certificate::{CertificateConditionType, CertificateOutputFormatType};
use api::certificaterequest::CertificateRequestConditionType;
use api::{Certificate, ConditionStatus};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::annotations as ann;
use super::{
    CA_CRT, TLS_CRT, TLS_KEY, keymanager, keystores, policy, postissuance, spec, status, temporary,
    watch,
};
use crate::context::Context;
use crate::events::EventType;
use crate::runtime::Action;
use crate::secrets::FAO_LABEL;

pub const NAME: &str = "certificates-issuing";

pub async fn run(ctx: Arc<Context>) {
    watch::certificate_controller(NAME, &ctx)
        .run(ctx.workers(), reconcile)
        .await
}

async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(crt) = watch::certificate(&ctx, &key) else {
        return Ok(Action::done());
    };
    if crt.metadata.deletion_timestamp.is_some() {
        return Ok(Action::done());
    }
    if !status::is_issuing(&crt) {
        postissuance::ensure(&ctx, &crt, &Context::field_manager(NAME)).await?;
        return Ok(Action::done());
    }
    let Some((key_name, private_key)) = keymanager::next_private_key(&ctx, &crt) else {
        return Ok(Action::done());
    };
    let ns = crt.namespace().unwrap_or_default();
    let next = status::next_revision(&crt);
    let Some(cr) = spec::request_for_revision(ctx.caches.certificate_requests(), &crt, next) else {
        return Ok(Action::done());
    };
    // A request of an older spec or key is the request manager's to replace, never a failure
    // of this issuance.
    let signed_by_next_key = pki::ParsedCsr::from_pem(&cr.spec.request.0).is_ok_and(|csr| {
        csr.public_key_matches(private_key.public_key())
            .unwrap_or(false)
    });
    let matches_spec = spec::request_violations(&crt, &cr, &ctx.gates).is_ok_and(|v| v.is_empty());
    if !signed_by_next_key || !matches_spec || spec::failed_before_this_issuance(&crt, &cr) {
        return Ok(Action::done());
    }
    for ty in [
        CertificateRequestConditionType::Denied,
        CertificateRequestConditionType::InvalidRequest,
    ] {
        if let Some(c) =
            spec::request_condition(&cr, ty).filter(|c| c.status == ConditionStatus::True)
        {
            return fail(&ctx, &crt, c.reason.as_deref(), c.message.as_deref()).await;
        }
    }
    let Some(ready) = spec::request_condition(&cr, CertificateRequestConditionType::Ready) else {
        temporary::ensure(&ctx, &crt, &private_key).await?;
        return Ok(Action::done());
    };
    if ready.status == ConditionStatus::False && ready.reason.as_deref() == Some("Failed") {
        return fail(
            &ctx,
            &crt,
            ready.reason.as_deref(),
            ready.message.as_deref(),
        )
        .await;
    }
    if ready.status != ConditionStatus::True {
        temporary::ensure(&ctx, &crt, &private_key).await?;
        return Ok(Action::done());
    }
    let cert_pem = cr
        .status
        .as_ref()
        .and_then(|s| s.certificate.clone())
        .unwrap_or_default();
    let cert = match pki::ParsedCertificate::from_pem(&cert_pem.0) {
        Ok(c) => c,
        Err(e) => {
            ctx.recorder(NAME).publish(
                &*crt,
                EventType::Warning,
                "InvalidCertificate",
                format!(
                    "CertificateRequest {:?} holds an invalid certificate: {e}",
                    cr.name_any()
                ),
            );
            return Ok(Action::done());
        }
    };
    if !cert
        .public_key_matches(private_key.public_key())
        .unwrap_or(false)
    {
        ctx.recorder(NAME).publish(&*crt, EventType::Warning, "InvalidKeyPair",
            format!("The certificate in CertificateRequest {:?} does not match the next private key {key_name:?}", cr.name_any()));
        return Ok(Action::done());
    }
    if std::time::SystemTime::now() > cert.not_after {
        let message = format!(
            "Issuer returned an already expired certificate (notAfter: {}). This usually indicates an expired CA certificate in the issuer.",
            status::timestamp(cert.not_after)
        );
        return fail(&ctx, &crt, Some("InvalidCertificate"), Some(&message)).await;
    }
    if let Some(owner) = other_owner(&ctx, &crt).await? {
        ctx.recorder(NAME).publish(&*crt, EventType::Warning, "SecretInUse",
            format!("Secret {:?} was issued for Certificate {owner:?}, which still uses it; not overwriting it", crt.spec.secret_name));
        return Ok(Action::done());
    }
    let key_pem = private_key.to_pem(spec::key_encoding(&crt))?;
    let ca = cr
        .status
        .as_ref()
        .and_then(|s| s.ca.clone())
        .unwrap_or_default();
    let stores = match keystores::encode(&ctx, &crt, key_pem.as_bytes(), &cert_pem.0, &ca.0).await {
        Ok(stores) => stores,
        Err(e) => {
            // A missing password Secret may appear later: retry with backoff, visibly.
            ctx.recorder(NAME).publish(
                &*crt,
                EventType::Warning,
                "KeystoreError",
                format!("Failed to encode keystores: {e:#}"),
            );
            return Err(e);
        }
    };
    let mut secret = issued_secret(&ctx, &crt, &cert, &cert_pem.0, key_pem.as_bytes(), &ca.0);
    secret
        .data
        .get_or_insert_with(Default::default)
        .extend(stores);
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    api.patch(
        &crt.spec.secret_name,
        &PatchParams::apply(&Context::field_manager(NAME)).force(),
        &Patch::Apply(&secret),
    )
    .await
    .map_err(|e| anyhow::anyhow!("writing Secret {ns}/{}: {e}", crt.spec.secret_name))?;
    let conditions = status::without_condition(&crt, CertificateConditionType::Issuing);
    status::patch(
        &ctx,
        &crt,
        NAME,
        json!({
            "conditions": conditions,
            "revision": next,
            "lastFailureTime": null,
            "failedIssuanceAttempts": null,
            "nextPrivateKeySecretName": null,
        }),
    )
    .await?;
    ctx.recorder(NAME).publish(
        &*crt,
        EventType::Normal,
        "Issuing",
        "The certificate has been successfully issued",
    );
    Ok(Action::done())
}

/// Records a failed issuance: `Issuing=False`, lastFailureTime, failedIssuanceAttempts+1.
async fn fail(
    ctx: &Arc<Context>,
    crt: &Certificate,
    reason: Option<&str>,
    message: Option<&str>,
) -> anyhow::Result<Action> {
    let reason = reason.filter(|r| !r.is_empty()).unwrap_or("Failed");
    let message = format!(
        "The certificate request has failed to complete and will be retried: {}",
        message.unwrap_or_default()
    );
    let now = status::now();
    let attempts = crt
        .status
        .as_ref()
        .and_then(|s| s.failed_issuance_attempts)
        .unwrap_or(0)
        + 1;
    let conditions = status::with_condition(
        crt,
        CertificateConditionType::Issuing,
        ConditionStatus::False,
        reason,
        &message,
        now,
    );
    status::patch(
        ctx,
        crt,
        NAME,
        json!({
            "conditions": conditions,
            "lastFailureTime": k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now),
            "failedIssuanceAttempts": attempts,
        }),
    )
    .await?;
    ctx.recorder(NAME)
        .publish(crt, EventType::Warning, reason, message);
    Ok(Action::done())
}

/// Another existing Certificate the Secret was issued for and that still names it.
async fn other_owner(ctx: &Context, crt: &Certificate) -> anyhow::Result<Option<String>> {
    let Some(secret) = watch::issued_secret(ctx, crt).await? else {
        return Ok(None);
    };
    let Some(owner) = policy::certificate_name_mismatch(crt, &secret) else {
        return Ok(None);
    };
    let ns = crt.namespace().unwrap_or_default();
    let in_use = ctx
        .caches
        .certificates()
        .get_by_name(Some(&ns), &owner)
        .is_some_and(|o| o.spec.secret_name == crt.spec.secret_name);
    Ok(in_use.then_some(owner))
}

/// The Secret as the issuing controller applies it.
pub fn issued_secret(
    ctx: &Context,
    crt: &Certificate,
    cert: &pki::ParsedCertificate,
    cert_pem: &[u8],
    key_pem: &[u8],
    ca_pem: &[u8],
) -> Secret {
    let template = crt.spec.secret_template.clone().unwrap_or_default();
    let mut labels = template.labels.unwrap_or_default();
    labels.insert(FAO_LABEL.to_owned(), "true".to_owned());
    let mut annotations = template.annotations.unwrap_or_default();
    annotations.extend(secret_annotations(crt, cert));
    let mut data = BTreeMap::from([
        (TLS_CRT.to_owned(), ByteString(cert_pem.to_vec())),
        (TLS_KEY.to_owned(), ByteString(key_pem.to_vec())),
        (CA_CRT.to_owned(), ByteString(ca_pem.to_vec())),
    ]);
    for (key, value) in additional_outputs(crt, key_pem, cert_pem) {
        data.insert(key.to_owned(), ByteString(value));
    }
    let owner_references = ctx
        .config
        .enable_certificate_owner_ref
        .then(|| vec![spec::owner_reference(crt)]);
    Secret {
        metadata: ObjectMeta {
            name: Some(crt.spec.secret_name.clone()),
            namespace: crt.namespace(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references,
            ..Default::default()
        },
        data: Some(data),
        type_: Some("kubernetes.io/tls".to_owned()),
        ..Default::default()
    }
}

/// Secret keys of the additional output formats, with every key they may use.
pub const COMBINED_PEM: &str = "tls-combined.pem";
pub const KEY_DER: &str = "key.der";
pub const OUTPUT_FORMAT_KEYS: [&str; 2] = [COMBINED_PEM, KEY_DER];

/// The Secret entries of the Certificate's `additionalOutputFormats`: `tls-combined.pem`
/// (key, newline, chain) and `key.der` (the key as DER; left out when the key cannot be
/// converted).
pub fn additional_outputs(
    crt: &Certificate,
    key_pem: &[u8],
    cert_pem: &[u8],
) -> Vec<(&'static str, Vec<u8>)> {
    crt.spec
        .additional_output_formats
        .iter()
        .flatten()
        .filter_map(|format| match format.format_type {
            CertificateOutputFormatType::CombinedPem => Some((
                COMBINED_PEM,
                pki::encode::combined_pem(key_pem, cert_pem).to_vec(),
            )),
            CertificateOutputFormatType::Der => pki::encode::private_key_der(key_pem)
                .ok()
                .map(|der| (KEY_DER, der.to_vec())),
            _ => None,
        })
        .collect()
}

/// cert-manager's issuer and certificate-data annotations (`AnnotationsForCertificate`):
/// common name, alt-names, ip-sans and uri-sans always, the rest only when non-empty; lists
/// are CSV-encoded as Go's `encoding/csv` writes a record.
pub fn secret_annotations(
    crt: &Certificate,
    cert: &pki::ParsedCertificate,
) -> BTreeMap<String, String> {
    let issuer = &crt.spec.issuer_ref;
    let s = &cert.spec;
    let mut out = BTreeMap::from([
        (ann::CERTIFICATE_NAME.to_owned(), crt.name_any()),
        (ann::ISSUER_NAME.to_owned(), issuer.name.clone()),
        (
            ann::ISSUER_KIND.to_owned(),
            issuer.effective_kind().to_owned(),
        ),
        (
            ann::ISSUER_GROUP.to_owned(),
            issuer.group.clone().unwrap_or_default(),
        ),
        (ann::COMMON_NAME.to_owned(), s.subject.common_name.clone()),
    ]);
    let ips: Vec<String> = s.ip_addresses.iter().map(|ip| ip.to_string()).collect();
    let lists: [(&str, &[String], bool); 11] = [
        (
            "cert-manager.io/subject-organizations",
            &s.subject.organizations,
            false,
        ),
        (
            "cert-manager.io/subject-organizationalunits",
            &s.subject.organizational_units,
            false,
        ),
        (
            "cert-manager.io/subject-countries",
            &s.subject.countries,
            false,
        ),
        (
            "cert-manager.io/subject-provinces",
            &s.subject.provinces,
            false,
        ),
        (
            "cert-manager.io/subject-localities",
            &s.subject.localities,
            false,
        ),
        (
            "cert-manager.io/subject-postalcodes",
            &s.subject.postal_codes,
            false,
        ),
        (
            "cert-manager.io/subject-streetaddresses",
            &s.subject.street_addresses,
            false,
        ),
        (ann::EMAIL_SANS, &s.email_addresses, false),
        (ann::ALT_NAMES, &s.dns_names, true),
        (ann::IP_SANS, &ips, true),
        (ann::URI_SANS, &s.uris, true),
    ];
    for (k, v, keep_empty) in lists {
        if keep_empty || !v.is_empty() {
            out.insert(k.to_owned(), csv_record(v));
        }
    }
    if !s.subject.serial_number.is_empty() {
        out.insert(
            "cert-manager.io/subject-serialnumber".to_owned(),
            s.subject.serial_number.clone(),
        );
    }
    out
}

/// One CSV record as Go's `csv.Writer` writes it, without the line end.
fn csv_record(fields: &[String]) -> String {
    let quote = |f: &str| {
        let needs = !f.is_empty()
            && (f == r"\."
                || f.contains([',', '"', '\r', '\n'])
                || f.starts_with(char::is_whitespace));
        if needs {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_owned()
        }
    };
    fields
        .iter()
        .map(|f| quote(f))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::csv_record;

    #[test]
    fn csv_like_go() {
        let f = |v: &[&str]| csv_record(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            f(&["a.example.com", "b.example.com"]),
            "a.example.com,b.example.com"
        );
        assert_eq!(f(&[]), "");
        assert_eq!(
            f(&["Acme, Inc.", "say \"hi\"", " lead"]),
            "\"Acme, Inc.\",\"say \"\"hi\"\"\",\" lead\""
        );
    }
}

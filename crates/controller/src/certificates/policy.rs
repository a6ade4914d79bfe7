//! The policy chains of cert-manager's `internal/controller/certificates/policies`: pure
//! functions of the Certificate, its Secret, its current CertificateRequest and the time, that
//! say why (re)issuance is needed (trigger) or why the Certificate is not Ready (readiness).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::certificate::CertificateRenewalPolicy;
use api::{Certificate, CertificateRequest};
use featuregates::FeatureGates;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::{TLS_CRT, TLS_KEY, annotations, spec};

pub const DOES_NOT_EXIST: &str = "DoesNotExist";
pub const MISSING_DATA: &str = "MissingData";
pub const INVALID_KEY_PAIR: &str = "InvalidKeyPair";
pub const INVALID_CERTIFICATE: &str = "InvalidCertificate";
pub const SECRET_MISMATCH: &str = "SecretMismatch";
pub const INCORRECT_ISSUER: &str = "IncorrectIssuer";
pub const INCORRECT_CERTIFICATE: &str = "IncorrectCertificate";
pub const REQUEST_CHANGED: &str = "RequestChanged";
pub const INVALID_CERTIFICATE_REQUEST: &str = "InvalidCertificateRequest";
pub const RENEWING: &str = "Renewing";
pub const EXPIRED: &str = "Expired";

/// Why a Certificate needs issuing or is not Ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub reason: &'static str,
    pub message: String,
}

fn violation(reason: &'static str, message: impl Into<String>) -> Violation {
    Violation {
        reason,
        message: message.into(),
    }
}

/// What the chains look at.
pub struct Input<'a> {
    pub crt: &'a Certificate,
    pub secret: Option<&'a Secret>,
    /// The CertificateRequest of the current revision, if it still exists.
    pub current_request: Option<&'a CertificateRequest>,
    pub now: SystemTime,
    pub gates: &'a FeatureGates,
}

/// Which chain to run: they differ only in their last check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chain {
    /// Issue when the renewal time is reached.
    Trigger,
    /// Not Ready when expired.
    Readiness,
}

/// The first violated policy, or `None` when the Secret is up to date.
pub fn evaluate(input: &Input<'_>, chain: Chain) -> Option<Violation> {
    let cert = match secret_checks(input) {
        Ok(cert) => cert,
        Err(v) => return Some(v),
    };
    if let Some(v) = spec_checks(input, &cert) {
        return Some(v);
    }
    match chain {
        Chain::Trigger => {
            let renewal = renewal_time(input.crt, cert.not_before, cert.not_after)?;
            // The message names status.renewalTime as Go prints a `*metav1.Time`.
            let scheduled = input
                .crt
                .status
                .as_ref()
                .and_then(|s| s.renewal_time.as_ref())
                .map_or("<nil>".to_owned(), |t| go_time_string(t.0));
            (input.now >= renewal).then(|| {
                violation(
                    RENEWING,
                    format!("Renewing certificate as renewal was scheduled at {scheduled}"),
                )
            })
        }
        Chain::Readiness => (input.now > cert.not_after).then(|| {
            violation(
                EXPIRED,
                format!(
                    "Certificate expired on {}",
                    super::status::timestamp(cert.not_after).strftime("%a, %d %b %Y %H:%M:%S UTC")
                ),
            )
        }),
    }
}

/// Secret existence, data, key pair, key spec, issuer and owner annotations.
fn secret_checks(input: &Input<'_>) -> Result<pki::ParsedCertificate, Violation> {
    let Some(secret) = input.secret else {
        return Err(violation(
            DOES_NOT_EXIST,
            "Issuing certificate as Secret does not exist",
        ));
    };
    if secret.data.as_ref().is_none_or(|d| d.is_empty()) {
        return Err(violation(
            MISSING_DATA,
            "Issuing certificate as Secret does not contain any data",
        ));
    }
    let data = |k: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(k))
            .map(|b| b.0.as_slice())
            .filter(|b| !b.is_empty())
    };
    let Some(key_pem) = data(TLS_KEY) else {
        return Err(violation(
            MISSING_DATA,
            "Issuing certificate as Secret does not contain a private key",
        ));
    };
    let Some(cert_pem) = data(TLS_CRT) else {
        return Err(violation(
            MISSING_DATA,
            "Issuing certificate as Secret does not contain a certificate",
        ));
    };
    let key = pki::PrivateKey::from_pem(key_pem).map_err(|e| {
        violation(
            INVALID_KEY_PAIR,
            format!("Issuing certificate as Secret contains invalid private key data: {e}"),
        )
    })?;
    let cert = pki::ParsedCertificate::from_pem(cert_pem).map_err(|e| {
        violation(
            INVALID_CERTIFICATE,
            format!("Issuing certificate as Secret contains an invalid certificate: {e}"),
        )
    })?;
    if !cert.public_key_matches(key.public_key()).unwrap_or(false) {
        return Err(violation(
            INVALID_KEY_PAIR,
            "Issuing certificate as Secret contains a private key that does not match the certificate",
        ));
    }
    if let Some(issuer) = issuer_mismatch(input.crt, secret) {
        return Err(violation(
            INCORRECT_ISSUER,
            format!("Issuing certificate as Secret was previously issued by \"{issuer}\""),
        ));
    }
    if let Some(owner) = certificate_name_mismatch(input.crt, secret) {
        return Err(violation(
            INCORRECT_CERTIFICATE,
            format!(
                "Secret was issued for \"{owner}\". If this message is not transient, you might have two conflicting Certificates pointing to the same secret."
            ),
        ));
    }
    let key_violations = spec::key_violations(input.crt, &key);
    if !key_violations.is_empty() {
        return Err(violation(
            SECRET_MISMATCH,
            format!(
                "Existing private key is not up to date for spec: [{}]",
                key_violations.join(" ")
            ),
        ));
    }
    if let Some(cr) = input.current_request {
        let csr = pki::ParsedCsr::from_pem(&cr.spec.request.0).map_err(|e| {
            violation(
                INVALID_CERTIFICATE_REQUEST,
                format!("Failed to decode current CertificateRequest: {e}"),
            )
        })?;
        if !csr.public_key_matches(key.public_key()).unwrap_or(false) {
            return Err(violation(
                SECRET_MISMATCH,
                "Secret contains a private key that does not match the current CertificateRequest",
            ));
        }
    }
    Ok(cert)
}

/// The current request (or, without one, the issued certificate) against the spec.
fn spec_checks(input: &Input<'_>, cert: &pki::ParsedCertificate) -> Option<Violation> {
    match input.current_request {
        Some(cr) => {
            // An unreadable request does not by itself make the issued certificate stale.
            let violations =
                spec::request_violations(input.crt, cr, input.gates).unwrap_or_default();
            (!violations.is_empty()).then(|| {
                violation(
                    REQUEST_CHANGED,
                    format!(
                        "Fields on existing CertificateRequest resource not up to date: [{}]",
                        violations.join(" ")
                    ),
                )
            })
        }
        None => {
            let violations = match spec::csr_spec(input.crt, input.gates) {
                Ok(s) => cert.matches_spec(&s),
                Err(e) => vec![e.reason],
            };
            (!violations.is_empty()).then(|| {
                violation(
                    SECRET_MISMATCH,
                    format!(
                        "Issuing certificate as Existing issued Secret is not up to date for spec: [{}]",
                        violations.join(" ")
                    ),
                )
            })
        }
    }
}

/// `Kind.group/name` of the issuer recorded on the Secret when it differs from issuerRef
/// (empty kind means Issuer, empty group cert-manager.io).
fn issuer_mismatch(crt: &Certificate, secret: &Secret) -> Option<String> {
    let ann = secret.annotations();
    let get = |k: &str| ann.get(k).map(String::as_str).unwrap_or_default();
    let recorded = api::IssuerReference {
        name: get(annotations::ISSUER_NAME).to_owned(),
        kind: Some(get(annotations::ISSUER_KIND).to_owned()),
        group: Some(get(annotations::ISSUER_GROUP).to_owned()),
    };
    let want = &crt.spec.issuer_ref;
    let same = recorded.name == want.name
        && recorded.effective_kind() == want.effective_kind()
        && recorded.effective_group() == want.effective_group();
    (!same).then(|| {
        format!(
            "{}.{}/{}",
            recorded.effective_kind(),
            recorded.effective_group(),
            recorded.name
        )
    })
}

/// The other Certificate the Secret was issued for, if any.
pub fn certificate_name_mismatch(crt: &Certificate, secret: &Secret) -> Option<String> {
    secret
        .annotations()
        .get(annotations::CERTIFICATE_NAME)
        .filter(|n| !n.is_empty() && **n != crt.name_any())
        .cloned()
}

/// When to renew a certificate valid from `not_before` to `not_after`: `renewBefore`,
/// `renewBeforePercentage` or a third of the lifetime before the end, truncated to whole
/// seconds. `None` when renewal is disabled.
pub fn renewal_time(
    crt: &Certificate,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Option<SystemTime> {
    let disabled = crt
        .spec
        .renewal
        .as_ref()
        .and_then(|r| r.policy.as_ref())
        .is_some_and(|p| *p == CertificateRenewalPolicy::Disabled);
    if disabled {
        return None;
    }
    let lifetime = not_after.duration_since(not_before).unwrap_or_default();
    let renew_before = renew_before(crt, lifetime);
    let at = not_after.checked_sub(renew_before).unwrap_or(not_before);
    Some(truncate_to_seconds(at))
}

/// cert-manager's `RenewBefore`: a configured value shorter than the lifetime, else the
/// percentage, else a third.
fn renew_before(crt: &Certificate, lifetime: Duration) -> Duration {
    let configured = crt
        .spec
        .renew_before
        .as_ref()
        .and_then(|d| d.parse().ok())
        .and_then(|d| d.to_std())
        .filter(|d| !d.is_zero() && *d < lifetime);
    if let Some(d) = configured {
        return d;
    }
    if let Some(pct) = crt
        .spec
        .renew_before_percentage
        .filter(|p| (1..100).contains(p))
    {
        return lifetime_fraction(lifetime, pct as u128, 100);
    }
    lifetime_fraction(lifetime, 1, 3)
}

fn lifetime_fraction(lifetime: Duration, num: u128, den: u128) -> Duration {
    let nanos = lifetime.as_nanos() * num / den;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        Err(_) => t,
    }
}

/// Until when a failed issuance blocks a new one: `min·2^(n−1)` after the last failure, at
/// most `max` (cert-manager's issuance backoff).
pub fn backoff_until(crt: &Certificate, min: Duration, max: Duration) -> Option<SystemTime> {
    let status = crt.status.as_ref()?;
    let last = status.last_failure_time.as_ref()?;
    let attempts = status.failed_issuance_attempts.unwrap_or(1).max(1);
    let factor = 2u32.saturating_pow(u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(31));
    let delay = min.saturating_mul(factor).min(max);
    Some(system_time(last.0) + delay)
}

pub fn system_time(t: k8s_openapi::jiff::Timestamp) -> SystemTime {
    let secs = t.as_second();
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// Go's `time.Time.String()` of a UTC time with whole seconds.
pub fn go_time_string(t: k8s_openapi::jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()
}

#[cfg(test)]
mod tests;

//! What a Certificate asks for, in the shapes the pki crate and CertificateRequests use, and
//! the comparisons the policies make between the spec and what exists.

use api::{Certificate, CertificateRequest};
use featuregates::FeatureGates;
use featuregates::certmanager::{LITERAL_CERTIFICATE_SUBJECT, NAME_CONSTRAINTS, OTHER_NAMES};
use kube::ResourceExt;
use pki::{CsrSpec, KeyAlgorithm, KeyType, SignatureAlgorithm, Subject};

use super::annotations;

/// A Certificate spec that cannot be turned into a request.
#[derive(Debug, thiserror::Error)]
#[error("Certificate {namespace}/{name}: {reason}")]
pub struct SpecError {
    pub namespace: String,
    pub name: String,
    pub reason: String,
}

fn spec_error(crt: &Certificate, reason: impl std::fmt::Display) -> SpecError {
    SpecError {
        namespace: crt.namespace().unwrap_or_default(),
        name: crt.name_any(),
        reason: reason.to_string(),
    }
}

/// The CSR content the Certificate asks for (cert-manager's `pki.GenerateCSR`).
pub fn csr_spec(crt: &Certificate, gates: &FeatureGates) -> Result<CsrSpec, SpecError> {
    let s = &crt.spec;
    let subj = s.subject.clone().unwrap_or_default();
    let subject = Subject {
        common_name: s.common_name.clone().unwrap_or_default(),
        serial_number: subj.serial_number.clone().unwrap_or_default(),
        countries: subj.countries.clone().unwrap_or_default(),
        organizations: subj.organizations.clone().unwrap_or_default(),
        organizational_units: subj.organizational_units.clone().unwrap_or_default(),
        localities: subj.localities.clone().unwrap_or_default(),
        provinces: subj.provinces.clone().unwrap_or_default(),
        street_addresses: subj.street_addresses.clone().unwrap_or_default(),
        postal_codes: subj.postal_codes.clone().unwrap_or_default(),
    };
    let ip_addresses = pki::parse_ip_addresses(s.ip_addresses.as_deref().unwrap_or_default())
        .map_err(|e| spec_error(crt, format!("spec.ipAddresses: {e}")))?;
    let is_ca = s.is_ca.unwrap_or(false);
    let (key_usage, ext_key_usages) = if s.encode_usages_in_request.unwrap_or(true) {
        let usages = api::defaults::effective_usages(s.usages.as_deref());
        let names: Vec<&str> = usages.iter().map(|u| u.as_str()).collect();
        let parsed =
            pki::parse_usages(&names).map_err(|e| spec_error(crt, format!("spec.usages: {e}")))?;
        pki::key_usages_for(&parsed, is_ca)
    } else {
        Default::default()
    };
    let other_names = if gates.enabled(OTHER_NAMES) {
        s.other_names
            .iter()
            .flatten()
            .map(|o| pki::OtherName {
                oid: o.oid.clone().unwrap_or_default(),
                utf8_value: o.utf8_value.clone().unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let name_constraints = s
        .name_constraints
        .as_ref()
        .filter(|_| is_ca && gates.enabled(NAME_CONSTRAINTS))
        .map(|nc| {
            let items = |i: &Option<api::certificate::NameConstraintItem>| {
                let i = i.clone().unwrap_or_default();
                pki::NameConstraintItems {
                    dns_domains: i.dns_domains.unwrap_or_default(),
                    ip_ranges: i.ip_ranges.unwrap_or_default(),
                    email_addresses: i.email_addresses.unwrap_or_default(),
                    uri_domains: i.uri_domains.unwrap_or_default(),
                }
            };
            pki::NameConstraints {
                critical: nc.critical.unwrap_or(false),
                permitted: items(&nc.permitted),
                excluded: items(&nc.excluded),
            }
        });
    Ok(CsrSpec {
        subject,
        literal_subject: s
            .literal_subject
            .clone()
            .filter(|_| gates.enabled(LITERAL_CERTIFICATE_SUBJECT)),
        dns_names: s.dns_names.clone().unwrap_or_default(),
        ip_addresses,
        uris: s.uris.clone().unwrap_or_default(),
        email_addresses: s.email_addresses.clone().unwrap_or_default(),
        other_names,
        key_usage,
        ext_key_usages,
        basic_constraints: None,
        name_constraints,
    })
}

/// The key type `spec.privateKey` asks for.
pub fn key_type(crt: &Certificate) -> Result<KeyType, SpecError> {
    let (algorithm, size, _) = api::defaults::effective_private_key(crt.spec.private_key.as_ref());
    let algorithm: KeyAlgorithm = algorithm
        .as_str()
        .parse()
        .map_err(|e| spec_error(crt, format!("spec.privateKey.algorithm: {e}")))?;
    let size = u32::try_from(size)
        .map_err(|_| spec_error(crt, format!("spec.privateKey.size: {size} out of range")))?;
    KeyType::from_spec(algorithm, size)
        .map_err(|e| spec_error(crt, format!("spec.privateKey: {e}")))
}

/// The PEM encoding `spec.privateKey.encoding` asks for.
pub fn key_encoding(crt: &Certificate) -> pki::KeyEncoding {
    let (_, _, encoding) = api::defaults::effective_private_key(crt.spec.private_key.as_ref());
    match encoding {
        api::certificate::PrivateKeyEncoding::Pkcs8 => pki::KeyEncoding::Pkcs8,
        _ => pki::KeyEncoding::Pkcs1,
    }
}

/// `spec.signatureAlgorithm`, when set.
pub fn signature_algorithm(crt: &Certificate) -> Result<Option<SignatureAlgorithm>, SpecError> {
    crt.spec
        .signature_algorithm
        .as_ref()
        .filter(|a| !a.as_str().is_empty())
        .map(|a| a.as_str().parse())
        .transpose()
        .map_err(|e| spec_error(crt, format!("spec.signatureAlgorithm: {e}")))
}

/// Spec fields the key violates (`PrivateKeyMatchesSpec`).
pub fn key_violations(crt: &Certificate, key: &pki::PrivateKey) -> Vec<String> {
    match key_type(crt) {
        Ok(kt) => {
            let size = match kt {
                KeyType::Rsa(bits) => bits,
                KeyType::Ecdsa(curve) => curve.bits(),
                KeyType::Ed25519 => 0,
            };
            key.matches_spec(kt.algorithm(), size)
        }
        Err(_) => vec!["spec.privateKey".to_owned()],
    }
}

/// Spec fields a CertificateRequest does not match (`RequestMatchesSpec`): the CSR content
/// plus isCA, usages, duration and issuerRef.
pub fn request_violations(
    crt: &Certificate,
    cr: &CertificateRequest,
    gates: &FeatureGates,
) -> Result<Vec<String>, String> {
    let spec = csr_spec(crt, gates).map_err(|e| e.to_string())?;
    let csr = pki::ParsedCsr::from_pem(&cr.spec.request.0)
        .map_err(|e| format!("failed to decode CertificateRequest's CSR: {e}"))?;
    let mut violations = csr.matches_spec(&spec).map_err(|e| e.to_string())?;
    if crt.spec.is_ca.unwrap_or(false) != cr.spec.is_ca.unwrap_or(false) {
        violations.push("spec.isCA".to_owned());
    }
    let want_usages = api::defaults::effective_usages(crt.spec.usages.as_deref());
    let have_usages = api::defaults::effective_usages(cr.spec.usages.as_deref());
    if sorted(&want_usages) != sorted(&have_usages) {
        violations.push("spec.usages".to_owned());
    }
    let want = api::defaults::effective_duration(crt.spec.duration.as_ref()).ok();
    let have = api::defaults::effective_duration(cr.spec.duration.as_ref()).ok();
    if want != have {
        violations.push("spec.duration".to_owned());
    }
    let (a, b) = (&crt.spec.issuer_ref, &cr.spec.issuer_ref);
    if a.name != b.name
        || a.effective_kind() != b.effective_kind()
        || a.effective_group() != b.effective_group()
    {
        violations.push("spec.issuerRef".to_owned());
    }
    Ok(violations)
}

fn sorted(usages: &[api::KeyUsage]) -> Vec<String> {
    let mut v: Vec<String> = usages.iter().map(|u| u.as_str().to_owned()).collect();
    v.sort();
    v
}

/// `apiutil.DNSSafeShortenTo52Characters`: room for a `-<revision>` or generateName suffix.
pub fn shorten_to_52(name: &str) -> String {
    if name.len() <= 52 {
        return name.to_owned();
    }
    name[..52]
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// The stable name of the CertificateRequest of `revision`.
pub fn request_name(crt_name: &str, revision: i64) -> String {
    format!("{}-{revision}", shorten_to_52(crt_name))
}

/// The revision annotation of a CertificateRequest.
pub fn revision_of(cr: &CertificateRequest) -> Option<i64> {
    cr.annotations()
        .get(annotations::REVISION)
        .and_then(|r| r.parse().ok())
}

/// Whether `meta` has a controller owner reference to `crt` (by UID).
pub fn owned_by(meta: &kube::api::ObjectMeta, crt: &Certificate) -> bool {
    let uid = crt.uid();
    meta.owner_references.iter().flatten().any(|r| {
        r.kind == "Certificate"
            && r.api_version.starts_with("cert-manager.io/")
            && Some(&r.uid) == uid.as_ref()
    })
}

/// The owner reference CertificateRequests and next-key Secrets carry.
pub fn owner_reference(
    crt: &Certificate,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        api_version: "cert-manager.io/v1".to_owned(),
        kind: "Certificate".to_owned(),
        name: crt.name_any(),
        uid: crt.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The CertificateRequests owned by `crt`, from the cache.
pub fn owned_requests(
    store: &kubeclient::Store<CertificateRequest>,
    crt: &Certificate,
) -> Vec<std::sync::Arc<CertificateRequest>> {
    let ns = crt.namespace();
    store
        .list_namespace(ns.as_deref().unwrap_or_default())
        .into_iter()
        .filter(|cr| owned_by(&cr.metadata, crt))
        .collect()
}

/// The CertificateRequest of `revision` owned by `crt`, from the cache.
pub fn request_for_revision(
    store: &kubeclient::Store<CertificateRequest>,
    crt: &Certificate,
    revision: i64,
) -> Option<std::sync::Arc<CertificateRequest>> {
    owned_requests(store, crt)
        .into_iter()
        .find(|cr| revision_of(cr) == Some(revision))
}

/// The request's condition `ty`.
pub fn request_condition(
    cr: &CertificateRequest,
    ty: api::certificaterequest::CertificateRequestConditionType,
) -> Option<&api::certificaterequest::CertificateRequestCondition> {
    cr.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.condition_type == ty)
}

/// A request that failed (Failed, Denied or InvalidRequest) before the current issuance
/// started: the issuance it belonged to has been recorded as failed and backed off, so it
/// is replaced rather than failing the new attempt again.
pub fn failed_before_this_issuance(crt: &Certificate, cr: &CertificateRequest) -> bool {
    use api::certificate::CertificateConditionType;
    use api::certificaterequest::CertificateRequestConditionType as T;
    let Some(started) = super::status::condition(crt, CertificateConditionType::Issuing)
        .filter(|c| c.status == api::ConditionStatus::True)
        .and_then(|c| c.last_transition_time.as_ref())
    else {
        return false;
    };
    let failed_at = [T::Denied, T::InvalidRequest]
        .into_iter()
        .filter_map(|t| request_condition(cr, t))
        .find(|c| c.status == api::ConditionStatus::True)
        .or_else(|| {
            request_condition(cr, T::Ready).filter(|c| {
                c.status == api::ConditionStatus::False && c.reason.as_deref() == Some("Failed")
            })
        })
        .map(|c| {
            cr.status
                .as_ref()
                .and_then(|s| s.failure_time.clone())
                .or_else(|| c.last_transition_time.clone())
        });
    match failed_at {
        Some(Some(t)) => t.0 < started.0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_without_trailing_separators() {
        let name = format!("{}-{}", "a".repeat(51), "b".repeat(10));
        assert_eq!(shorten_to_52(&name), "a".repeat(51));
        assert_eq!(request_name("web", 3), "web-3");
        assert_eq!(
            request_name(&"x".repeat(60), 1),
            format!("{}-1", "x".repeat(52))
        );
    }

    #[test]
    fn failures_older_than_the_issuance_are_stale() {
        use api::certificate::{CertificateCondition, CertificateConditionType};
        use api::certificaterequest::{
            CertificateRequestCondition, CertificateRequestConditionType,
        };
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        use k8s_openapi::jiff::Timestamp;
        let at = |s: i64| Time(Timestamp::from_second(s).unwrap());
        let mut crt = Certificate::new("c", Default::default());
        crt.status = Some(api::CertificateStatus {
            conditions: Some(vec![CertificateCondition {
                condition_type: CertificateConditionType::Issuing,
                status: api::ConditionStatus::True,
                last_transition_time: Some(at(1000)),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let request = |ty, status, reason: &str, when| {
            let mut cr = CertificateRequest::new("c-1", Default::default());
            cr.status = Some(api::CertificateRequestStatus {
                conditions: Some(vec![CertificateRequestCondition {
                    condition_type: ty,
                    status,
                    reason: Some(reason.into()),
                    last_transition_time: Some(at(when)),
                    ..Default::default()
                }]),
                ..Default::default()
            });
            cr
        };
        use api::ConditionStatus::{False, True};
        assert!(failed_before_this_issuance(
            &crt,
            &request(CertificateRequestConditionType::Denied, True, "x", 900)
        ));
        assert!(!failed_before_this_issuance(
            &crt,
            &request(CertificateRequestConditionType::Denied, True, "x", 1000)
        ));
        assert!(failed_before_this_issuance(
            &crt,
            &request(CertificateRequestConditionType::Ready, False, "Failed", 10)
        ));
        assert!(!failed_before_this_issuance(
            &crt,
            &request(CertificateRequestConditionType::Ready, False, "Pending", 10)
        ));
        crt.status = None;
        assert!(!failed_before_this_issuance(
            &crt,
            &request(CertificateRequestConditionType::Denied, True, "x", 900)
        ));
    }
}

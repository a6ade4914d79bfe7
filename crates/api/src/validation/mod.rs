//! Admission validation of cert-manager resources, as cert-manager v1.21's webhook performs it
//! (`internal/apis/certmanager/validation`, `internal/apis/acme/validation` and the
//! CertificateRequest identity plugin), with the same field paths and messages.
//!
//! Each `validate_*` function returns a [`ValidationResult`]: errors (the request is denied
//! with [`crate::field::ErrorList::aggregate`] as the message) and warnings (returned to the
//! client). Functions never panic on any input.
//!
//! Where cert-manager's webhook would fail to decode an object (for example a duration string
//! Go cannot parse), the equivalent here is an `Invalid value` error on that field, since the
//! Rust types keep such values as written.

mod acme;
mod certificate;
mod certificaterequest;
mod challenge;
mod cron;
mod csr;
mod email;
mod issuer;
pub mod k8s;
mod net;
mod order;
mod subject;

use k8s_openapi::api::authentication::v1::UserInfo;

use crate::field::ErrorList;
use crate::{Certificate, CertificateRequest, Challenge, ClusterIssuer, Issuer, Order};

pub use certificate::validate_certificate_spec;
pub use issuer::validate_issuer_config;

/// Feature gates that change validation. The defaults are cert-manager v1.21's webhook
/// defaults (all three Beta, enabled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidationGates {
    /// `LiteralCertificateSubject`: allow `spec.literalSubject`.
    pub literal_certificate_subject: bool,
    /// `NameConstraints`: allow `spec.nameConstraints`.
    pub name_constraints: bool,
    /// `OtherNames`: allow `spec.otherNames`.
    pub other_names: bool,
}

impl Default for ValidationGates {
    fn default() -> Self {
        Self {
            literal_certificate_subject: true,
            name_constraints: true,
            other_names: true,
        }
    }
}

/// Outcome of validating one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationResult {
    pub errors: ErrorList,
    pub warnings: Vec<String>,
}

impl ValidationResult {
    fn from_errors(errors: ErrorList) -> Self {
        Self {
            errors,
            warnings: Vec::new(),
        }
    }

    /// Whether there are no errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(warnings)` when valid.
    pub fn into_result(self) -> Result<Vec<String>, ValidationError> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(ValidationError {
                errors: self.errors,
                warnings: self.warnings,
            })
        }
    }
}

/// An object failed validation; displays as the aggregated field errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{errors}")]
pub struct ValidationError {
    pub errors: ErrorList,
    pub warnings: Vec<String>,
}

/// Certificate create.
pub fn validate_certificate(crt: &Certificate, gates: &ValidationGates) -> ValidationResult {
    ValidationResult::from_errors(certificate::validate_certificate_spec(
        &crt.spec,
        &crate::field::Path::new("spec"),
        gates,
    ))
}

/// Certificate update: the new object is validated as on create.
pub fn validate_certificate_update(
    _old: &Certificate,
    new: &Certificate,
    gates: &ValidationGates,
) -> ValidationResult {
    validate_certificate(new, gates)
}

/// CertificateRequest create: issuer reference, CSR and usages, approval conditions.
pub fn validate_certificate_request(cr: &CertificateRequest) -> ValidationResult {
    ValidationResult::from_errors(certificaterequest::validate_create(cr))
}

/// CertificateRequest update: spec and cert-manager annotations immutable, approval
/// conditions never changed once set.
pub fn validate_certificate_request_update(
    old: &CertificateRequest,
    new: &CertificateRequest,
) -> ValidationResult {
    ValidationResult::from_errors(certificaterequest::validate_update(old, new))
}

/// CertificateRequest create, identity plugin: `spec.username`, `uid`, `groups` and `extra`
/// must be those of the requesting user.
pub fn validate_certificate_request_identity(
    cr: &CertificateRequest,
    user: &UserInfo,
) -> ValidationResult {
    ValidationResult::from_errors(certificaterequest::validate_identity_create(cr, user))
}

/// CertificateRequest update, identity plugin: the identity fields cannot change.
pub fn validate_certificate_request_identity_update(
    old: &CertificateRequest,
    new: &CertificateRequest,
) -> ValidationResult {
    ValidationResult::from_errors(certificaterequest::validate_identity_update(old, new))
}

/// Issuer create.
pub fn validate_issuer(iss: &Issuer) -> ValidationResult {
    issuer::validate_issuer_config(&iss.spec.config, &crate::field::Path::new("spec"))
}

/// Issuer update: the new object is validated as on create.
pub fn validate_issuer_update(_old: &Issuer, new: &Issuer) -> ValidationResult {
    validate_issuer(new)
}

/// ClusterIssuer create.
pub fn validate_cluster_issuer(iss: &ClusterIssuer) -> ValidationResult {
    issuer::validate_issuer_config(&iss.spec.config, &crate::field::Path::new("spec"))
}

/// ClusterIssuer update: the new object is validated as on create.
pub fn validate_cluster_issuer_update(
    _old: &ClusterIssuer,
    new: &ClusterIssuer,
) -> ValidationResult {
    validate_cluster_issuer(new)
}

/// Order create: nothing is checked (the controller creates Orders).
pub fn validate_order(_order: &Order) -> ValidationResult {
    ValidationResult::default()
}

/// Order update: `spec.request` and the server-assigned status fields are immutable once set.
pub fn validate_order_update(old: &Order, new: &Order) -> ValidationResult {
    ValidationResult::from_errors(order::validate_update(old, new))
}

/// Challenge create: nothing is checked (the controller creates Challenges).
pub fn validate_challenge(_challenge: &Challenge) -> ValidationResult {
    ValidationResult::default()
}

/// Challenge update: the spec is immutable.
pub fn validate_challenge_update(old: &Challenge, new: &Challenge) -> ValidationResult {
    ValidationResult::from_errors(challenge::validate_update(old, new))
}

/// Parses a duration field, reporting an unparsable value as Go's decoder error would read.
fn parse_duration_field(
    d: &crate::Duration,
    path: &crate::field::Path,
    el: &mut ErrorList,
) -> Option<crate::GoDuration> {
    match d.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            el.push(crate::field::Error::invalid(
                path,
                d.as_str(),
                &e.to_string(),
            ));
            None
        }
    }
}

/// `""` for `None`: how Go sees an omitted string.
fn s(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("")
}

/// Go's zero-length check for optional lists.
fn is_empty_list<T>(o: &Option<Vec<T>>) -> bool {
    o.as_ref().is_none_or(Vec::is_empty)
}

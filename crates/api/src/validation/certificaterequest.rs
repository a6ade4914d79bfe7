//! CertificateRequest rules: spec on create, immutability and approval conditions on update,
//! and the identity plugin.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::UserInfo;

use super::certificate::validate_issuer_ref;
use super::{csr, parse_duration_field, s};
use crate::certificaterequest::{
    CertificateRequest, CertificateRequestCondition, CertificateRequestConditionType,
    CertificateRequestSpec,
};
use crate::field::{BadValue, Error, ErrorList, Path};
use crate::meta::{ACME_GROUP, CERT_MANAGER_GROUP, ConditionStatus};

pub(super) fn validate_create(cr: &CertificateRequest) -> ErrorList {
    let mut el = validate_spec(&cr.spec, &Path::new("spec"));
    el.append(validate_approval_conditions(
        conditions(cr),
        &Path::new("status").child("conditions"),
    ));
    el
}

pub(super) fn validate_update(old: &CertificateRequest, new: &CertificateRequest) -> ErrorList {
    let mut el = ErrorList::new();
    // cert-manager annotations are fixed at creation, so a request cannot change under the
    // issuer or claim to be someone else's.
    let annotations_path = Path::new("metadata").child("annotations");
    el.append(compare_annotations(old, new, &annotations_path));
    el.append(compare_annotations(new, old, &annotations_path));
    el.append(validate_update_approval_conditions(
        conditions(old),
        conditions(new),
        &Path::new("status").child("conditions"),
    ));
    if !spec_equal(&old.spec, &new.spec) {
        el.push(Error::forbidden(
            &Path::new("spec"),
            "cannot change spec after creation",
        ));
    }
    el
}

fn conditions(cr: &CertificateRequest) -> &[CertificateRequestCondition] {
    cr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[])
}

fn compare_annotations(a: &CertificateRequest, b: &CertificateRequest, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let empty = BTreeMap::new();
    let a_ann = a.metadata.annotations.as_ref().unwrap_or(&empty);
    let b_ann = b.metadata.annotations.as_ref().unwrap_or(&empty);
    for (k, v) in a_ann {
        // A prefix test on the bare group name, as upstream (it also matches
        // `cert-manager.iox`, and `acme.cert-manager.io` keys are caught by both).
        if (k.starts_with(CERT_MANAGER_GROUP) || k.starts_with(ACME_GROUP))
            && b_ann.get(k) != Some(v)
        {
            el.push(Error::forbidden(
                &path.child(k),
                "cannot change cert-manager annotation after creation",
            ));
        }
    }
    el
}

/// Spec equality as Go's `reflect.DeepEqual` sees it: an omitted string or bool equals its
/// zero value, but a missing list or map differs from an empty one.
fn spec_equal(a: &CertificateRequestSpec, b: &CertificateRequestSpec) -> bool {
    let duration_eq = match (&a.duration, &b.duration) {
        (None, None) => true,
        (Some(x), Some(y)) => match (x.parse(), y.parse()) {
            (Ok(x), Ok(y)) => x == y,
            _ => x == y,
        },
        _ => false,
    };
    duration_eq
        && a.issuer_ref.name == b.issuer_ref.name
        && s(&a.issuer_ref.kind) == s(&b.issuer_ref.kind)
        && s(&a.issuer_ref.group) == s(&b.issuer_ref.group)
        && a.request == b.request
        && a.is_ca.unwrap_or(false) == b.is_ca.unwrap_or(false)
        && a.usages == b.usages
        && s(&a.username) == s(&b.username)
        && s(&a.uid) == s(&b.uid)
        && a.groups == b.groups
        && a.extra == b.extra
}

fn validate_spec(spec: &CertificateRequestSpec, path: &Path) -> ErrorList {
    let mut el = validate_issuer_ref(&spec.issuer_ref, path);
    if let Some(d) = &spec.duration {
        parse_duration_field(d, &path.child("duration"), &mut el);
    }
    if spec.request.0.is_empty() {
        el.push(Error::required(&path.child("request"), "must be specified"));
        return el;
    }
    let usages = spec.usages.as_deref().unwrap_or(&[]);
    let is_ca = spec.is_ca.unwrap_or(false);
    let expected = match csr::expected_usages(usages, is_ca) {
        Ok(e) => e,
        Err(msg) => {
            let names: Vec<&str> = usages.iter().map(|u| u.as_str()).collect();
            el.push(Error::invalid(
                &path.child("usages"),
                BadValue::json(&names),
                &msg,
            ));
            return el;
        }
    };
    if let Err(msg) = csr::check_csr(&spec.request.0, is_ca, &expected) {
        // Show at most 100 bytes of the request rather than the whole CSR.
        el.push(Error::invalid(
            &path.child("request"),
            truncate(&spec.request.0),
            &msg,
        ));
    }
    el
}

fn truncate(request: &[u8]) -> String {
    const MAX: usize = 100;
    if request.len() <= MAX {
        return String::from_utf8_lossy(request).into_owned();
    }
    format!("{}...", String::from_utf8_lossy(&request[..MAX - 3]))
}

/// At most one `Approved` and one `Denied` condition, each `True`, never both.
fn validate_approval_conditions(conds: &[CertificateRequestCondition], path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let of_type = |t: &CertificateRequestConditionType| -> Vec<&CertificateRequestCondition> {
        conds.iter().filter(|c| &c.condition_type == t).collect()
    };
    let approved = of_type(&CertificateRequestConditionType::Approved);
    let denied = of_type(&CertificateRequestConditionType::Denied);
    for (name, found) in [("Approved", &approved), ("Denied", &denied)] {
        match found.as_slice() {
            [] => {}
            [only] => {
                if only.status != ConditionStatus::True {
                    el.push(Error::invalid(
                        &path.child(only.condition_type.as_str()),
                        BadValue::json(only.status.as_str()),
                        &format!("\"{name}\" condition may only be set to True"),
                    ));
                }
            }
            _ => el.push(Error::forbidden(
                path,
                &format!("multiple \"{name}\" conditions present"),
            )),
        }
    }
    if !approved.is_empty() && !denied.is_empty() {
        el.push(Error::forbidden(
            path,
            "both 'Denied' and 'Approved' conditions cannot coexist",
        ));
    }
    el
}

/// Once present, the `Approved` and `Denied` conditions must stay exactly as they are.
fn validate_update_approval_conditions(
    old: &[CertificateRequestCondition],
    new: &[CertificateRequestCondition],
    path: &Path,
) -> ErrorList {
    let mut el = ErrorList::new();
    let find = |conds: &[CertificateRequestCondition], t: &CertificateRequestConditionType| {
        conds.iter().find(|c| &c.condition_type == t).cloned()
    };
    for (t, name) in [
        (CertificateRequestConditionType::Approved, "Approved"),
        (CertificateRequestConditionType::Denied, "Denied"),
    ] {
        if let Some(old_cond) = find(old, &t)
            && !condition_equal(&old_cond, find(new, &t).as_ref())
        {
            el.push(Error::forbidden(
                path,
                &format!("'{name}' condition may not be modified once set"),
            ));
        }
    }
    // Upstream reports Approved before Denied; the loop above follows that order.
    el.append(validate_approval_conditions(new, path));
    el
}

fn condition_equal(
    a: &CertificateRequestCondition,
    b: Option<&CertificateRequestCondition>,
) -> bool {
    b.is_some_and(|b| {
        a.condition_type == b.condition_type
            && a.status == b.status
            && a.last_transition_time == b.last_transition_time
            && s(&a.reason) == s(&b.reason)
            && s(&a.message) == s(&b.message)
    })
}

/// Go's `EqualUnsorted`: same length and same elements in any order (nil equals empty).
fn equal_unsorted(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

pub(super) fn validate_identity_create(cr: &CertificateRequest, user: &UserInfo) -> ErrorList {
    let mut el = ErrorList::new();
    let p = Path::new("spec");
    let spec = &cr.spec;
    if s(&spec.uid) != s(&user.uid) {
        el.push(Error::forbidden(
            &p.child("uid"),
            "uid identity must be that of the requester",
        ));
    }
    if s(&spec.username) != s(&user.username) {
        el.push(Error::forbidden(
            &p.child("username"),
            "username identity must be that of the requester",
        ));
    }
    if !equal_unsorted(
        spec.groups.as_deref().unwrap_or(&[]),
        user.groups.as_deref().unwrap_or(&[]),
    ) {
        el.push(Error::forbidden(
            &p.child("groups"),
            "groups identity must be that of the requester",
        ));
    }
    let empty = BTreeMap::new();
    let cr_extra = spec.extra.as_ref().unwrap_or(&empty);
    let user_extra = user.extra.as_ref().unwrap_or(&empty);
    let extras_match = cr_extra.len() == user_extra.len()
        && cr_extra
            .iter()
            .all(|(k, v)| user_extra.get(k).is_some_and(|u| equal_unsorted(v, u)));
    if !extras_match {
        el.push(Error::forbidden(
            &p.child("extra"),
            "extra identity must be that of the requester",
        ));
    }
    el
}

pub(super) fn validate_identity_update(
    old: &CertificateRequest,
    new: &CertificateRequest,
) -> ErrorList {
    let mut el = ErrorList::new();
    let p = Path::new("spec");
    let (o, n) = (&old.spec, &new.spec);
    if s(&o.uid) != s(&n.uid) {
        el.push(Error::forbidden(
            &p.child("uid"),
            "uid identity cannot be changed once set",
        ));
    }
    if s(&o.username) != s(&n.username) {
        el.push(Error::forbidden(
            &p.child("username"),
            "username identity cannot be changed once set",
        ));
    }
    if !equal_unsorted(
        o.groups.as_deref().unwrap_or(&[]),
        n.groups.as_deref().unwrap_or(&[]),
    ) {
        el.push(Error::forbidden(
            &p.child("groups"),
            "groups identity cannot be changed once set",
        ));
    }
    if o.extra != n.extra {
        el.push(Error::forbidden(
            &p.child("extra"),
            "extra identity cannot be changed once set",
        ));
    }
    el
}

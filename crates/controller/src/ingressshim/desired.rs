//! What an annotated Ingress asks for: one Certificate per `spec.tls` entry, and what must be
//! created, updated or deleted to get there. Pure: the caller supplies the existing
//! Certificates and carries out the [`Plan`].

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use api::certificate::{CertificatePrivateKey, PrivateKeyAlgorithm};
use api::field::{Error as FieldError, ErrorList, Path};
use api::{Certificate, CertificateSpec, IssuerReference, KeyUsage};
use config::controller::IngressShimConfig;
use k8s_openapi::api::networking::v1::{Ingress, IngressTLS};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::ObjectMeta;
use kube::{Resource, ResourceExt};

use super::annotations as ann;

pub const REASON_BAD_CONFIG: &str = "BadConfig";

/// kubectl's ApplySet membership label: copying it would make `kubectl apply --prune` treat the
/// Certificates as part of the user's set and delete them.
const APPLYSET_LABEL: &str = "applyset.kubernetes.io/part-of";
/// The finalizer of foreground cascading deletion.
const FOREGROUND_DELETION: &str = "foregroundDeletion";

/// The changes that bring an Ingress's Certificates in line with it.
#[derive(Debug, Default)]
pub struct Plan {
    /// Warning Events (`BadConfig`) to record on the Ingress.
    pub warnings: Vec<String>,
    pub create: Vec<Certificate>,
    pub update: Vec<Update>,
    /// Certificates this Ingress controls whose Secret it no longer names.
    pub delete: Vec<Arc<Certificate>>,
}

/// A Certificate to bring in line, in the two forms the two ways of writing need.
#[derive(Debug)]
pub struct Update {
    /// The existing object (with its resourceVersion) carrying the wanted spec, labels and
    /// annotations, its other annotations kept: for a replace.
    pub replace: Certificate,
    /// Only what ingress-shim sets: for a server-side apply.
    pub apply: Certificate,
}

/// The issuer an Ingress names, as written into `spec.issuerRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerRef {
    pub name: String,
    pub kind: String,
    pub group: String,
}

/// Whether the Ingress asks for Certificates at all: an issuer annotation, or one of the
/// auto-certificate annotations (`kubernetes.io/tls-acme`) set to a true value.
pub fn wants_certificates(annotations: &BTreeMap<String, String>, cfg: &IngressShimConfig) -> bool {
    annotations.contains_key(ann::ISSUER)
        || annotations.contains_key(ann::CLUSTER_ISSUER)
        || cfg
            .default_auto_certificate_annotations
            .iter()
            .any(|a| annotations.get(a).is_some_and(|v| go_parse_bool(v)))
}

/// Go's `strconv.ParseBool`, with anything unparsable read as false.
fn go_parse_bool(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// Deleted, or being deleted in the foreground: Certificates must not be (re)created for it.
pub fn is_being_deleted(ing: &Ingress) -> bool {
    ing.metadata.deletion_timestamp.is_some()
        || ing.finalizers().iter().any(|f| f == FOREGROUND_DELETION)
}

/// The issuer from the annotations, falling back to the `--default-issuer-*` flags.
pub fn issuer_for(
    annotations: &BTreeMap<String, String>,
    cfg: &IngressShimConfig,
) -> Result<IssuerRef, String> {
    let get = |k: &str| annotations.get(k);
    let mut issuer = IssuerRef {
        name: cfg.default_issuer_name.clone(),
        kind: cfg.default_issuer_kind.clone(),
        group: cfg.default_issuer_group.clone(),
    };
    if let Some(name) = get(ann::ISSUER) {
        issuer.name = name.clone();
        issuer.kind = api::meta::ISSUER_KIND.to_owned();
    }
    if let Some(name) = get(ann::CLUSTER_ISSUER) {
        issuer.name = name.clone();
        issuer.kind = api::meta::CLUSTER_ISSUER_KIND.to_owned();
    }
    if let Some(kind) = get(ann::ISSUER_KIND) {
        issuer.kind = kind.clone();
    }
    if let Some(group) = get(ann::ISSUER_GROUP) {
        issuer.group = group.clone();
    }
    let mut errors = Vec::new();
    if issuer.name.is_empty() {
        errors.push("failed to determine issuer name to be used for ingress resource".to_owned());
    }
    let both = |a: &str, b: &str| format!("both {a:?} and {b:?} may not be set");
    let cluster = get(ann::CLUSTER_ISSUER).is_some();
    if cluster && get(ann::ISSUER).is_some() {
        errors.push(both(ann::ISSUER, ann::CLUSTER_ISSUER));
    }
    if cluster && get(ann::ISSUER_GROUP).is_some() {
        errors.push(both(ann::CLUSTER_ISSUER, ann::ISSUER_GROUP));
    }
    if cluster && get(ann::ISSUER_KIND).is_some() {
        errors.push(both(ann::CLUSTER_ISSUER, ann::ISSUER_KIND));
    }
    if errors.is_empty() {
        Ok(issuer)
    } else {
        Err(errors.join(", "))
    }
}

/// Works out the plan for `ing`. `lookup` finds a Certificate of the Ingress's namespace by
/// name; `in_namespace` lists them all (for the clean-up of dropped TLS entries).
pub fn plan(
    ing: &Ingress,
    cfg: &IngressShimConfig,
    lookup: impl Fn(&str) -> Option<Arc<Certificate>>,
    in_namespace: &[Arc<Certificate>],
) -> Plan {
    let mut plan = Plan::default();
    let annotations = ing.annotations();
    if !wants_certificates(annotations, cfg) || is_being_deleted(ing) {
        return plan;
    }
    let issuer = match issuer_for(annotations, cfg) {
        Ok(i) => i,
        Err(e) => {
            plan.warnings.push(format!(
                "Could not determine issuer for ingress due to bad annotations: {e}"
            ));
            return plan;
        }
    };
    let tls = tls_entries(ing);
    if let Some(e) = duplicate_secret_names(tls).aggregate() {
        plan.warnings.push(e);
        return plan;
    }
    let uid = ing.uid().unwrap_or_default();
    for (i, entry) in tls.iter().enumerate() {
        let path = Path::new("spec").child("tls").index(i);
        if let Some(e) = tls_entry_errors(&path, entry).aggregate() {
            plan.warnings.push(format!("Skipped a TLS block: {e}"));
            continue;
        }
        let wanted = match certificate_for(ing, entry, &issuer, cfg) {
            Ok(c) => c,
            Err(e) => {
                // The annotations are shared by every entry: nothing can be built.
                plan.warnings.push(e.to_string());
                return Plan {
                    warnings: plan.warnings,
                    ..Default::default()
                };
            }
        };
        let Some(existing) = lookup(&wanted.name_any()) else {
            plan.create.push(wanted);
            continue;
        };
        match controller_uid(&*existing) {
            Some(owner) if owner == uid => {
                if needs_update(&existing, &wanted) {
                    plan.update.push(Update {
                        replace: updated(&existing, wanted.clone()),
                        apply: wanted,
                    });
                }
            }
            _ => plan.warnings.push(format!(
                "Certificate {:?} for {} already exists and is not controlled by this Ingress; leaving it unchanged",
                wanted.name_any(),
                path.child("secretName"),
            )),
        }
    }
    let named: HashSet<&str> = tls
        .iter()
        .filter_map(|t| t.secret_name.as_deref())
        .collect();
    plan.delete = in_namespace
        .iter()
        .filter(|c| controller_uid(&***c).as_deref() == Some(uid.as_str()))
        .filter(|c| !named.contains(c.spec.secret_name.as_str()))
        .cloned()
        .collect();
    plan
}

fn tls_entries(ing: &Ingress) -> &[IngressTLS] {
    ing.spec
        .as_ref()
        .and_then(|s| s.tls.as_deref())
        .unwrap_or_default()
}

/// One Certificate per Secret: two entries naming the same Secret would fight over it.
fn duplicate_secret_names(tls: &[IngressTLS]) -> ErrorList {
    let mut paths: BTreeMap<&str, Vec<Path>> = BTreeMap::new();
    let mut order = Vec::new();
    for (i, entry) in tls.iter().enumerate() {
        let name = entry.secret_name.as_deref().unwrap_or_default();
        let p = Path::new("spec").child("tls").index(i).child("secretName");
        let seen = paths.entry(name).or_default();
        if seen.is_empty() {
            order.push(name);
        }
        seen.push(p);
    }
    let mut errors = ErrorList::new();
    for name in order {
        if let [first, second, ..] = paths[name].as_slice() {
            errors.push(FieldError::invalid(
                first,
                name,
                &format!(
                    "this secret name must only appear in a single TLS entry but is also used in {second}"
                ),
            ));
        }
    }
    errors
}

fn tls_entry_errors(path: &Path, entry: &IngressTLS) -> ErrorList {
    let mut errors = ErrorList::new();
    if entry.hosts.as_ref().is_none_or(Vec::is_empty) {
        errors.push(FieldError::required(&path.child("hosts"), ""));
    }
    if entry.secret_name.as_deref().unwrap_or_default().is_empty() {
        errors.push(FieldError::required(&path.child("secretName"), ""));
    }
    errors
}

/// The Certificate for one TLS entry: named after its Secret, controlled by the Ingress.
fn certificate_for(
    ing: &Ingress,
    entry: &IngressTLS,
    issuer: &IssuerRef,
    cfg: &IngressShimConfig,
) -> Result<Certificate, ann::InvalidAnnotation> {
    let secret_name = entry.secret_name.clone().unwrap_or_default();
    let (dns_names, ip_addresses) = split_hosts(entry.hosts.as_deref().unwrap_or_default());
    let mut spec = CertificateSpec {
        dns_names: Some(dns_names).filter(|v| !v.is_empty()),
        ip_addresses: Some(ip_addresses).filter(|v| !v.is_empty()),
        secret_name: secret_name.clone(),
        issuer_ref: IssuerReference {
            name: issuer.name.clone(),
            kind: Some(issuer.kind.clone()).filter(|k| !k.is_empty()),
            group: Some(issuer.group.clone()).filter(|g| !g.is_empty()),
        },
        usages: Some(KeyUsage::defaults()),
        ..Default::default()
    };
    ann::apply_to_spec(&mut spec, ing.annotations())?;
    let mut labels = ing.labels().clone();
    labels.remove(APPLYSET_LABEL);
    let metadata = ObjectMeta {
        name: Some(secret_name),
        namespace: ing.namespace(),
        labels: Some(labels).filter(|l| !l.is_empty()),
        annotations: Some(certificate_annotations(ing, cfg)).filter(|a| !a.is_empty()),
        owner_references: Some(vec![controller_ref(ing)]),
        ..Default::default()
    };
    Ok(Certificate {
        metadata,
        spec,
        status: None,
    })
}

/// Hosts split into DNS names and IP addresses, duplicates dropped, order kept.
fn split_hosts(hosts: &[String]) -> (Vec<String>, Vec<String>) {
    let mut seen = HashSet::new();
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    for h in hosts.iter().filter(|h| seen.insert(h.as_str())) {
        if h.parse::<IpAddr>().is_ok() {
            ips.push(h.clone());
        } else {
            dns.push(h.clone());
        }
    }
    (dns, ips)
}

/// Annotations the Certificate carries: the `--extra-certificate-annotations` copied from the
/// Ingress, and the ACME HTTP-01 hints the solver reads from the Certificate.
fn certificate_annotations(ing: &Ingress, cfg: &IngressShimConfig) -> BTreeMap<String, String> {
    let from = ing.annotations();
    let mut out: BTreeMap<String, String> = cfg
        .extra_certificate_annotations
        .iter()
        .filter_map(|k| from.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    if from.get(ann::HTTP01_EDIT_IN_PLACE).map(String::as_str) == Some("true") {
        out.insert(ann::HTTP01_OVERRIDE_INGRESS_NAME.into(), ing.name_any());
        // A temporary certificate keeps ingress-gce serving while the real one is issued.
        out.insert(ann::ISSUE_TEMPORARY_CERTIFICATE.into(), "true".into());
    }
    for (hint, target) in [
        (
            ann::HTTP01_INGRESS_CLASS,
            ann::HTTP01_OVERRIDE_INGRESS_CLASS,
        ),
        (
            ann::HTTP01_INGRESS_CLASS_NAME,
            ann::HTTP01_OVERRIDE_INGRESS_CLASS_NAME,
        ),
    ] {
        if let Some(v) = from.get(hint).filter(|v| !v.is_empty()) {
            out.insert(target.into(), v.clone());
        }
    }
    out
}

fn controller_ref(ing: &Ingress) -> OwnerReference {
    OwnerReference {
        api_version: Ingress::api_version(&()).into_owned(),
        kind: Ingress::kind(&()).into_owned(),
        name: ing.name_any(),
        uid: ing.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The UID of the object's controller (the owner reference with `controller: true`).
pub fn controller_uid<K: Resource>(obj: &K) -> Option<String> {
    obj.owner_references()
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.clone())
}

/// The existing Certificate with the wanted spec and labels, and the wanted annotations added
/// to its own (annotations set by others are kept).
fn updated(existing: &Certificate, wanted: Certificate) -> Certificate {
    let mut crt = existing.clone();
    crt.spec = wanted.spec;
    crt.metadata.labels = wanted.metadata.labels;
    if let Some(add) = wanted.metadata.annotations {
        crt.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .extend(add);
    }
    crt.status = None;
    crt
}

/// Whether `existing` must be updated to `wanted`: exactly the fields cert-manager's
/// `certNeedsUpdate` compares (labels, commonName, dnsNames in order, secretName, issuerRef
/// name and kind, revisionHistoryLimit, the private key, duration, renewBefore). Other fields
/// are written along with an update but never cause one, so taking over an install changes
/// (and re-issues) nothing that cert-manager would have left alone.
pub fn needs_update(existing: &Certificate, wanted: &Certificate) -> bool {
    let labels = |c: &Certificate| c.metadata.labels.clone().unwrap_or_default();
    labels(existing) != labels(wanted) || spec_differs(&existing.spec, &wanted.spec)
}

fn spec_differs(a: &CertificateSpec, b: &CertificateSpec) -> bool {
    fn list<T>(v: &Option<Vec<T>>) -> &[T] {
        v.as_deref().unwrap_or_default()
    }
    fn text(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or_default()
    }
    let duration = |d: &Option<api::Duration>| d.as_ref().map(|d| d.parse().map_err(|_| d.clone()));
    text(&a.common_name) != text(&b.common_name)
        || list(&a.dns_names) != list(&b.dns_names)
        || a.secret_name != b.secret_name
        || a.issuer_ref.name != b.issuer_ref.name
        || text(&a.issuer_ref.kind) != text(&b.issuer_ref.kind)
        || a.revision_history_limit != b.revision_history_limit
        || private_key_differs(a.private_key.as_ref(), b.private_key.as_ref())
        || duration(&a.duration) != duration(&b.duration)
        || duration(&a.renew_before) != duration(&b.renew_before)
}

/// Unset and empty are the same; the size does not matter for Ed25519 keys.
fn private_key_differs(
    a: Option<&CertificatePrivateKey>,
    b: Option<&CertificatePrivateKey>,
) -> bool {
    let fields = |k: Option<&CertificatePrivateKey>| {
        let k = k.cloned().unwrap_or_default();
        let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
        (
            text(k.algorithm.as_ref().map(|v| v.as_str())),
            text(k.encoding.as_ref().map(|v| v.as_str())),
            text(k.rotation_policy.as_ref().map(|v| v.as_str())),
            k.size.unwrap_or_default(),
        )
    };
    let (alg_a, enc_a, pol_a, size_a) = fields(a);
    let (alg_b, enc_b, pol_b, size_b) = fields(b);
    alg_a != alg_b
        || enc_a != enc_b
        || pol_a != pol_b
        || (alg_a != PrivateKeyAlgorithm::Ed25519.as_str() && size_a != size_b)
}

//! The plan for an Ingress, case by case (the writes are covered by tests/ingress_shim.rs).

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{Certificate, KeyUsage};
use config::controller::IngressShimConfig;
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt;
use serde_json::{Value, json};

use super::annotations as ann;
use super::desired::{self, Plan};

const UID: &str = "ingress-uid";

fn cfg() -> IngressShimConfig {
    IngressShimConfig {
        default_issuer_name: String::new(),
        default_issuer_kind: "Issuer".into(),
        default_issuer_group: "cert-manager.io".into(),
        default_auto_certificate_annotations: vec!["kubernetes.io/tls-acme".into()],
        extra_certificate_annotations: vec![],
    }
}

fn ingress(annotations: Value, tls: Value) -> Ingress {
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {
            "name": "web", "namespace": "ns", "uid": UID,
            "annotations": annotations, "labels": {"app": "web"},
        },
        "spec": {"tls": tls},
    }))
    .unwrap()
}

fn two_entries() -> Value {
    json!([
        {"hosts": ["a.example", "www.a.example"], "secretName": "a-tls"},
        {"hosts": ["b.example", "10.0.0.7"], "secretName": "b-tls"},
    ])
}

fn plan_with(ing: &Ingress, cfg: &IngressShimConfig, existing: &[Certificate]) -> Plan {
    let existing: Vec<Arc<Certificate>> = existing.iter().cloned().map(Arc::new).collect();
    let lookup = |name: &str| existing.iter().find(|c| c.name_any() == name).cloned();
    desired::plan(ing, cfg, lookup, &existing)
}

fn plan(ing: &Ingress, existing: &[Certificate]) -> Plan {
    plan_with(ing, &cfg(), existing)
}

/// A Certificate as a previous sync created it, with a server-set uid.
fn created(cert: &Certificate) -> Certificate {
    let mut c = cert.clone();
    c.metadata.uid = Some(format!("uid-{}", c.name_any()));
    c.metadata.resource_version = Some("7".into());
    c
}

fn certificate(name: &str, secret: &str, owner_uid: Option<&str>) -> Certificate {
    let owners = match owner_uid {
        Some(uid) => json!([{
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "web",
            "uid": uid, "controller": true, "blockOwnerDeletion": true,
        }]),
        None => json!([]),
    };
    serde_json::from_value(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"), "ownerReferences": owners},
        "spec": {"secretName": secret, "dnsNames": ["old.example"], "issuerRef": {"name": "old"}},
    }))
    .unwrap()
}

#[test]
fn one_certificate_per_tls_entry() {
    let ing = ingress(
        json!({ann::CLUSTER_ISSUER: "ca", ann::COMMON_NAME: "a.example", ann::DURATION: "48h"}),
        two_entries(),
    );
    let p = plan(&ing, &[]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(p.update.is_empty() && p.delete.is_empty());
    let [a, b] = p.create.as_slice() else {
        panic!("{:?}", p.create)
    };
    assert_eq!(a.name_any(), "a-tls");
    assert_eq!(a.namespace().as_deref(), Some("ns"));
    assert_eq!(a.spec.secret_name, "a-tls");
    assert_eq!(
        a.spec.dns_names.as_deref().unwrap(),
        ["a.example", "www.a.example"]
    );
    assert_eq!(a.spec.ip_addresses, None);
    assert_eq!(a.spec.issuer_ref.name, "ca");
    assert_eq!(a.spec.issuer_ref.kind.as_deref(), Some("ClusterIssuer"));
    assert_eq!(a.spec.issuer_ref.group.as_deref(), Some("cert-manager.io"));
    assert_eq!(a.spec.common_name.as_deref(), Some("a.example"));
    assert_eq!(a.spec.duration.as_ref().unwrap().as_str(), "48h0m0s");
    assert_eq!(a.spec.usages.as_deref().unwrap(), KeyUsage::defaults());
    assert_eq!(a.labels()["app"], "web");
    let owner = &a.owner_references()[0];
    assert_eq!(
        (
            owner.api_version.as_str(),
            owner.kind.as_str(),
            owner.name.as_str(),
            owner.uid.as_str()
        ),
        ("networking.k8s.io/v1", "Ingress", "web", UID)
    );
    assert_eq!(owner.controller, Some(true));
    assert_eq!(owner.block_owner_deletion, Some(true));
    // Hosts that are IP addresses become IP SANs.
    assert_eq!(b.spec.dns_names.as_deref().unwrap(), ["b.example"]);
    assert_eq!(b.spec.ip_addresses.as_deref().unwrap(), ["10.0.0.7"]);
}

#[test]
fn without_a_trigger_annotation_nothing_happens() {
    let owned = created(&plan(&ingress(json!({ann::ISSUER: "ca"}), two_entries()), &[]).create[0]);
    for annotations in [
        json!({}),
        json!({"kubernetes.io/tls-acme": "false"}),
        json!({"kubernetes.io/tls-acme": "yes"}),
        json!({ann::ISSUER_KIND: "ClusterIssuer"}),
    ] {
        // Certificates made before the annotation went away stay (as cert-manager).
        let p = plan(
            &ingress(annotations.clone(), json!([])),
            std::slice::from_ref(&owned),
        );
        assert!(
            p.warnings.is_empty() && p.create.is_empty() && p.delete.is_empty(),
            "{annotations}: {p:?}"
        );
    }
}

#[test]
fn auto_certificate_annotation_uses_the_default_issuer() {
    let ing = ingress(json!({"kubernetes.io/tls-acme": "true"}), two_entries());
    let p = plan(&ing, &[]);
    assert_eq!(
        p.warnings,
        [
            "Could not determine issuer for ingress due to bad annotations: failed to determine issuer name to be used for ingress resource"
        ]
    );
    assert!(p.create.is_empty());

    let mut with_default = cfg();
    with_default.default_issuer_name = "letsencrypt".into();
    with_default.default_issuer_kind = "ClusterIssuer".into();
    let p = plan_with(&ing, &with_default, &[]);
    assert!(p.warnings.is_empty());
    assert_eq!(p.create.len(), 2);
    let issuer = &p.create[0].spec.issuer_ref;
    assert_eq!(
        (issuer.name.as_str(), issuer.kind.as_deref()),
        ("letsencrypt", Some("ClusterIssuer"))
    );

    // A custom --auto-certificate-annotations list replaces the default one; "1" is true.
    let mut custom = with_default.clone();
    custom.default_auto_certificate_annotations = vec!["example.com/tls".into()];
    assert!(plan_with(&ing, &custom, &[]).create.is_empty());
    let ing = ingress(json!({"example.com/tls": "1"}), two_entries());
    assert_eq!(plan_with(&ing, &custom, &[]).create.len(), 2);
}

#[test]
fn external_issuer_kind_and_group() {
    let ing = ingress(
        json!({ann::ISSUER: "vault", ann::ISSUER_KIND: "VaultIssuer", ann::ISSUER_GROUP: "vault.example.com"}),
        two_entries(),
    );
    let issuer = plan(&ing, &[]).create[0].spec.issuer_ref.clone();
    assert_eq!(issuer.name, "vault");
    assert_eq!(issuer.kind.as_deref(), Some("VaultIssuer"));
    assert_eq!(issuer.group.as_deref(), Some("vault.example.com"));
}

#[test]
fn conflicting_issuer_annotations_are_bad_config() {
    let ing = ingress(
        json!({ann::ISSUER: "a", ann::CLUSTER_ISSUER: "b", ann::ISSUER_KIND: "X"}),
        two_entries(),
    );
    let p = plan(&ing, &[]);
    assert_eq!(
        p.warnings,
        [
            "Could not determine issuer for ingress due to bad annotations: both \"cert-manager.io/issuer\" and \"cert-manager.io/cluster-issuer\" may not be set, both \"cert-manager.io/cluster-issuer\" and \"cert-manager.io/issuer-kind\" may not be set"
        ]
    );
    assert!(p.create.is_empty());
}

#[test]
fn bad_annotation_stops_everything() {
    let ing = ingress(
        json!({ann::ISSUER: "ca", ann::DURATION: "banana"}),
        json!([{"hosts": ["a.example"], "secretName": "a-tls"}]),
    );
    // An owned Certificate of a dropped entry is not deleted either: nothing is written.
    let stale = certificate("gone", "gone", Some(UID));
    let p = plan(&ing, &[stale]);
    assert_eq!(
        p.warnings,
        [
            r#"invalid ingress annotation "cert-manager.io/duration": time: invalid duration "banana""#
        ]
    );
    assert!(p.create.is_empty() && p.update.is_empty() && p.delete.is_empty());
}

#[test]
fn invalid_tls_entries_are_skipped_or_refused() {
    let ing = ingress(
        json!({ann::ISSUER: "ca"}),
        json!([
            {"secretName": "no-hosts"},
            {"hosts": ["x.example"]},
            {"hosts": ["ok.example"], "secretName": "ok"},
        ]),
    );
    let p = plan(&ing, &[]);
    assert_eq!(
        p.warnings,
        [
            "Skipped a TLS block: spec.tls[0].hosts: Required value",
            "Skipped a TLS block: spec.tls[1].secretName: Required value",
        ]
    );
    assert_eq!(p.create.len(), 1);
    assert_eq!(p.create[0].name_any(), "ok");

    let dup = ingress(
        json!({ann::ISSUER: "ca"}),
        json!([
            {"hosts": ["a.example"], "secretName": "same"},
            {"hosts": ["b.example"], "secretName": "same"},
        ]),
    );
    let p = plan(&dup, &[]);
    assert_eq!(
        p.warnings,
        [
            "spec.tls[0].secretName: Invalid value: \"same\": this secret name must only appear in a single TLS entry but is also used in spec.tls[1].secretName"
        ]
    );
    assert!(p.create.is_empty());
}

#[test]
fn up_to_date_certificates_are_left_alone_and_changes_update_them() {
    let ing = ingress(json!({ann::ISSUER: "ca"}), two_entries());
    let existing: Vec<Certificate> = plan(&ing, &[]).create.iter().map(created).collect();
    let p = plan(&ing, &existing);
    assert!(
        p.create.is_empty() && p.update.is_empty() && p.delete.is_empty(),
        "{p:?}"
    );

    // Fields cert-manager's certNeedsUpdate ignores change nothing by themselves.
    let ignored = ingress(
        json!({ann::ISSUER: "ca", ann::RENEW_BEFORE_PERCENTAGE: "30"}),
        two_entries(),
    );
    let p = plan(&ignored, &existing);
    assert!(p.update.is_empty(), "{p:?}");

    // New hosts for one and a renew-before for both: both updated, resourceVersion kept,
    // and an update writes the whole wanted spec (the percentage too).
    let changed = ingress(
        json!({ann::ISSUER: "ca", ann::RENEW_BEFORE: "10m", ann::RENEW_BEFORE_PERCENTAGE: "30"}),
        json!([
            {"hosts": ["a.example"], "secretName": "a-tls"},
            {"hosts": ["b.example", "10.0.0.7"], "secretName": "b-tls"},
        ]),
    );
    let p = plan(&changed, &existing);
    assert_eq!(p.update.len(), 2);
    let a = &p.update[0].replace;
    assert_eq!(a.metadata.resource_version.as_deref(), Some("7"));
    assert_eq!(a.spec.dns_names.as_deref().unwrap(), ["a.example"]);
    assert_eq!(a.spec.renew_before_percentage, Some(30));
    assert_eq!(p.update[0].apply.metadata.resource_version, None);
}

#[test]
fn dropped_entries_delete_only_certificates_this_ingress_controls() {
    let ing = ingress(
        json!({ann::ISSUER: "ca"}),
        json!([{"hosts": ["a.example"], "secretName": "a-tls"}]),
    );
    let a = created(&plan(&ing, &[]).create[0]);
    let dropped = certificate("b-tls", "b-tls", Some(UID));
    let other_owner = certificate("c-tls", "c-tls", Some("someone-else"));
    let unowned = certificate("d-tls", "d-tls", None);
    let p = plan(&ing, &[a, dropped, other_owner, unowned]);
    let deleted: Vec<String> = p.delete.iter().map(|c| c.name_any()).collect();
    assert_eq!(deleted, ["b-tls"]);
}

#[test]
fn certificates_not_controlled_by_the_ingress_are_never_changed() {
    let ing = ingress(
        json!({ann::ISSUER: "ca"}),
        json!([
            {"hosts": ["a.example"], "secretName": "a-tls"},
            {"hosts": ["b.example"], "secretName": "b-tls"},
        ]),
    );
    let p = plan(
        &ing,
        &[
            certificate("a-tls", "a-tls", None),
            certificate("b-tls", "b-tls", Some("someone-else")),
        ],
    );
    assert!(p.create.is_empty() && p.update.is_empty() && p.delete.is_empty());
    assert_eq!(
        p.warnings,
        [
            "Certificate \"a-tls\" for spec.tls[0].secretName already exists and is not controlled by this Ingress; leaving it unchanged",
            "Certificate \"b-tls\" for spec.tls[1].secretName already exists and is not controlled by this Ingress; leaving it unchanged",
        ]
    );
}

#[test]
fn acme_hints_and_extra_annotations_become_certificate_annotations() {
    let mut cfg = cfg();
    cfg.extra_certificate_annotations = vec!["team".into(), "absent".into()];
    let ing = ingress(
        json!({
            ann::ISSUER: "acme",
            ann::HTTP01_EDIT_IN_PLACE: "true",
            ann::HTTP01_INGRESS_CLASS: "nginx",
            ann::HTTP01_INGRESS_CLASS_NAME: "",
            "team": "payments",
        }),
        json!([{"hosts": ["a.example"], "secretName": "a-tls"}]),
    );
    let p = plan_with(&ing, &cfg, &[]);
    let want: BTreeMap<String, String> = [
        (ann::HTTP01_OVERRIDE_INGRESS_NAME, "web"),
        (ann::ISSUE_TEMPORARY_CERTIFICATE, "true"),
        (ann::HTTP01_OVERRIDE_INGRESS_CLASS, "nginx"),
        ("team", "payments"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(p.create[0].annotations(), &want);

    // A missing hint alone causes no update (as cert-manager); an update for another
    // reason adds the hints and keeps the Certificate's own annotations.
    let mut existing = created(&p.create[0]);
    existing.metadata.annotations = Some(BTreeMap::from([("mine".into(), "x".into())]));
    assert!(
        plan_with(&ing, &cfg, std::slice::from_ref(&existing))
            .update
            .is_empty()
    );
    existing.spec.dns_names = Some(vec!["old.example".into()]);
    let p = plan_with(&ing, &cfg, &[existing]);
    let updated = p.update[0].replace.annotations();
    assert_eq!(updated["mine"], "x");
    assert_eq!(updated[ann::HTTP01_OVERRIDE_INGRESS_CLASS], "nginx");
}

#[test]
fn applyset_label_is_not_copied() {
    let mut ing = ingress(json!({ann::ISSUER: "ca"}), two_entries());
    ing.metadata.labels = Some(BTreeMap::from([(
        "applyset.kubernetes.io/part-of".into(),
        "set".into(),
    )]));
    let p = plan(&ing, &[]);
    assert_eq!(p.create[0].metadata.labels, None);
    // And no update loop from "no labels" versus "empty labels".
    let existing: Vec<Certificate> = p.create.iter().map(created).collect();
    assert!(plan(&ing, &existing).update.is_empty());
}

#[test]
fn ingresses_being_deleted_are_skipped() {
    let mut ing = ingress(json!({ann::ISSUER: "ca"}), two_entries());
    ing.metadata.finalizers = Some(vec!["foregroundDeletion".into()]);
    assert!(plan(&ing, &[]).create.is_empty());
}

#[test]
fn duplicate_hosts_are_dropped() {
    let ing = ingress(
        json!({ann::ISSUER: "ca", ann::ALT_NAMES: "extra.example"}),
        json!([{"hosts": ["a.example", "a.example", "::1"], "secretName": "a-tls"}]),
    );
    let crt = &plan(&ing, &[]).create[0];
    assert_eq!(
        crt.spec.dns_names.as_deref().unwrap(),
        ["a.example", "extra.example"]
    );
    assert_eq!(crt.spec.ip_addresses.as_deref().unwrap(), ["::1"]);
}

#[test]
fn ed25519_key_size_changes_do_not_update() {
    let ing = ingress(
        json!({ann::ISSUER: "ca", ann::PRIVATE_KEY_ALGORITHM: "Ed25519"}),
        json!([{"hosts": ["a.example"], "secretName": "a-tls"}]),
    );
    let mut existing = created(&plan(&ing, &[]).create[0]);
    existing.spec.private_key.as_mut().unwrap().size = Some(256);
    assert!(plan(&ing, &[existing]).update.is_empty());
}

#[test]
fn cache_keeps_only_what_the_shim_reads() {
    let mut ing: Ingress = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "ns", "annotations": {"a": "b"},
                     "managedFields": [{"manager": "kubectl"}]},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "a.example"}],
            "tls": [{"hosts": ["a.example"], "secretName": "a-tls"}],
        },
        "status": {"loadBalancer": {}},
    }))
    .unwrap();
    super::trim_cached(&mut ing);
    assert_eq!(
        serde_json::to_value(&ing).unwrap(),
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "ns", "annotations": {"a": "b"}},
            "spec": {"tls": [{"hosts": ["a.example"], "secretName": "a-tls"}]},
        })
    );
}

#[test]
fn certificates_map_to_their_controlling_ingress() {
    let owned = certificate("a-tls", "a-tls", Some(UID));
    assert_eq!(
        super::controlling_ingress(&owned).as_deref(),
        Some("ns/web")
    );
    assert_eq!(
        super::controlling_ingress(&certificate("x", "x", None)),
        None
    );
}

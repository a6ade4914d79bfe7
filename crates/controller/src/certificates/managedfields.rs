//! What the issuing controller's field manager owns on a Secret, read from its
//! `managedFields` (FieldsV1). cert-manager compares this with the Certificate to find
//! metadata and outputs it wrote earlier but no longer wants (a label dropped from the
//! secretTemplate, an additional output format removed): re-applying the Secret then removes
//! them, because server-side apply drops the fields a manager stops applying.
//!
//! The owned Secret cache keeps only this manager's entries ([`retain_issuing`]), a few hundred
//! bytes per Secret, and strips every other manager's.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;

/// The field manager the issuing controller applies Secrets with (cert-manager's name, so
/// that Secrets it issued are recognised after a takeover).
pub const ISSUING_FIELD_MANAGER: &str = "cert-manager-certificates-issuing";

/// Drops every `managedFields` entry except the issuing controller's.
pub fn retain_issuing(secret: &mut Secret) {
    let Some(entries) = secret.metadata.managed_fields.as_mut() else {
        return;
    };
    entries.retain(|e| e.manager.as_deref() == Some(ISSUING_FIELD_MANAGER));
    if entries.is_empty() {
        secret.metadata.managed_fields = None;
    }
}

/// The keys the issuing controller's field manager owns on a Secret.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Owned {
    pub labels: BTreeSet<String>,
    pub annotations: BTreeSet<String>,
    pub data: BTreeSet<String>,
    /// UIDs of the owner references it owns.
    pub owner_uids: BTreeSet<String>,
}

impl Owned {
    pub fn of(secret: &Secret) -> Self {
        let mut owned = Self::default();
        for entry in secret.metadata.managed_fields.iter().flatten() {
            if entry.manager.as_deref() != Some(ISSUING_FIELD_MANAGER) {
                continue;
            }
            let Some(fields) = entry.fields_v1.as_ref() else {
                continue;
            };
            let metadata = &fields.0["f:metadata"];
            owned.labels.extend(field_names(&metadata["f:labels"]));
            owned
                .annotations
                .extend(field_names(&metadata["f:annotations"]));
            owned.data.extend(field_names(&fields.0["f:data"]));
            owned
                .owner_uids
                .extend(owner_uids(&metadata["f:ownerReferences"]));
        }
        owned
    }
}

/// The names of a FieldsV1 object's `f:<name>` members.
fn field_names(set: &Value) -> impl Iterator<Item = String> + '_ {
    set.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("f:").map(str::to_owned))
}

/// The `uid`s of a FieldsV1 list's `k:{"uid":"..."}` members (owner references are a map list
/// keyed by uid).
fn owner_uids(set: &Value) -> impl Iterator<Item = String> + '_ {
    set.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("k:"))
        .filter_map(|key| serde_json::from_str::<Value>(key).ok())
        .filter_map(|key| key["uid"].as_str().map(str::to_owned))
}

/// Whether a label or annotation key is cert-manager's own (not from a secretTemplate).
pub fn is_cert_manager_key(key: &str) -> bool {
    key.starts_with("cert-manager.io/") || key.starts_with("controller.cert-manager.io/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
    use serde_json::json;

    fn entry(manager: &str, fields: Value) -> ManagedFieldsEntry {
        ManagedFieldsEntry {
            manager: Some(manager.into()),
            operation: Some("Apply".into()),
            fields_type: Some("FieldsV1".into()),
            fields_v1: Some(FieldsV1(fields)),
            ..Default::default()
        }
    }

    fn secret(entries: Vec<ManagedFieldsEntry>) -> Secret {
        let mut s = Secret::default();
        s.metadata.managed_fields = Some(entries);
        s
    }

    #[test]
    fn reads_what_the_issuing_manager_owns() {
        let s = secret(vec![
            entry(
                ISSUING_FIELD_MANAGER,
                json!({
                    "f:data": {"f:tls.crt": {}, "f:tls.key": {}, "f:tls-combined.pem": {}},
                    "f:metadata": {
                        "f:labels": {"f:controller.cert-manager.io/fao": {}, "f:team": {}},
                        "f:annotations": {"f:cert-manager.io/common-name": {}},
                        "f:ownerReferences": {"k:{\"uid\":\"u-1\"}": {}},
                    },
                    "f:type": {},
                }),
            ),
            entry(
                "kubectl",
                json!({"f:metadata": {"f:labels": {"f:other": {}}}}),
            ),
        ]);
        let owned = Owned::of(&s);
        assert_eq!(
            owned.labels,
            BTreeSet::from(["controller.cert-manager.io/fao".into(), "team".into()])
        );
        assert_eq!(
            owned.annotations,
            BTreeSet::from(["cert-manager.io/common-name".into()])
        );
        assert!(owned.data.contains("tls-combined.pem") && owned.data.len() == 3);
        assert_eq!(owned.owner_uids, BTreeSet::from(["u-1".into()]));
    }

    #[test]
    fn the_issuing_controller_applies_with_this_manager() {
        assert_eq!(
            crate::context::Context::field_manager(crate::certificates::issuing::NAME),
            ISSUING_FIELD_MANAGER
        );
    }

    #[test]
    fn retain_keeps_only_the_issuing_entries() {
        let mut s = secret(vec![
            entry("kubectl", json!({})),
            entry(ISSUING_FIELD_MANAGER, json!({})),
        ]);
        retain_issuing(&mut s);
        assert_eq!(s.metadata.managed_fields.as_ref().unwrap().len(), 1);
        let mut none = secret(vec![entry("kubectl", json!({}))]);
        retain_issuing(&mut none);
        assert!(none.metadata.managed_fields.is_none());
        assert_eq!(Owned::of(&none), Owned::default());
    }
}

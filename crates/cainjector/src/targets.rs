//! The injectable kinds, as the cainjector caches them: each type decodes only the object's
//! name, its injection annotations and the `caBundle` fields it patches, so a CRD's schema or a
//! webhook's rules never reach the heap (serde skips unknown fields while decoding).

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::core::ClusterResourceScope;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::annotations::{TARGET_ANNOTATIONS, retain_annotations};

/// The four kinds of injectable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    ValidatingWebhookConfiguration,
    MutatingWebhookConfiguration,
    CustomResourceDefinition,
    APIService,
}

impl TargetKind {
    pub fn kind(self) -> &'static str {
        match self {
            Self::ValidatingWebhookConfiguration => "ValidatingWebhookConfiguration",
            Self::MutatingWebhookConfiguration => "MutatingWebhookConfiguration",
            Self::CustomResourceDefinition => "CustomResourceDefinition",
            Self::APIService => "APIService",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Self::ValidatingWebhookConfiguration | Self::MutatingWebhookConfiguration => {
                "admissionregistration.k8s.io/v1"
            }
            Self::CustomResourceDefinition => "apiextensions.k8s.io/v1",
            Self::APIService => "apiregistration.k8s.io/v1",
        }
    }
}

/// One target object: its kind and (cluster-scoped) name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetRef {
    pub kind: TargetKind,
    pub name: String,
}

impl fmt::Display for TargetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.kind(), self.name)
    }
}

/// What the injector needs of a cached target.
pub trait Target:
    kubeclient::Cacheable
    + Resource<DynamicType = (), Scope = ClusterResourceScope>
    + Clone
    + fmt::Debug
{
    const KIND: TargetKind;

    /// The current value of every `caBundle` field the cainjector sets (empty when unset), in
    /// a fixed order. No fields: nothing to inject into (e.g. a CRD without a conversion webhook).
    fn ca_bundles(&self) -> Vec<&[u8]>;

    /// The server-side apply body that sets those fields to `bundles` (same order) and nothing
    /// else.
    fn apply_body(&self, bundles: &[Vec<u8>]) -> Value;

    fn target_ref(&self) -> TargetRef {
        TargetRef {
            kind: Self::KIND,
            name: self.meta().name.clone().unwrap_or_default(),
        }
    }
}

/// The cache transform of every target: the name, resourceVersion, uid (for events), deletion
/// timestamp and the injection annotations stay; the rest of the metadata goes.
pub fn trim_metadata<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    let mut annotations = meta.annotations.take();
    retain_annotations(&mut annotations, &TARGET_ANNOTATIONS);
    *meta = ObjectMeta {
        name: meta.name.take(),
        resource_version: meta.resource_version.take(),
        uid: meta.uid.take(),
        deletion_timestamp: meta.deletion_timestamp.take(),
        annotations,
        ..ObjectMeta::default()
    };
}

/// `clientConfig` with the one field we read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    #[serde(default)]
    pub ca_bundle: Option<ByteString>,
}

impl ClientConfig {
    fn bundle(&self) -> &[u8] {
        self.ca_bundle
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or(&[])
    }
}

/// One webhook of a webhook configuration: its name (the list key) and `caBundle`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub client_config: ClientConfig,
}

/// `kube::Resource` for a cluster-scoped type with a `metadata` field, plus `Cacheable`.
macro_rules! cluster_resource {
    ($t:ty, $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        impl Resource for $t {
            type DynamicType = ();
            type Scope = ClusterResourceScope;
            fn kind(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }
            fn group(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($group)
            }
            fn version(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($version)
            }
            fn plural(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
        kubeclient::cacheable!($t);
    };
}

/// A webhook configuration type: every `webhooks[].clientConfig.caBundle` is injected.
macro_rules! webhook_configuration {
    ($(#[$doc:meta])* $t:ident, $kind:literal, $plural:literal, $target:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, Deserialize)]
        pub struct $t {
            #[serde(default)]
            pub metadata: ObjectMeta,
            #[serde(default)]
            pub webhooks: Option<Vec<Webhook>>,
        }

        cluster_resource!($t, "admissionregistration.k8s.io", "v1", $kind, $plural);

        impl Target for $t {
            const KIND: TargetKind = $target;

            fn ca_bundles(&self) -> Vec<&[u8]> {
                self.webhooks
                    .iter()
                    .flatten()
                    .map(|w| w.client_config.bundle())
                    .collect()
            }

            fn apply_body(&self, bundles: &[Vec<u8>]) -> Value {
                // `webhooks` is a list keyed by name: naming each entry is enough for the
                // server to merge our caBundle into it.
                let webhooks: Vec<Value> = self
                    .webhooks
                    .iter()
                    .flatten()
                    .zip(bundles)
                    .map(|(w, b)| {
                        json!({"name": w.name, "clientConfig": {"caBundle": ByteString(b.clone())}})
                    })
                    .collect();
                json!({
                    "apiVersion": Self::KIND.api_version(),
                    "kind": $kind,
                    "metadata": {"name": self.metadata.name},
                    "webhooks": webhooks,
                })
            }
        }
    };
}

webhook_configuration!(
    /// A ValidatingWebhookConfiguration as cached.
    ValidatingWebhooks,
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    TargetKind::ValidatingWebhookConfiguration
);
webhook_configuration!(
    /// A MutatingWebhookConfiguration as cached.
    MutatingWebhooks,
    "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations",
    TargetKind::MutatingWebhookConfiguration
);

/// A CustomResourceDefinition as cached: only `spec.conversion` (strategy and the webhook's
/// `caBundle`), never the versions and their schemas.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CrdConversion {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CrdSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CrdSpec {
    #[serde(default)]
    pub conversion: Option<Conversion>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversion {
    #[serde(default)]
    pub strategy: String,
    #[serde(default)]
    pub webhook: Option<WebhookConversion>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConversion {
    #[serde(default)]
    pub client_config: Option<ClientConfig>,
}

cluster_resource!(
    CrdConversion,
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions"
);

impl Target for CrdConversion {
    const KIND: TargetKind = TargetKind::CustomResourceDefinition;

    /// Only CRDs converted by a webhook have a `caBundle` to set (as upstream).
    fn ca_bundles(&self) -> Vec<&[u8]> {
        match &self.spec.conversion {
            Some(c) if c.strategy == "Webhook" => {
                let config = c.webhook.as_ref().and_then(|w| w.client_config.as_ref());
                vec![config.map(ClientConfig::bundle).unwrap_or(&[])]
            }
            _ => Vec::new(),
        }
    }

    fn apply_body(&self, bundles: &[Vec<u8>]) -> Value {
        let bundle = bundles.first().cloned().unwrap_or_default();
        json!({
            "apiVersion": Self::KIND.api_version(),
            "kind": Self::KIND.kind(),
            "metadata": {"name": self.metadata.name},
            "spec": {"conversion": {"webhook": {"clientConfig": {"caBundle": ByteString(bundle)}}}},
        })
    }
}

/// An APIService as cached: `spec.caBundle` only.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiServiceCa {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ApiServiceSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServiceSpec {
    #[serde(default)]
    pub ca_bundle: Option<ByteString>,
}

cluster_resource!(
    ApiServiceCa,
    "apiregistration.k8s.io",
    "v1",
    "APIService",
    "apiservices"
);

impl Target for ApiServiceCa {
    const KIND: TargetKind = TargetKind::APIService;

    fn ca_bundles(&self) -> Vec<&[u8]> {
        vec![
            self.spec
                .ca_bundle
                .as_ref()
                .map(|b| b.0.as_slice())
                .unwrap_or(&[]),
        ]
    }

    fn apply_body(&self, bundles: &[Vec<u8>]) -> Value {
        let bundle = bundles.first().cloned().unwrap_or_default();
        json!({
            "apiVersion": Self::KIND.api_version(),
            "kind": Self::KIND.kind(),
            "metadata": {"name": self.metadata.name},
            "spec": {"caBundle": ByteString(bundle)},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_decodes_without_schema_and_only_webhook_conversion_counts() {
        let crd: CrdConversion = serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "a.example.com", "labels": {"x": "y"},
                         "annotations": {"cert-manager.io/inject-ca-from": "ns/c", "big": "z"},
                         "managedFields": [{"manager": "m"}]},
            "spec": {"group": "example.com", "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}}],
                     "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
                                    "clientConfig": {"caBundle": "Zm9v", "url": "https://x"}}}},
        }))
        .unwrap();
        assert_eq!(crd.ca_bundles(), vec![b"foo".as_slice()]);
        let mut trimmed = crd.clone();
        trim_metadata(&mut trimmed);
        assert_eq!(trimmed.metadata.labels, None);
        assert_eq!(trimmed.metadata.managed_fields, None);
        assert_eq!(
            trimmed
                .metadata
                .annotations
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["cert-manager.io/inject-ca-from"]
        );
        let body = crd.apply_body(&[b"bar".to_vec()]);
        assert_eq!(
            body["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"],
            "YmFy"
        );
        assert_eq!(body["metadata"], json!({"name": "a.example.com"}));

        let none: CrdConversion = serde_json::from_value(json!({
            "metadata": {"name": "b"}, "spec": {"conversion": {"strategy": "None"}}
        }))
        .unwrap();
        assert!(none.ca_bundles().is_empty());
    }

    #[test]
    fn webhook_configuration_sets_each_webhook_by_name() {
        let vwc: ValidatingWebhooks = serde_json::from_value(json!({
            "metadata": {"name": "v"},
            "webhooks": [
                {"name": "a", "clientConfig": {"service": {"name": "s"}}, "rules": []},
                {"name": "b", "clientConfig": {"caBundle": "Zm9v"}},
            ],
        }))
        .unwrap();
        assert_eq!(vwc.ca_bundles(), vec![b"".as_slice(), b"foo".as_slice()]);
        let body = vwc.apply_body(&[b"x".to_vec(), b"y".to_vec()]);
        assert_eq!(
            body,
            json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingWebhookConfiguration",
                "metadata": {"name": "v"},
                "webhooks": [
                    {"name": "a", "clientConfig": {"caBundle": "eA=="}},
                    {"name": "b", "clientConfig": {"caBundle": "eQ=="}},
                ],
            })
        );
        // A bookmark (no webhooks at all) decodes too.
        let bookmark: MutatingWebhooks =
            serde_json::from_value(json!({"metadata": {"resourceVersion": "5"}})).unwrap();
        assert!(bookmark.ca_bundles().is_empty());
    }

    #[test]
    fn apiservice_body() {
        let svc: ApiServiceCa = serde_json::from_value(json!({
            "metadata": {"name": "v1.example.com"},
            "spec": {"group": "example.com", "groupPriorityMinimum": 1, "versionPriority": 1},
        }))
        .unwrap();
        assert_eq!(svc.ca_bundles(), vec![b"".as_slice()]);
        assert_eq!(
            svc.apply_body(&[b"foo".to_vec()])["spec"],
            json!({"caBundle": "Zm9v"})
        );
    }
}

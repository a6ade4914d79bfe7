//! The controller's Secret caches, as cert-manager's `SecretsFilteredCaching` arranges them:
//! Secrets it owns (label `controller.cert-manager.io/fao=true`) in full, every other Secret
//! metadata-only with labels and annotations stripped (name, namespace and UID are all the
//! controller needs to know they exist; it reads them live when an issuer references one).

use std::sync::Arc;

use featuregates::FeatureGates;
use featuregates::certmanager::SECRETS_FILTERED_CACHING;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::core::PartialObjectMeta;
use kubeclient::gates::WATCH_LIST_CLIENT;
use kubeclient::{Informer, WatchConfig, strip_managed_fields};

/// The label cert-manager puts on every Secret it writes ("for attention of").
pub const FAO_LABEL: &str = "controller.cert-manager.io/fao";

pub enum SecretCaches {
    /// SecretsFilteredCaching on: owned Secrets in full, the rest metadata-only.
    Filtered {
        owned: Informer<Secret>,
        others: Informer<PartialObjectMeta<Secret>>,
    },
    /// Gate off: every Secret in full (cert-manager's behaviour before 1.12).
    All(Informer<Secret>),
}

impl SecretCaches {
    pub fn start(client: Client, gates: &FeatureGates, namespace: Option<&str>) -> Self {
        let streaming = gates.enabled(WATCH_LIST_CLIENT);
        let config = |name: &str| WatchConfig::new(name, streaming).namespace(namespace);
        if !gates.enabled(SECRETS_FILTERED_CACHING) {
            return Self::All(Informer::spawn(client, config("secrets")));
        }
        let owned = Informer::spawn(
            client.clone(),
            config("secrets-owned").labels(format!("{FAO_LABEL}=true")),
        );
        let others = Informer::spawn_with_transform(
            client,
            config("secrets-metadata").labels(format!("!{FAO_LABEL}")),
            |s: &mut PartialObjectMeta<Secret>| {
                strip_managed_fields(s);
                s.metadata.labels = None;
                s.metadata.annotations = None;
            },
        );
        Self::Filtered { owned, others }
    }

    pub async fn wait_until_synced(&self) {
        match self {
            Self::Filtered { owned, others } => {
                owned.wait_until_synced().await;
                others.wait_until_synced().await;
            }
            Self::All(all) => all.wait_until_synced().await,
        }
    }
}

/// Why a Secret could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading Secret {namespace}/{name}: {source}")]
pub struct SecretReadError {
    namespace: String,
    name: String,
    source: kube::Error,
}

impl SecretCaches {
    /// A Secret with its data, as cert-manager's filtered Secret lister returns it: from the
    /// full cache when cert-manager owns it, by a live GET when only its metadata is cached
    /// (issuer credentials, CA Secrets), `None` when it does not exist.
    pub async fn get(
        &self,
        client: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<Secret>>, SecretReadError> {
        match self {
            Self::All(all) => Ok(all.store().get_by_name(Some(namespace), name)),
            Self::Filtered { owned, others } => {
                let in_owned = owned.store().get_by_name(Some(namespace), name);
                let in_others = others.store().get_by_name(Some(namespace), name).is_some();
                match (in_owned, in_others) {
                    (Some(secret), false) => Ok(Some(secret)),
                    (None, false) => Ok(None),
                    (in_owned, true) => {
                        if in_owned.is_some() {
                            tracing::debug!(namespace, name, "Secret in both caches (label changed); reading it live");
                        }
                        self.get_live(client, namespace, name).await
                    }
                }
            }
        }
    }

    /// Whether a Secret of that name exists, per the caches (no request).
    pub fn exists(&self, namespace: &str, name: &str) -> bool {
        match self {
            Self::All(all) => all.store().get_by_name(Some(namespace), name).is_some(),
            Self::Filtered { owned, others } => {
                owned.store().get_by_name(Some(namespace), name).is_some()
                    || others.store().get_by_name(Some(namespace), name).is_some()
            }
        }
    }

    /// The Secrets cert-manager owns (`fao` label) or, with the gate off, all Secrets.
    pub fn owned_store(&self) -> &kubeclient::Store<Secret> {
        match self {
            Self::All(all) => all.store(),
            Self::Filtered { owned, .. } => owned.store(),
        }
    }

    /// Keys (`namespace/name`) of Secrets that are not owned: only their existence is cached.
    pub fn unowned_keys_store(&self) -> Option<&kubeclient::Store<PartialObjectMeta<Secret>>> {
        match self {
            Self::All(_) => None,
            Self::Filtered { others, .. } => Some(others.store()),
        }
    }

    async fn get_live(
        &self,
        client: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<Secret>>, SecretReadError> {
        let api: kube::Api<Secret> = kube::Api::namespaced(client.clone(), namespace);
        api.get_opt(name)
            .await
            .map(|s| s.map(Arc::new))
            .map_err(|source| SecretReadError {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                source,
            })
    }
}

//! The controller's Secret caches, as cert-manager's `SecretsFilteredCaching` arranges them:
//! Secrets it owns (label `controller.cert-manager.io/fao=true`) in full, every other Secret
//! metadata-only with labels and annotations stripped (name, namespace and UID are all the
//! controller needs to know they exist; it reads them live when an issuer references one).

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

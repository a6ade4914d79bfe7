//! A running cache: a [`Store`] plus the task that keeps it in step with the API server.

use std::sync::Arc;

use k8s_openapi::api::{
    admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration},
    coordination::v1::Lease,
    core::v1::{ConfigMap, Namespace, Pod, Secret, Service},
    networking::v1::Ingress,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::core::PartialObjectMeta;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use crate::store::{Store, Subscription};
use crate::watcher::{WatchConfig, Watcher};

/// A type a cache can hold. Full objects are requested as JSON; `PartialObjectMeta<K>` is
/// requested metadata-only (the server sends `PartialObjectMetadata`, never the payload).
pub trait Cacheable: kube::Resource + DeserializeOwned + Send + Sync + 'static {
    const METADATA_ONLY: bool;
    /// The collection path, e.g. `/api/v1/namespaces/ns/secrets`.
    fn collection_path(namespace: Option<&str>) -> String;
}

impl<K> Cacheable for PartialObjectMeta<K>
where
    K: kube::Resource + Send + Sync + 'static,
    K::DynamicType: Default,
{
    const METADATA_ONLY: bool = true;
    fn collection_path(namespace: Option<&str>) -> String {
        K::url_path(&Default::default(), namespace)
    }
}

/// Implement [`Cacheable`] (full objects) for types with a static `DynamicType`.
#[macro_export]
macro_rules! cacheable {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::Cacheable for $t {
            const METADATA_ONLY: bool = false;
            fn collection_path(namespace: Option<&str>) -> String {
                <$t as ::kube::Resource>::url_path(&(), namespace)
            }
        }
    )*};
}

cacheable!(
    Secret,
    ConfigMap,
    Namespace,
    Pod,
    Service,
    Ingress,
    Lease,
    ValidatingWebhookConfiguration,
    MutatingWebhookConfiguration,
    CustomResourceDefinition,
    api::Certificate,
    api::CertificateRequest,
    api::Issuer,
    api::ClusterIssuer,
    api::Order,
    api::Challenge,
);

/// Drops the fields no consumer of the cache reads; `managedFields` is often half of the metadata.
pub fn strip_managed_fields<K: kube::Resource>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
}

/// A cache of one kind of object, kept up to date by a background task.
pub struct Informer<K: Cacheable> {
    store: Store<K>,
    task: JoinHandle<()>,
}

impl<K: Cacheable> Informer<K> {
    /// Start watching with the default transform (drop `managedFields`).
    pub fn spawn(client: Client, cfg: WatchConfig) -> Self {
        Self::spawn_with_transform(client, cfg, strip_managed_fields::<K>)
    }

    /// Start watching; `transform` runs on every object before it is stored, so callers decide
    /// what stays in memory (it should also drop `managedFields`, see [`strip_managed_fields`]).
    pub fn spawn_with_transform(
        client: Client,
        cfg: WatchConfig,
        transform: impl Fn(&mut K) + Send + Sync + 'static,
    ) -> Self {
        let store = Store::new();
        let url_path = K::collection_path(cfg.namespace.as_deref());
        let watcher = Watcher::new(
            client,
            url_path,
            K::METADATA_ONLY,
            cfg,
            store.clone(),
            Arc::new(transform),
        );
        let task = tokio::spawn(watcher.run());
        Self { store, task }
    }

    pub fn store(&self) -> &Store<K> {
        &self.store
    }

    pub async fn wait_until_synced(&self) {
        self.store.wait_until_synced().await
    }

    pub fn subscribe(&self) -> Subscription<K> {
        self.store.subscribe()
    }
}

impl<K: Cacheable> Drop for Informer<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

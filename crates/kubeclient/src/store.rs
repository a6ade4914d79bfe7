//! The cache's object store: `Arc` objects keyed by `namespace/name`, relisted in place.
//!
//! A relist (initial sync, 410 Gone, fallback) never builds a second map: every object seen
//! during the relist is upserted and stamped with the relist's epoch, and when the relist ends
//! the entries still carrying an older stamp are the ones deleted on the server meanwhile.
//! Peak memory therefore stays at one store plus one in-flight object (kube-rs #1209 is the
//! double-buffer problem this avoids).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kube::Resource;
use tokio::sync::{broadcast, watch};

/// What happened to the cache, delivered to subscribers (controllers).
#[derive(Debug)]
pub enum CacheEvent<K> {
    /// The object was added or changed (a relist re-delivering an unchanged object is not an event).
    Applied(Arc<K>),
    /// The object was deleted (its last known state).
    Deleted(Arc<K>),
    /// The subscriber fell behind and missed events: it must re-read the whole store.
    Resync,
}

impl<K> Clone for CacheEvent<K> {
    fn clone(&self) -> Self {
        match self {
            Self::Applied(o) => Self::Applied(o.clone()),
            Self::Deleted(o) => Self::Deleted(o.clone()),
            Self::Resync => Self::Resync,
        }
    }
}

/// The cache key of an object, as client-go's `MetaNamespaceKeyFunc`: `namespace/name` or `name`.
pub fn key_of<K: Resource>(obj: &K) -> String {
    let meta = obj.meta();
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// The key for a namespaced or cluster-scoped name.
pub fn key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

struct Entry<K> {
    obj: Arc<K>,
    /// The relist epoch in which this object was last seen.
    epoch: u64,
}

/// Shared, read-mostly view of the objects of one watch.
pub struct Store<K> {
    inner: Arc<Shared<K>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Shared<K> {
    map: RwLock<HashMap<String, Entry<K>>>,
    events: broadcast::Sender<CacheEvent<K>>,
    synced: watch::Sender<bool>,
}

impl<K: Resource + Send + Sync + 'static> Store<K> {
    /// Subscribers that lag by more than this many events get a [`CacheEvent::Resync`].
    const EVENT_BUFFER: usize = 4096;

    pub(crate) fn new() -> Self {
        let (events, _) = broadcast::channel(Self::EVENT_BUFFER);
        let (synced, _) = watch::channel(false);
        Self {
            inner: Arc::new(Shared {
                map: RwLock::new(HashMap::new()),
                events,
                synced,
            }),
        }
    }

    /// The object stored under `key` (see [`key`]).
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.read().get(key).map(|e| e.obj.clone())
    }

    /// The object `name` in `namespace` (None for cluster-scoped objects).
    pub fn get_by_name(&self, namespace: Option<&str>, name: &str) -> Option<Arc<K>> {
        self.get(&key(namespace, name))
    }

    /// All objects (cheap: clones `Arc`s only).
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().values().map(|e| e.obj.clone()).collect()
    }

    /// All objects matching `pred`.
    pub fn list_filtered(&self, mut pred: impl FnMut(&K) -> bool) -> Vec<Arc<K>> {
        self.read()
            .values()
            .filter(|e| pred(&e.obj))
            .map(|e| e.obj.clone())
            .collect()
    }

    /// All objects of one namespace.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.list_filtered(|o| o.meta().namespace.as_deref() == Some(namespace))
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once the first full list (streamed or paged) has been applied.
    pub fn is_synced(&self) -> bool {
        *self.inner.synced.borrow()
    }

    /// Resolves once the first full list has been applied.
    pub async fn wait_until_synced(&self) {
        let mut rx = self.inner.synced.subscribe();
        // The sender lives as long as the store, so this only fails if we are being dropped.
        let _ = rx.wait_for(|synced| *synced).await;
    }

    /// A stream of changes from now on. Read the store first, then apply events: an object may
    /// appear in both, which is harmless for level-triggered controllers.
    pub fn subscribe(&self) -> Subscription<K> {
        Subscription {
            rx: self.inner.events.subscribe(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Entry<K>>> {
        // A panic while holding the lock cannot leave the map half-updated (single inserts and
        // removes), so a poisoned lock is still a consistent map.
        self.inner.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry<K>>> {
        self.inner.map.write().unwrap_or_else(|p| p.into_inner())
    }

    fn emit(&self, event: CacheEvent<K>) {
        // No subscribers is fine: the store is still the source of truth.
        let _ = self.inner.events.send(event);
    }

    /// Upsert an object seen in relist `epoch` (or in the live watch, which uses the current
    /// epoch). Returns true if it was new or changed.
    pub(crate) fn apply(&self, obj: K, epoch: u64) -> bool {
        let key = key_of(&obj);
        let mut map = self.write();
        if let Some(entry) = map.get_mut(&key) {
            entry.epoch = epoch;
            let same = entry.obj.meta().resource_version.is_some()
                && entry.obj.meta().resource_version == obj.meta().resource_version;
            if same {
                return false;
            }
            let obj = Arc::new(obj);
            entry.obj = obj.clone();
            drop(map);
            self.emit(CacheEvent::Applied(obj));
            return true;
        }
        let obj = Arc::new(obj);
        map.insert(
            key,
            Entry {
                obj: obj.clone(),
                epoch,
            },
        );
        drop(map);
        self.emit(CacheEvent::Applied(obj));
        true
    }

    /// Remove an object deleted on the server.
    pub(crate) fn delete(&self, obj: &K) {
        let removed = self.write().remove(&key_of(obj));
        if let Some(entry) = removed {
            self.emit(CacheEvent::Deleted(entry.obj));
        }
    }

    /// Finish relist `epoch`: drop every object not seen in it, then mark the store synced.
    pub(crate) fn finish_relist(&self, epoch: u64) -> usize {
        let mut gone = Vec::new();
        {
            let mut map = self.write();
            map.retain(|_, e| {
                if e.epoch < epoch {
                    gone.push(e.obj.clone());
                    false
                } else {
                    true
                }
            });
        }
        let n = gone.len();
        for obj in gone {
            self.emit(CacheEvent::Deleted(obj));
        }
        self.inner.synced.send_replace(true);
        n
    }
}

/// A controller's view of cache changes.
pub struct Subscription<K> {
    rx: broadcast::Receiver<CacheEvent<K>>,
}

impl<K: Clone> Subscription<K> {
    /// The next change; `None` once the cache is gone. After a lag, yields one
    /// [`CacheEvent::Resync`] instead of the missed events.
    pub async fn recv(&mut self) -> Option<CacheEvent<K>> {
        match self.rx.recv().await {
            Ok(ev) => Some(ev),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(CacheEvent::Resync),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    fn cm(ns: &str, name: &str, rv: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                namespace: Some(ns.into()),
                name: Some(name.into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn relist_in_place_deletes_unseen_and_skips_unchanged() {
        let store = Store::<ConfigMap>::new();
        let mut sub = store.subscribe();
        assert!(store.apply(cm("a", "x", "1"), 1));
        assert!(store.apply(cm("a", "y", "2"), 1));
        assert_eq!(store.finish_relist(1), 0);
        assert!(store.is_synced());
        // Relist 2 sees x unchanged, y gone, z new.
        assert!(
            !store.apply(cm("a", "x", "1"), 2),
            "unchanged object is no event"
        );
        assert!(store.apply(cm("a", "z", "5"), 2));
        assert_eq!(store.finish_relist(2), 1);
        let keys: Vec<_> = {
            let mut k: Vec<_> = store.list().iter().map(|o| key_of(o.as_ref())).collect();
            k.sort();
            k
        };
        assert_eq!(keys, ["a/x", "a/z"]);
        let mut seen = Vec::new();
        while let Ok(Some(ev)) =
            tokio::time::timeout(std::time::Duration::from_millis(10), sub.recv()).await
        {
            seen.push(match ev {
                CacheEvent::Applied(o) => format!("+{}", key_of(o.as_ref())),
                CacheEvent::Deleted(o) => format!("-{}", key_of(o.as_ref())),
                CacheEvent::Resync => "resync".into(),
            });
        }
        assert_eq!(seen, ["+a/x", "+a/y", "+a/z", "-a/y"]);
    }

    #[tokio::test]
    async fn lagging_subscriber_gets_resync() {
        let store = Store::<ConfigMap>::new();
        let mut sub = store.subscribe();
        for i in 0..(Store::<ConfigMap>::EVENT_BUFFER + 10) {
            store.apply(cm("a", &format!("o{i}"), "1"), 1);
        }
        assert!(matches!(sub.recv().await, Some(CacheEvent::Resync)));
    }
}

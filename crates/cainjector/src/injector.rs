//! The injection controller: caches of targets and sources, an index from each source to the
//! targets that name it, a de-duplicating work queue and the reconcile of one target.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kubeclient::{CacheEvent, Informer, Store, Subscription, WatchConfig};
use tokio::sync::mpsc;

use crate::annotations::{CERTIFICATE_NAME, NamespacedName, SourceRequest, requested_source};
use crate::bundle;
use crate::events::Recorder;
use crate::sources::{CertificateSource, ReadError, Sources, trim_certificate};
use crate::targets::{
    ApiServiceCa, CrdConversion, MutatingWebhooks, Target, TargetKind, TargetRef,
    ValidatingWebhooks, trim_metadata,
};

/// The field manager of our apply patches: upstream's, so ownership carries over from it.
pub const FIELD_MANAGER: &str = "cert-manager-cainjector";
/// Page size for listing CRDs without WatchList: their schemas make pages large.
const CRD_PAGE_SIZE: u32 = 50;

/// What the operator configured.
#[derive(Clone, Debug)]
pub struct Settings {
    pub streaming: bool,
    pub namespace: String,
    pub ignore_namespaces: Vec<String>,
    pub certificates: bool,
    pub merging: bool,
    pub validating: bool,
    pub mutating: bool,
    pub crds: bool,
    pub apiservices: bool,
}

/// The caches; a disabled kind has none.
pub struct Caches {
    pub validating: Option<Informer<ValidatingWebhooks>>,
    pub mutating: Option<Informer<MutatingWebhooks>>,
    pub crds: Option<Informer<CrdConversion>>,
    pub apiservices: Option<Informer<ApiServiceCa>>,
    pub secrets: Informer<PartialObjectMeta<Secret>>,
    pub certificates: Option<Informer<CertificateSource>>,
}

fn target_informer<T: Target>(
    client: &kube::Client,
    enabled: bool,
    config: WatchConfig,
) -> Option<Informer<T>> {
    enabled.then(|| Informer::spawn_with_transform(client.clone(), config, trim_metadata::<T>))
}

impl Caches {
    pub fn spawn(client: &kube::Client, s: &Settings) -> Self {
        let watch = |name: &str| WatchConfig::new(name, s.streaming);
        let namespace = Some(s.namespace.as_str()).filter(|ns| !ns.is_empty());
        let mut crd_watch = watch("customresourcedefinitions");
        crd_watch.page_size = CRD_PAGE_SIZE;
        Self {
            validating: target_informer(
                client,
                s.validating,
                watch("validatingwebhookconfigurations"),
            ),
            mutating: target_informer(client, s.mutating, watch("mutatingwebhookconfigurations")),
            crds: target_informer(client, s.crds, crd_watch),
            apiservices: target_informer(client, s.apiservices, watch("apiservices")),
            // Secrets only ever metadata-only: unrelated Secrets cost their name and version.
            secrets: Informer::spawn_with_transform(
                client.clone(),
                watch("secrets-metadata").namespace(namespace),
                trim_secret,
            ),
            certificates: s.certificates.then(|| {
                Informer::spawn_with_transform(
                    client.clone(),
                    watch("certificates").namespace(namespace),
                    trim_certificate,
                )
            }),
        }
    }

    pub async fn wait_until_synced(&self) {
        if let Some(i) = &self.validating {
            i.wait_until_synced().await;
        }
        if let Some(i) = &self.mutating {
            i.wait_until_synced().await;
        }
        if let Some(i) = &self.crds {
            i.wait_until_synced().await;
        }
        if let Some(i) = &self.apiservices {
            i.wait_until_synced().await;
        }
        self.secrets.wait_until_synced().await;
        if let Some(i) = &self.certificates {
            i.wait_until_synced().await;
        }
    }
}

/// A Secret's metadata as cached: name, namespace, resourceVersion and the one annotation that
/// maps a Certificate's Secret to the Certificate.
fn trim_secret(s: &mut PartialObjectMeta<Secret>) {
    let meta = &mut s.metadata;
    let mut annotations = meta.annotations.take();
    crate::annotations::retain_annotations(&mut annotations, &[CERTIFICATE_NAME]);
    *meta = kube::api::ObjectMeta {
        name: meta.name.take(),
        namespace: meta.namespace.take(),
        resource_version: meta.resource_version.take(),
        annotations,
        ..Default::default()
    };
}

/// A source a target depends on, keyed by `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum SourceKey {
    Secret(NamespacedName),
    Certificate(NamespacedName),
}

/// Source → targets naming it, and back.
#[derive(Default)]
struct Index {
    targets: HashMap<SourceKey, HashSet<TargetRef>>,
    source: HashMap<TargetRef, SourceKey>,
}

impl Index {
    fn set(&mut self, target: &TargetRef, source: Option<SourceKey>) {
        if let Some(old) = self.source.remove(target)
            && let Some(set) = self.targets.get_mut(&old)
        {
            set.remove(target);
            if set.is_empty() {
                self.targets.remove(&old);
            }
        }
        if let Some(new) = source {
            self.targets
                .entry(new.clone())
                .or_default()
                .insert(target.clone());
            self.source.insert(target.clone(), new);
        }
    }

    fn of(&self, source: &SourceKey) -> Vec<TargetRef> {
        self.targets
            .get(source)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Target refs waiting for a reconcile; a ref already waiting is not queued twice.
struct Queue {
    pending: Mutex<HashSet<TargetRef>>,
    tx: mpsc::UnboundedSender<TargetRef>,
}

impl Queue {
    fn add(&self, target: TargetRef) {
        let new = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(target.clone());
        if new {
            let _ = self.tx.send(target);
        }
    }

    fn take(&self, target: &TargetRef) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(target);
    }
}

pub struct Injector {
    client: kube::Client,
    settings: Settings,
    sources: Sources,
    recorder: Recorder,
    validating: Option<Store<ValidatingWebhooks>>,
    mutating: Option<Store<MutatingWebhooks>>,
    crds: Option<Store<CrdConversion>>,
    apiservices: Option<Store<ApiServiceCa>>,
    index: Mutex<Index>,
    queue: Queue,
    /// Failed attempts per target (transient errors), for the retry backoff.
    failures: Mutex<HashMap<TargetRef, u32>>,
}

impl Injector {
    /// Runs until the caches are gone. The caches must have synced.
    pub async fn run(
        client: kube::Client,
        settings: Settings,
        caches: &Caches,
        apiserver_ca: Option<Vec<u8>>,
        instance: String,
    ) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let injector = Arc::new(Injector {
            sources: Sources {
                client: client.clone(),
                certificates: caches.certificates.as_ref().map(|i| i.store().clone()),
                apiserver_ca,
                namespace: settings.namespace.clone(),
                ignore_namespaces: settings.ignore_namespaces.clone(),
            },
            recorder: Recorder::new(client.clone(), instance),
            client,
            settings,
            validating: caches.validating.as_ref().map(|i| i.store().clone()),
            mutating: caches.mutating.as_ref().map(|i| i.store().clone()),
            crds: caches.crds.as_ref().map(|i| i.store().clone()),
            apiservices: caches.apiservices.as_ref().map(|i| i.store().clone()),
            index: Mutex::new(Index::default()),
            queue: Queue {
                pending: Mutex::new(HashSet::new()),
                tx,
            },
            failures: Mutex::new(HashMap::new()),
        });

        // Subscribe first, then index and queue everything: nothing falls in between.
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(i) = &caches.validating {
            tasks.spawn(injector.clone().follow_targets(i.subscribe()));
        }
        if let Some(i) = &caches.mutating {
            tasks.spawn(injector.clone().follow_targets(i.subscribe()));
        }
        if let Some(i) = &caches.crds {
            tasks.spawn(injector.clone().follow_targets(i.subscribe()));
        }
        if let Some(i) = &caches.apiservices {
            tasks.spawn(injector.clone().follow_targets(i.subscribe()));
        }
        tasks.spawn(injector.clone().follow_secrets(caches.secrets.subscribe()));
        if let Some(i) = &caches.certificates {
            tasks.spawn(injector.clone().follow_certificates(i.subscribe()));
        }
        injector.resync_all();

        // One worker: reconciles are a GET and at most one patch, and a single worker never
        // works on the same target twice at once.
        while let Some(target) = rx.recv().await {
            injector.queue.take(&target);
            injector.clone().reconcile_and_retry(target).await;
        }
        tasks.shutdown().await;
    }

    fn resync_all(&self) {
        if let Some(s) = &self.validating {
            self.resync(s);
        }
        if let Some(s) = &self.mutating {
            self.resync(s);
        }
        if let Some(s) = &self.crds {
            self.resync(s);
        }
        if let Some(s) = &self.apiservices {
            self.resync(s);
        }
    }

    /// Re-index and queue every target of one kind.
    fn resync<T: Target>(&self, store: &Store<T>) {
        for obj in store.list() {
            self.target_changed(obj.as_ref());
        }
    }

    fn target_changed<T: Target>(&self, obj: &T) {
        let target = obj.target_ref();
        let request = requested_source(obj.meta().annotations.as_ref(), self.settings.certificates);
        let key = match &request {
            Some(SourceRequest::Secret(n)) => Some(SourceKey::Secret(n.clone())),
            Some(SourceRequest::Certificate(n)) => Some(SourceKey::Certificate(n.clone())),
            _ => None,
        };
        self.lock_index().set(&target, key);
        if request.is_some() {
            self.queue.add(target);
        } else {
            self.recorder.clear(&target);
        }
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn queue_dependents(&self, source: &SourceKey) {
        let targets = self.lock_index().of(source);
        for t in targets {
            self.queue.add(t);
        }
    }

    async fn follow_targets<T: Target>(self: Arc<Self>, mut sub: Subscription<T>) {
        while let Some(event) = sub.recv().await {
            match event {
                CacheEvent::Applied(obj) => self.target_changed(obj.as_ref()),
                CacheEvent::Deleted(obj) => {
                    let target = obj.target_ref();
                    self.lock_index().set(&target, None);
                    self.recorder.clear(&target);
                }
                CacheEvent::Resync => self.resync_all(),
            }
        }
    }

    fn ignored(&self, namespace: &str) -> bool {
        self.settings
            .ignore_namespaces
            .iter()
            .any(|n| n == namespace)
    }

    async fn follow_secrets(self: Arc<Self>, mut sub: Subscription<PartialObjectMeta<Secret>>) {
        while let Some(event) = sub.recv().await {
            let secret = match event {
                CacheEvent::Applied(s) | CacheEvent::Deleted(s) => s,
                CacheEvent::Resync => {
                    self.resync_all();
                    continue;
                }
            };
            let meta = &secret.metadata;
            let namespace = meta.namespace.as_deref().unwrap_or_default();
            if self.ignored(namespace) {
                continue;
            }
            let name = NamespacedName::new(namespace, meta.name.as_deref().unwrap_or_default());
            self.queue_dependents(&SourceKey::Secret(name));
            // A Certificate's Secret names its Certificate: its targets depend on it too.
            if let Some(cert) = meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(CERTIFICATE_NAME))
            {
                self.queue_dependents(&SourceKey::Certificate(NamespacedName::new(
                    namespace, cert,
                )));
            }
        }
    }

    async fn follow_certificates(self: Arc<Self>, mut sub: Subscription<CertificateSource>) {
        while let Some(event) = sub.recv().await {
            let cert = match event {
                CacheEvent::Applied(c) | CacheEvent::Deleted(c) => c,
                CacheEvent::Resync => {
                    self.resync_all();
                    continue;
                }
            };
            let meta = &cert.metadata;
            let name = NamespacedName::new(
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default(),
            );
            self.queue_dependents(&SourceKey::Certificate(name));
        }
    }

    /// Reconciles `target`; on a transient error queues it again after a backoff.
    async fn reconcile_and_retry(self: Arc<Self>, target: TargetRef) {
        let result = match target.kind {
            TargetKind::ValidatingWebhookConfiguration => {
                self.reconcile(self.validating.as_ref(), &target.name).await
            }
            TargetKind::MutatingWebhookConfiguration => {
                self.reconcile(self.mutating.as_ref(), &target.name).await
            }
            TargetKind::CustomResourceDefinition => {
                self.reconcile(self.crds.as_ref(), &target.name).await
            }
            TargetKind::APIService => {
                self.reconcile(self.apiservices.as_ref(), &target.name)
                    .await
            }
        };
        let attempts = {
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            match &result {
                Ok(()) => {
                    failures.remove(&target);
                    return;
                }
                Err(_) => {
                    let n = failures.entry(target.clone()).or_default();
                    *n += 1;
                    *n
                }
            }
        };
        let delay = backoff(attempts);
        if let Err(e) = result {
            tracing::error!(target = %target, error = %e, retry_in = ?delay, "reconcile failed");
        }
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            self.queue.add(target);
        });
    }

    /// Brings the `caBundle` fields of target `name` in line with its source.
    async fn reconcile<T: Target>(
        &self,
        store: Option<&Store<T>>,
        name: &str,
    ) -> Result<(), kube::Error> {
        let Some(obj) = store.and_then(|s| s.get_by_name(None, name)) else {
            return Ok(());
        };
        if obj.meta().deletion_timestamp.is_some() {
            return Ok(());
        }
        let target = obj.target_ref();
        let Some(request) =
            requested_source(obj.meta().annotations.as_ref(), self.settings.certificates)
        else {
            return Ok(());
        };
        let ca = match self.sources.read(&request).await {
            Ok(ca) => ca,
            Err(ReadError::Problem(problem)) => {
                let uid = obj.meta().uid.as_deref();
                self.recorder.warn(&target, uid, &problem).await;
                return Ok(());
            }
            Err(ReadError::Transient(e)) => return Err(e),
        };
        self.recorder.clear(&target);
        let current = obj.ca_bundles();
        if current.is_empty() {
            tracing::debug!(target = %target, "nothing to inject into");
            return Ok(());
        }
        let now = SystemTime::now();
        let desired: Vec<Vec<u8>> = current
            .iter()
            .map(|c| bundle::desired(c, &ca, self.settings.merging, now))
            .collect();
        if desired.iter().zip(&current).all(|(d, c)| d == c) {
            tracing::debug!(target = %target, "caBundle up to date");
            return Ok(());
        }
        let api: Api<T> = Api::all(self.client.clone());
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(name, &params, &Patch::Apply(obj.apply_body(&desired)))
            .await?;
        tracing::info!(target = %target, fields = desired.len(), "injected CA bundle");
        Ok(())
    }
}

/// 1 s doubling to 5 min, like a controller-runtime rate limiter without the per-item burst.
fn backoff(attempts: u32) -> Duration {
    let secs = 1u64 << attempts.saturating_sub(1).min(9);
    Duration::from_secs(secs.min(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TargetRef {
        TargetRef {
            kind: TargetKind::APIService,
            name: name.into(),
        }
    }

    #[test]
    fn index_follows_source_changes() {
        let mut index = Index::default();
        let s1 = SourceKey::Secret(NamespacedName::new("ns", "a"));
        let s2 = SourceKey::Certificate(NamespacedName::new("ns", "a"));
        index.set(&t("x"), Some(s1.clone()));
        index.set(&t("y"), Some(s1.clone()));
        let mut of = index.of(&s1);
        of.sort();
        assert_eq!(of, [t("x"), t("y")]);
        index.set(&t("x"), Some(s2.clone()));
        assert_eq!(index.of(&s1), [t("y")]);
        assert_eq!(index.of(&s2), [t("x")]);
        index.set(&t("y"), None);
        assert!(index.of(&s1).is_empty());
        assert!(!index.targets.contains_key(&s1), "no empty sets left");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(300));
    }
}

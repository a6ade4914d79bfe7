//! How every controller runs: cache events are mapped to keys (`namespace/name` of the object
//! the controller reconciles), keys go through a [`WorkQueue`], and `--concurrent-workers`
//! workers call the controller's reconcile function. A failed reconcile is retried with
//! per-key exponential backoff; a successful one may ask to run again later (renewals).

pub mod queue;

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use kube::Resource;
use kubeclient::{CacheEvent, Store};
use prometheus::{IntCounterVec, register_int_counter_vec};

use crate::context::Context;
pub use queue::{Backoff, WorkQueue};

/// What a successful reconcile wants next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    pub requeue_after: Option<Duration>,
}

impl Action {
    /// Nothing more to do until something changes.
    pub fn done() -> Self {
        Self::default()
    }

    /// Run again after `d` (e.g. at the renewal time), unless an event comes first.
    pub fn requeue_after(d: Duration) -> Self {
        Self {
            requeue_after: Some(d),
        }
    }
}

static SYNC_CALLS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "certmanager_controller_sync_call_count",
        "The number of sync() calls made by a controller.",
        &["controller"]
    )
    .expect("metric registered once")
});

static SYNC_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "certmanager_controller_sync_error_count",
        "The number of errors encountered during controller sync().",
        &["controller"]
    )
    .expect("metric registered once")
});

/// One named controller: its queue and the cache watches that feed it.
pub struct Controller {
    name: &'static str,
    queue: Arc<WorkQueue>,
    ctx: Arc<Context>,
    feeders: Vec<tokio::task::JoinHandle<()>>,
}

impl Controller {
    pub fn new(name: &'static str, ctx: Arc<Context>) -> Self {
        Self {
            name,
            queue: WorkQueue::new(Backoff::default()),
            ctx,
            feeders: Vec::new(),
        }
    }

    /// Enqueue the keys `map` returns for every object of `store`, now and on every change.
    /// Deletions are mapped from the object's last known state.
    pub fn watch<K, F>(mut self, store: &Store<K>, map: F) -> Self
    where
        K: Resource + Clone + Send + Sync + 'static,
        F: Fn(&K) -> Vec<String> + Send + Sync + 'static,
    {
        let store = store.clone();
        let queue = self.queue.clone();
        // Subscribe before listing, so nothing between the two is missed (the queue dedups).
        let mut events = store.subscribe();
        self.feeders.push(tokio::spawn(async move {
            store.wait_until_synced().await;
            let enqueue_all = |store: &Store<K>| {
                for obj in store.list() {
                    map(&obj).into_iter().for_each(|k| queue.add(k));
                }
            };
            enqueue_all(&store);
            while let Some(event) = events.recv().await {
                match event {
                    CacheEvent::Applied(obj) | CacheEvent::Deleted(obj) => {
                        map(&obj).into_iter().for_each(|k| queue.add(k))
                    }
                    CacheEvent::Resync => enqueue_all(&store),
                }
            }
        }));
        self
    }

    /// Enqueue each object of `store` under its own key.
    pub fn watch_self<K>(self, store: &Store<K>) -> Self
    where
        K: Resource + Clone + Send + Sync + 'static,
    {
        self.watch(store, |obj| vec![kubeclient::store::key_of(obj)])
    }

    /// Run `workers` workers until the process ends.
    pub async fn run<F, Fut>(self, workers: usize, reconcile: F)
    where
        F: Fn(Arc<Context>, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<Action>> + Send + 'static,
    {
        let reconcile = Arc::new(reconcile);
        let mut tasks = Vec::with_capacity(workers.max(1));
        for _ in 0..workers.max(1) {
            let (name, queue, ctx, reconcile) = (
                self.name,
                self.queue.clone(),
                self.ctx.clone(),
                reconcile.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    process(name, &queue, &ctx, &*reconcile, &key).await;
                    queue.done(&key);
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.feeders.iter().for_each(|f| f.abort());
        self.queue.shut_down();
    }
}

async fn process<F, Fut>(
    name: &'static str,
    queue: &Arc<WorkQueue>,
    ctx: &Arc<Context>,
    reconcile: &F,
    key: &str,
) where
    F: Fn(Arc<Context>, String) -> Fut,
    Fut: Future<Output = anyhow::Result<Action>>,
{
    SYNC_CALLS.with_label_values(&[name]).inc();
    match reconcile(ctx.clone(), key.to_owned()).await {
        Ok(action) => {
            queue.forget(key);
            if let Some(after) = action.requeue_after {
                queue.add_after(key, after);
            }
        }
        Err(err) => {
            SYNC_ERRORS.with_label_values(&[name]).inc();
            let delay = queue.add_rate_limited(key);
            // `{:#}` keeps anyhow's context chain on one line.
            tracing::error!(controller = name, key, retry_in = ?delay, "re-queuing item due to error processing: {err:#}");
        }
    }
}

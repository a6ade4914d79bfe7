//! A work queue with client-go's guarantees: a key is queued at most once, a key is never
//! processed by two workers at the same time (a key added while it is being processed is
//! processed again once the worker is done), delayed adds keep the earliest deadline, and
//! failures back off exponentially per key until [`WorkQueue::forget`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Per-key failure backoff: `base * 2^failures`, capped (client-go's item exponential limiter,
/// with the bounds cert-manager's controllers use).
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<String>,
    dirty: HashSet<String>,
    processing: HashSet<String>,
    failures: HashMap<String, u32>,
    /// Earliest pending delayed add per key.
    delayed: HashMap<String, Instant>,
    shut_down: bool,
}

pub struct WorkQueue {
    state: Mutex<State>,
    ready: Notify,
    backoff: Backoff,
}

impl WorkQueue {
    pub fn new(backoff: Backoff) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            backoff,
        })
    }

    /// Queue `key` now (no-op if it is already queued).
    pub fn add(&self, key: impl Into<String>) {
        let key = key.into();
        let mut st = self.state.lock().unwrap();
        if st.shut_down || !st.dirty.insert(key.clone()) {
            return;
        }
        if !st.processing.contains(&key) {
            st.queue.push_back(key);
            drop(st);
            self.ready.notify_one();
        }
    }

    /// Queue `key` after `delay`; an earlier pending deadline for the same key wins.
    pub fn add_after(self: &Arc<Self>, key: impl Into<String>, delay: Duration) {
        let key = key.into();
        if delay.is_zero() {
            return self.add(key);
        }
        let deadline = Instant::now() + delay;
        {
            let mut st = self.state.lock().unwrap();
            match st.delayed.get(&key) {
                Some(existing) if *existing <= deadline => return,
                _ => st.delayed.insert(key.clone(), deadline),
            };
        }
        let queue = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            let Some(queue) = queue.upgrade() else { return };
            let due = {
                let mut st = queue.state.lock().unwrap();
                // Only the add that still holds the earliest deadline fires.
                if st.delayed.get(&key) == Some(&deadline) {
                    st.delayed.remove(&key);
                    true
                } else {
                    false
                }
            };
            if due {
                queue.add(key);
            }
        });
    }

    /// Queue `key` after its next backoff step; returns the delay chosen.
    pub fn add_rate_limited(self: &Arc<Self>, key: impl Into<String>) -> Duration {
        let key = key.into();
        let delay = {
            let mut st = self.state.lock().unwrap();
            let n = st.failures.entry(key.clone()).or_insert(0);
            let exp = (*n).min(31);
            *n += 1;
            self.backoff
                .base
                .saturating_mul(1u32 << exp)
                .min(self.backoff.max)
        };
        self.add_after(key, delay);
        delay
    }

    /// Reset the key's failure count (after a successful sync).
    pub fn forget(&self, key: &str) {
        self.state.lock().unwrap().failures.remove(key);
    }

    /// The next key to process, marking it in progress; `None` after [`Self::shut_down`].
    pub async fn get(&self) -> Option<String> {
        loop {
            let notified = self.ready.notified();
            {
                let mut st = self.state.lock().unwrap();
                if st.shut_down {
                    return None;
                }
                if let Some(key) = st.queue.pop_front() {
                    st.dirty.remove(&key);
                    st.processing.insert(key.clone());
                    if !st.queue.is_empty() {
                        // Wake another worker for the rest.
                        drop(st);
                        self.ready.notify_one();
                    }
                    return Some(key);
                }
            }
            notified.await;
        }
    }

    /// Mark `key` processed; if it was added meanwhile it is queued again.
    pub fn done(&self, key: &str) {
        let mut st = self.state.lock().unwrap();
        st.processing.remove(key);
        if st.dirty.contains(key) {
            st.queue.push_back(key.to_owned());
            drop(st);
            self.ready.notify_one();
        }
    }

    pub fn shut_down(&self) {
        self.state.lock().unwrap().shut_down = true;
        self.ready.notify_waiters();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.state.lock().unwrap().queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deduplicates_and_requeues_keys_added_while_processing() {
        let q = WorkQueue::new(Backoff::default());
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let a = q.get().await.unwrap();
        assert_eq!(a, "a");
        q.add("a"); // while processing: not handed to another worker
        assert_eq!(q.get().await.unwrap(), "b");
        assert_eq!(q.len(), 0);
        q.done("a");
        assert_eq!(q.get().await.unwrap(), "a");
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_adds_keep_the_earliest_deadline() {
        let q = WorkQueue::new(Backoff::default());
        q.add_after("a", Duration::from_secs(10));
        q.add_after("a", Duration::from_secs(2));
        q.add_after("a", Duration::from_secs(5));
        let start = Instant::now();
        assert_eq!(q.get().await.unwrap(), "a");
        assert_eq!(start.elapsed().as_secs(), 2);
        q.done("a");
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(q.len(), 0, "superseded timers must not fire");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_exponentially_until_forgotten() {
        let q = WorkQueue::new(Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(5),
        });
        let delays: Vec<u64> = (0..5).map(|_| q.add_rate_limited("a").as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        q.forget("a");
        assert_eq!(q.add_rate_limited("a").as_secs(), 1);
    }

    #[tokio::test]
    async fn shut_down_releases_waiting_workers() {
        let q = WorkQueue::new(Backoff::default());
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        tokio::task::yield_now().await;
        q.shut_down();
        assert_eq!(waiter.await.unwrap(), None);
    }
}

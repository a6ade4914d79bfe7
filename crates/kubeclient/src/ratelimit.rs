//! Client-side rate limiting (`--kube-api-qps` / `--kube-api-burst`), as client-go's token
//! bucket: up to `burst` requests at once, then `qps` per second. A long-running watch counts
//! once, when it starts. Every request waits its turn in arrival order.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

/// Waits longer than this are logged, as client-go's "client-side throttling" message.
const LOG_WAIT: Duration = Duration::from_secs(1);

/// A request rate: `qps` per second on average, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub qps: f32,
    pub burst: u32,
}

impl RateLimit {
    /// client-go's defaults for a zero value.
    const DEFAULT_QPS: f32 = 5.0;
    const DEFAULT_BURST: u32 = 10;

    /// The limit for the `--kube-api-qps` / `--kube-api-burst` values with client-go's rules:
    /// a negative QPS disables limiting (`None`), zero means the defaults (5 QPS, burst 10).
    pub fn from_flags(qps: f32, burst: i32) -> Option<Self> {
        if qps < 0.0 {
            return None;
        }
        let qps = if qps == 0.0 { Self::DEFAULT_QPS } else { qps };
        let burst = if burst <= 0 {
            Self::DEFAULT_BURST
        } else {
            burst as u32
        };
        Some(Self { qps, burst })
    }
}

/// A token bucket shared by every clone of the client it limits.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    state: Arc<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    /// May go negative: each waiter reserves its token at once and sleeps until it is due,
    /// which keeps requests in arrival order without a queue.
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            state: Arc::new(Mutex::new(Bucket {
                tokens: f64::from(limit.burst),
                updated: Instant::now(),
            })),
        }
    }

    /// Takes one token; sleeps first when none is left.
    pub async fn acquire(&self) {
        let wait = {
            let mut bucket = self.state.lock().await;
            let now = Instant::now();
            let refill =
                now.duration_since(bucket.updated).as_secs_f64() * f64::from(self.limit.qps);
            bucket.tokens = (bucket.tokens + refill).min(f64::from(self.limit.burst));
            bucket.updated = now;
            bucket.tokens -= 1.0;
            if bucket.tokens >= 0.0 {
                return;
            }
            Duration::from_secs_f64(-bucket.tokens / f64::from(self.limit.qps))
        };
        if wait >= LOG_WAIT {
            tracing::debug!(
                waited = ?wait,
                "waiting due to client-side throttling (--kube-api-qps / --kube-api-burst)"
            );
        }
        tokio::time::sleep(wait).await;
    }
}

/// The tower layer that makes every request of a client take a token first.
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    bucket: TokenBucket,
}

impl RateLimitLayer {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            bucket: TokenBucket::new(limit),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimited {
            inner,
            bucket: self.bucket.clone(),
            waiting: None,
            permitted: false,
        }
    }
}

/// The service of [`RateLimitLayer`]: not ready until it holds a token, and each call spends
/// it. (The client's services are not `Clone`, so the wait happens in `poll_ready`.)
pub struct RateLimited<S> {
    inner: S,
    bucket: TokenBucket,
    waiting: Option<BoxFuture<'static, ()>>,
    permitted: bool,
}

impl<S, Req> Service<Req> for RateLimited<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.permitted {
            let bucket = self.bucket.clone();
            let waiting = self
                .waiting
                .get_or_insert_with(|| Box::pin(async move { bucket.acquire().await }));
            if waiting.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.waiting = None;
            self.permitted = true;
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        self.permitted = false;
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_client_go() {
        assert_eq!(
            RateLimit::from_flags(20.0, 50),
            Some(RateLimit {
                qps: 20.0,
                burst: 50
            })
        );
        assert_eq!(RateLimit::from_flags(-1.0, 50), None);
        assert_eq!(
            RateLimit::from_flags(0.0, 0),
            Some(RateLimit {
                qps: 5.0,
                burst: 10
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_qps() {
        let bucket = TokenBucket::new(RateLimit {
            qps: 10.0,
            burst: 5,
        });
        let start = Instant::now();
        for _ in 0..5 {
            bucket.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst does not wait");
        for _ in 0..10 {
            bucket.acquire().await;
        }
        // 10 more at 10 per second: one second (paused clock, so exact to the millisecond).
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(999) && elapsed <= Duration::from_millis(1001),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_are_spaced_by_the_rate() {
        let bucket = TokenBucket::new(RateLimit { qps: 4.0, burst: 1 });
        let start = Instant::now();
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let b = bucket.clone();
                tokio::spawn(async move {
                    b.acquire().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut done = Vec::new();
        for w in waiters {
            done.push(w.await.unwrap());
        }
        done.sort();
        let expected: Vec<Duration> = (0..5).map(|i| Duration::from_millis(250 * i)).collect();
        for (got, want) in done.iter().zip(&expected) {
            assert!(got.abs_diff(*want) <= Duration::from_millis(1), "{done:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_up_to_the_burst_only() {
        let bucket = TokenBucket::new(RateLimit { qps: 2.0, burst: 3 });
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..4 {
            bucket.acquire().await;
        }
        // Three from the (capped) bucket, the fourth half a second later.
        assert_eq!(start.elapsed(), Duration::from_millis(500));
    }
}

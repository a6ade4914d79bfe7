//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics so that a
//! cert-manager replica and a cert-manager-rs replica contending for the same Lease agree on who
//! leads: a Lease is free when it has no holder or when its holder has not renewed it for
//! `leaseDurationSeconds` *as observed locally* (clocks of different nodes are never compared);
//! every write is a compare-and-swap on `resourceVersion`; a leader that cannot renew within
//! `renew_deadline` stops leading.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use rand::Rng;

/// Where and how to hold the Lease (cert-manager's `--leader-election-*` flags).
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's identity, unique among contenders (cert-manager: hostname + random suffix).
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("lost the lease {namespace}/{name}: not renewed within {deadline:?}")]
    Lost {
        namespace: String,
        name: String,
        deadline: Duration,
    },
}

/// A unique identity for this process: `<hostname>_<random>` as client-go builds it.
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let suffix: u64 = rand::rng().random();
    format!("{host}_{suffix:016x}")
}

/// Waits until this replica holds the Lease, then runs `work` while renewing it. Returns
/// `Ok(())` when `work` finishes (the Lease is then released so a successor need not wait for
/// it to expire) and `Err` when leadership is lost; the caller should then exit, as client-go's
/// `OnStoppedLeading` does, because controllers must not keep running unelected.
pub async fn run_elected<F: Future<Output = ()>>(
    client: Client,
    cfg: LeaseConfig,
    work: F,
) -> Result<(), LeaderError> {
    let elector = Elector::new(client, cfg);
    elector.acquire().await;
    tracing::info!(lease = %elector.lease_name(), identity = %elector.cfg.identity, "acquired leadership");
    let result = tokio::select! {
        () = work => Ok(()),
        err = elector.keep_renewing() => Err(err),
    };
    if result.is_ok() {
        elector.release().await;
    }
    result
}

struct Elector {
    api: Api<Lease>,
    cfg: LeaseConfig,
}

/// What this replica last saw of the Lease and when (its own clock).
struct Observed {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    at: Instant,
}

impl Elector {
    fn new(client: Client, cfg: LeaseConfig) -> Self {
        Self {
            api: Api::namespaced(client, &cfg.namespace),
            cfg,
        }
    }

    fn lease_name(&self) -> String {
        format!("{}/{}", self.cfg.namespace, self.cfg.name)
    }

    /// Tries every `retry_period` (jittered by up to 20%, as client-go) until the Lease is ours.
    async fn acquire(&self) {
        let mut observed: Option<Observed> = None;
        loop {
            match self.try_acquire_or_renew(&mut observed).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(lease = %self.lease_name(), error = %e, "leader election attempt failed")
                }
            }
            tokio::time::sleep(jittered(self.cfg.retry_period)).await;
        }
    }

    /// Renews every `retry_period`; returns when a renewal has not succeeded for `renew_deadline`.
    async fn keep_renewing(&self) -> LeaderError {
        let mut observed: Option<Observed> = None;
        let mut last_renewed = Instant::now();
        loop {
            tokio::time::sleep(self.cfg.retry_period).await;
            match self.try_acquire_or_renew(&mut observed).await {
                Ok(true) => last_renewed = Instant::now(),
                Ok(false) => {
                    tracing::error!(lease = %self.lease_name(), "another replica took the lease");
                    return self.lost();
                }
                Err(e) => {
                    tracing::warn!(lease = %self.lease_name(), error = %e, "renewing the lease failed")
                }
            }
            if last_renewed.elapsed() >= self.cfg.renew_deadline {
                return self.lost();
            }
        }
    }

    fn lost(&self) -> LeaderError {
        LeaderError::Lost {
            namespace: self.cfg.namespace.clone(),
            name: self.cfg.name.clone(),
            deadline: self.cfg.renew_deadline,
        }
    }

    /// One client-go `tryAcquireOrRenew`: `Ok(true)` when we hold the Lease afterwards.
    async fn try_acquire_or_renew(&self, observed: &mut Option<Observed>) -> kube::Result<bool> {
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.cfg.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.cfg.name.clone()),
                    namespace: Some(self.cfg.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec(now.clone(), now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        // Expiry is judged by when *we* saw the renew time change, never by the holder's clock.
        let changed = observed
            .as_ref()
            .is_none_or(|o| o.holder != holder || o.renew_time != spec.renew_time);
        if changed {
            *observed = Some(Observed {
                holder: holder.clone(),
                renew_time: spec.renew_time.clone(),
                at: Instant::now(),
            });
        }
        let ours = holder.as_deref() == Some(self.cfg.identity.as_str());
        let duration = Duration::from_secs(spec.lease_duration_seconds.unwrap_or(0).max(0) as u64);
        let expired = observed
            .as_ref()
            .is_some_and(|o| o.at.elapsed() >= duration);
        if holder.is_some() && !ours && !expired {
            return Ok(false);
        }
        let (acquire_time, transitions) = if ours {
            (
                spec.acquire_time.unwrap_or_else(|| now.clone()),
                spec.lease_transitions.unwrap_or(0),
            )
        } else {
            (now.clone(), spec.lease_transitions.unwrap_or(0) + 1)
        };
        lease.spec = Some(self.spec(acquire_time, now, transitions));
        match self
            .api
            .replace(&self.cfg.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn spec(&self, acquire_time: MicroTime, renew_time: MicroTime, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.cfg.identity.clone()),
            lease_duration_seconds: Some(self.cfg.lease_duration.as_secs().max(1) as i32),
            acquire_time: Some(acquire_time),
            renew_time: Some(renew_time),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    /// Gives the Lease up (client-go's `ReleaseOnCancel`): no holder, 1 s duration.
    async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.cfg.name).await else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.cfg.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        if let Err(e) = self
            .api
            .replace(&self.cfg.name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(lease = %self.lease_name(), error = %e, "releasing the lease failed");
        }
    }
}

fn jittered(d: Duration) -> Duration {
    d.mul_f64(1.0 + rand::rng().random_range(0.0..0.2))
}

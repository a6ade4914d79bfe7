//! The Kubernetes client layer shared by the controller, cainjector and webhook.
//!
//! - [`gates`]: the client feature gates (`WatchListClient`) merged into each binary's flags;
//! - [`Informer`] / [`Store`]: a cache of `Arc` objects (full or metadata-only) kept current by
//!   a watcher that streams its initial list, or pages it when the server cannot stream;
//! - [`leader`]: leader election on a Lease, compatible with client-go's;
//! - [`connect`]: building the `kube::Client`, with request metrics ([`metrics`]) and
//!   client-side rate limiting ([`ratelimit`]).

pub mod connect;
pub mod gates;
mod informer;
pub mod leader;
pub mod metrics;
pub mod ratelimit;
pub mod store;
pub mod watcher;

pub use informer::{Cacheable, Informer, strip_managed_fields};
pub use store::{CacheEvent, Store, Subscription};
pub use watcher::WatchConfig;

//! The watcher: keeps a [`Store`] in step with the API server.
//!
//! ```text
//!            WatchListClient on                        off, or after a fallback
//!  relist:   watch?sendInitialEvents=true&            LIST?limit=500 (+continue...)
//!            resourceVersionMatch=NotOlderThan&        consistent read, items applied
//!            allowWatchBookmarks=true                  one by one
//!            (no resourceVersion: consistent read)
//!            ADDED... then BOOKMARK                    list resourceVersion
//!            k8s.io/initial-events-end=true
//!                    \                                /
//!  synced:            +---- watch?resourceVersion=RV&allowWatchBookmarks=true ----+
//!                           bookmarks advance RV; stream end -> re-watch from RV;
//!                           410 Gone -> relist; errors -> backoff, re-watch
//! ```
//! The streaming list falls back to paging, once and for the rest of the cache's life, when the
//! server rejects it (400/422, e.g. a 1.33 server with WatchList off), sends a plain bookmark
//! before the end bookmark, or goes silent before the end bookmark (older servers ignore the
//! parameter). Relists are applied in place, see [`crate::store`].

mod decode;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kube::Client;
use rand::Rng;
use serde::de::DeserializeOwned;
use tracing::{debug, info, warn};

pub use decode::{INITIAL_EVENTS_END, Status};
use decode::{WatchEvent, decode_event, decode_list};

use crate::metrics::METRICS;
use crate::store::Store;

/// What a cache watches and how.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Name of the cache in logs and metrics (e.g. `secrets-metadata`).
    pub name: String,
    /// Restrict to one namespace (None: all namespaces / cluster-scoped).
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Use streaming lists (the `WatchListClient` gate).
    pub streaming: bool,
    /// Page size of the LIST fallback (client-go's pager default), or the largest page when
    /// pages are sized by bytes.
    pub page_size: u32,
    /// Size LIST pages by bytes instead: start with [`FIRST_SIZED_PAGE`] objects, then ask for
    /// as many as make about this many bytes at the average size seen so far. For full
    /// objects whose size varies a lot (Secrets: 1 KiB to 1 MiB), so that one page of 500 large
    /// objects is never held in memory at once.
    pub page_bytes: Option<usize>,
    /// During a streaming list: how long the server may stay silent before the end bookmark
    /// before we conclude it does not support streaming lists.
    pub initial_events_idle_timeout: Duration,
    /// Server-side watch timeout range (seconds), randomised like client-go to spread reconnects.
    pub watch_timeout_secs: (u32, u32),
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl WatchConfig {
    pub fn new(name: impl Into<String>, streaming: bool) -> Self {
        Self {
            name: name.into(),
            namespace: None,
            label_selector: None,
            field_selector: None,
            streaming,
            page_size: 500,
            page_bytes: None,
            initial_events_idle_timeout: Duration::from_secs(60),
            watch_timeout_secs: (240, 290),
            min_backoff: Duration::from_millis(800),
            max_backoff: Duration::from_secs(30),
        }
    }

    pub fn namespace(mut self, ns: Option<impl Into<String>>) -> Self {
        self.namespace = ns.map(Into::into);
        self
    }

    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    /// Size paged LISTs by bytes (see [`WatchConfig::page_bytes`]).
    pub fn page_bytes(mut self, bytes: usize) -> Self {
        self.page_bytes = Some(bytes);
        self
    }

    /// The `limit` of the next LIST page, after pages that brought `seen_bytes` for
    /// `seen_objects` so far.
    fn next_page_limit(&self, seen_objects: usize, seen_bytes: usize) -> u32 {
        let Some(target) = self.page_bytes else {
            return self.page_size;
        };
        if seen_objects == 0 {
            return FIRST_SIZED_PAGE.min(self.page_size);
        }
        let average = (seen_bytes / seen_objects).max(1);
        ((target / average) as u32).clamp(1, self.page_size)
    }
}

/// The first page of a LIST sized by bytes: small enough to be harmless at 1 MiB per object.
pub const FIRST_SIZED_PAGE: u32 = 4;

/// Why the current list or watch stopped.
#[derive(Debug)]
enum Interrupt {
    /// The resourceVersion is too old (410 Gone / Expired): relist.
    Gone,
    /// The server cannot serve streaming lists: fall back to paging.
    Unsupported(&'static str, String),
    /// The server answered the request with an error status.
    Http(u16, String),
    /// Anything else (connection dropped, bad data): back off and retry.
    Transient(String),
    /// The watch ended normally (server-side timeout): resume from the last resourceVersion.
    StreamEnded,
}

impl std::fmt::Display for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gone => f.write_str("resourceVersion expired"),
            Self::Unsupported(reason, detail) => {
                write!(f, "streaming list unsupported ({reason}): {detail}")
            }
            Self::Http(code, msg) => write!(f, "HTTP {code}: {msg}"),
            Self::Transient(msg) => f.write_str(msg),
            Self::StreamEnded => f.write_str("watch stream ended"),
        }
    }
}

/// Set once the first fallback in this process has been logged at info level.
static FALLBACK_LOGGED: AtomicBool = AtomicBool::new(false);

pub(crate) type Transform<K> = Arc<dyn Fn(&mut K) + Send + Sync>;

pub(crate) struct Watcher<K> {
    client: Client,
    url_path: String,
    metadata_only: bool,
    cfg: WatchConfig,
    store: Store<K>,
    transform: Transform<K>,
    /// The relist generation objects are stamped with.
    epoch: u64,
    /// Where the live watch resumes; set by a completed relist and advanced by every event.
    resource_version: String,
    backoff: Backoff,
}

/// Accept header for metadata-only requests (PartialObjectMetadata).
const ACCEPT_META_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const ACCEPT_META: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
/// Longest watch line we accept (etcd's object limit is 1.5 MiB; JSON/base64 inflate it).
const MAX_LINE: usize = 64 << 20;

impl<K> Watcher<K>
where
    K: kube::Resource + DeserializeOwned + Send + Sync + 'static,
{
    pub(crate) fn new(
        client: Client,
        url_path: String,
        metadata_only: bool,
        cfg: WatchConfig,
        store: Store<K>,
        transform: Transform<K>,
    ) -> Self {
        let backoff = Backoff::new(cfg.min_backoff, cfg.max_backoff);
        Self {
            client,
            url_path,
            metadata_only,
            cfg,
            store,
            transform,
            epoch: 0,
            resource_version: String::new(),
            backoff,
        }
    }

    /// Run until the task is aborted.
    pub(crate) async fn run(mut self) {
        loop {
            let relisted = if self.cfg.streaming {
                self.streaming_list_and_watch().await
            } else {
                self.paged_list().await
            };
            let interrupt = match relisted {
                Ok(()) => self.watch_until_interrupted().await,
                Err(i) => i,
            };
            match interrupt {
                Interrupt::Gone => {
                    debug!(cache = %self.cfg.name, "resourceVersion expired, relisting");
                }
                Interrupt::Unsupported(reason, detail) => self.fall_back(reason, &detail),
                err => {
                    let delay = self.backoff.next();
                    warn!(cache = %self.cfg.name, error = %err, retry_in = ?delay, "list failed");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    fn fall_back(&mut self, reason: &'static str, detail: &str) {
        self.cfg.streaming = false;
        METRICS
            .fallbacks
            .with_label_values(&[&self.cfg.name, reason])
            .inc();
        if !FALLBACK_LOGGED.swap(true, Ordering::Relaxed) {
            info!(cache = %self.cfg.name, reason, detail, "the API server does not serve streaming lists; using paged LIST+WATCH instead (logged once per process)");
        } else {
            debug!(cache = %self.cfg.name, reason, detail, "falling back to paged LIST+WATCH");
        }
    }

    /// Streaming relist; on success the same connection carries on as the live watch.
    async fn streaming_list_and_watch(&mut self) -> Result<(), Interrupt> {
        self.epoch += 1;
        let started = Instant::now();
        let timeout = self.watch_timeout().to_string();
        let url = self.url(&[
            ("watch", "true"),
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", &timeout),
        ]);
        let mut initial = Some(started);
        let interrupt = self.consume_watch(&url, &mut initial).await;
        if initial.is_some() {
            return Err(interrupt);
        }
        // The relist completed on this connection: whatever ended it afterwards, the live watch
        // resumes from the last resourceVersion (a relist only on 410).
        match interrupt {
            Interrupt::Gone => Err(Interrupt::Gone),
            Interrupt::StreamEnded => Ok(()),
            err => {
                let delay = self.backoff.next();
                warn!(cache = %self.cfg.name, error = %err, retry_in = ?delay, "watch failed");
                tokio::time::sleep(delay).await;
                Ok(())
            }
        }
    }

    async fn paged_list(&mut self) -> Result<(), Interrupt> {
        self.epoch += 1;
        let started = Instant::now();
        let mut continue_token: Option<String> = None;
        let (mut seen_objects, mut seen_bytes) = (0, 0);
        loop {
            let limit = self
                .cfg
                .next_page_limit(seen_objects, seen_bytes)
                .to_string();
            let url = match &continue_token {
                Some(token) => self.url(&[("limit", &limit), ("continue", token)]),
                None => self.url(&[("limit", &limit)]),
            };
            let accept = if self.metadata_only {
                ACCEPT_META_LIST
            } else {
                "application/json"
            };
            let res = self.send(&url, accept).await?;
            // One page is buffered as bytes (no String copy); items are decoded and stored one
            // at a time from it.
            let body = res
                .into_body()
                .collect()
                .await
                .map_err(|e| Interrupt::Transient(format!("reading list page: {e}")))?
                .to_bytes();
            let epoch = self.epoch;
            let store = &self.store;
            let transform = &self.transform;
            let mut objects = 0;
            let meta = decode_list::<K, _>(&body, |mut obj| {
                objects += 1;
                transform(&mut obj);
                store.apply(obj, epoch);
            })
            .map_err(|e| Interrupt::Transient(format!("decoding list page: {e}")))?;
            seen_objects += objects;
            seen_bytes += body.len();
            drop(body);
            match meta.continue_token.filter(|t| !t.is_empty()) {
                Some(token) => continue_token = Some(token),
                None => {
                    self.resource_version = meta.resource_version;
                    self.finish_relist(started, "paged");
                    return Ok(());
                }
            }
        }
    }

    fn finish_relist(&mut self, started: Instant, mode: &str) {
        let deleted = self.store.finish_relist(self.epoch);
        let secs = started.elapsed().as_secs_f64();
        METRICS
            .initial_sync_seconds
            .with_label_values(&[&self.cfg.name, mode])
            .set(secs);
        self.update_object_gauge();
        self.backoff.reset();
        info!(cache = %self.cfg.name, mode, objects = self.store.len(), deleted_while_away = deleted, seconds = secs, "cache synced");
    }

    fn update_object_gauge(&self) {
        METRICS
            .objects
            .with_label_values(&[&self.cfg.name])
            .set(self.store.len() as i64);
    }

    /// Re-watch from the last resourceVersion until a relist is needed.
    async fn watch_until_interrupted(&mut self) -> Interrupt {
        loop {
            let timeout = self.watch_timeout().to_string();
            let url = self.url(&[
                ("watch", "true"),
                ("allowWatchBookmarks", "true"),
                ("resourceVersion", &self.resource_version),
                ("timeoutSeconds", &timeout),
            ]);
            match self.consume_watch(&url, &mut None).await {
                Interrupt::StreamEnded => continue,
                e @ (Interrupt::Transient(_) | Interrupt::Http(..)) => {
                    let delay = self.backoff.next();
                    warn!(cache = %self.cfg.name, error = %e, retry_in = ?delay, "watch failed");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    /// Read one watch stream to its end. `initial` is set for a streaming list: events are
    /// stamped with the new epoch until the end bookmark completes the relist.
    async fn consume_watch(&mut self, url: &str, initial: &mut Option<Instant>) -> Interrupt {
        let accept = if self.metadata_only {
            ACCEPT_META
        } else {
            "application/json"
        };
        let res = match self.send(url, accept).await {
            Ok(res) => res,
            Err(Interrupt::Http(code @ (400 | 422), msg)) if initial.is_some() => {
                return Interrupt::Unsupported("rejected", format!("HTTP {code}: {msg}"));
            }
            Err(i) => return i,
        };
        let mut body = res.into_body();
        let mut buf = BytesMut::new();
        let mut scanned = 0;
        loop {
            // Complete lines already buffered are handled before reading more.
            if let Some(pos) = buf[scanned..].iter().position(|b| *b == b'\n') {
                let line = buf.split_to(scanned + pos + 1);
                scanned = 0;
                if let Some(interrupt) = self.handle_line(&line[..line.len() - 1], initial) {
                    return interrupt;
                }
                continue;
            }
            scanned = buf.len();
            if buf.len() > MAX_LINE {
                return Interrupt::Transient(format!("watch event larger than {MAX_LINE} bytes"));
            }
            let idle = match initial {
                Some(_) => self.cfg.initial_events_idle_timeout,
                None => Duration::from_secs(u64::from(self.cfg.watch_timeout_secs.1) + 30),
            };
            match tokio::time::timeout(idle, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            buf.extend_from_slice(chunk);
                            let n = chunk.len();
                            data.advance(n);
                        }
                    }
                }
                Ok(Some(Err(e))) => {
                    return Interrupt::Transient(format!("watch stream broke: {e}"));
                }
                Ok(None) if initial.is_some() => {
                    return Interrupt::Transient(
                        "stream ended before the initial-events-end bookmark".into(),
                    );
                }
                Ok(None) => return Interrupt::StreamEnded,
                Err(_) if initial.is_some() => {
                    return Interrupt::Unsupported(
                        "no-end-bookmark",
                        format!("no initial-events-end bookmark after {idle:?} of silence"),
                    );
                }
                Err(_) => return Interrupt::Transient(format!("watch idle for {idle:?}")),
            }
        }
    }

    /// Apply one watch event. Returns an interrupt when the stream must stop.
    fn handle_line(&mut self, line: &[u8], initial: &mut Option<Instant>) -> Option<Interrupt> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let event = match decode_event::<K>(line) {
            Ok(ev) => ev,
            Err(e) => return Some(Interrupt::Transient(format!("decoding watch event: {e}"))),
        };
        let kind = match &event {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark { .. } => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        };
        METRICS
            .watch_events
            .with_label_values(&[&self.cfg.name, kind])
            .inc();
        match event {
            WatchEvent::Added(mut obj) | WatchEvent::Modified(mut obj) => {
                self.advance_rv(&obj);
                (self.transform)(&mut obj);
                self.store.apply(obj, self.epoch);
            }
            WatchEvent::Deleted(obj) => {
                self.advance_rv(&obj);
                self.store.delete(&obj);
            }
            WatchEvent::Bookmark {
                resource_version,
                initial_events_end,
            } => {
                if !resource_version.is_empty() {
                    self.resource_version = resource_version;
                }
                if let Some(started) = *initial {
                    if !initial_events_end {
                        // A server that streams initial events sends no other bookmark first;
                        // one that ignored sendInitialEvents (pre-WatchList) does.
                        return Some(Interrupt::Unsupported(
                            "bookmark-without-end",
                            "bookmark without the initial-events-end annotation".into(),
                        ));
                    }
                    *initial = None;
                    self.finish_relist(started, "streaming");
                }
            }
            WatchEvent::Error(status) => {
                return Some(
                    if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" {
                        Interrupt::Gone
                    } else if initial.is_some() && matches!(status.code, 400 | 422) {
                        Interrupt::Unsupported(
                            "rejected",
                            format!("{}: {}", status.code, status.message),
                        )
                    } else {
                        Interrupt::Http(status.code, status.message)
                    },
                );
            }
        }
        if initial.is_none() {
            self.update_object_gauge();
        }
        None
    }

    fn advance_rv(&mut self, obj: &K) {
        if let Some(rv) = obj.meta().resource_version.as_deref() {
            self.resource_version = rv.to_owned();
        }
    }

    /// The request URL: the selectors, then `params`. Lists carry no resourceVersion, so they
    /// are consistent reads.
    fn url(&self, params: &[(&str, &str)]) -> String {
        let prefix = format!("{}?", self.url_path);
        let mut q = form_urlencoded::Serializer::for_suffix(prefix.clone(), prefix.len());
        if let Some(s) = &self.cfg.label_selector {
            q.append_pair("labelSelector", s);
        }
        if let Some(s) = &self.cfg.field_selector {
            q.append_pair("fieldSelector", s);
        }
        q.extend_pairs(params);
        q.finish()
    }

    fn watch_timeout(&self) -> u32 {
        let (lo, hi) = self.cfg.watch_timeout_secs;
        rand::rng().random_range(lo..=hi.max(lo))
    }

    /// GET `url`; a non-2xx answer becomes an interrupt carrying the server's Status.
    async fn send(
        &self,
        url: &str,
        accept: &str,
    ) -> Result<http::Response<kube::client::Body>, Interrupt> {
        let req = Request::get(url)
            .header(header::ACCEPT, accept)
            .body(kube::client::Body::empty())
            .map_err(|e| Interrupt::Transient(format!("building request: {e}")))?;
        let res = self
            .client
            .send(req)
            .await
            .map_err(|e| Interrupt::Transient(format!("request failed: {e}")))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let body = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let st: Status = serde_json::from_slice(&body).unwrap_or_default();
        if status == StatusCode::GONE || st.reason == "Expired" {
            return Err(Interrupt::Gone);
        }
        let message = if st.message.is_empty() {
            String::from_utf8_lossy(&body).into_owned()
        } else {
            st.message
        };
        Err(Interrupt::Http(status.as_u16(), message))
    }
}

/// Exponential backoff with jitter, as client-go's (0.8 s doubling to 30 s).
struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            current: min,
        }
    }

    fn next(&mut self) -> Duration {
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        let jitter = rand::rng().random_range(0.0..0.5);
        base.mul_f64(1.0 + jitter).min(self.max)
    }

    fn reset(&mut self) {
        self.current = self.min;
    }
}

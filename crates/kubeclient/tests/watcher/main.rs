//! State-machine tests of the watcher against a fault-injecting fake API server.
//! (The same behaviours against the real local control plane live in the testkit suites.)

mod fake;

use std::time::Duration;

use fake::{Fake, Faults, Recorded, Server};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::core::PartialObjectMeta;
use kubeclient::{CacheEvent, Informer, WatchConfig};

const TIMEOUT: Duration = Duration::from_secs(20);

fn client(server: &Server) -> kube::Client {
    let config = kube::Config::new(server.url.parse().unwrap());
    kubeclient::connect::client(config, None).unwrap()
}

fn cfg(name: &str, streaming: bool) -> WatchConfig {
    let mut c = WatchConfig::new(name, streaming);
    c.min_backoff = Duration::from_millis(20);
    c.max_backoff = Duration::from_millis(200);
    c
}

async fn synced<K: kubeclient::Cacheable>(inf: &Informer<K>) {
    tokio::time::timeout(TIMEOUT, inf.wait_until_synced())
        .await
        .expect("cache did not sync in time");
}

/// Wait until `pred` holds for the store.
async fn eventually(what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !pred() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn param(r: &Recorded, key: &str) -> Option<String> {
    let q = r.uri.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn is_streaming_list(r: &Recorded) -> bool {
    param(r, "watch").as_deref() == Some("true")
        && param(r, "sendInitialEvents").as_deref() == Some("true")
        && param(r, "resourceVersionMatch").as_deref() == Some("NotOlderThan")
        && param(r, "allowWatchBookmarks").as_deref() == Some("true")
        && param(r, "resourceVersion").is_none()
}

fn is_list(r: &Recorded) -> bool {
    param(r, "watch").is_none()
}

fn names(inf: &Informer<ConfigMap>) -> Vec<String> {
    let mut n: Vec<_> = inf
        .store()
        .list()
        .iter()
        .map(|o| o.metadata.name.clone().unwrap())
        .collect();
    n.sort();
    n
}

/// Drain the events seen so far into "+name" / "-name" strings.
async fn drain(sub: &mut kubeclient::Subscription<ConfigMap>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(100), sub.recv()).await {
        out.push(match ev {
            CacheEvent::Applied(o) => format!("+{}", o.metadata.name.clone().unwrap()),
            CacheEvent::Deleted(o) => format!("-{}", o.metadata.name.clone().unwrap()),
            CacheEvent::Resync => "resync".into(),
        });
    }
    out
}

#[tokio::test]
async fn streaming_list_is_one_watch_and_syncs_at_end_bookmark() {
    let server = Fake::start(Faults::default()).await;
    for i in 0..3 {
        server.fake.put(&format!("cm{i}"), "x", true);
    }
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("stream", true));
    synced(&inf).await;
    assert_eq!(names(&inf), ["cm0", "cm1", "cm2"]);
    let reqs = server.fake.requests();
    assert_eq!(reqs.len(), 1, "one request: {reqs:?}");
    assert!(is_streaming_list(&reqs[0]), "{:?}", reqs[0]);
    assert_eq!(reqs[0].accept, "application/json");

    // The same connection carries the live watch.
    let mut sub = inf.subscribe();
    server.fake.put("cm3", "y", true);
    server.fake.delete("cm0", true);
    eventually("live events", || names(&inf) == ["cm1", "cm2", "cm3"]).await;
    assert_eq!(drain(&mut sub).await, ["+cm3", "-cm0"]);
    assert_eq!(server.fake.requests().len(), 1);
}

#[tokio::test]
async fn pages_sized_by_bytes_start_small_then_follow_the_object_size() {
    let server = Fake::start(Faults::default()).await;
    // ~20 KiB objects, pages of about 100 KiB: 4 first (FIRST_SIZED_PAGE), then about 5.
    let big = "x".repeat(20 * 1024);
    for i in 0..40 {
        server.fake.put(&format!("cm{i:04}"), &big, true);
    }
    let inf =
        Informer::<ConfigMap>::spawn(client(&server), cfg("sized", false).page_bytes(100 * 1024));
    synced(&inf).await;
    assert_eq!(inf.store().len(), 40);
    let reqs = server.fake.requests();
    let limits: Vec<u32> = reqs
        .iter()
        .filter(|r| is_list(r))
        .map(|r| param(r, "limit").unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        limits[0],
        kubeclient::watcher::FIRST_SIZED_PAGE,
        "{limits:?}"
    );
    assert!(
        limits[1..].iter().all(|l| (4..=5).contains(l)),
        "later pages hold about 100 KiB: {limits:?}"
    );
    assert_eq!(
        limits.len(),
        1 + (40 - limits[0] as usize).div_ceil(limits[1] as usize),
        "{limits:?}"
    );
}

#[tokio::test]
async fn gate_off_pages_with_limit_500_then_watches_from_list_rv() {
    let server = Fake::start(Faults::default()).await;
    for i in 0..1201 {
        server.fake.put(&format!("cm{i:04}"), "x", true);
    }
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("paged", false));
    synced(&inf).await;
    assert_eq!(inf.store().len(), 1201);
    eventually("the watch after the list", || {
        server.fake.requests().len() == 4
    })
    .await;
    let reqs = server.fake.requests();
    let lists: Vec<_> = reqs.iter().filter(|r| is_list(r)).collect();
    assert_eq!(lists.len(), 3, "{reqs:?}");
    assert!(
        lists
            .iter()
            .all(|r| param(r, "limit").as_deref() == Some("500"))
    );
    assert!(
        lists.iter().all(|r| param(r, "resourceVersion").is_none()),
        "consistent reads"
    );
    assert_eq!(param(lists[1], "continue").as_deref(), Some("500"));
    assert_eq!(param(lists[2], "continue").as_deref(), Some("1000"));
    let watch = &reqs[3];
    assert!(!is_streaming_list(watch));
    assert_eq!(param(watch, "watch").as_deref(), Some("true"));
    assert_eq!(param(watch, "resourceVersion").as_deref(), Some("1301"));
    assert_eq!(param(watch, "allowWatchBookmarks").as_deref(), Some("true"));
    assert!(param(watch, "sendInitialEvents").is_none());

    server.fake.put("late", "x", true);
    eventually("watch event", || inf.store().get("ns/late").is_some()).await;
}

fn fallbacks(cache: &str) -> f64 {
    prometheus::default_registry()
        .gather()
        .iter()
        .filter(|mf| mf.name() == "kubeclient_watchlist_fallbacks_total")
        .flat_map(|mf| mf.get_metric().iter())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == "cache" && l.value() == cache)
        })
        .map(|m| m.get_counter().get_value())
        .sum()
}

#[tokio::test]
async fn rejected_streaming_list_falls_back_to_paging_once() {
    let server = Fake::start(Faults {
        reject_streaming: Some(422),
        ..Default::default()
    })
    .await;
    server.fake.put("a", "x", true);
    server.fake.put("b", "x", true);
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("rejected", true));
    synced(&inf).await;
    assert_eq!(names(&inf), ["a", "b"]);
    let reqs = server.fake.requests();
    assert!(is_streaming_list(&reqs[0]));
    assert!(is_list(&reqs[1]), "fell back to a LIST: {reqs:?}");
    assert_eq!(fallbacks("rejected"), 1.0);

    // Later relists (410) stay on the paged path: no second streaming attempt, no second fallback.
    server.fake.set_faults(|f| f.gone_watches = 1);
    server.fake.break_streams();
    eventually("relist after 410", || {
        server.fake.requests().iter().filter(|r| is_list(r)).count() >= 2
    })
    .await;
    let streaming = server
        .fake
        .requests()
        .iter()
        .filter(|r| is_streaming_list(r))
        .count();
    assert_eq!(streaming, 1);
    assert_eq!(fallbacks("rejected"), 1.0);
}

#[tokio::test]
async fn missing_end_bookmark_falls_back_without_duplicates() {
    let server = Fake::start(Faults {
        omit_end_bookmark: true,
        ..Default::default()
    })
    .await;
    for i in 0..5 {
        server.fake.put(&format!("cm{i}"), "x", true);
    }
    let mut c = cfg("no-bookmark", true);
    c.initial_events_idle_timeout = Duration::from_millis(300);
    let inf = Informer::<ConfigMap>::spawn(client(&server), c);
    let mut sub = inf.subscribe();
    synced(&inf).await;
    assert_eq!(inf.store().len(), 5);
    let reqs = server.fake.requests();
    assert!(is_streaming_list(&reqs[0]) && is_list(&reqs[1]), "{reqs:?}");
    assert_eq!(fallbacks("no-bookmark"), 1.0);
    // Each object was announced exactly once across the streamed attempt and the paged relist.
    let mut events = drain(&mut sub).await;
    events.sort();
    assert_eq!(events, ["+cm0", "+cm1", "+cm2", "+cm3", "+cm4"]);
}

#[tokio::test]
async fn plain_bookmark_before_end_means_no_streaming_support() {
    let server = Fake::start(Faults {
        plain_bookmark: true,
        ..Default::default()
    })
    .await;
    server.fake.put("a", "x", true);
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("plain-bookmark", true));
    synced(&inf).await;
    assert!(is_list(&server.fake.requests()[1]));
    assert_eq!(fallbacks("plain-bookmark"), 1.0);
}

#[tokio::test]
async fn slow_initial_events_are_not_a_fallback() {
    let server = Fake::start(Faults {
        initial_event_delay: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .await;
    for i in 0..8 {
        server.fake.put(&format!("cm{i}"), "x", true);
    }
    let mut c = cfg("slow", true);
    // Idle limit well above the gap between events but far below the 800 ms the list takes.
    c.initial_events_idle_timeout = Duration::from_millis(400);
    let inf = Informer::<ConfigMap>::spawn(client(&server), c);
    assert!(!inf.store().is_synced());
    synced(&inf).await;
    assert_eq!(inf.store().len(), 8);
    assert_eq!(server.fake.requests().len(), 1);
    assert_eq!(fallbacks("slow"), 0.0);
}

#[tokio::test]
async fn gone_relists_in_place_and_reconciles_missed_changes() {
    let server = Fake::start(Faults::default()).await;
    for name in ["keep", "change", "remove"] {
        server.fake.put(name, "v1", true);
    }
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("gone", true));
    synced(&inf).await;
    let mut sub = inf.subscribe();
    let kept = inf.store().get("ns/keep").unwrap();

    // While the watcher is disconnected, changes happen that the event log no longer holds,
    // and its next watch gets 410 Gone: only a relist can see them.
    server.fake.set_faults(|f| f.gone_watches = 1);
    server.fake.break_streams();
    server.fake.put("change", "v2", false);
    server.fake.delete("remove", false);
    server.fake.put("new", "v1", false);

    eventually("relist", || names(&inf) == ["change", "keep", "new"]).await;
    eventually("changed data", || {
        inf.store().get("ns/change").unwrap().data.as_ref().unwrap()["v"] == "v2"
    })
    .await;
    let mut events = drain(&mut sub).await;
    events.sort();
    assert_eq!(
        events,
        ["+change", "+new", "-remove"],
        "each change exactly once"
    );
    // The unchanged object was not replaced (same Arc): the relist happened in place.
    assert!(std::sync::Arc::ptr_eq(
        &kept,
        &inf.store().get("ns/keep").unwrap()
    ));
    let reqs = server.fake.requests();
    assert_eq!(
        reqs.iter().filter(|r| is_streaming_list(r)).count(),
        2,
        "{reqs:?}"
    );
}

#[tokio::test]
async fn dropped_stream_resumes_from_last_resource_version() {
    let server = Fake::start(Faults::default()).await;
    server.fake.put("a", "x", true);
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("dropped", true));
    synced(&inf).await;
    let mut sub = inf.subscribe();
    server.fake.put("b", "x", true);
    eventually("b", || inf.store().len() == 2).await;
    server.fake.break_streams();
    // Changes while disconnected are in the event log and must be replayed, once each.
    server.fake.put("c", "x", true);
    server.fake.delete("a", true);
    eventually("replayed events", || names(&inf) == ["b", "c"]).await;
    assert_eq!(drain(&mut sub).await, ["+b", "+c", "-a"]);
    let reqs = server.fake.requests();
    let resumed = reqs.last().unwrap();
    assert_eq!(
        param(resumed, "resourceVersion").as_deref(),
        Some("102"),
        "{reqs:?}"
    );
    assert!(param(resumed, "sendInitialEvents").is_none());
}

#[tokio::test]
async fn metadata_only_selectors_and_transforms() {
    let server = Fake::start(Faults::default()).await;
    server.fake.put("a", "x", true);
    let c = cfg("meta", true)
        .namespace(Some("ns"))
        .labels("!controller.cert-manager.io/fao")
        .fields("metadata.name!=skip");
    let inf = Informer::<PartialObjectMeta<ConfigMap>>::spawn_with_transform(
        client(&server),
        c,
        |o: &mut PartialObjectMeta<ConfigMap>| {
            kubeclient::strip_managed_fields(o);
            o.metadata.annotations = None;
        },
    );
    synced(&inf).await;
    let obj = inf.store().get("ns/a").unwrap();
    assert!(obj.metadata.managed_fields.is_none());
    assert!(obj.metadata.annotations.is_none());
    let req = &server.fake.requests()[0];
    assert!(
        req.uri.starts_with("/api/v1/namespaces/ns/configmaps?"),
        "{}",
        req.uri
    );
    assert_eq!(
        req.accept,
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
    );
    assert_eq!(
        param(req, "labelSelector").as_deref(),
        Some("!controller.cert-manager.io/fao")
    );
    assert_eq!(
        param(req, "fieldSelector").as_deref(),
        Some("metadata.name!=skip")
    );

    // The default transform strips managedFields of full objects too.
    let full = Informer::<ConfigMap>::spawn(client(&server), cfg("full", false));
    synced(&full).await;
    let obj = full.store().get("ns/a").unwrap();
    assert!(obj.metadata.managed_fields.is_none());
    assert!(obj.metadata.annotations.is_some());
    let list = server.fake.requests().into_iter().find(is_list).unwrap();
    assert_eq!(list.accept, "application/json");
}

#[tokio::test]
async fn request_metrics_count_by_verb_and_resource() {
    let server = Fake::start(Faults::default()).await;
    server.fake.put("a", "x", true);
    let before = kubeclient::metrics::request_count("WATCH", "configmaps");
    let inf = Informer::<ConfigMap>::spawn(client(&server), cfg("metrics", true));
    synced(&inf).await;
    assert!(kubeclient::metrics::request_count("WATCH", "configmaps") > before);
}

//! The watcher against the real local control plane: which requests it makes (read back from
//! the API server's audit log), fallback against a server with WatchList off, and that the
//! cache converges with the server through changes.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::core::PartialObjectMeta;
use kubeclient::{Informer, WatchConfig};
use testkit::{AuditEvent, ControlPlane, Options};

const TIMEOUT: Duration = Duration::from_secs(60);

/// A client whose requests carry `agent`, so this test's requests can be told apart.
fn client(cp: &ControlPlane, agent: &str) -> kube::Client {
    let mut config = cp.config().clone();
    config
        .headers
        .push((http::header::USER_AGENT, agent.parse().unwrap()));
    kubeclient::connect::client(config, None).unwrap()
}

async fn create_secrets(cp: &ControlPlane, ns: &str, n: usize, labels: &[(&str, &str)]) {
    let api: Api<Secret> = Api::namespaced(cp.client(), ns);
    for i in 0..n {
        let s = Secret {
            metadata: ObjectMeta {
                name: Some(format!("s{i:04}")),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            string_data: Some([("k".to_owned(), "v".repeat(64))].into()),
            ..Default::default()
        };
        api.create(&PostParams::default(), &s).await.unwrap();
    }
}

async fn synced<K: kubeclient::Cacheable>(inf: &Informer<K>) {
    tokio::time::timeout(TIMEOUT, inf.wait_until_synced())
        .await
        .expect("cache synced");
}

/// The requests made with user agent `agent`, one audit event each: a watch is logged when
/// its response starts (and again when it ends), other requests when complete. Audit writes
/// are synchronous; the pause lets in-flight responses reach their stage.
async fn requests(cp: &ControlPlane, agent: &str) -> Vec<AuditEvent> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    cp.audit_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.user_agent == agent)
        .filter(|e| {
            let stage = if e.verb == "watch" {
                "ResponseStarted"
            } else {
                "ResponseComplete"
            };
            e.stage == stage
        })
        .collect()
}

fn param(e: &AuditEvent, key: &str) -> Option<String> {
    let q = e
        .request_uri
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default();
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn is_streaming_list(e: &AuditEvent) -> bool {
    e.verb == "watch"
        && param(e, "sendInitialEvents").as_deref() == Some("true")
        && param(e, "resourceVersionMatch").as_deref() == Some("NotOlderThan")
        && param(e, "allowWatchBookmarks").as_deref() == Some("true")
        && param(e, "resourceVersion").is_none()
}

#[tokio::test]
async fn watchlist_on_streams_and_never_lists() {
    let cp = ControlPlane::shared().await.unwrap();
    let ns = cp.namespace("stream").await.unwrap();
    create_secrets(cp, &ns, 30, &[]).await;
    let agent = "kubeclient-test/streaming";
    let cfg = WatchConfig::new("secrets", true).namespace(Some(ns.name()));
    let inf = Informer::<Secret>::spawn(client(cp, agent), cfg);
    synced(&inf).await;
    assert_eq!(inf.store().len(), 30);
    assert!(
        inf.store()
            .list()
            .iter()
            .all(|s| s.metadata.managed_fields.is_none())
    );

    let events = requests(cp, agent).await;
    assert!(events.iter().any(is_streaming_list), "{events:#?}");
    assert!(
        events.iter().all(|e| e.verb != "list"),
        "no LIST with WatchListClient on: {events:#?}"
    );
}

#[tokio::test]
async fn watchlist_off_pages_with_limit_500() {
    let cp = ControlPlane::shared().await.unwrap();
    let ns = cp.namespace("paged").await.unwrap();
    create_secrets(cp, &ns, 12, &[]).await;
    let agent = "kubeclient-test/paged";
    let mut cfg = WatchConfig::new("secrets", false).namespace(Some(ns.name()));
    cfg.page_size = 5; // 12 objects: three pages against the real server's continue tokens
    let inf = Informer::<Secret>::spawn(client(cp, agent), cfg);
    synced(&inf).await;
    assert_eq!(inf.store().len(), 12);

    let events = requests(cp, agent).await;
    let lists: Vec<_> = events.iter().filter(|e| e.verb == "list").collect();
    assert_eq!(lists.len(), 3, "{events:#?}");
    assert!(
        lists
            .iter()
            .all(|e| param(e, "limit").as_deref() == Some("5"))
    );
    assert!(lists[1..].iter().all(|e| param(e, "continue").is_some()));
    assert!(!events.iter().any(is_streaming_list));
    // The watch resumes from the list's resourceVersion.
    tokio::time::timeout(TIMEOUT, async {
        loop {
            let events = requests(cp, agent).await;
            if events
                .iter()
                .any(|e| e.verb == "watch" && param(e, "resourceVersion").is_some())
            {
                break;
            }
        }
    })
    .await
    .expect("a watch after the list");
}

#[tokio::test]
async fn default_page_size_is_500() {
    assert_eq!(WatchConfig::new("x", false).page_size, 500);
}

#[tokio::test]
async fn server_without_watchlist_makes_the_cache_fall_back() {
    let cp = ControlPlane::start(Options {
        feature_gates: Some("WatchList=false".into()),
        audit: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let ns = cp.namespace("fallback").await.unwrap();
    create_secrets(&cp, &ns, 7, &[]).await;
    let agent = "kubeclient-test/fallback";
    let cfg = WatchConfig::new("secrets-fallback", true).namespace(Some(ns.name()));
    let inf = Informer::<Secret>::spawn(client(&cp, agent), cfg);
    synced(&inf).await;
    assert_eq!(inf.store().len(), 7);

    let events = requests(&cp, agent).await;
    let attempt = events
        .iter()
        .find(|e| is_streaming_list(e))
        .expect("a streaming attempt");
    let code = attempt.code.expect("a response code");
    assert!(
        matches!(code, 400 | 422),
        "the server refused the streaming list: {code}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.verb == "list" && param(e, "limit").as_deref() == Some("500")),
        "{events:#?}"
    );
    assert_eq!(
        events.iter().filter(|e| is_streaming_list(e)).count(),
        1,
        "fell back once: {events:#?}"
    );
}

#[tokio::test]
async fn metadata_only_cache_with_selector_converges_through_changes() {
    let cp = ControlPlane::shared().await.unwrap();
    let ns = cp.namespace("meta").await.unwrap();
    create_secrets(cp, &ns, 5, &[("team", "a")]).await;
    let api: Api<Secret> = Api::namespaced(cp.client(), &ns);
    let other = Secret {
        metadata: ObjectMeta {
            name: Some("unlabelled".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &other).await.unwrap();

    let cfg = WatchConfig::new("secrets-meta", true)
        .namespace(Some(ns.name()))
        .labels("team=a");
    let inf = Informer::<PartialObjectMeta<Secret>>::spawn(client(cp, "kubeclient-test/meta"), cfg);
    synced(&inf).await;
    assert_eq!(
        inf.store().len(),
        5,
        "the selector excludes the unlabelled Secret"
    );

    api.delete("s0000", &DeleteParams::default()).await.unwrap();
    create_secrets(cp, &ns, 0, &[]).await;
    let mut extra = Secret {
        metadata: ObjectMeta {
            name: Some("late".into()),
            labels: Some([("team".to_owned(), "a".to_owned())].into()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &extra).await.unwrap();
    extra.metadata.labels = Some([("team".to_owned(), "b".to_owned())].into());
    tokio::time::timeout(TIMEOUT, async {
        loop {
            let mut names: Vec<_> = inf
                .store()
                .list()
                .iter()
                .map(|s| s.metadata.name.clone().unwrap())
                .collect();
            names.sort();
            if names == ["late", "s0001", "s0002", "s0003", "s0004"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the cache follows creates and deletes");
}

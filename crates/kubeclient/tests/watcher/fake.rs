//! A fault-injecting fake API server for one resource (ConfigMaps), on loopback.
//!
//! It implements just enough of the real semantics to exercise the watcher: increasing
//! resourceVersions, an event log that a watch from a resourceVersion replays, paged lists with
//! continue tokens, streaming lists ending in the initial-events-end bookmark, and it records
//! every request. Faults are switched on per test: 422 for streaming lists, a missing or plain
//! bookmark, slow initial events, 410 Gone on the next watch, and streams that break.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

#[derive(Default, Clone)]
pub struct Faults {
    /// Answer streaming-list requests with this status (e.g. 422).
    pub reject_streaming: Option<u16>,
    /// Never send the initial-events-end bookmark.
    pub omit_end_bookmark: bool,
    /// Send a plain bookmark (no annotation) after the initial events, as old servers do.
    pub plain_bookmark: bool,
    /// Delay between initial events.
    pub initial_event_delay: Option<Duration>,
    /// Answer the next N resourceVersion watches with 410 Gone.
    pub gone_watches: usize,
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub uri: String,
    pub accept: String,
}

struct Inner {
    rv: u64,
    objects: BTreeMap<String, Value>,
    log: Vec<(u64, String)>,
    faults: Faults,
    requests: Vec<Recorded>,
    /// Break every open watch stream.
    breakers: Vec<mpsc::Sender<()>>,
}

#[derive(Clone)]
pub struct Fake {
    inner: Arc<Mutex<Inner>>,
    live: broadcast::Sender<(u64, String)>,
}

pub struct Server {
    pub fake: Fake,
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub async fn start(faults: Faults) -> Server {
        let (live, _) = broadcast::channel(10_000);
        let fake = Fake {
            inner: Arc::new(Mutex::new(Inner {
                rv: 100,
                objects: BTreeMap::new(),
                log: Vec::new(),
                faults,
                requests: Vec::new(),
                breakers: Vec::new(),
            })),
            live,
        };
        let app = axum::Router::new()
            .route("/api/v1/configmaps", axum::routing::get(handle))
            .route(
                "/api/v1/namespaces/{ns}/configmaps",
                axum::routing::get(handle),
            )
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server { fake, url, task }
    }

    pub fn set_faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.inner.lock().unwrap().faults);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Create or update an object; `logged: false` changes it without a watch event, as if the
    /// change happened while the event log was compacted away.
    pub fn put(&self, name: &str, data: &str, logged: bool) {
        let mut g = self.inner.lock().unwrap();
        g.rv += 1;
        let rv = g.rv;
        let ty = if g.objects.contains_key(name) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        let obj = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{
            "name": name, "namespace": "ns", "resourceVersion": rv.to_string(),
            "annotations": {"note": "dropped by a transform"},
            "managedFields": [{"manager": "test", "operation": "Apply"}]},
            "data": {"v": data}});
        g.objects.insert(name.to_owned(), obj.clone());
        if logged {
            let line = json!({"type": ty, "object": obj}).to_string();
            g.log.push((rv, line.clone()));
            let _ = self.live.send((rv, line));
        }
    }

    pub fn delete(&self, name: &str, logged: bool) {
        let mut g = self.inner.lock().unwrap();
        g.rv += 1;
        let rv = g.rv;
        if let Some(mut obj) = g.objects.remove(name) {
            obj["metadata"]["resourceVersion"] = json!(rv.to_string());
            if logged {
                let line = json!({"type": "DELETED", "object": obj}).to_string();
                g.log.push((rv, line.clone()));
                let _ = self.live.send((rv, line));
            }
        }
    }

    /// Break every open watch stream (the connection is reset mid-body).
    pub fn break_streams(&self) {
        let breakers = std::mem::take(&mut self.inner.lock().unwrap().breakers);
        for b in breakers {
            let _ = b.try_send(());
        }
    }
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = json!({"kind":"Status","apiVersion":"v1","status":"Failure","code":code,"reason":reason,"message":message});
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

async fn handle(
    State(fake): State<Fake>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    fake.inner.lock().unwrap().requests.push(Recorded {
        uri: uri.to_string(),
        accept,
    });
    if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
        watch(fake, q).await
    } else {
        list(fake, q)
    }
}

fn list(fake: Fake, q: BTreeMap<String, String>) -> Response {
    let g = fake.inner.lock().unwrap();
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let items: Vec<&Value> = g.objects.values().skip(start).take(limit).collect();
    let next = start + items.len();
    let cont = if next < g.objects.len() {
        next.to_string()
    } else {
        String::new()
    };
    let body = json!({"kind":"ConfigMapList","apiVersion":"v1",
        "metadata":{"resourceVersion": g.rv.to_string(), "continue": cont}, "items": items});
    axum::Json(body).into_response()
}

async fn watch(fake: Fake, q: BTreeMap<String, String>) -> Response {
    let streaming = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let (tx, rx) = mpsc::channel::<Result<String, std::io::Error>>(64);
    let (break_tx, mut break_rx) = mpsc::channel(1);
    let mut live = fake.live.subscribe();
    let (initial, replay, faults, current_rv) = {
        let mut g = fake.inner.lock().unwrap();
        let faults = g.faults.clone();
        if streaming && let Some(code) = faults.reject_streaming {
            return status(
                code,
                "Invalid",
                "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
            );
        }
        if !streaming && g.faults.gone_watches > 0 {
            g.faults.gone_watches -= 1;
            let line = json!({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",
                "code":410,"reason":"Expired","message":"too old resource version"}})
            .to_string();
            return Response::new(Body::from(line + "\n"));
        }
        g.breakers.push(break_tx);
        let from: u64 = q
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let initial: Vec<String> = if streaming {
            g.objects
                .values()
                .map(|o| json!({"type":"ADDED","object":o}).to_string())
                .collect()
        } else {
            Vec::new()
        };
        let replay: Vec<String> = if streaming {
            Vec::new()
        } else {
            g.log
                .iter()
                .filter(|(rv, _)| *rv > from)
                .map(|(_, l)| l.clone())
                .collect()
        };
        (initial, replay, faults, g.rv)
    };
    tokio::spawn(async move {
        for line in initial {
            if let Some(d) = faults.initial_event_delay {
                tokio::time::sleep(d).await;
            }
            if tx.send(Ok(line + "\n")).await.is_err() {
                return;
            }
        }
        if streaming {
            let annotations = if faults.plain_bookmark {
                json!({})
            } else {
                json!({"k8s.io/initial-events-end": "true"})
            };
            let bookmark = json!({"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1",
                "metadata":{"resourceVersion": current_rv.to_string(), "annotations": annotations}}});
            if !faults.omit_end_bookmark && tx.send(Ok(bookmark.to_string() + "\n")).await.is_err()
            {
                return;
            }
        }
        for line in replay {
            if tx.send(Ok(line + "\n")).await.is_err() {
                return;
            }
        }
        loop {
            tokio::select! {
                ev = live.recv() => match ev {
                    Ok((rv, line)) if rv > current_rv => {
                        if tx.send(Ok(line + "\n")).await.is_err() { return; }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
                _ = break_rx.recv() => {
                    let _ = tx.send(Err(std::io::Error::other("stream broken by test"))).await;
                    return;
                }
            }
        }
    });
    let stream = tokio_stream_from(rx);
    Response::new(Body::from_stream(stream))
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

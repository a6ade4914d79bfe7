//! Kubernetes Events on the objects the controllers act on (`kubectl describe` shows them), as
//! client-go's recorder writes them: core/v1 Events named `<object>.<unique suffix>`, and a
//! repeat of the same reason and message on the same object bumps `count` and
//! `lastTimestamp` instead of creating another Event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};

/// `Normal` or `Warning`, as Kubernetes spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// Remembered Events, so repeats are counted; bounded so a long-running process stays small.
const MAX_REMEMBERED: usize = 4096;

/// (object, reason, message) → (Event name, count).
type SeenEvents = HashMap<(String, String, String), (String, i32)>;

#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: String,
    seen: Arc<Mutex<SeenEvents>>,
}

impl Recorder {
    /// `component` is the Event's `source.component` (cert-manager: `cert-manager-<controller>`).
    pub fn new(client: Client, component: impl Into<String>) -> Self {
        Self {
            client,
            component: component.into(),
            seen: Default::default(),
        }
    }

    /// A recorder for another component that shares this one's memory of recorded Events.
    pub fn for_component(&self, component: impl Into<String>) -> Self {
        Self {
            client: self.client.clone(),
            component: component.into(),
            seen: self.seen.clone(),
        }
    }

    /// Records an Event on `obj` in the background: a failure to record must never fail or
    /// slow down the reconcile that reports it.
    pub fn publish<K>(&self, obj: &K, kind: EventType, reason: &str, message: impl Into<String>)
    where
        K: Resource<DynamicType = ()>,
    {
        // Events of cluster-scoped objects live in `default`, as client-go puts them.
        let namespace = obj.namespace().unwrap_or_else(|| "default".to_owned());
        let involved = ObjectReference {
            api_version: Some(K::api_version(&()).into_owned()),
            kind: Some(K::kind(&()).into_owned()),
            name: obj.meta().name.clone(),
            namespace: obj.namespace(),
            uid: obj.meta().uid.clone(),
            resource_version: obj.meta().resource_version.clone(),
            ..Default::default()
        };
        let this = self.clone();
        let (reason, message) = (reason.to_owned(), message.into());
        tokio::spawn(async move {
            if let Err(e) = this
                .record(&namespace, involved, kind, &reason, &message)
                .await
            {
                tracing::warn!(reason, error = %e, "could not record event");
            }
        });
    }

    async fn record(
        &self,
        namespace: &str,
        involved: ObjectReference,
        kind: EventType,
        reason: &str,
        message: &str,
    ) -> kube::Result<()> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let now = Time(Timestamp::now());
        let seen_key = (
            involved.uid.clone().unwrap_or_default(),
            reason.to_owned(),
            message.to_owned(),
        );
        let repeat = self.seen.lock().unwrap().get(&seen_key).cloned();
        if let Some((name, count)) = repeat {
            let patch = serde_json::json!({"count": count + 1, "lastTimestamp": now});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => {
                    self.remember(seen_key, name, count + 1);
                    return Ok(());
                }
                // Expired (events have a TTL) or deleted: record it afresh.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let object_name = involved.name.clone().unwrap_or_default();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{object_name}.{:x}", unique_suffix())),
                namespace: Some(namespace.to_owned()),
                ..Default::default()
            },
            involved_object: involved,
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            type_: Some(kind.as_str().to_owned()),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now.clone()),
            event_time: None::<MicroTime>,
            count: Some(1),
            source: Some(EventSource {
                component: Some(self.component.clone()),
                host: None,
            }),
            reporting_component: Some(self.component.clone()),
            reporting_instance: None,
            ..Default::default()
        };
        let created = api.create(&PostParams::default(), &event).await?;
        self.remember(seen_key, created.name_any(), 1);
        Ok(())
    }

    fn remember(&self, key: (String, String, String), name: String, count: i32) {
        let mut seen = self.seen.lock().unwrap();
        if seen.len() >= MAX_REMEMBERED && !seen.contains_key(&key) {
            seen.clear();
        }
        seen.insert(key, (name, count));
    }
}

/// client-go names Events `<object>.<UnixNano in hex>`; nanoseconds keep them unique.
fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

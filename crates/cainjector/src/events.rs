//! Warning events on targets whose CA cannot be injected. One event per distinct problem: a
//! target reconciled again for the same reason (e.g. on every change of an unrelated field)
//! does not produce a stream of identical events.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};

use crate::sources::Problem;
use crate::targets::TargetRef;

/// The `source.component` of our events, as upstream names the component.
pub const COMPONENT: &str = "cert-manager-cainjector";
/// Events about cluster-scoped objects live in `default`, as client-go's recorder puts them.
const EVENT_NAMESPACE: &str = "default";

pub struct Recorder {
    client: kube::Client,
    instance: String,
    reported: Mutex<HashMap<TargetRef, Problem>>,
}

impl Recorder {
    pub fn new(client: kube::Client, instance: String) -> Self {
        Self {
            client,
            instance,
            reported: Mutex::new(HashMap::new()),
        }
    }

    /// Records `problem` on the target, unless it is the one last recorded for it.
    pub async fn warn(&self, target: &TargetRef, uid: Option<&str>, problem: &Problem) {
        tracing::warn!(target = %target, reason = problem.reason, "{}", problem.message);
        {
            let mut reported = self.lock();
            if reported.get(target) == Some(problem) {
                return;
            }
            reported.insert(target.clone(), problem.clone());
        }
        let event = self.event(target, uid, problem);
        let api: Api<Event> = Api::namespaced(self.client.clone(), EVENT_NAMESPACE);
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            // An event is best effort; the log line above says the same.
            tracing::info!(target = %target, error = %e, "could not record event");
            self.lock().remove(target);
        }
    }

    /// The target is fine (again): a later problem is new.
    pub fn clear(&self, target: &TargetRef) {
        self.lock().remove(target);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TargetRef, Problem>> {
        self.reported.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn event(&self, target: &TargetRef, uid: Option<&str>, problem: &Problem) -> Event {
        let now = Timestamp::now();
        Event {
            metadata: ObjectMeta {
                // client-go's naming: the object's name and a unique hex suffix.
                name: Some(format!("{}.{:x}", target.name, now.as_nanosecond())),
                namespace: Some(EVENT_NAMESPACE.into()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some(target.kind.api_version().into()),
                kind: Some(target.kind.kind().into()),
                name: Some(target.name.clone()),
                uid: uid.map(Into::into),
                ..Default::default()
            },
            reason: Some(problem.reason.into()),
            message: Some(problem.message.clone()),
            type_: Some("Warning".into()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            source: Some(EventSource {
                component: Some(COMPONENT.into()),
                host: None,
            }),
            reporting_component: Some(COMPONENT.into()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        }
    }
}

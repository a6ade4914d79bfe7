//! The solver Service: port 8089 to the solver Pod, selected by the identity labels only.

use std::collections::BTreeMap;

use api::Challenge;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{SOLVER_NAME_PREFIX, SOLVER_PORT, extra_labels, solver_labels};

/// The solver Service for `ch`: `NodePort` unless the solver sets `serviceType`.
pub fn build(
    ch: &Challenge,
    service_type: Option<&str>,
    extra: &BTreeMap<String, String>,
    owner: OwnerReference,
) -> Service {
    let selector = solver_labels(ch);
    let mut labels = selector.clone();
    labels.extend(extra_labels(extra));
    Service {
        metadata: ObjectMeta {
            generate_name: Some(SOLVER_NAME_PREFIX.to_owned()),
            namespace: ch.metadata.namespace.clone(),
            labels: Some(labels),
            // Istio: no mutual TLS on the solver port, the ACME server speaks plain HTTP.
            annotations: Some(BTreeMap::from([(
                format!("auth.istio.io/{SOLVER_PORT}"),
                "NONE".to_owned(),
            )])),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            type_: Some(
                service_type
                    .filter(|t| !t.is_empty())
                    .unwrap_or("NodePort")
                    .to_owned(),
            ),
            ports: Some(vec![ServicePort {
                name: Some("http".to_owned()),
                port: SOLVER_PORT,
                target_port: Some(IntOrString::Int(SOLVER_PORT)),
                ..Default::default()
            }]),
            // Extra labels stay off the selector: it must match the Pod whatever they are.
            selector: Some(selector),
            ..Default::default()
        }),
        status: None,
    }
}

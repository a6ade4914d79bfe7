//! The solver Pod: acmesolver with the challenge's domain, token and key, the controller's
//! `--acme-http01-solver-*` settings, a restricted security context, then the solver's
//! `podTemplate` overrides on top (upstream's merge rules).

use std::collections::BTreeMap;

use anyhow::Context as _;
use api::Challenge;
use api::acme::AcmeChallengeSolverHttp01IngressPodTemplate;
use config::controller::AcmeHttp01Config;
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, Pod, PodSecurityContext, PodSpec, ResourceRequirements,
    SeccompProfile, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::{SOLVER_NAME_PREFIX, SOLVER_PORT, extra_labels, solver_labels};

/// The solver Pod for `ch`, not yet created.
pub fn build(
    ch: &Challenge,
    cfg: &AcmeHttp01Config,
    template: Option<&AcmeChallengeSolverHttp01IngressPodTemplate>,
    owner: OwnerReference,
) -> anyhow::Result<Pod> {
    let mut pod = default_pod(ch, cfg, owner)?;
    if let Some(template) = template {
        merge_template(&mut pod, template);
    }
    Ok(pod)
}

fn default_pod(
    ch: &Challenge,
    cfg: &AcmeHttp01Config,
    owner: OwnerReference,
) -> anyhow::Result<Pod> {
    let mut labels = solver_labels(ch);
    labels.extend(extra_labels(&cfg.solver_extra_labels));
    let resources = |cpu: &str, memory: &str, what: &str| -> anyhow::Result<_> {
        Ok(BTreeMap::from([
            ("cpu".to_owned(), quantity(cpu, what, "cpu")?),
            ("memory".to_owned(), quantity(memory, what, "memory")?),
        ]))
    };
    let requests = resources(
        &cfg.solver_resource_request_cpu,
        &cfg.solver_resource_request_memory,
        "request",
    )?;
    let limits = resources(
        &cfg.solver_resource_limits_cpu,
        &cfg.solver_resource_limits_memory,
        "limits",
    )?;
    let spec = &ch.spec;
    Ok(Pod {
        metadata: ObjectMeta {
            generate_name: Some(SOLVER_NAME_PREFIX.to_owned()),
            namespace: ch.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                // The solver must answer itself, not through a mesh proxy that may refuse
                // plain HTTP from outside.
                ("sidecar.istio.io/inject".to_owned(), "false".to_owned()),
                (
                    "cluster-autoscaler.kubernetes.io/safe-to-evict".to_owned(),
                    "true".to_owned(),
                ),
            ])),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(PodSpec {
            // acmesolver never talks to the API server.
            automount_service_account_token: Some(false),
            node_selector: Some(BTreeMap::from([(
                "kubernetes.io/os".to_owned(),
                "linux".to_owned(),
            )])),
            restart_policy: Some("OnFailure".to_owned()),
            enable_service_links: Some(false),
            runtime_class_name: Some(cfg.solver_runtime_class_name.clone())
                .filter(|s| !s.is_empty()),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(cfg.solver_run_as_non_root),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            containers: vec![Container {
                name: "acmesolver".to_owned(),
                image: Some(cfg.solver_image.clone()),
                image_pull_policy: Some("IfNotPresent".to_owned()),
                args: Some(solver_args(&spec.dns_name, &spec.token, &spec.key)),
                resources: Some(ResourceRequirements {
                    requests: Some(requests),
                    limits: Some(limits),
                    ..Default::default()
                }),
                ports: Some(vec![ContainerPort {
                    name: Some("http".to_owned()),
                    container_port: SOLVER_PORT,
                    ..Default::default()
                }]),
                security_context: Some(SecurityContext {
                    read_only_root_filesystem: Some(true),
                    allow_privilege_escalation: Some(false),
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".to_owned()]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    })
}

/// acmesolver's command line.
pub fn solver_args(domain: &str, token: &str, key: &str) -> Vec<String> {
    vec![
        format!("--listen-port={SOLVER_PORT}"),
        format!("--domain={domain}"),
        format!("--token={token}"),
        format!("--key={key}"),
    ]
}

/// Config values are validated when the controller starts; an empty one is still refused
/// here with the flag's name rather than sent to the API server.
fn quantity(value: &str, what: &str, resource: &str) -> anyhow::Result<Quantity> {
    Some(value.trim())
        .filter(|v| !v.is_empty())
        .map(|v| Quantity(v.to_owned()))
        .with_context(|| format!("--acme-http01-solver-resource-{what}-{resource} is empty"))
}

/// Upstream's `mergePodObjectMetaWithPodTemplate`: labels, annotations and the node selector
/// are merged (the template wins), tolerations and image pull secrets appended, affinity,
/// priority class and service account replaced when set, the security context replaced as a
/// whole when given, and resource requests/limits merged per resource.
fn merge_template(pod: &mut Pod, template: &AcmeChallengeSolverHttp01IngressPodTemplate) {
    if let Some(meta) = &template.metadata {
        if let Some(labels) = &meta.labels {
            pod.metadata
                .labels
                .get_or_insert_default()
                .extend(labels.clone());
        }
        if let Some(annotations) = &meta.annotations {
            pod.metadata
                .annotations
                .get_or_insert_default()
                .extend(annotations.clone());
        }
    }
    let Some(t) = &template.spec else {
        return;
    };
    let spec = pod.spec.get_or_insert_default();
    if let Some(selector) = &t.node_selector {
        spec.node_selector
            .get_or_insert_default()
            .extend(selector.clone());
    }
    if let Some(tolerations) = t.tolerations.as_ref().filter(|t| !t.is_empty()) {
        spec.tolerations
            .get_or_insert_default()
            .extend(tolerations.iter().cloned());
    }
    if let Some(affinity) = &t.affinity {
        spec.affinity = Some(affinity.clone());
    }
    if let Some(name) = t.priority_class_name.as_ref().filter(|s| !s.is_empty()) {
        spec.priority_class_name = Some(name.clone());
    }
    if let Some(name) = t.service_account_name.as_ref().filter(|s| !s.is_empty()) {
        spec.service_account_name = Some(name.clone());
    }
    if let Some(secrets) = t.image_pull_secrets.as_ref().filter(|s| !s.is_empty()) {
        spec.image_pull_secrets
            .get_or_insert_default()
            .extend(secrets.iter().cloned());
    }
    if let Some(sc) = &t.security_context {
        spec.security_context = Some(PodSecurityContext {
            se_linux_options: sc.se_linux_options.clone(),
            run_as_user: sc.run_as_user,
            run_as_group: sc.run_as_group,
            run_as_non_root: sc.run_as_non_root,
            supplemental_groups: sc.supplemental_groups.clone(),
            fs_group: sc.fs_group,
            sysctls: sc.sysctls.clone(),
            fs_group_change_policy: sc.fs_group_change_policy.clone(),
            seccomp_profile: sc.seccomp_profile.clone(),
            ..Default::default()
        });
    }
    if let (Some(res), Some(container)) = (&t.resources, spec.containers.first_mut()) {
        let resources = container.resources.get_or_insert_default();
        if let Some(requests) = &res.requests {
            resources
                .requests
                .get_or_insert_default()
                .extend(requests.clone());
        }
        if let Some(limits) = &res.limits {
            resources
                .limits
                .get_or_insert_default()
                .extend(limits.clone());
        }
    }
}

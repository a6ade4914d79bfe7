//! From the manifest helm installed to the command line of each component: the container's
//! arguments with Kubernetes' `$(VAR)` expansion, its environment, and its ConfigMap mounts.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;
use serde::Deserialize;

use crate::{Error, Result};

/// The three components of the chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// `controller`
    Controller,
    /// `cainjector`
    Cainjector,
    /// `webhook`
    Webhook,
}

impl Component {
    /// All of them, in the order they are reported.
    pub const ALL: [Component; 3] = [
        Component::Controller,
        Component::Cainjector,
        Component::Webhook,
    ];

    /// The binary's name, the value of the chart's `app.kubernetes.io/component` label.
    pub fn name(self) -> &'static str {
        match self {
            Component::Controller => "controller",
            Component::Cainjector => "cainjector",
            Component::Webhook => "webhook",
        }
    }

    fn from_label(label: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == label)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A ConfigMap volume mounted into the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMapMount {
    /// Where the container sees it, e.g. `/var/cert-manager/config`.
    pub mount_path: String,
    /// The ConfigMap's name (in the Deployment's namespace).
    pub config_map: String,
}

/// What one component's Deployment runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentSpec {
    /// Which component.
    pub component: Component,
    /// The Deployment's name.
    pub deployment: String,
    /// The first container's arguments, `$(VAR)` references expanded.
    pub args: Vec<String>,
    /// The container's environment, in order (`fieldRef`s resolved).
    pub env: Vec<(String, String)>,
    /// The ConfigMap volumes mounted into the container.
    pub config_maps: Vec<ConfigMapMount>,
    /// Whether a rollout must start a new replica before it may stop an old one (RollingUpdate
    /// with an absolute maxUnavailable of 0, the default for one replica).
    pub surge_first: bool,
}

/// The specs of the components' Deployments in a (multi-document) manifest, as installed into
/// `namespace` (the value of a `metadata.namespace` fieldRef).
pub fn component_specs(manifest: &str, namespace: &str) -> Result<Vec<ComponentSpec>> {
    let mut specs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(manifest) {
        let value = serde_yaml::Value::deserialize(doc)
            .map_err(|e| Error::Manifest(format!("not YAML: {e}")))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some("Deployment") {
            continue;
        }
        let deployment: Deployment = serde_yaml::from_value(value)
            .map_err(|e| Error::Manifest(format!("a Deployment that does not decode: {e}")))?;
        specs.push(spec_of(&deployment, namespace)?);
    }
    specs.sort_by_key(|s| s.component);
    Ok(specs)
}

fn spec_of(deployment: &Deployment, namespace: &str) -> Result<ComponentSpec> {
    let name = deployment.metadata.name.clone().unwrap_or_default();
    let label = deployment
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/component"))
        .ok_or_else(|| {
            Error::Manifest(format!(
                "Deployment {name} has no app.kubernetes.io/component label"
            ))
        })?;
    let component = Component::from_label(label).ok_or_else(|| {
        Error::Manifest(format!("Deployment {name}: unknown component {label:?}"))
    })?;
    let pod = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .ok_or_else(|| Error::Manifest(format!("Deployment {name} has no Pod template")))?;
    let container = pod
        .containers
        .first()
        .ok_or_else(|| Error::Manifest(format!("Deployment {name} has no container")))?;
    let env = environment(container, &name, namespace)?;
    let lookup: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = container
        .args
        .iter()
        .flatten()
        .map(|a| expand(a, &lookup))
        .collect();
    let volumes: BTreeMap<&str, &str> = pod
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            v.config_map
                .as_ref()
                .map(|cm| (v.name.as_str(), cm.name.as_str()))
        })
        .collect();
    let config_maps = container
        .volume_mounts
        .iter()
        .flatten()
        .filter_map(|m| {
            volumes.get(m.name.as_str()).map(|cm| ConfigMapMount {
                mount_path: m.mount_path.clone(),
                config_map: (*cm).to_owned(),
            })
        })
        .collect();
    Ok(ComponentSpec {
        component,
        deployment: name,
        args,
        env,
        config_maps,
        surge_first: surge_first(deployment),
    })
}

/// Kubernetes' rollout arithmetic for the Deployment's strategy: with RollingUpdate (the
/// default), maxUnavailable (default 25%) rounds down against the replicas; when that is 0,
/// no old replica may go before a new one is available.
fn surge_first(deployment: &Deployment) -> bool {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let spec = deployment.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1).max(0);
    let strategy = spec.and_then(|s| s.strategy.as_ref());
    if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        return false;
    }
    let max_unavailable = strategy
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.clone())
        .unwrap_or(IntOrString::String("25%".into()));
    let absolute = match max_unavailable {
        IntOrString::Int(n) => n,
        IntOrString::String(p) => {
            let percent: i32 = p.trim_end_matches('%').parse().unwrap_or(0);
            replicas * percent / 100
        }
    };
    absolute == 0 && replicas > 0
}

/// The container's environment: literal values and the Pod's `metadata.namespace` /
/// `metadata.name`; anything else (Secret or ConfigMap references, resource fields) has no
/// meaning outside a Pod and is refused by name.
fn environment(
    container: &Container,
    deployment: &str,
    namespace: &str,
) -> Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(v), _) => v.clone(),
            (None, None) => String::new(),
            (None, Some(from)) => match from.field_ref.as_ref().map(|f| f.field_path.as_str()) {
                Some("metadata.namespace") => namespace.to_owned(),
                Some("metadata.name") => format!("{deployment}-e2e"),
                _ => {
                    return Err(Error::Manifest(format!(
                        "Deployment {deployment}: env {} uses a valueFrom that a process cannot have",
                        var.name
                    )));
                }
            },
        };
        // As in Kubernetes, a later variable may refer to an earlier one.
        let earlier: BTreeMap<&str, &str> = env
            .iter()
            .map(|(k, v): &(String, String)| (k.as_str(), v.as_str()))
            .collect();
        let value = expand(&value, &earlier);
        env.push((var.name.clone(), value));
    }
    Ok(env)
}

/// Kubernetes' expansion of `$(VAR)` in arguments: defined variables are replaced, `$$` is a
/// literal `$`, undefined references are left as they are.
pub fn expand(s: &str, env: &BTreeMap<&str, &str>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match env.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[i..i + 3 + end]),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `args` without the flags named in `drop` (`--name=value` or `--name value`).
pub fn without_flags(args: &[String], drop: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        if !drop.contains(&name) {
            out.push(arg.clone());
            continue;
        }
        // `--name value`: the value is the next argument unless that is a flag itself.
        if !arg.contains('=') && it.as_slice().first().is_some_and(|n| !n.starts_with('-')) {
            it.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
---
# Source: cert-manager-rs/templates/webhook-service.yaml
apiVersion: v1
kind: Service
metadata: {name: cert-manager-webhook}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cert-manager-webhook
  labels: {app.kubernetes.io/component: webhook}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      volumes:
        - name: config
          configMap: {name: cert-manager-webhook}
      containers:
        - name: cert-manager-webhook
          image: x
          args:
            - --v=2
            - --dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)
            - --dynamic-serving-dns-names=cert-manager-webhook.$(POD_NAMESPACE).svc
            - --literal=$$(POD_NAMESPACE)
            - --unknown=$(NOPE)
          env:
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
            - name: KUBE_FEATURE_WatchListClient
              value: "false"
            - name: DERIVED
              value: "$(POD_NAMESPACE)-x"
          volumeMounts:
            - {name: config, mountPath: /var/cert-manager/config}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cert-manager
  labels: {app.kubernetes.io/component: controller}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - {name: c, image: x, args: [--v=2]}
"#;

    #[test]
    fn specs_from_a_manifest() {
        let specs = component_specs(MANIFEST, "ns1").unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].component, Component::Controller);
        assert_eq!(specs[0].args, ["--v=2"]);
        let webhook = &specs[1];
        assert_eq!(webhook.deployment, "cert-manager-webhook");
        assert_eq!(
            webhook.args,
            [
                "--v=2",
                "--dynamic-serving-ca-secret-namespace=ns1",
                "--dynamic-serving-dns-names=cert-manager-webhook.ns1.svc",
                "--literal=$(POD_NAMESPACE)",
                "--unknown=$(NOPE)",
            ]
        );
        assert_eq!(
            webhook.env,
            [
                ("POD_NAMESPACE".to_owned(), "ns1".to_owned()),
                (
                    "KUBE_FEATURE_WatchListClient".to_owned(),
                    "false".to_owned()
                ),
                ("DERIVED".to_owned(), "ns1-x".to_owned()),
            ]
        );
        assert_eq!(
            webhook.config_maps,
            [ConfigMapMount {
                mount_path: "/var/cert-manager/config".into(),
                config_map: "cert-manager-webhook".into()
            }]
        );
    }

    #[test]
    fn rollout_order_follows_the_strategy() {
        let with = |strategy: &str, replicas: i32| {
            let yaml = format!(
                "metadata: {{name: d}}\nspec: {{replicas: {replicas}, selector: {{}}, template: {{}}, strategy: {strategy}}}"
            );
            surge_first(&serde_yaml::from_str(&yaml).unwrap())
        };
        assert!(with("{}", 1), "default 25% of 1 rounds down to 0");
        assert!(with("{}", 3));
        assert!(!with("{}", 4));
        assert!(!with("{type: Recreate}", 1));
        assert!(!with(
            "{rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}",
            1
        ));
        assert!(with("{rollingUpdate: {maxUnavailable: 0}}", 5));
    }

    #[test]
    fn secret_env_is_refused_by_name() {
        let manifest = MANIFEST.replace(
            "valueFrom: {fieldRef: {fieldPath: metadata.namespace}}",
            "valueFrom: {secretKeyRef: {name: s, key: k}}",
        );
        let err = component_specs(&manifest, "ns1").unwrap_err().to_string();
        assert!(
            err.contains("cert-manager-webhook: env POD_NAMESPACE"),
            "{err}"
        );
    }

    #[test]
    fn expansion_edge_cases() {
        let env: BTreeMap<&str, &str> = [("A", "1")].into();
        assert_eq!(expand("$(A)$(A)", &env), "11");
        assert_eq!(expand("$", &env), "$");
        assert_eq!(expand("$(A", &env), "$(A");
        assert_eq!(expand("x$y", &env), "x$y");
        assert_eq!(expand("$$$(A)", &env), "$1");
    }

    #[test]
    fn flags_are_dropped_in_both_spellings() {
        let args: Vec<String> = ["--a=1", "--b", "2", "--c", "--d=4", "--b=5"]
            .map(String::from)
            .to_vec();
        assert_eq!(without_flags(&args, &["--b"]), ["--a=1", "--c", "--d=4"]);
        assert_eq!(
            without_flags(&args, &["--c"]),
            ["--a=1", "--b", "2", "--d=4", "--b=5"]
        );
    }
}

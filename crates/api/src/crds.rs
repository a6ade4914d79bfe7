//! CustomResourceDefinitions generated from the types, in the shape cert-manager ships them.
//!
//! `kube`'s derive produces the CRD and a schemars schema; [`all`] then brings the result in
//! line with upstream's `deploy/crds`: no `nullable` (schemars marks every `Option`), no
//! `default` except the deliberate ones, no `title`, `listKind` set, and the standard
//! `apiVersion`/`kind`/`metadata` properties at the root. [`render`] writes YAML with sorted
//! keys so the checked-in files diff cleanly.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::{Map, Value, json};

use crate::schema::{KEEP_DEFAULT, REQUIRED};

/// Failure to build or render a CRD.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    #[error("converting the {crd} CRD: {source}")]
    Json {
        crd: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("rendering the {crd} CRD as YAML: {source}")]
    Yaml {
        crd: String,
        #[source]
        source: serde_yaml::Error,
    },
}

/// Root-level facts that are not in the Rust types.
struct RootShape {
    /// Properties required at the root (upstream marks `metadata` required on the ACME kinds).
    required: &'static [&'static str],
}

/// The six CRDs, normalised.
pub fn all() -> Result<Vec<CustomResourceDefinition>, CrdError> {
    Ok(vec![
        build::<crate::Certificate>(RootShape { required: &[] })?,
        build::<crate::CertificateRequest>(RootShape { required: &[] })?,
        build::<crate::Issuer>(RootShape {
            required: &["spec"],
        })?,
        build::<crate::ClusterIssuer>(RootShape {
            required: &["spec"],
        })?,
        build::<crate::Order>(RootShape {
            required: &["metadata", "spec"],
        })?,
        build::<crate::Challenge>(RootShape {
            required: &["metadata", "spec"],
        })?,
    ])
}

/// The CRD of `K`: names, columns and subresources from kube's derive, the schema generated
/// here. kube's own `crd()` passes the schema through `JSONSchemaProps`, which would drop the
/// private markers [`clean_schema`] works from, so the schema is generated with the same
/// settings but kept as JSON until it is clean.
fn build<K>(shape: RootShape) -> Result<CustomResourceDefinition, CrdError>
where
    K: CustomResourceExt + schemars::JsonSchema,
{
    let crd = K::crd();
    let name = crd.metadata.name.clone().unwrap_or_default();
    let json_err = |source| CrdError::Json {
        crd: name.clone(),
        source,
    };

    let generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(kube::core::schema::StructuralSchemaRewriter)
        .with_transform(kube::core::schema::OptionalEnum)
        .with_transform(kube::core::schema::OptionalIntOrString)
        .into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<K>()).map_err(json_err)?;
    clean_schema(&mut schema, false);
    shape_root(&mut schema, &shape);

    let mut value = serde_json::to_value(&crd).map_err(json_err)?;
    let kind = value["spec"]["names"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    value["spec"]["names"]["listKind"] = Value::String(format!("{kind}List"));
    if let Some(versions) = value["spec"]["versions"].as_array_mut() {
        for version in versions {
            version["schema"]["openAPIV3Schema"] = schema.clone();
        }
    }
    serde_json::from_value(value).map_err(json_err)
}

/// File name for a CRD: `<plural>.<group>.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// Every CRD as `(file name, YAML)`, in a stable order.
pub fn files() -> Result<Vec<(String, String)>, CrdError> {
    all()?
        .iter()
        .map(|crd| Ok((file_name(crd), render(crd)?)))
        .collect()
}

/// YAML for one CRD, keys sorted, with a header saying where it comes from.
pub fn render(crd: &CustomResourceDefinition) -> Result<String, CrdError> {
    let name = crd.metadata.name.clone().unwrap_or_default();
    let value = serde_json::to_value(crd).map_err(|source| CrdError::Json {
        crd: name.clone(),
        source,
    })?;
    let body = serde_yaml::to_string(&sorted_yaml(&value))
        .map_err(|source| CrdError::Yaml { crd: name, source })?;
    Ok(format!(
        "# Generated from crates/api by `cargo run -p api --bin crdgen -- charts/cert-manager-rs/crds`.\n\
         # Do not edit by hand.\n---\n{body}"
    ))
}

/// Adds the standard object properties and the upstream root `required` list.
fn shape_root(schema: &mut Value, shape: &RootShape) {
    let Some(root) = schema.as_object_mut() else {
        return;
    };
    let props = root
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(props) = props.as_object_mut() {
        props.insert(
            "apiVersion".into(),
            json!({
                "description": "APIVersion is the versioned schema of this representation of the object; servers convert recognised schemas to the latest internal value and may reject unknown ones. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                "type": "string",
            }),
        );
        props.insert(
            "kind".into(),
            json!({
                "description": "Kind is the REST resource this object represents, in CamelCase; servers may infer it from the endpoint. It cannot be updated. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "type": "string",
            }),
        );
        props.insert("metadata".into(), json!({ "type": "object" }));
    }
    if shape.required.is_empty() {
        root.remove("required");
    } else {
        root.insert("required".into(), json!(shape.required));
    }
}

/// Recursively removes what upstream does not have, restores the deliberate defaults, turns
/// the required markers into `required` lists and adds the list/map markers the Kubernetes
/// types carry.
fn clean_schema(node: &mut Value, in_map_values: bool) {
    match node {
        Value::Object(map) => {
            map.remove("nullable");
            map.remove("title");
            map.remove("$schema");
            map.remove("default");
            if let Some(keep) = map.remove(KEEP_DEFAULT) {
                map.insert("default".into(), keep);
            }
            if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
                // Quantities (the only int-or-string values here): use the API server's own
                // form. k8s-openapi's carries a page of description, and kube's structural
                // rewrite strips the types out of `anyOf`.
                *node = crate::schema::quantity();
                return;
            }
            // `Option<enum>` gains a `null` member on the way through kube's transforms.
            if let Some(Value::Array(members)) = map.get_mut("enum") {
                members.retain(|m| !m.is_null());
            }
            collect_required(map);
            if !in_map_values {
                add_kubernetes_markers(map);
            }
            for (key, child) in map.iter_mut() {
                // Literal values (enum members, defaults, CEL rules) are not schemas.
                if matches!(
                    key.as_str(),
                    "enum" | "default" | "x-kubernetes-validations"
                ) {
                    continue;
                }
                clean_schema(child, key == "additionalProperties");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| clean_schema(i, false)),
        _ => {}
    }
}

/// Moves [`REQUIRED`] markers of the properties into this object's sorted `required` list.
fn collect_required(map: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = map.get_mut("properties") else {
        return;
    };
    let mut required: Vec<String> = Vec::new();
    for (name, prop) in props.iter_mut() {
        if let Some(prop) = prop.as_object_mut()
            && prop.remove(REQUIRED).is_some()
        {
            required.push(name.clone());
        }
    }
    if let Some(Value::Array(existing)) = map.get("required") {
        required.extend(
            existing
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned)),
        );
    }
    required.sort();
    required.dedup();
    if required.is_empty() {
        map.remove("required");
    } else {
        map.insert("required".into(), json!(required));
    }
}

/// k8s-openapi's schemas for the solver pod's scheduling types leave out the list and map
/// markers of the Go types. Every list among them is atomic, and selectors and node selector
/// terms are atomic maps; recognise those by their properties.
fn add_kubernetes_markers(map: &mut Map<String, Value>) {
    if map.get("type").and_then(Value::as_str) == Some("array")
        && !map.contains_key("x-kubernetes-list-type")
    {
        map.insert("x-kubernetes-list-type".into(), json!("atomic"));
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        let atomic_struct = matches!(
            names.as_slice(),
            ["matchExpressions", "matchLabels"]
                | ["matchExpressions", "matchFields"]
                | ["nodeSelectorTerms"]
        );
        if atomic_struct && !map.contains_key("x-kubernetes-map-type") {
            map.insert("x-kubernetes-map-type".into(), json!("atomic"));
        }
    }
}

/// A YAML value with every mapping's keys in byte order (as controller-gen writes them),
/// independent of how `serde_json` orders its maps.
fn sorted_yaml(value: &Value) -> serde_yaml::Value {
    match value {
        Value::Null => serde_yaml::Value::Null,
        Value::Bool(b) => serde_yaml::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_yaml::Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                serde_yaml::Value::Number(u.into())
            } else {
                // JSONSchemaProps holds `minimum`/`maximum` as floats; write whole numbers as
                // integers, as upstream does.
                let f = n.as_f64().unwrap_or_default();
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    serde_yaml::Value::Number((f as i64).into())
                } else {
                    serde_yaml::Value::Number(f.into())
                }
            }
        }
        Value::String(s) => serde_yaml::Value::String(s.clone()),
        Value::Array(items) => serde_yaml::Value::Sequence(items.iter().map(sorted_yaml).collect()),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = serde_yaml::Mapping::new();
            for key in keys {
                out.insert(
                    serde_yaml::Value::String(key.clone()),
                    sorted_yaml(&map[key]),
                );
            }
            serde_yaml::Value::Mapping(out)
        }
    }
}

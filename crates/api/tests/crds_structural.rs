//! Every generated schema must be structural (the API server rejects CRDs that are not) and
//! carry the upstream names, scopes, columns and markers.

use api::crds;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

fn schemas() -> Vec<(String, Value)> {
    crds::all()
        .unwrap()
        .into_iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap();
            let schema = serde_json::to_value(
                crd.spec.versions[0]
                    .schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema
                    .as_ref()
                    .unwrap(),
            )
            .unwrap();
            (name, schema)
        })
        .collect()
}

/// Checks the structural schema rules on one node and below, collecting problems.
fn walk(node: &Value, path: &str, in_value_validation: bool, problems: &mut Vec<String>) {
    let Some(map) = node.as_object() else {
        problems.push(format!("{path}: schema is not an object"));
        return;
    };
    for forbidden in [
        "$ref",
        "definitions",
        "$defs",
        "$schema",
        "nullable",
        "title",
    ] {
        if map.contains_key(forbidden) {
            problems.push(format!("{path}: has `{forbidden}`"));
        }
    }
    let int_or_string = map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let preserve = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if !in_value_validation && !map.contains_key("type") && !int_or_string && !preserve {
        problems.push(format!("{path}: no `type`"));
    }
    if map.contains_key("type") && int_or_string {
        problems.push(format!(
            "{path}: `type` together with x-kubernetes-int-or-string"
        ));
    }
    for combinator in ["allOf", "anyOf", "oneOf", "not"] {
        if let Some(sub) = map.get(combinator) {
            // Inside value validations only value constraints are allowed; the one use here is
            // int-or-string's `anyOf: [{type: integer}, {type: string}]`.
            if combinator == "anyOf" && int_or_string {
                let types: Vec<&str> = sub
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["type"].as_str())
                    .collect();
                if types != ["integer", "string"] {
                    problems.push(format!("{path}: int-or-string anyOf is {sub}"));
                }
            } else {
                problems.push(format!("{path}: uses `{combinator}`"));
            }
        }
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        if map.get("type").and_then(Value::as_str) != Some("object") {
            problems.push(format!("{path}: properties without type object"));
        }
        for (k, v) in props {
            walk(v, &format!("{path}.{k}"), false, problems);
        }
    }
    if let Some(required) = map.get("required") {
        let props = map.get("properties").and_then(Value::as_object);
        for r in required.as_array().into_iter().flatten() {
            let r = r.as_str().unwrap_or_default();
            if props.is_none_or(|p| !p.contains_key(r)) {
                problems.push(format!("{path}: required `{r}` is not a property"));
            }
        }
    }
    if let Some(items) = map.get("items") {
        if map.get("type").and_then(Value::as_str) != Some("array") {
            problems.push(format!("{path}: items without type array"));
        }
        walk(items, &format!("{path}[]"), false, problems);
    }
    match map.get("additionalProperties") {
        Some(Value::Object(_)) => {
            if map.contains_key("properties") {
                problems.push(format!("{path}: both properties and additionalProperties"));
            }
            walk(
                &map["additionalProperties"],
                &format!("{path}{{}}"),
                false,
                problems,
            );
        }
        Some(Value::Bool(_)) => problems.push(format!("{path}: boolean additionalProperties")),
        _ => {}
    }
    if map.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
        let keys = map["x-kubernetes-list-map-keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let item = &map["items"];
        for key in keys {
            let key = key.as_str().unwrap();
            let required = item["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == key));
            let defaulted = item["properties"][key].get("default").is_some();
            if !required && !defaulted {
                problems.push(format!(
                    "{path}: map key `{key}` neither required nor defaulted"
                ));
            }
        }
    }
    if preserve && map.contains_key("properties") {
        problems.push(format!(
            "{path}: preserve-unknown-fields on an object with properties"
        ));
    }
}

#[test]
fn schemas_are_structural() {
    let mut problems = Vec::new();
    for (name, schema) in schemas() {
        walk(&schema, &name, false, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "non-structural schema nodes:\n{}",
        problems.join("\n")
    );
}

#[test]
fn only_the_webhook_config_preserves_unknown_fields() {
    fn find(node: &Value, path: &str, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
                    out.push(path.to_owned());
                }
                for (k, v) in map {
                    find(v, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| find(v, path, out)),
            _ => {}
        }
    }
    for (name, schema) in schemas() {
        let mut found = Vec::new();
        find(&schema, "", &mut found);
        assert!(
            found
                .iter()
                .all(|p| p.ends_with(".dns01.properties.webhook.properties.config")),
            "{name}: unexpected preserve-unknown-fields at {found:?}"
        );
    }
}

fn crd(name: &str) -> CustomResourceDefinition {
    crds::all()
        .unwrap()
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some(name))
        .unwrap()
}

#[test]
fn names_scopes_and_categories_match_upstream() {
    // (CRD name, kind, scope, short names, categories)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], &'a [&'a str]);
    let cases: [Case; 6] = [
        (
            "certificates.cert-manager.io",
            "Certificate",
            "Namespaced",
            &["cert", "certs"],
            &["cert-manager"],
        ),
        (
            "certificaterequests.cert-manager.io",
            "CertificateRequest",
            "Namespaced",
            &["cr", "crs"],
            &["cert-manager"],
        ),
        (
            "issuers.cert-manager.io",
            "Issuer",
            "Namespaced",
            &["iss"],
            &["cert-manager"],
        ),
        (
            "clusterissuers.cert-manager.io",
            "ClusterIssuer",
            "Cluster",
            &["ciss"],
            &["cert-manager"],
        ),
        (
            "orders.acme.cert-manager.io",
            "Order",
            "Namespaced",
            &[],
            &["cert-manager", "cert-manager-acme"],
        ),
        (
            "challenges.acme.cert-manager.io",
            "Challenge",
            "Namespaced",
            &[],
            &["cert-manager", "cert-manager-acme"],
        ),
    ];
    for (name, kind, scope, short, categories) in cases {
        let c = crd(name);
        assert_eq!(c.spec.names.kind, kind);
        assert_eq!(
            c.spec.names.list_kind.as_deref(),
            Some(format!("{kind}List").as_str())
        );
        assert_eq!(c.spec.scope, scope);
        assert_eq!(
            c.spec.names.short_names.clone().unwrap_or_default(),
            short,
            "{name}"
        );
        assert_eq!(
            c.spec.names.categories.clone().unwrap_or_default(),
            categories,
            "{name}"
        );
        let v = &c.spec.versions[0];
        assert_eq!((v.name.as_str(), v.served, v.storage), ("v1", true, true));
        assert!(
            v.subresources.as_ref().unwrap().status.is_some(),
            "{name} has a status subresource"
        );
    }
}

#[test]
fn printer_columns_match_upstream() {
    let columns = |name: &str| -> Vec<(String, String, i32)> {
        crd(name).spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.json_path, c.priority.unwrap_or(0)))
            .collect()
    };
    let ready = r#".status.conditions[?(@.type == "Ready")].status"#;
    let message = r#".status.conditions[?(@.type == "Ready")].message"#;
    let age = ".metadata.creationTimestamp";
    let owned = |v: &[(&str, &str, i32)]| -> Vec<(String, String, i32)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
            .collect()
    };
    assert_eq!(
        columns("certificates.cert-manager.io"),
        owned(&[
            ("Ready", ready, 0),
            ("Secret", ".spec.secretName", 0),
            ("Issuer", ".spec.issuerRef.name", 1),
            ("Status", message, 1),
            ("Age", age, 0)
        ])
    );
    assert_eq!(
        columns("certificaterequests.cert-manager.io"),
        owned(&[
            (
                "Approved",
                r#".status.conditions[?(@.type == "Approved")].status"#,
                0
            ),
            (
                "Denied",
                r#".status.conditions[?(@.type == "Denied")].status"#,
                0
            ),
            ("Ready", ready, 0),
            ("Issuer", ".spec.issuerRef.name", 0),
            ("Requester", ".spec.username", 0),
            ("Status", message, 1),
            ("Age", age, 0),
        ])
    );
    for name in ["issuers.cert-manager.io", "clusterissuers.cert-manager.io"] {
        assert_eq!(
            columns(name),
            owned(&[("Ready", ready, 0), ("Status", message, 1), ("Age", age, 0)])
        );
    }
    assert_eq!(
        columns("orders.acme.cert-manager.io"),
        owned(&[
            ("State", ".status.state", 0),
            ("Issuer", ".spec.issuerRef.name", 1),
            ("Reason", ".status.reason", 1),
            ("Age", age, 0)
        ])
    );
    assert_eq!(
        columns("challenges.acme.cert-manager.io"),
        owned(&[
            ("State", ".status.state", 0),
            ("Domain", ".spec.dnsName", 0),
            ("Reason", ".status.reason", 1),
            ("Age", age, 0)
        ])
    );
}

#[test]
fn markers_where_upstream_has_them() {
    let cert = schemas()
        .into_iter()
        .find(|(n, _)| n == "certificates.cert-manager.io")
        .unwrap()
        .1;
    let spec = &cert["properties"]["spec"];
    assert_eq!(
        spec["required"],
        serde_json::json!(["issuerRef", "secretName"])
    );
    assert_eq!(
        spec["properties"]["dnsNames"]["x-kubernetes-list-type"],
        "atomic"
    );
    let conditions = &cert["properties"]["status"]["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(
        conditions["x-kubernetes-list-map-keys"],
        serde_json::json!(["type"])
    );
    assert_eq!(
        spec["properties"]["privateKey"]["properties"]["size"],
        serde_json::json!({
            "description": spec["properties"]["privateKey"]["properties"]["size"]["description"],
            "type": "integer",
        })
    );
    assert_eq!(
        spec["properties"]["usages"]["items"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        23
    );

    let issuer = schemas()
        .into_iter()
        .find(|(n, _)| n == "issuers.cert-manager.io")
        .unwrap()
        .1;
    let solver =
        &issuer["properties"]["spec"]["properties"]["acme"]["properties"]["solvers"]["items"];
    let pod_spec = &solver["properties"]["http01"]["properties"]["ingress"]["properties"]["podTemplate"]
        ["properties"]["spec"];
    let limits =
        &pod_spec["properties"]["resources"]["properties"]["limits"]["additionalProperties"];
    assert_eq!(limits["x-kubernetes-int-or-string"], true);
    let pull = &pod_spec["properties"]["imagePullSecrets"];
    assert_eq!(pull["x-kubernetes-list-type"], "map");
    assert_eq!(pull["items"]["properties"]["name"]["default"], "");
    let parent = &solver["properties"]["http01"]["properties"]["gatewayHTTPRoute"]["properties"]["parentRefs"]
        ["items"];
    assert_eq!(parent["properties"]["kind"]["default"], "Gateway");
    assert_eq!(
        parent["properties"]["group"]["default"],
        "gateway.networking.k8s.io"
    );
    assert_eq!(
        parent["properties"]["port"]["maximum"].as_f64(),
        Some(65535.0)
    );
    let venafi = &issuer["properties"]["spec"]["properties"]["venafi"];
    assert_eq!(
        venafi["x-kubernetes-validations"][0]["message"],
        "exactly one of tpp, cloud, or ngts must be configured"
    );
}

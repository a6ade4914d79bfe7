//! The shared control plane behaves like a real API server.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use futures::{AsyncBufReadExt as _, TryStreamExt as _};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{
    Api, DynamicObject, GroupVersionKind, ListParams, ObjectMeta, Patch, PatchParams, PostParams,
};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use testkit::ControlPlane;

async fn cp() -> &'static ControlPlane {
    ControlPlane::shared().await.expect("shared control plane")
}

fn configmap(name: String) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("k".to_string(), "v".to_string())])),
        ..Default::default()
    }
}

fn secret(name: String) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "key".to_string(),
            ByteString(vec![7; 64]),
        )])),
        ..Default::default()
    }
}

#[tokio::test]
async fn paged_list() -> anyhow::Result<()> {
    let cp = cp().await;
    let ns = cp.namespace("paged").await?;
    let api: Api<ConfigMap> = Api::namespaced(cp.client(), &ns);
    for i in 0..7 {
        api.create(&PostParams::default(), &configmap(format!("cm-{i}")))
            .await?;
    }
    let (mut names, mut token, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let mut lp = ListParams::default().limit(3);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await?;
        pages += 1;
        ensure!(page.items.len() <= 3, "page of {} items", page.items.len());
        names.extend(page.items.iter().filter_map(|c| c.metadata.name.clone()));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("cm-{i}")).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn metadata_only_list() -> anyhow::Result<()> {
    let cp = cp().await;
    let ns = cp.namespace("metadata").await?;
    let api: Api<Secret> = Api::namespaced(cp.client(), &ns);
    for i in 0..3 {
        api.create(&PostParams::default(), &secret(format!("s-{i}")))
            .await?;
    }
    let req = http::Request::get(format!("/api/v1/namespaces/{ns}/secrets"))
        .header(
            "Accept",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )
        .body(Vec::new())?;
    let list: Value = serde_json::from_str(&cp.client().request_text(req).await?)?;
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1");
    let items = list["items"].as_array().context("items")?;
    assert_eq!(items.len(), 3);
    for item in items {
        assert_eq!(item["kind"], "PartialObjectMetadata");
        assert!(
            item.get("data").is_none(),
            "payload leaked into metadata list: {item}"
        );
        assert!(
            item["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .starts_with("s-")
        );
    }
    Ok(())
}

/// Reads a streaming list (WatchList) until the initial-events-end bookmark; returns the
/// names seen before it.
async fn streaming_list(cp: &ControlPlane, path: &str) -> anyhow::Result<Vec<String>> {
    let req = http::Request::get(format!(
        "{path}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    ))
    .header("User-Agent", "testkit-streaming-list")
    .body(Vec::new())?;
    let mut lines = cp.client().request_stream(req).await?.lines();
    let mut names = Vec::new();
    let read = async {
        while let Some(line) = lines.try_next().await? {
            let ev: Value = serde_json::from_str(&line)?;
            match ev["type"].as_str() {
                Some("ADDED") => names.push(
                    ev["object"]["metadata"]["name"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                ),
                Some("BOOKMARK") => {
                    if ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"]
                        == "true"
                    {
                        return anyhow::Ok(());
                    }
                }
                other => anyhow::bail!("unexpected event {other:?}: {line}"),
            }
        }
        anyhow::bail!("stream ended without the initial-events-end bookmark")
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .context("no end bookmark within 30s")??;
    names.sort();
    Ok(names)
}

#[tokio::test]
async fn streaming_list_ends_with_bookmark_and_is_audited() -> anyhow::Result<()> {
    let cp = cp().await;
    let ns = cp.namespace("watchlist").await?;
    let api: Api<Secret> = Api::namespaced(cp.client(), &ns);
    for i in 0..4 {
        api.create(&PostParams::default(), &secret(format!("s-{i}")))
            .await?;
    }
    let names = streaming_list(cp, &format!("/api/v1/namespaces/{ns}/secrets")).await?;
    assert_eq!(names, ["s-0", "s-1", "s-2", "s-3"]);

    // The audit log records exactly what the client sent.
    let events = match cp.audit_events() {
        Err(testkit::Error::Unsupported(why)) => {
            eprintln!("audit part skipped: {why}");
            return Ok(());
        }
        other => other?,
    };
    let watch = events
        .iter()
        .find(|e| {
            e.verb == "watch"
                && e.request_uri
                    .starts_with(&format!("/api/v1/namespaces/{ns}/secrets?"))
        })
        .context("watch request not in the audit log")?;
    for param in [
        "watch=1",
        "sendInitialEvents=true",
        "resourceVersionMatch=NotOlderThan",
        "allowWatchBookmarks=true",
    ] {
        assert!(
            watch.request_uri.contains(param),
            "{} lacks {param}",
            watch.request_uri
        );
    }
    assert_eq!(watch.user_agent, "testkit-streaming-list");
    assert_eq!(watch.user, "envtest-admin");
    let path = format!("/api/v1/namespaces/{ns}/secrets");
    let creates = events
        .iter()
        .filter(|e| e.verb == "create" && e.request_uri.trim_end_matches('?') == path)
        .count();
    assert_eq!(creates, 4, "create events for {ns}");
    Ok(())
}

#[tokio::test]
async fn server_side_apply_secret() -> anyhow::Result<()> {
    let cp = cp().await;
    let ns = cp.namespace("ssa").await?;
    let api: Api<Secret> = Api::namespaced(cp.client(), &ns);
    let apply = |data: Value| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "labels": {"app": "x"}}, "type": "Opaque", "data": data});
    let a = api
        .patch(
            "tls",
            &PatchParams::apply("manager-a"),
            &Patch::Apply(apply(json!({"a": "YQ=="}))),
        )
        .await?;
    assert_eq!(
        a.data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(|b| b.0.clone()),
        Some(b"a".to_vec())
    );

    // A second manager adds its own key; both are kept and tracked separately.
    let b = api
        .patch(
            "tls",
            &PatchParams::apply("manager-b"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"}, "data": {"b": "Yg=="}})),
        )
        .await?;
    let data = b.data.clone().unwrap_or_default();
    assert!(data.contains_key("a") && data.contains_key("b"), "{data:?}");
    let managers: Vec<_> = b
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.contains(&"manager-a".to_string()) && managers.contains(&"manager-b".to_string()),
        "{managers:?}"
    );

    // Taking over another manager's field without force is a conflict (409).
    let err = api
        .patch(
            "tls",
            &PatchParams::apply("manager-b"),
            &Patch::Apply(apply(json!({"a": "Yg=="}))),
        )
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 409, "{s:?}"),
        other => panic!("unexpected error {other:?}"),
    }
    // ...and with force it succeeds.
    let forced = api
        .patch(
            "tls",
            &PatchParams::apply("manager-b").force(),
            &Patch::Apply(apply(json!({"a": "Yg=="}))),
        )
        .await?;
    assert_eq!(
        forced
            .data
            .unwrap_or_default()
            .get("a")
            .map(|b| b.0.clone()),
        Some(b"b".to_vec())
    );
    Ok(())
}

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.testkit.example.com
spec:
  group: testkit.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
          status:
            type: object
            properties:
              ready: {type: boolean}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-crd}
"#;

#[tokio::test]
async fn crd_schema_validation_and_streaming_list() -> anyhow::Result<()> {
    let cp = cp().await;
    let dir = std::env::temp_dir().join(format!("testkit-crd-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("widgets.yaml");
    std::fs::write(&file, WIDGET_CRD)?;
    let names = cp.install_crds(&[&dir]).await;
    std::fs::remove_dir_all(&dir)?;
    assert_eq!(names?, ["widgets.testkit.example.com"]);

    let ns = cp.namespace("crd").await?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("testkit.example.com", "v1", "Widget"),
        "widgets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(cp.client(), &ns, &ar);
    let widget = |name: &str, size: i64| -> anyhow::Result<DynamicObject> {
        Ok(serde_json::from_value(json!({
            "apiVersion": "testkit.example.com/v1", "kind": "Widget",
            "metadata": {"name": name}, "spec": {"size": size}
        }))?)
    };
    api.create(&PostParams::default(), &widget("good", 3)?)
        .await?;
    let err = api
        .create(&PostParams::default(), &widget("bad", 0)?)
        .await
        .expect_err("schema violation");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 422, "{s:?}");
            assert!(s.message.contains("spec.size"), "{}", s.message);
        }
        other => panic!("unexpected error {other:?}"),
    }
    // The status subresource ignores spec changes and the main resource ignores status.
    let status = api
        .patch_status(
            "good",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 9}, "status": {"ready": true}})),
        )
        .await?;
    assert_eq!(status.data["spec"]["size"], 3);
    assert_eq!(status.data["status"]["ready"], true);

    let names = streaming_list(
        cp,
        &format!("/apis/testkit.example.com/v1/namespaces/{ns}/widgets"),
    )
    .await?;
    assert_eq!(names, ["good"]);
    Ok(())
}

#[tokio::test]
async fn discovery_lists_builtin_and_crd_groups() -> anyhow::Result<()> {
    let cp = cp().await;
    let groups = cp.client().list_api_groups().await?;
    let names: Vec<_> = groups.groups.iter().map(|g| g.name.as_str()).collect();
    for g in [
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "networking.k8s.io",
        "apiregistration.k8s.io",
    ] {
        assert!(names.contains(&g), "{g} missing from /apis: {names:?}");
    }
    let version = cp.client().apiserver_version().await?;
    assert!(version.git_version.starts_with('v'), "{version:?}");
    Ok(())
}

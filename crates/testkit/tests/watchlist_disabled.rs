//! With `--feature-gates=WatchList=false` the server rejects streaming lists, which is what
//! clients must detect to fall back to LIST+WATCH.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use testkit::{ControlPlane, Error, Options};

#[tokio::test]
async fn streaming_list_rejected_without_watchlist() -> anyhow::Result<()> {
    let cp = match ControlPlane::start(Options {
        feature_gates: Some("WatchList=false".into()),
        audit: true,
        ..Default::default()
    })
    .await
    {
        Err(Error::Unsupported(why)) => {
            eprintln!("skipped: {why}");
            return Ok(());
        }
        other => other?,
    };
    let ns = cp.namespace("no-watchlist").await?;
    let req = http::Request::get(format!(
        "/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    ))
    .body(Vec::new())?;
    let err = cp
        .client()
        .request_text(req)
        .await
        .expect_err("streaming list must be rejected");
    // The real server (k8s.io/apiserver 0.36) answers 422 Invalid: "sendInitialEvents is
    // forbidden for watch unless the WatchList feature gate is enabled".
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 422, "{s:?}");
            assert_eq!(s.reason, "Invalid", "{s:?}");
            assert!(s.message.contains("sendInitialEvents"), "{}", s.message);
        }
        other => panic!("unexpected error {other:?}"),
    }
    // The fallback (plain LIST) works.
    let api: Api<ConfigMap> = Api::namespaced(cp.client(), &ns);
    api.list(&ListParams::default()).await?;
    let audited = cp
        .audit_events()?
        .into_iter()
        .find(|e| e.verb == "watch")
        .expect("audited watch");
    assert_eq!(audited.code, Some(422));
    Ok(())
}

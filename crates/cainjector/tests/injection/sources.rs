//! Each source kind reaches each target kind, and a rotated source reaches them again.

use testkit::ClusterCleanup;
use testkit::ControlPlane;
use testkit::component;

use crate::support::*;

/// `inject-ca-from-secret`: with CAInjectorMerging (the default) the Secret's CA joins the
/// bundle a target already has, and a rotated CA joins it too. The Secret's data is read with a
/// GET of that Secret only: no other Secret is ever read, and Secrets are never listed.
#[tokio::test]
async fn secret_source_reaches_every_target_kind_and_follows_rotation() -> anyhow::Result<()> {
    let Some(cp) = component::audited_control_plane(None).await? else {
        return Ok(());
    };
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-secret").await?;
    let mut cleanup = ClusterCleanup::new(&cp);
    let (ca0, ca1, ca2) = (new_ca("initial"), new_ca("first"), new_ca("rotated"));
    put_ca_secret(&client, &ns, "source", &ca1).await?;
    // An unrelated Secret, never read.
    put_secret(&client, &ns, "unrelated", &[], &[("ca.crt", &ca2)]).await?;
    let source = format!("{}/source", &*ns);
    let mut targets = Vec::new();
    for kind in ALL_KINDS {
        let name = create_target(
            &client,
            &mut cleanup,
            kind,
            &ns,
            &[(INJECT_CA_FROM_SECRET, &source)],
            Some(&ca0),
        )
        .await?;
        targets.push((kind, name));
    }

    let c = start_cainjector(&cp, &[]).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders_of(&[&ca0, &ca1])).await?;
    }
    put_ca_secret(&client, &ns, "source", &ca2).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders_of(&[&ca0, &ca1, &ca2])).await?;
    }

    let ua = component::user_agent("cainjector");
    let events = cp.audit_events()?;
    let secret_requests: Vec<_> = component::events_of(&events, &ua)
        .into_iter()
        .map(component::ApiRequest::from_event)
        .filter(|r| r.path.contains("/secrets"))
        .collect();
    let source_path = format!("/api/v1/namespaces/{}/secrets/source", &*ns);
    for r in &secret_requests {
        let metadata_watch = r.verb == "watch" && r.path == "/api/v1/secrets";
        let source_get = r.verb == "get" && r.path == source_path;
        assert!(
            metadata_watch || source_get,
            "only the metadata watch and GETs of the source: {r:#?}"
        );
    }
    assert!(secret_requests.iter().any(|r| r.verb == "get"));
    // Patches are server-side applies by upstream's field manager.
    for (kind, name) in &targets {
        let obj = get_target(&client, *kind, name).await?;
        let managers: Vec<_> = obj
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .filter(|m| m.operation.as_deref() == Some("Apply"))
            .filter_map(|m| m.manager.clone())
            .collect();
        assert!(
            managers.iter().any(|m| m == "cert-manager-cainjector"),
            "{kind:?} {name}: {managers:?}"
        );
    }
    drop(c);
    Ok(())
}

/// `inject-ca-from`: the CA of the Certificate's Secret; the Secret's data rotating and the
/// Certificate moving to another Secret both reach every target.
#[tokio::test]
async fn certificate_source_reaches_every_target_kind_and_follows_rotation() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-cert").await?;
    let mut cleanup = ClusterCleanup::new(cp);
    let (ca1, ca2, ca3) = (new_ca("first"), new_ca("rotated"), new_ca("moved"));
    put_certificate(&client, &ns, "serving", "serving-tls").await?;
    put_certificate_secret(&client, &ns, "serving-tls", "serving", &ca1).await?;
    let source = format!("{}/serving", &*ns);
    let mut targets = Vec::new();
    for kind in ALL_KINDS {
        let name = create_target(
            &client,
            &mut cleanup,
            kind,
            &ns,
            &[(INJECT_CA_FROM, &source)],
            None,
        )
        .await?;
        targets.push((kind, name));
    }

    let _c = start_cainjector(cp, &[]).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders(&ca1)).await?;
    }
    put_certificate_secret(&client, &ns, "serving-tls", "serving", &ca2).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders_of(&[&ca1, &ca2])).await?;
    }
    put_certificate_secret(&client, &ns, "other-tls", "serving", &ca3).await?;
    put_certificate(&client, &ns, "serving", "other-tls").await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders_of(&[&ca1, &ca2, &ca3])).await?;
    }
    Ok(())
}

/// `inject-apiserver-ca`: the CA of the cainjector's kubeconfig. A disabled injectable kind is
/// neither watched nor touched.
#[tokio::test]
async fn apiserver_ca_reaches_every_target_kind_and_disabled_kinds_are_left_alone()
-> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-apiserver").await?;
    let mut cleanup = ClusterCleanup::new(cp);
    let apiserver_ca: Vec<Vec<u8>> = cp
        .config()
        .root_cert
        .clone()
        .expect("the local control plane's kubeconfig has CA data");
    let mut targets = Vec::new();
    for kind in ALL_KINDS {
        let name = create_target(
            &client,
            &mut cleanup,
            kind,
            &ns,
            &[(INJECT_APISERVER_CA, "true")],
            None,
        )
        .await?;
        targets.push((kind, name));
    }
    let c = start_cainjector(cp, &[]).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &apiserver_ca).await?;
    }
    drop(c);

    let c = start_cainjector(cp, &["--enable-apiservices-injectable=false"]).await?;
    let metrics = component::metrics(c.metrics).await?;
    assert!(
        component::metric_value(
            &metrics,
            "kubeclient_cached_objects",
            &[("cache", "apiservices")]
        )
        .is_none(),
        "no APIService cache:\n{metrics}"
    );
    assert!(
        component::metric_value(
            &metrics,
            "kubeclient_cached_objects",
            &[("cache", "validatingwebhookconfigurations")]
        )
        .is_some(),
        "{metrics}"
    );
    // Created while this cainjector runs: the webhook configuration is injected, the
    // APIService is not.
    let base = format!("{}-later", &*ns);
    let annotations = [(INJECT_APISERVER_CA, "true")];
    let off = create_target(
        &client,
        &mut cleanup,
        Kind::ApiService,
        &base,
        &annotations,
        None,
    )
    .await?;
    let on = create_target(
        &client,
        &mut cleanup,
        Kind::Validating,
        &base,
        &annotations,
        None,
    )
    .await?;
    wait_for_bundle(&client, Kind::Validating, &on, &apiserver_ca).await?;
    let fields = target_certs(&client, Kind::ApiService, &off).await?;
    assert_eq!(
        fields,
        vec![Vec::<Vec<u8>>::new()],
        "APIService {off} untouched"
    );
    Ok(())
}

/// CAInjectorMerging=false: the bundle is replaced by the source's CA, also on rotation.
#[tokio::test]
async fn without_merging_the_bundle_is_replaced() -> anyhow::Result<()> {
    let _serial = serial().await;
    let cp = ControlPlane::shared().await?;
    cp.install_crds(&[&crds_dir()]).await?;
    let client = cp.client();
    let ns = cp.namespace("inject-replace").await?;
    let mut cleanup = ClusterCleanup::new(cp);
    let (ca0, ca1, ca2) = (new_ca("initial"), new_ca("first"), new_ca("rotated"));
    put_ca_secret(&client, &ns, "source", &ca1).await?;
    let source = format!("{}/source", &*ns);
    let mut targets = Vec::new();
    for kind in [Kind::Validating, Kind::ApiService] {
        let name = create_target(
            &client,
            &mut cleanup,
            kind,
            &ns,
            &[(INJECT_CA_FROM_SECRET, &source)],
            Some(&ca0),
        )
        .await?;
        targets.push((kind, name));
    }
    let _c = start_cainjector(cp, &["--feature-gates=CAInjectorMerging=false"]).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders(&ca1)).await?;
    }
    put_ca_secret(&client, &ns, "source", &ca2).await?;
    for (kind, name) in &targets {
        wait_for_bundle(&client, *kind, name, &ders(&ca2)).await?;
    }
    Ok(())
}

//! ingress-shim end to end (issue 8): the controller binary against the local control plane.
//! Annotated Ingresses get Certificates that follow them; with the default controllers the
//! Certificates are issued by a SelfSigned ClusterIssuer and checked in the Secret.

use std::net::SocketAddr;
use std::time::Duration;

use api::{Certificate, ClusterIssuer};
use k8s_openapi::api::core::v1::{Event, Secret};
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use testkit::ControlPlane;
use testkit::component::{self, CacheRequests, Component};

mod common;
use common::create;

const WAIT: Duration = Duration::from_secs(60);

/// The controller with `args` (leader election off), once ready; returns it and its metrics
/// address.
async fn start(cp: &ControlPlane, args: &[&str]) -> anyhow::Result<(Component, SocketAddr)> {
    common::start_controller(cp, &[&["--leader-elect=false"], args].concat(), &[]).await
}

/// An Ingress with one rule (the API requires rules or a default backend) and `tls`.
fn ingress(name: &str, annotations: Value, tls: Value) -> anyhow::Result<Ingress> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "annotations": annotations, "labels": {"app": name}},
        "spec": {
            "rules": [{"host": "a.example", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}},
            }]}}],
            "tls": tls,
        },
    }))?)
}

async fn merge_patch(api: &Api<Ingress>, name: &str, patch: Value) -> anyhow::Result<Ingress> {
    Ok(api
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?)
}

/// Waits until the Certificate `name` exists and `check` accepts it.
async fn wait_certificate(
    api: &Api<Certificate>,
    name: &str,
    check: impl Fn(&Certificate) -> Result<(), String>,
) -> anyhow::Result<Certificate> {
    Ok(
        component::eventually(&format!("Certificate {name}"), WAIT, async || {
            let crt = api
                .get_opt(name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("not found")?;
            check(&crt).map(|()| crt)
        })
        .await?,
    )
}

fn ready(crt: &Certificate) -> Result<(), String> {
    let conditions = crt.status.as_ref().and_then(|s| s.conditions.as_ref());
    let ready = conditions
        .into_iter()
        .flatten()
        .find(|c| c.condition_type.as_str() == "Ready");
    match ready {
        Some(c) if c.status.as_str() == "True" => Ok(()),
        other => Err(format!("Ready is {other:?}")),
    }
}

/// Waits for an Event on the Ingress `ingress` with `reason` whose message contains `text`.
async fn wait_event(
    api: &Api<Event>,
    ingress: &str,
    type_: &str,
    reason: &str,
    text: &str,
) -> anyhow::Result<Event> {
    let what = format!("{type_} Event {reason} {text:?} on Ingress {ingress}");
    Ok(component::eventually(&what, WAIT, async || {
        let lp = ListParams::default().fields(&format!(
            "involvedObject.kind=Ingress,involvedObject.name={ingress}"
        ));
        let events = api.list(&lp).await.map_err(|e| e.to_string())?;
        let seen: Vec<String> = events
            .items
            .iter()
            .map(|e| format!("{:?} {:?} {:?}", e.type_, e.reason, e.message))
            .collect();
        events
            .items
            .into_iter()
            .find(|e| {
                e.type_.as_deref() == Some(type_)
                    && e.reason.as_deref() == Some(reason)
                    && e.message.as_deref().is_some_and(|m| m.contains(text))
            })
            .ok_or_else(|| format!("events so far: {seen:?}"))
    })
    .await?)
}

fn strings(v: &Option<Vec<String>>) -> Vec<&str> {
    v.iter().flatten().map(String::as_str).collect()
}

/// The leaf certificate in the Secret `name`.
async fn issued(api: &Api<Secret>, name: &str) -> anyhow::Result<pki::ParsedCertificate> {
    let secret = api.get(name).await?;
    let pem = &secret.data.unwrap_or_default()["tls.crt"].0;
    Ok(pki::ParsedCertificate::from_pem(pem)?)
}

async fn sync_calls(metrics: SocketAddr) -> anyhow::Result<f64> {
    let text = component::metrics(metrics).await?;
    Ok(component::metric_value(
        &text,
        "certmanager_controller_sync_call_count",
        &[("controller", "ingress-shim")],
    )
    .unwrap_or(0.0))
}

#[tokio::test]
async fn cluster_issuer_certificates_are_issued_and_follow_the_ingress() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("shim").await?;
    let ns = ns.name();
    let issuer = format!("selfsigned-{ns}");
    // The default controllers: the Certificates are issued too. The default issuer is set so
    // that an Ingress that lost its annotations would have a Certificate to sync.
    let (mut controller, metrics) = start(
        cp,
        &[
            &format!("--default-issuer-name={issuer}"),
            "--default-issuer-kind=ClusterIssuer",
        ],
    )
    .await?;
    let cluster_issuers: Api<ClusterIssuer> = Api::all(cp.client());
    create(
        &cluster_issuers,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": issuer}, "spec": {"selfSigned": {}},
        }),
    )
    .await?;
    let ingresses: Api<Ingress> = Api::namespaced(cp.client(), ns);
    let certificates: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let events: Api<Event> = Api::namespaced(cp.client(), ns);

    let ing = create(
        &ingresses,
        &ingress(
            "web",
            json!({
                "cert-manager.io/cluster-issuer": issuer,
                "cert-manager.io/duration": "48h",
                "cert-manager.io/renew-before": "1h",
                "cert-manager.io/private-key-algorithm": "ECDSA",
                "cert-manager.io/usages": "digital signature,key encipherment,server auth",
                "cert-manager.io/revision-history-limit": "2",
                "cert-manager.io/subject-organizations": "\"Acme, Inc\"",
            }),
            json!([
                {"hosts": ["a.example", "www.a.example"], "secretName": "a-tls"},
                {"hosts": ["b.example"], "secretName": "b-tls"},
            ]),
        )?,
    )
    .await?;

    for (name, hosts) in [
        ("a-tls", vec!["a.example", "www.a.example"]),
        ("b-tls", vec!["b.example"]),
    ] {
        let crt = wait_certificate(&certificates, name, |_| Ok(())).await?;
        let spec = &crt.spec;
        assert_eq!(spec.secret_name, name);
        assert_eq!(strings(&spec.dns_names), hosts);
        assert_eq!(spec.issuer_ref.name, issuer);
        assert_eq!(spec.issuer_ref.kind.as_deref(), Some("ClusterIssuer"));
        assert_eq!(spec.issuer_ref.group.as_deref(), Some("cert-manager.io"));
        assert_eq!(spec.duration.as_ref().unwrap().as_str(), "48h0m0s");
        assert_eq!(spec.renew_before.as_ref().unwrap().as_str(), "1h0m0s");
        assert_eq!(spec.revision_history_limit, Some(2));
        assert_eq!(
            spec.private_key
                .as_ref()
                .unwrap()
                .algorithm
                .as_ref()
                .unwrap()
                .as_str(),
            "ECDSA"
        );
        let usages: Vec<&str> = spec.usages.iter().flatten().map(|u| u.as_str()).collect();
        assert_eq!(
            usages,
            ["digital signature", "key encipherment", "server auth"]
        );
        assert_eq!(crt.labels()["app"], "web");
        let owner = &crt.owner_references()[0];
        assert_eq!(owner.api_version, "networking.k8s.io/v1");
        assert_eq!(owner.kind, "Ingress");
        assert_eq!(owner.name, "web");
        assert_eq!(Some(&owner.uid), ing.metadata.uid.as_ref());
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.block_owner_deletion, Some(true));
        wait_event(
            &events,
            "web",
            "Normal",
            "CreateCertificate",
            &format!("Successfully created Certificate \"{name}\""),
        )
        .await?;
    }
    // Issued by the full controller: the Secret holds a certificate for the Ingress's hosts.
    for name in ["a-tls", "b-tls"] {
        wait_certificate(&certificates, name, ready).await?;
    }
    let leaf = issued(&secrets, "a-tls").await?;
    assert_eq!(leaf.spec.dns_names, ["a.example", "www.a.example"]);
    assert_eq!(leaf.spec.subject.organizations, ["Acme, Inc"]);
    assert_eq!(
        leaf.not_after.duration_since(leaf.not_before)?,
        Duration::from_secs(48 * 3600)
    );

    // New hosts and a new duration: the Certificates are updated and re-issued.
    merge_patch(
        &ingresses,
        "web",
        json!({
            "metadata": {"annotations": {"cert-manager.io/duration": "72h"}},
            "spec": {"tls": [
                {"hosts": ["a.example", "new.a.example"], "secretName": "a-tls"},
                {"hosts": ["b.example"], "secretName": "b-tls"},
            ]},
        }),
    )
    .await?;
    wait_certificate(&certificates, "a-tls", |c| {
        let names = strings(&c.spec.dns_names);
        let duration = c.spec.duration.as_ref().map(|d| d.as_str());
        if names == ["a.example", "new.a.example"] && duration == Some("72h0m0s") {
            Ok(())
        } else {
            Err(format!("dnsNames {names:?}, duration {duration:?}"))
        }
    })
    .await?;
    wait_certificate(&certificates, "b-tls", |c| {
        match c.spec.duration.as_ref().map(|d| d.as_str()) {
            Some("72h0m0s") => Ok(()),
            other => Err(format!("duration {other:?}")),
        }
    })
    .await?;
    wait_event(
        &events,
        "web",
        "Normal",
        "UpdateCertificate",
        "Successfully updated Certificate \"a-tls\"",
    )
    .await?;
    component::eventually("a-tls re-issued for new.a.example", WAIT, async || {
        let leaf = issued(&secrets, "a-tls").await.map_err(|e| e.to_string())?;
        if leaf.spec.dns_names.iter().any(|n| n == "new.a.example") {
            Ok(())
        } else {
            Err(format!("SANs {:?}", leaf.spec.dns_names))
        }
    })
    .await?;

    // A dropped TLS entry: its Certificate goes.
    merge_patch(
        &ingresses,
        "web",
        json!({"spec": {"tls": [
            {"hosts": ["a.example", "new.a.example"], "secretName": "a-tls"},
        ]}}),
    )
    .await?;
    component::eventually(
        "Certificate b-tls deleted",
        WAIT,
        async || match certificates.get_opt("b-tls").await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err("still there".to_owned()),
            Err(e) => Err(e.to_string()),
        },
    )
    .await?;
    wait_event(
        &events,
        "web",
        "Normal",
        "DeleteCertificate",
        "Successfully deleted unrequired Certificate \"b-tls\"",
    )
    .await?;

    // Without the issuer annotation the Ingress is no longer synced (as cert-manager): its
    // Certificate stays as it is, even though the hosts changed.
    let before = certificates.get("a-tls").await?;
    let calls = sync_calls(metrics).await?;
    merge_patch(
        &ingresses,
        "web",
        json!({
            "metadata": {"annotations": {"cert-manager.io/cluster-issuer": null}},
            "spec": {"tls": [{"hosts": ["other.example"], "secretName": "a-tls"}]},
        }),
    )
    .await?;
    component::eventually(
        "ingress-shim synced the change",
        WAIT,
        async || match sync_calls(metrics).await {
            Ok(n) if n > calls => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await?;
    // A later version of the same Ingress that is reported proves the one before was seen;
    // it writes nothing either (a bad annotation).
    merge_patch(
        &ingresses,
        "web",
        json!({"metadata": {"annotations": {
            "cert-manager.io/cluster-issuer": issuer,
            "cert-manager.io/duration": "banana",
        }}}),
    )
    .await?;
    wait_event(
        &events,
        "web",
        "Warning",
        "BadConfig",
        r#"invalid ingress annotation "cert-manager.io/duration""#,
    )
    .await?;
    let after = certificates.get("a-tls").await?;
    assert_eq!(
        strings(&after.spec.dns_names),
        ["a.example", "new.a.example"]
    );
    assert_eq!(after.spec, before.spec);
    controller.fail_if_exited()?;
    Ok(())
}

#[tokio::test]
async fn tls_acme_uses_the_default_issuer_with_only_ingress_shim() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("acme").await?;
    let ns = ns.name();
    let (mut controller, _) = start(
        cp,
        &[
            "--controllers=ingress-shim",
            &format!("--namespace={ns}"),
            "--default-issuer-name=letsencrypt",
            "--default-issuer-kind=ClusterIssuer",
        ],
    )
    .await?;
    let ingresses: Api<Ingress> = Api::namespaced(cp.client(), ns);
    let certificates: Api<Certificate> = Api::namespaced(cp.client(), ns);
    create(
        &ingresses,
        &ingress(
            "shop",
            json!({
                "kubernetes.io/tls-acme": "true",
                "acme.cert-manager.io/http01-edit-in-place": "true",
                "acme.cert-manager.io/http01-ingress-class": "nginx",
            }),
            json!([{"hosts": ["shop.example"], "secretName": "shop-tls"}]),
        )?,
    )
    .await?;
    let crt = wait_certificate(&certificates, "shop-tls", |_| Ok(())).await?;
    assert_eq!(
        managers(&crt),
        [("cert-manager-ingress-shim".to_owned(), "Update".to_owned())]
    );
    assert_eq!(crt.spec.issuer_ref.name, "letsencrypt");
    assert_eq!(crt.spec.issuer_ref.kind.as_deref(), Some("ClusterIssuer"));
    assert_eq!(
        crt.spec.issuer_ref.group.as_deref(),
        Some("cert-manager.io")
    );
    assert_eq!(strings(&crt.spec.dns_names), ["shop.example"]);
    let annotations = crt.annotations();
    assert_eq!(
        annotations["acme.cert-manager.io/http01-override-ingress-name"],
        "shop"
    );
    assert_eq!(
        annotations["cert-manager.io/issue-temporary-certificate"],
        "true"
    );
    assert_eq!(
        annotations["acme.cert-manager.io/http01-override-ingress-class"],
        "nginx"
    );

    // The Ingress cache watches only --namespace.
    let ua = component::user_agent("controller");
    let cluster_wide = CacheRequests::new("/apis/networking.k8s.io/v1/ingresses");
    let namespaced = CacheRequests::new(format!(
        "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses"
    ));
    let events = cp.audit_events()?;
    assert!(
        !namespaced.of(&events, &ua).is_empty(),
        "the namespaced Ingress cache"
    );
    assert_eq!(
        cluster_wide.of(&events, &ua),
        [],
        "no cluster-wide Ingress watch"
    );
    controller.fail_if_exited()?;
    Ok(())
}

#[tokio::test]
async fn bad_input_is_reported_and_foreign_certificates_are_left_alone() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let (mut controller, _) = start(cp, &["--controllers=ingress-shim"]).await?;
    let ns = cp.namespace("bad").await?;
    let ns = ns.name();
    let ingresses: Api<Ingress> = Api::namespaced(cp.client(), ns);
    let certificates: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let events: Api<Event> = Api::namespaced(cp.client(), ns);
    let one = |secret: &str| json!([{"hosts": ["x.example"], "secretName": secret}]);

    // A Certificate made by someone else, named like a TLS entry's Secret.
    let foreign = create(
        &certificates,
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "taken-tls"},
            "spec": {"secretName": "taken-tls", "dnsNames": ["mine.example"], "issuerRef": {"name": "mine"}},
        }),
    )
    .await?;

    let cases = [
        (
            "banana",
            json!({"cert-manager.io/cluster-issuer": "ca", "cert-manager.io/duration": "banana"}),
            one("banana-tls"),
            r#"invalid ingress annotation "cert-manager.io/duration": time: invalid duration "banana""#,
        ),
        (
            "both",
            json!({"cert-manager.io/cluster-issuer": "ca", "cert-manager.io/issuer": "ca"}),
            one("both-tls"),
            r#"both "cert-manager.io/issuer" and "cert-manager.io/cluster-issuer" may not be set"#,
        ),
        (
            "nodefault",
            json!({"kubernetes.io/tls-acme": "true"}),
            one("nodefault-tls"),
            "failed to determine issuer name to be used for ingress resource",
        ),
        (
            "taken",
            json!({"cert-manager.io/issuer": "ca"}),
            json!([
                {"hosts": ["x.example"], "secretName": "taken-tls"},
                {"hosts": ["y.example"], "secretName": "free-tls"},
            ]),
            r#"Certificate "taken-tls" for spec.tls[0].secretName already exists and is not controlled by this Ingress"#,
        ),
    ];
    for (name, annotations, tls, _) in &cases {
        create(
            &ingresses,
            &ingress(name, annotations.clone(), tls.clone())?,
        )
        .await?;
    }
    for (name, _, _, message) in &cases {
        wait_event(&events, name, "Warning", "BadConfig", message).await?;
    }
    // The Ingress with a free entry next to the taken one still gets that one.
    wait_certificate(&certificates, "free-tls", |_| Ok(())).await?;
    // The reports come from the syncs that would have written: nothing was.
    for secret in ["banana-tls", "both-tls", "nodefault-tls"] {
        assert!(certificates.get_opt(secret).await?.is_none(), "{secret}");
    }
    let taken = certificates.get("taken-tls").await?;
    assert_eq!(
        taken.metadata.resource_version,
        foreign.metadata.resource_version
    );
    assert!(taken.owner_references().is_empty());
    controller.fail_if_exited()?;

    // Fixed input is picked up.
    merge_patch(
        &ingresses,
        "banana",
        json!({"metadata": {"annotations": {"cert-manager.io/duration": "48h"}}}),
    )
    .await?;
    let crt = wait_certificate(&certificates, "banana-tls", |_| Ok(())).await?;
    assert_eq!(crt.spec.duration.as_ref().unwrap().as_str(), "48h0m0s");
    controller.fail_if_exited()?;
    Ok(())
}

#[tokio::test]
async fn no_ingress_cache_without_ingress_shim() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let (mut controller, _) = start(cp, &["--controllers=issuers"]).await?;
    // Ready means every cache has synced: their lists are in the audit log by now.
    let ua = component::user_agent("controller");
    let events = cp.audit_events()?;
    let certificates = CacheRequests::new("/apis/cert-manager.io/v1/certificates").of(&events, &ua);
    assert!(!certificates.is_empty(), "the Certificate cache is there");
    let ingresses = CacheRequests::new("/apis/networking.k8s.io/v1/ingresses").of(&events, &ua);
    assert_eq!(ingresses, [], "no Ingress cache");
    controller.fail_if_exited()?;
    Ok(())
}

/// The managers of `crt`'s fields as `(manager, operation)`.
fn managers(crt: &Certificate) -> Vec<(String, String)> {
    crt.managed_fields()
        .iter()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                m.operation.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn writes_are_server_side_applied_with_the_gate() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let (mut controller, _) = start(
        cp,
        &[
            "--controllers=ingress-shim",
            "--feature-gates=ServerSideApply=true",
        ],
    )
    .await?;
    let ns = cp.namespace("ssa").await?;
    let ns = ns.name();
    let ingresses: Api<Ingress> = Api::namespaced(cp.client(), ns);
    let certificates: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let events: Api<Event> = Api::namespaced(cp.client(), ns);
    create(
        &ingresses,
        &ingress(
            "api",
            json!({"cert-manager.io/issuer": "ca"}),
            json!([{"hosts": ["api.example"], "secretName": "api-tls"}]),
        )?,
    )
    .await?;
    let crt = wait_certificate(&certificates, "api-tls", |_| Ok(())).await?;
    let manager = ("cert-manager-ingress-shim".to_owned(), "Apply".to_owned());
    assert_eq!(managers(&crt), std::slice::from_ref(&manager));
    assert_eq!(crt.spec.issuer_ref.kind.as_deref(), Some("Issuer"));

    merge_patch(
        &ingresses,
        "api",
        json!({"spec": {"tls": [{"hosts": ["api.example", "v2.api.example"], "secretName": "api-tls"}]}}),
    )
    .await?;
    let crt = wait_certificate(&certificates, "api-tls", |c| {
        match strings(&c.spec.dns_names).as_slice() {
            ["api.example", "v2.api.example"] => Ok(()),
            other => Err(format!("dnsNames {other:?}")),
        }
    })
    .await?;
    assert_eq!(managers(&crt), [manager]);
    wait_event(
        &events,
        "api",
        "Normal",
        "UpdateCertificate",
        "Successfully updated Certificate \"api-tls\"",
    )
    .await?;
    controller.fail_if_exited()?;
    Ok(())
}

//! The CertificateRequest approval check through the API server: users set `Approved` or
//! `Denied` on the `status` subresource (impersonated), the webhook asks the local control
//! plane with SubjectAccessReviews, answered from an `--authorization-rules-file`.
//!
//! Only the project's own control plane takes that flag: with `KUBEBUILDER_ASSETS` or an
//! existing cluster these tests are skipped.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};
use testkit::{ControlPlane, Options};

use crate::support::{self, Deployment, denied};

/// Who may approve what (hack/envtest/sar.go describes the format). Requests are made in
/// [`TEAM`], so the namespaced signer names are known in advance.
const RULES: &str = r#"
- users: [issuer-approver]
  verbs: [approve]
  apiGroups: [cert-manager.io]
  resources: [signers]
  resourceNames: ["issuers.cert-manager.io/team-a.ca"]
- groups: [all-issuers]
  verbs: [approve]
  apiGroups: [cert-manager.io]
  resources: [signers]
  resourceNames: ["issuers.cert-manager.io/*"]
- users: [cluster-approver]
  verbs: [approve]
  apiGroups: [cert-manager.io]
  resources: [signers]
  resourceNames: ["clusterissuers.cert-manager.io/ca"]
- users: [not-approve]
  verbs: [get, update, patch]
  apiGroups: [cert-manager.io]
  resources: [signers, certificaterequests/status]
- users: [external-approver]
  verbs: [approve]
  apiGroups: [cert-manager.io]
  resources: [signers]
  resourceNames: ["myissuers.example.com/*"]
"#;

const TEAM: &str = "team-a";

/// A private control plane answering SubjectAccessReviews from [`RULES`], or `None` where
/// that cannot be had.
async fn control_plane(dir: &tempfile::TempDir) -> anyhow::Result<Option<ControlPlane>> {
    let other_backend = [
        "TESTKIT_KUBECONFIG",
        "USE_EXISTING_CLUSTER",
        "KUBEBUILDER_ASSETS",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    if other_backend {
        eprintln!("skipped: needs cm-envtest-apiserver's --authorization-rules-file");
        return Ok(None);
    }
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES)?;
    let cp = ControlPlane::start(Options {
        extra_args: vec![format!("--authorization-rules-file={}", rules.display())],
        ..Options::default()
    })
    .await?;
    Ok(Some(cp))
}

/// The control plane, the webhook wired in, and [`TEAM`].
async fn setup(dir: &tempfile::TempDir) -> anyhow::Result<Option<(ControlPlane, Deployment)>> {
    let Some(cp) = control_plane(dir).await? else {
        return Ok(None);
    };
    let Some(d) = Deployment::start_on(&cp, &[]).await? else {
        return Ok(None);
    };
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": TEAM}}))?;
    Api::<Namespace>::all(d.client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    Ok(Some((cp, d)))
}

/// A client acting as `user` in `groups` (impersonation; the test token may impersonate).
fn client_as(cp: &ControlPlane, user: &str, groups: &[&str]) -> anyhow::Result<kube::Client> {
    let mut config = cp.config().clone();
    config.auth_info.impersonate = Some(user.to_owned());
    config.auth_info.impersonate_groups = Some(groups.iter().map(|g| (*g).to_owned()).collect());
    Ok(kube::Client::try_from(config)?)
}

fn requests(client: &kube::Client) -> Api<DynamicObject> {
    let (ar, _) = support::cert_manager_resource("CertificateRequest").expect("a known kind");
    Api::namespaced_with(client.clone(), TEAM, &ar)
}

/// Creates a CertificateRequest for `issuer_ref` in [`TEAM`] (as the test's admin user).
async fn create_request(
    d: &Deployment,
    name: &str,
    issuer_ref: Value,
) -> anyhow::Result<DynamicObject> {
    let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256))?;
    let spec = pki::CsrSpec {
        dns_names: vec![format!("{name}.example.com")],
        ..Default::default()
    };
    let pem = pki::create_csr(&spec, &key, None)?.to_pem();
    let cr = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
        "metadata": {"name": name},
        "spec": {"request": k8s_openapi::ByteString(pem.into_bytes()), "issuerRef": issuer_ref},
    });
    Ok(support::create(&d.client, TEAM, &cr, false).await?)
}

fn condition(kind: &str) -> Value {
    let reason = if kind == "Denied" {
        "Denied"
    } else {
        "Approved"
    };
    json!({"type": kind, "status": "True", "reason": reason, "message": format!("{kind} by the test")})
}

/// Adds `condition` to the request's status as `client`'s user (a status update, as
/// `cmctl approve` and approver-policy do).
async fn add_condition(
    client: &kube::Client,
    name: &str,
    condition: Value,
) -> Result<DynamicObject, kube::Error> {
    let api = requests(client);
    let mut cr = api.get_status(name).await?;
    let mut conditions = cr.data["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    conditions.push(condition);
    cr.data["status"] = json!({"conditions": conditions});
    api.replace_status(name, &PostParams::default(), &cr).await
}

fn not_permitted(user: &str, issuer_ref: &str) -> String {
    denied(&format!(
        "status.conditions: Forbidden: user \"{user}\" does not have permissions to set approved/denied conditions for issuer {issuer_ref}"
    ))
}

fn signer_missing(issuer_ref: &str) -> String {
    denied(&format!(
        "spec.issuerRef: Forbidden: referenced signer resource does not exist: {issuer_ref}"
    ))
}

/// Asserts `result` is the API server relaying exactly `want` from the webhook.
fn assert_denied(result: Result<DynamicObject, kube::Error>, want: &str, what: &str) {
    match result {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.message, want, "{what}");
            assert_eq!(s.code, 403, "{what}");
        }
        Err(e) => panic!("{what}: unexpected error {e}"),
        Ok(_) => panic!("{what}: allowed, want {want}"),
    }
}

fn has_condition(cr: &DynamicObject, kind: &str) -> bool {
    cr.data["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == kind))
}

#[tokio::test]
async fn subject_access_reviews_follow_the_rules_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let Some(cp) = control_plane(&dir).await? else {
        return Ok(());
    };
    let api: Api<SubjectAccessReview> = Api::all(cp.client());
    let review = |user: &str, groups: &[&str], name: &str| SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            // Empty lists are omitted on the wire, so the echo has none either.
            groups: (!groups.is_empty()).then(|| groups.iter().map(|g| (*g).to_owned()).collect()),
            resource_attributes: Some(ResourceAttributes {
                verb: Some("approve".into()),
                group: Some("cert-manager.io".into()),
                version: Some("*".into()),
                resource: Some("signers".into()),
                name: Some(name.to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let cases = [
        (
            "issuer-approver",
            &[][..],
            "issuers.cert-manager.io/team-a.ca",
            true,
        ),
        (
            "issuer-approver",
            &[],
            "issuers.cert-manager.io/team-a.other",
            false,
        ),
        ("issuer-approver", &[], "issuers.cert-manager.io/*", false),
        (
            "someone",
            &["all-issuers"],
            "issuers.cert-manager.io/*",
            true,
        ),
        ("someone", &[], "issuers.cert-manager.io/*", false),
        (
            "not-approve",
            &[],
            "issuers.cert-manager.io/team-a.ca",
            false,
        ),
        // kube-apiserver allows system:masters everything; so does the local one.
        ("admin", &["system:masters"], "anything", true),
    ];
    for (user, groups, name, want) in cases {
        let sent = review(user, groups, name);
        let got = api.create(&PostParams::default(), &sent).await?;
        assert_eq!(got.spec, sent.spec, "the spec is echoed");
        let status = got.status.context("no status")?;
        assert_eq!(status.allowed, want, "{user} {groups:?} {name}: {status:?}");
        assert_eq!(status.denied, None, "nothing is denied explicitly");
        assert!(status.reason.is_some(), "a reason is given");
    }
    // Validated like kube-apiserver's: a subject and exactly one kind of attributes.
    let empty = SubjectAccessReview::default();
    match api.create(&PostParams::default(), &empty).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 422);
            assert!(
                s.message
                    .contains("at least one of user or group must be specified"),
                "{}",
                s.message
            );
        }
        other => panic!("an empty review was answered: {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn approving_needs_permission_on_the_issuer() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let Some((cp, d)) = setup(&dir).await? else {
        return Ok(());
    };
    create_request(&d, "one", json!({"name": "ca"})).await?;
    create_request(
        &d,
        "two",
        json!({"name": "ca", "kind": "Issuer", "group": "cert-manager.io"}),
    )
    .await?;
    create_request(&d, "other", json!({"name": "other"})).await?;

    // No permission, or permission for something else: denied with upstream's message, which
    // shows the issuerRef as written (kind and group unset).
    for (user, groups) in [
        ("nobody", &[][..]),
        ("not-approve", &[]),
        ("cluster-approver", &[]),
    ] {
        let client = client_as(&cp, user, groups)?;
        for kind in ["Approved", "Denied"] {
            assert_denied(
                add_condition(&client, "one", condition(kind)).await,
                &not_permitted(user, "{ca  }"),
                &format!("{user} setting {kind}"),
            );
        }
    }
    let approver = client_as(&cp, "issuer-approver", &[])?;
    assert_denied(
        add_condition(&approver, "other", condition("Approved")).await,
        &not_permitted("issuer-approver", "{other  }"),
        "issuer-approver on another issuer",
    );

    // Permission on the issuer itself, then through a group holding the wildcard.
    let cr = add_condition(&approver, "one", condition("Approved")).await?;
    assert!(has_condition(&cr, "Approved"), "{:?}", cr.data);
    let wildcard = client_as(&cp, "someone", &["all-issuers"])?;
    let cr = add_condition(&wildcard, "two", condition("Denied")).await?;
    assert!(has_condition(&cr, "Denied"), "{:?}", cr.data);
    let cr = add_condition(&wildcard, "other", condition("Approved")).await?;
    assert!(has_condition(&cr, "Approved"), "{:?}", cr.data);

    // Status updates that add neither condition are not checked: anyone may make them (here a
    // Ready condition on an approved request and on a fresh one).
    let nobody = client_as(&cp, "nobody", &[])?;
    let ready =
        json!({"type": "Ready", "status": "False", "reason": "Pending", "message": "waiting"});
    let cr = add_condition(&nobody, "one", ready.clone()).await?;
    assert!(has_condition(&cr, "Ready") && has_condition(&cr, "Approved"));
    create_request(&d, "fresh", json!({"name": "ca"})).await?;
    let cr = add_condition(&nobody, "fresh", ready).await?;
    assert!(has_condition(&cr, "Ready"));
    Ok(())
}

#[tokio::test]
async fn cluster_issuer_signer_names_have_no_namespace() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let Some((cp, d)) = setup(&dir).await? else {
        return Ok(());
    };
    create_request(
        &d,
        "cluster",
        json!({"name": "ca", "kind": "ClusterIssuer"}),
    )
    .await?;
    // issuers.cert-manager.io/team-a.ca is no grant on the ClusterIssuer "ca".
    let approver = client_as(&cp, "issuer-approver", &[])?;
    assert_denied(
        add_condition(&approver, "cluster", condition("Approved")).await,
        &not_permitted("issuer-approver", "{ca ClusterIssuer }"),
        "a namespaced grant",
    );
    // Nor is the Issuer wildcard.
    let wildcard = client_as(&cp, "someone", &["all-issuers"])?;
    assert_denied(
        add_condition(&wildcard, "cluster", condition("Approved")).await,
        &not_permitted("someone", "{ca ClusterIssuer }"),
        "the Issuer wildcard",
    );
    let cluster = client_as(&cp, "cluster-approver", &[])?;
    let cr = add_condition(&cluster, "cluster", condition("Approved")).await?;
    assert!(has_condition(&cr, "Approved"), "{:?}", cr.data);
    Ok(())
}

#[tokio::test]
async fn issuer_kinds_the_api_server_does_not_serve_are_rejected() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let Some((cp, d)) = setup(&dir).await? else {
        return Ok(());
    };
    // A group nobody serves (yet). Even users allowed everything (system:masters) are
    // refused: there is no signer. (cert-manager.io itself only takes Issuer and
    // ClusterIssuer; validation rejects other kinds there before any approval.)
    let external = json!({"name": "ca", "kind": "MyIssuer", "group": "example.com"});
    create_request(&d, "external", external).await?;
    assert_denied(
        add_condition(&d.client, "external", condition("Approved")).await,
        &signer_missing("{ca MyIssuer example.com}"),
        "a group nobody serves, as admin",
    );
    let approver = client_as(&cp, "external-approver", &[])?;
    assert_denied(
        add_condition(&approver, "external", condition("Approved")).await,
        &signer_missing("{ca MyIssuer example.com}"),
        "a group nobody serves",
    );

    // Once an external issuer's CRD is served, its signer name comes from discovery. A missing
    // group is never cached, so this works as soon as discovery shows the CRD.
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "myissuers.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "myissuers", "singular": "myissuer", "kind": "MyIssuer", "listKind": "MyIssuerList"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    });
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(cp.client());
    crds.create(&PostParams::default(), &serde_json::from_value(crd)?)
        .await?;
    let deadline = Instant::now() + support::PROPAGATION;
    loop {
        match add_condition(&approver, "external", condition("Approved")).await {
            Ok(cr) => {
                assert!(has_condition(&cr, "Approved"), "{:?}", cr.data);
                break;
            }
            Err(kube::Error::Api(s))
                if s.message == signer_missing("{ca MyIssuer example.com}") => {}
            Err(e) => return Err(e).context("approving for the external issuer"),
        }
        ensure!(
            Instant::now() < deadline,
            "the external issuer's signer never became known"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A kind the (now served) group does not have.
    let missing_kind = json!({"name": "ca", "kind": "NoSuchIssuer", "group": "example.com"});
    create_request(&d, "missing-kind", missing_kind).await?;
    assert_denied(
        add_condition(&d.client, "missing-kind", condition("Denied")).await,
        &signer_missing("{ca NoSuchIssuer example.com}"),
        "a kind example.com does not have",
    );
    // Permission is still needed for the served one.
    create_request(
        &d,
        "external-2",
        json!({"name": "ca", "kind": "MyIssuer", "group": "example.com"}),
    )
    .await?;
    let nobody = client_as(&cp, "nobody", &[])?;
    assert_denied(
        add_condition(&nobody, "external-2", condition("Denied")).await,
        &not_permitted("nobody", "{ca MyIssuer example.com}"),
        "an external issuer without permission",
    );
    Ok(())
}

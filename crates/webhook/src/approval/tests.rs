//! The approval check against a fake API server: upstream's test cases, the discovery caches
//! and the exact messages.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::admission::decode;

/// Discovery and SubjectAccessReviews from tables, counting requests.
#[derive(Default)]
struct FakeCluster {
    /// group → its group versions (absent: not served).
    groups: HashMap<String, Vec<String>>,
    /// group version → resources.
    resources: HashMap<String, Vec<DiscoveredResource>>,
    /// (user, signer name) pairs a review allows.
    allowed: HashSet<(String, String)>,
    discovery_error: Option<String>,
    review_error: Option<String>,
    group_calls: AtomicUsize,
    reviews: Mutex<Vec<SubjectAccessReviewSpec>>,
}

impl FakeCluster {
    fn serving(mut self, group: &str, resources: &[(&str, &str, bool)]) -> Self {
        let gv = format!("{group}/v1");
        self.groups.insert(group.to_owned(), vec![gv.clone()]);
        self.resources.insert(
            gv,
            resources
                .iter()
                .map(|(name, kind, namespaced)| DiscoveredResource {
                    name: (*name).to_owned(),
                    kind: (*kind).to_owned(),
                    namespaced: *namespaced,
                })
                .collect(),
        );
        self
    }

    /// cert-manager.io as the CRDs serve it (subresources listed after their resource).
    fn cert_manager() -> Self {
        Self::default().serving(
            "cert-manager.io",
            &[
                ("certificaterequests", "CertificateRequest", true),
                ("certificaterequests/status", "CertificateRequest", true),
                ("issuers", "Issuer", true),
                ("issuers/status", "Issuer", true),
                ("clusterissuers", "ClusterIssuer", false),
                ("clusterissuers/status", "ClusterIssuer", false),
            ],
        )
    }

    fn allow(mut self, user: &str, signer_name: &str) -> Self {
        self.allowed
            .insert((user.to_owned(), signer_name.to_owned()));
        self
    }

    fn group_calls(&self) -> usize {
        self.group_calls.load(Ordering::SeqCst)
    }

    fn review_count(&self) -> usize {
        self.reviews.lock().unwrap().len()
    }
}

impl Cluster for FakeCluster {
    async fn group_versions(&self, group: &str) -> Result<Option<Vec<String>>, ClusterError> {
        self.group_calls.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = &self.discovery_error {
            return Err(ClusterError(e.clone()));
        }
        Ok(self.groups.get(group).cloned())
    }

    async fn resources(
        &self,
        group_version: &str,
    ) -> Result<Vec<DiscoveredResource>, ClusterError> {
        Ok(self
            .resources
            .get(group_version)
            .cloned()
            .unwrap_or_default())
    }

    async fn allowed(&self, spec: SubjectAccessReviewSpec) -> Result<bool, ClusterError> {
        self.reviews.lock().unwrap().push(spec.clone());
        if let Some(e) = &self.review_error {
            return Err(ClusterError(e.clone()));
        }
        let user = spec.user.unwrap_or_default();
        let name = spec
            .resource_attributes
            .and_then(|a| a.name)
            .unwrap_or_default();
        Ok(self.allowed.contains(&(user, name)))
    }
}

fn cr(issuer_ref: Value, conditions: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
        "metadata": {"name": "cr", "namespace": "testns"},
        "spec": {"request": "", "issuerRef": issuer_ref},
        "status": {"conditions": conditions},
    })
}

fn approved() -> Value {
    json!([{"type": "Approved", "status": "True", "reason": "cert-manager.io", "message": ""}])
}

fn denied() -> Value {
    json!([{"type": "Denied", "status": "True", "reason": "policy", "message": "no"}])
}

fn example_ref() -> Value {
    json!({"name": "my-issuer", "kind": "Issuer", "group": "example.io"})
}

/// A status UPDATE of certificaterequests by `user-1`.
fn status_update(old: Value, new: Value) -> AdmissionRequest<DynamicObject> {
    request(
        json!({"group": "cert-manager.io", "version": "v1", "resource": "certificaterequests"}),
        Some("status"),
        "UPDATE",
        Some(old),
        Some(new),
    )
}

fn request(
    resource: Value,
    sub_resource: Option<&str>,
    operation: &str,
    old: Option<Value>,
    new: Option<Value>,
) -> AdmissionRequest<DynamicObject> {
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "cert-manager.io", "version": "v1", "kind": "CertificateRequest"},
            "resource": resource,
            "subResource": sub_resource,
            "name": "cr", "namespace": "testns",
            "operation": operation,
            "userInfo": {"username": "user-1", "uid": "uid-1", "groups": ["approvers", "system:authenticated"],
                         "extra": {"scopes": ["a", "b"]}},
            "object": new,
            "oldObject": old,
            "dryRun": false,
        }
    });
    decode(&serde_json::to_vec(&review).unwrap().into()).expect("a valid review")
}

fn approving(issuer_ref: Value) -> AdmissionRequest<DynamicObject> {
    status_update(
        cr(issuer_ref.clone(), json!([])),
        cr(issuer_ref, approved()),
    )
}

const NOT_PERMITTED: &str = r#"status.conditions: Forbidden: user "user-1" does not have permissions to set approved/denied conditions for issuer {my-issuer Issuer example.io}"#;

#[test]
fn signer_names_for_namespaced_and_cluster_scoped_issuers() {
    let issuers = SignerResource {
        group: "cert-manager.io".into(),
        plural: "issuers".into(),
        namespaced: true,
    };
    assert_eq!(
        signer_names("ca", "team-a", &issuers),
        [
            "issuers.cert-manager.io/*".to_owned(),
            "issuers.cert-manager.io/team-a.ca".to_owned()
        ]
    );
    let cluster = SignerResource {
        group: "cert-manager.io".into(),
        plural: "clusterissuers".into(),
        namespaced: false,
    };
    assert_eq!(
        signer_names("ca", "team-a", &cluster),
        [
            "clusterissuers.cert-manager.io/*".to_owned(),
            "clusterissuers.cert-manager.io/ca".to_owned()
        ]
    );
}

#[test]
fn messages_are_upstreams() {
    let r: IssuerReference = serde_json::from_value(example_ref()).unwrap();
    assert_eq!(
        signer_missing(&r).to_string(),
        "spec.issuerRef: Forbidden: referenced signer resource does not exist: {my-issuer Issuer example.io}"
    );
    assert_eq!(not_permitted("user-1", &r).to_string(), NOT_PERMITTED);
    // Go's %q and an unset kind and group, printed as empty fields.
    let bare: IssuerReference = serde_json::from_value(json!({"name": "ca"})).unwrap();
    assert_eq!(issuer_ref_text(&bare), "{ca  }");
    assert_eq!(
        not_permitted("system:serviceaccount:ns:\"x\"", &bare).to_string(),
        r#"status.conditions: Forbidden: user "system:serviceaccount:ns:\"x\"" does not have permissions to set approved/denied conditions for issuer {ca  }"#
    );
}

#[test]
fn only_newly_added_approved_or_denied_conditions_need_the_check() {
    let r = example_ref();
    let ready = json!([{"type": "Ready", "status": "False", "reason": "Pending"}]);
    let cases = [
        ("Approved added", json!([]), approved(), true),
        ("Denied added", json!(null), denied(), true),
        (
            "Approved added next to Ready",
            ready.clone(),
            approved(),
            true,
        ),
        ("Approved already there", approved(), approved(), false),
        ("Denied already there", denied(), denied(), false),
        ("only Ready added", json!([]), ready, false),
        ("nothing changed", json!([]), json!([]), false),
    ];
    for (name, old, new, needed) in cases {
        let p = pending(&status_update(cr(r.clone(), old), cr(r.clone(), new))).unwrap();
        assert_eq!(p.is_some(), needed, "{name}");
    }
    let p = pending(&approving(r.clone())).unwrap().unwrap();
    assert_eq!(p.namespace, "testns");
    assert_eq!(p.user.username.as_deref(), Some("user-1"));
    assert_eq!(p.issuer_ref.name, "my-issuer");
}

#[test]
fn other_resources_subresources_and_operations_are_not_checked() {
    let (old, new) = (cr(example_ref(), json!([])), cr(example_ref(), approved()));
    let cases = [
        (
            json!({"group": "cert-manager.io", "version": "v1", "resource": "issuers"}),
            Some("status"),
            "UPDATE",
        ),
        (
            json!({"group": "foo.cert-manager.io", "version": "v1", "resource": "certificaterequests"}),
            Some("status"),
            "UPDATE",
        ),
        (
            json!({"group": "cert-manager.io", "version": "v1", "resource": "certificaterequests"}),
            None,
            "UPDATE",
        ),
        (
            json!({"group": "cert-manager.io", "version": "v1", "resource": "certificaterequests"}),
            Some("status"),
            "CREATE",
        ),
    ];
    for (resource, sub, op) in cases {
        let req = request(
            resource.clone(),
            sub,
            op,
            Some(old.clone()),
            Some(new.clone()),
        );
        assert_eq!(pending(&req), Ok(None), "{resource} {sub:?} {op}");
    }
}

#[test]
fn malformed_requests_are_denied() {
    let (old, new) = (cr(example_ref(), json!([])), cr(example_ref(), approved()));
    let unset = request(
        json!({"group": "", "version": "", "resource": ""}),
        Some("status"),
        "UPDATE",
        Some(old.clone()),
        Some(new.clone()),
    );
    assert_eq!(pending(&unset), Err(RESOURCE_UNSET.to_owned()));
    let cr_resource =
        json!({"group": "cert-manager.io", "version": "v1", "resource": "certificaterequests"});
    let no_old = request(
        cr_resource.clone(),
        Some("status"),
        "UPDATE",
        None,
        Some(new),
    );
    assert!(pending(&no_old).unwrap_err().contains("oldObject"));
    let mut broken = old.clone();
    broken["spec"]["issuerRef"] = json!("not an object");
    let undecodable = request(
        cr_resource,
        Some("status"),
        "UPDATE",
        Some(old),
        Some(broken),
    );
    assert!(
        pending(&undecodable)
            .unwrap_err()
            .contains("decoding new object"),
    );
}

#[tokio::test]
async fn a_missing_signer_resource_is_denied() {
    let approval = Approval::new(FakeCluster::default());
    assert_eq!(
        approval.check(&approving(example_ref())).await.as_deref(),
        Some(
            "spec.issuerRef: Forbidden: referenced signer resource does not exist: {my-issuer Issuer example.io}"
        )
    );
    assert_eq!(approval.cluster.review_count(), 0);
}

#[tokio::test]
async fn permission_on_the_issuer_or_the_wildcard_is_needed() {
    let served = || FakeCluster::default().serving("example.io", &[("issuers", "Issuer", true)]);
    let cases = [
        ("no permission", served(), Some(NOT_PERMITTED)),
        (
            "another issuer",
            served().allow("user-1", "issuers.example.io/testns.other"),
            Some(NOT_PERMITTED),
        ),
        (
            "another user",
            served().allow("user-2", "issuers.example.io/*"),
            Some(NOT_PERMITTED),
        ),
        (
            "the issuer",
            served().allow("user-1", "issuers.example.io/testns.my-issuer"),
            None,
        ),
        (
            "the wildcard",
            served().allow("user-1", "issuers.example.io/*"),
            None,
        ),
    ];
    for (name, cluster, want) in cases {
        let approval = Approval::new(cluster);
        assert_eq!(
            approval.check(&approving(example_ref())).await.as_deref(),
            want,
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_review_carries_the_requester_and_the_signer() {
    let approval = Approval::new(FakeCluster::cert_manager());
    let denial = approval
        .check(&approving(json!({"name": "my-issuer"})))
        .await;
    // Defaults: group cert-manager.io and kind Issuer; the message shows the reference as written.
    assert_eq!(
        denial.as_deref(),
        Some(
            r#"status.conditions: Forbidden: user "user-1" does not have permissions to set approved/denied conditions for issuer {my-issuer  }"#
        )
    );
    let reviews = approval.cluster.reviews.lock().unwrap().clone();
    let names: Vec<_> = reviews
        .iter()
        .map(|s| {
            s.resource_attributes
                .as_ref()
                .unwrap()
                .name
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "issuers.cert-manager.io/*",
            "issuers.cert-manager.io/testns.my-issuer"
        ]
    );
    let spec = &reviews[0];
    assert_eq!(spec.user.as_deref(), Some("user-1"));
    assert_eq!(spec.uid.as_deref(), Some("uid-1"));
    assert_eq!(
        spec.groups.as_deref(),
        Some(&["approvers".to_owned(), "system:authenticated".to_owned()][..])
    );
    assert_eq!(
        spec.extra,
        Some(BTreeMap::from([(
            "scopes".to_owned(),
            vec!["a".to_owned(), "b".to_owned()]
        )]))
    );
    let attrs = spec.resource_attributes.as_ref().unwrap();
    assert_eq!(attrs.verb.as_deref(), Some("approve"));
    assert_eq!(attrs.group.as_deref(), Some("cert-manager.io"));
    assert_eq!(attrs.version.as_deref(), Some("*"));
    assert_eq!(attrs.resource.as_deref(), Some("signers"));
    assert_eq!(attrs.namespace, None);
    assert!(spec.non_resource_attributes.is_none());
}

#[tokio::test]
async fn cluster_issuers_use_the_name_without_namespace() {
    let cluster =
        FakeCluster::cert_manager().allow("user-1", "clusterissuers.cert-manager.io/my-issuer");
    let approval = Approval::new(cluster);
    let r = json!({"name": "my-issuer", "kind": "ClusterIssuer", "group": "cert-manager.io"});
    assert_eq!(approval.check(&approving(r)).await, None);
    // A namespaced grant with the same name is not a grant on the ClusterIssuer.
    let cluster = FakeCluster::cert_manager().allow("user-1", "issuers.cert-manager.io/testns.ca");
    let approval = Approval::new(cluster);
    let r = json!({"name": "ca", "kind": "ClusterIssuer"});
    assert_eq!(
        approval.check(&approving(r)).await.as_deref(),
        Some(
            r#"status.conditions: Forbidden: user "user-1" does not have permissions to set approved/denied conditions for issuer {ca ClusterIssuer }"#
        )
    );
}

#[tokio::test]
async fn status_updates_without_approval_are_not_looked_up() {
    let approval = Approval::new(FakeCluster::default());
    let r = example_ref();
    let ready = json!([{"type": "Ready", "status": "True", "reason": "Issued"}]);
    assert_eq!(
        approval
            .check(&status_update(cr(r.clone(), json!([])), cr(r, ready)))
            .await,
        None
    );
    assert_eq!(approval.cluster.group_calls(), 0);
}

#[tokio::test]
async fn review_errors_deny_without_trying_the_next_name() {
    let mut cluster = FakeCluster::default()
        .serving("example.io", &[("issuers", "Issuer", true)])
        .allow("user-1", "issuers.example.io/testns.my-issuer");
    cluster.review_error = Some("connection refused".into());
    let approval = Approval::new(cluster);
    assert_eq!(
        approval.check(&approving(example_ref())).await.as_deref(),
        Some(NOT_PERMITTED)
    );
    assert_eq!(approval.cluster.review_count(), 1);
}

#[tokio::test]
async fn discovery_errors_deny_with_the_error() {
    let cluster = FakeCluster {
        discovery_error: Some("discovering API group example.io: 503".into()),
        ..Default::default()
    };
    let approval = Approval::new(cluster);
    assert_eq!(
        approval.check(&approving(example_ref())).await.as_deref(),
        Some("discovering API group example.io: 503")
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_group_is_looked_up_every_time() {
    let approval = Approval::new(FakeCluster::default());
    for _ in 0..2 {
        assert_eq!(
            approval.signer_resource("example.io", "Issuer").await,
            Ok(None)
        );
    }
    assert_eq!(approval.cluster.group_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_missing_kind_is_remembered_for_a_while() {
    let approval = Approval::new(FakeCluster::default().serving("example.io", &[]));
    for _ in 0..3 {
        assert_eq!(
            approval.signer_resource("example.io", "Issuer").await,
            Ok(None)
        );
    }
    assert_eq!(approval.cluster.group_calls(), 1);
    tokio::time::advance(NEGATIVE_CACHE_TTL).await;
    assert_eq!(
        approval.signer_resource("example.io", "Issuer").await,
        Ok(None)
    );
    assert_eq!(approval.cluster.group_calls(), 2);
    assert_eq!(
        lock(&approval.missing).len(),
        1,
        "the expired entry was replaced"
    );
}

#[tokio::test(start_paused = true)]
async fn found_resources_are_kept_and_subresources_skipped() {
    let approval = Approval::new(FakeCluster::default().serving(
        "example.io",
        &[
            ("issuers/status", "Issuer", true),
            ("issuers", "Issuer", true),
        ],
    ));
    let want = SignerResource {
        group: "example.io".into(),
        plural: "issuers".into(),
        namespaced: true,
    };
    for _ in 0..3 {
        assert_eq!(
            approval.signer_resource("example.io", "Issuer").await,
            Ok(Some(want.clone()))
        );
        tokio::time::advance(NEGATIVE_CACHE_TTL).await;
    }
    assert_eq!(approval.cluster.group_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn decisions_are_reused_briefly() {
    let approval = Approval::new(
        FakeCluster::default()
            .serving("example.io", &[("issuers", "Issuer", true)])
            .allow("user-1", "issuers.example.io/*"),
    );
    for _ in 0..3 {
        assert_eq!(approval.check(&approving(example_ref())).await, None);
    }
    assert_eq!(approval.cluster.review_count(), 1);
    tokio::time::advance(DECISION_TTL).await;
    assert_eq!(approval.check(&approving(example_ref())).await, None);
    assert_eq!(approval.cluster.review_count(), 2);
}

#[test]
fn group_names_that_cannot_be_in_a_path_are_not_looked_up() {
    for ok in ["cert-manager.io", "example.io", "a", "x-1.b2.c"] {
        assert!(is_group_name(ok), "{ok}");
    }
    for bad in ["", "a/b", "../x", "A.io", "a..b", "-a.io", "a?b", "a b"] {
        assert!(!is_group_name(bad), "{bad}");
    }
}

//! cert-manager's CertificateRequestApproval check: setting the `Approved` or `Denied`
//! condition of a CertificateRequest (through its `status` subresource) needs permission to
//! `approve` the issuer as a signer:
//!
//! ```text
//! verb approve, group cert-manager.io, resource signers, name one of
//!   <plural>.<group>/*                      any issuer of that kind
//!   <plural>.<group>/<namespace>.<name>     a namespaced issuer (Issuer)
//!   <plural>.<group>/<name>                 a cluster-scoped issuer (ClusterIssuer)
//! ```
//!
//! The issuer kind is mapped to its plural and scope through API discovery, and the user's
//! permission is asked with a SubjectAccessReview. Both are live requests to the API server
//! (the webhook keeps no informers); discovery answers are cached (misses of a kind within a
//! served group for [`NEGATIVE_CACHE_TTL`]) and decisions for [`DECISION_TTL`], as upstream.
//!
//! [`pending`] (does this request need the check, and for whom) and the message builders are
//! pure; [`Approval::check`] does the lookups through a [`Cluster`].

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use api::certificaterequest::CertificateRequestConditionType as ConditionType;
use api::field::{self, Path, go_quote};
use api::{CertificateRequest, IssuerReference};
use k8s_openapi::api::authentication::v1::UserInfo;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroup, APIResourceList};
use kube::api::{Api, PostParams};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, Operation};
use tokio::time::Instant;

use crate::admission::objects;

/// How long "the group is served but has no such kind" is remembered (upstream: 30 s).
pub const NEGATIVE_CACHE_TTL: Duration = Duration::from_secs(30);
/// How long a SubjectAccessReview answer is reused (upstream's delegating authorizer: 1 s).
pub const DECISION_TTL: Duration = Duration::from_secs(1);
/// Cached decisions kept at most; expired ones are dropped first, then all.
const MAX_DECISIONS: usize = 1024;
/// Negative discovery entries above which expired ones are dropped.
const MAX_MISSING: usize = 256;
/// Each discovery or SubjectAccessReview request; admission itself times out after 30 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// One retry of a request that failed transiently (upstream retries once after ~1 s).
const RETRY_AFTER: Duration = Duration::from_secs(1);

const SIGNER_GROUP: &str = "cert-manager.io";
const SIGNER_RESOURCE: &str = "signers";
const APPROVE: &str = "approve";

/// A request the webhook cannot evaluate at all (a real API server never sends it).
pub const RESOURCE_UNSET: &str = "internal error: admission request Resource field is unset";

/// A status update that adds `Approved` or `Denied`: who made it, for which issuer.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub user: UserInfo,
    /// The CertificateRequest's namespace.
    pub namespace: String,
    /// As written in the CertificateRequest (empty kind and group are kept: messages show
    /// them as they are).
    pub issuer_ref: IssuerReference,
}

/// Whether `req` needs the approval check. `Err` is a denial message (a malformed request).
pub fn pending(req: &AdmissionRequest<DynamicObject>) -> Result<Option<Pending>, String> {
    if req.operation != Operation::Update {
        return Ok(None);
    }
    let r = &req.resource;
    if r.group.is_empty() && r.version.is_empty() && r.resource.is_empty() {
        return Err(RESOURCE_UNSET.to_owned());
    }
    if r.group != SIGNER_GROUP
        || r.resource != "certificaterequests"
        || req.sub_resource.as_deref() != Some("status")
    {
        return Ok(None);
    }
    let objs = objects::<CertificateRequest>(req)?;
    let (Some(new), Some(old)) = (objs.new, objs.old) else {
        return Err("internal error: a CertificateRequest status update without both the object and oldObject".to_owned());
    };
    if !approval_conditions_added(&old, &new) {
        return Ok(None);
    }
    Ok(Some(Pending {
        user: req.user_info.clone(),
        namespace: new
            .metadata
            .namespace
            .clone()
            .or_else(|| req.namespace.clone())
            .unwrap_or_default(),
        issuer_ref: new.spec.issuer_ref,
    }))
}

/// True when `Approved` or `Denied` is present in `new` but not in `old`.
pub fn approval_conditions_added(old: &CertificateRequest, new: &CertificateRequest) -> bool {
    [ConditionType::Approved, ConditionType::Denied]
        .iter()
        .any(|t| old.condition(t).is_none() && new.condition(t).is_some())
}

/// The API resource of an issuer kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerResource {
    pub group: String,
    /// The plural resource name, e.g. `issuers`.
    pub plural: String,
    pub namespaced: bool,
}

/// The signer names that grant approval, the wildcard first.
pub fn signer_names(issuer_name: &str, namespace: &str, r: &SignerResource) -> [String; 2] {
    let prefix = format!("{}.{}", r.plural, r.group);
    let specific = if r.namespaced {
        format!("{prefix}/{namespace}.{issuer_name}")
    } else {
        format!("{prefix}/{issuer_name}")
    };
    [format!("{prefix}/*"), specific]
}

/// The reference as Go's `%v` prints cert-manager's IssuerReference: `{name kind group}`.
pub fn issuer_ref_text(r: &IssuerReference) -> String {
    format!(
        "{{{} {} {}}}",
        r.name,
        r.kind.as_deref().unwrap_or_default(),
        r.group.as_deref().unwrap_or_default()
    )
}

/// The denial when the issuer kind is not served by the API server.
pub fn signer_missing(r: &IssuerReference) -> field::Error {
    field::Error::forbidden(
        &Path::new("spec.issuerRef"),
        &format!(
            "referenced signer resource does not exist: {}",
            issuer_ref_text(r)
        ),
    )
}

/// The denial when the user may not approve for the issuer.
pub fn not_permitted(username: &str, r: &IssuerReference) -> field::Error {
    field::Error::forbidden(
        &Path::new("status.conditions"),
        &format!(
            "user {} does not have permissions to set approved/denied conditions for issuer {}",
            go_quote(username),
            issuer_ref_text(r)
        ),
    )
}

/// The SubjectAccessReview asking whether `user` may approve `signer_name`.
pub fn review_spec(user: &UserInfo, signer_name: &str) -> SubjectAccessReviewSpec {
    SubjectAccessReviewSpec {
        user: user.username.clone(),
        uid: user.uid.clone(),
        groups: user.groups.clone(),
        extra: user.extra.clone(),
        resource_attributes: Some(ResourceAttributes {
            verb: Some(APPROVE.to_owned()),
            group: Some(SIGNER_GROUP.to_owned()),
            version: Some("*".to_owned()),
            resource: Some(SIGNER_RESOURCE.to_owned()),
            name: Some(signer_name.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A failed lookup, with what was being looked up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(pub String);

/// A resource of a group version, as discovery lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredResource {
    pub name: String,
    pub kind: String,
    pub namespaced: bool,
}

/// The API server requests the check needs.
pub trait Cluster: Send + Sync + 'static {
    /// The versions (`group/version`) of `group`; `None` when the group is not served.
    fn group_versions(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<Option<Vec<String>>, ClusterError>> + Send;
    /// The resources of one group version.
    fn resources(
        &self,
        group_version: &str,
    ) -> impl Future<Output = Result<Vec<DiscoveredResource>, ClusterError>> + Send;
    /// Whether a SubjectAccessReview with `spec` is allowed.
    fn allowed(
        &self,
        spec: SubjectAccessReviewSpec,
    ) -> impl Future<Output = Result<bool, ClusterError>> + Send;
}

/// The approval check with its caches.
pub struct Approval<C = KubeCluster> {
    cluster: C,
    /// (group, kind) → resource; kinds do not change resource names, so kept for good.
    resources: Mutex<HashMap<(String, String), SignerResource>>,
    /// (group, kind) → when discovery last found the group without that kind.
    missing: Mutex<HashMap<(String, String), Instant>>,
    decisions: Mutex<HashMap<DecisionKey, (bool, Instant)>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DecisionKey {
    username: Option<String>,
    uid: Option<String>,
    groups: Option<Vec<String>>,
    extra: Option<BTreeMap<String, Vec<String>>>,
    signer_name: String,
}

impl<C: Cluster> Approval<C> {
    pub fn new(cluster: C) -> Self {
        Self {
            cluster,
            resources: Mutex::default(),
            missing: Mutex::default(),
            decisions: Mutex::default(),
        }
    }

    /// The denial message for `req`, or `None` when it may proceed.
    pub async fn check(&self, req: &AdmissionRequest<DynamicObject>) -> Option<String> {
        match pending(req) {
            Ok(None) => None,
            Ok(Some(p)) => self.check_pending(&p).await.err(),
            Err(message) => Some(message),
        }
    }

    /// `Err` is the denial message.
    pub async fn check_pending(&self, p: &Pending) -> Result<(), String> {
        let (group, kind) = (
            p.issuer_ref.effective_group(),
            p.issuer_ref.effective_kind(),
        );
        let resource = match self.signer_resource(group, kind).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(signer_missing(&p.issuer_ref).to_string()),
            Err(e) => return Err(e.to_string()),
        };
        let username = p.user.username.as_deref().unwrap_or_default();
        for name in signer_names(&p.issuer_ref.name, &p.namespace, &resource) {
            match self.allowed(&p.user, &name).await {
                Ok(true) => {
                    tracing::debug!(user = username, signer = %name, "approval permitted");
                    return Ok(());
                }
                Ok(false) => {}
                // As upstream: an authorizer error is a denial, not a reason to try the next
                // name.
                Err(e) => {
                    tracing::warn!(user = username, signer = %name, error = %e, "SubjectAccessReview failed");
                    break;
                }
            }
        }
        Err(not_permitted(username, &p.issuer_ref).to_string())
    }

    /// The resource of `group`/`kind`, from the cache or discovery. `None`: not served.
    pub async fn signer_resource(
        &self,
        group: &str,
        kind: &str,
    ) -> Result<Option<SignerResource>, ClusterError> {
        let key = (group.to_owned(), kind.to_owned());
        if let Some(r) = lock(&self.resources).get(&key) {
            return Ok(Some(r.clone()));
        }
        {
            let mut missing = lock(&self.missing);
            match missing.get(&key) {
                Some(at) if at.elapsed() < NEGATIVE_CACHE_TTL => return Ok(None),
                Some(_) => {
                    missing.remove(&key);
                }
                None => {}
            }
        }
        // A group that is not served (yet: a CRD may just have been created) is not cached,
        // so the next request looks again.
        let Some(versions) = self.cluster.group_versions(group).await? else {
            return Ok(None);
        };
        for gv in versions {
            let found = self
                .cluster
                .resources(&gv)
                .await?
                .into_iter()
                // Subresources (`issuers/status`) share the kind; the resource itself is named
                // without a slash.
                .find(|r| r.kind == kind && !r.name.contains('/'));
            if let Some(r) = found {
                let resource = SignerResource {
                    group: group.to_owned(),
                    plural: r.name,
                    namespaced: r.namespaced,
                };
                lock(&self.missing).remove(&key);
                lock(&self.resources).insert(key, resource.clone());
                return Ok(Some(resource));
            }
        }
        let mut missing = lock(&self.missing);
        // Anyone who may create CertificateRequests chooses the kinds: keep only live entries.
        if missing.len() >= MAX_MISSING {
            missing.retain(|_, at| at.elapsed() < NEGATIVE_CACHE_TTL);
        }
        missing.insert(key, Instant::now());
        Ok(None)
    }

    async fn allowed(&self, user: &UserInfo, signer_name: &str) -> Result<bool, ClusterError> {
        let key = DecisionKey {
            username: user.username.clone(),
            uid: user.uid.clone(),
            groups: user.groups.clone(),
            extra: user.extra.clone(),
            signer_name: signer_name.to_owned(),
        };
        if let Some((allowed, at)) = lock(&self.decisions).get(&key)
            && at.elapsed() < DECISION_TTL
        {
            return Ok(*allowed);
        }
        let allowed = self.cluster.allowed(review_spec(user, signer_name)).await?;
        let mut decisions = lock(&self.decisions);
        if decisions.len() >= MAX_DECISIONS {
            decisions.retain(|_, (_, at)| at.elapsed() < DECISION_TTL);
            if decisions.len() >= MAX_DECISIONS {
                decisions.clear();
            }
        }
        decisions.insert(key, (allowed, Instant::now()));
        Ok(allowed)
    }
}

/// The maps hold plain data: a panic elsewhere cannot leave them half-updated.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`Cluster`] through the webhook's client: `GET /apis/<group>`, `GET /apis/<group>/<version>`
/// and `POST` SubjectAccessReviews, each with a timeout and one retry of transient failures.
#[derive(Clone)]
pub struct KubeCluster {
    client: kube::Client,
}

impl KubeCluster {
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, kube::Error> {
        retrying(|| async {
            let req = http::Request::get(path)
                .body(Vec::new())
                .map_err(kube::Error::HttpError)?;
            self.client.request::<T>(req).await
        })
        .await
    }
}

impl Cluster for KubeCluster {
    async fn group_versions(&self, group: &str) -> Result<Option<Vec<String>>, ClusterError> {
        // Nothing that is not a group name goes into the path; such a group is not served.
        if !is_group_name(group) {
            return Ok(None);
        }
        match self.get::<APIGroup>(&format!("/apis/{group}")).await {
            Ok(g) => Ok(Some(
                g.versions.into_iter().map(|v| v.group_version).collect(),
            )),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(ClusterError(format!("discovering API group {group}: {e}"))),
        }
    }

    async fn resources(
        &self,
        group_version: &str,
    ) -> Result<Vec<DiscoveredResource>, ClusterError> {
        match self
            .get::<APIResourceList>(&format!("/apis/{group_version}"))
            .await
        {
            Ok(list) => Ok(list
                .resources
                .into_iter()
                .map(|r| DiscoveredResource {
                    name: r.name,
                    kind: r.kind,
                    namespaced: r.namespaced,
                })
                .collect()),
            // The version went away between the two requests: nothing served there.
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(Vec::new()),
            Err(e) => Err(ClusterError(format!(
                "discovering the resources of {group_version}: {e}"
            ))),
        }
    }

    async fn allowed(&self, spec: SubjectAccessReviewSpec) -> Result<bool, ClusterError> {
        let api: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let review = SubjectAccessReview {
            spec,
            ..Default::default()
        };
        let params = PostParams::default();
        let answer = retrying(|| api.create(&params, &review))
            .await
            .map_err(|e| ClusterError(format!("creating a SubjectAccessReview: {e}")))?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}

/// `op` with a timeout, retried once after [`RETRY_AFTER`] if it failed transiently.
async fn retrying<T, F, Fut>(op: F) -> Result<T, kube::Error>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let attempt = || async {
        tokio::time::timeout(REQUEST_TIMEOUT, op())
            .await
            .unwrap_or_else(|_| {
                Err(kube::Error::Service(
                    format!("no answer within {REQUEST_TIMEOUT:?}").into(),
                ))
            })
    };
    match attempt().await {
        Err(e) if is_transient(&e) => {
            tracing::debug!(error = %e, "retrying a request to the API server");
            tokio::time::sleep(RETRY_AFTER).await;
            attempt().await
        }
        other => other,
    }
}

fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// A DNS subdomain, as API group names are.
fn is_group_name(group: &str) -> bool {
    !group.is_empty()
        && group.len() <= 253
        && group.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests;

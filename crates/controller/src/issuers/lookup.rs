//! Finding the issuer an `issuerRef` names (cert-manager's `issuer.Helper.GetGenericIssuer`),
//! and the per-kind differences between Issuers and ClusterIssuers.

use std::sync::Arc;

use api::meta::CLUSTER_ISSUER_KIND;
use api::{ClusterIssuer, GenericIssuer, Issuer, IssuerReference, IssuerStatus};
use kube::{Api, Client, ResourceExt};

use crate::context::Context;

pub const ISSUER_KIND: &str = "Issuer";
pub const GROUP: &str = "cert-manager.io";

/// `issuerRef` with cert-manager's defaults applied (empty kind: Issuer, empty group:
/// cert-manager.io).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerRef<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub group: &'a str,
}

impl<'a> IssuerRef<'a> {
    pub fn of(r: &'a IssuerReference) -> Self {
        let non_empty = |s: &'a Option<String>, default: &'a str| {
            s.as_deref().filter(|s| !s.is_empty()).unwrap_or(default)
        };
        Self {
            name: &r.name,
            kind: non_empty(&r.kind, ISSUER_KIND),
            group: non_empty(&r.group, GROUP),
        }
    }

    pub fn is_cert_manager_group(&self) -> bool {
        self.group == GROUP
    }
}

/// An Issuer or ClusterIssuer from the caches.
#[derive(Clone, Debug)]
pub enum ResolvedIssuer {
    Issuer(Arc<Issuer>),
    ClusterIssuer(Arc<ClusterIssuer>),
}

/// Why an `issuerRef` resolves to nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LookupError {
    /// As the Kubernetes NotFound error reads.
    #[error("{resource}.cert-manager.io \"{name}\" not found")]
    NotFound {
        resource: &'static str,
        name: String,
    },
    #[error(
        "cannot get ClusterIssuer named \"{0}\" as cert-manager is scoped to a single namespace"
    )]
    ClusterScopeDisabled(String),
    #[error(
        "invalid value \"{0}\" for issuerRef.kind. Must be empty, \"Issuer\" or \"ClusterIssuer\""
    )]
    InvalidKind(String),
}

impl ResolvedIssuer {
    pub fn lookup(ctx: &Context, r: &IssuerRef<'_>, namespace: &str) -> Result<Self, LookupError> {
        let not_found = |resource| LookupError::NotFound {
            resource,
            name: r.name.to_owned(),
        };
        match r.kind {
            ISSUER_KIND => ctx
                .caches
                .issuers()
                .get_by_name(Some(namespace), r.name)
                .map(Self::Issuer)
                .ok_or_else(|| not_found("issuer")),
            CLUSTER_ISSUER_KIND => {
                let store = ctx
                    .caches
                    .cluster_issuers()
                    .ok_or_else(|| LookupError::ClusterScopeDisabled(r.name.to_owned()))?;
                store
                    .get_by_name(None, r.name)
                    .map(Self::ClusterIssuer)
                    .ok_or_else(|| not_found("clusterissuer"))
            }
            other => Err(LookupError::InvalidKind(other.to_owned())),
        }
    }

    pub fn config(&self) -> &api::IssuerConfig {
        match self {
            Self::Issuer(i) => i.issuer_config(),
            Self::ClusterIssuer(c) => c.issuer_config(),
        }
    }

    pub fn status(&self) -> Option<&IssuerStatus> {
        match self {
            Self::Issuer(i) => i.issuer_status(),
            Self::ClusterIssuer(c) => c.issuer_status(),
        }
    }

    /// Where the issuer's Secrets live: its namespace, or the cluster resource namespace.
    pub fn resource_namespace(&self, ctx: &Context) -> String {
        match self {
            Self::Issuer(i) => i.namespace().unwrap_or_default(),
            Self::ClusterIssuer(_) => ctx.cluster_resource_namespace().to_owned(),
        }
    }

    /// Whether its Ready condition is True.
    pub fn is_ready(&self) -> bool {
        self.status()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.condition_type == api::issuer::IssuerConditionType::Ready
                        && c.status == api::ConditionStatus::True
                })
            })
    }
}

/// The per-kind parts of the issuers controllers.
pub trait IssuerKind:
    GenericIssuer
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + serde::Serialize
    + Send
    + Sync
    + 'static
{
    fn api(client: Client, obj: &Self) -> Api<Self>;
    fn resource_namespace(obj: &Self, ctx: &Context) -> String;
}

impl IssuerKind for Issuer {
    fn api(client: Client, obj: &Self) -> Api<Self> {
        Api::namespaced(client, &obj.namespace().unwrap_or_default())
    }
    fn resource_namespace(obj: &Self, _ctx: &Context) -> String {
        obj.namespace().unwrap_or_default()
    }
}

impl IssuerKind for ClusterIssuer {
    fn api(client: Client, _obj: &Self) -> Api<Self> {
        Api::all(client)
    }
    fn resource_namespace(_obj: &Self, ctx: &Context) -> String {
        ctx.cluster_resource_namespace().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_ref_defaults() {
        let r = IssuerReference {
            name: "a".into(),
            kind: Some(String::new()),
            group: None,
        };
        let d = IssuerRef::of(&r);
        assert_eq!((d.kind, d.group), ("Issuer", "cert-manager.io"));
        assert!(d.is_cert_manager_group());
        let r = IssuerReference {
            name: "a".into(),
            kind: Some("ClusterIssuer".into()),
            group: Some("example.com".into()),
        };
        assert!(!IssuerRef::of(&r).is_cert_manager_group());
    }

    #[test]
    fn not_found_reads_like_kubernetes() {
        let e = LookupError::NotFound {
            resource: "issuer",
            name: "x".into(),
        };
        assert_eq!(e.to_string(), "issuer.cert-manager.io \"x\" not found");
    }
}

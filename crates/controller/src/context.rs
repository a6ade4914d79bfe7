//! What every controller shares: the API client, the effective configuration and gates, the
//! caches (one informer per kind for the whole process, as cert-manager's shared informer
//! factory) and the event recorder.

use std::sync::Arc;

use api::{Certificate, CertificateRequest, Challenge, ClusterIssuer, Issuer, Order};
use config::controller::ControllerConfig;
use featuregates::FeatureGates;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use kubeclient::gates::WATCH_LIST_CLIENT;
use kubeclient::{Informer, Store, WatchConfig};

use crate::events::Recorder;
use crate::secrets::SecretCaches;

pub struct Context {
    pub client: Client,
    pub config: ControllerConfig,
    pub gates: FeatureGates,
    pub caches: Caches,
    recorder: Recorder,
}

impl Context {
    pub fn new(client: Client, config: ControllerConfig, gates: FeatureGates) -> Arc<Self> {
        let caches = Caches::start(client.clone(), &config, &gates);
        let recorder = Recorder::new(client.clone(), "cert-manager-controller");
        Arc::new(Self {
            client,
            config,
            gates,
            caches,
            recorder,
        })
    }

    /// The Event recorder for one controller (`source.component: cert-manager-<controller>`).
    pub fn recorder(&self, controller: &str) -> Recorder {
        self.recorder
            .for_component(format!("cert-manager-{controller}"))
    }

    /// The field manager a controller writes with (server-side apply and updates), the same
    /// names as cert-manager so that managed fields of existing objects stay with their owner.
    pub fn field_manager(controller: &str) -> String {
        format!("cert-manager-{controller}")
    }

    /// Where ClusterIssuers' Secrets live (`--cluster-resource-namespace`).
    pub fn cluster_resource_namespace(&self) -> &str {
        &self.config.cluster_resource_namespace
    }

    /// `--concurrent-workers`, per controller.
    pub fn workers(&self) -> usize {
        self.config.number_of_concurrent_workers.max(1) as usize
    }
}

pub struct Caches {
    pub certificates: Informer<Certificate>,
    pub certificate_requests: Informer<CertificateRequest>,
    pub issuers: Informer<Issuer>,
    /// `None` with `--namespace`: cluster-scoped resources are then not watched (as upstream).
    pub cluster_issuers: Option<Informer<ClusterIssuer>>,
    /// Only with the `ingress-shim` controller enabled: nothing else reads Ingresses.
    pub ingresses: Option<Informer<Ingress>>,
    pub secrets: SecretCaches,
    pub orders: Informer<Order>,
    pub challenges: Informer<Challenge>,
}

impl Caches {
    fn start(client: Client, config: &ControllerConfig, gates: &FeatureGates) -> Self {
        let streaming = gates.enabled(WATCH_LIST_CLIENT);
        let namespace = Some(config.namespace.as_str()).filter(|ns| !ns.is_empty());
        let watch = |name: &str| WatchConfig::new(name, streaming).namespace(namespace);
        Self {
            certificates: Informer::spawn(client.clone(), watch("certificates")),
            certificate_requests: Informer::spawn(client.clone(), watch("certificaterequests")),
            issuers: Informer::spawn(client.clone(), watch("issuers")),
            cluster_issuers: namespace.is_none().then(|| {
                Informer::spawn(
                    client.clone(),
                    WatchConfig::new("clusterissuers", streaming),
                )
            }),
            ingresses: config
                .enabled_controllers(gates)
                .contains(crate::ingressshim::NAME)
                .then(|| {
                    Informer::spawn_with_transform(
                        client.clone(),
                        watch("ingresses"),
                        crate::ingressshim::trim_cached,
                    )
                }),
            orders: Informer::spawn(client.clone(), watch("orders")),
            challenges: Informer::spawn(client.clone(), watch("challenges")),
            secrets: SecretCaches::start(client, gates, namespace),
        }
    }

    pub fn certificates(&self) -> &Store<Certificate> {
        self.certificates.store()
    }

    pub fn certificate_requests(&self) -> &Store<CertificateRequest> {
        self.certificate_requests.store()
    }

    pub fn issuers(&self) -> &Store<Issuer> {
        self.issuers.store()
    }

    pub fn cluster_issuers(&self) -> Option<&Store<ClusterIssuer>> {
        self.cluster_issuers.as_ref().map(|i| i.store())
    }

    pub fn ingresses(&self) -> Option<&Store<Ingress>> {
        self.ingresses.as_ref().map(|i| i.store())
    }

    pub fn orders(&self) -> &Store<Order> {
        self.orders.store()
    }

    pub fn challenges(&self) -> &Store<Challenge> {
        self.challenges.store()
    }

    pub async fn wait_until_synced(&self) {
        self.certificates.wait_until_synced().await;
        self.certificate_requests.wait_until_synced().await;
        self.issuers.wait_until_synced().await;
        if let Some(ci) = &self.cluster_issuers {
            ci.wait_until_synced().await;
        }
        if let Some(ing) = &self.ingresses {
            ing.wait_until_synced().await;
        }
        self.orders.wait_until_synced().await;
        self.challenges.wait_until_synced().await;
        self.secrets.wait_until_synced().await;
    }
}

/// Merge-patches the status of `obj` through `api` with `status` (`null` fields delete), as
/// `controller`'s field manager. The patch carries the resourceVersion `obj` was read at, so a
/// concurrent change is a 409 conflict and the caller's sync is retried, never a lost write.
pub async fn patch_status<K>(
    api: &Api<K>,
    obj: &K,
    controller: &str,
    status: impl serde::Serialize,
) -> kube::Result<K>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = serde_json::json!({
        "metadata": {"resourceVersion": obj.resource_version()},
        "status": status,
    });
    let params = PatchParams {
        field_manager: Some(Context::field_manager(controller)),
        ..Default::default()
    };
    api.patch_status(&obj.name_any(), &params, &Patch::Merge(patch))
        .await
}

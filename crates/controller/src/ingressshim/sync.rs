//! One reconcile of an Ingress: work out the plan from the caches, then write it, recording an
//! Event on the Ingress for every Certificate created, updated or deleted.

use std::sync::Arc;

use anyhow::Context as _;
use api::Certificate;
use featuregates::certmanager::SERVER_SIDE_APPLY;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams, Preconditions};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::NAME;
use super::desired::{self, REASON_BAD_CONFIG, Update};
use crate::context::Context;
use crate::events::{EventType, Recorder};
use crate::runtime::Action;

pub async fn reconcile(ctx: Arc<Context>, key: String) -> anyhow::Result<Action> {
    let Some(ing) = ctx.caches.ingresses().and_then(|s| s.get(&key)) else {
        // Deleted: the garbage collector removes the Certificates it controlled.
        return Ok(Action::done());
    };
    let ns = ing.namespace().unwrap_or_default();
    let certificates = ctx.caches.certificates();
    let plan = desired::plan(
        &ing,
        &ctx.config.ingress_shim,
        |name| certificates.get_by_name(Some(&ns), name),
        &certificates.list_namespace(&ns),
    );
    let recorder = ctx.recorder(NAME);
    for warning in &plan.warnings {
        tracing::warn!(ingress = %key, "{warning}");
        recorder.publish(
            &*ing,
            EventType::Warning,
            REASON_BAD_CONFIG,
            warning.clone(),
        );
    }
    let writer = Writer {
        api: Api::namespaced(ctx.client.clone(), &ns),
        manager: crate::context::Context::field_manager(NAME),
        apply: ctx.gates.enabled(SERVER_SIDE_APPLY),
        recorder,
        ing: &ing,
    };
    for crt in &plan.create {
        writer.create(crt).await?;
    }
    for u in &plan.update {
        writer.update(u).await?;
    }
    for crt in &plan.delete {
        writer.delete(crt).await?;
    }
    Ok(Action::done())
}

struct Writer<'a> {
    api: Api<Certificate>,
    manager: String,
    /// The `ServerSideApply` gate: apply instead of create and update, as cert-manager does.
    apply: bool,
    recorder: Recorder,
    ing: &'a Ingress,
}

impl Writer<'_> {
    async fn create(&self, crt: &Certificate) -> anyhow::Result<()> {
        let name = crt.name_any();
        if self.apply {
            self.server_side_apply(crt).await?;
        } else {
            let params = PostParams {
                field_manager: Some(self.manager.clone()),
                ..Default::default()
            };
            // Already existing (a cache behind the API): the retry sees it and updates.
            self.api
                .create(&params, crt)
                .await
                .with_context(|| format!("creating Certificate {name:?}"))?;
        }
        tracing::info!(ingress = %self.ing.name_any(), certificate = %name, "created Certificate");
        self.event(
            "CreateCertificate",
            format!("Successfully created Certificate {name:?}"),
        );
        Ok(())
    }

    async fn update(&self, update: &Update) -> anyhow::Result<()> {
        let name = update.replace.name_any();
        if self.apply {
            self.server_side_apply(&update.apply).await?;
        } else {
            let crt = &update.replace;
            // Carries the cached resourceVersion: a conflict is retried from fresh caches.
            let params = PostParams {
                field_manager: Some(self.manager.clone()),
                ..Default::default()
            };
            self.api
                .replace(&name, &params, crt)
                .await
                .with_context(|| format!("updating Certificate {name:?}"))?;
        }
        tracing::info!(ingress = %self.ing.name_any(), certificate = %name, "updated Certificate");
        self.event(
            "UpdateCertificate",
            format!("Successfully updated Certificate {name:?}"),
        );
        Ok(())
    }

    async fn delete(&self, crt: &Certificate) -> anyhow::Result<()> {
        let name = crt.name_any();
        // Only the object seen to be controlled by this Ingress, not a namesake made since.
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: crt.uid(),
                resource_version: None,
            }),
            ..Default::default()
        };
        match self.api.delete(&name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
            Err(e) => {
                return Err(e).with_context(|| format!("deleting Certificate {name:?}"));
            }
        }
        tracing::info!(ingress = %self.ing.name_any(), certificate = %name, "deleted Certificate");
        self.event(
            "DeleteCertificate",
            format!("Successfully deleted unrequired Certificate {name:?}"),
        );
        Ok(())
    }

    /// Applies the fields ingress-shim owns (metadata it sets, and the spec), forcing
    /// ownership as cert-manager does.
    async fn server_side_apply(&self, crt: &Certificate) -> anyhow::Result<()> {
        let name = crt.name_any();
        let meta = &crt.metadata;
        let metadata = ObjectMeta {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            labels: meta.labels.clone(),
            annotations: meta.annotations.clone(),
            owner_references: meta.owner_references.clone(),
            ..Default::default()
        };
        let body = json!({
            "apiVersion": Certificate::api_version(&()),
            "kind": Certificate::kind(&()),
            "metadata": metadata,
            "spec": crt.spec,
        });
        self.api
            .patch(
                &name,
                &PatchParams::apply(&self.manager).force(),
                &Patch::Apply(body),
            )
            .await
            .with_context(|| format!("applying Certificate {name:?}"))?;
        Ok(())
    }

    fn event(&self, reason: &str, message: String) {
        self.recorder
            .publish(self.ing, EventType::Normal, reason, message);
    }
}

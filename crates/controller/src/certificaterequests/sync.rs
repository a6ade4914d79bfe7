//! The flow every issuer's CertificateRequest controller shares (cert-manager's
//! `certificaterequests.Controller.Sync`): skip requests for other API groups, report denied
//! ones, wait for approval, find the issuer, wait for it to be ready, sign once, report.

use std::fmt::Display;
use std::sync::Arc;

use api::certificaterequest::CertificateRequestConditionType as T;
use api::{CertificateRequest, ConditionStatus};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::{Api, ResourceExt};
use kubeclient::store::key_of;

use super::conditions::{self, REASON_DENIED, REASON_FAILED, REASON_ISSUED, REASON_PENDING};
use super::{PRIVATE_KEY_SECRET_ANNOTATION, acme, ca, selfsigned, vault};
use crate::context::Context;
use crate::events::{EventType, Recorder};
use crate::issuers::lookup::{IssuerRef, LookupError, ResolvedIssuer};
use crate::issuers::setup::{IssuerType, issuer_type};
use crate::runtime::{Action, Controller};

const READY_MESSAGE: &str = "Certificate fetched from issuer successfully";
const DENIED_MESSAGE: &str = "The CertificateRequest was denied by an approval controller";

/// The issuer types cert-manager-rs signs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    SelfSigned,
    Ca,
    Vault,
    Acme,
}

impl Signer {
    fn name(self) -> &'static str {
        match self {
            Self::SelfSigned => "certificaterequests-issuer-selfsigned",
            Self::Ca => "certificaterequests-issuer-ca",
            Self::Vault => "certificaterequests-issuer-vault",
            Self::Acme => "certificaterequests-issuer-acme",
        }
    }

    fn handles(self, t: &IssuerType<'_>) -> bool {
        matches!(
            (self, t),
            (Self::SelfSigned, IssuerType::SelfSigned)
                | (Self::Ca, IssuerType::Ca { .. })
                | (Self::Vault, IssuerType::Vault)
                | (Self::Acme, IssuerType::Acme)
        )
    }
}

/// A signed certificate for `status.certificate` and `status.ca` (PEM).
pub struct Issued {
    pub certificate: String,
    pub ca: String,
}

/// Records outcomes on the request copy (status) and as Events, as cert-manager's reporter.
pub struct Reporter {
    recorder: Recorder,
    now: Timestamp,
}

impl Reporter {
    /// Final: Ready=False/Failed with failureTime.
    pub fn failed(
        &self,
        cr: &mut CertificateRequest,
        err: &dyn Display,
        reason: &str,
        message: &str,
    ) {
        conditions::set_failure_time(cr, self.now);
        let message = format!("{message}: {err}");
        self.recorder
            .publish(&*cr, EventType::Warning, reason, message.clone());
        conditions::set(
            cr,
            T::Ready,
            ConditionStatus::False,
            REASON_FAILED,
            &message,
            self.now,
        );
    }

    /// Not yet: Ready=False/Pending; an Event only when the request was not already pending.
    pub fn pending(
        &self,
        cr: &mut CertificateRequest,
        err: Option<&dyn Display>,
        reason: &str,
        message: &str,
    ) {
        let message = match err {
            Some(e) => format!("{message}: {e}"),
            None => message.to_owned(),
        };
        if conditions::ready_reason(cr) != REASON_PENDING {
            self.recorder
                .publish(&*cr, EventType::Normal, reason, message.clone());
        }
        conditions::set(
            cr,
            T::Ready,
            ConditionStatus::False,
            REASON_PENDING,
            &message,
            self.now,
        );
    }

    /// The Secret `namespace/name` a signer needs. Missing: `cr` is left pending with
    /// `missing_reason`; unreadable: pending with `error_reason`, and the error is returned so
    /// that the request is retried.
    pub async fn signing_secret(
        &self,
        ctx: &Context,
        cr: &mut CertificateRequest,
        namespace: &str,
        name: &str,
        missing_reason: &str,
        error_reason: &str,
    ) -> anyhow::Result<Option<Arc<Secret>>> {
        match ctx.caches.secrets.get(&ctx.client, namespace, name).await {
            Ok(Some(secret)) => Ok(Some(secret)),
            Ok(None) => {
                let message = format!("Referenced secret {namespace}/{name} not found");
                let err = format!("secret \"{name}\" not found");
                self.pending(cr, Some(&err), missing_reason, &message);
                Ok(None)
            }
            Err(e) => {
                let message =
                    format!("Failed to get certificate key pair from secret {namespace}/{name}");
                self.pending(cr, Some(&e), error_reason, &message);
                Err(e.into())
            }
        }
    }

    fn denied(&self, cr: &mut CertificateRequest) {
        conditions::set_failure_time(cr, self.now);
        conditions::set(
            cr,
            T::Ready,
            ConditionStatus::False,
            REASON_DENIED,
            DENIED_MESSAGE,
            self.now,
        );
    }

    fn ready(&self, cr: &mut CertificateRequest) {
        self.recorder
            .publish(&*cr, EventType::Normal, "CertificateIssued", READY_MESSAGE);
        conditions::set(
            cr,
            T::Ready,
            ConditionStatus::True,
            REASON_ISSUED,
            READY_MESSAGE,
            self.now,
        );
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

/// Runs the CertificateRequest controller of `signer`: requests are synced when they change,
/// when the issuer they name changes, and (self-signed) when their private key Secret changes.
pub async fn run(ctx: Arc<Context>, signer: Signer) {
    let requests = ctx.caches.certificate_requests().clone();
    let mut controller = Controller::new(signer.name(), ctx.clone()).watch_self(&requests);
    let by_issuer = requests.clone();
    controller = controller.watch(ctx.caches.issuers(), move |issuer| {
        let (ns, name) = (issuer.namespace(), issuer.name_any());
        requests_where(&by_issuer, move |cr| {
            let r = IssuerRef::of(&cr.spec.issuer_ref);
            r.kind == "Issuer" && r.name == name && cr.namespace() == ns
        })
    });
    if let Some(cluster_issuers) = ctx.caches.cluster_issuers() {
        let by_issuer = requests.clone();
        controller = controller.watch(cluster_issuers, move |issuer| {
            let name = issuer.name_any();
            requests_where(&by_issuer, move |cr| {
                let r = IssuerRef::of(&cr.spec.issuer_ref);
                r.kind == "ClusterIssuer" && r.name == name
            })
        });
    }
    if signer == Signer::SelfSigned {
        let by_key = requests.clone();
        let map = Arc::new(move |ns: Option<String>, name: String| {
            requests_where(&by_key, move |cr| {
                cr.namespace() == ns
                    && cr.annotations().get(PRIVATE_KEY_SECRET_ANNOTATION) == Some(&name)
            })
        });
        let owned_map = map.clone();
        controller = controller.watch(ctx.caches.secrets.owned_store(), move |s: &Secret| {
            owned_map(s.namespace(), s.name_any())
        });
        if let Some(others) = ctx.caches.secrets.unowned_keys_store() {
            controller = controller.watch(others, move |s| map(s.namespace(), s.name_any()));
        }
    }
    if signer == Signer::Acme {
        controller = acme::watch_orders(controller, &ctx);
    }
    controller
        .run(ctx.workers(), move |ctx, key| {
            let requests = requests.clone();
            async move {
                match requests.get(&key) {
                    Some(cr) => sync(&ctx, signer, &cr).await,
                    None => Ok(Action::done()),
                }
            }
        })
        .await
}

fn requests_where<F>(store: &kubeclient::Store<CertificateRequest>, pred: F) -> Vec<String>
where
    F: Fn(&CertificateRequest) -> bool,
{
    store
        .list_filtered(|cr| pred(cr))
        .iter()
        .map(|cr| key_of(cr.as_ref()))
        .collect()
}

async fn sync(ctx: &Context, signer: Signer, cr: &CertificateRequest) -> anyhow::Result<Action> {
    if !IssuerRef::of(&cr.spec.issuer_ref).is_cert_manager_group() {
        return Ok(Action::done());
    }
    let reporter = Reporter {
        recorder: ctx.recorder(signer.name()),
        now: Timestamp::now(),
    };
    let mut updated = cr.clone();
    let result = decide(ctx, signer, &reporter, &mut updated).await;
    write_status(ctx, signer.name(), cr, &updated).await?;
    result.map(|()| Action::done())
}

/// Works out the request's next state on `cr`; `Err` is a transient failure to retry.
async fn decide(
    ctx: &Context,
    signer: Signer,
    reporter: &Reporter,
    cr: &mut CertificateRequest,
) -> anyhow::Result<()> {
    if conditions::is_denied(cr) {
        reporter.denied(cr);
        return Ok(());
    }
    if conditions::has_invalid_request(cr) {
        return Ok(());
    }
    if !conditions::is_approved(cr) {
        if responsible(ctx, signer, cr) {
            reporter.recorder().publish(
                &*cr,
                EventType::Normal,
                "WaitingForApproval",
                "Not signing CertificateRequest until it is Approved",
            );
        }
        return Ok(());
    }
    if conditions::is_final(cr) {
        return Ok(());
    }
    let namespace = cr.namespace().unwrap_or_default();
    let issuer_ref = cr.spec.issuer_ref.clone();
    let issuer_ref = IssuerRef::of(&issuer_ref);
    let issuer = match ResolvedIssuer::lookup(ctx, &issuer_ref, &namespace) {
        Ok(issuer) => issuer,
        Err(e @ LookupError::NotFound { .. }) => {
            let message = format!("Referenced \"{}\" not found", issuer_ref.kind);
            reporter.pending(cr, Some(&e), "IssuerNotFound", &message);
            return Ok(());
        }
        Err(e) => return Err(anyhow::anyhow!("failed to get issuer: {e}")),
    };
    let issuer_type = issuer_type(issuer.config());
    if let IssuerType::Unsupported("none") = issuer_type {
        reporter.pending(
            cr,
            Some(&"no issuer specified for Issuer"),
            "IssuerTypeMissing",
            "Missing issuer type",
        );
        return Ok(());
    }
    if !signer.handles(&issuer_type) {
        return Ok(());
    }
    if !issuer.is_ready() {
        reporter.pending(
            cr,
            None,
            "IssuerNotReady",
            "Referenced issuer does not have a Ready status condition",
        );
        return Ok(());
    }
    if cr
        .status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
    {
        return Ok(());
    }
    let issued = match signer {
        Signer::SelfSigned => selfsigned::sign(ctx, reporter, cr, &issuer).await?,
        Signer::Ca => ca::sign(ctx, reporter, cr, &issuer).await?,
        Signer::Vault => vault::sign(ctx, reporter, cr, &issuer).await?,
        Signer::Acme => acme::sign(ctx, reporter, cr, &issuer).await?,
    };
    if let Some(issued) = issued {
        let status = cr.status.get_or_insert_with(Default::default);
        status.certificate = Some(k8s_openapi::ByteString(issued.certificate.into_bytes()));
        // ACME issuers return no CA (as upstream: status.ca stays unset).
        status.ca = Some(issued.ca)
            .filter(|ca| !ca.is_empty())
            .map(|ca| k8s_openapi::ByteString(ca.into_bytes()));
        reporter.ready(cr);
    }
    Ok(())
}

/// Whether `signer` is the one to speak for `cr` before its issuer is used: the signer of the
/// issuer's type, or every signer while the issuer cannot be found. cert-manager has every
/// signer publish its WaitingForApproval event (one per issuer type, each a write to the API
/// server); one says the same.
fn responsible(ctx: &Context, signer: Signer, cr: &CertificateRequest) -> bool {
    let namespace = cr.namespace().unwrap_or_default();
    match ResolvedIssuer::lookup(ctx, &IssuerRef::of(&cr.spec.issuer_ref), &namespace) {
        Ok(issuer) => signer.handles(&issuer_type(issuer.config())),
        Err(_) => true,
    }
}

/// Writes `updated`'s status when it differs from `current`'s, conditional on the
/// resourceVersion read (a concurrent change is a 409 conflict and the sync is retried).
pub async fn write_status(
    ctx: &Context,
    controller: &str,
    current: &CertificateRequest,
    updated: &CertificateRequest,
) -> anyhow::Result<()> {
    if current.status == updated.status {
        return Ok(());
    }
    let namespace = current.namespace().unwrap_or_default();
    let api: Api<CertificateRequest> = Api::namespaced(ctx.client.clone(), &namespace);
    crate::context::patch_status(&api, current, controller, &updated.status)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "updating status of CertificateRequest {namespace}/{}: {e}",
                current.name_any()
            )
        })?;
    Ok(())
}

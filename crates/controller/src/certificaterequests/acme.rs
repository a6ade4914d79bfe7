//! `certificaterequests-issuer-acme`: an ACME issuer does not sign; each CertificateRequest
//! gets one Order (named after a hash of what it asks for), the `orders` controller works it
//! through, and the request copies the certificate of the valid Order, or fails with it.

use std::sync::Arc;

use api::order::State;
use api::{CertificateRequest, Order, OrderSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Resource, ResourceExt};

use super::sync::{Issued, Reporter, Signer};
use crate::acme::order_name::{go_ip_string, order_name};
use crate::context::Context;
use crate::issuers::lookup::ResolvedIssuer;
use crate::runtime::Controller;

pub async fn run(ctx: Arc<Context>) {
    super::sync::run(ctx, Signer::Acme).await
}

/// Requests are synced again when an Order they own changes.
pub fn watch_orders(controller: Controller, ctx: &Context) -> Controller {
    controller.watch(ctx.caches.orders(), |o: &Order| {
        owner_of_kind(o.meta(), "CertificateRequest")
            .map(|name| format!("{}/{name}", o.namespace().unwrap_or_default()))
            .into_iter()
            .collect()
    })
}

/// The name of the controlling owner of `kind`, if any.
pub fn owner_of_kind<'a>(meta: &'a ObjectMeta, kind: &str) -> Option<&'a str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true) && r.kind == kind)
        .map(|r| r.name.as_str())
}

/// Whether `meta` is controlled by the object with `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: Option<&str>) -> bool {
    meta.owner_references.as_ref().is_some_and(|refs| {
        refs.iter()
            .any(|r| r.controller == Some(true) && Some(r.uid.as_str()) == uid)
    })
}

/// A controller reference to `owner`.
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: owner.meta().name.clone().unwrap_or_default(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `Ok(None)`: the outcome (pending or failed) is reported on `cr`; `Err`: retried.
pub async fn sign(
    ctx: &Context,
    reporter: &Reporter,
    cr: &mut CertificateRequest,
    issuer: &ResolvedIssuer,
) -> anyhow::Result<Option<Issued>> {
    let Some(spec) = issuer.config().acme.as_ref() else {
        return Ok(None);
    };
    let csr = match pki::ParsedCsr::from_pem(&cr.spec.request.0) {
        Ok(csr) => csr,
        Err(e) => {
            let message = "Failed to decode CSR in spec.request";
            reporter.failed(cr, &e, "RequestParsingError", message);
            return Ok(None);
        }
    };
    let ips: Vec<String> = csr.spec.ip_addresses.iter().map(go_ip_string).collect();
    let cn = &csr.spec.subject.common_name;
    if !cn.is_empty() && !csr.spec.dns_names.contains(cn) && !ips.contains(cn) {
        let err = format!(
            "\"{cn}\" does not exist in {:?} or {:?}",
            csr.spec.dns_names, ips
        );
        let message = "The CSR PEM requests a commonName that is not present in the list of dnsNames or ipAddresses. If a commonName is set, ACME requires that the value is also present in the list of dnsNames or ipAddresses";
        reporter.failed(cr, &err, "InvalidOrder", message);
        return Ok(None);
    }
    let expected = build_order(
        cr,
        &csr,
        spec.enable_duration_feature == Some(true),
        spec.profile.as_deref(),
    );
    let namespace = cr.namespace().unwrap_or_default();
    let name = expected.name_any();
    let Some(order) = ctx.caches.orders().get_by_name(Some(&namespace), &name) else {
        let api: Api<Order> = Api::namespaced(ctx.client.clone(), &namespace);
        let params = PostParams {
            field_manager: Some(Context::field_manager("certificaterequests-issuer-acme")),
            ..Default::default()
        };
        match api.create(&params, &expected).await {
            // Created before, not yet in the cache: its watch event brings the request back.
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => {
                let message = format!("Failed create new order resource {namespace}/{name}");
                reporter.pending(cr, Some(&e), "OrderCreatingError", &message);
                return Err(anyhow::anyhow!("{message}: {e}"));
            }
        }
        let message = format!("Created Order resource {namespace}/{name}");
        reporter.pending(cr, None, "OrderCreated", &message);
        return Ok(None);
    };
    if !is_controlled_by(order.meta(), cr.meta().uid.as_deref()) {
        if owner_of_kind(order.meta(), "CertificateRequest") == Some(cr.name_any().as_str()) {
            // Left by an earlier request of the same name (a retry after a failure), which
            // the garbage collector has not removed yet: that request is gone, so is its Order.
            tracing::info!(order = %format!("{namespace}/{name}"), "deleting the Order of a previous CertificateRequest of the same name");
            let api: Api<Order> = Api::namespaced(ctx.client.clone(), &namespace);
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        anyhow::bail!(
            "found Order resource {namespace}/{name} not owned by this CertificateRequest, retrying"
        );
    }
    let status = order.status.clone().unwrap_or_default();
    let state = status.state.clone();
    match state {
        Some(s @ (State::Invalid | State::Expired | State::Errored)) => {
            let message = format!("Failed to wait for order resource \"{name}\" to become ready");
            let err = format!(
                "order is in \"{s}\" state: {}",
                status.reason.unwrap_or_default()
            );
            reporter.failed(cr, &err, "OrderFailed", &message);
            return Ok(None);
        }
        Some(State::Valid) => {}
        other => {
            let state = other.map(|s| s.to_string()).unwrap_or_default();
            let message = format!(
                "Waiting on certificate issuance from order {namespace}/{name}: \"{state}\""
            );
            reporter.pending(cr, None, "OrderPending", &message);
            return Ok(None);
        }
    }
    let Some(pem) = status.certificate.filter(|c| !c.0.is_empty()) else {
        let message = format!(
            "Waiting for order-controller to add certificate data to Order {namespace}/{name}"
        );
        reporter.pending(cr, None, "OrderPending", &message);
        return Ok(None);
    };
    let matches = pki::ParsedCertificate::from_pem(&pem.0)
        .ok()
        .and_then(|c| c.public_key_matches(csr.public_key()).ok())
        .unwrap_or(false);
    if !matches {
        // A certificate for another key cannot be used: start over with a new Order.
        tracing::warn!(order = %format!("{namespace}/{name}"), "the Order's certificate does not match the request's public key; deleting the Order");
        let api: Api<Order> = Api::namespaced(ctx.client.clone(), &namespace);
        api.delete(&name, &DeleteParams::default()).await?;
        anyhow::bail!(
            "the certificate of Order {namespace}/{name} does not match the request; Order deleted"
        );
    }
    let certificate = String::from_utf8(pem.0)
        .map_err(|_| anyhow::anyhow!("Order {namespace}/{name}: certificate is not PEM text"))?;
    Ok(Some(Issued {
        certificate,
        ca: String::new(),
    }))
}

/// The Order for `cr`, as cert-manager builds it: named as cert-manager names it
/// ([`order_name`]), owned by the request, with its labels and annotations; the duration
/// only with `enableDurationFeature`, in Go's form (`2160h0m0s`) when it parses.
pub fn build_order(
    cr: &CertificateRequest,
    csr: &pki::ParsedCsr,
    enable_duration_feature: bool,
    profile: Option<&str>,
) -> Order {
    let non_empty = |v: Vec<String>| Some(v).filter(|v| !v.is_empty());
    let duration = cr
        .spec
        .duration
        .as_ref()
        .filter(|_| enable_duration_feature)
        .map(|d| {
            d.parse()
                .map(api::Duration::from_go)
                .unwrap_or_else(|_| d.clone())
        });
    let spec = OrderSpec {
        request: cr.spec.request.clone(),
        issuer_ref: cr.spec.issuer_ref.clone(),
        common_name: Some(csr.spec.subject.common_name.clone()).filter(|c| !c.is_empty()),
        dns_names: non_empty(csr.spec.dns_names.clone()),
        ip_addresses: non_empty(csr.spec.ip_addresses.iter().map(go_ip_string).collect()),
        duration,
        profile: profile.filter(|p| !p.is_empty()).map(str::to_owned),
        replaces: None,
    };
    let name = order_name(&cr.name_any(), &spec);
    let mut order = Order::new(&name, spec);
    order.metadata.namespace = cr.namespace();
    order.metadata.labels = Some(cr.labels().clone()).filter(|l| !l.is_empty());
    order.metadata.annotations = Some(cr.annotations().clone()).filter(|a| !a.is_empty());
    order.metadata.owner_references = Some(vec![controller_ref(cr)]);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_owned_and_deterministic() {
        let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
        let spec = pki::CsrSpec {
            subject: pki::Subject {
                common_name: "a.example.com".into(),
                ..Default::default()
            },
            dns_names: vec!["a.example.com".into()],
            ..Default::default()
        };
        let csr = pki::create_csr(&spec, &key, None).unwrap();
        let cr: CertificateRequest = serde_json::from_value(serde_json::json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": "web-1", "namespace": "ns", "uid": "u1", "labels": {"l": "v"}},
            "spec": {"issuerRef": {"name": "acme"}, "request": k8s_openapi::ByteString(csr.to_pem().into_bytes())},
        }))
        .unwrap();
        let parsed = pki::ParsedCsr::from_pem(&cr.spec.request.0).unwrap();
        let a = build_order(&cr, &parsed, false, None);
        let b = build_order(&cr, &parsed, false, None);
        assert_eq!(a.name_any(), b.name_any());
        assert!(a.name_any().starts_with("web-1-"));
        assert!(is_controlled_by(&a.metadata, Some("u1")));
        assert_eq!(
            a.spec.dns_names.as_deref(),
            Some(&["a.example.com".to_owned()][..])
        );
        assert_eq!(a.spec.common_name.as_deref(), Some("a.example.com"));
        assert_eq!(a.metadata.labels.as_ref().unwrap()["l"], "v");
        let c = build_order(&cr, &parsed, false, Some("shortlived"));
        assert_ne!(
            a.name_any(),
            c.name_any(),
            "the profile is part of the name"
        );
    }
}

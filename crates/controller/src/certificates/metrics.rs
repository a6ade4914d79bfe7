//! `certificates-metrics`: cert-manager's certificate gauges, computed from the Certificate
//! cache at scrape time so deleted Certificates leave no stale series.

use std::sync::Arc;

use api::Certificate;
use api::certificate::CertificateConditionType;
use kube::ResourceExt;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{GaugeVec, Opts};

use crate::context::Context;

/// The controller name (`--controllers`).
pub const NAME: &str = "certificates-metrics";

const LABELS: [&str; 5] = [
    "name",
    "namespace",
    "issuer_name",
    "issuer_kind",
    "issuer_group",
];
const READY_LABELS: [&str; 6] = [
    "name",
    "namespace",
    "condition",
    "issuer_name",
    "issuer_kind",
    "issuer_group",
];

fn gauges() -> [(GaugeVec, Kind); 5] {
    let vec = |name: &str, help: &str, labels: &[&str]| {
        GaugeVec::new(Opts::new(name, help).namespace("certmanager"), labels)
            .expect("valid metric definition")
    };
    [
        (
            vec(
                "certificate_ready_status",
                "The ready status of the certificate.",
                &READY_LABELS,
            ),
            Kind::Ready,
        ),
        (
            vec(
                "certificate_expiration_timestamp_seconds",
                "The timestamp after which the certificate expires, expressed in Unix Epoch Time.",
                &LABELS,
            ),
            Kind::NotAfter,
        ),
        (
            vec(
                "certificate_not_after_timestamp_seconds",
                "The timestamp after which the certificate is invalid, expressed as a Unix Epoch Time.",
                &LABELS,
            ),
            Kind::NotAfter,
        ),
        (
            vec(
                "certificate_not_before_timestamp_seconds",
                "The timestamp before which the certificate is invalid, expressed as a Unix Epoch Time.",
                &LABELS,
            ),
            Kind::NotBefore,
        ),
        (
            vec(
                "certificate_renewal_timestamp_seconds",
                "The number of seconds before expiration time the certificate should renew.",
                &LABELS,
            ),
            Kind::Renewal,
        ),
    ]
}

#[derive(Clone, Copy)]
enum Kind {
    Ready,
    NotAfter,
    NotBefore,
    Renewal,
}

struct CertificateCollector {
    store: kubeclient::Store<Certificate>,
    descs: Vec<Desc>,
}

impl Collector for CertificateCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let gauges = gauges();
        for crt in self.store.list() {
            for (gauge, kind) in &gauges {
                record(gauge, *kind, &crt);
            }
        }
        gauges.iter().flat_map(|(g, _)| g.collect()).collect()
    }
}

fn record(gauge: &GaugeVec, kind: Kind, crt: &Certificate) {
    let name = crt.name_any();
    let ns = crt.namespace().unwrap_or_default();
    let issuer = &crt.spec.issuer_ref;
    let (iname, ikind, igroup) = (
        issuer.name.as_str(),
        issuer.kind.as_deref().unwrap_or_default(),
        issuer.group.as_deref().unwrap_or_default(),
    );
    let status = crt.status.clone().unwrap_or_default();
    let seconds = |t: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        t.map_or(0.0, |t| t.0.as_second() as f64)
    };
    let value = match kind {
        Kind::Ready => {
            let current = super::status::condition(crt, CertificateConditionType::Ready)
                .map_or("Unknown", |c| c.status.as_str());
            for condition in ["True", "False", "Unknown"] {
                let v = if condition == current { 1.0 } else { 0.0 };
                gauge
                    .with_label_values(&[&name, &ns, condition, iname, ikind, igroup])
                    .set(v);
            }
            return;
        }
        Kind::NotAfter => seconds(status.not_after),
        Kind::NotBefore => seconds(status.not_before),
        Kind::Renewal => seconds(status.renewal_time),
    };
    gauge
        .with_label_values(&[&name, &ns, iname, ikind, igroup])
        .set(value);
}

/// Registers the collector in the default registry (served on `/metrics`), then idles.
pub async fn run(ctx: Arc<Context>) {
    let descs = gauges()
        .iter()
        .flat_map(|(g, _)| g.desc().into_iter().cloned())
        .collect();
    let collector = CertificateCollector {
        store: ctx.caches.certificates().clone(),
        descs,
    };
    if let Err(e) = prometheus::register(Box::new(collector)) {
        tracing::error!(controller = NAME, "registering certificate metrics: {e}");
    }
    std::future::pending::<()>().await
}

//! Helpers the controller's integration test files share (each file is its own crate and
//! uses a subset, hence `dead_code` is allowed).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use api::CertificateRequest;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use testkit::ControlPlane;
use testkit::component::{self, Component};

/// How long a condition may take to appear.
pub const WAIT: Duration = Duration::from_secs(60);
/// How long the controller may take to report ready.
const READY: Duration = Duration::from_secs(60);

/// Installs the CRDs and starts the controller binary with `args` and `env`, its metrics and
/// health listeners on free loopback ports; once it reports ready (a replica waiting for the
/// leader Lease is ready too), returns it and its metrics address.
pub async fn start_controller(
    cp: &ControlPlane,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<(Component, SocketAddr)> {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds");
    cp.install_crds(&[&crds]).await?;
    let healthz = component::free_addr()?;
    let metrics = component::free_addr()?;
    let mut launch = Component::command("controller", env!("CARGO_BIN_EXE_controller"))
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .arg(format!("--metrics-listen-address={metrics}"))
        .arg(format!("--internal-healthz-listen-address={healthz}"))
        .args(args);
    for (k, v) in env {
        launch = launch.env(k, v);
    }
    let mut c = launch.start()?;
    c.wait_ready(healthz, READY).await?;
    Ok((c, metrics))
}

/// Creates `obj` (a typed object or its JSON) through `api`.
pub async fn create<K, T>(api: &Api<K>, obj: T) -> anyhow::Result<K>
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
    T: Serialize,
{
    let obj: K = serde_json::from_value(serde_json::to_value(obj)?)?;
    Ok(api.create(&PostParams::default(), &obj).await?)
}

/// The condition `t` of `obj` (any object as JSON) as `(status, reason, message)`.
pub fn condition(obj: &serde_json::Value, t: &str) -> Option<(String, String, String)> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == t)
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("status"), s("reason"), s("message"))
        })
}

/// Waits until `name`'s condition `t` has `status` and `reason`; returns the object as JSON.
pub async fn wait_condition<K>(
    api: &Api<K>,
    name: &str,
    t: &str,
    status: &str,
    reason: &str,
) -> anyhow::Result<serde_json::Value>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let what = format!("{} {name} {t}={status}/{reason}", K::kind(&()));
    Ok(component::eventually(&what, WAIT, async || {
        let obj = api.get(name).await.map_err(|e| e.to_string())?;
        let value = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
        match condition(&value, t) {
            Some((s, r, _)) if s == status && r == reason => Ok(value),
            other => Err(format!("condition is {other:?}")),
        }
    })
    .await?)
}

/// A Secret value as text (empty when absent).
pub fn data(secret: &Secret, key: &str) -> String {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .unwrap_or_default();
    String::from_utf8(bytes).unwrap()
}

/// The PEM blocks of `pem`, each with its END line.
pub fn pem_blocks(pem: &str) -> Vec<String> {
    pem.split_inclusive("-----END CERTIFICATE-----")
        .map(|b| b.trim_start().to_owned())
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .map(|b| format!("{b}\n"))
        .collect()
}

/// `openssl verify` of the first certificate of `chain` (the rest as untrusted
/// intermediates) against `root`; returns `openssl x509 -text` of that certificate so that
/// its fields can be asserted with a parser independent of ours.
pub fn openssl_verify(chain: &str, root: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let blocks = pem_blocks(chain);
    assert!(!blocks.is_empty(), "no certificate in {chain:?}");
    let leaf = dir.path().join("leaf.pem");
    let untrusted = dir.path().join("untrusted.pem");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&leaf, &blocks[0]).unwrap();
    std::fs::write(&untrusted, blocks[1..].concat()).unwrap();
    std::fs::write(&ca, root).unwrap();
    let mut verify = Command::new("openssl");
    verify.arg("verify").arg("-CAfile").arg(&ca);
    if blocks.len() > 1 {
        verify.arg("-untrusted").arg(&untrusted);
    }
    let out = verify.arg(&leaf).output().unwrap();
    assert!(
        out.status.success(),
        "openssl verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-nameopt", "RFC2253", "-in"])
        .arg(&leaf)
        .output()
        .unwrap();
    assert!(text.status.success());
    String::from_utf8(text.stdout).unwrap()
}

/// The CertificateRequests of Certificate `crt` (by cert-manager's annotation).
pub async fn requests_of(
    api: &Api<CertificateRequest>,
    crt: &str,
) -> anyhow::Result<Vec<CertificateRequest>> {
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|cr| {
            cr.annotations()
                .get("cert-manager.io/certificate-name")
                .map(String::as_str)
                == Some(crt)
        })
        .collect())
}

//! Where the serving certificate comes from: files (`--tls-cert-file`, reloaded when they
//! change) or the dynamic authority, which keeps a self-signed CA in a Secret (created when
//! missing, regenerated 2/3 through its life) and signs an in-memory leaf for the DNS names
//! (renewed 2/3 through its life, and at once when the CA changes). The cainjector copies the
//! CA into the webhook configurations from that Secret.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use kubeclient::{Informer, WatchConfig};
use pki::{
    CertificateTemplate, CsrSpec, EcCurve, Issuer, KeyEncoding, KeyType, PrivateKey,
    RequestOverrides, Subject, Usage,
};
use rustls::crypto::CryptoProvider;
use tracing::{debug, info, warn};

use crate::tls::{SwappableCert, certified_key};

const CA_COMMON_NAME: &str = "cert-manager-webhook-ca";
const CA_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// Wall-clock re-check interval, so a suspended process notices a missed renewal.
const RECHECK: Duration = Duration::from_secs(60);
const RETRY: Duration = Duration::from_secs(1);

/// Serve the key pair in the `cert`/`key` files; a bad pair at start is an error. Returns the
/// bytes loaded, for [`watch_files`] to compare against.
pub async fn load_files(
    provider: &CryptoProvider,
    cert: &PathBuf,
    key: &PathBuf,
    target: &SwappableCert,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let (c, k) = (tokio::fs::read(cert).await?, tokio::fs::read(key).await?);
    target.set(certified_key(provider, &c, &k)?);
    Ok((c, k))
}

/// Re-read the files every `interval` and swap in a changed pair; a bad pair keeps the last good
/// one.
pub async fn watch_files(
    provider: Arc<CryptoProvider>,
    cert: PathBuf,
    key: PathBuf,
    target: Arc<SwappableCert>,
    mut loaded: (Vec<u8>, Vec<u8>),
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        let (Ok(c), Ok(k)) = (tokio::fs::read(&cert).await, tokio::fs::read(&key).await) else {
            warn!(cert = %cert.display(), "cannot read the serving certificate files; keeping the current one");
            continue;
        };
        if (&c, &k) == (&loaded.0, &loaded.1) {
            continue;
        }
        match certified_key(&provider, &c, &k) {
            Ok(ck) => {
                target.set(ck);
                loaded = (c, k);
                info!(cert = %cert.display(), "reloaded the serving certificate");
            }
            Err(e) => {
                warn!(error = %e, "new serving certificate files are invalid; keeping the current one")
            }
        }
    }
}

/// The dynamic serving authority.
pub struct DynamicAuthority {
    pub client: Client,
    pub namespace: String,
    pub secret_name: String,
    pub dns_names: Vec<String>,
    pub leaf_duration: Duration,
    /// Stream the one-Secret watch (the WatchListClient gate).
    pub streaming: bool,
}

/// The CA as read from its Secret.
struct Ca {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl DynamicAuthority {
    /// Keep `target` serving a leaf signed by the current CA, forever.
    pub async fn run(self, provider: Arc<CryptoProvider>, target: Arc<SwappableCert>) {
        // The only cache the webhook has: its own CA Secret, by name.
        let config = WatchConfig::new("webhook-ca-secret", self.streaming)
            .namespace(Some(self.namespace.clone()))
            .fields(format!("metadata.name={}", self.secret_name));
        let informer = Informer::<Secret>::spawn(self.client.clone(), config);
        let mut changes = informer.subscribe();
        informer.wait_until_synced().await;
        let mut signed_by: Option<Vec<u8>> = None;
        let mut renew_at = SystemTime::UNIX_EPOCH;
        loop {
            let secret = informer
                .store()
                .get_by_name(Some(&self.namespace), &self.secret_name);
            match check_ca(secret.as_deref()) {
                Err(reason) => {
                    info!(secret = %self.secret_name, reason, "generating a new webhook CA");
                    if let Err(e) = self.regenerate_ca(secret.as_deref()).await {
                        warn!(error = %e, "storing the webhook CA failed; retrying");
                        tokio::time::sleep(RETRY).await;
                    }
                    // The watch delivers the stored CA; wait for it below.
                }
                Ok(ca) => {
                    if signed_by.as_deref() != Some(&ca.cert_pem[..])
                        || SystemTime::now() >= renew_at
                    {
                        match self.sign_leaf(&provider, &ca) {
                            Ok((ck, renew)) => {
                                target.set(ck);
                                renew_at = renew;
                                signed_by = Some(ca.cert_pem);
                                info!(dns_names = ?self.dns_names, "serving a new leaf certificate");
                            }
                            Err(e) => {
                                warn!(error = %e, "signing the serving certificate failed; retrying");
                                tokio::time::sleep(RETRY).await;
                                continue;
                            }
                        }
                    }
                }
            }
            let until_renewal = renew_at
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .min(RECHECK);
            tokio::select! {
                _ = changes.recv() => debug!("webhook CA Secret changed"),
                _ = tokio::time::sleep(until_renewal) => {}
            }
        }
    }

    /// Create the CA Secret, or replace the data of an unusable one (optimistic concurrency:
    /// a conflicting writer wins and its CA arrives through the watch).
    async fn regenerate_ca(&self, existing: Option<&Secret>) -> anyhow::Result<()> {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P384))?;
        let spec = CsrSpec {
            subject: Subject {
                common_name: CA_COMMON_NAME.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let usages = [
            Usage::DigitalSignature,
            Usage::KeyEncipherment,
            Usage::CertSign,
        ];
        let overrides = RequestOverrides::new(CA_DURATION, true, &usages);
        let template = CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides)?;
        let ca = pki::self_sign(&template, &key)?;
        let cert = ByteString(ca.chain_pem.into_bytes());
        let key = ByteString(key.to_pem(KeyEncoding::Pkcs8)?.as_bytes().to_vec());
        let data = [
            ("tls.crt".to_owned(), cert.clone()),
            ("tls.key".to_owned(), key),
            ("ca.crt".to_owned(), cert),
        ]
        .into_iter()
        .collect();
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let result = match existing {
            Some(s) => {
                let mut updated = s.clone();
                updated.data = Some(data);
                api.replace(&self.secret_name, &PostParams::default(), &updated)
                    .await
                    .map(drop)
            }
            None => {
                let secret = Secret {
                    metadata: ObjectMeta {
                        name: Some(self.secret_name.clone()),
                        namespace: Some(self.namespace.clone()),
                        labels: Some(
                            [(
                                "app.kubernetes.io/managed-by".to_owned(),
                                "cert-manager-webhook".to_owned(),
                            )]
                            .into(),
                        ),
                        annotations: Some(
                            [(
                                "cert-manager.io/allow-direct-injection".to_owned(),
                                "true".to_owned(),
                            )]
                            .into(),
                        ),
                        ..Default::default()
                    },
                    data: Some(data),
                    ..Default::default()
                };
                api.create(&PostParams::default(), &secret).await.map(drop)
            }
        };
        match result {
            Err(kube::Error::Api(s)) if s.code == 409 => {
                debug!("another writer stored the CA first; using theirs");
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// A fresh P-384 leaf for the DNS names, capped at the CA's expiry; returns it with the
    /// moment it should be renewed (1/3 of its life before expiry).
    fn sign_leaf(
        &self,
        provider: &CryptoProvider,
        ca: &Ca,
    ) -> anyhow::Result<(rustls::sign::CertifiedKey, SystemTime)> {
        let issuer = Issuer::from_pem(&ca.cert_pem, &ca.key_pem, None)?;
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P384))?;
        let spec = CsrSpec {
            dns_names: self.dns_names.clone(),
            ..Default::default()
        };
        let usages = [
            Usage::DigitalSignature,
            Usage::KeyEncipherment,
            Usage::ServerAuth,
        ];
        let overrides = RequestOverrides::new(self.leaf_duration, false, &usages);
        let mut template =
            CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides)?;
        template.clamp_not_after(issuer.certificate().not_after);
        let leaf = issuer.sign(&template)?;
        let lifetime = leaf
            .certificate
            .not_after
            .duration_since(leaf.certificate.not_before)
            .unwrap_or_default();
        let renew_at = leaf.certificate.not_after - lifetime / 3;
        let key_pem = key.to_pem(KeyEncoding::Pkcs8)?;
        let ck = certified_key(provider, leaf.chain_pem.as_bytes(), key_pem.as_bytes())?;
        Ok((ck, renew_at))
    }
}

/// The CA in the Secret, or why a new one is needed (the rules of cert-manager's authority).
fn check_ca(secret: Option<&Secret>) -> Result<Ca, &'static str> {
    let data = secret
        .and_then(|s| s.data.as_ref())
        .ok_or("missing data in CA secret")?;
    let get = |k: &str| data.get(k).map(|b| b.0.clone()).filter(|b| !b.is_empty());
    let (Some(ca), Some(key), Some(cert)) = (get("ca.crt"), get("tls.key"), get("tls.crt")) else {
        return Err("missing data in CA secret");
    };
    if ca != cert {
        return Err("different data in ca.crt and tls.crt");
    }
    let parsed = pki::ParsedCertificate::from_pem(&cert)
        .map_err(|_| "failed to parse the CA certificate")?;
    let key_parsed =
        PrivateKey::from_pem(&key).map_err(|_| "failed to parse the CA private key")?;
    if !parsed
        .public_key_matches(key_parsed.public_key())
        .unwrap_or(false)
    {
        return Err("the CA private key does not match its certificate");
    }
    if !parsed.is_ca() {
        return Err("stored certificate is not marked as a CA");
    }
    let lifetime = parsed
        .not_after
        .duration_since(parsed.not_before)
        .unwrap_or_default();
    let remaining = parsed
        .not_after
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    if remaining < lifetime / 3 {
        return Err("CA certificate is nearing expiry");
    }
    Ok(Ca {
        cert_pem: cert,
        key_pem: key,
    })
}

//! The controller's Secret caches, as cert-manager's `SecretsFilteredCaching` arranges them:
//! Secrets it owns (label `controller.cert-manager.io/fao=true`) in full, every other Secret
//! metadata-only with labels and annotations stripped (name, namespace and UID are all the
//! controller needs to know they exist; it reads them live when an issuer references one).
//!
//! Owned Secrets are cached lean too (DESIGN.md: "cache only what decisions need, not megabytes
//! of payload"): `tls.crt`, `tls.key` and `ca.crt` are kept while within cert-manager's PEM size
//! limits (the pipeline parses them); every other value, and oversized ones, is replaced by its
//! SHA-256 digest ([`digest_value`]), which is enough to tell whether it is present and whether
//! it holds what the controller would write ([`value_matches`]).

use std::sync::Arc;

use featuregates::FeatureGates;
use featuregates::certmanager::SECRETS_FILTERED_CACHING;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::core::PartialObjectMeta;
use kubeclient::gates::WATCH_LIST_CLIENT;
use kubeclient::{Informer, WatchConfig, strip_managed_fields};

use crate::certificates::managedfields::retain_issuing;

/// About how much one page of a paged Secret LIST may hold (WatchListClient off, or a server
/// without streaming lists): a few MiB, instead of 500 Secrets of up to 1 MiB each.
const SECRET_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The label cert-manager puts on every Secret it writes ("for attention of").
pub const FAO_LABEL: &str = "controller.cert-manager.io/fao";

pub enum SecretCaches {
    /// SecretsFilteredCaching on: owned Secrets in full, the rest metadata-only.
    Filtered {
        owned: Informer<Secret>,
        others: Informer<PartialObjectMeta<Secret>>,
    },
    /// Gate off: every Secret in full (cert-manager's behaviour before 1.12).
    All(Informer<Secret>),
}

impl SecretCaches {
    pub fn start(client: Client, gates: &FeatureGates, namespace: Option<&str>) -> Self {
        let streaming = gates.enabled(WATCH_LIST_CLIENT);
        let config = |name: &str| WatchConfig::new(name, streaming).namespace(namespace);
        // Full Secrets can be 1 MiB each: paged LISTs are sized by bytes, not 500 objects.
        let full = |name: &str| config(name).page_bytes(SECRET_PAGE_BYTES);
        // The issuing controller's managedFields entry stays: it tells which labels,
        // annotations and outputs it applied earlier (certificates::managedfields).
        if !gates.enabled(SECRETS_FILTERED_CACHING) {
            return Self::All(Informer::spawn_with_transform(
                client,
                full("secrets"),
                retain_issuing,
            ));
        }
        let owned = Informer::spawn_with_transform(
            client.clone(),
            full("secrets-owned").labels(format!("{FAO_LABEL}=true")),
            |s: &mut Secret| {
                retain_issuing(s);
                digest_payload(s);
            },
        );
        let others = Informer::spawn_with_transform(
            client,
            config("secrets-metadata").labels(format!("!{FAO_LABEL}")),
            |s: &mut PartialObjectMeta<Secret>| {
                strip_managed_fields(s);
                s.metadata.labels = None;
                s.metadata.annotations = None;
            },
        );
        Self::Filtered { owned, others }
    }

    pub async fn wait_until_synced(&self) {
        match self {
            Self::Filtered { owned, others } => {
                owned.wait_until_synced().await;
                others.wait_until_synced().await;
            }
            Self::All(all) => all.wait_until_synced().await,
        }
    }
}

/// Why a Secret could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading Secret {namespace}/{name}: {source}")]
pub struct SecretReadError {
    namespace: String,
    name: String,
    source: kube::Error,
}

impl SecretCaches {
    /// A Secret with its data, as cert-manager's filtered Secret lister returns it: from the
    /// full cache when cert-manager owns it, by a live GET when only its metadata is cached
    /// (issuer credentials, CA Secrets), `None` when it does not exist.
    pub async fn get(
        &self,
        client: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<Secret>>, SecretReadError> {
        match self {
            Self::All(all) => Ok(all.store().get_by_name(Some(namespace), name)),
            Self::Filtered { owned, others } => {
                let in_owned = owned.store().get_by_name(Some(namespace), name);
                let in_others = others.store().get_by_name(Some(namespace), name).is_some();
                match (in_owned, in_others) {
                    // A digested value is not the payload: callers asking for the Secret get
                    // the real thing (e.g. user credentials labelled fao to save live GETs).
                    (Some(secret), false) if !is_digested(&secret) => Ok(Some(secret)),
                    (Some(_), false) => self.get_live(client, namespace, name).await,
                    (None, false) => Ok(None),
                    (in_owned, true) => {
                        if in_owned.is_some() {
                            tracing::debug!(
                                namespace,
                                name,
                                "Secret in both caches (label changed); reading it live"
                            );
                        }
                        self.get_live(client, namespace, name).await
                    }
                }
            }
        }
    }

    /// The Secrets cert-manager owns (`fao` label) or, with the gate off, all Secrets.
    pub fn owned_store(&self) -> &kubeclient::Store<Secret> {
        match self {
            Self::All(all) => all.store(),
            Self::Filtered { owned, .. } => owned.store(),
        }
    }

    /// Keys (`namespace/name`) of Secrets that are not owned: only their existence is cached.
    pub fn unowned_keys_store(&self) -> Option<&kubeclient::Store<PartialObjectMeta<Secret>>> {
        match self {
            Self::All(_) => None,
            Self::Filtered { others, .. } => Some(others.store()),
        }
    }

    async fn get_live(
        &self,
        client: &kube::Client,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<Secret>>, SecretReadError> {
        let api: kube::Api<Secret> = kube::Api::namespaced(client.clone(), namespace);
        api.get_opt(name)
            .await
            .map(|s| s.map(Arc::new))
            .map_err(|source| SecretReadError {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                source,
            })
    }
}

/// The keys the pipeline parses, with the size up to which their payload stays cached
/// (cert-manager's default `--max-certificate-chain-length`, `--max-private-key-size` and
/// `--max-certificate-bundle-size`: larger values fail its parsing anyway).
const KEPT_KEYS: &[(&str, usize)] = &[
    ("tls.crt", 95_000),
    ("tls.key", 13_000),
    ("ca.crt", 330_000),
];

/// Marks a cached value as a digest. No PEM, DER, PKCS#12 or JKS payload starts with two NULs.
const DIGEST_PREFIX: &[u8] = b"\0\0sha256:";

/// The cached form of a value that is not kept: the marker followed by its SHA-256.
pub fn digest_value(value: &[u8]) -> Vec<u8> {
    let mut out = DIGEST_PREFIX.to_vec();
    out.extend_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value).as_ref());
    out
}

fn digest_payload(secret: &mut Secret) {
    for (key, value) in secret.data.iter_mut().flatten() {
        let keep = KEPT_KEYS
            .iter()
            .any(|(k, max)| k == key && value.0.len() <= *max);
        if !keep {
            value.0 = digest_value(&value.0);
        }
    }
}

fn is_digested(secret: &Secret) -> bool {
    secret
        .data
        .iter()
        .flatten()
        .any(|(_, v)| v.0.starts_with(DIGEST_PREFIX))
}

/// Whether the cached Secret's `key` holds exactly `expected` (comparing digests for values
/// the cache does not keep).
pub fn value_matches(secret: &Secret, key: &str, expected: &[u8]) -> bool {
    match secret.data.as_ref().and_then(|d| d.get(key)) {
        None => false,
        Some(v) if v.0.starts_with(DIGEST_PREFIX) => v.0 == digest_value(expected),
        Some(v) => v.0 == expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    fn secret(entries: &[(&str, Vec<u8>)]) -> Secret {
        Secret {
            data: Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.clone())))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn keeps_parsed_keys_and_digests_the_rest() {
        let big_crt = vec![b'A'; 200_000];
        let mut s = secret(&[
            ("tls.crt", b"CERT".to_vec()),
            ("tls.key", b"KEY".to_vec()),
            ("ca.crt", big_crt.clone()),
            ("keystore.p12", vec![0x30; 4096]),
        ]);
        s.data
            .as_mut()
            .unwrap()
            .insert("tls.crt".into(), ByteString(big_crt.clone()));
        digest_payload(&mut s);
        let data = s.data.as_ref().unwrap();
        assert_eq!(data["tls.key"].0, b"KEY");
        // Over the chain limit: digested, yet still comparable.
        assert!(data["tls.crt"].0.len() < 64);
        assert!(value_matches(&s, "tls.crt", &big_crt));
        assert_eq!(
            data["ca.crt"].0, big_crt,
            "a 200 kB bundle is within the bundle limit"
        );
        assert!(value_matches(&s, "keystore.p12", &[0x30; 4096]));
        assert!(!value_matches(&s, "keystore.p12", &[0x31; 4096]));
        assert!(!value_matches(&s, "key.der", b""));
        assert!(is_digested(&s));
    }

    #[test]
    fn small_issued_secrets_are_kept_whole() {
        let mut s = secret(&[
            ("tls.crt", b"C".to_vec()),
            ("tls.key", b"K".to_vec()),
            ("ca.crt", b"A".to_vec()),
        ]);
        let before = s.clone();
        digest_payload(&mut s);
        assert_eq!(s, before);
        assert!(!is_digested(&s));
        assert!(value_matches(&s, "tls.key", b"K"));
    }
}

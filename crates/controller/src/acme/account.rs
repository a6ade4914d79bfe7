//! ACME accounts: the account key an issuer names (`spec.acme.privateKeySecretRef`), the
//! client built from it, and re-registration when the server has forgotten the account.
//!
//! Clients are cached per issuer (as cert-manager's account registry) so that the directory
//! and nonces are reused across Orders and Challenges; a change of server, CA bundle or key
//! builds a new one.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use acme::{AccountKey, Client, ClientOptions, ExternalAccountBinding, Trust};
use api::acme::AcmeIssuer;
use api::meta::SecretKeySelector;
use aws_lc_rs::digest;
use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::issuers::lookup::ResolvedIssuer;

/// The Secret key of the account key when `privateKeySecretRef.key` is empty.
pub const DEFAULT_KEY: &str = "tls.key";

/// Why an issuer has no usable ACME client.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A referenced Secret (account key, EAB MAC key) does not exist; worded as the API
    /// server's NotFound error, which cert-manager passes on.
    #[error("secrets \"{name}\" not found")]
    SecretMissing { name: String },
    /// The Secret or its key is unusable; retrying does not help until it changes.
    #[error("{0}")]
    InvalidData(String),
    /// The configuration cannot work with cert-manager-rs.
    #[error("{0}")]
    InvalidConfig(String),
    /// Reading the Secret failed; retried.
    #[error("{0}")]
    Api(String),
}

/// The identity of an issuer in the client cache.
pub fn issuer_id(issuer: &ResolvedIssuer) -> String {
    match issuer {
        ResolvedIssuer::Issuer(i) => {
            format!(
                "Issuer/{}/{}",
                i.namespace().unwrap_or_default(),
                i.name_any()
            )
        }
        ResolvedIssuer::ClusterIssuer(c) => format!("ClusterIssuer/{}", c.name_any()),
    }
}

/// The Secret key that holds the account key.
pub fn key_of(sel: &SecretKeySelector) -> &str {
    Some(sel.key_str())
        .filter(|k| !k.is_empty())
        .unwrap_or(DEFAULT_KEY)
}

/// The account key PEM from the Secret (`None`: the Secret does not exist).
pub async fn read_key_pem(
    ctx: &Context,
    namespace: &str,
    sel: &SecretKeySelector,
) -> Result<Option<Vec<u8>>, AccountError> {
    let secret = ctx
        .caches
        .secrets
        .get(&ctx.client, namespace, &sel.name)
        .await
        .map_err(|e| AccountError::Api(e.to_string()))?;
    let Some(secret) = secret else {
        return Ok(None);
    };
    let key = key_of(sel);
    match secret_data(&secret, key) {
        Some(pem) => Ok(Some(pem.to_vec())),
        None => Err(AccountError::InvalidData(format!(
            "no data for \"{key}\" in secret '{namespace}/{}'",
            sel.name
        ))),
    }
}

pub fn secret_data<'a>(secret: &'a Secret, key: &str) -> Option<&'a [u8]> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.as_slice())
        .filter(|b| !b.is_empty())
}

/// Parses an account key; the error never contains key material.
pub fn parse_key(pem: &[u8]) -> Result<AccountKey, AccountError> {
    AccountKey::from_pem(pem).map_err(|e| AccountError::InvalidData(e.to_string()))
}

/// cert-manager's `lastPrivateKeyHash`: base64 of the SHA-256 of the key's DER (PKCS#1 for
/// RSA keys, as upstream; SEC 1 for ECDSA keys).
pub fn key_hash(pem: &[u8]) -> Option<String> {
    let key = pki::PrivateKey::from_pem(pem).ok()?;
    let der = match key.key_type() {
        pki::KeyType::Rsa(_) => key.to_pkcs1_der().ok()?,
        _ => key.to_sec1_der().or_else(|_| key.to_pkcs8_der()).ok()?,
    };
    let sum = digest::digest(&digest::SHA256, &der);
    Some(base64::engine::general_purpose::STANDARD.encode(sum.as_ref()))
}

/// The trust for the server's TLS certificate: `caBundle`, else the system roots.
/// `skipTLSVerify` is refused: cert-manager-rs always verifies the ACME server.
pub fn trust(spec: &AcmeIssuer) -> Result<Trust, AccountError> {
    if spec.skip_tls_verify == Some(true) {
        return Err(AccountError::InvalidConfig(
            "spec.acme.skipTLSVerify is not supported by cert-manager-rs: set spec.acme.caBundle to the CA of the ACME server instead".into(),
        ));
    }
    Ok(match spec.ca_bundle.as_ref().filter(|b| !b.0.is_empty()) {
        Some(pem) => Trust::only(pem.0.clone()),
        None => Trust::system(),
    })
}

struct Cached {
    fingerprint: Vec<u8>,
    client: Client,
}

static CLIENTS: LazyLock<Mutex<HashMap<String, Cached>>> = LazyLock::new(Default::default);

fn fingerprint(spec: &AcmeIssuer, key_pem: &[u8]) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(spec.server.as_bytes());
    ctx.update(&[0]);
    if let Some(b) = &spec.ca_bundle {
        ctx.update(&b.0);
    }
    ctx.update(&[0]);
    ctx.update(key_pem);
    ctx.finish().as_ref().to_vec()
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, Cached>> {
    CLIENTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The client of issuer `id` for `spec` and the account key `key_pem`, cached. A new client
/// starts with `account_url` (the issuer's `status.acme.uri`) when its host is the server's.
pub fn client_with_key(
    id: &str,
    spec: &AcmeIssuer,
    key_pem: &[u8],
    account_url: Option<&str>,
) -> Result<Client, AccountError> {
    let fp = fingerprint(spec, key_pem);
    if let Some(c) = lock().get(id).filter(|c| c.fingerprint == fp) {
        return Ok(c.client.clone());
    }
    let trust = trust(spec)?;
    let key = parse_key(key_pem)?;
    let account_url = account_url
        .filter(|u| !u.is_empty() && same_host(u, &spec.server))
        .map(str::to_owned);
    let opts = ClientOptions {
        metrics: Some(acme::Metrics::global().clone()),
        account_url,
        ..Default::default()
    };
    let client = Client::with_options(&spec.server, &trust, key, opts)
        .map_err(|e| AccountError::InvalidConfig(e.to_string()))?;
    lock().insert(
        id.to_owned(),
        Cached {
            fingerprint: fp,
            client: client.clone(),
        },
    );
    Ok(client)
}

/// Whether two URLs have the same host (and port).
pub fn same_host(a: &str, b: &str) -> bool {
    match (a.parse::<http::Uri>(), b.parse::<http::Uri>()) {
        (Ok(a), Ok(b)) => a.authority().is_some() && a.authority() == b.authority(),
        _ => false,
    }
}

/// The ACME client of a resolved issuer (its account key Secret must exist).
pub async fn client_for(ctx: &Context, issuer: &ResolvedIssuer) -> Result<Client, AccountError> {
    let Some(spec) = issuer.config().acme.as_ref() else {
        return Err(AccountError::InvalidConfig(
            "the issuer is not an ACME issuer".into(),
        ));
    };
    let namespace = issuer.resource_namespace(ctx);
    let pem = read_key_pem(ctx, &namespace, &spec.private_key)
        .await?
        .ok_or_else(|| AccountError::SecretMissing {
            name: spec.private_key.name.clone(),
        })?;
    let uri = issuer
        .status()
        .and_then(|s| s.acme.as_ref())
        .and_then(|a| a.uri.as_deref());
    client_with_key(&issuer_id(issuer), spec, &pem, uri)
}

/// The External Account Binding of `spec`, from its Secret. `Ok(None)`: none configured.
pub async fn external_account_binding(
    ctx: &Context,
    namespace: &str,
    spec: &AcmeIssuer,
) -> Result<Option<ExternalAccountBinding>, AccountError> {
    let Some(eab) = spec.external_account_binding.as_ref() else {
        return Ok(None);
    };
    let secret = ctx
        .caches
        .secrets
        .get(&ctx.client, namespace, &eab.key.name)
        .await
        .map_err(|e| AccountError::Api(e.to_string()))?
        .ok_or_else(|| AccountError::SecretMissing {
            name: eab.key.name.clone(),
        })?;
    let key = eab.key.key_str();
    let data = secret_data(&secret, key).ok_or_else(|| {
        AccountError::InvalidData(format!(
            "failed to find external account binding key data in Secret \"{}\" at index \"{key}\"",
            eab.key.name
        ))
    })?;
    let encoded = std::str::from_utf8(data)
        .map_err(|_| {
            AccountError::InvalidData("the external account binding key is not text".into())
        })?
        .trim();
    ExternalAccountBinding::from_base64url(&eab.key_id, encoded, acme::EabAlgorithm::default())
        .map(Some)
        .map_err(|e| AccountError::InvalidData(e.to_string()))
}

/// After the server answered `accountDoesNotExist` (it lost its state, or the account was
/// deactivated): registers the key again and records the new account URL on the issuer.
pub async fn reregister(
    ctx: &Context,
    issuer: &ResolvedIssuer,
    client: &Client,
) -> anyhow::Result<()> {
    let Some(spec) = issuer.config().acme.as_ref() else {
        return Ok(());
    };
    let namespace = issuer.resource_namespace(ctx);
    let eab = external_account_binding(ctx, &namespace, spec).await?;
    let email = spec.email.as_deref().filter(|e| !e.is_empty());
    let account = client.register(email, eab.as_ref(), true).await?;
    tracing::info!(issuer = %issuer_id(issuer), account = %account.uri, "ACME account registered again: the server did not know it");
    let patch = serde_json::json!({"status": {"acme": {"uri": account.uri}}});
    let params = PatchParams {
        field_manager: Some(Context::field_manager("issuers")),
        ..Default::default()
    };
    let result = match issuer {
        ResolvedIssuer::Issuer(i) => {
            let api: Api<api::Issuer> =
                Api::namespaced(ctx.client.clone(), &i.namespace().unwrap_or_default());
            api.patch_status(&i.name_any(), &params, &Patch::Merge(patch))
                .await
                .map(drop)
        }
        ResolvedIssuer::ClusterIssuer(c) => {
            let api: Api<api::ClusterIssuer> = Api::all(ctx.client.clone());
            api.patch_status(&c.name_any(), &params, &Patch::Merge(patch))
                .await
                .map(drop)
        }
    };
    if let Err(e) = result {
        tracing::warn!(issuer = %issuer_id(issuer), error = %e, "recording the new ACME account URL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_compare_with_port() {
        assert!(same_host(
            "https://127.0.0.1:14000/my-account/1",
            "https://127.0.0.1:14000/dir"
        ));
        assert!(!same_host(
            "https://127.0.0.1:14001/my-account/1",
            "https://127.0.0.1:14000/dir"
        ));
        assert!(!same_host("", "https://a/dir"));
    }

    #[test]
    fn rsa_key_hash_is_of_pkcs1_der() {
        let key = pki::PrivateKey::generate(pki::KeyType::Rsa(2048)).unwrap();
        let pkcs1 = key.to_pem(pki::KeyEncoding::Pkcs1).unwrap();
        let pkcs8 = key.to_pem(pki::KeyEncoding::Pkcs8).unwrap();
        let h = key_hash(pkcs1.as_bytes()).unwrap();
        assert_eq!(Some(h.clone()), key_hash(pkcs8.as_bytes()));
        let der = key.to_pkcs1_der().unwrap();
        let want = base64::engine::general_purpose::STANDARD
            .encode(digest::digest(&digest::SHA256, &der).as_ref());
        assert_eq!(h, want);
    }

    #[test]
    fn skip_tls_verify_is_refused() {
        let spec = AcmeIssuer {
            skip_tls_verify: Some(true),
            ..Default::default()
        };
        let e = trust(&spec).unwrap_err().to_string();
        assert!(e.contains("skipTLSVerify"), "{e}");
    }
}

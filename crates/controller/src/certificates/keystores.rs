//! `spec.keystores`: PKCS#12 and JKS files in the issued Secret, with passwords from
//! `password` or a Secret key (`passwordSecretRef`).

use std::collections::BTreeMap;

use api::{Certificate, SecretKeySelector};
use k8s_openapi::ByteString;
use kube::ResourceExt;

use crate::context::Context;

pub const PKCS12_KEYSTORE: &str = "keystore.p12";
pub const PKCS12_TRUSTSTORE: &str = "truststore.p12";
pub const JKS_KEYSTORE: &str = "keystore.jks";
pub const JKS_TRUSTSTORE: &str = "truststore.jks";

/// The password of a keystore: the literal one, else the referenced Secret key.
async fn password(
    ctx: &Context,
    crt: &Certificate,
    literal: Option<&String>,
    reference: Option<&SecretKeySelector>,
    field: &str,
) -> anyhow::Result<String> {
    if let Some(p) = literal {
        return Ok(p.clone());
    }
    let Some(reference) = reference else {
        anyhow::bail!("{field}: neither password nor passwordSecretRef is set");
    };
    let ns = crt.namespace().unwrap_or_default();
    let secret = ctx
        .caches
        .secrets
        .get(&ctx.client, &ns, &reference.name)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{field}.passwordSecretRef: Secret {ns}/{} not found",
                reference.name
            )
        })?;
    let key = reference.key_str();
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{field}.passwordSecretRef: no key {key:?} in Secret {ns}/{}",
                reference.name
            )
        })?;
    Ok(String::from_utf8(value.0.clone())?)
}

/// The keystore entries `spec.keystores` asks for.
pub async fn encode(
    ctx: &Context,
    crt: &Certificate,
    key_pem: &[u8],
    cert_pem: &[u8],
    ca_pem: &[u8],
) -> anyhow::Result<BTreeMap<String, ByteString>> {
    let mut out = BTreeMap::new();
    let Some(stores) = &crt.spec.keystores else {
        return Ok(out);
    };
    if let Some(p12) = stores.pkcs12.as_ref().filter(|s| s.create) {
        let pw = password(
            ctx,
            crt,
            p12.password.as_ref(),
            p12.password_secret_ref.as_ref(),
            "spec.keystores.pkcs12",
        )
        .await?;
        let profile = pki::encode::pkcs12::Pkcs12Profile::from_api(
            p12.profile.as_ref().map(|p| p.as_str()).unwrap_or_default(),
        );
        let ks =
            pki::encode::pkcs12::encode_pkcs12_keystore(profile, &pw, key_pem, cert_pem, ca_pem)?;
        out.insert(PKCS12_KEYSTORE.to_owned(), ByteString(ks));
        if !ca_pem.is_empty() {
            let ts = pki::encode::pkcs12::encode_pkcs12_truststore(profile, &pw, ca_pem)?;
            out.insert(PKCS12_TRUSTSTORE.to_owned(), ByteString(ts));
        }
    }
    if let Some(jks) = stores.jks.as_ref().filter(|s| s.create) {
        let pw = password(
            ctx,
            crt,
            jks.password.as_ref(),
            jks.password_secret_ref.as_ref(),
            "spec.keystores.jks",
        )
        .await?;
        let alias = jks
            .alias
            .as_deref()
            .unwrap_or(api::defaults::DEFAULT_JKS_ALIAS);
        let ks =
            pki::encode::jks::encode_jks_keystore(pw.as_bytes(), alias, key_pem, cert_pem, ca_pem)?;
        out.insert(JKS_KEYSTORE.to_owned(), ByteString(ks));
        if !ca_pem.is_empty() {
            let ts = pki::encode::jks::encode_jks_truststore(pw.as_bytes(), ca_pem)?;
            out.insert(JKS_TRUSTSTORE.to_owned(), ByteString(ts));
        }
    }
    Ok(out)
}

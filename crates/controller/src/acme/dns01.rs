//! DNS-01 solving: the TXT record `_acme-challenge.<domain>` is added and removed with the
//! solver's provider, and the self check asks the recursive nameservers (or, by default, the
//! zone's authoritative ones) whether it is visible.
//!
//! Providers: RFC 2136 (TSIG-signed dynamic updates). The other providers cert-manager has
//! (cloud DNS APIs, webhooks) are not supported by cert-manager-rs: such a Challenge fails
//! to present with an error saying so.

use std::net::SocketAddr;
use std::time::Duration;

use api::Challenge;
use api::acme::AcmeChallengeSolverDns01;
use api::field::Path;
use kube::ResourceExt;

use crate::context::Context;
use crate::issuers::lookup::{IssuerRef, ResolvedIssuer};

/// Test hook: how long to wait after the record is visible before asking the server to
/// validate (default: the record's TTL, as upstream, so that caches have caught up).
const TTL_WAIT_ENV: &str = "CERT_MANAGER_RS_DNS01_PROPAGATION_WAIT_SECONDS";

fn solver_config(ch: &Challenge) -> anyhow::Result<&AcmeChallengeSolverDns01> {
    ch.spec
        .solver
        .dns01
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no dns01 challenge solver configuration found"))
}

/// The namespace of the issuer's Secrets for a Challenge.
pub fn resource_namespace(ctx: &Context, ch: &Challenge) -> String {
    let r = IssuerRef::of(&ch.spec.issuer_ref);
    if r.kind == api::meta::CLUSTER_ISSUER_KIND {
        ctx.cluster_resource_namespace().to_owned()
    } else {
        ch.namespace().unwrap_or_default()
    }
}

fn nameservers(ctx: &Context) -> anyhow::Result<Vec<SocketAddr>> {
    dns01::recursive_nameservers(&ctx.config.acme_dns01.recursive_nameservers)
        .map_err(|e| anyhow::anyhow!(e))
}

fn unsupported(cfg: &AcmeChallengeSolverDns01) -> Option<&'static str> {
    [
        (cfg.akamai.is_some(), "akamai"),
        (cfg.cloud_dns.is_some(), "cloudDNS"),
        (cfg.cloudflare.is_some(), "cloudflare"),
        (cfg.route53.is_some(), "route53"),
        (cfg.azure_dns.is_some(), "azureDNS"),
        (cfg.digital_ocean.is_some(), "digitalocean"),
        (cfg.acme_dns.is_some(), "acmeDNS"),
        (cfg.webhook.is_some(), "webhook"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name))
}

/// The provider of a Challenge's solver, with its TSIG key read from the Secret.
async fn provider(ctx: &Context, ch: &Challenge) -> anyhow::Result<dns01::Rfc2136> {
    let cfg = solver_config(ch)?;
    let Some(rfc2136) = cfg.rfc2136.as_ref() else {
        return Err(match unsupported(cfg) {
            Some(name) => anyhow::anyhow!(
                "the DNS-01 provider \"{name}\" is not supported by cert-manager-rs (supported: rfc2136)"
            ),
            None => anyhow::anyhow!("no DNS01 provider configured"),
        });
    };
    let secret = match rfc2136.tsig_secret.as_ref().filter(|s| !s.name.is_empty()) {
        None => None,
        Some(sel) => {
            let namespace = resource_namespace(ctx, ch);
            let secret = ctx
                .caches
                .secrets
                .get(&ctx.client, &namespace, &sel.name)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "error getting rfc2136 TSIG secret: secret \"{}\" not found",
                        sel.name
                    )
                })?;
            let data = secret
                .data
                .as_ref()
                .and_then(|d| d.get(sel.key_str()))
                .map(|b| b.0.clone())
                .unwrap_or_default();
            Some(data)
        }
    };
    let path = Path::new("spec")
        .child("solver")
        .child("dns01")
        .child("rfc2136");
    Ok(dns01::Rfc2136::from_spec_at(&path, rfc2136, secret.as_deref()).await?)
}

async fn record_name(ctx: &Context, ch: &Challenge, follow: bool) -> anyhow::Result<String> {
    let follow = follow
        && matches!(
            solver_config(ch)?.cname_strategy,
            Some(api::acme::dns01::CnameStrategy::Follow)
        );
    let servers = if follow {
        nameservers(ctx)?
    } else {
        Vec::new()
    };
    Ok(dns01::challenge_fqdn(&ch.spec.dns_name, follow, &servers).await?)
}

/// Adds the TXT record (idempotent: the value is added once).
pub async fn present(
    ctx: &Context,
    ch: &Challenge,
    _issuer: &ResolvedIssuer,
) -> anyhow::Result<()> {
    let provider = provider(ctx, ch).await?;
    let fqdn = record_name(ctx, ch, true).await?;
    tracing::debug!(challenge = %ch.name_any(), %fqdn, "presenting DNS-01 record");
    provider.present(&fqdn, &ch.spec.key).await?;
    Ok(())
}

/// The self check: `Ok(Err(reason))` while the record is not visible everywhere it must be.
pub async fn check(ctx: &Context, ch: &Challenge) -> anyhow::Result<Result<(), String>> {
    let fqdn = record_name(ctx, ch, false).await?;
    let cfg = &ctx.config.acme_dns01;
    let check = dns01::SelfCheck::new(nameservers(ctx)?, cfg.recursive_nameservers_only);
    match check.is_propagated(&fqdn, &ch.spec.key).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Err(format!(
                "DNS record for \"{}\" not yet propagated",
                ch.spec.dns_name
            )));
        }
        Err(e) => return Ok(Err(e.to_string())),
    }
    let wait = std::env::var(TTL_WAIT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::from(dns01::TXT_TTL));
    tracing::debug!(challenge = %ch.name_any(), %fqdn, wait, "DNS-01 record propagated; waiting for its TTL");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    Ok(Ok(()))
}

/// Removes the TXT record (only this challenge's value).
pub async fn cleanup(ctx: &Context, ch: &Challenge) -> anyhow::Result<()> {
    let provider = provider(ctx, ch).await?;
    let fqdn = record_name(ctx, ch, true).await?;
    provider.cleanup(&fqdn, &ch.spec.key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_providers_are_named_as_unsupported() {
        let cfg = AcmeChallengeSolverDns01 {
            cloudflare: Some(Default::default()),
            ..Default::default()
        };
        assert_eq!(unsupported(&cfg), Some("cloudflare"));
        assert_eq!(unsupported(&AcmeChallengeSolverDns01::default()), None);
    }
}

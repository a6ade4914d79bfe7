//! ACME issuer rules: server and account key, external account binding, and each challenge
//! solver (exactly one of HTTP-01 and DNS-01; for DNS-01 exactly one provider).

use super::issuer::{ca_bundle_has_certificate, validate_secret_key_selector};
use super::{k8s, net, parse_duration_field, s};
use crate::acme::{
    AcmeChallengeSolver, AcmeChallengeSolverDns01, AcmeChallengeSolverHttp01,
    AcmeChallengeSolverHttp01GatewayHttpRoute, AcmeChallengeSolverHttp01Ingress, AcmeIssuer,
    AzureDnsEnvironment, CnameStrategy,
};
use crate::field::{BadValue, Error, ErrorList, Path};

/// Warning for the deprecated EAB `keyAlgorithm` field (upstream's text).
pub(crate) const DEPRECATED_EAB_KEY_ALGORITHM: &str = "ACME issuer spec field 'externalAccount.keyAlgorithm' is deprecated. The value of this field will be ignored.";

/// TSIG algorithms the RFC 2136 provider supports (compared case-insensitively).
const SUPPORTED_TSIG_ALGORITHMS: [&str; 4] = ["HMACMD5", "HMACSHA1", "HMACSHA256", "HMACSHA512"];

pub(super) fn validate_acme_issuer(acme: &AcmeIssuer, path: &Path) -> (ErrorList, Vec<String>) {
    let mut el = ErrorList::new();
    let mut warnings = Vec::new();
    let ca_bundle = acme.ca_bundle.as_ref().map_or(&[][..], |b| &b.0[..]);
    let skip_tls_verify = acme.skip_tls_verify.unwrap_or(false);
    if !ca_bundle.is_empty() && skip_tls_verify {
        let msg = "caBundle and skipTLSVerify are mutually exclusive and cannot both be set";
        el.push(Error::invalid(&path.child("caBundle"), "", msg));
        el.push(Error::invalid(&path.child("skipTLSVerify"), true, msg));
    }
    if !ca_bundle.is_empty()
        && let Err(e) = ca_bundle_has_certificate(ca_bundle)
    {
        el.push(Error::invalid(&path.child("caBundle"), "", &e));
    }
    if acme.private_key.name.is_empty() {
        el.push(Error::required(
            &path.children(&["privateKeySecretRef", "name"]),
            "private key secret name is a required field",
        ));
    }
    if acme.server.is_empty() {
        el.push(Error::required(
            &path.child("server"),
            "acme server URL is a required field",
        ));
    }
    if let Some(eab) = &acme.external_account_binding {
        let p = path.child("externalAccountBinding");
        if eab.key_id.is_empty() {
            el.push(Error::required(
                &p.child("keyID"),
                "the keyID field is required when using externalAccountBinding",
            ));
        }
        el.append(validate_secret_key_selector(
            &eab.key,
            &p.child("keySecretRef"),
        ));
        if eab
            .key_algorithm
            .as_ref()
            .is_some_and(|a| !a.as_str().is_empty())
        {
            warnings.push(DEPRECATED_EAB_KEY_ALGORITHM.to_owned());
        }
    }
    for (i, solver) in acme.solvers.iter().flatten().enumerate() {
        el.append(validate_solver(solver, &path.child("solvers").index(i)));
    }
    (el, warnings)
}

fn validate_solver(solver: &AcmeChallengeSolver, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let mut kinds = 0;
    if let Some(http01) = &solver.http01 {
        kinds += 1;
        el.append(validate_http01(http01, &path.child("http01")));
    }
    if let Some(dns01) = &solver.dns01 {
        if kinds > 0 {
            el.push(Error::forbidden(
                path,
                "may not specify more than one solver type in a single solver",
            ));
        } else {
            kinds += 1;
            el.append(validate_dns01(dns01, &path.child("dns01")));
        }
    }
    if kinds == 0 {
        el.push(Error::required(path, "no solver type configured"));
    }
    if let Some(wait) = &solver.wait_instead_of_self_check {
        let p = path.child("waitInsteadOfSelfCheck");
        if let Some(d) = parse_duration_field(wait, &p, &mut el)
            && d.is_negative()
        {
            el.push(Error::invalid(
                &p,
                BadValue::Int(d.as_nanos()),
                "waitInsteadOfSelfCheck must not be negative",
            ));
        }
    }
    el
}

fn validate_http01(http01: &AcmeChallengeSolverHttp01, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let mut defined = 0;
    if let Some(ingress) = &http01.ingress {
        defined += 1;
        el.append(validate_http01_ingress(ingress, &path.child("ingress")));
    }
    if let Some(gateway) = &http01.gateway_http_route {
        defined += 1;
        // Upstream reports these under `gateway`, not `gatewayHTTPRoute`.
        el.append(validate_http01_gateway(gateway, &path.child("gateway")));
    }
    if defined == 0 {
        el.push(Error::required(path, "no HTTP01 solver type configured"));
    }
    if defined > 1 {
        el.push(Error::required(
            path,
            "only 1 HTTP01 solver type may be configured",
        ));
    }
    el
}

fn validate_service_type(service_type: &Option<String>, path: &Path, el: &mut ErrorList) {
    if !matches!(s(service_type), "" | "ClusterIP" | "NodePort") {
        el.push(Error::invalid(
            &path.child("serviceType"),
            BadValue::json(s(service_type)),
            r#"must be empty, "ClusterIP" or "NodePort""#,
        ));
    }
}

fn validate_http01_ingress(ingress: &AcmeChallengeSolverHttp01Ingress, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let set = [
        ingress.class.is_some(),
        ingress.ingress_class_name.is_some(),
        !s(&ingress.name).is_empty(),
    ];
    if set.iter().filter(|b| **b).count() > 1 {
        el.push(Error::forbidden(
            path,
            "only one of 'ingressClassName', 'name' or 'class' should be specified",
        ));
    }
    // `class` was always free text (e.g. `azure/application-gateway`), but ingressClassName
    // names an IngressClass object.
    if let Some(name) = &ingress.ingress_class_name {
        let errs = k8s::is_dns1123_subdomain(name);
        if !errs.is_empty() {
            el.push(Error::invalid(
                &path.child("ingressClassName"),
                name,
                &format!("must be a valid IngressClass name: {}", errs.join(", ")),
            ));
        }
    }
    validate_service_type(&ingress.service_type, path, &mut el);
    el
}

fn validate_http01_gateway(
    gateway: &AcmeChallengeSolverHttp01GatewayHttpRoute,
    path: &Path,
) -> ErrorList {
    let mut el = ErrorList::new();
    validate_service_type(&gateway.service_type, path, &mut el);
    // parentRefs may be empty (the shims' annotations can supply them), but kind and name go
    // together; upstream stops at the first offending entry.
    for (i, r) in gateway.parent_refs.iter().flatten().enumerate() {
        let p = path.child("parentRefs").index(i);
        if r.kind.is_some() && r.name.is_empty() {
            el.push(Error::required(
                &p.child("name"),
                "name is required when kind is specified",
            ));
            return el;
        }
        if !r.name.is_empty() && r.kind.is_none() {
            el.push(Error::required(
                &p.child("kind"),
                "kind is required when name is specified",
            ));
            return el;
        }
    }
    el
}

fn validate_dns01(p: &AcmeChallengeSolverDns01, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    if let Some(strategy) = p.cname_strategy.as_ref().filter(|c| !c.as_str().is_empty())
        && !matches!(strategy, CnameStrategy::None | CnameStrategy::Follow)
    {
        el.push(Error::invalid(
            &path.child("cnameStrategy"),
            BadValue::json(strategy.as_str()),
            r#"must be one of "None" or "Follow""#,
        ));
    }
    let mut providers = 0;
    let more_than_one = |name: &str| {
        Error::forbidden(
            &path.child(name),
            "may not specify more than one provider type",
        )
    };

    // Upstream does not apply the one-provider check to akamai and acmeDNS; neither do we.
    if let Some(akamai) = &p.akamai {
        providers += 1;
        el.append(validate_secret_key_selector(
            &akamai.access_token,
            &path.children(&["akamai", "accessToken"]),
        ));
        el.append(validate_secret_key_selector(
            &akamai.client_secret,
            &path.children(&["akamai", "clientSecret"]),
        ));
        el.append(validate_secret_key_selector(
            &akamai.client_token,
            &path.children(&["akamai", "clientToken"]),
        ));
        if akamai.service_consumer_domain.is_empty() {
            el.push(Error::required(
                &path.children(&["akamai", "serviceConsumerDomain"]),
                "",
            ));
        }
    }
    if let Some(azure) = &p.azure_dns {
        if providers > 0 {
            el.push(more_than_one("azureDNS"));
        } else {
            providers += 1;
            let ap = path.child("azureDNS");
            let client_id = s(&azure.client_id);
            let tenant_id = s(&azure.tenant_id);
            if !client_id.is_empty() || !tenant_id.is_empty() || azure.client_secret.is_some() {
                if client_id.is_empty() {
                    el.push(Error::required(&ap.child("clientID"), ""));
                }
                match &azure.client_secret {
                    None => el.push(Error::required(&ap.child("clientSecretSecretRef"), "")),
                    Some(sks) => el.append(validate_secret_key_selector(
                        sks,
                        &ap.child("clientSecretSecretRef"),
                    )),
                }
                if tenant_id.is_empty() {
                    el.push(Error::required(&ap.child("tenantID"), ""));
                }
                if azure.managed_identity.is_some() {
                    el.push(Error::forbidden(
                        &ap.child("managedIdentity"),
                        "managed identity cannot be used at the same time as clientID, clientSecretSecretRef or tenantID",
                    ));
                }
            } else if let Some(mi) = &azure.managed_identity {
                let (mi_client, mi_resource, mi_tenant) =
                    (s(&mi.client_id), s(&mi.resource_id), s(&mi.tenant_id));
                let mp = ap.child("managedIdentity");
                if !mi_client.is_empty() && !mi_resource.is_empty() {
                    el.push(Error::forbidden(&mp, "managedIdentityClientID and managedIdentityResourceID cannot both be specified"));
                }
                if !mi_tenant.is_empty() && !mi_resource.is_empty() {
                    el.push(Error::forbidden(&mp, "managedIdentityTenantID and managedIdentityResourceID cannot both be specified"));
                }
                if !mi_tenant.is_empty() && mi_client.is_empty() {
                    el.push(Error::required(
                        &mp,
                        "managedIdentityClientID is required when using managedIdentityTenantID",
                    ));
                }
            }
            if azure.subscription_id.is_empty() {
                el.push(Error::required(&ap.child("subscriptionID"), ""));
            }
            if azure.resource_group_name.is_empty() {
                el.push(Error::required(&ap.child("resourceGroupName"), ""));
            }
            if let Some(env) = azure
                .environment
                .as_ref()
                .filter(|e| !e.as_str().is_empty())
                && matches!(env, AzureDnsEnvironment::Other(_))
            {
                el.push(Error::invalid(
                    &ap.child("environment"),
                    BadValue::json(env.as_str()),
                    "must be either empty or one of AzurePublicCloud, AzureChinaCloud, AzureGermanCloud, or AzureUSGovernmentCloud",
                ));
            }
        }
    }
    if let Some(cloud_dns) = &p.cloud_dns {
        if providers > 0 {
            el.push(more_than_one("cloudDNS"));
        } else {
            providers += 1;
            if let Some(sa) = &cloud_dns.service_account {
                el.append(validate_secret_key_selector(
                    sa,
                    &path.children(&["cloudDNS", "serviceAccountSecretRef"]),
                ));
            }
            if cloud_dns.project.is_empty() {
                el.push(Error::required(
                    &path.children(&["cloudDNS", "project"]),
                    "",
                ));
            }
        }
    }
    if let Some(cf) = &p.cloudflare {
        if providers > 0 {
            el.push(more_than_one("cloudflare"));
        } else {
            providers += 1;
            let cp = path.child("cloudflare");
            if let Some(key) = &cf.api_key {
                el.append(validate_secret_key_selector(
                    key,
                    &cp.child("apiKeySecretRef"),
                ));
            }
            if let Some(token) = &cf.api_token {
                el.append(validate_secret_key_selector(
                    token,
                    &cp.child("apiTokenSecretRef"),
                ));
            }
            if cf.api_key.is_some() && cf.api_token.is_some() {
                el.push(Error::forbidden(
                    &cp,
                    "apiKeySecretRef and apiTokenSecretRef cannot both be specified",
                ));
            }
            if cf.api_key.is_none() && cf.api_token.is_none() {
                el.push(Error::required(
                    &cp,
                    "apiKeySecretRef or apiTokenSecretRef is required",
                ));
            }
            if s(&cf.email).is_empty() && cf.api_key.is_some() {
                el.push(Error::required(&cp.child("email"), ""));
            }
        }
    }
    if let Some(r53) = &p.route53 {
        if providers > 0 {
            el.push(more_than_one("route53"));
        } else {
            providers += 1;
            // Neither key is required: ambient credentials are valid.
            if !s(&r53.access_key_id).is_empty() && r53.secret_access_key_id.is_some() {
                el.push(Error::required(
                    &path.child("route53"),
                    "accessKeyID and accessKeyIDSecretRef cannot both be specified",
                ));
            }
            if let Some(id_ref) = &r53.secret_access_key_id {
                el.append(validate_secret_key_selector(
                    id_ref,
                    &path.children(&["route53", "accessKeyIDSecretRef"]),
                ));
            }
        }
    }
    if let Some(acme_dns) = &p.acme_dns {
        providers += 1;
        el.append(validate_secret_key_selector(
            &acme_dns.account_secret,
            &path.children(&["acmeDNS", "accountSecretRef"]),
        ));
        if acme_dns.host.is_empty() {
            el.push(Error::required(&path.children(&["acmeDNS", "host"]), ""));
        }
    }
    if let Some(digital_ocean) = &p.digital_ocean {
        if providers > 0 {
            el.push(more_than_one("digitalocean"));
        } else {
            providers += 1;
            el.append(validate_secret_key_selector(
                &digital_ocean.token,
                &path.children(&["digitalocean", "tokenSecretRef"]),
            ));
        }
    }
    if let Some(rfc) = &p.rfc2136 {
        if providers > 0 {
            el.push(more_than_one("rfc2136"));
        } else {
            providers += 1;
            let rp = path.child("rfc2136");
            if rfc.nameserver.is_empty() {
                el.push(Error::required(&rp.child("nameserver"), ""));
            } else if net::valid_nameserver(&rfc.nameserver).is_err() {
                el.push(Error::invalid(
                    &rp.child("nameserver"),
                    &rfc.nameserver,
                    "nameserver must be set in the form host:port where host is an IPv4 address, an enclosed IPv6 address or a hostname and port is an optional port number.",
                ));
            }
            let algorithm = s(&rfc.tsig_algorithm);
            if !algorithm.is_empty()
                && !SUPPORTED_TSIG_ALGORITHMS.contains(&algorithm.to_uppercase().as_str())
            {
                // Upstream shows an empty value here, not the algorithm.
                el.push(Error::not_supported(
                    &rp.child("tsigAlgorithm"),
                    "",
                    &SUPPORTED_TSIG_ALGORITHMS,
                ));
            }
            let tsig_secret = rfc.tsig_secret.clone().unwrap_or_default();
            let secret_errors =
                validate_secret_key_selector(&tsig_secret, &rp.child("tsigSecretSecretRef"));
            if !s(&rfc.tsig_key_name).is_empty() {
                el.append(secret_errors.clone());
            }
            if secret_errors.is_empty() && s(&rfc.tsig_key_name).is_empty() {
                el.push(Error::required(&rp.child("tsigKeyName"), ""));
            }
        }
    }
    if let Some(webhook) = &p.webhook {
        if providers > 0 {
            el.push(more_than_one("webhook"));
        } else {
            providers += 1;
            if webhook.solver_name.is_empty() {
                el.push(Error::required(
                    &path.children(&["webhook", "solverName"]),
                    "solver name must be specified",
                ));
            }
        }
    }
    if providers == 0 {
        el.push(Error::required(path, "no DNS01 provider configured"));
    }
    el
}

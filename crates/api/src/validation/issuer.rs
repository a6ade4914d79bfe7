//! Issuer and ClusterIssuer rules: exactly one issuer type, then the rules of that type (CA,
//! self-signed, Vault, Venafi here; ACME in [`super::acme`]).

use super::{ValidationResult, acme, s};
use crate::field::{Error, ErrorList, Path};
use crate::issuer::{CaIssuer, IssuerConfig, VenafiIssuer};
use crate::meta::SecretKeySelector;
use crate::vault::{VaultAuth, VaultIssuer};

/// Validates an issuer configuration found at `path` (normally `spec`).
pub fn validate_issuer_config(config: &IssuerConfig, path: &Path) -> ValidationResult {
    let mut result = ValidationResult::default();
    let el = &mut result.errors;
    let mut configured = 0;
    let mut one_of = |name: &str, el: &mut ErrorList| -> bool {
        if configured > 0 {
            el.push(Error::forbidden(
                &path.child(name),
                "may not specify more than one issuer type",
            ));
            false
        } else {
            configured += 1;
            true
        }
    };
    if let Some(acme_cfg) = &config.acme
        && one_of("acme", el)
    {
        let (errors, warnings) = acme::validate_acme_issuer(acme_cfg, &path.child("acme"));
        el.append(errors);
        result.warnings.extend(warnings);
    }
    if let Some(ca) = &config.ca
        && one_of("ca", el)
    {
        el.append(validate_ca(ca, &path.child("ca")));
    }
    // Self-signed issuers have nothing to check.
    if config.self_signed.is_some() {
        one_of("selfSigned", el);
    }
    if let Some(vault) = &config.vault
        && one_of("vault", el)
    {
        el.append(validate_vault(vault, &path.child("vault")));
    }
    if let Some(venafi) = &config.venafi
        && one_of("venafi", el)
    {
        el.append(validate_venafi(venafi, &path.child("venafi")));
    }
    if configured == 0 {
        el.push(Error::required(
            path,
            "at least one issuer must be configured",
        ));
    }
    result
}

fn validate_ca(ca: &CaIssuer, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    if ca.secret_name.is_empty() {
        el.push(Error::required(&path.child("secretName"), ""));
    }
    // Upstream's path says `ocspServer` (singular).
    for (i, url) in ca.ocsp_servers.iter().flatten().enumerate() {
        if url.is_empty() {
            el.push(Error::invalid(
                &path.child("ocspServer").index(i),
                url,
                "must be a valid URL, e.g., http://ocsp.int-x3.letsencrypt.org",
            ));
        }
    }
    for (i, url) in ca.issuing_certificate_urls.iter().flatten().enumerate() {
        if url.is_empty() {
            el.push(Error::invalid(
                &path.child("issuingCertificateURLs").index(i),
                url,
                "must be a valid URL",
            ));
        }
    }
    el
}

/// Whether a Vault path has a literal `..` segment.
fn contains_dot_dot_segment(p: &str) -> bool {
    p.split('/').any(|seg| seg == "..")
}

fn validate_vault(vault: &VaultIssuer, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    if vault.server.is_empty() {
        el.push(Error::required(&path.child("server"), ""));
    }
    if vault.path.is_empty() {
        el.push(Error::required(&path.child("path"), ""));
    } else if contains_dot_dot_segment(&vault.path) {
        el.push(Error::invalid(
            &path.child("path"),
            &vault.path,
            "must not contain '..' path segments",
        ));
    }
    let ca_bundle = vault.ca_bundle.as_ref().map_or(&[][..], |b| &b.0[..]);
    if !ca_bundle.is_empty()
        && let Err(e) = ca_bundle_has_certificate(ca_bundle)
    {
        el.push(Error::invalid(&path.child("caBundle"), "<snip>", &e));
    }
    if let (false, Some(secret_ref)) = (ca_bundle.is_empty(), &vault.ca_bundle_secret_ref) {
        el.push(Error::invalid(
            &path.child("caBundle"),
            "<snip>",
            "specified caBundle and caBundleSecretRef cannot be used together",
        ));
        el.push(Error::invalid(
            &path.child("caBundleSecretRef"),
            &secret_ref.name,
            "specified caBundleSecretRef and caBundle cannot be used together",
        ));
    }
    match (&vault.client_cert_secret_ref, &vault.client_key_secret_ref) {
        (Some(_), None) => el.push(Error::invalid(
            &path.child("clientKeySecretRef"),
            "<snip>",
            "clientKeySecretRef must be provided when defining the clientCertSecretRef",
        )),
        (None, Some(_)) => el.push(Error::invalid(
            &path.child("clientCertSecretRef"),
            "<snip>",
            "clientCertSecretRef must be provided when defining the clientKeySecretRef",
        )),
        _ => {}
    }
    el.append(validate_vault_auth(&vault.auth, &path.child("auth")));
    el
}

fn validate_vault_auth(auth: &VaultAuth, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let mut methods = 0;
    if auth.token_secret_ref.is_some() {
        methods += 1;
    }
    if let Some(app_role) = &auth.app_role {
        if app_role.role_id.is_empty() {
            el.push(Error::required(&path.children(&["appRole", "roleId"]), ""));
        }
        if app_role.secret_ref.name.is_empty() {
            el.push(Error::required(
                &path.children(&["appRole", "secretRef", "name"]),
                "",
            ));
        }
        if contains_dot_dot_segment(&app_role.path) {
            el.push(Error::invalid(
                &path.children(&["appRole", "path"]),
                &app_role.path,
                "must not contain '..' path segments",
            ));
        }
        methods += 1;
    }
    if let Some(cc) = &auth.client_certificate {
        if contains_dot_dot_segment(s(&cc.path)) {
            el.push(Error::invalid(
                &path.children(&["clientCertificate", "path"]),
                s(&cc.path),
                "must not contain '..' path segments",
            ));
        }
        methods += 1;
    }
    if let Some(k) = &auth.kubernetes {
        methods += 1;
        if k.role.is_empty() {
            el.push(Error::required(&path.children(&["kubernetes", "role"]), ""));
        }
        if contains_dot_dot_segment(s(&k.path)) {
            el.push(Error::invalid(
                &path.children(&["kubernetes", "path"]),
                s(&k.path),
                "must not contain '..' path segments",
            ));
        }
        let mut sources = 0;
        if k.secret_ref.as_ref().is_some_and(|r| !r.name.is_empty()) {
            sources += 1;
        }
        if let Some(sa) = &k.service_account_ref {
            sources += 1;
            if sa.name.is_empty() {
                el.push(Error::required(
                    &path.children(&["kubernetes", "serviceAccountRef", "name"]),
                    "",
                ));
            }
        }
        if sources == 0 {
            el.push(Error::required(
                &path.child("kubernetes"),
                "please supply one of: secretRef, serviceAccountRef",
            ));
        }
        if sources > 1 {
            el.push(Error::forbidden(
                &path.child("kubernetes"),
                "please supply one of: secretRef, serviceAccountRef",
            ));
        }
    }
    if let Some(aws) = &auth.aws {
        methods += 1;
        if aws.role.is_empty() {
            el.push(Error::required(&path.children(&["aws", "role"]), ""));
        }
        if contains_dot_dot_segment(s(&aws.mount_path)) {
            el.push(Error::invalid(
                &path.children(&["aws", "mountPath"]),
                s(&aws.mount_path),
                "must not contain '..' path segments",
            ));
        }
        if let Some(sa) = &aws.service_account_ref {
            if sa.name.is_empty() {
                el.push(Error::required(
                    &path.children(&["aws", "serviceAccountRef", "name"]),
                    "",
                ));
            }
            if s(&aws.iam_role_arn).is_empty() {
                el.push(Error::required(
                    &path.children(&["aws", "iamRoleArn"]),
                    "iamRoleArn is required when using serviceAccountRef for IRSA",
                ));
            }
        }
    }
    if methods == 0 {
        el.push(Error::required(
            path,
            "please supply one of: appRole, kubernetes, tokenSecretRef, clientCertificate, aws",
        ));
    }
    // Several methods at once stay allowed (the first wins), as existing Issuers rely on it.
    el
}

fn validate_venafi(venafi: &VenafiIssuer, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    if venafi.zone.is_empty() {
        el.push(Error::required(&path.child("zone"), ""));
    }
    let mut connections = 0;
    if let Some(tpp) = &venafi.tpp {
        connections += 1;
        let p = path.child("tpp");
        if tpp.url.is_empty() {
            el.push(Error::required(&p.child("url"), ""));
        }
        let has_bundle = tpp.ca_bundle.as_ref().is_some_and(|b| !b.0.is_empty());
        if has_bundle && tpp.ca_bundle_secret_ref.is_some() {
            el.push(Error::forbidden(
                &p,
                "may not specify more than one of caBundle/caBundleSecretRef as TPP CA Bundle",
            ));
        }
    }
    if venafi.cloud.is_some() {
        connections += 1;
    }
    if let Some(ngts) = &venafi.ngts {
        connections += 1;
        let p = path.child("ngts");
        if ngts.tsg_id.is_empty() {
            el.push(Error::required(&p.child("tsgID"), ""));
        }
        if ngts.credentials_ref.name.is_empty() {
            el.push(Error::required(
                &p.children(&["credentialsRef", "name"]),
                "",
            ));
        }
    }
    if connections == 0 {
        el.push(Error::required(
            path,
            "please supply one of: tpp, cloud, ngts",
        ));
    }
    if connections > 1 {
        el.push(Error::forbidden(
            path,
            "please supply one of: tpp, cloud, ngts",
        ));
    }
    el
}

/// A secret key selector whose `name` and `key` must both be set.
pub(super) fn validate_secret_key_selector(sks: &SecretKeySelector, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    if sks.name.is_empty() {
        el.push(Error::required(
            &path.child("name"),
            "secret name is required",
        ));
    }
    if sks.key_str().is_empty() {
        el.push(Error::required(
            &path.child("key"),
            "secret key is required",
        ));
    }
    el
}

/// Whether a PEM bundle holds at least one parsable certificate (Go's
/// `CertPool.AppendCertsFromPEM`, which skips anything else).
pub(super) fn ca_bundle_has_certificate(bundle: &[u8]) -> Result<(), String> {
    let found = pem::parse_many(bundle).is_ok_and(|blocks| {
        blocks.iter().any(|b| {
            b.tag() == "CERTIFICATE"
                && b.headers().iter().next().is_none()
                && x509_parser::parse_x509_certificate(b.contents()).is_ok()
        })
    });
    if found {
        Ok(())
    } else {
        Err("cert bundle didn't contain any valid certificates".into())
    }
}

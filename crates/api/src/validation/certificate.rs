//! Certificate spec rules (cert-manager `ValidateCertificateSpec`).

use std::collections::HashSet;

use super::{
    ValidationGates, cron, email, is_empty_list, k8s, net, parse_duration_field, s, subject,
};
use crate::certificate::{
    CertificateKeystores, CertificateRenewal, CertificateRenewalPolicy, CertificateSpec,
    MINIMUM_CERTIFICATE_DURATION, MINIMUM_RENEW_BEFORE, NameConstraintItem, NameConstraints,
    PrivateKeyAlgorithm, SignatureAlgorithm, X509Subject,
};
use crate::duration::GoDuration;
use crate::field::{BadValue, Error, ErrorList, Path};
use crate::meta::{CERT_MANAGER_GROUP, IssuerReference};

/// Validates a Certificate spec found at `path` (normally `spec`).
pub fn validate_certificate_spec(
    spec: &CertificateSpec,
    path: &Path,
    gates: &ValidationGates,
) -> ErrorList {
    let mut el = ErrorList::new();

    if spec.secret_name.is_empty() {
        el.push(Error::required(
            &path.child("secretName"),
            "must be specified",
        ));
    } else {
        for msg in k8s::is_dns1123_subdomain(&spec.secret_name) {
            el.push(Error::invalid(
                &path.child("secretName"),
                &spec.secret_name,
                &msg,
            ));
        }
    }

    el.append(validate_issuer_ref(&spec.issuer_ref, path));

    let mut common_name = s(&spec.common_name).to_owned();
    let literal = s(&spec.literal_subject);
    if !literal.is_empty() {
        validate_literal_subject(spec, literal, path, gates, &mut common_name, &mut el);
    }

    if common_name.is_empty()
        && is_empty_list(&spec.dns_names)
        && is_empty_list(&spec.uris)
        && is_empty_list(&spec.email_addresses)
        && is_empty_list(&spec.ip_addresses)
        && is_empty_list(&spec.other_names)
    {
        el.push(Error::invalid(
            path,
            "",
            "at least one of commonName (from the commonName field or from a literalSubject), dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set",
        ));
    }

    if common_name.len() > 64 {
        el.push(Error::too_long(&path.child("commonName"), 64));
    }

    for (i, ip) in spec.ip_addresses.iter().flatten().enumerate() {
        if !net::is_ip(ip) {
            el.push(Error::invalid(
                &path.child("ipAddresses").index(i),
                ip,
                "invalid IP address",
            ));
        }
    }

    for (i, addr) in spec.email_addresses.iter().flatten().enumerate() {
        let p = path.child("emailAddresses").index(i);
        match email::parse_address(addr) {
            Err(e) => el.push(Error::invalid(&p, addr, &format!("invalid email address: {e}"))),
            Ok(parsed) if &parsed != addr => el.push(Error::invalid(
                &p,
                addr,
                "invalid email address: make sure the supplied value only contains the email address itself",
            )),
            Ok(_) => {}
        }
    }

    if !is_empty_list(&spec.other_names) {
        if !gates.other_names {
            // Upstream names the path with a capital O.
            el.push(Error::forbidden(
                &path.child("OtherNames"),
                "Feature gate OtherNames must be enabled on both webhook and controller to use the alpha `otherNames` field",
            ));
        } else {
            for (i, other) in spec.other_names.iter().flatten().enumerate() {
                let p = path.child("otherNames").index(i);
                let oid = s(&other.oid);
                if oid.is_empty() {
                    el.push(Error::required(&p.child("oid"), "must be specified"));
                }
                if subject::parse_object_identifier(oid).is_err() {
                    el.push(Error::invalid(&p.child("oid"), oid, "invalid oid syntax"));
                }
                if s(&other.utf8_value).is_empty() {
                    el.push(Error::required(
                        &p.child("utf8Value"),
                        "must be set to a valid non-empty UTF8 string",
                    ));
                }
            }
        }
    }

    if let Some(pk) = &spec.private_key {
        let size = pk.size.unwrap_or(0);
        let size_path = path.children(&["privateKey", "size"]);
        let algorithm = pk
            .algorithm
            .as_ref()
            .map_or("", PrivateKeyAlgorithm::as_str);
        match algorithm {
            "" | "RSA" => {
                if size > 0 && !(2048..=8192).contains(&size) {
                    el.push(Error::invalid(
                        &size_path,
                        BadValue::Int(size),
                        "must be between 2048 and 8192 for rsa keyAlgorithm",
                    ));
                }
            }
            "ECDSA" => {
                if size > 0 && ![256, 384, 521].contains(&size) {
                    el.push(Error::not_supported(
                        &size_path,
                        BadValue::Int(size),
                        &["256", "384", "521"],
                    ));
                }
            }
            "Ed25519" => {}
            other => el.push(Error::invalid(
                &path.children(&["privateKey", "algorithm"]),
                BadValue::json(other),
                "must be either empty or one of rsa, ecdsa or ed25519",
            )),
        }
    }

    if let Some(sig) = spec
        .signature_algorithm
        .as_ref()
        .filter(|a| !a.as_str().is_empty())
    {
        let key_alg = spec
            .private_key
            .as_ref()
            .and_then(|pk| pk.algorithm.clone())
            .filter(|a| !a.as_str().is_empty())
            .unwrap_or(PrivateKeyAlgorithm::Rsa);
        let allowed: Option<&[SignatureAlgorithm]> = match key_alg {
            PrivateKeyAlgorithm::Rsa => Some(&[
                SignatureAlgorithm::Sha256WithRsa,
                SignatureAlgorithm::Sha384WithRsa,
                SignatureAlgorithm::Sha512WithRsa,
            ]),
            PrivateKeyAlgorithm::Ecdsa => Some(&[
                SignatureAlgorithm::EcdsaWithSha256,
                SignatureAlgorithm::EcdsaWithSha384,
                SignatureAlgorithm::EcdsaWithSha512,
            ]),
            PrivateKeyAlgorithm::Ed25519 => Some(&[SignatureAlgorithm::PureEd25519]),
            PrivateKeyAlgorithm::Other(_) => None,
        };
        if let Some(allowed) = allowed
            && !allowed.contains(sig)
        {
            let names: Vec<&str> = allowed.iter().map(SignatureAlgorithm::as_str).collect();
            el.push(Error::invalid(
                &path.child("signatureAlgorithm"),
                BadValue::json(sig.as_str()),
                &format!(
                    "for key algorithm {key_alg} the allowed signature algorithms are [{}]",
                    names.join(" ")
                ),
            ));
        }
    }

    if spec.duration.is_some() || spec.renew_before.is_some() {
        el.append(validate_duration(spec, path));
    }

    for (i, usage) in spec.usages.iter().flatten().enumerate() {
        if !usage.is_known() {
            el.push(Error::invalid(
                &path.child("usages").index(i),
                BadValue::json(usage.as_str()),
                "unknown keyusage",
            ));
        }
    }

    if let Some(limit) = spec.revision_history_limit
        && limit < 1
    {
        el.push(Error::invalid(
            &path.child("revisionHistoryLimit"),
            limit,
            "must not be less than 1",
        ));
    }

    if let Some(template) = &spec.secret_template {
        if let Some(labels) = template.labels.as_ref().filter(|l| !l.is_empty()) {
            el.append(k8s::validate_labels(
                labels,
                &path.children(&["secretTemplate", "labels"]),
            ));
        }
        if let Some(annotations) = template.annotations.as_ref().filter(|a| !a.is_empty()) {
            let p = path.children(&["secretTemplate", "annotations"]);
            for key in annotations.keys() {
                if key.starts_with("cert-manager.io/")
                    && key != "cert-manager.io/allow-direct-injection"
                {
                    el.push(Error::invalid(
                        &p,
                        key,
                        "cert-manager.io/* annotations are not allowed",
                    ));
                }
            }
            el.append(k8s::validate_annotations(annotations, &p));
        }
    }

    if let Some(nc) = &spec.name_constraints {
        let p = path.child("nameConstraints");
        if !gates.name_constraints {
            el.push(Error::forbidden(
                &p,
                "feature gate NameConstraints must be enabled",
            ));
        } else {
            if !spec.is_ca.unwrap_or(false) {
                el.push(Error::invalid(
                    &p,
                    go_json_name_constraints(nc),
                    "isCa should be true when nameConstraints is set",
                ));
            }
            if nc.permitted.is_none() && nc.excluded.is_none() {
                el.push(Error::invalid(
                    &p,
                    go_json_name_constraints(nc),
                    "either permitted or excluded must be set",
                ));
            }
        }
    }

    let mut seen = HashSet::new();
    for format in spec.additional_output_formats.iter().flatten() {
        let t = format.format_type.as_str();
        if !seen.insert(t.to_owned()) {
            el.push(Error::duplicate(
                &path.child("additionalOutputFormats").key("type"),
                t,
            ));
        }
    }

    if let Some(keystores) = &spec.keystores {
        el.append(validate_keystores(keystores, path));
    }

    if let Some(renewal) = &spec.renewal {
        el.append(validate_renewal(renewal, path));
    }

    el
}

fn validate_literal_subject(
    spec: &CertificateSpec,
    literal: &str,
    path: &Path,
    gates: &ValidationGates,
    common_name: &mut String,
    el: &mut ErrorList,
) {
    if !gates.literal_certificate_subject {
        el.push(Error::forbidden(
            &path.child("literalSubject"),
            "Feature gate LiteralCertificateSubject must be enabled on both webhook and controller to use the alpha `literalSubject` field",
        ));
    }
    if !common_name.is_empty() {
        el.push(Error::invalid(
            &path.child("commonName"),
            common_name.as_str(),
            "When providing a `LiteralSubject` no `commonName` may be provided.",
        ));
    }
    if let Some(subj) = spec.subject.as_ref().filter(|s| s.has_any()) {
        el.push(Error::invalid(
            &path.child("subject"),
            go_json_subject(subj),
            "When providing a `LiteralSubject` no `Subject` properties may be provided.",
        ));
    }
    let rdns = match subject::parse_literal_subject(literal) {
        Ok(rdns) => rdns,
        Err(e) => {
            el.push(Error::invalid(&path.child("literalSubject"), literal, &e));
            Vec::new()
        }
    };
    // The literal subject's CN (the first one in string order wins) counts as the common name.
    for atv in rdns.iter().flatten() {
        if atv.oid.as_deref() == Some(&subject::OID_COMMON_NAME[..]) {
            *common_name = atv.value.clone();
        }
    }
    for atv in rdns.iter().flatten() {
        if atv.oid.is_none() {
            el.push(Error::invalid(
                &path.child("literalSubject"),
                literal,
                &format!(
                    "Literal subject contains unrecognized key with value [{}]",
                    atv.value
                ),
            ));
        }
    }
}

pub(super) fn validate_issuer_ref(issuer_ref: &IssuerReference, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let p = path.child("issuerRef");
    if issuer_ref.name.is_empty() {
        el.push(Error::required(&p.child("name"), "must be specified"));
    }
    let group = s(&issuer_ref.group);
    let kind = s(&issuer_ref.kind);
    // Only the built-in group has known kinds; external issuers' kinds cannot be checked.
    if (group.is_empty() || group == CERT_MANAGER_GROUP)
        && !matches!(kind, "" | "Issuer" | "ClusterIssuer")
    {
        let kind_path = p.child("kind");
        let mut msg = "must be one of Issuer or ClusterIssuer".to_owned();
        if group.is_empty() {
            // A common mistake is an external issuer's kind without its group. (The hint's
            // path is upstream's, child of `kind`.)
            msg.push_str(&format!(
                " (did you forget to set {}?)",
                kind_path.child("group")
            ));
        }
        el.push(Error::invalid(&kind_path, kind, &msg));
    }
    el
}

fn validate_duration(spec: &CertificateSpec, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let duration = match &spec.duration {
        None => crate::certificate::DEFAULT_CERTIFICATE_DURATION,
        Some(d) => match parse_duration_field(d, &path.child("duration"), &mut el) {
            Some(d) => d,
            None => return el,
        },
    };
    let renew_before = match &spec.renew_before {
        None => None,
        Some(rb) => match parse_duration_field(rb, &path.child("renewBefore"), &mut el) {
            Some(rb) => Some(rb),
            None => return el,
        },
    };
    // Go renders a time.Duration bad value as JSON: nanoseconds.
    let nanos = |d: GoDuration| BadValue::Int(d.as_nanos());

    if duration < MINIMUM_CERTIFICATE_DURATION {
        el.push(Error::invalid(
            &path.child("duration"),
            nanos(duration),
            &format!("certificate duration must be greater than {MINIMUM_CERTIFICATE_DURATION}"),
        ));
    }
    if let (Some(rb), Some(pct)) = (renew_before, spec.renew_before_percentage) {
        let msg =
            "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set";
        el.push(Error::invalid(&path.child("renewBefore"), nanos(rb), msg));
        el.push(Error::invalid(
            &path.child("renewBeforePercentage"),
            pct,
            msg,
        ));
    }
    if let Some(rb) = renew_before {
        if rb < MINIMUM_RENEW_BEFORE {
            el.push(Error::invalid(
                &path.child("renewBefore"),
                nanos(rb),
                &format!("certificate renewBefore must be greater than {MINIMUM_RENEW_BEFORE}"),
            ));
        }
        if rb >= duration {
            el.push(Error::invalid(
                &path.child("renewBefore"),
                nanos(rb),
                &format!("certificate duration {duration} must be greater than renewBefore {rb}"),
            ));
        }
    }
    if let Some(pct) = spec.renew_before_percentage {
        // In floating point, as upstream, so large durations cannot overflow.
        let derived = GoDuration::from_nanos(
            (duration.as_nanos() as f64 * f64::from(100i32.wrapping_sub(pct)) / 100.0) as i64,
        );
        let p = path.child("renewBeforePercentage");
        if derived < MINIMUM_RENEW_BEFORE {
            el.push(Error::invalid(
                &p,
                pct,
                &format!(
                    "certificate renewBeforePercentage must result in a renewBefore greater than {MINIMUM_RENEW_BEFORE}"
                ),
            ));
        }
        if derived >= duration {
            el.push(Error::invalid(
                &p,
                pct,
                "certificate renewBeforePercentage must result in a renewBefore less than duration",
            ));
        }
    }
    el
}

fn validate_keystores(keystores: &CertificateKeystores, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let mut check = |name: &str, display: &str, password: &Option<String>, has_ref: bool| {
        let p = path.children(&["keystores", name]);
        if password.is_some() && has_ref {
            el.push(Error::forbidden(
                &p,
                &format!("exactly one of passwordSecretRef and password must be provided for {display} keystores; cannot set both"),
            ));
        }
        if password.is_none() && !has_ref {
            el.push(Error::forbidden(
                &p,
                &format!("must set exactly one of passwordSecretRef and password must for {display} keystores"),
            ));
        }
        if password.as_deref() == Some("") {
            el.push(Error::forbidden(
                &p.child("password"),
                &format!("literal password cannot be empty if set on {display} keystores"),
            ));
        }
    };
    if let Some(jks) = &keystores.jks {
        let has_ref = jks
            .password_secret_ref
            .as_ref()
            .is_some_and(|r| !r.name.is_empty());
        check("jks", "JKS", &jks.password, has_ref);
    }
    if let Some(p12) = &keystores.pkcs12 {
        let has_ref = p12
            .password_secret_ref
            .as_ref()
            .is_some_and(|r| !r.name.is_empty());
        check("pkcs12", "PKCS#12", &p12.password, has_ref);
    }
    el
}

fn validate_renewal(renewal: &CertificateRenewal, path: &Path) -> ErrorList {
    let mut el = ErrorList::new();
    let policy = renewal.policy.clone().unwrap_or_default();
    match policy {
        CertificateRenewalPolicy::RenewBefore => {}
        CertificateRenewalPolicy::Disabled => {
            if !is_empty_list(&renewal.windows) {
                el.push(Error::forbidden(
                    &path.children(&["renewal", "windows"]),
                    "windows cannot be set when `renewal.policy` is set to Disabled",
                ));
            }
            return el;
        }
        CertificateRenewalPolicy::Other(other) => el.push(Error::not_supported(
            &path.children(&["renewal", "policy"]),
            BadValue::json(&other),
            &["Disabled", "RenewBefore"],
        )),
    }
    for (i, window) in renewal.windows.iter().flatten().enumerate() {
        let p = path.children(&["renewal", "windows"]).index(i);
        match &window.window_duration {
            None => el.push(Error::required(
                &p.child("windowDuration"),
                "windowDuration must be specified and should be greater than 0",
            )),
            Some(d) => {
                parse_duration_field(d, &p.child("windowDuration"), &mut el);
            }
        }
        let tz = s(&window.timezone);
        if !tz.is_empty() && cron::load_location(tz).is_err() {
            el.push(Error::invalid(
                &p.child("timezone"),
                tz,
                "invalid value for timezone. timezone must be IANA compliant",
            ));
        }
        let spec = s(&window.cron);
        if let Err(e) = cron::parse(spec, tz) {
            el.push(Error::invalid(
                &p.child("cron"),
                spec,
                &format!("invalid cron syntax: {e}. cron needs to follow: cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow"),
            ));
        }
    }
    el
}

/// The subject as Go's encoder writes cert-manager's internal type (no JSON tags, so Go field
/// names, every field present), which is how upstream shows it in this error.
fn go_json_subject(subj: &X509Subject) -> BadValue {
    let list = |v: &Option<Vec<String>>| match v {
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".into()),
        None => "null".into(),
    };
    BadValue::Json(format!(
        "{{\"Organizations\":{},\"Countries\":{},\"OrganizationalUnits\":{},\"Localities\":{},\"Provinces\":{},\"StreetAddresses\":{},\"PostalCodes\":{},\"SerialNumber\":{}}}",
        list(&subj.organizations),
        list(&subj.countries),
        list(&subj.organizational_units),
        list(&subj.localities),
        list(&subj.provinces),
        list(&subj.street_addresses),
        list(&subj.postal_codes),
        serde_json::to_string(s(&subj.serial_number)).unwrap_or_default(),
    ))
}

/// Name constraints rendered like [`go_json_subject`].
fn go_json_name_constraints(nc: &NameConstraints) -> BadValue {
    let list = |v: &Option<Vec<String>>| match v {
        Some(v) => serde_json::to_string(v).unwrap_or_else(|_| "null".into()),
        None => "null".into(),
    };
    let item = |i: &Option<NameConstraintItem>| match i {
        None => "null".to_owned(),
        Some(i) => format!(
            "{{\"DNSDomains\":{},\"IPRanges\":{},\"EmailAddresses\":{},\"URIDomains\":{}}}",
            list(&i.dns_domains),
            list(&i.ip_ranges),
            list(&i.email_addresses),
            list(&i.uri_domains)
        ),
    };
    BadValue::Json(format!(
        "{{\"Critical\":{},\"Permitted\":{},\"Excluded\":{}}}",
        nc.critical.unwrap_or(false),
        item(&nc.permitted),
        item(&nc.excluded)
    ))
}

//! The Ingress annotations ingress-shim reads, and how they become Certificate fields.
//!
//! Values are checked as cert-manager checks them (Go duration syntax, the key usage names, the
//! private key options, ...), and a bad value is reported with the annotation's name.

use std::collections::BTreeMap;
use std::net::IpAddr;

use api::certificate::{
    CertificatePrivateKey, CertificateSecretTemplate, KeyUsage, MINIMUM_CERTIFICATE_DURATION,
    MINIMUM_RENEW_BEFORE, PrivateKeyAlgorithm, PrivateKeyEncoding, PrivateKeyRotationPolicy,
    X509Subject,
};
use api::field::go_quote;
use api::{CertificateSpec, Duration, GoDuration};
use serde::Deserialize;

use super::csv;

// Which issuer signs.
pub const ISSUER: &str = "cert-manager.io/issuer";
pub const CLUSTER_ISSUER: &str = "cert-manager.io/cluster-issuer";
pub const ISSUER_KIND: &str = "cert-manager.io/issuer-kind";
pub const ISSUER_GROUP: &str = "cert-manager.io/issuer-group";

// Certificate spec fields.
pub const COMMON_NAME: &str = "cert-manager.io/common-name";
pub const ALT_NAMES: &str = "cert-manager.io/alt-names";
pub const IP_SANS: &str = "cert-manager.io/ip-sans";
pub const EMAIL_SANS: &str = "cert-manager.io/email-sans";
pub const SUBJECT_ORGANIZATIONS: &str = "cert-manager.io/subject-organizations";
pub const SUBJECT_ORGANIZATIONAL_UNITS: &str = "cert-manager.io/subject-organizationalunits";
pub const SUBJECT_COUNTRIES: &str = "cert-manager.io/subject-countries";
pub const SUBJECT_PROVINCES: &str = "cert-manager.io/subject-provinces";
pub const SUBJECT_LOCALITIES: &str = "cert-manager.io/subject-localities";
pub const SUBJECT_POSTAL_CODES: &str = "cert-manager.io/subject-postalcodes";
pub const SUBJECT_STREET_ADDRESSES: &str = "cert-manager.io/subject-streetaddresses";
pub const SUBJECT_SERIAL_NUMBER: &str = "cert-manager.io/subject-serialnumber";
pub const DURATION: &str = "cert-manager.io/duration";
pub const RENEW_BEFORE: &str = "cert-manager.io/renew-before";
pub const RENEW_BEFORE_PERCENTAGE: &str = "cert-manager.io/renew-before-percentage";
pub const USAGES: &str = "cert-manager.io/usages";
pub const REVISION_HISTORY_LIMIT: &str = "cert-manager.io/revision-history-limit";
pub const PRIVATE_KEY_ALGORITHM: &str = "cert-manager.io/private-key-algorithm";
pub const PRIVATE_KEY_ENCODING: &str = "cert-manager.io/private-key-encoding";
pub const PRIVATE_KEY_SIZE: &str = "cert-manager.io/private-key-size";
pub const PRIVATE_KEY_ROTATION_POLICY: &str = "cert-manager.io/private-key-rotation-policy";
pub const SECRET_TEMPLATE: &str = "cert-manager.io/secret-template";

// ACME HTTP-01 hints, passed on as Certificate annotations.
pub const HTTP01_EDIT_IN_PLACE: &str = "acme.cert-manager.io/http01-edit-in-place";
pub const HTTP01_INGRESS_CLASS: &str = "acme.cert-manager.io/http01-ingress-class";
pub const HTTP01_INGRESS_CLASS_NAME: &str = "acme.cert-manager.io/http01-ingress-ingressclassname";
pub const HTTP01_OVERRIDE_INGRESS_NAME: &str = "acme.cert-manager.io/http01-override-ingress-name";
pub const HTTP01_OVERRIDE_INGRESS_CLASS: &str =
    "acme.cert-manager.io/http01-override-ingress-class";
pub const HTTP01_OVERRIDE_INGRESS_CLASS_NAME: &str =
    "acme.cert-manager.io/http01-override-ingress-ingressclassname";
pub const ISSUE_TEMPORARY_CERTIFICATE: &str = "cert-manager.io/issue-temporary-certificate";

/// RSA key sizes cert-manager accepts.
const RSA_KEY_SIZES: std::ops::RangeInclusive<i64> = 2048..=8192;
/// Longest common name (bytes), the X.509 upper bound.
const MAX_COMMON_NAME: usize = 64;

/// An annotation with a value cert-manager would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ingress annotation {}: {detail}", go_quote(annotation))]
pub struct InvalidAnnotation {
    pub annotation: &'static str,
    pub detail: String,
}

fn invalid(annotation: &'static str, detail: impl Into<String>) -> InvalidAnnotation {
    InvalidAnnotation {
        annotation,
        detail: detail.into(),
    }
}

/// Sets the fields of `spec` the annotations ask for (`dnsNames` and `ipAddresses` are added
/// to, everything else replaced), in cert-manager's order so the first bad value is the one
/// reported.
pub fn apply_to_spec(
    spec: &mut CertificateSpec,
    annotations: &BTreeMap<String, String>,
) -> Result<(), InvalidAnnotation> {
    let get = |key: &str| annotations.get(key).map(String::as_str);

    if let Some(cn) = get(COMMON_NAME) {
        if cn.len() > MAX_COMMON_NAME {
            return Err(invalid(
                COMMON_NAME,
                "common name may not be more than 64 bytes",
            ));
        }
        spec.common_name = Some(cn.to_owned());
    }
    if let Some(names) = get(ALT_NAMES).filter(|v| !v.is_empty()) {
        let dns = spec.dns_names.get_or_insert_with(Vec::new);
        dns.extend(names.split(',').map(str::to_owned));
    }
    if let Some(ips) = get(IP_SANS).filter(|v| !v.is_empty()) {
        let parsed = ips
            .split(',')
            .map(str::trim)
            .map(|ip| match ip.parse::<IpAddr>() {
                Ok(_) => Ok(ip.to_owned()),
                Err(_) => Err(invalid(
                    IP_SANS,
                    format!("{} is not a valid IP address", go_quote(ip)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        spec.ip_addresses
            .get_or_insert_with(Vec::new)
            .extend(parsed);
    }
    if let Some(emails) = get(EMAIL_SANS).filter(|v| !v.is_empty()) {
        let parsed = emails
            .split(',')
            .map(str::trim)
            .map(|e| check_email(e).map(|()| e.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        spec.email_addresses = Some(parsed);
    }
    apply_subject(spec, annotations)?;
    if let Some(d) = get(DURATION) {
        let d = parse_duration(DURATION, d)?;
        if d < MINIMUM_CERTIFICATE_DURATION {
            return Err(invalid(
                DURATION,
                format!("duration must be greater than or equal to {MINIMUM_CERTIFICATE_DURATION}"),
            ));
        }
        spec.duration = Some(Duration::from_go(d));
    }
    if let Some(d) = get(RENEW_BEFORE) {
        let d = parse_duration(RENEW_BEFORE, d)?;
        if d < MINIMUM_RENEW_BEFORE {
            return Err(invalid(
                RENEW_BEFORE,
                format!("renewBefore must be greater than or equal to {MINIMUM_RENEW_BEFORE}"),
            ));
        }
        spec.renew_before = Some(Duration::from_go(d));
    }
    if let Some(p) = get(RENEW_BEFORE_PERCENTAGE) {
        let p = parse_int(p, 32, "ParseInt").map_err(|e| invalid(RENEW_BEFORE_PERCENTAGE, e))?;
        spec.renew_before_percentage = Some(p as i32);
    }
    if let Some(usages) = get(USAGES) {
        spec.usages = Some(parse_usages(usages)?);
    }
    if let Some(limit) = get(REVISION_HISTORY_LIMIT) {
        let n = parse_int(limit, 32, "ParseInt").map_err(|e| invalid(REVISION_HISTORY_LIMIT, e))?;
        if n < 1 {
            return Err(invalid(
                REVISION_HISTORY_LIMIT,
                format!(
                    "revision history limit must be a positive number {}",
                    go_quote(limit)
                ),
            ));
        }
        spec.revision_history_limit = Some(n as i32);
    }
    apply_private_key(spec, annotations)?;
    if let Some(json) = get(SECRET_TEMPLATE)
        && let Some(template) = parse_secret_template(json)?
    {
        spec.secret_template = Some(template);
    }
    Ok(())
}

/// The `subject-*` annotations: comma-separated (CSV-quoted) lists, the serial number as is.
fn apply_subject(
    spec: &mut CertificateSpec,
    annotations: &BTreeMap<String, String>,
) -> Result<(), InvalidAnnotation> {
    let list = |key: &'static str| -> Result<Option<Vec<String>>, InvalidAnnotation> {
        annotations
            .get(key)
            .map(|v| csv::split(v).map_err(|e| invalid(key, e)))
            .transpose()
    };
    let subject = X509Subject {
        organizations: list(SUBJECT_ORGANIZATIONS)?,
        organizational_units: list(SUBJECT_ORGANIZATIONAL_UNITS)?,
        countries: list(SUBJECT_COUNTRIES)?,
        provinces: list(SUBJECT_PROVINCES)?,
        localities: list(SUBJECT_LOCALITIES)?,
        postal_codes: list(SUBJECT_POSTAL_CODES)?,
        street_addresses: list(SUBJECT_STREET_ADDRESSES)?,
        serial_number: annotations.get(SUBJECT_SERIAL_NUMBER).cloned(),
    };
    if subject != X509Subject::default() {
        spec.subject = Some(subject);
    }
    Ok(())
}

/// The `private-key-*` annotations; the size is checked against the algorithm (RSA when none).
fn apply_private_key(
    spec: &mut CertificateSpec,
    annotations: &BTreeMap<String, String>,
) -> Result<(), InvalidAnnotation> {
    let get = |key: &str| annotations.get(key).map(String::as_str);
    if let Some(alg) = get(PRIVATE_KEY_ALGORITHM) {
        let alg = PrivateKeyAlgorithm::from(alg);
        if !alg.is_known() {
            return Err(invalid(
                PRIVATE_KEY_ALGORITHM,
                format!("invalid private key algorithm {}", go_quote(alg.as_str())),
            ));
        }
        private_key(spec).algorithm = Some(alg);
    }
    if let Some(enc) = get(PRIVATE_KEY_ENCODING) {
        let enc = PrivateKeyEncoding::from(enc);
        if !enc.is_known() {
            return Err(invalid(
                PRIVATE_KEY_ENCODING,
                format!("invalid private key encoding {}", go_quote(enc.as_str())),
            ));
        }
        private_key(spec).encoding = Some(enc);
    }
    if let Some(size_text) = get(PRIVATE_KEY_SIZE) {
        let size = parse_int(size_text, 64, "Atoi").map_err(|e| invalid(PRIVATE_KEY_SIZE, e))?;
        let alg = spec
            .private_key
            .as_ref()
            .and_then(|k| k.algorithm.clone())
            .filter(|a| !a.as_str().is_empty())
            .unwrap_or(PrivateKeyAlgorithm::Rsa);
        let ok = match alg {
            PrivateKeyAlgorithm::Rsa => RSA_KEY_SIZES.contains(&size),
            PrivateKeyAlgorithm::Ecdsa => matches!(size, 256 | 384 | 521),
            _ => true,
        };
        if !ok {
            return Err(invalid(
                PRIVATE_KEY_SIZE,
                format!(
                    "invalid private key size for {} algorithm {}",
                    alg.as_str(),
                    go_quote(size_text)
                ),
            ));
        }
        private_key(spec).size = Some(size);
    }
    if let Some(policy) = get(PRIVATE_KEY_ROTATION_POLICY) {
        let policy = PrivateKeyRotationPolicy::from(policy);
        if !policy.is_known() {
            return Err(invalid(
                PRIVATE_KEY_ROTATION_POLICY,
                format!(
                    "invalid private key rotation policy {}",
                    go_quote(policy.as_str())
                ),
            ));
        }
        private_key(spec).rotation_policy = Some(policy);
    }
    Ok(())
}

fn private_key(spec: &mut CertificateSpec) -> &mut CertificatePrivateKey {
    spec.private_key.get_or_insert_with(Default::default)
}

fn parse_duration(annotation: &'static str, value: &str) -> Result<GoDuration, InvalidAnnotation> {
    GoDuration::parse(value).map_err(|e| invalid(annotation, e.to_string()))
}

/// Comma-separated key usage names; spaces around each name are ignored.
fn parse_usages(value: &str) -> Result<Vec<KeyUsage>, InvalidAnnotation> {
    value
        .split(',')
        .map(|name| {
            let usage = KeyUsage::from(name.trim_matches(' '));
            if usage.is_known() {
                Ok(usage)
            } else {
                Err(invalid(
                    USAGES,
                    format!("invalid key usage name {}", go_quote(name)),
                ))
            }
        })
        .collect()
}

/// A base-10 integer of 32 or 64 bits as Go's `strconv` reads it (optional sign, digits only),
/// with Go's error text (`func` is `ParseInt` or `Atoi`, as cert-manager calls them).
fn parse_int(s: &str, bits: u32, func: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.{func}: parsing {}: invalid syntax",
            go_quote(s)
        ));
    }
    let out_of_range = || {
        format!(
            "strconv.{func}: parsing {}: value out of range",
            go_quote(s)
        )
    };
    let n: i64 = s.parse().map_err(|_| out_of_range())?;
    if bits == 32 && i32::try_from(n).is_err() {
        return Err(out_of_range());
    }
    Ok(n)
}

/// An email SAN must be a bare address (`Name <a@b>` forms are refused), as the webhook checks.
fn check_email(email: &str) -> Result<(), InvalidAnnotation> {
    // The webhook's parser (Go's net/mail port in the api crate) judges it, via the field
    // errors it reports for `emailAddresses`.
    let spec = CertificateSpec {
        secret_name: "x".into(),
        email_addresses: Some(vec![email.to_owned()]),
        ..Default::default()
    };
    let path = api::field::Path::new("spec");
    let errors = api::validation::validate_certificate_spec(
        &spec,
        &path,
        &api::validation::ValidationGates::default(),
    );
    let field = "spec.emailAddresses[0]";
    match errors.iter().find(|e| e.field == field) {
        None => Ok(()),
        Some(e) if e.detail.contains("only contains the email address") => Err(invalid(
            EMAIL_SANS,
            format!(
                "{} must only contain the email address itself",
                go_quote(email)
            ),
        )),
        Some(_) => Err(invalid(
            EMAIL_SANS,
            format!("{} is not a valid email address", go_quote(email)),
        )),
    }
}

/// The Secret labels and annotations, as JSON (`{"labels":{...},"annotations":{...}}`); unknown
/// fields and `cert-manager.io/` annotations are refused. `None` when it sets nothing.
fn parse_secret_template(
    json: &str,
) -> Result<Option<CertificateSecretTemplate>, InvalidAnnotation> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Template {
        #[serde(default)]
        annotations: Option<BTreeMap<String, String>>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
    }
    let bad = |e: String| {
        invalid(
            SECRET_TEMPLATE,
            format!("error parsing secret template JSON: {e}"),
        )
    };
    // Go's decoder reads the first JSON value and ignores what follows it.
    let first = serde_json::Deserializer::from_str(json)
        .into_iter::<Option<Template>>()
        .next()
        .ok_or_else(|| bad("EOF".into()))?
        .map_err(|e| bad(e.to_string()))?;
    let Some(t) = first else {
        return Ok(None);
    };
    if let Some(key) = t
        .annotations
        .iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| k.starts_with("cert-manager.io/"))
    {
        return Err(invalid(
            SECRET_TEMPLATE,
            format!(
                "secretTemplate must not have cert-manager.io/ annotations: {}",
                go_quote(key)
            ),
        ));
    }
    let annotations = t.annotations.filter(|m| !m.is_empty());
    let labels = t.labels.filter(|m| !m.is_empty());
    if annotations.is_none() && labels.is_none() {
        return Ok(None);
    }
    Ok(Some(CertificateSecretTemplate {
        annotations,
        labels,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_from(pairs: &[(&str, &str)]) -> Result<CertificateSpec, InvalidAnnotation> {
        let annotations = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut spec = CertificateSpec {
            dns_names: Some(vec!["host.example".into()]),
            ..Default::default()
        };
        apply_to_spec(&mut spec, &annotations).map(|()| spec)
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        spec_from(pairs).unwrap_err().to_string()
    }

    #[test]
    fn maps_every_annotation_to_its_field() {
        let spec = spec_from(&[
            (COMMON_NAME, "cn.example"),
            (ALT_NAMES, "a.example,b.example"),
            (IP_SANS, "10.0.0.1, ::1"),
            (EMAIL_SANS, "ops@example.com, sec@example.com"),
            (SUBJECT_ORGANIZATIONS, "\"Acme, Inc\",Other"),
            (SUBJECT_COUNTRIES, "GB"),
            (SUBJECT_SERIAL_NUMBER, "42"),
            (DURATION, "2160h"),
            (RENEW_BEFORE, "360h"),
            (USAGES, "digital signature, server auth"),
            (REVISION_HISTORY_LIMIT, "3"),
            (PRIVATE_KEY_ALGORITHM, "ECDSA"),
            (PRIVATE_KEY_ENCODING, "PKCS8"),
            (PRIVATE_KEY_SIZE, "384"),
            (PRIVATE_KEY_ROTATION_POLICY, "Never"),
            (SECRET_TEMPLATE, r#"{"labels":{"team":"a"}}"#),
        ])
        .unwrap();
        assert_eq!(spec.common_name.as_deref(), Some("cn.example"));
        assert_eq!(
            spec.dns_names.unwrap(),
            ["host.example", "a.example", "b.example"]
        );
        assert_eq!(spec.ip_addresses.unwrap(), ["10.0.0.1", "::1"]);
        assert_eq!(
            spec.email_addresses.unwrap(),
            ["ops@example.com", "sec@example.com"]
        );
        let subject = spec.subject.unwrap();
        assert_eq!(subject.organizations.unwrap(), ["Acme, Inc", "Other"]);
        assert_eq!(subject.countries.unwrap(), ["GB"]);
        assert_eq!(subject.serial_number.as_deref(), Some("42"));
        assert_eq!(subject.localities, None);
        // Written as Go's JSON encoder writes a metav1.Duration.
        assert_eq!(spec.duration.unwrap().as_str(), "2160h0m0s");
        assert_eq!(spec.renew_before.unwrap().as_str(), "360h0m0s");
        assert_eq!(
            spec.usages.unwrap(),
            [KeyUsage::DigitalSignature, KeyUsage::ServerAuth]
        );
        assert_eq!(spec.revision_history_limit, Some(3));
        let key = spec.private_key.unwrap();
        assert_eq!(key.algorithm, Some(PrivateKeyAlgorithm::Ecdsa));
        assert_eq!(key.encoding, Some(PrivateKeyEncoding::Pkcs8));
        assert_eq!(key.size, Some(384));
        assert_eq!(key.rotation_policy, Some(PrivateKeyRotationPolicy::Never));
        let template = spec.secret_template.unwrap();
        assert_eq!(template.labels.unwrap()["team"], "a");
        assert_eq!(template.annotations, None);
    }

    #[test]
    fn no_annotations_change_nothing() {
        let spec = spec_from(&[]).unwrap();
        assert_eq!(
            spec,
            CertificateSpec {
                dns_names: Some(vec!["host.example".into()]),
                ..Default::default()
            }
        );
        let spec = spec_from(&[(ALT_NAMES, ""), (IP_SANS, ""), (EMAIL_SANS, "")]).unwrap();
        assert_eq!(spec.dns_names.unwrap(), ["host.example"]);
        assert_eq!(spec.ip_addresses, None);
        assert_eq!(spec.email_addresses, None);
    }

    #[test]
    fn renew_before_percentage_and_ed25519_sizes() {
        let spec = spec_from(&[
            (RENEW_BEFORE_PERCENTAGE, "25"),
            (PRIVATE_KEY_ALGORITHM, "Ed25519"),
            (PRIVATE_KEY_SIZE, "1"),
        ])
        .unwrap();
        assert_eq!(spec.renew_before_percentage, Some(25));
        assert_eq!(
            spec.private_key.unwrap().size,
            Some(1),
            "size is free for Ed25519"
        );
    }

    #[test]
    fn bad_values_name_the_annotation() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[(DURATION, "banana")],
                r#"invalid ingress annotation "cert-manager.io/duration": time: invalid duration "banana""#,
            ),
            (
                &[(DURATION, "30m")],
                r#"invalid ingress annotation "cert-manager.io/duration": duration must be greater than or equal to 1h0m0s"#,
            ),
            (
                &[(RENEW_BEFORE, "1m")],
                r#"invalid ingress annotation "cert-manager.io/renew-before": renewBefore must be greater than or equal to 5m0s"#,
            ),
            (
                &[(RENEW_BEFORE_PERCENTAGE, "ten")],
                r#"invalid ingress annotation "cert-manager.io/renew-before-percentage": strconv.ParseInt: parsing "ten": invalid syntax"#,
            ),
            (
                &[(REVISION_HISTORY_LIMIT, "0")],
                r#"invalid ingress annotation "cert-manager.io/revision-history-limit": revision history limit must be a positive number "0""#,
            ),
            (
                &[(REVISION_HISTORY_LIMIT, "99999999999")],
                r#"invalid ingress annotation "cert-manager.io/revision-history-limit": strconv.ParseInt: parsing "99999999999": value out of range"#,
            ),
            (
                &[(USAGES, "digital signature,flying")],
                r#"invalid ingress annotation "cert-manager.io/usages": invalid key usage name "flying""#,
            ),
            (
                &[(PRIVATE_KEY_ALGORITHM, "DSA")],
                r#"invalid ingress annotation "cert-manager.io/private-key-algorithm": invalid private key algorithm "DSA""#,
            ),
            (
                &[(PRIVATE_KEY_ENCODING, "DER")],
                r#"invalid ingress annotation "cert-manager.io/private-key-encoding": invalid private key encoding "DER""#,
            ),
            (
                &[(PRIVATE_KEY_SIZE, "1024")],
                r#"invalid ingress annotation "cert-manager.io/private-key-size": invalid private key size for RSA algorithm "1024""#,
            ),
            (
                &[(PRIVATE_KEY_ALGORITHM, "ECDSA"), (PRIVATE_KEY_SIZE, "2048")],
                r#"invalid ingress annotation "cert-manager.io/private-key-size": invalid private key size for ECDSA algorithm "2048""#,
            ),
            (
                &[(PRIVATE_KEY_SIZE, "big")],
                r#"invalid ingress annotation "cert-manager.io/private-key-size": strconv.Atoi: parsing "big": invalid syntax"#,
            ),
            (
                &[(PRIVATE_KEY_ROTATION_POLICY, "Sometimes")],
                r#"invalid ingress annotation "cert-manager.io/private-key-rotation-policy": invalid private key rotation policy "Sometimes""#,
            ),
            (
                &[(IP_SANS, "10.0.0.1,not-an-ip")],
                r#"invalid ingress annotation "cert-manager.io/ip-sans": "not-an-ip" is not a valid IP address"#,
            ),
            (
                &[(EMAIL_SANS, "not-an-email")],
                r#"invalid ingress annotation "cert-manager.io/email-sans": "not-an-email" is not a valid email address"#,
            ),
            (
                &[(EMAIL_SANS, "Ops <ops@example.com>")],
                r#"invalid ingress annotation "cert-manager.io/email-sans": "Ops <ops@example.com>" must only contain the email address itself"#,
            ),
            (
                &[(SUBJECT_ORGANIZATIONAL_UNITS, "")],
                r#"invalid ingress annotation "cert-manager.io/subject-organizationalunits": no values found after parsing """#,
            ),
            (
                &[(SECRET_TEMPLATE, r#"{"labels":{},"colour":"red"}"#)],
                "invalid ingress annotation \"cert-manager.io/secret-template\": error parsing secret template JSON: unknown field `colour`, expected `annotations` or `labels` at line 1 column 21",
            ),
            (
                &[(
                    SECRET_TEMPLATE,
                    r#"{"annotations":{"cert-manager.io/x":"y"}}"#,
                )],
                r#"invalid ingress annotation "cert-manager.io/secret-template": secretTemplate must not have cert-manager.io/ annotations: "cert-manager.io/x""#,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(&error(pairs), want, "{pairs:?}");
        }
        let long = "a".repeat(65);
        assert_eq!(
            error(&[(COMMON_NAME, &long)]),
            r#"invalid ingress annotation "cert-manager.io/common-name": common name may not be more than 64 bytes"#
        );
    }

    #[test]
    fn go_integer_syntax() {
        assert_eq!(parse_int("+7", 32, "ParseInt"), Ok(7));
        assert_eq!(parse_int("-7", 32, "ParseInt"), Ok(-7));
        assert_eq!(parse_int("2147483647", 32, "ParseInt"), Ok(i32::MAX.into()));
        assert!(parse_int("2147483648", 32, "ParseInt").is_err());
        assert!(parse_int(" 7", 32, "ParseInt").is_err());
        assert!(parse_int("7_0", 32, "ParseInt").is_err());
        assert!(parse_int("", 64, "Atoi").is_err());
    }
}

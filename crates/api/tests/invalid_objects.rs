//! A table of invalid objects and the exact messages cert-manager v1.21's webhook gives for
//! them (field paths, error types and details as apimachinery formats them).

use api::field::go_quote;
use api::validation::{self, ValidationGates};
use k8s_openapi::ByteString;
use k8s_openapi::api::authentication::v1::UserInfo;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::{Value, json};

/// RFC 7386 merge patch: objects merge, `null` deletes, anything else replaces.
fn merge(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            let mut out = b.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = merge(b.get(k).unwrap_or(&Value::Null), v);
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, p) => p.clone(),
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: Value) -> T {
    api::decode::from_value(v).unwrap_or_else(|e| panic!("test object does not decode: {e}"))
}

fn base_certificate() -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"secretName": "tls", "dnsNames": ["example.com"], "issuerRef": {"name": "ca"}},
    })
}

fn certificate_with(spec_patch: Value, gates: ValidationGates) -> Vec<String> {
    let obj: api::Certificate = decode(merge(&base_certificate(), &json!({ "spec": spec_patch })));
    validation::validate_certificate(&obj, &gates)
        .errors
        .messages()
}

fn certificate(spec_patch: Value) -> Vec<String> {
    certificate_with(spec_patch, ValidationGates::default())
}

fn issuer(spec: Value) -> Vec<String> {
    let obj: api::Issuer = decode(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "i", "namespace": "ns"},
        "spec": spec,
    }));
    validation::validate_issuer(&obj).errors.messages()
}

fn acme(acme_patch: Value) -> Vec<String> {
    let base = json!({
        "server": "https://acme.example.com/directory",
        "privateKeySecretRef": {"name": "account"},
    });
    issuer(json!({ "acme": merge(&base, &acme_patch) }))
}

fn solver(solver: Value) -> Vec<String> {
    acme(json!({ "solvers": [solver] }))
}

fn vault(vault_patch: Value) -> Vec<String> {
    let base = json!({
        "server": "https://vault.example.com",
        "path": "pki/sign/role",
        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
    });
    issuer(json!({ "vault": merge(&base, &vault_patch) }))
}

fn csr_pem(is_ca: Option<bool>, ku: &[KeyUsagePurpose], eku: &[ExtendedKeyUsagePurpose]) -> String {
    let mut params = CertificateParams::new(vec!["example.com".to_owned()]).unwrap();
    params.is_ca = match is_ca {
        Some(true) => IsCa::Ca(BasicConstraints::Unconstrained),
        Some(false) => IsCa::ExplicitNoCa,
        None => IsCa::NoCa,
    };
    params.key_usages = ku.to_vec();
    params.extended_key_usages = eku.to_vec();
    let key = KeyPair::generate().unwrap();
    params.serialize_request(&key).unwrap().pem().unwrap()
}

fn request_value(pem: &str) -> Value {
    serde_json::to_value(ByteString(pem.as_bytes().to_vec())).unwrap()
}

fn base_request(pem: &str) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "CertificateRequest",
        "metadata": {"name": "cr", "namespace": "ns"},
        "spec": {"request": request_value(pem), "issuerRef": {"name": "ca"}},
    })
}

fn request_with(pem: &str, patch: Value) -> Vec<String> {
    let obj: api::CertificateRequest = decode(merge(&base_request(pem), &patch));
    validation::validate_certificate_request(&obj)
        .errors
        .messages()
}

fn request_update(pem: &str, old_patch: Value, new_patch: Value) -> Vec<String> {
    let old: api::CertificateRequest = decode(merge(&base_request(pem), &old_patch));
    let new: api::CertificateRequest = decode(merge(&base_request(pem), &new_patch));
    validation::validate_certificate_request_update(&old, &new)
        .errors
        .messages()
}

/// What cert-manager shows as the bad value of `spec.request`: at most 100 bytes.
fn shown_request(pem: &str) -> String {
    if pem.len() <= 100 {
        go_quote(pem)
    } else {
        go_quote(&format!("{}...", &pem[..97]))
    }
}

fn condition(t: &str, status: &str) -> Value {
    json!({"type": t, "status": status, "reason": "r", "message": "m"})
}

const DNS1123: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn cases() -> Vec<(&'static str, Vec<String>, Vec<String>)> {
    let no_gates = ValidationGates {
        literal_certificate_subject: false,
        name_constraints: false,
        other_names: false,
    };
    let ecdsa_ds_ke = csr_pem(
        None,
        &[
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
        &[ExtendedKeyUsagePurpose::ServerAuth],
    );
    let plain = csr_pem(None, &[], &[]);
    let ca_csr = csr_pem(Some(true), &[], &[]);
    let ds_only = csr_pem(None, &[KeyUsagePurpose::DigitalSignature], &[]);
    let bad_signature = {
        let block = pem::parse(&plain).unwrap();
        let mut der = block.contents().to_vec();
        let last = der.len() - 1;
        der[last] ^= 0xff;
        pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der))
    };

    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|m| (*m).to_owned()).collect() };

    vec![
        // ---- Certificate ----
        (
            "secretName missing",
            certificate(json!({"secretName": null})),
            s(&["spec.secretName: Required value: must be specified"]),
        ),
        (
            "secretName not a DNS subdomain",
            certificate(json!({"secretName": "Bad_Name"})),
            vec![format!(
                "spec.secretName: Invalid value: \"Bad_Name\": {DNS1123}"
            )],
        ),
        (
            "issuerRef.name missing",
            certificate(json!({"issuerRef": {"name": null}})),
            s(&["spec.issuerRef.name: Required value: must be specified"]),
        ),
        (
            "external kind without group",
            certificate(json!({"issuerRef": {"kind": "AWSPCAClusterIssuer"}})),
            s(&[
                "spec.issuerRef.kind: Invalid value: \"AWSPCAClusterIssuer\": must be one of Issuer or ClusterIssuer (did you forget to set spec.issuerRef.kind.group?)",
            ]),
        ),
        (
            "unknown kind in cert-manager.io",
            certificate(json!({"issuerRef": {"kind": "Foo", "group": "cert-manager.io"}})),
            s(&[
                "spec.issuerRef.kind: Invalid value: \"Foo\": must be one of Issuer or ClusterIssuer",
            ]),
        ),
        (
            "no identity at all",
            certificate(json!({"dnsNames": null})),
            s(&[
                "spec: Invalid value: \"\": at least one of commonName (from the commonName field or from a literalSubject), dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set",
            ]),
        ),
        (
            "commonName longer than 64 bytes",
            certificate(json!({"commonName": "a".repeat(65)})),
            s(&["spec.commonName: Too long: may not be more than 64 bytes"]),
        ),
        (
            "literalSubject with commonName",
            certificate(json!({"literalSubject": "CN=bar", "commonName": "foo"})),
            s(&[
                "spec.commonName: Invalid value: \"foo\": When providing a `LiteralSubject` no `commonName` may be provided.",
            ]),
        ),
        (
            "literalSubject with subject",
            certificate(
                json!({"literalSubject": "CN=bar", "subject": {"organizations": ["Acme"]}}),
            ),
            s(&[
                "spec.subject: Invalid value: {\"Organizations\":[\"Acme\"],\"Countries\":null,\"OrganizationalUnits\":null,\"Localities\":null,\"Provinces\":null,\"StreetAddresses\":null,\"PostalCodes\":null,\"SerialNumber\":\"\"}: When providing a `LiteralSubject` no `Subject` properties may be provided.",
            ]),
        ),
        (
            "literalSubject without its gate",
            certificate_with(json!({"literalSubject": "CN=foo"}), no_gates),
            s(&[
                "spec.literalSubject: Forbidden: Feature gate LiteralCertificateSubject must be enabled on both webhook and controller to use the alpha `literalSubject` field",
            ]),
        ),
        (
            "literalSubject does not parse",
            certificate(json!({"literalSubject": "CN"})),
            s(&[
                "spec.literalSubject: Invalid value: \"CN\": DN ended with incomplete type, value pair",
            ]),
        ),
        (
            "literalSubject unknown attribute",
            certificate(json!({"literalSubject": "cn=foo,CN=bar"})),
            s(&[
                "spec.literalSubject: Invalid value: \"cn=foo,CN=bar\": Literal subject contains unrecognized key with value [foo]",
            ]),
        ),
        (
            "literalSubject CN only counts as identity",
            certificate(json!({"literalSubject": "O=acme", "dnsNames": null})),
            s(&[
                "spec: Invalid value: \"\": at least one of commonName (from the commonName field or from a literalSubject), dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set",
            ]),
        ),
        (
            "bad IP address",
            certificate(json!({"ipAddresses": ["10.0.0.300"]})),
            s(&["spec.ipAddresses[0]: Invalid value: \"10.0.0.300\": invalid IP address"]),
        ),
        (
            "email without @",
            certificate(json!({"emailAddresses": ["not-an-email"]})),
            s(&[
                "spec.emailAddresses[0]: Invalid value: \"not-an-email\": invalid email address: mail: missing '@' or angle-addr",
            ]),
        ),
        (
            "email with display name",
            certificate(json!({"emailAddresses": ["Jane <jane@example.com>"]})),
            s(&[
                "spec.emailAddresses[0]: Invalid value: \"Jane <jane@example.com>\": invalid email address: make sure the supplied value only contains the email address itself",
            ]),
        ),
        (
            "otherNames without its gate",
            certificate_with(
                json!({"otherNames": [{"oid": "1.2.3", "utf8Value": "x"}]}),
                no_gates,
            ),
            s(&[
                "spec.OtherNames: Forbidden: Feature gate OtherNames must be enabled on both webhook and controller to use the alpha `otherNames` field",
            ]),
        ),
        (
            "otherName empty",
            certificate(json!({"otherNames": [{}]})),
            s(&[
                "spec.otherNames[0].oid: Required value: must be specified",
                "spec.otherNames[0].oid: Invalid value: \"\": invalid oid syntax",
                "spec.otherNames[0].utf8Value: Required value: must be set to a valid non-empty UTF8 string",
            ]),
        ),
        (
            "otherName bad oid",
            certificate(json!({"otherNames": [{"oid": "1.2.x", "utf8Value": "v"}]})),
            s(&["spec.otherNames[0].oid: Invalid value: \"1.2.x\": invalid oid syntax"]),
        ),
        (
            "RSA key too small",
            certificate(json!({"privateKey": {"size": 1000}})),
            s(&[
                "spec.privateKey.size: Invalid value: 1000: must be between 2048 and 8192 for rsa keyAlgorithm",
            ]),
        ),
        (
            "RSA key too large",
            certificate(json!({"privateKey": {"algorithm": "RSA", "size": 16384}})),
            s(&[
                "spec.privateKey.size: Invalid value: 16384: must be between 2048 and 8192 for rsa keyAlgorithm",
            ]),
        ),
        (
            "ECDSA size not a curve",
            certificate(json!({"privateKey": {"algorithm": "ECDSA", "size": 255}})),
            s(&[
                "spec.privateKey.size: Unsupported value: 255: supported values: \"256\", \"384\", \"521\"",
            ]),
        ),
        (
            "unknown key algorithm",
            certificate(json!({"privateKey": {"algorithm": "DSA"}})),
            s(&[
                "spec.privateKey.algorithm: Invalid value: \"DSA\": must be either empty or one of rsa, ecdsa or ed25519",
            ]),
        ),
        (
            "ECDSA signature for an RSA key",
            certificate(json!({"signatureAlgorithm": "ECDSAWithSHA256"})),
            s(&[
                "spec.signatureAlgorithm: Invalid value: \"ECDSAWithSHA256\": for key algorithm RSA the allowed signature algorithms are [SHA256WithRSA SHA384WithRSA SHA512WithRSA]",
            ]),
        ),
        (
            "RSA signature for an Ed25519 key",
            certificate(
                json!({"privateKey": {"algorithm": "Ed25519"}, "signatureAlgorithm": "SHA256WithRSA"}),
            ),
            s(&[
                "spec.signatureAlgorithm: Invalid value: \"SHA256WithRSA\": for key algorithm Ed25519 the allowed signature algorithms are [PureEd25519]",
            ]),
        ),
        (
            "duration under an hour",
            certificate(json!({"duration": "30m"})),
            s(&[
                "spec.duration: Invalid value: 1800000000000: certificate duration must be greater than 1h0m0s",
            ]),
        ),
        (
            "duration not a Go duration",
            certificate(json!({"duration": "90d"})),
            s(&[
                "spec.duration: Invalid value: \"90d\": time: unknown unit \"d\" in duration \"90d\"",
            ]),
        ),
        (
            "renewBefore under 5 minutes",
            certificate(json!({"renewBefore": "1m"})),
            s(&[
                "spec.renewBefore: Invalid value: 60000000000: certificate renewBefore must be greater than 5m0s",
            ]),
        ),
        (
            "renewBefore not below duration",
            certificate(json!({"duration": "2h", "renewBefore": "3h"})),
            s(&[
                "spec.renewBefore: Invalid value: 10800000000000: certificate duration 2h0m0s must be greater than renewBefore 3h0m0s",
            ]),
        ),
        (
            "renewBefore and percentage",
            certificate(json!({"renewBefore": "1h", "renewBeforePercentage": 20})),
            s(&[
                "spec.renewBefore: Invalid value: 3600000000000: renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set",
                "spec.renewBeforePercentage: Invalid value: 20: renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set",
            ]),
        ),
        (
            "percentage leaves under 5 minutes",
            certificate(json!({"duration": "1h", "renewBeforePercentage": 100})),
            s(&[
                "spec.renewBeforePercentage: Invalid value: 100: certificate renewBeforePercentage must result in a renewBefore greater than 5m0s",
            ]),
        ),
        (
            "percentage not below duration",
            certificate(json!({"duration": "24h", "renewBeforePercentage": 0})),
            s(&[
                "spec.renewBeforePercentage: Invalid value: 0: certificate renewBeforePercentage must result in a renewBefore less than duration",
            ]),
        ),
        (
            "unknown usage",
            certificate(json!({"usages": ["digital signature", "foo"]})),
            s(&["spec.usages[1]: Invalid value: \"foo\": unknown keyusage"]),
        ),
        (
            "revisionHistoryLimit zero",
            certificate(json!({"revisionHistoryLimit": 0})),
            s(&["spec.revisionHistoryLimit: Invalid value: 0: must not be less than 1"]),
        ),
        (
            "secretTemplate cert-manager annotation",
            certificate(
                json!({"secretTemplate": {"annotations": {"cert-manager.io/issuer-name": "x"}}}),
            ),
            s(&[
                "spec.secretTemplate.annotations: Invalid value: \"cert-manager.io/issuer-name\": cert-manager.io/* annotations are not allowed",
            ]),
        ),
        (
            "secretTemplate bad label key",
            certificate(json!({"secretTemplate": {"labels": {"bad key!": "v"}}})),
            s(&[
                "spec.secretTemplate.labels: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ]),
        ),
        (
            "secretTemplate bad label value",
            certificate(json!({"secretTemplate": {"labels": {"ok": "-bad"}}})),
            s(&[
                "spec.secretTemplate.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ]),
        ),
        (
            "nameConstraints on a leaf",
            certificate(json!({"nameConstraints": {"permitted": {"dnsDomains": ["example.com"]}}})),
            s(&[
                "spec.nameConstraints: Invalid value: {\"Critical\":false,\"Permitted\":{\"DNSDomains\":[\"example.com\"],\"IPRanges\":null,\"EmailAddresses\":null,\"URIDomains\":null},\"Excluded\":null}: isCa should be true when nameConstraints is set",
            ]),
        ),
        (
            "nameConstraints without its gate",
            certificate_with(
                json!({"isCA": true, "nameConstraints": {"permitted": {"dnsDomains": ["example.com"]}}}),
                no_gates,
            ),
            s(&["spec.nameConstraints: Forbidden: feature gate NameConstraints must be enabled"]),
        ),
        (
            "nameConstraints empty",
            certificate(json!({"isCA": true, "nameConstraints": {}})),
            s(&[
                "spec.nameConstraints: Invalid value: {\"Critical\":false,\"Permitted\":null,\"Excluded\":null}: either permitted or excluded must be set",
            ]),
        ),
        (
            "duplicate output format",
            certificate(json!({"additionalOutputFormats": [{"type": "DER"}, {"type": "DER"}]})),
            s(&["spec.additionalOutputFormats[type]: Duplicate value: \"DER\""]),
        ),
        (
            "JKS password and reference",
            certificate(
                json!({"keystores": {"jks": {"create": true, "password": "x", "passwordSecretRef": {"name": "s", "key": "k"}}}}),
            ),
            s(&[
                "spec.keystores.jks: Forbidden: exactly one of passwordSecretRef and password must be provided for JKS keystores; cannot set both",
            ]),
        ),
        (
            "PKCS#12 without a password",
            certificate(json!({"keystores": {"pkcs12": {"create": true}}})),
            s(&[
                "spec.keystores.pkcs12: Forbidden: must set exactly one of passwordSecretRef and password must for PKCS#12 keystores",
            ]),
        ),
        (
            "JKS empty literal password",
            certificate(json!({"keystores": {"jks": {"create": true, "password": ""}}})),
            s(&[
                "spec.keystores.jks.password: Forbidden: literal password cannot be empty if set on JKS keystores",
            ]),
        ),
        (
            "unknown renewal policy",
            certificate(json!({"renewal": {"policy": "Sometimes"}})),
            s(&[
                "spec.renewal.policy: Unsupported value: \"Sometimes\": supported values: \"Disabled\", \"RenewBefore\"",
            ]),
        ),
        (
            "windows with renewal disabled",
            certificate(
                json!({"renewal": {"policy": "Disabled", "windows": [{"cron": "* * * * *", "windowDuration": "1h"}]}}),
            ),
            s(&[
                "spec.renewal.windows: Forbidden: windows cannot be set when `renewal.policy` is set to Disabled",
            ]),
        ),
        (
            "bad renewal window",
            certificate(
                json!({"renewal": {"policy": "RenewBefore", "windows": [{"cron": "* * *", "timezone": "Mars/Base"}]}}),
            ),
            s(&[
                "spec.renewal.windows[0].windowDuration: Required value: windowDuration must be specified and should be greater than 0",
                "spec.renewal.windows[0].timezone: Invalid value: \"Mars/Base\": invalid value for timezone. timezone must be IANA compliant",
                "spec.renewal.windows[0].cron: Invalid value: \"* * *\": invalid cron syntax: failed to parse cron spec '* * *': provided bad location Mars/Base: unknown time zone Mars/Base. cron needs to follow: cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow",
            ]),
        ),
        (
            "cron field out of range",
            certificate(
                json!({"renewal": {"policy": "RenewBefore", "windows": [{"cron": "0 24 * * *", "windowDuration": "1h"}]}}),
            ),
            s(&[
                "spec.renewal.windows[0].cron: Invalid value: \"0 24 * * *\": invalid cron syntax: failed to parse cron spec '0 24 * * *': end of range (24) above maximum (23): 24. cron needs to follow: cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow",
            ]),
        ),
        // ---- CertificateRequest ----
        (
            "request missing",
            request_with(&plain, json!({"spec": {"request": null}})),
            s(&["spec.request: Required value: must be specified"]),
        ),
        (
            "request is not PEM",
            request_with(
                &plain,
                json!({"spec": {"request": request_value("not a csr")}}),
            ),
            s(&[
                "spec.request: Invalid value: \"not a csr\": error decoding certificate request PEM block: no PEM data was found in given input",
            ]),
        ),
        (
            "request usages unknown",
            request_with(
                &plain,
                json!({"spec": {"usages": ["foo", "server auth", "bar"]}}),
            ),
            s(&[
                "spec.usages: Invalid value: [\"foo\",\"server auth\",\"bar\"]: unknown key usages: [foo bar]",
            ]),
        ),
        (
            "CSR is a CA, request is not",
            request_with(&ca_csr, json!({})),
            vec![format!(
                "spec.request: Invalid value: {}: encoded CSR error: IsCA true does not match expected value false",
                shown_request(&ca_csr)
            )],
        ),
        (
            "CSR key usages differ",
            request_with(&ds_only, json!({})),
            vec![format!(
                "spec.request: Invalid value: {}: encoded CSR error: the KeyUsages [ 'digital signature' ] do not match the expected KeyUsages [ 'digital signature', 'key encipherment' ]",
                shown_request(&ds_only)
            )],
        ),
        (
            "CSR extended key usages differ",
            request_with(
                &ecdsa_ds_ke,
                json!({"spec": {"usages": ["digital signature", "key encipherment", "client auth"]}}),
            ),
            vec![format!(
                "spec.request: Invalid value: {}: encoded CSR error: the ExtKeyUsages [ 'server auth' ] do not match the expected ExtKeyUsages [ 'client auth' ]",
                shown_request(&ecdsa_ds_ke)
            )],
        ),
        (
            "CSR signature broken",
            request_with(&bad_signature, json!({})),
            vec![format!(
                "spec.request: Invalid value: {}: x509: ECDSA verification failure",
                shown_request(&bad_signature)
            )],
        ),
        (
            "approved and denied",
            request_with(
                &plain,
                json!({"status": {"conditions": [condition("Approved", "True"), condition("Denied", "True")]}}),
            ),
            s(&[
                "status.conditions: Forbidden: both 'Denied' and 'Approved' conditions cannot coexist",
            ]),
        ),
        (
            "denied set to False",
            request_with(
                &plain,
                json!({"status": {"conditions": [condition("Denied", "False")]}}),
            ),
            s(&[
                "status.conditions.Denied: Invalid value: \"False\": \"Denied\" condition may only be set to True",
            ]),
        ),
        (
            "two Approved conditions",
            request_with(
                &plain,
                json!({"status": {"conditions": [condition("Approved", "True"), condition("Approved", "True")]}}),
            ),
            s(&["status.conditions: Forbidden: multiple \"Approved\" conditions present"]),
        ),
        (
            "spec changed on update",
            request_update(
                &plain,
                json!({}),
                json!({"spec": {"usages": ["server auth"]}}),
            ),
            s(&["spec: Forbidden: cannot change spec after creation"]),
        ),
        (
            "cert-manager annotation changed",
            request_update(
                &plain,
                json!({"metadata": {"annotations": {"cert-manager.io/certificate-name": "a"}}}),
                json!({"metadata": {"annotations": {"cert-manager.io/certificate-name": "b"}}}),
            ),
            s(&[
                "metadata.annotations.cert-manager.io/certificate-name: Forbidden: cannot change cert-manager annotation after creation",
                "metadata.annotations.cert-manager.io/certificate-name: Forbidden: cannot change cert-manager annotation after creation",
            ]),
        ),
        (
            "Approved condition removed",
            request_update(
                &plain,
                json!({"status": {"conditions": [condition("Approved", "True")]}}),
                json!({"status": {"conditions": []}}),
            ),
            s(
                &[
                    "status.conditions: Forbidden: 'Approved' condition may not be modified once set",
                ],
            ),
        ),
        (
            "Denied condition changed",
            request_update(
                &plain,
                json!({"status": {"conditions": [condition("Denied", "True")]}}),
                json!({"status": {"conditions": [{"type": "Denied", "status": "True", "reason": "other"}]}}),
            ),
            s(&["status.conditions: Forbidden: 'Denied' condition may not be modified once set"]),
        ),
        // ---- Issuer ----
        (
            "no issuer type",
            issuer(json!({})),
            s(&["spec: Required value: at least one issuer must be configured"]),
        ),
        (
            "two issuer types",
            issuer(json!({"ca": {"secretName": "ca"}, "selfSigned": {}})),
            s(&["spec.selfSigned: Forbidden: may not specify more than one issuer type"]),
        ),
        (
            "CA without secret",
            issuer(json!({"ca": {}})),
            s(&["spec.ca.secretName: Required value"]),
        ),
        (
            "CA empty OCSP URL",
            issuer(json!({"ca": {"secretName": "ca", "ocspServers": [""]}})),
            s(&[
                "spec.ca.ocspServer[0]: Invalid value: \"\": must be a valid URL, e.g., http://ocsp.int-x3.letsencrypt.org",
            ]),
        ),
        (
            "ACME without server and key",
            issuer(json!({"acme": {}})),
            s(&[
                "spec.acme.privateKeySecretRef.name: Required value: private key secret name is a required field",
                "spec.acme.server: Required value: acme server URL is a required field",
            ]),
        ),
        (
            "ACME caBundle with skipTLSVerify",
            acme(json!({"caBundle": "Z2FyYmFnZQ==", "skipTLSVerify": true})),
            s(&[
                "spec.acme.caBundle: Invalid value: \"\": caBundle and skipTLSVerify are mutually exclusive and cannot both be set",
                "spec.acme.skipTLSVerify: Invalid value: true: caBundle and skipTLSVerify are mutually exclusive and cannot both be set",
                "spec.acme.caBundle: Invalid value: \"\": cert bundle didn't contain any valid certificates",
            ]),
        ),
        (
            "EAB incomplete",
            acme(json!({"externalAccountBinding": {"keySecretRef": {"name": "eab"}}})),
            s(&[
                "spec.acme.externalAccountBinding.keyID: Required value: the keyID field is required when using externalAccountBinding",
                "spec.acme.externalAccountBinding.keySecretRef.key: Required value: secret key is required",
            ]),
        ),
        (
            "solver with two types",
            solver(
                json!({"http01": {"ingress": {}}, "dns01": {"webhook": {"groupName": "g", "solverName": "s"}}}),
            ),
            s(&[
                "spec.acme.solvers[0]: Forbidden: may not specify more than one solver type in a single solver",
            ]),
        ),
        (
            "solver with no type",
            solver(json!({})),
            s(&["spec.acme.solvers[0]: Required value: no solver type configured"]),
        ),
        (
            "negative self check wait",
            solver(json!({"http01": {"ingress": {}}, "waitInsteadOfSelfCheck": "-5s"})),
            s(&[
                "spec.acme.solvers[0].waitInsteadOfSelfCheck: Invalid value: -5000000000: waitInsteadOfSelfCheck must not be negative",
            ]),
        ),
        (
            "HTTP-01 without ingress or gateway",
            solver(json!({"http01": {}})),
            s(&["spec.acme.solvers[0].http01: Required value: no HTTP01 solver type configured"]),
        ),
        (
            "ingress class and ingressClassName",
            solver(json!({"http01": {"ingress": {"class": "nginx", "ingressClassName": "nginx"}}})),
            s(&[
                "spec.acme.solvers[0].http01.ingress: Forbidden: only one of 'ingressClassName', 'name' or 'class' should be specified",
            ]),
        ),
        (
            "ingressClassName not a name",
            solver(
                json!({"http01": {"ingress": {"ingressClassName": "azure/application-gateway"}}}),
            ),
            vec![format!(
                "spec.acme.solvers[0].http01.ingress.ingressClassName: Invalid value: \"azure/application-gateway\": must be a valid IngressClass name: {DNS1123}"
            )],
        ),
        (
            "ingress LoadBalancer service",
            solver(json!({"http01": {"ingress": {"serviceType": "LoadBalancer"}}})),
            s(&[
                "spec.acme.solvers[0].http01.ingress.serviceType: Invalid value: \"LoadBalancer\": must be empty, \"ClusterIP\" or \"NodePort\"",
            ]),
        ),
        (
            "gateway parentRef without kind",
            solver(json!({"http01": {"gatewayHTTPRoute": {"parentRefs": [{"name": "gw"}]}}})),
            s(&[
                "spec.acme.solvers[0].http01.gateway.parentRefs[0].kind: Required value: kind is required when name is specified",
            ]),
        ),
        (
            "DNS-01 without provider",
            solver(json!({"dns01": {}})),
            s(&["spec.acme.solvers[0].dns01: Required value: no DNS01 provider configured"]),
        ),
        (
            "DNS-01 two providers",
            solver(
                json!({"dns01": {"cloudflare": {"apiTokenSecretRef": {"name": "cf", "key": "t"}}, "route53": {}}}),
            ),
            s(&[
                "spec.acme.solvers[0].dns01.route53: Forbidden: may not specify more than one provider type",
            ]),
        ),
        (
            "unknown CNAME strategy",
            solver(
                json!({"dns01": {"cnameStrategy": "Sideways", "webhook": {"groupName": "g", "solverName": "s"}}}),
            ),
            s(&[
                "spec.acme.solvers[0].dns01.cnameStrategy: Invalid value: \"Sideways\": must be one of \"None\" or \"Follow\"",
            ]),
        ),
        (
            "RFC 2136 without nameserver",
            solver(json!({"dns01": {"rfc2136": {}}})),
            s(&["spec.acme.solvers[0].dns01.rfc2136.nameserver: Required value"]),
        ),
        (
            "RFC 2136 bad nameserver and algorithm",
            solver(json!({"dns01": {"rfc2136": {"nameserver": "[::1", "tsigAlgorithm": "md5"}}})),
            s(&[
                "spec.acme.solvers[0].dns01.rfc2136.nameserver: Invalid value: \"[::1\": nameserver must be set in the form host:port where host is an IPv4 address, an enclosed IPv6 address or a hostname and port is an optional port number.",
                "spec.acme.solvers[0].dns01.rfc2136.tsigAlgorithm: Unsupported value: \"\": supported values: \"HMACMD5\", \"HMACSHA1\", \"HMACSHA256\", \"HMACSHA512\"",
            ]),
        ),
        (
            "RFC 2136 key name without secret",
            solver(json!({"dns01": {"rfc2136": {"nameserver": "192.0.2.1", "tsigKeyName": "k"}}})),
            s(&[
                "spec.acme.solvers[0].dns01.rfc2136.tsigSecretSecretRef.name: Required value: secret name is required",
                "spec.acme.solvers[0].dns01.rfc2136.tsigSecretSecretRef.key: Required value: secret key is required",
            ]),
        ),
        (
            "RFC 2136 secret without key name",
            solver(
                json!({"dns01": {"rfc2136": {"nameserver": "192.0.2.1", "tsigSecretSecretRef": {"name": "tsig", "key": "secret"}}}}),
            ),
            s(&["spec.acme.solvers[0].dns01.rfc2136.tsigKeyName: Required value"]),
        ),
        (
            "Cloudflare without credentials",
            solver(json!({"dns01": {"cloudflare": {}}})),
            s(&[
                "spec.acme.solvers[0].dns01.cloudflare: Required value: apiKeySecretRef or apiTokenSecretRef is required",
            ]),
        ),
        (
            "Cloudflare API key without email",
            solver(
                json!({"dns01": {"cloudflare": {"apiKeySecretRef": {"name": "cf", "key": "k"}}}}),
            ),
            s(&["spec.acme.solvers[0].dns01.cloudflare.email: Required value"]),
        ),
        (
            "Route53 key ID twice",
            solver(
                json!({"dns01": {"route53": {"accessKeyID": "AKIA", "accessKeyIDSecretRef": {"name": "r53", "key": "id"}}}}),
            ),
            s(&[
                "spec.acme.solvers[0].dns01.route53: Required value: accessKeyID and accessKeyIDSecretRef cannot both be specified",
            ]),
        ),
        (
            "Azure partial service principal",
            solver(
                json!({"dns01": {"azureDNS": {"clientID": "c", "subscriptionID": "s", "resourceGroupName": "rg"}}}),
            ),
            s(&[
                "spec.acme.solvers[0].dns01.azureDNS.clientSecretSecretRef: Required value",
                "spec.acme.solvers[0].dns01.azureDNS.tenantID: Required value",
            ]),
        ),
        (
            "webhook without solver name",
            solver(json!({"dns01": {"webhook": {"groupName": "acme.example.com"}}})),
            s(&[
                "spec.acme.solvers[0].dns01.webhook.solverName: Required value: solver name must be specified",
            ]),
        ),
        (
            "Vault empty",
            issuer(json!({"vault": {}})),
            s(&[
                "spec.vault.server: Required value",
                "spec.vault.path: Required value",
                "spec.vault.auth: Required value: please supply one of: appRole, kubernetes, tokenSecretRef, clientCertificate, aws",
            ]),
        ),
        (
            "Vault path escapes",
            vault(json!({"path": "pki/../sys/raw"})),
            s(&[
                "spec.vault.path: Invalid value: \"pki/../sys/raw\": must not contain '..' path segments",
            ]),
        ),
        (
            "Vault client cert without key",
            vault(json!({"clientCertSecretRef": {"name": "c", "key": "tls.crt"}})),
            s(&[
                "spec.vault.clientKeySecretRef: Invalid value: \"<snip>\": clientKeySecretRef must be provided when defining the clientCertSecretRef",
            ]),
        ),
        (
            "Vault AppRole incomplete",
            vault(json!({"auth": {"tokenSecretRef": null, "appRole": {"path": "approle"}}})),
            s(&[
                "spec.vault.auth.appRole.roleId: Required value",
                "spec.vault.auth.appRole.secretRef.name: Required value",
            ]),
        ),
        (
            "Vault Kubernetes with both token sources",
            vault(
                json!({"auth": {"tokenSecretRef": null, "kubernetes": {"role": "r", "secretRef": {"name": "sa-token"}, "serviceAccountRef": {"name": "sa"}}}}),
            ),
            s(&[
                "spec.vault.auth.kubernetes: Forbidden: please supply one of: secretRef, serviceAccountRef",
            ]),
        ),
        (
            "Vault Kubernetes without role or source",
            vault(json!({"auth": {"tokenSecretRef": null, "kubernetes": {}}})),
            s(&[
                "spec.vault.auth.kubernetes.role: Required value",
                "spec.vault.auth.kubernetes: Required value: please supply one of: secretRef, serviceAccountRef",
            ]),
        ),
        (
            "Vault AWS IRSA without role ARN",
            vault(
                json!({"auth": {"tokenSecretRef": null, "aws": {"role": "r", "serviceAccountRef": {"name": "sa"}}}}),
            ),
            s(&[
                "spec.vault.auth.aws.iamRoleArn: Required value: iamRoleArn is required when using serviceAccountRef for IRSA",
            ]),
        ),
        (
            "Venafi without zone or connection",
            issuer(json!({"venafi": {}})),
            s(&[
                "spec.venafi.zone: Required value",
                "spec.venafi: Required value: please supply one of: tpp, cloud, ngts",
            ]),
        ),
        (
            "Venafi two connections",
            issuer(
                json!({"venafi": {"zone": "z", "tpp": {"url": "https://tpp", "credentialsRef": {"name": "c"}}, "cloud": {"apiTokenSecretRef": {"name": "t"}}}}),
            ),
            s(&["spec.venafi: Forbidden: please supply one of: tpp, cloud, ngts"]),
        ),
    ]
}

#[test]
fn invalid_objects_give_upstream_messages() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    if std::env::var_os("SHOW_CASES").is_some() {
        for (name, got, _) in &cases {
            println!("{name}: {got:?}");
        }
    }
    let mut failures = Vec::new();
    for (name, got, want) in &cases {
        if got != want {
            failures.push(format!("{name}:\n   got: {got:#?}\n  want: {want:#?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn aggregate_message_is_what_the_webhook_denies_with() {
    let got = certificate(json!({"secretName": null, "issuerRef": {"name": null}}));
    assert_eq!(got.len(), 2);
    let obj: api::Certificate = decode(merge(
        &base_certificate(),
        &json!({"spec": {"secretName": null, "issuerRef": {"name": null}}}),
    ));
    let err = validation::validate_certificate(&obj, &ValidationGates::default())
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "[spec.secretName: Required value: must be specified, spec.issuerRef.name: Required value: must be specified]"
    );
}

#[test]
fn eab_key_algorithm_is_a_warning() {
    let obj: api::Issuer = decode(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "i"},
        "spec": {"acme": {
            "server": "https://acme.example.com",
            "privateKeySecretRef": {"name": "k"},
            "externalAccountBinding": {"keyID": "id", "keySecretRef": {"name": "eab", "key": "k"}, "keyAlgorithm": "HS256"},
        }},
    }));
    let result = validation::validate_issuer(&obj);
    assert!(result.is_valid(), "{}", result.errors);
    assert_eq!(
        result.warnings,
        [
            "ACME issuer spec field 'externalAccount.keyAlgorithm' is deprecated. The value of this field will be ignored."
        ]
    );
}

#[test]
fn order_and_challenge_updates() {
    let order = json!({
        "apiVersion": "acme.cert-manager.io/v1",
        "kind": "Order",
        "metadata": {"name": "o", "namespace": "ns"},
        "spec": {"request": "Y3Ny", "issuerRef": {"name": "acme"}},
        "status": {"url": "https://acme/order/1", "authorizations": [{"url": "https://acme/authz/1", "challenges": [{"url": "u", "token": "t", "type": "http-01"}]}]},
    });
    let update = |patch: Value| -> Vec<String> {
        let old: api::Order = decode(order.clone());
        let new: api::Order = decode(merge(&order, &patch));
        validation::validate_order_update(&old, &new)
            .errors
            .messages()
    };
    assert_eq!(
        update(json!({"spec": {"request": "b3RoZXI="}})),
        ["spec.request: Forbidden: field is immutable once set"]
    );
    assert_eq!(
        update(json!({"status": {"url": "https://acme/order/2"}})),
        ["status.url: Forbidden: field is immutable once set"]
    );
    assert_eq!(
        update(json!({"status": {"authorizations": []}})),
        ["status.authorizations: Forbidden: field is immutable once set"]
    );
    assert_eq!(
        update(json!({"status": {"finalizeURL": "https://acme/finalize/1", "state": "ready"}})),
        Vec::<String>::new()
    );

    let challenge = json!({
        "apiVersion": "acme.cert-manager.io/v1",
        "kind": "Challenge",
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"url": "u", "authorizationURL": "a", "dnsName": "example.com", "type": "HTTP-01", "token": "t", "key": "k", "solver": {"http01": {"ingress": {}}}, "issuerRef": {"name": "acme"}},
    });
    let old: api::Challenge = decode(challenge.clone());
    let changed: api::Challenge = decode(merge(&challenge, &json!({"spec": {"token": "other"}})));
    assert_eq!(
        validation::validate_challenge_update(&old, &changed)
            .errors
            .messages(),
        ["spec: Forbidden: challenge spec is immutable after creation"]
    );
    // An omitted false bool equals an explicit one, as in Go.
    let explicit: api::Challenge = decode(merge(&challenge, &json!({"spec": {"wildcard": false}})));
    assert!(validation::validate_challenge_update(&old, &explicit).is_valid());
}

#[test]
fn certificate_request_identity() {
    let pem = csr_pem(None, &[], &[]);
    let user = UserInfo {
        username: Some("alice".into()),
        uid: Some("u-1".into()),
        groups: Some(vec!["devs".into(), "system:authenticated".into()]),
        extra: None,
    };
    let mut cr: api::CertificateRequest = decode(base_request(&pem));
    // Without the mutation the identity does not match.
    assert_eq!(
        validation::validate_certificate_request_identity(&cr, &user)
            .errors
            .messages(),
        [
            "spec.uid: Forbidden: uid identity must be that of the requester",
            "spec.username: Forbidden: username identity must be that of the requester",
            "spec.groups: Forbidden: groups identity must be that of the requester",
        ]
    );
    api::defaults::set_certificate_request_identity(&mut cr.spec, &user);
    assert!(validation::validate_certificate_request_identity(&cr, &user).is_valid());
    // Group order does not matter.
    let reordered = UserInfo {
        groups: Some(vec!["system:authenticated".into(), "devs".into()]),
        ..user.clone()
    };
    assert!(validation::validate_certificate_request_identity(&cr, &reordered).is_valid());

    let mut changed = cr.clone();
    changed.spec.username = Some("mallory".into());
    changed.spec.extra = Some([("k".to_owned(), vec!["v".to_owned()])].into());
    assert_eq!(
        validation::validate_certificate_request_identity_update(&cr, &changed)
            .errors
            .messages(),
        [
            "spec.username: Forbidden: username identity cannot be changed once set",
            "spec.extra: Forbidden: extra identity cannot be changed once set",
        ]
    );
}

#[test]
fn valid_certificate_requests_pass() {
    let ecdsa = csr_pem(
        None,
        &[
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
        &[
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
    );
    assert_eq!(
        request_with(
            &ecdsa,
            json!({"spec": {"usages": ["signing", "key encipherment", "server auth", "client auth"]}})
        ),
        Vec::<String>::new()
    );
    let ca = csr_pem(
        Some(true),
        &[
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ],
        &[],
    );
    assert_eq!(
        request_with(&ca, json!({"spec": {"isCA": true}})),
        Vec::<String>::new()
    );
    // No extensions at all: nothing to compare.
    assert_eq!(
        request_with(
            &csr_pem(None, &[], &[]),
            json!({"spec": {"usages": ["client auth"]}})
        ),
        Vec::<String>::new()
    );
    // Text before the PEM block is skipped, as Go's pem.Decode does.
    let noisy = format!("a comment\n{ecdsa}");
    assert_eq!(
        request_with(
            &noisy,
            json!({"spec": {"usages": ["digital signature", "key encipherment", "server auth", "client auth"]}})
        ),
        Vec::<String>::new()
    );
}

//! Admission through the API server: the documentation's example manifests are accepted as
//! they are (CertificateRequests get the requester's identity from the mutating webhook), a
//! table of invalid objects is denied with the webhook's field-path messages, and
//! `--feature-gates` changes what is accepted.

use std::path::PathBuf;

use anyhow::Context as _;
use api::field::go_quote;
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use pki::{BasicConstraints, CsrSpec, EcCurve, ExtKeyUsage, KeyType, KeyUsages, PrivateKey};
use serde::Deserialize as _;
use serde_json::{Value, json};
use testkit::ControlPlane;

use crate::support::{self, Deployment, WebhookProcess, denied};

/// The user behind the testkit kubeconfig's token (hack/envtest and the KUBEBUILDER_ASSETS
/// token file both name it so).
const TEST_USER: &str = "envtest-admin";

fn examples() -> anyhow::Result<Vec<(String, Value)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/tests/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
            let value = Value::deserialize(doc)?;
            let name = format!(
                "{}#{i} ({} {})",
                file.file_name().unwrap_or_default().to_string_lossy(),
                value["kind"],
                value["metadata"]["name"]
            );
            docs.push((name, value));
        }
    }
    Ok(docs)
}

#[tokio::test]
async fn example_manifests_are_accepted_unchanged() -> anyhow::Result<()> {
    let Some(d) = Deployment::start(&[]).await? else {
        return Ok(());
    };
    let docs = examples()?;
    assert!(docs.len() >= 20, "only {} example documents", docs.len());
    let mut requests = 0;
    let mut created: Vec<(String, DynamicObject)> = Vec::new();
    for (name, manifest) in &docs {
        let stored = support::create(&d.client, &d.namespace, manifest, false)
            .await
            .with_context(|| format!("{name} was not accepted"))?;
        let stored_spec = serde_json::to_value(&stored.data)?["spec"].clone();
        if manifest["kind"] == "CertificateRequest" {
            requests += 1;
            // The mutating webhook replaced whatever identity the manifest claimed.
            assert_ne!(manifest["spec"]["username"], json!(TEST_USER), "{name}");
            assert_eq!(stored_spec["username"], json!(TEST_USER), "{name}");
            assert_eq!(stored_spec["uid"], json!(TEST_USER), "{name}");
            let groups = stored_spec["groups"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                groups.contains(&json!("system:masters")),
                "{name}: groups {groups:?}"
            );
            // Nothing else in the spec changed.
            let mut rest = stored_spec.clone();
            let mut want = manifest["spec"].clone();
            for field in ["username", "uid", "groups", "extra"] {
                rest.as_object_mut().map(|o| o.remove(field));
                want.as_object_mut().map(|o| o.remove(field));
            }
            assert_eq!(rest, want, "{name}: spec changed beyond the identity");
        } else {
            // Stored as written: no webhook mutation, nothing pruned by the CRD schema (which
            // may add its defaults, e.g. a Gateway parentRef's group).
            let mut missing = Vec::new();
            not_contained(&manifest["spec"], &stored_spec, "spec", &mut missing);
            assert!(missing.is_empty(), "{name}: stored spec lost {missing:?}");
        }
        created.push((name.clone(), stored));
    }
    assert!(requests >= 1, "no CertificateRequest example");

    // Updates go through the validating webhook too: a metadata-only update of every object is
    // allowed (and drops the Challenge's finalizer so its namespace can go).
    for (name, obj) in &created {
        let kind = obj
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        let (ar, namespaced) = support::cert_manager_resource(&kind)?;
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(d.client.clone(), &d.namespace, &ar)
        } else {
            Api::all_with(d.client.clone(), &ar)
        };
        let obj_name = obj.metadata.name.clone().unwrap_or_default();
        api.patch(
            &obj_name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null, "labels": {"touched": "yes"}}})),
        )
        .await
        .with_context(|| format!("{name}: metadata update"))?;
        if !namespaced {
            api.delete(&obj_name, &Default::default()).await?;
        }
    }
    Ok(())
}

/// Where `want` is not part of `got` (objects may have more keys; everything else is equal).
fn not_contained(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                not_contained(
                    v,
                    g.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                not_contained(wv, gv, &format!("{path}[{i}]"), out);
            }
        }
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{path}: {w} stored as {g}")),
    }
}

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

fn certificate(name: &str, spec_patch: Value) -> Value {
    merge(
        &json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name},
            "spec": {"secretName": "tls", "dnsNames": ["example.com"], "issuerRef": {"name": "ca"}},
        }),
        &json!({ "spec": spec_patch }),
    )
}

fn issuer_of(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "cert-manager.io/v1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

fn issuer(name: &str, spec: Value) -> Value {
    issuer_of("Issuer", name, spec)
}

fn acme(acme_patch: Value) -> Value {
    let base = json!({
        "server": "https://acme.example.com/directory",
        "privateKeySecretRef": {"name": "account"},
    });
    json!({ "acme": merge(&base, &acme_patch) })
}

fn solver(solver: Value) -> Value {
    acme(json!({ "solvers": [solver] }))
}

fn vault(vault_patch: Value) -> Value {
    let base = json!({
        "server": "https://vault.example.com",
        "path": "pki/sign/role",
        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
    });
    json!({ "vault": merge(&base, &vault_patch) })
}

/// A real CSR for example.com (P-256) with the given extensions.
fn csr_pem(is_ca: Option<bool>, ku: KeyUsages, eku: &[ExtKeyUsage]) -> anyhow::Result<String> {
    let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256))?;
    let spec = CsrSpec {
        dns_names: vec!["example.com".into()],
        key_usage: ku,
        ext_key_usages: eku.to_vec(),
        basic_constraints: is_ca.map(|is_ca| BasicConstraints {
            is_ca,
            max_path_len: None,
        }),
        ..Default::default()
    };
    Ok(pki::create_csr(&spec, &key, None)?.to_pem())
}

fn request(name: &str, pem: &str, patch: Value) -> Value {
    merge(
        &json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": name},
            "spec": {"request": ByteString(pem.as_bytes().to_vec()), "issuerRef": {"name": "ca"}},
        }),
        &patch,
    )
}

/// What cert-manager shows as the bad value of `spec.request`: at most 100 bytes.
fn shown_request(pem: &str) -> String {
    if pem.len() <= 100 {
        go_quote(pem)
    } else {
        go_quote(&format!("{}...", &pem[..97]))
    }
}

/// `ErrorList.ToAggregate().Error()`: one message as is, several as `[a, b]`.
fn aggregate(messages: &[String]) -> String {
    match messages {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

const DNS1123: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// (case, object to create, the webhook's field errors). Taken from api's invalid_objects.rs,
/// limited to what the CRD schema lets through to the webhook.
fn invalid_objects() -> anyhow::Result<Vec<(&'static str, Value, Vec<String>)>> {
    let s = |v: &[&str]| -> Vec<String> { v.iter().map(|m| (*m).to_owned()).collect() };
    let plain = csr_pem(None, KeyUsages::default(), &[])?;
    let ca_csr = csr_pem(Some(true), KeyUsages::default(), &[])?;
    let ds_only = csr_pem(None, KeyUsages::DIGITAL_SIGNATURE, &[])?;
    let ds_ke_server = csr_pem(
        None,
        KeyUsages::DIGITAL_SIGNATURE | KeyUsages::KEY_ENCIPHERMENT,
        &[ExtKeyUsage::ServerAuth],
    )?;
    let bad_signature = {
        let block = pem::parse(&plain)?;
        let mut der = block.contents().to_vec();
        let last = der.len() - 1;
        der[last] ^= 0xff;
        pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der))
    };
    Ok(vec![
        // ---- Certificate ----
        (
            "secretName not a DNS subdomain",
            certificate("c-secretname", json!({"secretName": "Bad_Name"})),
            vec![format!(
                "spec.secretName: Invalid value: \"Bad_Name\": {DNS1123}"
            )],
        ),
        (
            "external kind without group",
            certificate(
                "c-kind-nogroup",
                json!({"issuerRef": {"kind": "AWSPCAClusterIssuer"}}),
            ),
            s(&[
                "spec.issuerRef.kind: Invalid value: \"AWSPCAClusterIssuer\": must be one of Issuer or ClusterIssuer (did you forget to set spec.issuerRef.kind.group?)",
            ]),
        ),
        (
            "unknown kind in cert-manager.io",
            certificate(
                "c-kind-unknown",
                json!({"issuerRef": {"kind": "Foo", "group": "cert-manager.io"}}),
            ),
            s(&[
                "spec.issuerRef.kind: Invalid value: \"Foo\": must be one of Issuer or ClusterIssuer",
            ]),
        ),
        (
            "no identity at all",
            certificate("c-no-identity", json!({"dnsNames": null})),
            s(&[
                "spec: Invalid value: \"\": at least one of commonName (from the commonName field or from a literalSubject), dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set",
            ]),
        ),
        (
            "commonName longer than 64 bytes",
            certificate("c-long-cn", json!({"commonName": "a".repeat(65)})),
            s(&["spec.commonName: Too long: may not be more than 64 bytes"]),
        ),
        (
            "literalSubject with commonName",
            certificate(
                "c-literal-cn",
                json!({"literalSubject": "CN=bar", "commonName": "foo"}),
            ),
            s(&[
                "spec.commonName: Invalid value: \"foo\": When providing a `LiteralSubject` no `commonName` may be provided.",
            ]),
        ),
        (
            "literalSubject does not parse",
            certificate("c-literal-bad", json!({"literalSubject": "CN"})),
            s(&[
                "spec.literalSubject: Invalid value: \"CN\": DN ended with incomplete type, value pair",
            ]),
        ),
        (
            "bad IP address",
            certificate("c-bad-ip", json!({"ipAddresses": ["10.0.0.300"]})),
            s(&["spec.ipAddresses[0]: Invalid value: \"10.0.0.300\": invalid IP address"]),
        ),
        (
            "email without @",
            certificate("c-email", json!({"emailAddresses": ["not-an-email"]})),
            s(&[
                "spec.emailAddresses[0]: Invalid value: \"not-an-email\": invalid email address: mail: missing '@' or angle-addr",
            ]),
        ),
        (
            "otherName bad oid",
            certificate(
                "c-othername",
                json!({"otherNames": [{"oid": "1.2.x", "utf8Value": "v"}]}),
            ),
            s(&["spec.otherNames[0].oid: Invalid value: \"1.2.x\": invalid oid syntax"]),
        ),
        (
            "RSA key too small",
            certificate("c-rsa-small", json!({"privateKey": {"size": 1000}})),
            s(&[
                "spec.privateKey.size: Invalid value: 1000: must be between 2048 and 8192 for rsa keyAlgorithm",
            ]),
        ),
        (
            "ECDSA size not a curve",
            certificate(
                "c-ecdsa-size",
                json!({"privateKey": {"algorithm": "ECDSA", "size": 255}}),
            ),
            s(&[
                "spec.privateKey.size: Unsupported value: 255: supported values: \"256\", \"384\", \"521\"",
            ]),
        ),
        (
            "ECDSA signature for an RSA key",
            certificate("c-sigalg", json!({"signatureAlgorithm": "ECDSAWithSHA256"})),
            s(&[
                "spec.signatureAlgorithm: Invalid value: \"ECDSAWithSHA256\": for key algorithm RSA the allowed signature algorithms are [SHA256WithRSA SHA384WithRSA SHA512WithRSA]",
            ]),
        ),
        (
            "duration under an hour",
            certificate("c-duration", json!({"duration": "30m"})),
            s(&[
                "spec.duration: Invalid value: 1800000000000: certificate duration must be greater than 1h0m0s",
            ]),
        ),
        (
            "renewBefore not below duration",
            certificate(
                "c-renewbefore",
                json!({"duration": "2h", "renewBefore": "3h"}),
            ),
            s(&[
                "spec.renewBefore: Invalid value: 10800000000000: certificate duration 2h0m0s must be greater than renewBefore 3h0m0s",
            ]),
        ),
        (
            "renewBefore and percentage",
            certificate(
                "c-renew-both",
                json!({"renewBefore": "1h", "renewBeforePercentage": 20}),
            ),
            s(&[
                "spec.renewBefore: Invalid value: 3600000000000: renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set",
                "spec.renewBeforePercentage: Invalid value: 20: renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set",
            ]),
        ),
        (
            "revisionHistoryLimit zero",
            certificate("c-revisions", json!({"revisionHistoryLimit": 0})),
            s(&["spec.revisionHistoryLimit: Invalid value: 0: must not be less than 1"]),
        ),
        (
            "secretTemplate cert-manager annotation",
            certificate(
                "c-template",
                json!({"secretTemplate": {"annotations": {"cert-manager.io/issuer-name": "x"}}}),
            ),
            s(&[
                "spec.secretTemplate.annotations: Invalid value: \"cert-manager.io/issuer-name\": cert-manager.io/* annotations are not allowed",
            ]),
        ),
        (
            "nameConstraints on a leaf",
            certificate(
                "c-nc-leaf",
                json!({"nameConstraints": {"permitted": {"dnsDomains": ["example.com"]}}}),
            ),
            s(&[
                "spec.nameConstraints: Invalid value: {\"Critical\":false,\"Permitted\":{\"DNSDomains\":[\"example.com\"],\"IPRanges\":null,\"EmailAddresses\":null,\"URIDomains\":null},\"Excluded\":null}: isCa should be true when nameConstraints is set",
            ]),
        ),
        (
            "JKS password and reference",
            certificate(
                "c-jks",
                json!({"keystores": {"jks": {"create": true, "password": "x", "passwordSecretRef": {"name": "s", "key": "k"}}}}),
            ),
            s(&[
                "spec.keystores.jks: Forbidden: exactly one of passwordSecretRef and password must be provided for JKS keystores; cannot set both",
            ]),
        ),
        (
            "windows with renewal disabled",
            certificate(
                "c-windows",
                json!({"renewal": {"policy": "Disabled", "windows": [{"cron": "* * * * *", "windowDuration": "1h"}]}}),
            ),
            s(&[
                "spec.renewal.windows: Forbidden: windows cannot be set when `renewal.policy` is set to Disabled",
            ]),
        ),
        (
            "cron field out of range",
            certificate(
                "c-cron",
                json!({"renewal": {"policy": "RenewBefore", "windows": [{"cron": "0 24 * * *", "windowDuration": "1h"}]}}),
            ),
            s(&[
                "spec.renewal.windows[0].cron: Invalid value: \"0 24 * * *\": invalid cron syntax: failed to parse cron spec '0 24 * * *': end of range (24) above maximum (23): 24. cron needs to follow: cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow",
            ]),
        ),
        // ---- CertificateRequest ----
        (
            "request is not PEM",
            request("cr-not-pem", "not a csr", json!({})),
            s(&[
                "spec.request: Invalid value: \"not a csr\": error decoding certificate request PEM block: no PEM data was found in given input",
            ]),
        ),
        (
            "CSR is a CA, request is not",
            request("cr-ca", &ca_csr, json!({})),
            vec![format!(
                "spec.request: Invalid value: {}: encoded CSR error: IsCA true does not match expected value false",
                shown_request(&ca_csr)
            )],
        ),
        (
            "CSR key usages differ",
            request("cr-ku", &ds_only, json!({})),
            vec![format!(
                "spec.request: Invalid value: {}: encoded CSR error: the KeyUsages [ 'digital signature' ] do not match the expected KeyUsages [ 'digital signature', 'key encipherment' ]",
                shown_request(&ds_only)
            )],
        ),
        (
            "CSR extended key usages differ",
            request(
                "cr-eku",
                &ds_ke_server,
                json!({"spec": {"usages": ["digital signature", "key encipherment", "client auth"]}}),
            ),
            vec![format!(
                "spec.request: Invalid value: {}: encoded CSR error: the ExtKeyUsages [ 'server auth' ] do not match the expected ExtKeyUsages [ 'client auth' ]",
                shown_request(&ds_ke_server)
            )],
        ),
        (
            "CSR signature broken",
            request("cr-signature", &bad_signature, json!({})),
            vec![format!(
                "spec.request: Invalid value: {}: x509: ECDSA verification failure",
                shown_request(&bad_signature)
            )],
        ),
        // ---- Issuer ----
        (
            "no issuer type",
            issuer("i-none", json!({})),
            s(&["spec: Required value: at least one issuer must be configured"]),
        ),
        (
            "two issuer types",
            issuer(
                "i-two",
                json!({"ca": {"secretName": "ca"}, "selfSigned": {}}),
            ),
            s(&["spec.selfSigned: Forbidden: may not specify more than one issuer type"]),
        ),
        (
            "CA empty OCSP URL",
            issuer(
                "i-ocsp",
                json!({"ca": {"secretName": "ca", "ocspServers": [""]}}),
            ),
            s(&[
                "spec.ca.ocspServer[0]: Invalid value: \"\": must be a valid URL, e.g., http://ocsp.int-x3.letsencrypt.org",
            ]),
        ),
        (
            "solver with two types",
            issuer(
                "i-solver-two",
                solver(
                    json!({"http01": {"ingress": {}}, "dns01": {"webhook": {"groupName": "g", "solverName": "s"}}}),
                ),
            ),
            s(&[
                "spec.acme.solvers[0]: Forbidden: may not specify more than one solver type in a single solver",
            ]),
        ),
        (
            "ingress class and ingressClassName",
            issuer(
                "i-ingress-class",
                solver(
                    json!({"http01": {"ingress": {"class": "nginx", "ingressClassName": "nginx"}}}),
                ),
            ),
            s(&[
                "spec.acme.solvers[0].http01.ingress: Forbidden: only one of 'ingressClassName', 'name' or 'class' should be specified",
            ]),
        ),
        (
            "RFC 2136 secret without key name",
            issuer(
                "i-rfc2136",
                solver(
                    json!({"dns01": {"rfc2136": {"nameserver": "192.0.2.1", "tsigSecretSecretRef": {"name": "tsig", "key": "secret"}}}}),
                ),
            ),
            s(&["spec.acme.solvers[0].dns01.rfc2136.tsigKeyName: Required value"]),
        ),
        (
            "Cloudflare without credentials",
            issuer("i-cloudflare", solver(json!({"dns01": {"cloudflare": {}}}))),
            s(&[
                "spec.acme.solvers[0].dns01.cloudflare: Required value: apiKeySecretRef or apiTokenSecretRef is required",
            ]),
        ),
        (
            "Vault path escapes",
            issuer("i-vault-path", vault(json!({"path": "pki/../sys/raw"}))),
            s(&[
                "spec.vault.path: Invalid value: \"pki/../sys/raw\": must not contain '..' path segments",
            ]),
        ),
        (
            "Vault client cert without key",
            issuer(
                "i-vault-cert",
                vault(json!({"clientCertSecretRef": {"name": "c", "key": "tls.crt"}})),
            ),
            s(&[
                "spec.vault.clientKeySecretRef: Invalid value: \"<snip>\": clientKeySecretRef must be provided when defining the clientCertSecretRef",
            ]),
        ),
        (
            "Vault AWS IRSA without role ARN",
            issuer(
                "i-vault-aws",
                vault(
                    json!({"auth": {"tokenSecretRef": null, "aws": {"role": "r", "serviceAccountRef": {"name": "sa"}}}}),
                ),
            ),
            s(&[
                "spec.vault.auth.aws.iamRoleArn: Required value: iamRoleArn is required when using serviceAccountRef for IRSA",
            ]),
        ),
        // ---- ClusterIssuer ----
        (
            "ClusterIssuer with no issuer type",
            issuer_of("ClusterIssuer", "ci-none", json!({})),
            s(&["spec: Required value: at least one issuer must be configured"]),
        ),
        (
            "ClusterIssuer ACME caBundle with skipTLSVerify",
            issuer_of(
                "ClusterIssuer",
                "ci-acme-ca",
                acme(json!({"caBundle": "Z2FyYmFnZQ==", "skipTLSVerify": true})),
            ),
            s(&[
                "spec.acme.caBundle: Invalid value: \"\": caBundle and skipTLSVerify are mutually exclusive and cannot both be set",
                "spec.acme.skipTLSVerify: Invalid value: true: caBundle and skipTLSVerify are mutually exclusive and cannot both be set",
                "spec.acme.caBundle: Invalid value: \"\": cert bundle didn't contain any valid certificates",
            ]),
        ),
        (
            "ClusterIssuer DNS-01 without provider",
            issuer_of("ClusterIssuer", "ci-dns01", solver(json!({"dns01": {}}))),
            s(&["spec.acme.solvers[0].dns01: Required value: no DNS01 provider configured"]),
        ),
        (
            "ClusterIssuer Vault Kubernetes with both token sources",
            issuer_of(
                "ClusterIssuer",
                "ci-vault-k8s",
                vault(
                    json!({"auth": {"tokenSecretRef": null, "kubernetes": {"role": "r", "secretRef": {"name": "sa-token"}, "serviceAccountRef": {"name": "sa"}}}}),
                ),
            ),
            s(&[
                "spec.vault.auth.kubernetes: Forbidden: please supply one of: secretRef, serviceAccountRef",
            ]),
        ),
    ])
}

#[tokio::test]
async fn invalid_objects_are_denied_with_field_paths() -> anyhow::Result<()> {
    let Some(d) = Deployment::start(&[]).await? else {
        return Ok(());
    };
    let cases = invalid_objects()?;
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (case, object, errors) in &cases {
        let want = denied(&aggregate(errors));
        match support::create(&d.client, &d.namespace, object, false).await {
            Err(kube::Error::Api(s)) if s.message.contains(&want) => {
                // The API server's Status for a webhook denial.
                if s.code != 400 && s.code != 403 && s.code != 422 {
                    failures.push(format!("{case}: code {} ({})", s.code, s.message));
                }
            }
            Err(e) => failures.push(format!("{case}:\n   got: {e}\n  want: {want}")),
            Ok(_) => failures.push(format!("{case}: accepted")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Updates: a CertificateRequest's spec, and the identity the webhook recorded, are
    // immutable.
    let pem = csr_pem(None, KeyUsages::default(), &[])?;
    let cr = request("cr-update", &pem, json!({}));
    let stored = support::create(&d.client, &d.namespace, &cr, false).await?;
    let (ar, _) = support::cert_manager_resource("CertificateRequest")?;
    let api: Api<DynamicObject> = Api::namespaced_with(d.client.clone(), &d.namespace, &ar);
    for (patch, message) in [
        (
            json!({"spec": {"usages": ["server auth"]}}),
            "spec: Forbidden: cannot change spec after creation",
        ),
        (
            json!({"spec": {"username": "mallory"}}),
            "[spec: Forbidden: cannot change spec after creation, spec.username: Forbidden: username identity cannot be changed once set]",
        ),
    ] {
        let mut changed = stored.clone();
        changed.data = merge(&stored.data, &patch);
        match api
            .replace("cr-update", &PostParams::default(), &changed)
            .await
        {
            Err(kube::Error::Api(s)) if s.message.contains(&denied(message)) => {}
            other => panic!("update {patch}: {other:?}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn feature_gates_are_honoured() -> anyhow::Result<()> {
    // The chart's webhook, gates at their defaults (LiteralCertificateSubject on).
    let Some(d) = Deployment::start(&[]).await? else {
        return Ok(());
    };
    let cp = ControlPlane::shared().await?;

    // A second instance with the gate off, sharing the CA Secret (as replicas do), behind its
    // own Service; its configuration judges one namespace the chart's configuration skips.
    const GATED: &str = "cert-manager-webhook-gates";
    let mut args = support::dynamic_args(&d.namespace, GATED);
    args.push("--feature-gates=LiteralCertificateSubject=false".into());
    let gated = WebhookProcess::start(cp.kubeconfig_path(), &args).await?;
    support::create_service(&d.client, &d.namespace, GATED, gated.secure_port).await?;
    let gated_ns = cp.namespace("cm-webhook-gates").await?;
    let selector_label = gated_ns.name().to_owned();
    support::label_namespace(
        &d.client,
        &gated_ns,
        json!({"cert-manager.io/disable-validation": "true", "webhook-gates-test": selector_label}),
    )
    .await?;
    let name = format!("{}-gates", d.namespace);
    let vwc = support::validating_config(
        &name,
        &d.namespace,
        GATED,
        &d.ca_pem,
        Some(json!({"matchLabels": {"webhook-gates-test": selector_label}})),
    )?;
    let mut cleanup = testkit::ClusterCleanup::new(cp);
    Api::<ValidatingWebhookConfiguration>::all(d.client.clone())
        .create(&PostParams::default(), &vwc)
        .await?;
    cleanup.add(support::vwc_resource(), &name);
    support::wait_webhook_active(&d.client, &gated_ns).await?;

    let literal = certificate(
        "literal",
        json!({"literalSubject": "CN=literal.example.com,O=Example", "dnsNames": null}),
    );
    match support::create(&d.client, &gated_ns, &literal, false).await {
        Err(kube::Error::Api(s)) => assert!(
            s.message.contains(&denied(
                "spec.literalSubject: Forbidden: Feature gate LiteralCertificateSubject must be enabled on both webhook and controller to use the alpha `literalSubject` field"
            )),
            "{}",
            s.message
        ),
        other => panic!("the gated webhook accepted a literalSubject: {other:?}"),
    }
    // The default instance accepts the same object.
    support::create(&d.client, &d.namespace, &literal, false)
        .await
        .context("literalSubject with the gate on")?;
    drop(cleanup);
    drop(gated);
    Ok(())
}

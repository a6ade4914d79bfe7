//! The Vault issuer end to end (issue 8): the controller binary with its default controllers
//! against the local control plane and a real OpenBao dev server (testkit::openbao). Issued
//! Secrets are checked with `openssl`, a parser and verifier independent of ours.
//!
//! Kubernetes auth runs against the local API server's own ServiceAccount tokens
//! (TokenRequest), TokenReview API and signing key, as OpenBao would use a real cluster.

use std::process::Command;
use std::time::{Duration, SystemTime};

use api::{Certificate, CertificateRequest, ClusterIssuer, Issuer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Event, Secret, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use testkit::ControlPlane;
use testkit::component::{self, Component};
use testkit::openbao::{OpenBao, Tls};

mod common;
use common::{condition, create, data, requests_of};

const WAIT: Duration = Duration::from_secs(60);

/// The controller with its default controllers; ClusterIssuers' Secrets live in
/// `cluster_resource_namespace`.
async fn start(cp: &ControlPlane, cluster_resource_namespace: &str) -> anyhow::Result<Component> {
    let crn = format!("--cluster-resource-namespace={cluster_resource_namespace}");
    Ok(
        common::start_controller(cp, &["--leader-elect=false", &crn], &[])
            .await?
            .0,
    )
}

fn secret(name: &str, data: &[(&str, &str)]) -> Value {
    let string_data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": string_data})
}

fn issuer(kind: &str, name: &str, vault: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": kind,
        "metadata": {"name": name}, "spec": {"vault": vault},
    })
}

fn certificate(name: &str, issuer_ref: Value, dns_names: &[&str]) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name},
        "spec": {
            "secretName": format!("{name}-tls"),
            "commonName": dns_names[0],
            "dnsNames": dns_names,
            "duration": "2h",
            "renewBefore": "30m",
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": issuer_ref,
        },
    })
}

/// Waits until `name`'s condition `t` is `status`/`reason`; returns its message.
async fn wait_condition<K>(
    api: &Api<K>,
    name: &str,
    t: &str,
    status: &str,
    reason: &str,
) -> anyhow::Result<String>
where
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let obj = common::wait_condition(api, name, t, status, reason).await?;
    Ok(condition(&obj, t).map(|(_, _, m)| m).unwrap_or_default())
}

fn pem_blocks(pem: &str) -> Vec<String> {
    pem.split_inclusive("-----END CERTIFICATE-----")
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .collect()
}

/// Checks the issued Secret of `crt`: `tls.crt` (leaf, then `intermediates`) verifies with
/// openssl against `ca.crt`, which is `root`; the key matches; the names and the two-hour
/// lifetime are as requested.
async fn check_issued(
    secrets: &Api<Secret>,
    crt: &str,
    dns_names: &[&str],
    root: &str,
    intermediates: &[&str],
) -> anyhow::Result<()> {
    let s = secrets.get(&format!("{crt}-tls")).await?;
    let (chain, ca, key) = (data(&s, "tls.crt"), data(&s, "ca.crt"), data(&s, "tls.key"));
    assert_eq!(pem_blocks(&ca), [root.trim()], "ca.crt is the OpenBao root");
    let blocks = pem_blocks(&chain);
    assert_eq!(blocks.len(), 1 + intermediates.len(), "tls.crt: {chain}");
    for (got, want) in blocks[1..].iter().zip(intermediates) {
        assert_eq!(got, want.trim(), "intermediate in tls.crt");
    }

    let dir = tempfile::tempdir()?;
    let path = |n: &str| dir.path().join(n);
    std::fs::write(path("leaf.pem"), &blocks[0])?;
    std::fs::write(path("untrusted.pem"), blocks[1..].join("\n"))?;
    std::fs::write(path("ca.pem"), &ca)?;
    std::fs::write(path("tls.key"), &key)?;
    let mut verify = Command::new("openssl");
    verify.args(["verify", "-CAfile"]).arg(path("ca.pem"));
    if blocks.len() > 1 {
        verify.arg("-untrusted").arg(path("untrusted.pem"));
    }
    let out = verify.arg(path("leaf.pem")).output()?;
    assert!(
        out.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let openssl = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new("openssl").args(args).output()?;
        anyhow::ensure!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    };
    let leaf = path("leaf.pem").display().to_string();
    let key_path = path("tls.key").display().to_string();
    assert_eq!(
        openssl(&["pkey", "-pubout", "-in", &key_path])?,
        openssl(&["x509", "-noout", "-pubkey", "-in", &leaf])?,
        "tls.key belongs to tls.crt"
    );
    let text = openssl(&["x509", "-noout", "-text", "-in", &leaf])?;
    for name in dns_names {
        assert!(
            text.contains(&format!("DNS:{name}")),
            "{name} in SANs:\n{text}"
        );
    }

    let cert = pki::ParsedCertificate::from_pem(blocks[0].as_bytes())?;
    assert_eq!(cert.spec.subject.common_name, dns_names[0]);
    let lifetime = cert
        .not_after
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    assert!(
        lifetime > Duration::from_secs(110 * 60) && lifetime <= Duration::from_secs(2 * 3600),
        "the requested duration (2h) is the TTL: {lifetime:?} left"
    );
    Ok(())
}

/// A PKI mount `pki` with a root CA and role `web` for `*.example.com`; the root's PEM.
async fn pki_with_role(bao: &OpenBao) -> anyhow::Result<String> {
    bao.enable_pki("pki").await?;
    let root = bao
        .generate_root("pki", "cert-manager-rs test root")
        .await?;
    bao.create_pki_role(
        "pki",
        "web",
        &[
            "allowed_domains=example.com",
            "allow_subdomains=true",
            "key_type=any",
            "max_ttl=72h",
        ],
    )
    .await?;
    Ok(root)
}

/// Token auth over HTTPS with the CA from a Secret; a wrong token and an untrusted server give
/// clear Ready=False reasons, and no credential reaches the log.
#[tokio::test]
async fn token_auth_over_tls_issues_and_reports_a_wrong_token() -> anyhow::Result<()> {
    let bao = OpenBao::start(Tls::Generated).await?;
    let root = pki_with_role(&bao).await?;
    let token = bao.token_for("pki/sign/web").await?;

    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("vault-token").await?;
    let ns = ns.name();
    let controller = start(cp, ns).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let requests: Api<CertificateRequest> = Api::namespaced(cp.client(), ns);

    let ca_pem = bao.ca_pem().expect("TLS server has a CA");
    create(&secrets, secret("vault-ca", &[("ca.crt", ca_pem)])).await?;
    create(
        &secrets,
        secret("vault-token", &[("token", &format!("{token}\n"))]),
    )
    .await?;
    let wrong = "s.this-token-does-not-exist";
    create(&secrets, secret("wrong-token", &[("token", wrong)])).await?;
    let vault = |token_secret: &str, trust: bool| {
        let mut v = json!({
            "server": bao.address(), "path": "pki/sign/web",
            "auth": {"tokenSecretRef": {"name": token_secret}},
        });
        if trust {
            v["caBundleSecretRef"] = json!({"name": "vault-ca"});
        }
        v
    };
    create(
        &issuers,
        issuer("Issuer", "vault", vault("vault-token", true)),
    )
    .await?;
    create(
        &issuers,
        issuer("Issuer", "wrong", vault("wrong-token", true)),
    )
    .await?;
    create(
        &issuers,
        issuer("Issuer", "untrusted", vault("vault-token", false)),
    )
    .await?;

    let message = wait_condition(&issuers, "vault", "Ready", "True", "VaultVerified").await?;
    assert_eq!(message, "Vault verified");
    // As cert-manager, Setup checks Vault's health, not the token: a wrong one shows at signing.
    wait_condition(&issuers, "wrong", "Ready", "True", "VaultVerified").await?;
    let message = wait_condition(&issuers, "untrusted", "Ready", "False", "VaultError").await?;
    assert!(
        message.starts_with("Failed to verify Vault is initialized and unsealed: "),
        "{message}"
    );

    let names = ["web.example.com", "www.example.com"];
    create(&certs, certificate("web", json!({"name": "vault"}), &names)).await?;
    wait_condition(&certs, "web", "Ready", "True", "Ready").await?;
    check_issued(&secrets, "web", &names, &root, &[]).await?;

    create(
        &certs,
        certificate("denied", json!({"name": "wrong"}), &["denied.example.com"]),
    )
    .await?;
    let message = wait_condition(&certs, "denied", "Issuing", "False", "Failed").await?;
    assert!(
        message.contains("Vault failed to sign certificate"),
        "{message}"
    );
    assert!(message.contains("Code: 403"), "{message}");
    assert!(message.contains("permission denied"), "{message}");
    let request: Vec<String> = requests_of(&requests, "denied")
        .await?
        .iter()
        .map(|cr| cr.name_any())
        .collect();
    assert_eq!(request.len(), 1);
    let message = wait_condition(&requests, &request[0], "Ready", "False", "Failed").await?;
    assert!(
        message.starts_with("Vault failed to sign certificate: failed to sign certificate by vault: Error making API request."),
        "{message}"
    );
    let events: Api<Event> = Api::namespaced(cp.client(), ns);
    component::eventually("a SigningError event", WAIT, async || {
        let list = events
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        list.items
            .iter()
            .find(|e| {
                e.reason.as_deref() == Some("SigningError")
                    && e.type_.as_deref() == Some("Warning")
                    && e.involved_object.name.as_deref() == Some(request[0].as_str())
            })
            .map(|_| ())
            .ok_or_else(|| "no SigningError event yet".to_owned())
    })
    .await?;

    let log = controller.stderr();
    assert!(
        !log.contains(&token) && !log.contains(wrong),
        "a token was logged"
    );
    assert!(!log.contains("panicked"), "{log}");
    Ok(())
}

/// AppRole through a ClusterIssuer (its Secret in the cluster resource namespace), signing with
/// an intermediate CA: `tls.crt` carries the intermediate, `ca.crt` the root.
#[tokio::test]
async fn app_role_cluster_issuer_issues_with_an_intermediate() -> anyhow::Result<()> {
    let bao = OpenBao::start(Tls::Off).await?;
    bao.enable_pki("root").await?;
    let root = bao
        .generate_root("root", "cert-manager-rs test root")
        .await?;
    bao.enable_pki("intermediate").await?;
    let intermediate = bao
        .generate_intermediate("intermediate", "root", "cert-manager-rs test intermediate")
        .await?;
    bao.create_pki_role(
        "intermediate",
        "apps",
        &[
            "allowed_domains=apps.example.com",
            "allow_subdomains=true",
            "key_type=any",
        ],
    )
    .await?;
    let policy = bao.update_policy("intermediate/sign/apps").await?;
    let (role_id, secret_id) = bao.app_role("approle-cm", "cert-manager", &policy).await?;

    let cp = ControlPlane::shared().await?;
    let crn = cp.namespace("vault-crn").await?;
    let ns = cp.namespace("vault-approle").await?;
    let controller = start(cp, crn.name()).await?;
    let crn_secrets: Api<Secret> = Api::namespaced(cp.client(), crn.name());
    create(&crn_secrets, secret("approle", &[("secretId", &secret_id)])).await?;
    let cluster_issuers: Api<ClusterIssuer> = Api::all(cp.client());
    let name = format!("vault-approle-{}", ns.name());
    let mut cleanup = testkit::ClusterCleanup::new(cp);
    cleanup.add(kube::api::ApiResource::erase::<ClusterIssuer>(&()), &name);
    create(
        &cluster_issuers,
        issuer(
            "ClusterIssuer",
            &name,
            json!({
                "server": bao.address(), "path": "/intermediate/sign/apps",
                "auth": {"appRole": {
                    "path": "approle-cm", "roleId": role_id,
                    "secretRef": {"name": "approle", "key": "secretId"},
                }},
            }),
        ),
    )
    .await?;
    wait_condition(&cluster_issuers, &name, "Ready", "True", "VaultVerified").await?;

    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns.name());
    let names = ["api.apps.example.com"];
    let issuer_ref = json!({"name": name, "kind": "ClusterIssuer"});
    create(&certs, certificate("api", issuer_ref, &names)).await?;
    wait_condition(&certs, "api", "Ready", "True", "Ready").await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns.name());
    check_issued(&secrets, "api", &names, &root, &[&intermediate]).await?;
    assert!(
        !controller.stderr().contains(&secret_id),
        "the secret ID was logged"
    );
    Ok(())
}

/// The local API server as OpenBao's kubernetes auth sees it: URL and CA (PEM) from the
/// kubeconfig, and the ServiceAccount token public key (`sa.pub`, written next to the
/// kubeconfig by cm-envtest-apiserver) when there is one.
fn kubernetes_api(cp: &ControlPlane) -> anyhow::Result<(String, String, Option<String>)> {
    let kubeconfig = kube::config::Kubeconfig::read_from(cp.kubeconfig_path())?;
    let cluster = kubeconfig
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .ok_or_else(|| anyhow::anyhow!("no cluster in the kubeconfig"))?;
    let ca = match (
        &cluster.certificate_authority_data,
        &cluster.certificate_authority,
    ) {
        (Some(data), _) => String::from_utf8(STANDARD.decode(data)?)?,
        (None, Some(file)) => std::fs::read_to_string(file)?,
        (None, None) => anyhow::bail!("no CA in the kubeconfig"),
    };
    let server = cp.config().cluster_url.to_string();
    let public_key = std::fs::read_to_string(cp.kubeconfig_path().with_file_name("sa.pub")).ok();
    Ok((server.trim_end_matches('/').to_owned(), ca, public_key))
}

/// A token of ServiceAccount `name` from the TokenRequest API.
async fn service_account_token(
    api: &Api<ServiceAccount>,
    name: &str,
    audiences: &[&str],
) -> anyhow::Result<String> {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            expiration_seconds: Some(3600),
            bound_object_ref: None,
        },
        ..Default::default()
    };
    let answer = api
        .create_token_request(name, &PostParams::default(), &request)
        .await?;
    Ok(answer.status.map(|s| s.token).unwrap_or_default())
}

/// Kubernetes auth against the local API server: OpenBao checks the ServiceAccount JWT's
/// signature with the API server's public key and asks its TokenReview API (as a reviewer
/// ServiceAccount) whether the token is valid for the role's audience. The JWT comes from a
/// Secret (`secretRef`) or, with `serviceAccountRef`, from the TokenRequest the controller
/// makes for audience `vault://<namespace>/<issuer>`.
#[tokio::test]
async fn kubernetes_auth_issues_a_certificate() -> anyhow::Result<()> {
    let bao = OpenBao::start(Tls::Off).await?;
    let root = pki_with_role(&bao).await?;
    let policy = bao.update_policy("pki/sign/web").await?;

    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("vault-k8s").await?;
    let ns = ns.name();
    let controller = start(cp, ns).await?;
    let service_accounts: Api<ServiceAccount> = Api::namespaced(cp.client(), ns);
    for name in ["vault-auth", "vault-reviewer"] {
        create(
            &service_accounts,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}),
        )
        .await?;
    }
    // The reviewer's token is for the API server itself (the default audience).
    let reviewer_jwt = service_account_token(&service_accounts, "vault-reviewer", &[]).await?;

    let (host, ca, public_key) = kubernetes_api(cp)?;
    bao.enable_auth("kubernetes", "kubernetes").await?;
    let mut config = vec![
        format!("kubernetes_host={host}"),
        format!("kubernetes_ca_cert={ca}"),
        format!("token_reviewer_jwt={reviewer_jwt}"),
        // Outside a Pod there is no mounted ServiceAccount token or CA to fall back on.
        "disable_local_ca_jwt=true".to_owned(),
    ];
    if let Some(key) = &public_key {
        config.push(format!("pem_keys={key}"));
    }
    let config: Vec<&str> = config.iter().map(String::as_str).collect();
    bao.write("auth/kubernetes/config", &config).await?;
    let role = |audience: &str| {
        vec![
            "bound_service_account_names=vault-auth".to_owned(),
            format!("bound_service_account_namespaces={ns}"),
            format!("audience={audience}"),
            format!("token_policies={policy}"),
        ]
    };
    for (name, audience) in [
        ("cert-manager", "vault".to_owned()),
        ("bound", format!("vault://{ns}/bound")),
    ] {
        let params = role(&audience);
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        bao.write(&format!("auth/kubernetes/role/{name}"), &params)
            .await?;
    }

    // secretRef: a JWT from a real TokenRequest, for the role's audience.
    let jwt = service_account_token(&service_accounts, "vault-auth", &["vault"]).await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(&secrets, secret("vault-jwt", &[("token", &jwt)])).await?;
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    let kubernetes_issuer = |name: &str, auth: Value| {
        issuer(
            "Issuer",
            name,
            json!({"server": bao.address(), "path": "pki/sign/web", "auth": {"kubernetes": auth}}),
        )
    };
    create(
        &issuers,
        kubernetes_issuer(
            "vault",
            json!({"role": "cert-manager", "secretRef": {"name": "vault-jwt"}}),
        ),
    )
    .await?;
    wait_condition(&issuers, "vault", "Ready", "True", "VaultVerified").await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let names = ["k8s.example.com"];
    create(&certs, certificate("k8s", json!({"name": "vault"}), &names)).await?;
    wait_condition(&certs, "k8s", "Ready", "True", "Ready").await?;
    check_issued(&secrets, "k8s", &names, &root, &[]).await?;

    // serviceAccountRef: the controller requests the token itself.
    create(
        &issuers,
        kubernetes_issuer(
            "bound",
            json!({"role": "bound", "serviceAccountRef": {"name": "vault-auth"}}),
        ),
    )
    .await?;
    wait_condition(&issuers, "bound", "Ready", "True", "VaultVerified").await?;
    let names = ["bound.example.com"];
    create(
        &certs,
        certificate("bound", json!({"name": "bound"}), &names),
    )
    .await?;
    wait_condition(&certs, "bound", "Ready", "True", "Ready").await?;
    check_issued(&secrets, "bound", &names, &root, &[]).await?;

    // Refused logins are named in the condition: an unknown role, and a requested token whose
    // audience (vault://<ns>/wrong-audience) is not the role's.
    let refused = [
        (
            "bad-role",
            json!({"role": "nobody", "secretRef": {"name": "vault-jwt"}}),
            "invalid role name \"nobody\"",
        ),
        (
            "wrong-audience",
            json!({"role": "cert-manager", "serviceAccountRef": {"name": "vault-auth"}}),
            "invalid audience (aud) claim",
        ),
    ];
    for (name, auth, _) in &refused {
        create(&issuers, kubernetes_issuer(name, auth.clone())).await?;
    }
    for (name, _, why) in &refused {
        let message = wait_condition(&issuers, name, "Ready", "False", "VaultError").await?;
        assert!(
            message.starts_with(
                "Failed to initialize Vault client: while requesting a Vault token using the \
                 Kubernetes auth: error calling Vault server: Error making API request."
            ) && message.contains("/v1/auth/kubernetes/login")
                && message.contains(why),
            "{name}: {message}"
        );
    }

    // Once the ServiceAccount is gone, the API server's TokenReview no longer authenticates
    // its token, and OpenBao refuses the login.
    service_accounts
        .delete("vault-auth", &Default::default())
        .await?;
    create(
        &issuers,
        kubernetes_issuer(
            "deleted",
            json!({"role": "cert-manager", "secretRef": {"name": "vault-jwt"}}),
        ),
    )
    .await?;
    let message = wait_condition(&issuers, "deleted", "Ready", "False", "VaultError").await?;
    // The same JWT logged in above: only the TokenReview's answer changed.
    assert!(
        message.contains("/v1/auth/kubernetes/login\nCode: 403")
            && message.ends_with("* permission denied"),
        "{message}"
    );

    // The API server saw OpenBao's TokenReviews (as the reviewer) and the controller's
    // TokenRequests for the bound ServiceAccount.
    let events = cp.audit_events()?;
    let reviewer = format!("system:serviceaccount:{ns}:vault-reviewer");
    assert!(
        events.iter().any(|e| e.verb == "create"
            && e.request_uri == "/apis/authentication.k8s.io/v1/tokenreviews"
            && e.user == reviewer
            && e.code == Some(201)),
        "OpenBao reviewed tokens as {reviewer}"
    );
    let token_path = format!("/api/v1/namespaces/{ns}/serviceaccounts/vault-auth/token");
    assert!(
        events.iter().any(|e| e.verb == "create"
            && e.request_uri.starts_with(&token_path)
            && e.user_agent.contains("controller")
            && e.code == Some(201)),
        "the controller requested a token at {token_path}"
    );
    let log = controller.stderr();
    assert!(!log.contains(&jwt), "the JWT was logged");
    assert!(!log.contains("eyJ"), "a JWT was logged");
    Ok(())
}

/// Incomplete or contradictory configurations: Ready=False with a message naming the field,
/// before any request to Vault.
#[tokio::test]
async fn invalid_configurations_are_not_ready() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("vault-invalid").await?;
    let ns = ns.name();
    let _controller = start(cp, ns).await?;
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    // Nothing listens here: a Vault that is down fails the health check.
    let server = format!("http://{}", component::free_addr()?);
    let cases = [
        (
            "no-auth",
            json!({}),
            "Vault tokenSecretRef, appRole, clientCertificate, kubernetes, or aws is required",
        ),
        (
            "two-auths",
            json!({"tokenSecretRef": {"name": "t"},
                   "appRole": {"path": "approle", "roleId": "r", "secretRef": {"name": "s", "key": "k"}}}),
            "Multiple auth methods cannot be set on the same Vault issuer",
        ),
        (
            "approle-no-key",
            json!({"appRole": {"path": "approle", "roleId": "r", "secretRef": {"name": "s"}}}),
            "Vault AppRole auth requires secretRef.key",
        ),
        (
            "kubernetes-no-role",
            json!({"kubernetes": {"role": "", "secretRef": {"name": "jwt"}}}),
            "Vault Kubernetes auth requires a role to be set",
        ),
    ];
    for (name, auth, _) in &cases {
        let vault = json!({"server": server, "path": "pki/sign/web", "auth": auth});
        create(&issuers, issuer("Issuer", name, vault)).await?;
    }
    for (name, _, want) in &cases {
        let message = wait_condition(&issuers, name, "Ready", "False", "VaultError").await?;
        assert_eq!(&message, want, "{name}");
    }

    let vault = json!({"server": server, "path": "pki/sign/web",
                       "auth": {"tokenSecretRef": {"name": "missing"}}});
    create(&issuers, issuer("Issuer", "missing-secret", vault)).await?;
    let message =
        wait_condition(&issuers, "missing-secret", "Ready", "False", "VaultError").await?;
    assert_eq!(
        message,
        "Failed to initialize Vault client: secret \"missing\" not found"
    );
    // Once the Secret exists, Setup gets as far as the (absent) server.
    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(&secrets, secret("missing", &[("token", "t")])).await?;
    component::eventually("Setup after the Secret appeared", WAIT, async || {
        let i = issuers
            .get("missing-secret")
            .await
            .map_err(|e| e.to_string())?;
        let value = serde_json::to_value(&i).map_err(|e| e.to_string())?;
        match condition(&value, "Ready") {
            Some((_, _, m))
                if m.starts_with("Failed to verify Vault is initialized and unsealed: ") =>
            {
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await?;
    Ok(())
}

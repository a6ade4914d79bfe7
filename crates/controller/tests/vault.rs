//! The Vault issuer end to end (issue 8): the controller binary with its default controllers
//! against the local control plane and a real OpenBao dev server (testkit::openbao). Issued
//! Secrets are checked with `openssl`, a parser and verifier independent of ours.
//!
//! Kubernetes auth: OpenBao's kubernetes auth method always asks the Kubernetes TokenReview
//! API whether a JWT is valid, and the local API server (cm-envtest-apiserver) neither serves
//! TokenReview nor signs ServiceAccount tokens. So the Kubernetes auth test mints a
//! ServiceAccount-shaped JWT with its own key and serves the TokenReview endpoint OpenBao calls
//! from [`TokenReviewer`], which verifies the signature, expiry and audience as the API server
//! would. `serviceAccountRef` (TokenRequest) is only checked up to the request it makes.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::{Certificate, CertificateRequest, ClusterIssuer, Issuer};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use k8s_openapi::api::core::v1::{Event, Secret, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use testkit::ControlPlane;
use testkit::component::{self, Component};
use testkit::openbao::{OpenBao, Tls};

const BIN: &str = env!("CARGO_BIN_EXE_controller");
const READY: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(60);

/// The controller with its default controllers; ClusterIssuers' Secrets live in
/// `cluster_resource_namespace`.
async fn start(cp: &ControlPlane, cluster_resource_namespace: &str) -> anyhow::Result<Component> {
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds");
    cp.install_crds(&[&crds]).await?;
    let healthz = component::free_addr()?;
    let mut c = Component::command("controller", BIN)
        .arg(format!("--kubeconfig={}", cp.kubeconfig_path().display()))
        .arg(format!(
            "--metrics-listen-address={}",
            component::free_addr()?
        ))
        .arg(format!("--internal-healthz-listen-address={healthz}"))
        .arg("--leader-elect=false")
        .arg(format!(
            "--cluster-resource-namespace={cluster_resource_namespace}"
        ))
        .start()?;
    c.wait_ready(healthz, READY).await?;
    Ok(c)
}

async fn create<K>(api: &Api<K>, obj: Value) -> anyhow::Result<K>
where
    K: Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    Ok(api
        .create(&PostParams::default(), &serde_json::from_value(obj)?)
        .await?)
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

/// The condition `t` of `obj` as `(status, reason, message)`.
fn condition(obj: &Value, t: &str) -> Option<(String, String, String)> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == t)
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("status"), s("reason"), s("message"))
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
    let what = format!("{} {name} {t}={status}/{reason}", K::kind(&()));
    Ok(component::eventually(&what, WAIT, async || {
        let obj = api.get(name).await.map_err(|e| e.to_string())?;
        let value = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
        match condition(&value, t) {
            Some((s, r, m)) if s == status && r == reason => Ok(m),
            other => Err(format!("condition is {other:?}")),
        }
    })
    .await?)
}

fn data(secret: &Secret, key: &str) -> String {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .unwrap_or_default();
    String::from_utf8(bytes).unwrap()
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

/// The CertificateRequests of Certificate `crt`.
async fn requests_of(api: &Api<CertificateRequest>, crt: &str) -> anyhow::Result<Vec<String>> {
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|cr| {
            cr.annotations()
                .get("cert-manager.io/certificate-name")
                .map(String::as_str)
                == Some(crt)
        })
        .map(|cr| cr.name_any())
        .collect())
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
    let request = requests_of(&requests, "denied").await?;
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

/// Signs ServiceAccount-shaped JWTs and answers TokenReviews for them, as the Kubernetes API
/// server does (see the module comment for why this stands in for it).
struct TokenReviewer {
    key: EcdsaKeyPair,
    /// TokenReviews answered.
    reviews: AtomicUsize,
}

const SA_ISSUER: &str = "https://kubernetes.default.svc";

impl TokenReviewer {
    fn new() -> Self {
        Self {
            key: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
            reviews: AtomicUsize::new(0),
        }
    }

    fn public_key_pem(&self) -> String {
        let der = self.key.public_key().as_der().unwrap();
        let b64 = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// A bound ServiceAccount token for `namespace/name` (uid `uid`) valid for ten minutes.
    fn mint(&self, namespace: &str, name: &str, uid: &str, audience: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"alg": "ES256", "typ": "JWT"});
        let claims = json!({
            "iss": SA_ISSUER, "aud": [audience],
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "iat": now, "nbf": now, "exp": now + 600,
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// The TokenReview status for `token` wanted for `audiences`.
    fn review(&self, token: &str, audiences: &[String]) -> Value {
        self.reviews.fetch_add(1, Ordering::Relaxed);
        let unauthenticated = |why: &str| json!({"authenticated": false, "error": why});
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, sig] = parts[..] else {
            return unauthenticated("not a JWT");
        };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return unauthenticated("bad signature encoding");
        };
        let public = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            self.key.public_key().as_ref(),
        );
        if public
            .verify(format!("{header}.{claims}").as_bytes(), &sig)
            .is_err()
        {
            return unauthenticated("invalid signature");
        }
        let claims: Value = URL_SAFE_NO_PAD
            .decode(claims)
            .ok()
            .and_then(|c| serde_json::from_slice(&c).ok())
            .unwrap_or_default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if claims["exp"].as_u64().is_none_or(|exp| exp < now) {
            return unauthenticated("token expired");
        }
        let token_audiences: Vec<String> =
            serde_json::from_value(claims["aud"].clone()).unwrap_or_default();
        if !audiences.is_empty() && !audiences.iter().any(|a| token_audiences.contains(a)) {
            return unauthenticated("token audiences do not match");
        }
        let k = &claims["kubernetes.io"];
        let (ns, sa) = (&k["namespace"], &k["serviceaccount"]);
        json!({
            "authenticated": true,
            "user": {
                "username": format!(
                    "system:serviceaccount:{}:{}",
                    ns.as_str().unwrap_or_default(),
                    sa["name"].as_str().unwrap_or_default()
                ),
                "uid": sa["uid"],
            },
            "audiences": token_audiences,
        })
    }

    /// Serves `POST /apis/authentication.k8s.io/v1/tokenreviews` on a loopback port until the
    /// returned task is aborted.
    async fn serve(self: Arc<Self>) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
        async fn handle(
            axum::extract::State(reviewer): axum::extract::State<Arc<TokenReviewer>>,
            axum::Json(review): axum::Json<Value>,
        ) -> axum::Json<Value> {
            let token = review["spec"]["token"].as_str().unwrap_or_default();
            let audiences: Vec<String> =
                serde_json::from_value(review["spec"]["audiences"].clone()).unwrap_or_default();
            axum::Json(json!({
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "status": reviewer.review(token, &audiences),
            }))
        }
        let router = axum::Router::new()
            .route(
                "/apis/authentication.k8s.io/v1/tokenreviews",
                axum::routing::post(handle),
            )
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok((addr, task))
    }
}

/// A self-signed CA certificate (PEM).
fn unused_ca_pem() -> String {
    let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
    let spec = pki::CsrSpec {
        subject: pki::Subject {
            common_name: "unused".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let overrides = pki::RequestOverrides::new(pki::DEFAULT_CERT_DURATION, true, &[]);
    let template =
        pki::CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides).unwrap();
    pki::self_sign(&template, &key).unwrap().chain_pem
}

/// Aborts the TokenReview server when the test ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Kubernetes auth with a ServiceAccount JWT from a Secret; `serviceAccountRef` asks the
/// TokenRequest API for a token of that ServiceAccount.
#[tokio::test]
async fn kubernetes_auth_issues_a_certificate() -> anyhow::Result<()> {
    let bao = OpenBao::start(Tls::Off).await?;
    let root = pki_with_role(&bao).await?;
    let policy = bao.update_policy("pki/sign/web").await?;
    let reviewer = Arc::new(TokenReviewer::new());
    let (review_addr, task) = reviewer.clone().serve().await?;
    let _task = AbortOnDrop(task);

    let cp = ControlPlane::shared().await?;
    let ns = cp.namespace("vault-k8s").await?;
    let ns = ns.name();
    let controller = start(cp, ns).await?;
    let service_accounts: Api<ServiceAccount> = Api::namespaced(cp.client(), ns);
    let sa = create(
        &service_accounts,
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "vault-auth"}}),
    )
    .await?;

    bao.enable_auth("kubernetes", "kubernetes").await?;
    bao.write(
        "auth/kubernetes/config",
        &[
            &format!("kubernetes_host=http://{review_addr}"),
            &format!("pem_keys={}", reviewer.public_key_pem()),
            &format!("issuer={SA_ISSUER}"),
            // Outside a Pod there is no local ServiceAccount CA to default to; the TokenReview
            // endpoint is plain HTTP, so this CA is required but never used.
            "disable_local_ca_jwt=true",
            &format!("kubernetes_ca_cert={}", unused_ca_pem()),
        ],
    )
    .await?;
    bao.write(
        "auth/kubernetes/role/cert-manager",
        &[
            "bound_service_account_names=vault-auth",
            &format!("bound_service_account_namespaces={ns}"),
            "audience=vault",
            &format!("token_policies={policy}"),
        ],
    )
    .await?;
    let jwt = reviewer.mint(ns, "vault-auth", &sa.uid().unwrap_or_default(), "vault");

    let secrets: Api<Secret> = Api::namespaced(cp.client(), ns);
    create(&secrets, secret("vault-jwt", &[("token", &jwt)])).await?;
    let issuers: Api<Issuer> = Api::namespaced(cp.client(), ns);
    create(
        &issuers,
        issuer(
            "Issuer",
            "vault",
            json!({
                "server": bao.address(), "path": "pki/sign/web",
                "auth": {"kubernetes": {"role": "cert-manager", "secretRef": {"name": "vault-jwt"}}},
            }),
        ),
    )
    .await?;
    wait_condition(&issuers, "vault", "Ready", "True", "VaultVerified").await?;
    let certs: Api<Certificate> = Api::namespaced(cp.client(), ns);
    let names = ["k8s.example.com"];
    create(&certs, certificate("k8s", json!({"name": "vault"}), &names)).await?;
    wait_condition(&certs, "k8s", "Ready", "True", "Ready").await?;
    check_issued(&secrets, "k8s", &names, &root, &[]).await?;

    // A login with the wrong role is refused by OpenBao and named in the condition.
    create(
        &issuers,
        issuer(
            "Issuer",
            "bad-role",
            json!({
                "server": bao.address(), "path": "pki/sign/web",
                "auth": {"kubernetes": {"role": "nobody", "secretRef": {"name": "vault-jwt"}}},
            }),
        ),
    )
    .await?;
    let message = wait_condition(&issuers, "bad-role", "Ready", "False", "VaultError").await?;
    assert!(
        message.starts_with(
            "Failed to initialize Vault client: while requesting a Vault token using the \
             Kubernetes auth: error calling Vault server: Error making API request."
        ) && message.contains("/v1/auth/kubernetes/login"),
        "{message}"
    );

    // serviceAccountRef: the controller asks the TokenRequest API for the ServiceAccount's
    // token, which this API server does not serve; the condition names the request.
    create(
        &issuers,
        issuer(
            "Issuer",
            "bound",
            json!({
                "server": bao.address(), "path": "pki/sign/web",
                "auth": {"kubernetes": {"role": "cert-manager",
                    "serviceAccountRef": {"name": "vault-auth", "audiences": ["vault"]}}},
            }),
        ),
    )
    .await?;
    let message = wait_condition(&issuers, "bound", "Ready", "False", "VaultError").await?;
    assert_eq!(
        message,
        format!(
            "Failed to initialize Vault client: while requesting a Vault token using the \
             Kubernetes auth: while requesting a token for the service account {ns}/vault-auth: \
             the server could not find the requested resource"
        )
    );
    assert!(
        reviewer.reviews.load(Ordering::Relaxed) > 0,
        "OpenBao asked for TokenReviews"
    );
    assert!(!controller.stderr().contains(&jwt), "the JWT was logged");
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

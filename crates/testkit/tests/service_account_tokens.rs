//! ServiceAccount tokens of the local API server, as kube-apiserver issues and accepts them:
//! the TokenRequest subresource, TokenReview, and bearer authentication as the ServiceAccount.
//! Signatures are checked with `openssl` against the published public key (`sa.pub` next to
//! the kubeconfig), independently of the server's own verification.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, ensure};
use k8s_openapi::api::authentication::v1::{
    BoundObjectReference, SelfSubjectReview, TokenRequest, TokenRequestSpec, TokenReview,
    TokenReviewSpec, TokenReviewStatus,
};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use testkit::{Backend, ControlPlane, Options};

const ISSUER: &str = "https://issuer.envtest.example";

/// A private control plane with its own issuer and the audit log on.
async fn control_plane() -> anyhow::Result<ControlPlane> {
    Ok(ControlPlane::start(Options {
        audit: true,
        extra_args: vec![format!("--service-account-issuer={ISSUER}")],
        ..Options::default()
    })
    .await?)
}

async fn create_service_account(client: Client, ns: &str, name: &str) -> anyhow::Result<String> {
    let api: Api<ServiceAccount> = Api::namespaced(client, ns);
    let sa = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let sa = api.create(&PostParams::default(), &sa).await?;
    sa.uid().context("ServiceAccount without a UID")
}

/// `POST .../serviceaccounts/<name>/token`.
async fn request_token(
    client: Client,
    ns: &str,
    name: &str,
    audiences: &[&str],
    seconds: Option<i64>,
) -> kube::Result<TokenRequest> {
    let api: Api<ServiceAccount> = Api::namespaced(client, ns);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            expiration_seconds: seconds,
            bound_object_ref: None,
        },
        ..Default::default()
    };
    api.create_token_request(name, &PostParams::default(), &request)
        .await
}

fn token_of(request: &TokenRequest) -> anyhow::Result<String> {
    let token = request
        .status
        .as_ref()
        .map(|s| s.token.clone())
        .unwrap_or_default();
    ensure!(!token.is_empty(), "TokenRequest without a token");
    Ok(token)
}

async fn review(
    client: Client,
    token: &str,
    audiences: &[&str],
) -> anyhow::Result<TokenReviewStatus> {
    let api: Api<TokenReview> = Api::all(client);
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_owned()),
            audiences: (!audiences.is_empty())
                .then(|| audiences.iter().map(|a| (*a).to_owned()).collect()),
        },
        ..Default::default()
    };
    let answer = api.create(&PostParams::default(), &review).await?;
    answer.status.context("TokenReview without a status")
}

/// Base64url without padding (RFC 7515), the JWT encoding.
fn b64url_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .with_context(|| format!("invalid base64url character {:?}", c as char))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

fn b64url_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// The JSON header and claims of a compact JWT.
fn decode_jwt(token: &str) -> anyhow::Result<(Value, Value)> {
    let parts: Vec<&str> = token.split('.').collect();
    ensure!(parts.len() == 3, "not a compact JWS: {} parts", parts.len());
    Ok((
        serde_json::from_slice(&b64url_decode(parts[0])?)?,
        serde_json::from_slice(&b64url_decode(parts[1])?)?,
    ))
}

/// Verifies the RS256 signature of `token` with `openssl` and the server's `sa.pub`.
fn openssl_verifies(cp: &ControlPlane, token: &str) -> anyhow::Result<bool> {
    let dir = cp.run_dir().context("no run dir")?;
    let public = cp.kubeconfig_path().with_file_name("sa.pub");
    let (input, sig) = token.rsplit_once('.').context("not a JWT")?;
    let sig_file = dir.join("jwt.sig");
    std::fs::write(&sig_file, b64url_decode(sig)?)?;
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(&sig_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running openssl")?;
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes())?;
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    Ok(out.status.success())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A client that authenticates with `token` instead of the admin token.
fn client_with_token(cp: &ControlPlane, token: &str) -> anyhow::Result<Client> {
    let mut config = cp.config().clone();
    config.auth_info = kube::config::AuthInfo {
        token: Some(token.to_owned().into()),
        ..Default::default()
    };
    Ok(Client::try_from(config)?)
}

fn api_status(e: &kube::Error) -> Option<(u16, &str)> {
    match e {
        kube::Error::Api(s) => Some((s.code, s.message.as_str())),
        _ => None,
    }
}

/// Tokens are shaped like kube-apiserver's bound tokens, signed with the published key, and
/// requests are validated as kube-apiserver validates them.
#[tokio::test]
async fn token_requests_issue_bound_tokens() -> anyhow::Result<()> {
    let cp = control_plane().await?;
    let ns = cp.namespace("sa-token").await?;
    let uid = create_service_account(cp.client(), &ns, "robot").await?;

    let before = now();
    let answer = request_token(cp.client(), &ns, "robot", &["vault", "other"], Some(600)).await?;
    let token = token_of(&answer)?;
    let (header, claims) = decode_jwt(&token)?;
    assert_eq!(header["alg"], "RS256", "{header}");
    assert!(
        header["kid"].as_str().is_some_and(|k| !k.is_empty()),
        "{header}"
    );
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(
        claims["sub"],
        format!("system:serviceaccount:{}:robot", ns.name())
    );
    assert_eq!(claims["aud"], json!(["vault", "other"]));
    let (iat, nbf, exp) = (
        claims["iat"].as_i64().context("iat")?,
        claims["nbf"].as_i64().context("nbf")?,
        claims["exp"].as_i64().context("exp")?,
    );
    assert!(iat >= before - 1 && iat <= now() + 1, "iat {iat}");
    assert_eq!(nbf, iat);
    assert_eq!(exp - iat, 600, "expirationSeconds");
    assert_eq!(
        claims["kubernetes.io"],
        json!({"namespace": ns.name(), "serviceaccount": {"name": "robot", "uid": uid}})
    );
    let status = answer.status.as_ref().unwrap();
    assert_eq!(status.expiration_timestamp.0.as_second(), exp);
    assert_eq!(
        answer.spec.audiences,
        ["vault", "other"],
        "the answer echoes the spec"
    );
    if cp.backend() == Backend::Envtest {
        assert!(
            openssl_verifies(&cp, &token)?,
            "openssl verifies the token with sa.pub"
        );
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert!(
            !openssl_verifies(&cp, &forged)?,
            "openssl rejects a changed signature"
        );
    }

    // Defaults: the API server's audience (the issuer) and one hour.
    let answer = request_token(cp.client(), &ns, "robot", &[], None).await?;
    let (_, claims) = decode_jwt(&token_of(&answer)?)?;
    assert_eq!(claims["aud"], json!([ISSUER]));
    assert_eq!(answer.spec.expiration_seconds, Some(3600));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    // Less than ten minutes is refused, naming the field; unknown ServiceAccounts are 404.
    let err = request_token(cp.client(), &ns, "robot", &[], Some(599))
        .await
        .expect_err("599 seconds is too short");
    let (code, message) = api_status(&err).context("an API error")?;
    assert_eq!(code, 422, "{err}");
    assert!(
        message.contains("spec.expirationSeconds")
            && message.contains("may not specify a duration less than 10 minutes"),
        "{message}"
    );
    let err = request_token(cp.client(), &ns, "nobody", &[], None)
        .await
        .expect_err("no such ServiceAccount");
    let (code, message) = api_status(&err).context("an API error")?;
    assert_eq!(code, 404, "{err}");
    assert!(message.contains("\"nobody\" not found"), "{message}");
    Ok(())
}

/// TokenReview authenticates tokens for the requested audiences, and only while the
/// ServiceAccount they were issued for exists; tampered tokens are refused.
#[tokio::test]
async fn token_reviews_check_signature_audience_and_service_account() -> anyhow::Result<()> {
    let cp = control_plane().await?;
    let ns = cp.namespace("sa-review").await?;
    let uid = create_service_account(cp.client(), &ns, "robot").await?;
    let token = token_of(&request_token(cp.client(), &ns, "robot", &["vault"], Some(600)).await?)?;

    let status = review(cp.client(), &token, &["vault", "unrelated"]).await?;
    assert!(status.authenticated == Some(true), "{status:?}");
    let user = status.user.context("user")?;
    assert_eq!(
        user.username.as_deref(),
        Some(format!("system:serviceaccount:{}:robot", ns.name()).as_str())
    );
    assert_eq!(user.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(
        user.groups.unwrap_or_default(),
        [
            "system:serviceaccounts".to_owned(),
            format!("system:serviceaccounts:{}", ns.name()),
            "system:authenticated".to_owned(),
        ]
    );
    assert_eq!(status.audiences.unwrap_or_default(), ["vault"]);

    // Audiences: a token for "vault" is neither for another audience nor for the API server.
    let status = review(cp.client(), &token, &["someone-else"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    assert!(
        status
            .error
            .as_deref()
            .is_some_and(|e| e.contains("invalid for the target audiences")),
        "{status:?}"
    );
    let status = review(cp.client(), &token, &[]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    let default_token = token_of(&request_token(cp.client(), &ns, "robot", &[], None).await?)?;
    let status = review(cp.client(), &default_token, &[]).await?;
    assert!(status.authenticated == Some(true), "{status:?}");
    assert_eq!(status.audiences.unwrap_or_default(), [ISSUER]);

    // Tampering: other claims under the same signature, or no signature at all.
    let parts: Vec<&str> = token.split('.').collect();
    let (_, mut claims) = decode_jwt(&token)?;
    claims["kubernetes.io"]["serviceaccount"]["name"] = json!("admin");
    claims["sub"] = json!(format!("system:serviceaccount:{}:admin", ns.name()));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64url_encode(claims.to_string().as_bytes()),
        parts[2]
    );
    let status = review(cp.client(), &tampered, &["vault"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    assert!(
        status
            .error
            .as_deref()
            .is_some_and(|e| e.contains("signature")),
        "{status:?}"
    );
    let unsigned = format!("{}.{}.", b64url_encode(br#"{"alg":"none"}"#), parts[1]);
    let status = review(cp.client(), &unsigned, &["vault"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    let status = review(cp.client(), "not-a-jwt", &["vault"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");

    // Deleting the ServiceAccount invalidates its tokens, also when one of that name returns.
    let sas: Api<ServiceAccount> = Api::namespaced(cp.client(), &ns);
    sas.delete("robot", &DeleteParams::default()).await?;
    let status = review(cp.client(), &token, &["vault"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    assert!(
        status
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not found")),
        "{status:?}"
    );
    let new_uid = create_service_account(cp.client(), &ns, "robot").await?;
    assert_ne!(new_uid, uid);
    let status = review(cp.client(), &token, &["vault"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    assert!(
        status
            .error
            .as_deref()
            .is_some_and(|e| e.contains("does not match claim")),
        "{status:?}"
    );
    Ok(())
}

/// A token bound to a Secret dies with the Secret.
#[tokio::test]
async fn tokens_bound_to_a_secret_end_with_it() -> anyhow::Result<()> {
    let cp = control_plane().await?;
    let ns = cp.namespace("sa-bound").await?;
    create_service_account(cp.client(), &ns, "robot").await?;
    let secrets: Api<Secret> = Api::namespaced(cp.client(), &ns);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("anchor".into()),
            ..Default::default()
        },
        string_data: Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])),
        ..Default::default()
    };
    let secret = secrets.create(&PostParams::default(), &secret).await?;
    let sas: Api<ServiceAccount> = Api::namespaced(cp.client(), &ns);
    let bound = |uid: Option<String>| TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec!["vault".into()],
            expiration_seconds: Some(600),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Secret".into()),
                name: Some("anchor".into()),
                uid,
            }),
        },
        ..Default::default()
    };
    let answer = sas
        .create_token_request("robot", &PostParams::default(), &bound(secret.uid()))
        .await?;
    let token = token_of(&answer)?;
    let (_, claims) = decode_jwt(&token)?;
    assert_eq!(
        claims["kubernetes.io"]["secret"],
        json!({"name": "anchor", "uid": secret.uid()})
    );
    let err = sas
        .create_token_request(
            "robot",
            &PostParams::default(),
            &bound(Some("wrong-uid".into())),
        )
        .await
        .expect_err("a UID that is not the Secret's");
    assert_eq!(api_status(&err).map(|s| s.0), Some(409), "{err}");

    assert!(review(cp.client(), &token, &["vault"]).await?.authenticated == Some(true));
    secrets.delete("anchor", &DeleteParams::default()).await?;
    let status = review(cp.client(), &token, &["vault"]).await?;
    assert!(status.authenticated != Some(true), "{status:?}");
    assert!(
        status
            .error
            .as_deref()
            .is_some_and(|e| e.contains("invalidated")),
        "{status:?}"
    );
    Ok(())
}

/// A token for the API server's audience authenticates requests as the ServiceAccount; tokens
/// for other audiences, forged ones and those of deleted ServiceAccounts get 401.
#[tokio::test]
async fn tokens_authenticate_requests_as_the_service_account() -> anyhow::Result<()> {
    let cp = control_plane().await?;
    let ns = cp.namespace("sa-bearer").await?;
    let uid = create_service_account(cp.client(), &ns, "robot").await?;
    let token = token_of(&request_token(cp.client(), &ns, "robot", &[], None).await?)?;
    let username = format!("system:serviceaccount:{}:robot", ns.name());

    let client = client_with_token(&cp, &token)?;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    let listed = sas.list(&ListParams::default()).await?;
    assert_eq!(listed.items.len(), 1);
    let me = Api::<SelfSubjectReview>::all(client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    let info = me.status.and_then(|s| s.user_info).context("userInfo")?;
    assert_eq!(info.username.as_deref(), Some(username.as_str()));
    assert_eq!(info.uid.as_deref(), Some(uid.as_str()));
    assert!(
        info.groups
            .unwrap_or_default()
            .contains(&format!("system:serviceaccounts:{}", ns.name()))
    );
    let events = cp.audit_events()?;
    let path = format!("/api/v1/namespaces/{}/serviceaccounts", ns.name());
    assert!(
        events
            .iter()
            .any(|e| e.verb == "list" && e.request_uri.starts_with(&path) && e.user == username),
        "the audit log shows the list by {username}"
    );

    // The ServiceAccount may review tokens itself (what OpenBao does with a reviewer JWT).
    let status = review(client.clone(), &token, &[]).await?;
    assert!(status.authenticated == Some(true), "{status:?}");

    let vault_token =
        token_of(&request_token(cp.client(), &ns, "robot", &["vault"], Some(600)).await?)?;
    let (_, claims) = decode_jwt(&token)?;
    let forged = format!(
        "{}.{}.{}",
        token.split('.').next().unwrap(),
        b64url_encode(claims.to_string().replace("robot", "robot2").as_bytes()),
        token.rsplit('.').next().unwrap()
    );
    for (what, bad) in [
        ("a token for another audience", vault_token.as_str()),
        ("a forged token", &forged),
        ("garbage", "x.y.z"),
    ] {
        let api: Api<ServiceAccount> = Api::namespaced(client_with_token(&cp, bad)?, &ns);
        let err = api.list(&ListParams::default()).await.expect_err(what);
        assert_eq!(api_status(&err).map(|s| s.0), Some(401), "{what}: {err}");
    }

    Api::<ServiceAccount>::namespaced(cp.client(), &ns)
        .delete("robot", &DeleteParams::default())
        .await?;
    let err = sas
        .list(&ListParams::default())
        .await
        .expect_err("the ServiceAccount is gone");
    assert_eq!(api_status(&err).map(|s| s.0), Some(401), "{err}");
    Ok(())
}

/// Discovery lists the token subresource and the authentication.k8s.io group.
#[tokio::test]
async fn discovery_lists_token_resources() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let client = cp.client();
    let core = client.list_core_api_resources("v1").await?;
    let token = core
        .resources
        .iter()
        .find(|r| r.name == "serviceaccounts/token")
        .context("serviceaccounts/token in /api/v1")?;
    assert_eq!(token.kind, "TokenRequest");
    assert_eq!(token.group.as_deref(), Some("authentication.k8s.io"));
    assert_eq!(token.verbs, ["create"]);
    let auth = client
        .list_api_group_resources("authentication.k8s.io/v1")
        .await?;
    let reviews = auth
        .resources
        .iter()
        .find(|r| r.name == "tokenreviews")
        .context("tokenreviews in authentication.k8s.io/v1")?;
    assert_eq!(reviews.verbs, ["create"]);
    assert!(!reviews.namespaced);
    let groups = client.list_api_groups().await?;
    assert!(
        groups
            .groups
            .iter()
            .any(|g| g.name == "authentication.k8s.io"),
        "authentication.k8s.io in /apis"
    );
    Ok(())
}

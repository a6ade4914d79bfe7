//! The ACME client against a real Pebble (testkit::pebble): registration with RSA and ECDSA
//! keys, External Account Binding, HTTP-01 (served by a solver in this test) and DNS-01
//! (challtestsrv TXT records) through to a downloaded chain, failed validation, badNonce
//! retries and a Pebble restart mid-order.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acme::{AccountKey, Client, ClientOptions, ExternalAccountBinding, Metrics, NewOrder, Status};
use pki::{CsrSpec, EcCurve, KeyType, PrivateKey};
use prometheus::Registry;
use testkit::pebble::{Pebble, PebbleOptions};

const WAIT: Duration = Duration::from_secs(60);

fn account_key(key_type: KeyType) -> AccountKey {
    let key = PrivateKey::generate(key_type).unwrap();
    // Through PEM as cert-manager stores it (PKCS#1 for RSA, SEC 1 for ECDSA).
    let pem = key.to_pem(pki::KeyEncoding::Pkcs1).unwrap();
    AccountKey::from_pem(pem.as_bytes()).unwrap()
}

struct Setup {
    client: Client,
    registry: Registry,
}

fn client_with(pebble: &Pebble, key: AccountKey, tweak: impl FnOnce(&mut ClientOptions)) -> Setup {
    let registry = Registry::new();
    let metrics = Metrics::new();
    metrics.register(&registry).unwrap();
    let mut opts = ClientOptions {
        metrics: Some(metrics),
        poll_interval: Duration::from_millis(200),
        ..ClientOptions::default()
    };
    tweak(&mut opts);
    let client = Client::with_options(
        &pebble.directory_url(),
        &acme::Trust::only(pebble.ca_pem()),
        key,
        opts,
    )
    .unwrap();
    Setup { client, registry }
}

fn new_client(pebble: &Pebble, key_type: KeyType) -> Setup {
    client_with(pebble, account_key(key_type), |_| {})
}

/// Request counts by (action, status) from the registry; requests other than POST (directory
/// GET, newNonce HEAD) are counted under the action that needed them, as in cert-manager, and
/// have "<method> " before the status here.
fn request_counts(registry: &Registry) -> HashMap<(String, String), u64> {
    let mut out = HashMap::new();
    for family in registry.gather() {
        if family.name() != "certmanager_http_acme_client_request_count" {
            continue;
        }
        for m in family.get_metric() {
            let label = |n: &str| {
                m.get_label()
                    .iter()
                    .find(|l| l.name() == n)
                    .map(|l| l.value().to_string())
                    .unwrap_or_default()
            };
            assert_eq!(label("scheme"), "https");
            assert!(label("host").starts_with("127.0.0.1:"));
            let status = match label("method").as_str() {
                "POST" => label("status"),
                other => format!("{other} {}", label("status")),
            };
            *out.entry((label("action"), status)).or_default() +=
                m.get_counter().get_value() as u64;
        }
    }
    out
}

/// An HTTP-01 solver on 127.0.0.1:<port>: serves the registered key authorizations.
struct Solver {
    answers: Arc<Mutex<HashMap<String, String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Solver {
    async fn start(port: u16) -> Solver {
        use axum::extract::{Path, State};
        use axum::http::StatusCode;
        type Answers = Arc<Mutex<HashMap<String, String>>>;
        async fn answer(
            State(answers): State<Answers>,
            Path(token): Path<String>,
        ) -> Result<String, StatusCode> {
            answers
                .lock()
                .unwrap()
                .get(&token)
                .cloned()
                .ok_or(StatusCode::NOT_FOUND)
        }
        let answers: Answers = Arc::default();
        let app = axum::Router::new()
            .route(
                "/.well-known/acme-challenge/{token}",
                axum::routing::get(answer),
            )
            .with_state(answers.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("HTTP-01 port free");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Solver { answers, server }
    }

    fn serve(&self, token: &str, content: &str) {
        self.answers
            .lock()
            .unwrap()
            .insert(token.to_string(), content.to_string());
    }
}

impl Drop for Solver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Finalizes a ready order with a CSR for its identifiers and returns the PEM chain.
async fn finalize_and_download(
    client: &Client,
    order: &acme::Order,
    dns_names: &[&str],
    ips: &[IpAddr],
) -> String {
    let ready = client.wait_order(&order.url, WAIT).await.unwrap();
    assert_eq!(ready.status, Status::Ready, "{ready:?}");
    let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
    let spec = CsrSpec {
        dns_names: dns_names.iter().map(|s| s.to_string()).collect(),
        ip_addresses: ips.to_vec(),
        ..CsrSpec::default()
    };
    let csr = pki::create_csr(&spec, &key, None).unwrap();
    let finalized = client.finalize(&ready.finalize, csr.der()).await.unwrap();
    assert!(
        matches!(finalized.status, Status::Processing | Status::Valid),
        "{finalized:?}"
    );
    let valid = client.wait_order(&order.url, WAIT).await.unwrap();
    assert_eq!(valid.status, Status::Valid, "{valid:?}");
    let chain = client
        .certificate_chain(valid.certificate.as_deref().expect("certificate URL"))
        .await
        .unwrap();
    let certs = pki::decode_certificate_chain(chain.pem.as_bytes()).unwrap();
    assert!(certs.len() >= 2, "leaf and intermediate");
    let leaf = &certs[0];
    let mut names = leaf.spec.dns_names.clone();
    names.sort();
    let mut wanted: Vec<String> = dns_names.iter().map(|s| s.to_string()).collect();
    wanted.sort();
    assert_eq!(names, wanted);
    assert_eq!(leaf.spec.ip_addresses, ips);
    assert!(leaf.public_key_matches(key.public_key()).unwrap());
    for pair in certs.windows(2) {
        pair[0].check_signature_from(&pair[1]).unwrap();
    }
    chain.pem
}

#[tokio::test]
async fn register_rsa_2048_twice_returns_the_same_account() {
    let pebble = Pebble::start(PebbleOptions::default()).await.unwrap();
    let Setup { client, registry } = new_client(&pebble, KeyType::Rsa(2048));
    assert_eq!(client.key().algorithm(), "RS256");

    let first = client
        .register(Some("ops@example.com"), None, true)
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.status, Status::Valid);
    assert_eq!(first.contact, ["mailto:ops@example.com"]);
    assert!(first.uri.starts_with("https://127.0.0.1:"), "{}", first.uri);

    let again = client.register(None, None, true).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.uri, first.uri);

    // A fresh client with the same key finds the account by key.
    let other = Client::new(
        &pebble.directory_url(),
        acme::Trust::only(pebble.ca_pem()),
        client.key().clone(),
    )
    .unwrap();
    assert_eq!(other.lookup().await.unwrap().uri, first.uri);

    let updated = client
        .update_account(Some("new@example.com"))
        .await
        .unwrap();
    assert_eq!(updated.contact, ["mailto:new@example.com"]);

    let counts = request_counts(&registry);
    assert_eq!(counts[&("register_account".into(), "GET 200".into())], 1);
    assert_eq!(counts[&("register_account".into(), "201".into())], 1);
    assert_eq!(counts[&("register_account".into(), "200".into())], 1);
    assert!(counts.contains_key(&("update_registration".into(), "200".into())));
}

#[tokio::test]
async fn register_with_ecdsa_keys_and_an_unknown_key_is_typed() {
    let pebble = Pebble::start(PebbleOptions {
        nonce_reject_percent: Some(0),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    for (key_type, alg) in [
        (KeyType::Ecdsa(EcCurve::P256), "ES256"),
        (KeyType::Ecdsa(EcCurve::P384), "ES384"),
    ] {
        let Setup { client, .. } = new_client(&pebble, key_type);
        assert_eq!(client.key().algorithm(), alg);
        let err = client.lookup().await.unwrap_err();
        assert!(err.is_account_does_not_exist(), "{err}");
        assert!(!err.is_transient());
        let account = client.register(None, None, true).await.unwrap();
        assert!(account.created);
        assert_eq!(client.lookup().await.unwrap().uri, account.uri);
    }
}

#[tokio::test]
async fn external_account_binding_is_required_and_checked() {
    let mac_key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let pebble = Pebble::start(PebbleOptions {
        eab_required: true,
        eab_keys: vec![("kid-1".into(), mac_key.into())],
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let Setup { client, .. } = new_client(&pebble, KeyType::Rsa(2048));
    assert!(
        client
            .discover()
            .await
            .unwrap()
            .meta
            .external_account_required
    );

    let err = client.register(None, None, true).await.unwrap_err();
    let problem = err.problem().expect("a problem document");
    assert!(problem.is_external_account_required(), "{err}");
    assert!(problem.is_client_error(), "{problem}");

    let wrong_key = ExternalAccountBinding::from_base64url(
        "kid-1",
        "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH",
        acme::EabAlgorithm::Hs256,
    )
    .unwrap();
    let err = client
        .register(None, Some(&wrong_key), true)
        .await
        .unwrap_err();
    assert!(err.problem().is_some_and(|p| p.is_client_error()), "{err}");

    let eab = ExternalAccountBinding::from_base64url("kid-1", mac_key, acme::EabAlgorithm::Hs256)
        .unwrap();
    let account = client.register(None, Some(&eab), true).await.unwrap();
    assert!(account.created);
    assert_eq!(account.status, Status::Valid);
}

#[tokio::test]
async fn http01_order_is_validated_finalized_and_downloaded() {
    let pebble = Pebble::start(PebbleOptions {
        authz_reuse_percent: Some(0),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let solver = Solver::start(pebble.http01_port()).await;
    let Setup { client, registry } = new_client(&pebble, KeyType::Rsa(2048));
    client.register(None, None, true).await.unwrap();

    let names = ["http01.example.test", "www.http01.example.test"];
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let order = client
        .new_order(&NewOrder::new(&names, &[ip]))
        .await
        .unwrap();
    assert_eq!(order.status, Status::Pending);
    assert_eq!(order.authorizations.len(), 3);
    assert!(!order.url.is_empty() && !order.finalize.is_empty());

    for url in &order.authorizations {
        let authz = client.get_authorization(url).await.unwrap();
        assert_eq!(authz.status, Status::Pending);
        assert!(!authz.wildcard);
        let challenge = authz.challenge("http-01").expect("http-01 offered").clone();
        solver.serve(&challenge.token, &client.http01_response(&challenge.token));
        let accepted = client.accept_challenge(&challenge.url).await.unwrap();
        assert!(
            matches!(
                accepted.status,
                Status::Pending | Status::Processing | Status::Valid
            ),
            "{accepted:?}"
        );
        let done = client.wait_authorization(url, WAIT).await.unwrap();
        assert_eq!(done.status, Status::Valid, "{done:?}");
        let challenge = client.get_challenge(&challenge.url).await.unwrap();
        assert_eq!(challenge.status, Status::Valid);
        assert!(challenge.error.is_none());
    }

    finalize_and_download(&client, &order, &names, &[ip]).await;

    let counts = request_counts(&registry);
    for action in [
        "register_account",
        "authorize_order",
        "get_authorization",
        "accept_challenge",
        "wait_authorization",
        "create_order_cert",
        "wait_order",
        "fetch_cert",
    ] {
        assert!(
            counts
                .keys()
                .any(|(a, s)| a == action && s.starts_with('2')),
            "no successful {action} request counted: {counts:?}"
        );
    }
    let durations = registry
        .gather()
        .into_iter()
        .find(|f| f.name() == "certmanager_http_acme_client_request_duration_seconds")
        .expect("duration metric");
    let observed: u64 = durations
        .get_metric()
        .iter()
        .map(|m| m.get_histogram().get_sample_count())
        .sum();
    let counted: u64 = counts.values().sum();
    assert_eq!(observed, counted);
}

#[tokio::test]
async fn dns01_wildcard_order_via_challtestsrv_txt_records() {
    let pebble = Pebble::start(PebbleOptions {
        authz_reuse_percent: Some(0),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let dns = pebble.challtestsrv().expect("challtestsrv runs");
    let Setup { client, .. } = new_client(&pebble, KeyType::Ecdsa(EcCurve::P256));
    client.register(None, None, true).await.unwrap();

    let names = ["*.wild.example.test", "plain.example.test"];
    let order = client.new_order(&NewOrder::new(&names, &[])).await.unwrap();
    for url in &order.authorizations {
        let authz = client.get_authorization(url).await.unwrap();
        if authz.identifier.value == "wild.example.test" {
            assert!(authz.wildcard);
            assert!(
                authz.challenge("http-01").is_none(),
                "wildcards: DNS-01 only"
            );
        }
        let challenge = authz.challenge("dns-01").expect("dns-01 offered");
        dns.set_txt(
            &format!("_acme-challenge.{}", authz.identifier.value),
            &client.dns01_value(&challenge.token),
        )
        .await
        .unwrap();
        client.accept_challenge(&challenge.url).await.unwrap();
    }
    for url in &order.authorizations {
        let done = client.wait_authorization(url, WAIT).await.unwrap();
        assert_eq!(done.status, Status::Valid, "{done:?}");
    }
    finalize_and_download(&client, &order, &names, &[]).await;
}

#[tokio::test]
async fn wrong_key_authorization_makes_the_order_invalid_with_the_problem() {
    let pebble = Pebble::start(PebbleOptions {
        authz_reuse_percent: Some(0),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let solver = Solver::start(pebble.http01_port()).await;
    let Setup { client, .. } = new_client(&pebble, KeyType::Rsa(2048));
    client.register(None, None, true).await.unwrap();

    let order = client
        .new_order(&NewOrder::new(&["invalid.example.test"], &[]))
        .await
        .unwrap();
    let authz_url = &order.authorizations[0];
    let authz = client.get_authorization(authz_url).await.unwrap();
    let challenge = authz.challenge("http-01").unwrap().clone();
    solver.serve(
        &challenge.token,
        &format!("{}.not-the-thumbprint", challenge.token),
    );
    client.accept_challenge(&challenge.url).await.unwrap();

    let failed = client.wait_authorization(authz_url, WAIT).await.unwrap();
    assert_eq!(failed.status, Status::Invalid);
    let challenge = client.get_challenge(&challenge.url).await.unwrap();
    assert_eq!(challenge.status, Status::Invalid);
    let problem = challenge.error.expect("the challenge carries the problem");
    assert!(problem.is_unauthorized(), "{problem}");
    assert!(problem.detail.contains("key authorization"), "{problem}");

    let order = client.wait_order(&order.url, WAIT).await.unwrap();
    assert_eq!(order.status, Status::Invalid);

    // Finalizing an invalid order is a typed, final client error.
    let csr = pki::create_csr(
        &CsrSpec {
            dns_names: vec!["invalid.example.test".into()],
            ..CsrSpec::default()
        },
        &PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap(),
        None,
    )
    .unwrap();
    let err = client
        .finalize(&order.finalize, csr.der())
        .await
        .unwrap_err();
    assert!(err.problem().is_some_and(|p| p.is_client_error()), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn bad_nonces_are_retried() {
    let pebble = Pebble::start(PebbleOptions {
        nonce_reject_percent: Some(50),
        always_valid: true,
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    // 50% rejections: 12 retries make a spurious failure of this test a 1 in 8192 event per
    // request.
    let Setup { client, registry } = client_with(&pebble, account_key(KeyType::Rsa(2048)), |o| {
        o.bad_nonce_retries = 12
    });
    client.register(None, None, true).await.unwrap();
    let names = ["nonce.example.test"];
    let order = client.new_order(&NewOrder::new(&names, &[])).await.unwrap();
    for url in &order.authorizations {
        let authz = client.get_authorization(url).await.unwrap();
        let challenge = authz.challenge("http-01").unwrap();
        client.accept_challenge(&challenge.url).await.unwrap();
    }
    finalize_and_download(&client, &order, &names, &[]).await;
    let rejected: u64 = request_counts(&registry)
        .iter()
        .filter(|((_, status), _)| status == "400")
        .map(|(_, n)| n)
        .sum();
    assert!(rejected > 0, "no badNonce seen at 50% rejection");
}

#[tokio::test]
async fn bad_nonce_retries_are_bounded_and_the_error_is_typed() {
    let pebble = Pebble::start(PebbleOptions {
        nonce_reject_percent: Some(100),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let Setup { client, registry } = client_with(&pebble, account_key(KeyType::Rsa(2048)), |o| {
        o.bad_nonce_retries = 2
    });
    let err = client.register(None, None, true).await.unwrap_err();
    assert!(err.is_bad_nonce() && err.is_transient(), "{err}");
    let counts = request_counts(&registry);
    assert_eq!(counts[&("register_account".into(), "400".into())], 3);
}

#[tokio::test]
async fn pebble_restart_mid_order_gives_typed_errors_and_registration_recovers() {
    let mut pebble = Pebble::start(PebbleOptions::default()).await.unwrap();
    let Setup { client, .. } = new_client(&pebble, KeyType::Rsa(2048));
    assert!(client.register(None, None, true).await.unwrap().created);
    let order = client
        .new_order(&NewOrder::new(&["restart.example.test"], &[]))
        .await
        .unwrap();
    let roots_before = pebble.issuer_roots_pem().await.unwrap();

    pebble.restart().await.unwrap();
    assert_ne!(pebble.issuer_roots_pem().await.unwrap(), roots_before);

    // The stale nonces are rejected and retried; then the account is unknown.
    let err = client.get_order(&order.url).await.unwrap_err();
    assert!(
        err.is_account_does_not_exist(),
        "expected accountDoesNotExist, got {err}"
    );
    assert!(!err.is_transient());
    assert_eq!(
        client.account_url_cached(),
        None,
        "the stale account URL is forgotten"
    );

    let after = client.register(None, None, true).await.unwrap();
    assert!(after.created);
    assert_eq!(
        client.account_url_cached().as_deref(),
        Some(after.uri.as_str())
    );

    // The order died with the old Pebble: a final, recognisable error.
    let err = client.get_order(&order.url).await.unwrap_err();
    assert!(err.is_not_found(), "expected 404, got {err}");

    let order = client
        .new_order(&NewOrder::new(&["restart.example.test"], &[]))
        .await
        .unwrap();
    assert_eq!(order.status, Status::Pending);
}

#[tokio::test]
async fn preferred_chain_selects_an_alternate_root() {
    let pebble = Pebble::start(PebbleOptions {
        always_valid: true,
        alternate_roots: Some(1),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let Setup { client, .. } = new_client(&pebble, KeyType::Ecdsa(EcCurve::P256));
    client.register(None, None, true).await.unwrap();
    let names = ["chains.example.test"];
    let order = client.new_order(&NewOrder::new(&names, &[])).await.unwrap();
    for url in &order.authorizations {
        let authz = client.get_authorization(url).await.unwrap();
        client
            .accept_challenge(&authz.challenge("http-01").unwrap().url)
            .await
            .unwrap();
    }
    let default_pem = finalize_and_download(&client, &order, &names, &[]).await;
    let valid = client.get_order(&order.url).await.unwrap();
    let cert_url = valid.certificate.unwrap();
    let chain = client.certificate_chain(&cert_url).await.unwrap();
    assert_eq!(chain.pem, default_pem);
    assert_eq!(chain.alternates.len(), 1, "{chain:?}");

    let cn_of_root = |pem: String| {
        pki::decode_certificate_chain(pem.as_bytes()).unwrap()[0]
            .spec
            .subject
            .common_name
            .clone()
    };
    let alternate_root = cn_of_root(pebble.management_get("/roots/1").await.unwrap());
    let preferred = client
        .preferred_chain(&cert_url, &alternate_root)
        .await
        .unwrap();
    assert_ne!(preferred.pem, default_pem);
    let certs = pki::decode_certificate_chain(preferred.pem.as_bytes()).unwrap();
    assert_eq!(certs.last().unwrap().issuer.common_name, alternate_root);

    // No chain matches: the default one.
    let fallback = client
        .preferred_chain(&cert_url, "No Such Root")
        .await
        .unwrap();
    assert_eq!(fallback.pem, default_pem);
}

#[tokio::test]
async fn order_validity_window_unknown_profile_and_authorization_deactivation() {
    let pebble = Pebble::start(PebbleOptions {
        authz_reuse_percent: Some(0),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let Setup { client, .. } = new_client(&pebble, KeyType::Rsa(2048));
    client.register(None, None, true).await.unwrap();

    let not_after = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48);
    let mut request = NewOrder::new(&["window.example.test"], &[]);
    request.not_after = Some(not_after);
    let order = client.new_order(&request).await.unwrap();
    let echoed: jiff::Timestamp = order.not_after.as_deref().unwrap().parse().unwrap();
    assert_eq!(echoed.as_second(), not_after.as_second());

    request.profile = Some("shortlived".into());
    let err = client.new_order(&request).await.unwrap_err();
    assert!(matches!(err, acme::Error::Unsupported(_)), "{err}");

    let url = &order.authorizations[0];
    let deactivated = client.deactivate_authorization(url).await.unwrap();
    assert_eq!(deactivated.status, Status::Deactivated);
    assert_eq!(
        client.get_authorization(url).await.unwrap().status,
        Status::Deactivated
    );
    // Pebble marks the order deactivated with its only authorization (RFC 8555: invalid).
    let order = client.get_order(&order.url).await.unwrap();
    assert!(
        matches!(order.status, Status::Deactivated | Status::Invalid),
        "{order:?}"
    );
}

/// testkit options the DNS-01 (bind9) and solver-less tests build on: Pebble resolving through
/// a DNS server it did not start, and challtestsrv answering HTTP-01 itself.
#[tokio::test]
async fn pebble_with_an_outside_dns_server_and_challtestsrv_http01() {
    let first = Pebble::start(PebbleOptions {
        authz_reuse_percent: Some(0),
        challtestsrv_http01: true,
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    let challtestsrv = first.challtestsrv().unwrap();
    let second = Pebble::start(PebbleOptions {
        authz_reuse_percent: Some(0),
        dns_server: Some(first.dns_server()),
        ..PebbleOptions::default()
    })
    .await
    .unwrap();
    assert!(second.challtestsrv().is_none());
    assert_eq!(second.dns_server(), first.dns_server());

    // DNS-01 on the second Pebble, with the record in the first one's challtestsrv.
    let Setup { client, .. } = new_client(&second, KeyType::Rsa(2048));
    client.register(None, None, true).await.unwrap();
    let order = client
        .new_order(&NewOrder::new(&["outside-dns.example.test"], &[]))
        .await
        .unwrap();
    let authz = client
        .get_authorization(&order.authorizations[0])
        .await
        .unwrap();
    let challenge = authz.challenge("dns-01").unwrap();
    challtestsrv
        .set_txt(
            "_acme-challenge.outside-dns.example.test",
            &client.dns01_value(&challenge.token),
        )
        .await
        .unwrap();
    client.accept_challenge(&challenge.url).await.unwrap();
    let done = client
        .wait_authorization(&order.authorizations[0], WAIT)
        .await
        .unwrap();
    assert_eq!(done.status, Status::Valid, "{done:?}");

    // HTTP-01 on the first Pebble, answered by challtestsrv.
    let Setup { client, .. } = new_client(&first, KeyType::Ecdsa(EcCurve::P256));
    client.register(None, None, true).await.unwrap();
    let order = client
        .new_order(&NewOrder::new(&["challtestsrv-http.example.test"], &[]))
        .await
        .unwrap();
    let authz = client
        .get_authorization(&order.authorizations[0])
        .await
        .unwrap();
    let challenge = authz.challenge("http-01").unwrap();
    challtestsrv
        .add_http01(&challenge.token, &client.http01_response(&challenge.token))
        .await
        .unwrap();
    client.accept_challenge(&challenge.url).await.unwrap();
    let done = client
        .wait_authorization(&order.authorizations[0], WAIT)
        .await
        .unwrap();
    assert_eq!(done.status, Status::Valid, "{done:?}");
}

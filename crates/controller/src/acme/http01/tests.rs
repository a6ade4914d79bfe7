//! The solver objects against upstream's shapes (pure), the self check against loopback
//! servers, and present/cleanup against the local control plane.

use std::collections::BTreeMap;

use api::acme::{
    AcmeChallengeSolver, AcmeChallengeSolverHttp01, AcmeChallengeSolverHttp01GatewayHttpRoute,
    AcmeChallengeSolverHttp01Ingress, AcmeChallengeSolverHttp01IngressObjectMeta,
    AcmeChallengeSolverHttp01IngressPodObjectMeta, AcmeChallengeSolverHttp01IngressPodResources,
    AcmeChallengeSolverHttp01IngressPodSecurityContext, AcmeChallengeSolverHttp01IngressPodSpec,
    AcmeChallengeSolverHttp01IngressPodTemplate, AcmeChallengeSolverHttp01IngressTemplate,
};
use api::challenge::AcmeChallengeType;
use api::{Challenge, ChallengeSpec, IssuerReference};
use config::controller::AcmeHttp01Config;
use k8s_openapi::api::core::v1::{Pod, Service, Toleration};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

const TOKEN: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
const KEY: &str =
    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

fn challenge(ingress: AcmeChallengeSolverHttp01Ingress) -> Challenge {
    let mut ch = Challenge::new(
        "web-1-2-3",
        ChallengeSpec {
            url: "https://acme.test/chall/1".into(),
            authorization_url: "https://acme.test/authz/1".into(),
            dns_name: "example.com".into(),
            challenge_type: AcmeChallengeType::Http01,
            token: TOKEN.into(),
            key: KEY.into(),
            solver: AcmeChallengeSolver {
                http01: Some(AcmeChallengeSolverHttp01 {
                    ingress: Some(ingress),
                    gateway_http_route: None,
                }),
                ..Default::default()
            },
            issuer_ref: IssuerReference {
                name: "le".into(),
                kind: Some("Issuer".into()),
                group: Some("cert-manager.io".into()),
            },
            wildcard: false,
        },
    );
    ch.metadata.namespace = Some("ns".into());
    ch.metadata.uid = Some("6f0e3c5e-0000-4000-8000-000000000001".into());
    ch
}

fn config() -> AcmeHttp01Config {
    let mut cfg = config::controller::ControllerConfig::default().acme_http01;
    cfg.solver_image = "ghcr.io/cert-manager-rs/acmesolver:0.1.0".into();
    cfg
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn labels_are_adler32_of_domain_and_token() {
    let ch = challenge(Default::default());
    assert_eq!(
        solver_labels(&ch),
        map(&[
            ("acme.cert-manager.io/http-domain", "446694490"),
            ("acme.cert-manager.io/http-token", "1204752135"),
            ("acme.cert-manager.io/http01-solver", "true"),
        ])
    );
    assert_eq!(adler32(b""), 1);
    assert_eq!(adler32(b"tok"), 44564815);
    assert_eq!(
        label_selector(&solver_labels(&ch)),
        "acme.cert-manager.io/http-domain=446694490,acme.cert-manager.io/http-token=1204752135,acme.cert-manager.io/http01-solver=true"
    );
}

#[test]
fn owner_reference_is_a_controller_reference_to_the_challenge() {
    let ch = challenge(Default::default());
    let r = controller_ref(&ch).unwrap();
    assert_eq!(r.api_version, "acme.cert-manager.io/v1");
    assert_eq!(r.kind, "Challenge");
    assert_eq!(r.name, "web-1-2-3");
    assert_eq!(r.uid, "6f0e3c5e-0000-4000-8000-000000000001");
    assert_eq!(
        (r.controller, r.block_owner_deletion),
        (Some(true), Some(true))
    );

    let mut no_uid = ch.clone();
    no_uid.metadata.uid = None;
    let err = controller_ref(&no_uid).unwrap_err().to_string();
    assert!(err.contains("ns/web-1-2-3 has no uid"), "{err}");
}

#[test]
fn default_pod_matches_upstream() {
    let ch = challenge(Default::default());
    let mut cfg = config();
    cfg.solver_extra_labels = map(&[
        ("team", "platform"),
        // Identity labels cannot be overridden by extra labels.
        ("acme.cert-manager.io/http01-solver", "false"),
    ]);
    cfg.solver_runtime_class_name = "gvisor".into();
    let pod = pod::build(&ch, &cfg, None, controller_ref(&ch).unwrap()).unwrap();
    let meta = &pod.metadata;
    assert_eq!(meta.generate_name.as_deref(), Some("cm-acme-http-solver-"));
    assert_eq!(meta.name, None);
    assert_eq!(meta.namespace.as_deref(), Some("ns"));
    let mut labels = solver_labels(&ch);
    labels.insert("team".into(), "platform".into());
    assert_eq!(meta.labels.as_ref(), Some(&labels));
    assert_eq!(
        meta.annotations.as_ref(),
        Some(&map(&[
            ("sidecar.istio.io/inject", "false"),
            ("cluster-autoscaler.kubernetes.io/safe-to-evict", "true"),
        ]))
    );
    assert_eq!(meta.owner_references.as_ref().unwrap()[0].kind, "Challenge");

    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.automount_service_account_token, Some(false));
    assert_eq!(spec.enable_service_links, Some(false));
    assert_eq!(spec.restart_policy.as_deref(), Some("OnFailure"));
    assert_eq!(spec.runtime_class_name.as_deref(), Some("gvisor"));
    assert_eq!(
        spec.node_selector.as_ref(),
        Some(&map(&[("kubernetes.io/os", "linux")]))
    );
    let psc = spec.security_context.as_ref().unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(
        psc.seccomp_profile.as_ref().unwrap().type_,
        "RuntimeDefault"
    );

    let [c] = spec.containers.as_slice() else {
        panic!("one container")
    };
    assert_eq!(c.name, "acmesolver");
    assert_eq!(
        c.image.as_deref(),
        Some("ghcr.io/cert-manager-rs/acmesolver:0.1.0")
    );
    assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(
        c.args.as_deref().unwrap(),
        [
            "--listen-port=8089".to_string(),
            "--domain=example.com".into(),
            format!("--token={TOKEN}"),
            format!("--key={KEY}"),
        ]
    );
    let port = &c.ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.name.as_deref(), port.container_port),
        (Some("http"), 8089)
    );
    let res = c.resources.as_ref().unwrap();
    let q = |s: &str| Quantity(s.into());
    assert_eq!(
        res.requests.as_ref().unwrap(),
        &BTreeMap::from([("cpu".into(), q("10m")), ("memory".into(), q("64Mi"))])
    );
    assert_eq!(
        res.limits.as_ref().unwrap(),
        &BTreeMap::from([("cpu".into(), q("100m")), ("memory".into(), q("64Mi"))])
    );
    let sc = c.security_context.as_ref().unwrap();
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(
        sc.capabilities.as_ref().unwrap().drop.as_deref(),
        Some(&["ALL".to_string()][..])
    );
}

#[test]
fn pod_template_overrides_merge_as_upstream() {
    let template = AcmeChallengeSolverHttp01IngressPodTemplate {
        metadata: Some(AcmeChallengeSolverHttp01IngressPodObjectMeta {
            labels: Some(map(&[("team", "a")])),
            annotations: Some(map(&[("sidecar.istio.io/inject", "true"), ("x", "y")])),
        }),
        spec: Some(AcmeChallengeSolverHttp01IngressPodSpec {
            node_selector: Some(map(&[("zone", "a")])),
            tolerations: Some(vec![Toleration {
                key: Some("dedicated".into()),
                operator: Some("Exists".into()),
                ..Default::default()
            }]),
            priority_class_name: Some("high".into()),
            service_account_name: Some("solver".into()),
            security_context: Some(AcmeChallengeSolverHttp01IngressPodSecurityContext {
                run_as_user: Some(1000),
                ..Default::default()
            }),
            resources: Some(AcmeChallengeSolverHttp01IngressPodResources {
                limits: Some(BTreeMap::from([(
                    "memory".into(),
                    Quantity("128Mi".into()),
                )])),
                requests: None,
            }),
            ..Default::default()
        }),
    };
    let ch = challenge(Default::default());
    let pod = pod::build(
        &ch,
        &config(),
        Some(&template),
        controller_ref(&ch).unwrap(),
    )
    .unwrap();
    let labels = pod.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["team"], "a");
    assert_eq!(labels["acme.cert-manager.io/http01-solver"], "true");
    let annotations = pod.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations["sidecar.istio.io/inject"], "true");
    assert_eq!(annotations["x"], "y");
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(
        spec.node_selector.as_ref(),
        Some(&map(&[("kubernetes.io/os", "linux"), ("zone", "a")]))
    );
    assert_eq!(spec.tolerations.as_ref().unwrap().len(), 1);
    assert_eq!(spec.priority_class_name.as_deref(), Some("high"));
    assert_eq!(spec.service_account_name.as_deref(), Some("solver"));
    // The template's security context replaces the default one as a whole.
    let psc = spec.security_context.as_ref().unwrap();
    assert_eq!((psc.run_as_user, psc.run_as_non_root), (Some(1000), None));
    assert_eq!(psc.seccomp_profile, None);
    let res = spec.containers[0].resources.as_ref().unwrap();
    assert_eq!(res.limits.as_ref().unwrap()["memory"].0, "128Mi");
    assert_eq!(res.limits.as_ref().unwrap()["cpu"].0, "100m");
    assert_eq!(res.requests.as_ref().unwrap()["memory"].0, "64Mi");
}

#[test]
fn service_selects_the_pod_by_identity_labels() {
    let ch = challenge(Default::default());
    let extra = map(&[("team", "platform")]);
    let svc = service::build(&ch, None, &extra, controller_ref(&ch).unwrap());
    assert_eq!(
        svc.metadata.generate_name.as_deref(),
        Some("cm-acme-http-solver-")
    );
    assert_eq!(
        svc.metadata.annotations.as_ref(),
        Some(&map(&[("auth.istio.io/8089", "NONE")]))
    );
    assert_eq!(svc.metadata.labels.as_ref().unwrap()["team"], "platform");
    let spec = svc.spec.as_ref().unwrap();
    assert_eq!(spec.type_.as_deref(), Some("NodePort"));
    assert_eq!(spec.selector.as_ref(), Some(&solver_labels(&ch)));
    let port = &spec.ports.as_ref().unwrap()[0];
    assert_eq!(port.name.as_deref(), Some("http"));
    assert_eq!(port.port, 8089);
    assert_eq!(
        port.target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(8089))
    );
    let cluster_ip = service::build(&ch, Some("ClusterIP"), &extra, controller_ref(&ch).unwrap());
    assert_eq!(cluster_ip.spec.unwrap().type_.as_deref(), Some("ClusterIP"));
}

#[test]
fn ingress_routes_the_exact_challenge_path() {
    let cfg = AcmeChallengeSolverHttp01Ingress {
        ingress_class_name: Some("nginx".into()),
        ..Default::default()
    };
    let ch = challenge(cfg.clone());
    let path = ingress::challenge_path(TOKEN, "cm-acme-http-solver-abcde", true);
    let ing = ingress::build(
        &ch,
        &cfg,
        path,
        &BTreeMap::new(),
        controller_ref(&ch).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ing.metadata.generate_name.as_deref(),
        Some("cm-acme-http-solver-")
    );
    assert_eq!(ing.metadata.labels.as_ref(), Some(&solver_labels(&ch)));
    assert_eq!(
        ing.metadata.annotations.as_ref(),
        Some(&map(&[(
            "nginx.ingress.kubernetes.io/whitelist-source-range",
            "0.0.0.0/0,::/0"
        )]))
    );
    let spec = ing.spec.as_ref().unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    let rule = &spec.rules.as_ref().unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("example.com"));
    let p = &rule.http.as_ref().unwrap().paths[0];
    assert_eq!(
        p.path.as_deref(),
        Some("/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0")
    );
    assert_eq!(p.path_type, "Exact");
    let backend = p.backend.service.as_ref().unwrap();
    assert_eq!(backend.name, "cm-acme-http-solver-abcde");
    assert_eq!(backend.port.as_ref().unwrap().number, Some(8089));

    let legacy = ingress::challenge_path(TOKEN, "svc", false);
    assert_eq!(legacy.path_type, "ImplementationSpecific");
}

#[test]
fn ingress_class_annotation_template_and_ip_identifiers() {
    let cfg = AcmeChallengeSolverHttp01Ingress {
        class: Some("traefik".into()),
        ingress_template: Some(AcmeChallengeSolverHttp01IngressTemplate {
            metadata: Some(AcmeChallengeSolverHttp01IngressObjectMeta {
                labels: Some(map(&[("team", "a")])),
                annotations: Some(map(&[(
                    "ingress.example.com/whitelist-source-range",
                    "10.0.0.0/8",
                )])),
            }),
        }),
        ..Default::default()
    };
    let mut ch = challenge(cfg.clone());
    ch.spec.dns_name = "192.0.2.10".into();
    let path = ingress::challenge_path(TOKEN, "svc", true);
    let ing = ingress::build(
        &ch,
        &cfg,
        path.clone(),
        &BTreeMap::new(),
        controller_ref(&ch).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ing.metadata.annotations.as_ref(),
        Some(&map(&[
            ("kubernetes.io/ingress.class", "traefik"),
            ("ingress.example.com/whitelist-source-range", "10.0.0.0/8"),
        ]))
    );
    assert_eq!(ing.metadata.labels.as_ref().unwrap()["team"], "a");
    let spec = ing.spec.unwrap();
    assert_eq!(spec.ingress_class_name, None);
    // An IP identifier is served on every host.
    assert_eq!(spec.rules.unwrap()[0].host, None);

    let both = AcmeChallengeSolverHttp01Ingress {
        class: Some("a".into()),
        ingress_class_name: Some("b".into()),
        ..Default::default()
    };
    let err = ingress::build(
        &ch,
        &both,
        path,
        &BTreeMap::new(),
        controller_ref(&ch).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the fields ingressClassName and class cannot be set at the same time"
    );
}

fn existing_ingress() -> Ingress {
    Ingress {
        metadata: ObjectMeta {
            name: Some("site".into()),
            ..Default::default()
        },
        spec: Some(IngressSpec {
            rules: Some(vec![
                IngressRule {
                    host: Some("example.com".into()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some("/".into()),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: "web".into(),
                                    port: Some(ServiceBackendPort {
                                        number: Some(80),
                                        ..Default::default()
                                    }),
                                }),
                                ..Default::default()
                            },
                        }],
                    }),
                },
                IngressRule {
                    host: Some("other.example.com".into()),
                    http: None,
                },
            ]),
            ..Default::default()
        }),
        status: None,
    }
}

#[test]
fn edit_in_place_adds_and_removes_only_the_challenge_path() {
    let original = existing_ingress();
    let mut ing = original.clone();
    let path = ingress::challenge_path(TOKEN, "svc-a", true);
    assert!(ingress::add_challenge_path(
        &mut ing,
        "example.com",
        path.clone()
    ));
    let paths = &ing.spec.as_ref().unwrap().rules.as_ref().unwrap()[0]
        .http
        .as_ref()
        .unwrap()
        .paths;
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0], path, "the challenge path goes first");
    // Already present with the same backend: nothing to write.
    assert!(!ingress::add_challenge_path(
        &mut ing,
        "example.com",
        path.clone()
    ));
    // Another backend (the Service was recreated): replaced in place.
    let moved = ingress::challenge_path(TOKEN, "svc-b", true);
    assert!(ingress::add_challenge_path(
        &mut ing,
        "example.com",
        moved.clone()
    ));
    let rules = ing.spec.as_ref().unwrap().rules.as_ref().unwrap();
    assert_eq!(rules[0].http.as_ref().unwrap().paths[0], moved);
    assert_eq!(rules[0].http.as_ref().unwrap().paths.len(), 2);

    let solver_path = ingress::solver_path(TOKEN);
    assert!(ingress::remove_challenge_path(
        &mut ing,
        "example.com",
        &solver_path
    ));
    assert_eq!(ing, original);
    assert!(!ingress::remove_challenge_path(
        &mut ing,
        "example.com",
        &solver_path
    ));

    // No rule for the host: a rule is added, and removed again with its last path.
    assert!(ingress::add_challenge_path(
        &mut ing,
        "new.example.com",
        path
    ));
    assert_eq!(ing.spec.as_ref().unwrap().rules.as_ref().unwrap().len(), 3);
    assert!(ingress::remove_challenge_path(
        &mut ing,
        "new.example.com",
        &solver_path
    ));
    assert_eq!(ing, original);

    // A rule without `http` for the host gets one.
    let mut ing = original.clone();
    let path = ingress::challenge_path(TOKEN, "svc-a", true);
    assert!(ingress::add_challenge_path(
        &mut ing,
        "other.example.com",
        path.clone()
    ));
    let rule = &ing.spec.as_ref().unwrap().rules.as_ref().unwrap()[1];
    assert_eq!(rule.http.as_ref().unwrap().paths, vec![path]);
}

#[test]
fn gateway_and_missing_solvers_are_clear_errors() {
    let mut ch = challenge(Default::default());
    ch.spec.solver.http01 = Some(AcmeChallengeSolverHttp01 {
        ingress: None,
        gateway_http_route: Some(AcmeChallengeSolverHttp01GatewayHttpRoute::default()),
    });
    let err = ingress_config(&ch).unwrap_err().to_string();
    assert!(
        err.contains("gatewayHTTPRoute are not supported by cert-manager-rs yet"),
        "{err}"
    );
    assert!(err.contains("ns/web-1-2-3"), "{err}");
    ch.spec.solver.http01 = None;
    let err = ingress_config(&ch).unwrap_err().to_string();
    assert!(err.contains("no HTTP01 ingress config provided"), "{err}");
}

#[test]
fn order_annotations_override_the_ingress_solver() {
    let mut solver = AcmeChallengeSolver {
        http01: Some(AcmeChallengeSolverHttp01 {
            ingress: Some(AcmeChallengeSolverHttp01Ingress {
                class: Some("nginx".into()),
                ..Default::default()
            }),
            gateway_http_route: None,
        }),
        ..Default::default()
    };
    let ingress = |s: &AcmeChallengeSolver| s.http01.clone().unwrap().ingress.unwrap();

    apply_ingress_overrides(&BTreeMap::new(), &mut solver).unwrap();
    assert_eq!(ingress(&solver).class.as_deref(), Some("nginx"));

    apply_ingress_overrides(&map(&[(INGRESS_NAME_OVERRIDE, "site")]), &mut solver).unwrap();
    let ing = ingress(&solver);
    assert_eq!((ing.name.as_deref(), ing.class), (Some("site"), None));

    apply_ingress_overrides(
        &map(&[(INGRESS_CLASS_NAME_OVERRIDE, "traefik")]),
        &mut solver,
    )
    .unwrap();
    let ing = ingress(&solver);
    assert_eq!(
        (ing.name, ing.ingress_class_name.as_deref()),
        (None, Some("traefik"))
    );

    let both = map(&[(INGRESS_NAME_OVERRIDE, "a"), (INGRESS_CLASS_OVERRIDE, "b")]);
    let err = apply_ingress_overrides(&both, &mut solver).unwrap_err();
    assert!(
        err.to_string().contains("may not specify more than one"),
        "{err}"
    );
}

mod probe {
    //! The self check against loopback HTTP(S) servers and a loopback DNS server.

    use std::net::SocketAddr;
    use std::sync::Arc;

    use axum::Router;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{IntoResponse, Redirect, Response};
    use axum::routing::get;
    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record, RecordType};
    use tokio::net::{TcpListener, UdpSocket};

    use super::super::resolve::Resolver;
    use super::super::selfcheck::Probe;
    use super::{KEY, TOKEN};

    const DOMAIN: &str = "solver.test";

    /// Answers like acmesolver for DOMAIN/TOKEN, plus a few redirects.
    async fn challenge(headers: HeaderMap, Path(token): Path<String>) -> Response {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        match token.as_str() {
            "relative" => Redirect::temporary(TOKEN).into_response(),
            "wrong" if host == DOMAIN => "not the key".into_response(),
            t if t == TOKEN && host == DOMAIN => KEY.into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    async fn serve(router: Router) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        addr
    }

    async fn http_server() -> SocketAddr {
        serve(Router::new().route("/.well-known/acme-challenge/{token}", get(challenge))).await
    }

    #[tokio::test]
    async fn passes_only_for_200_with_the_key() {
        let addr = http_server().await;
        let probe = Probe::new(vec![], Some(addr)).unwrap();
        assert_eq!(probe.test(DOMAIN, TOKEN, KEY).await, Ok(()));
        // Relative redirect on the same host, still through the override.
        assert_eq!(probe.test(DOMAIN, "relative", KEY).await, Ok(()));

        let wrong = probe.test(DOMAIN, "wrong", KEY).await.unwrap_err();
        assert_eq!(
            wrong,
            format!("did not get expected response {KEY:?} when querying endpoint")
        );
        let missing = probe.test(DOMAIN, "other-token", KEY).await.unwrap_err();
        assert_eq!(missing, "wrong status code '404', expected '200'");
    }

    #[tokio::test]
    async fn connection_failures_name_the_url() {
        // A port nothing listens on (bound, then closed).
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let probe = Probe::new(vec![], Some(addr)).unwrap();
        let err = probe.test(DOMAIN, TOKEN, KEY).await.unwrap_err();
        assert!(
            err.starts_with(&format!(
                "failed to perform self check GET request 'http://{DOMAIN}/.well-known/acme-challenge/{TOKEN}': dial tcp {addr}"
            )),
            "{err}"
        );
    }

    /// A TLS server with a self-signed certificate for another name: the check follows an
    /// HTTPS redirect to it without verifying the certificate, as the ACME server does.
    #[tokio::test]
    async fn follows_redirects_to_https_without_verifying() {
        let tls_addr = https_server().await;
        let redirect = Router::new().route(
            "/.well-known/acme-challenge/{token}",
            get(move |Path(token): Path<String>| async move {
                Redirect::permanent(&format!(
                    "https://127.0.0.1:{}/.well-known/acme-challenge/{token}",
                    tls_addr.port()
                ))
            }),
        );
        let addr = serve(redirect).await;
        let probe = Probe::new(vec![], Some(addr)).unwrap();
        // The TLS server checks the Host: 127.0.0.1:<port> is not DOMAIN, so it answers 404...
        let err = probe.test(DOMAIN, TOKEN, KEY).await.unwrap_err();
        assert_eq!(err, "wrong status code '404', expected '200'");
        // ...and its own "any host" path returns the key.
        assert_eq!(probe.test(DOMAIN, "any-host", KEY).await, Ok(()));
    }

    async fn https_server() -> SocketAddr {
        use pki::keys::KeyEncoding;
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let key = pki::PrivateKey::generate(pki::KeyType::Ecdsa(pki::EcCurve::P256)).unwrap();
        let spec = pki::CsrSpec {
            dns_names: vec!["elsewhere.test".into()],
            ..Default::default()
        };
        let overrides =
            pki::RequestOverrides::new(std::time::Duration::from_secs(3600), false, &[]);
        let template =
            pki::CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides)
                .unwrap();
        let cert = pki::self_sign(&template, &key).unwrap();
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert.chain_pem.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
        let key_pem = key.to_pem(KeyEncoding::Pkcs8).unwrap();
        let key_der = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            hyper_util::rt::TokioIo::new(tls),
                            hyper::service::service_fn(any_host),
                        )
                        .await;
                });
            }
        });
        addr
    }

    /// The key on `.../any-host` whatever the Host, 404 elsewhere.
    async fn any_host(
        req: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
        let (status, body) = if req.uri().path() == "/.well-known/acme-challenge/any-host" {
            (200, KEY)
        } else {
            (404, "")
        };
        let body = http_body_util::Full::new(bytes::Bytes::from_static(body.as_bytes()));
        Ok(hyper::Response::builder()
            .status(status)
            .body(body)
            .unwrap())
    }

    /// A DNS server answering A 127.0.0.1 for DOMAIN, NXDOMAIN for anything else.
    async fn dns_server() -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let (n, peer) = socket.recv_from(&mut buf).await.unwrap();
                let request = Message::from_vec(&buf[..n]).unwrap();
                let mut response = Message::new(
                    request.metadata.id,
                    MessageType::Response,
                    request.metadata.op_code,
                );
                response.queries = request.queries.clone();
                let q = &request.queries[0];
                if q.name().to_ascii() != format!("{DOMAIN}.") {
                    response.metadata.response_code = hickory_proto::op::ResponseCode::NXDomain;
                } else if q.query_type() == RecordType::A {
                    response.answers.push(Record::from_rdata(
                        q.name().clone(),
                        60,
                        RData::A(A::new(127, 0, 0, 1)),
                    ));
                }
                socket
                    .send_to(&response.to_vec().unwrap(), peer)
                    .await
                    .unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn resolves_through_the_configured_nameservers() {
        let dns = dns_server().await;
        let resolver = Resolver::new(vec![dns]);
        assert_eq!(
            resolver.lookup(DOMAIN).await,
            Ok(vec!["127.0.0.1".parse().unwrap()])
        );
        let err = resolver.lookup("missing.test").await.unwrap_err();
        assert!(err.contains("no such host"), "{err}");
    }
}

mod control_plane {
    //! present/cleanup against the local API server (no kubelet: the Pods stay Pending,
    //! which is all present needs).

    use std::path::Path;
    use std::sync::Arc;

    use kube::api::{Api, ListParams, PostParams};
    use testkit::ControlPlane;

    use super::*;
    use crate::issuers::lookup::ResolvedIssuer;

    async fn setup(prefix: &str) -> (Arc<Context>, testkit::TestNamespace) {
        let cp = ControlPlane::shared().await.unwrap();
        let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/cert-manager-rs/crds");
        cp.install_crds(&[&crds]).await.unwrap();
        let ns = cp.namespace(prefix).await.unwrap();
        let mut gates = featuregates::FeatureGates::new();
        gates.add(featuregates::certmanager::CONTROLLER).unwrap();
        gates.add(kubeclient::gates::CLIENT_GATES).unwrap();
        let mut cfg = config::controller::ControllerConfig::default();
        cfg.acme_http01.solver_image = "ghcr.io/cert-manager-rs/acmesolver:test".into();
        cfg.acme_http01.solver_extra_labels = map(&[("team", "platform")]);
        (Context::new(cp.client(), cfg, gates), ns)
    }

    async fn create_challenge(
        ctx: &Context,
        ns: &str,
        name: &str,
        dns_name: &str,
        ingress: AcmeChallengeSolverHttp01Ingress,
    ) -> Challenge {
        let mut ch = challenge(ingress);
        ch.metadata = ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        };
        ch.spec.dns_name = dns_name.into();
        Api::namespaced(ctx.client.clone(), ns)
            .create(&PostParams::default(), &ch)
            .await
            .unwrap()
    }

    fn issuer() -> ResolvedIssuer {
        ResolvedIssuer::Issuer(Arc::new(api::Issuer::new("le", Default::default())))
    }

    async fn list<K>(ctx: &Context, ns: &str, ch: &Challenge) -> Vec<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let selector = label_selector(&solver_labels(ch));
        Api::<K>::namespaced(ctx.client.clone(), ns)
            .list(&ListParams::default().labels(&selector))
            .await
            .unwrap()
            .items
    }

    #[tokio::test]
    async fn present_creates_pod_service_ingress_and_cleanup_removes_them() {
        let (ctx, ns) = setup("http01-present").await;
        let ns = ns.name();
        let cfg = AcmeChallengeSolverHttp01Ingress {
            ingress_class_name: Some("nginx".into()),
            ..Default::default()
        };
        let ch = create_challenge(&ctx, ns, "present", "present.example.com", cfg).await;
        let uid = ch.metadata.uid.clone().unwrap();

        present(&ctx, &ch, &issuer()).await.unwrap();
        // Idempotent: a second call finds everything in place.
        present(&ctx, &ch, &issuer()).await.unwrap();

        let pods: Vec<Pod> = list(&ctx, ns, &ch).await;
        let [pod] = pods.as_slice() else {
            panic!("one solver pod: {pods:?}")
        };
        assert!(
            pod.metadata
                .name
                .as_ref()
                .unwrap()
                .starts_with("cm-acme-http-solver-")
        );
        assert!(is_controlled_by(&pod.metadata, &uid));
        assert_eq!(pod.metadata.labels.as_ref().unwrap()["team"], "platform");
        let container = &pod.spec.as_ref().unwrap().containers[0];
        assert_eq!(
            container.image.as_deref(),
            Some("ghcr.io/cert-manager-rs/acmesolver:test")
        );
        assert!(
            container
                .args
                .as_ref()
                .unwrap()
                .contains(&"--domain=present.example.com".to_string())
        );

        let services: Vec<Service> = list(&ctx, ns, &ch).await;
        let [svc] = services.as_slice() else {
            panic!("one solver service: {services:?}")
        };
        assert!(is_controlled_by(&svc.metadata, &uid));
        let svc_spec = svc.spec.as_ref().unwrap();
        assert_eq!(svc_spec.type_.as_deref(), Some("NodePort"));
        assert_eq!(svc_spec.selector.as_ref(), Some(&solver_labels(&ch)));
        let svc_name = svc.metadata.name.clone().unwrap();

        let ingresses: Vec<Ingress> = list(&ctx, ns, &ch).await;
        let [ing] = ingresses.as_slice() else {
            panic!("one solver ingress: {ingresses:?}")
        };
        assert!(is_controlled_by(&ing.metadata, &uid));
        let spec = ing.spec.as_ref().unwrap();
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
        let rule = &spec.rules.as_ref().unwrap()[0];
        assert_eq!(rule.host.as_deref(), Some("present.example.com"));
        let path = &rule.http.as_ref().unwrap().paths[0];
        assert_eq!(
            path.path.as_deref(),
            Some(ingress::solver_path(TOKEN).as_str())
        );
        assert_eq!(path.path_type, "Exact");
        assert_eq!(path.backend.service.as_ref().unwrap().name, svc_name);

        cleanup(&ctx, &ch).await.unwrap();
        assert!(list::<Pod>(&ctx, ns, &ch).await.is_empty());
        assert!(list::<Service>(&ctx, ns, &ch).await.is_empty());
        assert!(list::<Ingress>(&ctx, ns, &ch).await.is_empty());
        // Idempotent.
        cleanup(&ctx, &ch).await.unwrap();
    }

    /// `check` ensures the objects, then needs all passes to succeed (an in-process server
    /// stands in for acmesolver; the binary itself is tested in its crate).
    #[tokio::test]
    async fn check_ensures_the_objects_then_probes() {
        use axum::routing::get;

        let (ctx, ns) = setup("http01-check").await;
        let ns = ns.name();
        let ch = create_challenge(&ctx, ns, "check", "check.example.com", Default::default()).await;
        let router = axum::Router::new().route(&ingress::solver_path(TOKEN), get(|| async { KEY }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        let probe = selfcheck::Probe::new(vec![], Some(addr)).unwrap();
        assert_eq!(check_with(&ctx, &ch, &probe).await.unwrap(), Ok(()));
        assert_eq!(list::<Pod>(&ctx, ns, &ch).await.len(), 1);
        assert_eq!(list::<Ingress>(&ctx, ns, &ch).await.len(), 1);

        let mut other_key = ch.clone();
        other_key.spec.key = "something-else".into();
        let reason = check_with(&ctx, &other_key, &probe)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            reason,
            "did not get expected response \"something-else\" when querying endpoint"
        );
        cleanup(&ctx, &ch).await.unwrap();
    }

    #[tokio::test]
    async fn duplicate_solver_pods_are_removed_and_recreated() {
        let (ctx, ns) = setup("http01-dup").await;
        let ns = ns.name();
        let ch = create_challenge(&ctx, ns, "dup", "dup.example.com", Default::default()).await;
        let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
        let template = pod::build(
            &ch,
            &ctx.config.acme_http01,
            None,
            controller_ref(&ch).unwrap(),
        )
        .unwrap();
        for _ in 0..2 {
            pods.create(&PostParams::default(), &template)
                .await
                .unwrap();
        }
        let err = present(&ctx, &ch, &issuer()).await.unwrap_err();
        assert!(
            format!("{err:#}").contains("multiple existing challenge solver pods found"),
            "{err:#}"
        );
        assert!(list::<Pod>(&ctx, ns, &ch).await.is_empty());
        present(&ctx, &ch, &issuer()).await.unwrap();
        assert_eq!(list::<Pod>(&ctx, ns, &ch).await.len(), 1);
        cleanup(&ctx, &ch).await.unwrap();
    }

    #[tokio::test]
    async fn edit_in_place_adds_then_removes_the_path_on_the_named_ingress() {
        let (ctx, ns) = setup("http01-edit").await;
        let ns = ns.name();
        let ingresses: Api<Ingress> = Api::namespaced(ctx.client.clone(), ns);
        let site = ingresses
            .create(&PostParams::default(), &existing_ingress())
            .await
            .unwrap();
        let cfg = AcmeChallengeSolverHttp01Ingress {
            name: Some("site".into()),
            ..Default::default()
        };
        let ch = create_challenge(&ctx, ns, "edit", "example.com", cfg).await;

        present(&ctx, &ch, &issuer()).await.unwrap();
        let edited = ingresses.get("site").await.unwrap();
        let rules = edited.spec.as_ref().unwrap().rules.as_ref().unwrap();
        let paths = &rules[0].http.as_ref().unwrap().paths;
        assert_eq!(paths.len(), 2);
        assert_eq!(
            paths[0].path.as_deref(),
            Some(ingress::solver_path(TOKEN).as_str())
        );
        let services: Vec<Service> = list(&ctx, ns, &ch).await;
        assert_eq!(
            paths[0].backend.service.as_ref().unwrap().name,
            services[0].metadata.name.clone().unwrap()
        );
        // No Ingress of its own in this mode.
        assert!(list::<Ingress>(&ctx, ns, &ch).await.is_empty());

        // Nothing to change: no write.
        present(&ctx, &ch, &issuer()).await.unwrap();
        let again = ingresses.get("site").await.unwrap();
        assert_eq!(
            again.metadata.resource_version,
            edited.metadata.resource_version
        );

        cleanup(&ctx, &ch).await.unwrap();
        let restored = ingresses.get("site").await.unwrap();
        assert_eq!(restored.spec, site.spec);
        assert!(list::<Pod>(&ctx, ns, &ch).await.is_empty());
        assert!(list::<Service>(&ctx, ns, &ch).await.is_empty());

        // The named Ingress gone: cleanup still succeeds, present names it.
        ingresses.delete("site", &Default::default()).await.unwrap();
        cleanup(&ctx, &ch).await.unwrap();
        let err = present(&ctx, &ch, &issuer()).await.unwrap_err();
        assert!(
            format!("{err:#}").contains("named by the HTTP-01 solver"),
            "{err:#}"
        );
        cleanup(&ctx, &ch).await.unwrap();
    }
}

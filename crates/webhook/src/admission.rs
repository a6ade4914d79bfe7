//! The admission endpoints: `/validate` and `/mutate` for cert-manager.io and
//! acme.cert-manager.io objects, on top of `api`'s validation and defaulting.
//!
//! Answering is a pure function of the request ([`review`]: decode, validate or mutate) so it
//! can be fuzzed; a body that is too large or is no AdmissionReview gets a 400 naming the
//! problem, never a panic. The one check that needs the API server, who may approve or deny a
//! CertificateRequest ([`crate::approval`]), runs in the handler before the pure part and
//! hands it its denial, if any.

use api::validation::{self, ValidationGates, ValidationResult};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::de::DeserializeOwned;
use std::sync::Arc;

use crate::approval::Approval;

/// Largest AdmissionReview accepted: an object and its old version at etcd's 1.5 MiB limit,
/// plus JSON overhead.
pub const MAX_BODY: usize = 4 << 20;

/// What the webhook enforces, from the feature gates.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    pub gates: ValidationGates,
}

impl Policy {
    pub fn from_gates(gates: &featuregates::FeatureGates) -> Self {
        use featuregates::certmanager::{
            LITERAL_CERTIFICATE_SUBJECT, NAME_CONSTRAINTS, OTHER_NAMES,
        };
        Self {
            gates: ValidationGates {
                literal_certificate_subject: gates.enabled(LITERAL_CERTIFICATE_SUBJECT),
                name_constraints: gates.enabled(NAME_CONSTRAINTS),
                other_names: gates.enabled(OTHER_NAMES),
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Validate,
    Mutate,
}

/// A request the webhook cannot even read: answered with 400 and this message.
#[derive(Debug, thiserror::Error)]
pub enum BadRequest {
    #[error("request body larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("malformed AdmissionReview: {0}")]
    Malformed(String),
    #[error("AdmissionReview has no request")]
    NoRequest,
}

/// What the handlers share: the policy and, on `/validate`, the approval check (`None` skips
/// it, e.g. for tests without an API server).
#[derive(Clone)]
struct State {
    policy: Policy,
    approval: Option<Arc<Approval>>,
}

pub fn router(policy: Policy, approval: Option<Arc<Approval>>) -> Router {
    let state = State { policy, approval };
    let validate = state.clone();
    Router::new()
        .route(
            "/validate",
            post(move |body: Body| handle(body, validate, Endpoint::Validate)),
        )
        .route(
            "/mutate",
            post(move |body: Body| handle(body, state, Endpoint::Mutate)),
        )
}

async fn handle(body: Body, state: State, endpoint: Endpoint) -> Response {
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return bad_request(BadRequest::TooLarge),
    };
    let req = match decode(&bytes) {
        Ok(req) => req,
        Err(e) => return bad_request(e),
    };
    let denial = match (endpoint, &state.approval) {
        (Endpoint::Validate, Some(approval)) => approval.check(&req).await,
        _ => None,
    };
    axum::Json(answer(&req, state.policy, endpoint, denial).into_review()).into_response()
}

fn bad_request(e: BadRequest) -> Response {
    tracing::debug!(error = %e, "bad admission request");
    (StatusCode::BAD_REQUEST, e.to_string()).into_response()
}

/// Decode an AdmissionReview body and answer it, without the approval check.
pub fn review(
    body: &Bytes,
    policy: Policy,
    endpoint: Endpoint,
) -> Result<AdmissionReview<DynamicObject>, BadRequest> {
    let req = decode(body)?;
    Ok(answer(&req, policy, endpoint, None).into_review())
}

/// The request of an AdmissionReview body.
pub fn decode(body: &Bytes) -> Result<AdmissionRequest<DynamicObject>, BadRequest> {
    if body.len() > MAX_BODY {
        return Err(BadRequest::TooLarge);
    }
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_slice(body).map_err(|e| BadRequest::Malformed(e.to_string()))?;
    review.try_into().map_err(|_| BadRequest::NoRequest)
}

/// The response to `req`. `denial` comes from checks made before (the approval check) and is
/// reported first, as upstream's plugin chain orders its plugins.
pub fn answer(
    req: &AdmissionRequest<DynamicObject>,
    policy: Policy,
    endpoint: Endpoint,
    denial: Option<String>,
) -> AdmissionResponse {
    match endpoint {
        Endpoint::Validate => validate(req, policy, denial),
        Endpoint::Mutate => mutate(req),
    }
}

/// Typed view of the request's new and old objects.
pub(crate) struct Objects<T> {
    pub(crate) new: Option<T>,
    pub(crate) old: Option<T>,
}

pub(crate) fn objects<T: DeserializeOwned>(
    req: &AdmissionRequest<DynamicObject>,
) -> Result<Objects<T>, String> {
    let decode = |o: &Option<DynamicObject>, which: &str| -> Result<Option<T>, String> {
        o.as_ref()
            .map(|o| {
                let v =
                    serde_json::to_value(o).map_err(|e| format!("encoding {which} object: {e}"))?;
                api::decode::from_value(v).map_err(|e| format!("decoding {which} object: {e}"))
            })
            .transpose()
    };
    Ok(Objects {
        new: decode(&req.object, "new")?,
        old: decode(&req.old_object, "old")?,
    })
}

/// Run `create` or `update` on the request's objects, as its operation says.
fn check<T: DeserializeOwned>(
    req: &AdmissionRequest<DynamicObject>,
    create: impl Fn(&T) -> ValidationResult,
    update: impl Fn(&T, &T) -> ValidationResult,
) -> Result<ValidationResult, String> {
    let objs = objects::<T>(req)?;
    Ok(match (&req.operation, objs.new, objs.old) {
        (Operation::Create, Some(new), _) => create(&new),
        (Operation::Update, Some(new), Some(old)) => update(&old, &new),
        _ => ValidationResult::default(),
    })
}

fn validate(
    req: &AdmissionRequest<DynamicObject>,
    policy: Policy,
    denial: Option<String>,
) -> AdmissionResponse {
    let gates = policy.gates;
    let result = match (req.kind.group.as_str(), req.kind.kind.as_str()) {
        ("cert-manager.io", "Certificate") => check(
            req,
            |c| validation::validate_certificate(c, &gates),
            |o, n| validation::validate_certificate_update(o, n, &gates),
        ),
        ("cert-manager.io", "CertificateRequest") => check(
            req,
            |cr| {
                let mut r = validation::validate_certificate_request(cr);
                merge(
                    &mut r,
                    validation::validate_certificate_request_identity(cr, &req.user_info),
                );
                r
            },
            |o, n| {
                let mut r = validation::validate_certificate_request_update(o, n);
                merge(
                    &mut r,
                    validation::validate_certificate_request_identity_update(o, n),
                );
                r
            },
        ),
        ("cert-manager.io", "Issuer") => check(
            req,
            validation::validate_issuer,
            validation::validate_issuer_update,
        ),
        ("cert-manager.io", "ClusterIssuer") => check(
            req,
            validation::validate_cluster_issuer,
            validation::validate_cluster_issuer_update,
        ),
        ("acme.cert-manager.io", "Order") => check(
            req,
            validation::validate_order,
            validation::validate_order_update,
        ),
        ("acme.cert-manager.io", "Challenge") => check(
            req,
            validation::validate_challenge,
            validation::validate_challenge_update,
        ),
        _ => Ok(ValidationResult::default()),
    };
    let response = AdmissionResponse::from(req);
    let r = match result {
        // An object that does not decode is a bad request (the API server answers 400), as
        // upstream rejects it before any check runs.
        Err(decode) => return response.deny(decode),
        Ok(r) => r,
    };
    let mut response = match aggregate(denial.into_iter().chain(r.errors.messages())) {
        Some(message) => forbidden(response, message),
        None => response,
    };
    response.warnings = (!r.warnings.is_empty()).then_some(r.warnings);
    response
}

/// A denial as controller-runtime's `admission.Denied` sends it: 403 Forbidden, which the API
/// server passes on to the client.
fn forbidden(response: AdmissionResponse, message: String) -> AdmissionResponse {
    let mut response = response.deny(message);
    response.result.code = 403;
    response.result.reason = "Forbidden".to_owned();
    response
}

/// Messages combined as apimachinery's aggregate error prints them: duplicates dropped, one
/// message as is, several as `[a, b]`.
fn aggregate(messages: impl IntoIterator<Item = String>) -> Option<String> {
    let mut unique: Vec<String> = Vec::new();
    for m in messages {
        if !unique.contains(&m) {
            unique.push(m);
        }
    }
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(format!("[{}]", unique.join(", "))),
    }
}

fn merge(into: &mut ValidationResult, other: ValidationResult) {
    into.errors.0.extend(other.errors.0);
    into.warnings.extend(other.warnings);
}

/// CertificateRequest create: record who asked (cert-manager's identity plugin). Everything
/// else is left alone.
fn mutate(req: &AdmissionRequest<DynamicObject>) -> AdmissionResponse {
    let response = AdmissionResponse::from(req);
    let is_cr_create = req.kind.group == "cert-manager.io"
        && req.kind.kind == "CertificateRequest"
        && req.operation == Operation::Create;
    if !is_cr_create {
        return response;
    }
    let Some(object) = req.object.as_ref() else {
        return response;
    };
    let patch = (|| -> Result<json_patch::Patch, String> {
        let before = serde_json::to_value(object).map_err(|e| e.to_string())?;
        let mut cr: api::CertificateRequest =
            api::decode::from_value(before.clone()).map_err(|e| e.to_string())?;
        api::defaults::set_certificate_request_identity(&mut cr.spec, &req.user_info);
        let after = serde_json::to_value(&cr).map_err(|e| e.to_string())?;
        // Only the identity fields may change: diff the spec alone so a re-serialisation of
        // other fields never becomes part of the patch.
        let mut patch = json_patch::diff(&before["spec"], &after["spec"]);
        for op in &mut patch.0 {
            prefix_path(op, "/spec");
        }
        Ok(patch)
    })();
    match patch {
        Ok(p) if p.0.is_empty() => response,
        Ok(p) => response
            .with_patch(p)
            .unwrap_or_else(|e| AdmissionResponse::from(req).deny(e.to_string())),
        Err(e) => response.deny(format!("decoding CertificateRequest: {e}")),
    }
}

fn prefix_path(op: &mut json_patch::PatchOperation, prefix: &str) {
    use json_patch::PatchOperation as P;
    let path = match op {
        P::Add(o) => &mut o.path,
        P::Remove(o) => &mut o.path,
        P::Replace(o) => &mut o.path,
        P::Move(o) => &mut o.path,
        P::Copy(o) => &mut o.path,
        P::Test(o) => &mut o.path,
    };
    let joined = format!("{prefix}{path}");
    *path = joined
        .parse()
        .expect("a JSON pointer prefixed by another is a JSON pointer");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn body(kind: &str, group: &str, operation: &str, object: Value, old: Option<Value>) -> Bytes {
        let review = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": group, "version": "v1", "kind": kind},
                "resource": {"group": group, "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
                "name": "x", "namespace": "ns",
                "operation": operation,
                "userInfo": {"username": "alice", "uid": "u-1", "groups": ["devs", "system:authenticated"]},
                "object": object,
                "oldObject": old,
                "dryRun": false,
                "options": null,
            }
        });
        Bytes::from(serde_json::to_vec(&review).unwrap())
    }

    fn certificate(spec: Value) -> Value {
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
               "metadata": {"name": "x", "namespace": "ns"}, "spec": spec})
    }

    fn response(review: AdmissionReview<DynamicObject>) -> AdmissionResponse {
        review.response.expect("a response")
    }

    #[test]
    fn valid_certificate_is_allowed() {
        let obj = certificate(
            json!({"secretName": "s", "dnsNames": ["a.example.com"], "issuerRef": {"name": "ca"}}),
        );
        let r = response(
            review(
                &body("Certificate", "cert-manager.io", "CREATE", obj, None),
                Policy::default(),
                Endpoint::Validate,
            )
            .unwrap(),
        );
        assert!(r.allowed, "{:?}", r.result);
        assert_eq!(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    }

    #[test]
    fn invalid_certificate_is_denied_with_the_field_path() {
        let obj = certificate(
            json!({"secretName": "s", "dnsNames": ["a.example.com"], "issuerRef": {"name": "ca"},
            "privateKey": {"algorithm": "RSA", "size": 1000}}),
        );
        let r = response(
            review(
                &body("Certificate", "cert-manager.io", "CREATE", obj, None),
                Policy::default(),
                Endpoint::Validate,
            )
            .unwrap(),
        );
        assert!(!r.allowed);
        assert_eq!(
            (r.result.code, r.result.reason.as_str()),
            (403, "Forbidden")
        );
        assert!(
            r.result
                .message
                .contains("spec.privateKey.size: Invalid value: 1000"),
            "{}",
            r.result.message
        );
    }

    #[test]
    fn gates_off_reject_gated_fields() {
        let obj = certificate(
            json!({"secretName": "s", "literalSubject": "CN=x", "issuerRef": {"name": "ca"}}),
        );
        let b = body("Certificate", "cert-manager.io", "CREATE", obj, None);
        assert!(response(review(&b, Policy::default(), Endpoint::Validate).unwrap()).allowed);
        let off = Policy {
            gates: ValidationGates {
                literal_certificate_subject: false,
                ..Default::default()
            },
        };
        let r = response(review(&b, off, Endpoint::Validate).unwrap());
        assert!(!r.allowed);
        assert!(
            r.result.message.contains("spec.literalSubject"),
            "{}",
            r.result.message
        );
    }

    #[test]
    fn certificate_request_create_gets_the_requester_identity() {
        let cr = json!({"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": "x", "namespace": "ns"},
            "spec": {"request": "", "issuerRef": {"name": "ca"}, "username": "mallory"}});
        let r = response(
            review(
                &body("CertificateRequest", "cert-manager.io", "CREATE", cr, None),
                Policy::default(),
                Endpoint::Mutate,
            )
            .unwrap(),
        );
        assert!(r.allowed);
        let patch: Value = serde_json::from_slice(r.patch.as_ref().expect("a patch")).unwrap();
        let ops = patch.as_array().unwrap();
        let find = |path: &str| {
            ops.iter()
                .find(|o| o["path"] == path)
                .map(|o| o["value"].clone())
        };
        assert_eq!(find("/spec/username"), Some(json!("alice")));
        assert_eq!(find("/spec/uid"), Some(json!("u-1")));
        assert_eq!(
            find("/spec/groups"),
            Some(json!(["devs", "system:authenticated"]))
        );
        assert!(
            ops.iter()
                .all(|o| o["path"].as_str().unwrap().starts_with("/spec/"))
        );
    }

    #[test]
    fn an_earlier_denial_comes_first_in_the_message() {
        let cr = |username: &str| {
            json!({"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
                "metadata": {"name": "x", "namespace": "ns"},
                "spec": {"request": "", "issuerRef": {"name": "ca"}, "username": username}})
        };
        let denial = || Some("status.conditions: Forbidden: no".to_owned());
        let req = |old: Value, new: Value| {
            decode(&body(
                "CertificateRequest",
                "cert-manager.io",
                "UPDATE",
                new,
                Some(old),
            ))
            .unwrap()
        };
        let unchanged = req(cr("alice"), cr("alice"));
        assert!(answer(&unchanged, Policy::default(), Endpoint::Validate, None).allowed);
        let r = answer(&unchanged, Policy::default(), Endpoint::Validate, denial());
        assert!(!r.allowed);
        assert_eq!(r.result.message, "status.conditions: Forbidden: no");
        assert_eq!(
            (r.result.code, r.result.reason.as_str()),
            (403, "Forbidden")
        );
        // With the object's own errors: one aggregate, the earlier denial first.
        let changed = req(cr("alice"), cr("mallory"));
        let r = answer(&changed, Policy::default(), Endpoint::Validate, denial());
        assert_eq!(
            r.result.message,
            "[status.conditions: Forbidden: no, spec: Forbidden: cannot change spec after creation, \
             spec.username: Forbidden: username identity cannot be changed once set]"
        );
        // A message both checks give is reported once, where it first appears.
        let same = "spec.username: Forbidden: username identity cannot be changed once set";
        let r = answer(
            &changed,
            Policy::default(),
            Endpoint::Validate,
            Some(same.to_owned()),
        );
        assert_eq!(
            r.result.message,
            format!("[{same}, spec: Forbidden: cannot change spec after creation]")
        );
    }

    #[test]
    fn other_kinds_and_operations_pass_through() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        let r = response(
            review(
                &body("ConfigMap", "", "CREATE", obj, None),
                Policy::default(),
                Endpoint::Validate,
            )
            .unwrap(),
        );
        assert!(r.allowed);
        let obj = certificate(json!({"secretName": "", "issuerRef": {"name": ""}}));
        let r = response(
            review(
                &body("Certificate", "cert-manager.io", "DELETE", obj, None),
                Policy::default(),
                Endpoint::Validate,
            )
            .unwrap(),
        );
        assert!(r.allowed, "deletes are never validated");
    }

    #[test]
    fn undecodable_objects_are_denied_not_panicked_on() {
        let obj = certificate(json!({"secretName": 7, "issuerRef": "nope"}));
        let r = response(
            review(
                &body("Certificate", "cert-manager.io", "CREATE", obj, None),
                Policy::default(),
                Endpoint::Validate,
            )
            .unwrap(),
        );
        assert!(!r.allowed);
        assert!(
            r.result.message.contains("decoding new object"),
            "{}",
            r.result.message
        );
    }

    #[test]
    fn malformed_and_oversized_bodies_are_bad_requests() {
        for bad in [&b""[..], b"{", b"[]", b"{\"request\": 5}", b"\xff\xfe"] {
            let e = review(
                &Bytes::copy_from_slice(bad),
                Policy::default(),
                Endpoint::Validate,
            )
            .unwrap_err();
            assert!(matches!(e, BadRequest::Malformed(_)), "{bad:?}: {e}");
        }
        let no_request =
            Bytes::from_static(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#);
        assert!(matches!(
            review(&no_request, Policy::default(), Endpoint::Validate),
            Err(BadRequest::NoRequest)
        ));
        let huge = Bytes::from(vec![b' '; MAX_BODY + 1]);
        assert!(matches!(
            review(&huge, Policy::default(), Endpoint::Validate),
            Err(BadRequest::TooLarge)
        ));
    }

    /// The fuzz target's property on a deterministic corpus: every byte-level mutation of a valid
    /// review yields a response or a BadRequest, and the approval pre-check an answer, never a
    /// panic.
    #[test]
    fn mutated_reviews_never_panic() {
        let obj = certificate(
            json!({"secretName": "s", "dnsNames": ["a.example.com"], "ipAddresses": ["10.0.0.1"],
            "duration": "2160h", "renewBefore": "360h", "issuerRef": {"name": "ca"},
            "privateKey": {"algorithm": "ECDSA", "size": 256}, "usages": ["server auth"]}),
        );
        let create = body("Certificate", "cert-manager.io", "CREATE", obj, None).to_vec();
        // A CertificateRequest status update that approves: the approval check's input.
        let cr = |conditions: Value| {
            json!({"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
                "metadata": {"name": "x", "namespace": "ns"},
                "spec": {"request": "", "issuerRef": {"name": "ca", "kind": "Issuer"}},
                "status": {"conditions": conditions}})
        };
        let approved = json!([{"type": "Approved", "status": "True", "reason": "r"}]);
        let mut approve: Value = serde_json::from_slice(&body(
            "CertificateRequest",
            "cert-manager.io",
            "UPDATE",
            cr(approved),
            Some(cr(json!([]))),
        ))
        .unwrap();
        approve["request"]["subResource"] = json!("status");
        let seeds = [create, serde_json::to_vec(&approve).unwrap()];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..4000 {
            let mut input = seeds[round % seeds.len()].clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() as usize) % input.len();
                match next() % 3 {
                    0 => input[i] = next() as u8,
                    1 => {
                        input.remove(i);
                    }
                    _ => input.insert(i, b"{}[]\",:0-e"[(next() % 10) as usize]),
                }
            }
            let input = Bytes::from(input);
            for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
                let _ = review(&input, Policy::default(), endpoint);
            }
            if let Ok(req) = decode(&input) {
                let _ = crate::approval::pending(&req);
            }
        }
    }
}

//! Bodies that are no AdmissionReview, or too large, sent over the real HTTPS port: a 400 that
//! says what is wrong, and the process keeps serving.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::support::{self, Deployment, HttpsClient};

fn valid_review() -> Bytes {
    let cert = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"secretName": "tls", "dnsNames": ["example.com"], "issuerRef": {"name": "ca"}},
    });
    Bytes::from(serde_json::to_vec(&support::admission_review("uid-1", "CREATE", &cert)).unwrap())
}

/// A valid review on a fresh connection is still answered.
async fn still_serving(d: &Deployment) -> anyhow::Result<()> {
    let mut client =
        HttpsClient::connect(d.webhook.secure_port, &d.server_name(), &d.ca_pem).await?;
    for path in ["/validate", "/mutate"] {
        let (status, body) = client.post(path, valid_review()).await?;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        let review: Value = serde_json::from_slice(&body)?;
        assert_eq!(review["response"]["uid"], "uid-1");
        assert_eq!(review["response"]["allowed"], true, "{review}");
    }
    Ok(())
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_400() -> anyhow::Result<()> {
    let Some(mut d) = Deployment::start(&[]).await? else {
        return Ok(());
    };
    let pid = d.webhook.pid();
    still_serving(&d).await?;

    let over = webhook::admission::MAX_BODY + 1;
    let cases: Vec<(&str, Bytes, &str)> = vec![
        (
            "garbage",
            Bytes::from_static(b"\x00\xffnot json at all"),
            "malformed AdmissionReview: ",
        ),
        (
            "empty",
            Bytes::new(),
            "malformed AdmissionReview: EOF while parsing a value",
        ),
        (
            "truncated JSON",
            valid_review().slice(..100),
            "malformed AdmissionReview: EOF while parsing",
        ),
        (
            "wrong shape",
            Bytes::from_static(b"{\"request\": 5}"),
            "malformed AdmissionReview: ",
        ),
        (
            "no request",
            Bytes::from_static(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#),
            "AdmissionReview has no request",
        ),
        (
            "4 MiB + 1 byte",
            Bytes::from(vec![b' '; over]),
            "request body larger than 4194304 bytes",
        ),
        (
            "a 6 MiB review",
            {
                let review = support::admission_review(
                    "uid-big",
                    "CREATE",
                    &json!({
                        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                        "metadata": {"name": "c", "namespace": "ns", "annotations": {"big": "x".repeat(6 << 20)}},
                        "spec": {"secretName": "tls", "dnsNames": ["example.com"], "issuerRef": {"name": "ca"}},
                    }),
                );
                Bytes::from(serde_json::to_vec(&review)?)
            },
            "request body larger than 4194304 bytes",
        ),
    ];
    for (case, body, message) in cases {
        for path in ["/validate", "/mutate"] {
            let mut client =
                HttpsClient::connect(d.webhook.secure_port, &d.server_name(), &d.ca_pem).await?;
            let (status, text) = client.post(path, body.clone()).await?;
            let text = String::from_utf8_lossy(&text);
            assert_eq!(status, 400, "{case} {path}: {text}");
            assert!(text.starts_with(message), "{case} {path}: {text:?}");
            still_serving(&d).await?;
        }
    }

    // Through the API server as well, and the same process throughout.
    support::wait_webhook_active(&d.client, &d.namespace).await?;
    assert!(d.webhook.is_running(), "{}", d.webhook.log_tail());
    assert_eq!(d.webhook.pid(), pid);
    Ok(())
}

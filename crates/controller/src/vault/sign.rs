//! Signing a CSR with the PKI `sign` endpoint named by `spec.vault.path`.

use api::GoDuration;
use http::Method;
use serde_json::{Value, json};

use super::Error;
use super::transport::{Connection, Token, join_path};

/// `POST /v1/<path>` with the CSR and what it asks for; `(chain, ca)` PEM.
pub async fn sign(
    conn: &Connection,
    token: &Token,
    path: &str,
    csr_pem: &[u8],
    duration: GoDuration,
) -> Result<(String, String), Error> {
    let body = parameters(csr_pem, duration)?;
    let answer: SignAnswer = conn
        .call(
            Method::POST,
            &join_path(&["/v1", path]),
            Some(token),
            Some(&body),
        )
        .await
        .map_err(|e| match e {
            Error::Other(m) if m.starts_with("unable to decode") => {
                Error::Other(format!("failed to decode response returned by vault: {m}"))
            }
            e => e.context("failed to sign certificate by vault"),
        })?;
    bundle(answer)
}

/// The request body, as cert-manager sends it: the CSR, its common name and SANs (Vault's
/// role decides what is allowed), the TTL in Go's duration format, and the common name kept
/// out of the DNS SANs (the CSR's SANs are the ones requested).
pub fn parameters(csr_pem: &[u8], duration: GoDuration) -> Result<Value, Error> {
    let csr = pki::ParsedCsr::from_pem(csr_pem)
        .map_err(|e| Error::Other(format!("failed to decode CSR for signing: {e}")))?;
    let spec = &csr.spec;
    let ips: Vec<String> = spec.ip_addresses.iter().map(ToString::to_string).collect();
    Ok(json!({
        "common_name": spec.subject.common_name,
        "alt_names": spec.dns_names.join(","),
        "ip_sans": ips.join(","),
        "uri_sans": spec.uris.join(","),
        "ttl": duration.to_string(),
        "csr": String::from_utf8_lossy(csr_pem),
        "exclude_cn_from_sans": "true",
    }))
}

/// The interesting part of a sign answer (`data`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct SignAnswer {
    #[serde(default)]
    data: SignData,
}

#[derive(Debug, Default, serde::Deserialize)]
struct SignData {
    #[serde(default)]
    certificate: String,
    #[serde(default)]
    issuing_ca: String,
    /// A list of PEM certificates (some Vault versions send one PEM string).
    #[serde(default)]
    ca_chain: Option<Value>,
}

/// The leaf, `ca_chain` and `issuing_ca` ordered into one chain: `status.certificate` is the
/// leaf and intermediates, `status.ca` the root (or the highest certificate Vault knows).
pub fn bundle(answer: SignAnswer) -> Result<(String, String), Error> {
    let data = answer.data;
    if data.certificate.trim().is_empty() {
        return Err(Error::Other(
            "failed to decode response returned by vault: no certificate in the answer".into(),
        ));
    }
    let mut pems: Vec<String> = match data.ca_chain {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s],
        _ => Vec::new(),
    };
    pems.push(data.issuing_ca);
    pems.push(data.certificate);
    let joined = pems
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let bundle = pki::parse_single_certificate_chain_pem(joined.as_bytes())
        .map_err(|e| Error::Other(format!("failed to parse certificate chain from vault: {e}")))?;
    Ok((bundle.chain_pem, bundle.ca_pem))
}

#[cfg(test)]
mod tests {
    use pki::{CsrSpec, EcCurve, KeyType, PrivateKey, RequestOverrides, Subject};

    use super::*;

    fn key() -> PrivateKey {
        PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap()
    }

    fn csr(spec: &CsrSpec) -> String {
        pki::create_csr(spec, &key(), None).unwrap().to_pem()
    }

    #[test]
    fn parameters_carry_the_csr_and_its_names() {
        let spec = CsrSpec {
            subject: Subject {
                common_name: "web.example.com".into(),
                ..Default::default()
            },
            dns_names: vec!["web.example.com".into(), "www.example.com".into()],
            ip_addresses: vec!["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            uris: vec!["spiffe://example.com/web".into()],
            ..Default::default()
        };
        let pem = csr(&spec);
        let p = parameters(pem.as_bytes(), GoDuration::from_hours(2160)).unwrap();
        assert_eq!(p["common_name"], "web.example.com");
        assert_eq!(p["alt_names"], "web.example.com,www.example.com");
        assert_eq!(p["ip_sans"], "10.0.0.1,::1");
        assert_eq!(p["uri_sans"], "spiffe://example.com/web");
        assert_eq!(p["ttl"], "2160h0m0s");
        assert_eq!(p["csr"], pem.as_str());
        assert_eq!(p["exclude_cn_from_sans"], "true");
        let p = parameters(pem.as_bytes(), GoDuration::from_secs(90)).unwrap();
        assert_eq!(p["ttl"], "1m30s");
    }

    #[test]
    fn a_bad_csr_is_reported() {
        let err = parameters(b"junk", GoDuration::HOUR).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to decode CSR for signing"),
            "{err}"
        );
    }

    /// A CA (self-signed when `parent` is None) or leaf certificate.
    fn cert(cn: &str, is_ca: bool, parent: Option<&pki::Issuer>) -> (String, PrivateKey) {
        let key = key();
        let spec = CsrSpec {
            subject: Subject {
                common_name: cn.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let overrides = RequestOverrides::new(pki::DEFAULT_CERT_DURATION, is_ca, &[]);
        let template =
            pki::CertificateTemplate::from_spec(&spec, key.public_key().clone(), &overrides)
                .unwrap();
        let issued = match parent {
            None => pki::self_sign(&template, &key).unwrap(),
            Some(p) => p.sign(&template).unwrap(),
        };
        let leaf = issued
            .chain_pem
            .split_inclusive("-----END CERTIFICATE-----\n")
            .next();
        (leaf.unwrap().to_owned(), key)
    }

    fn issuer(pem: &str, key: &PrivateKey, chain: Option<&str>) -> pki::Issuer {
        let key_pem = key.to_pem(pki::KeyEncoding::Pkcs8).unwrap();
        pki::Issuer::from_pem(pem.as_bytes(), key_pem.as_bytes(), chain.map(str::as_bytes)).unwrap()
    }

    fn answer(certificate: &str, issuing_ca: &str, ca_chain: Value) -> SignAnswer {
        serde_json::from_value(json!({"data": {
            "certificate": certificate, "issuing_ca": issuing_ca, "ca_chain": ca_chain,
            "serial_number": "01:02",
        }}))
        .unwrap()
    }

    #[test]
    fn root_signed_leaf_gets_the_root_as_ca() {
        let (root, root_key) = cert("root", true, None);
        let (leaf, _) = cert("leaf", false, Some(&issuer(&root, &root_key, None)));
        let (chain, ca) = bundle(answer(&leaf, &root, json!([root.clone()]))).unwrap();
        assert_eq!(chain, leaf);
        assert_eq!(ca, root);
    }

    #[test]
    fn intermediate_stays_in_the_chain_and_the_root_is_the_ca() {
        let (root, root_key) = cert("root", true, None);
        let (inter, inter_key) = cert("intermediate", true, Some(&issuer(&root, &root_key, None)));
        let (leaf, _) = cert(
            "leaf",
            false,
            Some(&issuer(&inter, &inter_key, Some(&root))),
        );
        // Vault lists the chain from the issuing CA up; any order is accepted.
        let (chain, ca) =
            bundle(answer(&leaf, &inter, json!([inter.clone(), root.clone()]))).unwrap();
        assert_eq!(chain, format!("{leaf}{inter}"));
        assert_eq!(ca, root);
        // Without the root, the highest certificate Vault sent is the CA.
        let (chain, ca) = bundle(answer(&leaf, &inter, Value::Null)).unwrap();
        assert_eq!(chain, format!("{leaf}{inter}"));
        assert_eq!(ca, inter);
    }

    #[test]
    fn broken_answers_are_errors() {
        let err = bundle(SignAnswer::default()).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
        let (root, _) = cert("root", true, None);
        let (other_root, other_key) = cert("other", true, None);
        let (leaf, _) = cert("leaf", false, Some(&issuer(&other_root, &other_key, None)));
        let err = bundle(answer(&leaf, &root, json!([root.clone()]))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to parse certificate chain from vault"),
            "{err}"
        );
    }
}

//! Parsed X.509 certificates.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;

use crate::csr::{equal_unsorted, spec_from_parts, whole_bytes};
use crate::error::{Error, Result};
use crate::ext::Extensions;
use crate::keys::{PublicKey, hex};
use crate::oid;
use crate::pem_codec::{self, SizeLimits};
use crate::signature::{self, Sha1};
use crate::spec::{CsrSpec, ip_key};
use crate::subject::Subject;

/// A parsed certificate. Fields are read-only views of the DER.
#[derive(Clone, Debug)]
pub struct ParsedCertificate {
    der: Vec<u8>,
    /// Subject, SANs, usages, basic and name constraints, in the same shape
    /// as a request.
    pub spec: CsrSpec,
    /// Raw DER subject.
    pub subject_der: Vec<u8>,
    /// Raw DER issuer.
    pub issuer_der: Vec<u8>,
    /// Issuer's standard attributes.
    pub issuer: Subject,
    /// Serial number, big-endian magnitude without leading zeros.
    pub serial_number: Vec<u8>,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// X.509 version as written in the certificate (1, 2 or 3).
    pub version: u32,
    /// Subject public key.
    pub public_key: PublicKey,
    /// SubjectKeyIdentifier.
    pub subject_key_id: Option<Vec<u8>>,
    /// AuthorityKeyIdentifier key identifier.
    pub authority_key_id: Option<Vec<u8>>,
    /// CRL distribution point URLs.
    pub crl_distribution_points: Vec<String>,
    /// OCSP responder URLs (AIA).
    pub ocsp_servers: Vec<String>,
    /// CA issuer URLs (AIA).
    pub issuing_certificate_urls: Vec<String>,
    pub(crate) extensions: Extensions,
}

fn system_time(t: ASN1Time) -> SystemTime {
    let secs = t.timestamp();
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

impl ParsedCertificate {
    /// Parses the first PEM block of `pem` as a certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let block = pem_codec::decode_first(pem, SizeLimits::default().max_certificate_size)?;
        Self::from_der(&block.der)
    }

    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = parse(der)?;
        let tbs = &cert.tbs_certificate;
        let extensions = Extensions::decode(tbs.extensions())?;
        let subject_der = tbs.subject.as_raw().to_vec();
        let issuer_der = tbs.issuer.as_raw().to_vec();
        let spec = spec_from_parts(Subject::from_der(&subject_der)?, &extensions);
        Ok(ParsedCertificate {
            der: der.to_vec(),
            spec,
            issuer: Subject::from_der(&issuer_der)?,
            subject_der,
            issuer_der,
            serial_number: tbs
                .raw_serial()
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .collect(),
            not_before: system_time(tbs.validity.not_before),
            not_after: system_time(tbs.validity.not_after),
            version: tbs.version.0 + 1,
            public_key: PublicKey::from_spki_der(tbs.subject_pki.raw)?,
            subject_key_id: extensions.subject_key_id.clone(),
            authority_key_id: extensions.authority_key_id.clone(),
            crl_distribution_points: extensions.crl_distribution_points.clone(),
            ocsp_servers: extensions.ocsp_servers.clone(),
            issuing_certificate_urls: extensions.issuing_certificate_urls.clone(),
            extensions,
        })
    }

    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `CERTIFICATE` PEM.
    pub fn to_pem(&self) -> String {
        pem_codec::encode("CERTIFICATE", &self.der)
    }

    /// Serial number as lowercase hex.
    pub fn serial_hex(&self) -> String {
        hex(&self.serial_number)
    }

    /// BasicConstraints `cA`.
    pub fn is_ca(&self) -> bool {
        self.spec.basic_constraints.is_some_and(|bc| bc.is_ca)
    }

    /// Go's `PublicKeyMatchesCertificate`: whether `key` is this
    /// certificate's key (errors if the certificate's key type is unknown).
    pub fn public_key_matches(&self, key: &PublicKey) -> Result<bool> {
        self.public_key.matches(key)
    }

    /// Past `not_after` at `now` (Go: `now.After(NotAfter)`).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now > self.not_after
    }

    /// Go's `CheckSignatureFrom`: `parent` must be allowed to sign
    /// certificates (v3 CAs need BasicConstraints with cA, and keyCertSign if
    /// KeyUsage is present) and its key must verify our signature. SHA-1 and
    /// weaker signatures are refused.
    pub fn check_signature_from(&self, parent: &ParsedCertificate) -> Result<()> {
        let bc = parent.spec.basic_constraints;
        if (parent.version == 3 && bc.is_none()) || bc.is_some_and(|bc| !bc.is_ca) {
            return Err(Error::BadSignature("parent certificate is not a CA".into()));
        }
        if let Some(ku) = parent.extensions.key_usage
            && !ku.is_empty()
            && !ku.contains(crate::usages::KeyUsages::CERT_SIGN)
        {
            return Err(Error::BadSignature(
                "parent certificate may not sign certificates".into(),
            ));
        }
        self.verify_signature_with(&parent.public_key)
    }

    /// Verifies our signature with `key`, without any CA constraint checks.
    pub fn verify_signature_with(&self, key: &PublicKey) -> Result<()> {
        let cert = parse(&self.der)?;
        let alg = &cert.signature_algorithm;
        let alg_oid = oid::from_parser(&alg.algorithm)
            .ok_or_else(|| Error::InvalidCertificate("invalid signature algorithm".into()))?;
        signature::verify(
            key,
            &alg_oid,
            alg.parameters.as_ref().map(|p| p.data),
            whole_bytes(&cert.signature_value)?,
            cert.tbs_certificate.as_ref(),
            Sha1::Reject,
        )
    }

    /// Signed by its own key (Go: `CheckSignatureFrom(self)` succeeds).
    pub fn is_self_signed(&self) -> bool {
        self.check_signature_from(self).is_ok()
    }

    /// cert-manager's `FuzzyX509AltNamesMatchSpec` (formerly
    /// `SecretDataAltNamesMatchSpec`): the violated spec fields. Common name
    /// and DNS names are compared as one set, so CAs may move a name between
    /// them; IPs, URIs and emails must match as multisets.
    pub fn matches_spec(&self, spec: &CsrSpec) -> Vec<String> {
        let mut violations = Vec::new();
        let cert = &self.spec;
        let spec_cn = &spec.subject.common_name;
        let cert_cn = &cert.subject.common_name;
        let with_cn = |names: &[String], cn: &String| -> BTreeSet<String> {
            let mut set: BTreeSet<String> = names.iter().cloned().collect();
            if !cn.is_empty() {
                set.insert(cn.clone());
            }
            set
        };
        let expected = with_cn(&spec.dns_names, spec_cn);
        let actual = with_cn(&cert.dns_names, cert_cn);
        if expected != actual {
            if (!spec_cn.is_empty() && !actual.contains(spec_cn))
                || (!cert_cn.is_empty() && !expected.contains(cert_cn))
            {
                violations.push("spec.commonName".to_string());
            }
            if !spec.dns_names.iter().all(|n| actual.contains(n))
                || !cert.dns_names.iter().all(|n| expected.contains(n))
            {
                violations.push("spec.dnsNames".to_string());
            }
        }
        if !equal_unsorted(
            cert.ip_addresses.iter().map(ip_key),
            spec.ip_addresses.iter().map(ip_key),
        ) {
            violations.push("spec.ipAddresses".to_string());
        }
        if !equal_unsorted(&cert.uris, &spec.uris) {
            violations.push("spec.uris".to_string());
        }
        if !equal_unsorted(&cert.email_addresses, &spec.email_addresses) {
            violations.push("spec.emailAddresses".to_string());
        }
        violations
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::InvalidCertificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::InvalidCertificate(
            "trailing data after certificate".into(),
        ));
    }
    Ok(cert)
}

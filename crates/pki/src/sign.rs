//! Issuing certificates: templates from CSRs or specs, CA and self signing.
//!
//! Mirrors cert-manager's `CertificateTemplateFromCertificateRequest`,
//! `SignCSRTemplate` and the SelfSigned issuer on top of Go's
//! `x509.CreateCertificate` defaults: random 159-bit serial, SKI only on CA
//! certificates, AKI from the issuer's SKI, no notAfter cap (the CA issuer
//! does not clamp to the CA's expiry; use
//! [`CertificateTemplate::clamp_not_after`] where a caller wants to).

use std::time::{Duration, SystemTime};

use crate::chain::{PemBundle, parse_single_certificate_chain};
use crate::csr::{ParsedCsr, unknown_ekus};
use crate::error::{Error, Result};
use crate::keys::{EcCurve, KeyType, PrivateKey, PublicKey};
use crate::parse::ParsedCertificate;
use crate::spec::{BasicConstraints, CsrSpec, NameConstraints};
use crate::subject::{self, Subject};
use crate::usages::{ExtKeyUsage, KeyUsages, Usage, key_usages_for, print_usages};
use crate::{asn1, ext, oid};

/// cert-manager's default certificate duration (90 days).
pub const DEFAULT_CERT_DURATION: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// What the CertificateRequest (not the CSR) decides: these always win over
/// what the CSR asks for, after checking that the CSR does not contradict
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestOverrides {
    /// Validity period from now.
    pub duration: Duration,
    /// `isCA`.
    pub is_ca: bool,
    /// KeyUsage bits to issue.
    pub key_usage: KeyUsages,
    /// Extended key usages to issue, in order.
    pub ext_key_usages: Vec<ExtKeyUsage>,
}

impl RequestOverrides {
    /// From a CertificateRequest's `duration`, `isCA` and `usages`.
    pub fn new(duration: Duration, is_ca: bool, usages: &[Usage]) -> Self {
        let (key_usage, ext_key_usages) = key_usages_for(usages, is_ca);
        RequestOverrides {
            duration,
            is_ca,
            key_usage,
            ext_key_usages,
        }
    }
}

/// Everything needed to sign a certificate.
#[derive(Clone, Debug)]
pub struct CertificateTemplate {
    /// DER subject, copied verbatim into the certificate.
    pub subject_der: Vec<u8>,
    /// The subject's public key.
    pub public_key: PublicKey,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// Serial number (big-endian); `None` draws a random one.
    pub serial_number: Option<Vec<u8>>,
    /// KeyUsage; empty means no extension.
    pub key_usage: KeyUsages,
    /// Extended key usages, in order; empty means no extension.
    pub ext_key_usages: Vec<ExtKeyUsage>,
    /// BasicConstraints; `None` means no extension.
    pub basic_constraints: Option<BasicConstraints>,
    /// Name constraints.
    pub name_constraints: Option<NameConstraints>,
    /// SubjectKeyIdentifier; `None` derives one for CA certificates only.
    pub subject_key_id: Option<Vec<u8>>,
    /// CRL distribution point URLs.
    pub crl_distribution_points: Vec<String>,
    /// OCSP responder URLs (AIA).
    pub ocsp_servers: Vec<String>,
    /// CA issuer URLs (AIA).
    pub issuing_certificate_urls: Vec<String>,
    /// GeneralNames value of the SAN extension, copied from the request.
    subject_alt_names: Option<Vec<u8>>,
}

impl CertificateTemplate {
    /// cert-manager's `CertificateTemplateFromCertificateRequest`: verifies
    /// the CSR signature, takes subject, key, SANs (byte for byte) and name
    /// constraints from it, and applies `overrides`. A CSR that encodes
    /// BasicConstraints or usages must agree with the overrides.
    pub fn from_csr(csr: &ParsedCsr, overrides: &RequestOverrides) -> Result<Self> {
        csr.verify_signature()?;
        let ext = &csr.extensions;
        if let Some(bc) = ext.basic_constraints
            && bc.is_ca != overrides.is_ca
        {
            return Err(Error::CsrMismatch(format!(
                "IsCA {} does not match expected value {}",
                bc.is_ca, overrides.is_ca
            )));
        }
        if csr.has_usage_extensions() {
            check_usages(csr, overrides)?;
        }
        let mut ext_key_usages = overrides.ext_key_usages.clone();
        ext_key_usages.extend(unknown_ekus(ext).into_iter().map(ExtKeyUsage::Other));
        let (not_before, not_after) = validity(overrides.duration)?;
        Ok(CertificateTemplate {
            subject_der: csr.subject_der().to_vec(),
            public_key: csr.public_key().clone(),
            not_before,
            not_after,
            serial_number: None,
            key_usage: overrides.key_usage,
            ext_key_usages,
            basic_constraints: Some(BasicConstraints {
                is_ca: overrides.is_ca,
                max_path_len: None,
            }),
            name_constraints: ext.name_constraints.clone(),
            subject_key_id: None,
            crl_distribution_points: Vec::new(),
            ocsp_servers: Vec::new(),
            issuing_certificate_urls: Vec::new(),
            subject_alt_names: ext.san_raw.clone(),
        })
    }

    /// A template straight from a spec (what `CertificateTemplateFromCertificate`
    /// gets by way of a CSR). The spec's subject, SANs and name constraints
    /// are used; its usages and basic constraints are replaced by `overrides`.
    pub fn from_spec(
        spec: &CsrSpec,
        public_key: PublicKey,
        overrides: &RequestOverrides,
    ) -> Result<Self> {
        let (not_before, not_after) = validity(overrides.duration)?;
        Ok(CertificateTemplate {
            subject_der: spec.subject_der()?,
            public_key,
            not_before,
            not_after,
            serial_number: None,
            key_usage: overrides.key_usage,
            ext_key_usages: overrides.ext_key_usages.clone(),
            basic_constraints: Some(BasicConstraints {
                is_ca: overrides.is_ca,
                max_path_len: None,
            }),
            name_constraints: spec.name_constraints.clone(),
            subject_key_id: None,
            crl_distribution_points: Vec::new(),
            ocsp_servers: Vec::new(),
            issuing_certificate_urls: Vec::new(),
            subject_alt_names: ext::encode_sans(spec)?,
        })
    }

    /// Caps `not_after` at `limit` (e.g. the issuing CA's own expiry).
    pub fn clamp_not_after(&mut self, limit: SystemTime) {
        self.not_after = self.not_after.min(limit);
    }

    fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|bc| bc.is_ca)
    }
}

/// `CertificateTemplateOverrideDuration`: from now for `duration`.
fn validity(duration: Duration) -> Result<(SystemTime, SystemTime)> {
    let now = SystemTime::now();
    let not_after = now
        .checked_add(duration)
        .ok_or_else(|| Error::InvalidSpec {
            field: "spec.duration",
            reason: "duration is too long".into(),
        })?;
    Ok((now, not_after))
}

/// `CertificateTemplateValidateAndOverrideKeyUsages`: the CSR's KeyUsage bits
/// and known EKUs (in order) must equal what the request grants.
fn check_usages(csr: &ParsedCsr, overrides: &RequestOverrides) -> Result<()> {
    let requested_ku = csr.extensions.key_usage.unwrap_or_default();
    if requested_ku != overrides.key_usage {
        return Err(Error::CsrMismatch(format!(
            "the KeyUsages {} do not match the expected KeyUsages {}",
            print_usages(requested_ku.to_usages().iter().map(|u| u.as_str())),
            print_usages(overrides.key_usage.to_usages().iter().map(|u| u.as_str())),
        )));
    }
    let requested_eku: Vec<&ExtKeyUsage> = csr
        .extensions
        .ext_key_usages
        .iter()
        .flatten()
        .filter(|e| e.is_known())
        .collect();
    if !requested_eku
        .iter()
        .copied()
        .eq(overrides.ext_key_usages.iter())
    {
        return Err(Error::CsrMismatch(format!(
            "the ExtKeyUsages {} do not match the expected ExtKeyUsages {}",
            print_usages(requested_eku.iter().map(|e| e.usage_str())),
            print_usages(overrides.ext_key_usages.iter().map(|e| e.usage_str())),
        )));
    }
    Ok(())
}

/// A signed certificate with the outputs cert-manager stores.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// The new certificate.
    pub certificate: ParsedCertificate,
    /// `tls.crt`: leaf first, then intermediates.
    pub chain_pem: String,
    /// `ca.crt`.
    pub ca_pem: String,
}

/// A CA keypair as loaded from a CA issuer's Secret.
pub struct Issuer {
    certs: Vec<ParsedCertificate>,
    key: PrivateKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("subject", &self.certs[0].spec.subject)
            .field("chain_len", &self.certs.len())
            .field("key", &self.key)
            .finish()
    }
}

impl Issuer {
    /// Loads `tls.crt` (chain, CA first), `tls.key` and the optional `ca.crt`
    /// (first certificate appended), like `kube.SecretTLSKeyPairAndCA`. The
    /// key is checked against the certificate when signing, as Go does.
    pub fn from_pem(tls_crt: &[u8], tls_key: &[u8], ca_crt: Option<&[u8]>) -> Result<Self> {
        let key = PrivateKey::from_pem(tls_key)?;
        let mut certs = crate::chain::decode_certificate_chain(tls_crt)?;
        if let Some(ca) = ca_crt.filter(|ca| !ca.is_empty()) {
            let mut set = crate::chain::decode_certificate_set(ca)?;
            certs.push(set.swap_remove(0));
        }
        Self::new(certs, key)
    }

    /// From parsed certificates (signing certificate first) and its key.
    pub fn new(certs: Vec<ParsedCertificate>, key: PrivateKey) -> Result<Self> {
        if certs.is_empty() {
            return Err(Error::InvalidChain(
                "no CA certificates given to sign CSR template".into(),
            ));
        }
        Ok(Issuer { certs, key })
    }

    /// The signing certificate.
    pub fn certificate(&self) -> &ParsedCertificate {
        &self.certs[0]
    }

    /// The signing key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// `SignCSRTemplate`: signs `template` with the CA key, then assembles the
    /// chain from the new certificate and the CA certificates.
    pub fn sign(&self, template: &CertificateTemplate) -> Result<IssuedCertificate> {
        let ca = &self.certs[0];
        if !self.key.public_key().matches(&ca.public_key)? {
            return Err(Error::KeyMismatch(
                "x509: provided PrivateKey doesn't match parent's PublicKey".into(),
            ));
        }
        let der = sign_certificate(
            template,
            &ca.subject_der,
            ca.subject_key_id.as_deref(),
            &self.key,
        )?;
        let certificate = ParsedCertificate::from_der(&der)?;
        let mut all = self.certs.clone();
        all.push(certificate.clone());
        let PemBundle { chain_pem, ca_pem } = parse_single_certificate_chain(all)?;
        Ok(IssuedCertificate {
            certificate,
            chain_pem,
            ca_pem,
        })
    }
}

/// The SelfSigned issuer: signs `template` with its own key, which must be
/// `key`. The certificate is also the CA.
pub fn self_sign(template: &CertificateTemplate, key: &PrivateKey) -> Result<IssuedCertificate> {
    if !key.public_key().matches(&template.public_key)? {
        return Err(Error::KeyMismatch(
            "CSR not signed by referenced private key".into(),
        ));
    }
    let der = sign_certificate(template, &template.subject_der, None, key)?;
    let certificate = ParsedCertificate::from_der(&der)?;
    let pem = certificate.to_pem();
    Ok(IssuedCertificate {
        certificate,
        chain_pem: pem.clone(),
        ca_pem: pem,
    })
}

/// `GenerateLocallySignedTemporaryCertificate`: a certificate for `key`
/// signed by a throwaway P-521 CA, used while the real one is pending. Like
/// Go, only the structured subject, DNS/IP/URI/email SANs and usages are
/// used. Returns the certificate PEM.
pub fn temporary_certificate(
    spec: &CsrSpec,
    key: &PrivateKey,
    overrides: &RequestOverrides,
) -> Result<String> {
    let ca_key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P521))?;
    let ca_spec = CsrSpec {
        subject: Subject {
            common_name: "cert-manager.local".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let ca_overrides = RequestOverrides::new(DEFAULT_CERT_DURATION, true, &[]);
    let ca_template =
        CertificateTemplate::from_spec(&ca_spec, ca_key.public_key().clone(), &ca_overrides)?;
    let ca = ParsedCertificate::from_der(&sign_certificate(
        &ca_template,
        &ca_template.subject_der,
        None,
        &ca_key,
    )?)?;
    let leaf_spec = CsrSpec {
        literal_subject: None,
        other_names: Vec::new(),
        name_constraints: None,
        ..spec.clone()
    };
    let template = CertificateTemplate::from_spec(&leaf_spec, key.public_key().clone(), overrides)?;
    let der = sign_certificate(
        &template,
        &ca.subject_der,
        ca.subject_key_id.as_deref(),
        &ca_key,
    )?;
    Ok(crate::pem_codec::encode("CERTIFICATE", &der))
}

/// A random positive serial of at most 20 octets, as Go generates it.
fn random_serial() -> Result<Vec<u8>> {
    use aws_lc_rs::rand::SecureRandom;
    let mut serial = vec![0u8; 20];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| Error::Crypto("random number generator failed"))?;
    serial[0] &= 0x7f;
    Ok(serial)
}

/// Builds, signs and encodes the certificate (Go `CreateCertificate`).
fn sign_certificate(
    template: &CertificateTemplate,
    issuer_der: &[u8],
    issuer_key_id: Option<&[u8]>,
    signer: &PrivateKey,
) -> Result<Vec<u8>> {
    let algorithm = signer.default_signature_algorithm();
    let algorithm_id = algorithm.algorithm_identifier()?;
    let serial = match &template.serial_number {
        Some(serial) => serial.clone(),
        None => random_serial()?,
    };
    let validity = asn1::sequence(&[
        &asn1::time(template.not_before)?,
        &asn1::time(template.not_after)?,
    ])?;
    let authority_key_id =
        issuer_key_id.filter(|id| !id.is_empty() && issuer_der != template.subject_der.as_slice());
    let extensions = certificate_extensions(template, authority_key_id)?;
    let mut tbs_parts: Vec<Vec<u8>> = vec![
        asn1::context(0, true, &asn1::uint(&[2])?)?,
        asn1::uint(&serial)?,
        algorithm_id.clone(),
        issuer_der.to_vec(),
        validity,
        template.subject_der.clone(),
        template.public_key.spki_der().to_vec(),
    ];
    if !extensions.is_empty() {
        let refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
        tbs_parts.push(asn1::context(3, true, &asn1::sequence(&refs)?)?);
    }
    let refs: Vec<&[u8]> = tbs_parts.iter().map(Vec::as_slice).collect();
    let tbs = asn1::sequence(&refs)?;
    let signature = signer.sign(algorithm, &tbs)?;
    asn1::sequence(&[&tbs, &algorithm_id, &asn1::bit_string(0, &signature)?])
}

/// Extensions in the order Go's `buildCertExtensions` writes them, with the
/// copied SAN extension last (Go's `ExtraExtensions`).
fn certificate_extensions(
    template: &CertificateTemplate,
    authority_key_id: Option<&[u8]>,
) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if !template.key_usage.is_empty() {
        let value = ext::encode_key_usage(template.key_usage)?;
        out.push(asn1::extension(&oid::KEY_USAGE, true, &value)?);
    }
    if !template.ext_key_usages.is_empty() {
        let value = ext::encode_ext_key_usage(&template.ext_key_usages)?;
        out.push(asn1::extension(&oid::EXT_KEY_USAGE, false, &value)?);
    }
    if let Some(bc) = &template.basic_constraints {
        let value = ext::encode_basic_constraints(bc)?;
        out.push(asn1::extension(&oid::BASIC_CONSTRAINTS, true, &value)?);
    }
    let subject_key_id = match &template.subject_key_id {
        Some(id) => Some(id.clone()),
        None => template
            .is_ca()
            .then(|| template.public_key.key_identifier()),
    };
    if let Some(id) = subject_key_id.filter(|id| !id.is_empty()) {
        let value = asn1::octet_string(&id)?;
        out.push(asn1::extension(&oid::SUBJECT_KEY_ID, false, &value)?);
    }
    if let Some(id) = authority_key_id {
        let value = ext::encode_authority_key_id(id)?;
        out.push(asn1::extension(&oid::AUTHORITY_KEY_ID, false, &value)?);
    }
    if !template.ocsp_servers.is_empty() || !template.issuing_certificate_urls.is_empty() {
        let value = ext::encode_aia(&template.ocsp_servers, &template.issuing_certificate_urls)?;
        out.push(asn1::extension(&oid::AUTHORITY_INFO_ACCESS, false, &value)?);
    }
    if let Some(nc) = &template.name_constraints
        && let Some(value) = ext::encode_name_constraints(nc)?
    {
        out.push(asn1::extension(
            &oid::NAME_CONSTRAINTS,
            nc.critical,
            &value,
        )?);
    }
    if !template.crl_distribution_points.is_empty() {
        let value = ext::encode_crl_distribution_points(&template.crl_distribution_points)?;
        out.push(asn1::extension(
            &oid::CRL_DISTRIBUTION_POINTS,
            false,
            &value,
        )?);
    }
    if let Some(sans) = &template.subject_alt_names {
        // RFC 5280 4.2.1.6: critical when the subject is empty.
        let critical = template.subject_der == subject::EMPTY_NAME;
        out.push(asn1::extension(&oid::SUBJECT_ALT_NAME, critical, sans)?);
    }
    Ok(out)
}

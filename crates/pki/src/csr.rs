//! PKCS#10 certificate requests: building them from a [`CsrSpec`] the way
//! cert-manager's `GenerateCSR` does, and parsing them back.

use der::asn1::ObjectIdentifier;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::prelude::FromDer;

use crate::error::{Error, Result};
use crate::ext::{self, Extensions};
use crate::keys::{PrivateKey, PublicKey};
use crate::pem_codec::{self, SizeLimits};
use crate::signature::{self, Sha1, SignatureAlgorithm};
use crate::spec::{CsrSpec, ip_key};
use crate::subject::{self, Subject};
use crate::{asn1, oid};

/// A signed CSR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    der: Vec<u8>,
}

impl CertificateRequest {
    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `CERTIFICATE REQUEST` PEM, as stored in `CertificateRequest.spec.request`.
    pub fn to_pem(&self) -> String {
        pem_codec::encode("CERTIFICATE REQUEST", &self.der)
    }
}

/// Builds and signs a CSR for `spec` with `key`. The signature algorithm
/// defaults to the one Go picks for the key (see
/// [`SignatureAlgorithm::default_for`]).
pub fn create_csr(
    spec: &CsrSpec,
    key: &PrivateKey,
    signature_algorithm: Option<SignatureAlgorithm>,
) -> Result<CertificateRequest> {
    let subject_der = spec.subject_der()?;
    if spec.common_name()?.is_empty() && !spec.has_sans() {
        return Err(Error::InvalidSpec {
            field: "spec",
            reason: "at least one of commonName (from the commonName field or from a literalSubject), dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set".into(),
        });
    }
    let extensions = request_extensions(spec, &subject_der)?;
    let attributes = if extensions.is_empty() {
        Vec::new()
    } else {
        let refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
        let exts = asn1::sequence(&refs)?;
        let values = asn1::tlv(der::Tag::Set, &exts)?;
        asn1::sequence(&[&asn1::oid(&oid::EXTENSION_REQUEST)?, &values])?
    };
    let info = asn1::sequence(&[
        &asn1::uint(&[0])?,
        &subject_der,
        key.public_key().spki_der(),
        &asn1::context(0, true, &attributes)?,
    ])?;
    let algorithm = signature_algorithm.unwrap_or_else(|| key.default_signature_algorithm());
    let signature = key.sign(algorithm, &info)?;
    let der = asn1::sequence(&[
        &info,
        &algorithm.algorithm_identifier()?,
        &asn1::bit_string(0, &signature)?,
    ])?;
    Ok(CertificateRequest { der })
}

/// The requested extensions in the order `GenerateCSR` adds them.
fn request_extensions(spec: &CsrSpec, subject_der: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if let Some(sans) = ext::encode_sans(spec)? {
        let critical = subject_der == subject::EMPTY_NAME;
        out.push(asn1::extension(&oid::SUBJECT_ALT_NAME, critical, &sans)?);
    }
    if !spec.key_usage.is_empty() {
        let ku = ext::encode_key_usage(spec.key_usage)?;
        out.push(asn1::extension(&oid::KEY_USAGE, true, &ku)?);
    }
    if !spec.ext_key_usages.is_empty() {
        let eku = ext::encode_ext_key_usage(&spec.ext_key_usages)?;
        out.push(asn1::extension(&oid::EXT_KEY_USAGE, false, &eku)?);
    }
    if let Some(bc) = &spec.basic_constraints {
        let bc = ext::encode_basic_constraints(bc)?;
        out.push(asn1::extension(&oid::BASIC_CONSTRAINTS, true, &bc)?);
    }
    if let Some(nc) = &spec.name_constraints
        && let Some(value) = ext::encode_name_constraints(nc)?
    {
        out.push(asn1::extension(
            &oid::NAME_CONSTRAINTS,
            nc.critical,
            &value,
        )?);
    }
    Ok(out)
}

/// A parsed CSR.
#[derive(Clone, Debug)]
pub struct ParsedCsr {
    der: Vec<u8>,
    /// What the request asks for. The subject is always reported in
    /// structured form (`literal_subject` is `None`); compare literal
    /// subjects through [`ParsedCsr::subject_der`].
    pub spec: CsrSpec,
    subject_der: Vec<u8>,
    public_key: PublicKey,
    pub(crate) extensions: Extensions,
}

impl ParsedCsr {
    /// Parses the first PEM block of `pem` (any block type, as Go does).
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::from_pem_with_limits(pem, &SizeLimits::default())
    }

    /// [`ParsedCsr::from_pem`] with explicit size limits.
    pub fn from_pem_with_limits(pem: &[u8], limits: &SizeLimits) -> Result<Self> {
        let block = pem_codec::decode_first(pem, limits.max_certificate_size)?;
        Self::from_der(&block.der)
    }

    /// Parses a DER CSR. The signature is not checked; see
    /// [`ParsedCsr::verify_signature`].
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let csr = parse(der)?;
        let info = &csr.certification_request_info;
        let subject_der = info.subject.as_raw().to_vec();
        let public_key = PublicKey::from_spki_der(info.subject_pki.raw)?;
        let extensions = requested_extensions(&csr)?;
        let spec = spec_from_parts(Subject::from_der(&subject_der)?, &extensions);
        Ok(ParsedCsr {
            der: der.to_vec(),
            spec,
            subject_der,
            public_key,
            extensions,
        })
    }

    /// DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The raw DER subject, byte for byte as requested.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The requested public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Go's `PublicKeyMatchesCSR`: whether `key` is the requested key.
    pub fn public_key_matches(&self, key: &PublicKey) -> Result<bool> {
        self.public_key.matches(key)
    }

    /// Whether the request carries a KeyUsage or ExtKeyUsage extension.
    pub fn has_usage_extensions(&self) -> bool {
        self.extensions.key_usage.is_some() || self.extensions.ext_key_usages.is_some()
    }

    /// Checks the self-signature (SHA-1 accepted, like Go's
    /// `CertificateRequest.CheckSignature`).
    pub fn verify_signature(&self) -> Result<()> {
        let csr = parse(&self.der)?;
        let alg = &csr.signature_algorithm;
        let alg_oid = oid::from_parser(&alg.algorithm)
            .ok_or_else(|| Error::InvalidCsr("invalid signature algorithm".into()))?;
        let sig = whole_bytes(&csr.signature_value)?;
        signature::verify(
            &self.public_key,
            &alg_oid,
            alg.parameters.as_ref().map(|p| p.data),
            sig,
            csr.certification_request_info.raw,
            Sha1::Allow,
        )
    }

    /// cert-manager's `RequestMatchesSpec`, restricted to what a CSR
    /// carries: the violated spec fields, in Go's order. The
    /// CertificateRequest-level checks (isCA, usages, duration, issuerRef)
    /// compare API objects and stay with the caller.
    pub fn matches_spec(&self, spec: &CsrSpec) -> Result<Vec<String>> {
        let mut violations = Vec::new();
        let mut check = |ok: bool, field: &str| {
            if !ok {
                violations.push(field.to_string());
            }
        };
        let csr = &self.spec;
        check(
            equal_unsorted(
                csr.ip_addresses.iter().map(ip_key),
                spec.ip_addresses.iter().map(ip_key),
            ),
            "spec.ipAddresses",
        );
        check(equal_unsorted(&csr.uris, &spec.uris), "spec.uris");
        check(
            equal_unsorted(&csr.email_addresses, &spec.email_addresses),
            "spec.emailAddresses",
        );
        check(
            equal_unsorted(&csr.dns_names, &spec.dns_names),
            "spec.dnsNames",
        );
        if !spec.other_names.is_empty() {
            if self.extensions.non_utf8_other_names > 0 {
                return Err(Error::InvalidCsr(
                    "otherName is not an utf8 value".to_string(),
                ));
            }
            check(
                equal_unsorted(&csr.other_names, &spec.other_names),
                "spec.otherNames",
            );
        }
        match spec.literal() {
            None => {
                let (a, b) = (&csr.subject, &spec.subject);
                check(a.common_name == b.common_name, "spec.commonName");
                check(
                    a.serial_number == b.serial_number,
                    "spec.subject.serialNumber",
                );
                check(
                    equal_unsorted(&a.organizations, &b.organizations),
                    "spec.subject.organizations",
                );
                check(
                    equal_unsorted(&a.countries, &b.countries),
                    "spec.subject.countries",
                );
                check(
                    equal_unsorted(&a.localities, &b.localities),
                    "spec.subject.localities",
                );
                check(
                    equal_unsorted(&a.organizational_units, &b.organizational_units),
                    "spec.subject.organizationalUnits",
                );
                // Go reports this field as "postCodes".
                check(
                    equal_unsorted(&a.postal_codes, &b.postal_codes),
                    "spec.subject.postCodes",
                );
                check(
                    equal_unsorted(&a.provinces, &b.provinces),
                    "spec.subject.provinces",
                );
                check(
                    equal_unsorted(&a.street_addresses, &b.street_addresses),
                    "spec.subject.streetAddresses",
                );
            }
            Some(literal) => {
                let expected = subject::literal_subject_to_der(literal)?;
                check(expected == self.subject_der, "spec.literalSubject");
            }
        }
        Ok(violations)
    }
}

fn parse(der: &[u8]) -> Result<X509CertificationRequest<'_>> {
    let (rest, csr) =
        X509CertificationRequest::from_der(der).map_err(|e| Error::InvalidCsr(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::InvalidCsr(
            "trailing data after certificate request".into(),
        ));
    }
    Ok(csr)
}

pub(crate) fn whole_bytes<'a>(
    bits: &'a x509_parser::der_parser::asn1_rs::BitString<'_>,
) -> Result<&'a [u8]> {
    if bits.unused_bits != 0 {
        return Err(Error::BadSignature(
            "signature is not a whole number of bytes".into(),
        ));
    }
    Ok(&bits.data)
}

fn requested_extensions(csr: &X509CertificationRequest<'_>) -> Result<Extensions> {
    let mut all = Vec::new();
    for attribute in csr.certification_request_info.iter_attributes() {
        if let ParsedCriAttribute::ExtensionRequest(req) = attribute.parsed_attribute() {
            all.extend(req.extensions.iter().cloned());
        } else if oid::from_parser(&attribute.oid) == Some(oid::EXTENSION_REQUEST) {
            return Err(Error::InvalidCsr(
                "malformed extension request attribute".into(),
            ));
        }
    }
    Extensions::decode(&all).map_err(|e| match e {
        Error::InvalidCertificate(msg) => Error::InvalidCsr(msg),
        other => other,
    })
}

pub(crate) fn spec_from_parts(subject: Subject, ext: &Extensions) -> CsrSpec {
    CsrSpec {
        subject,
        literal_subject: None,
        dns_names: ext.dns_names.clone(),
        ip_addresses: ext.ip_addresses.clone(),
        uris: ext.uris.clone(),
        email_addresses: ext.email_addresses.clone(),
        other_names: ext.other_names.clone(),
        key_usage: ext.key_usage.unwrap_or_default(),
        ext_key_usages: ext.ext_key_usages.clone().unwrap_or_default(),
        basic_constraints: ext.basic_constraints,
        name_constraints: ext.name_constraints.clone(),
    }
}

/// Go's `EqualUnsorted`: same multiset (lengths must match).
pub(crate) fn equal_unsorted<T: Ord, A, B>(a: A, b: B) -> bool
where
    A: IntoIterator<Item = T>,
    B: IntoIterator<Item = T>,
{
    let mut a: Vec<T> = a.into_iter().collect();
    let mut b: Vec<T> = b.into_iter().collect();
    a.sort();
    b.sort();
    a == b
}

/// Unknown-EKU OIDs requested in the CSR, which Go carries into the
/// certificate (`UnknownExtKeyUsage`).
pub(crate) fn unknown_ekus(ext: &Extensions) -> Vec<ObjectIdentifier> {
    ext.ext_key_usages
        .iter()
        .flatten()
        .filter_map(|e| match e {
            crate::usages::ExtKeyUsage::Other(oid) => Some(*oid),
            _ => None,
        })
        .collect()
}

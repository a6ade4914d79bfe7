//! CertificateRequest `spec.request` checks: the PEM CSR decodes, its signature verifies, and
//! any basic constraints or key usage extensions agree with `isCA` and `usages` (cert-manager's
//! `CertificateTemplateFromCSRPEM` with the basic-constraints and key-usage validators).

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::der_parser::asn1_rs::{FromDer, Oid};
use x509_parser::extensions::ParsedExtension;

use crate::certificate::KeyUsage;

/// Largest PEM accepted, as cert-manager's default leaf certificate limit (30000 + 6500 bytes).
pub(crate) const MAX_CSR_PEM_SIZE: usize = 36_500;

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";

/// Go `x509.KeyUsage` bits, lowest first, with cert-manager's names.
const KEY_USAGE_BITS: [(u16, &str); 9] = [
    (1 << 0, "digital signature"),
    (1 << 1, "content commitment"),
    (1 << 2, "key encipherment"),
    (1 << 3, "data encipherment"),
    (1 << 4, "key agreement"),
    (1 << 5, "cert sign"),
    (1 << 6, "crl sign"),
    (1 << 7, "encipher only"),
    (1 << 8, "decipher only"),
];

/// Extended key usages Go's x509 package knows, as (OID, cert-manager name); those
/// cert-manager has no name for print as `unknown`.
const EXT_KEY_USAGES: [(&str, &str); 14] = [
    ("2.5.29.37.0", "any"),
    ("1.3.6.1.5.5.7.3.1", "server auth"),
    ("1.3.6.1.5.5.7.3.2", "client auth"),
    ("1.3.6.1.5.5.7.3.3", "code signing"),
    ("1.3.6.1.5.5.7.3.4", "email protection"),
    ("1.3.6.1.5.5.7.3.5", "ipsec end system"),
    ("1.3.6.1.5.5.7.3.6", "ipsec tunnel"),
    ("1.3.6.1.5.5.7.3.7", "ipsec user"),
    ("1.3.6.1.5.5.7.3.8", "timestamping"),
    ("1.3.6.1.5.5.7.3.9", "ocsp signing"),
    ("1.3.6.1.4.1.311.10.3.3", "microsoft sgc"),
    ("2.16.840.1.113730.4.1", "netscape sgc"),
    ("1.3.6.1.4.1.311.2.1.22", "unknown"),
    ("1.3.6.1.4.1.311.61.1.1", "unknown"),
];

/// Usages split into the key usage bits and the extended key usage list, as
/// `KeyUsagesForCertificateOrCertificateRequest` computes them (defaults when empty, `cert
/// sign` for CAs).
pub(crate) struct ExpectedUsages {
    pub key_usage: u16,
    /// Extended key usages as names, in the order requested.
    pub ext_key_usage: Vec<&'static str>,
}

/// Maps usages to bits; `Err` lists the unknown usages as Go prints a slice (`[a b]`).
pub(crate) fn expected_usages(usages: &[KeyUsage], is_ca: bool) -> Result<ExpectedUsages, String> {
    let defaults = KeyUsage::defaults();
    let usages = if usages.is_empty() {
        &defaults[..]
    } else {
        usages
    };
    let mut key_usage = if is_ca { 1 << 5 } else { 0 };
    let mut ext_key_usage = Vec::new();
    let mut unknown = Vec::new();
    for u in usages {
        if let Some(bit) = key_usage_bit(u) {
            key_usage |= bit;
        } else if let Some(name) = ext_key_usage_name(u) {
            ext_key_usage.push(name);
        } else {
            unknown.push(u.as_str().to_owned());
        }
    }
    if unknown.is_empty() {
        Ok(ExpectedUsages {
            key_usage,
            ext_key_usage,
        })
    } else {
        Err(format!("unknown key usages: [{}]", unknown.join(" ")))
    }
}

/// The key usage bit of a usage, if it is a key usage.
pub(crate) fn key_usage_bit(u: &KeyUsage) -> Option<u16> {
    let name = match u {
        KeyUsage::Signing => "digital signature",
        other => other.as_str(),
    };
    KEY_USAGE_BITS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(b, _)| *b)
}

/// The canonical extended key usage name of a usage, if it is one (`s/mime` is email
/// protection).
pub(crate) fn ext_key_usage_name(u: &KeyUsage) -> Option<&'static str> {
    let name = match u {
        KeyUsage::SMime => "email protection",
        other => other.as_str(),
    };
    EXT_KEY_USAGES[..12]
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(_, n)| *n)
}

fn print_usages(names: &[&str]) -> String {
    if names.is_empty() {
        return "[]".into();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!(" '{n}'")).collect();
    format!("[{} ]", quoted.join(","))
}

fn key_usage_names(bits: u16) -> Vec<&'static str> {
    KEY_USAGE_BITS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Checks the CSR in `pem_bytes` against `is_ca` and the expected usages. The error text is
/// what cert-manager reports for the same problem.
pub(crate) fn check_csr(
    pem_bytes: &[u8],
    is_ca: bool,
    expected: &ExpectedUsages,
) -> Result<(), String> {
    if pem_bytes.len() > MAX_CSR_PEM_SIZE {
        return Err(format!(
            "error decoding certificate request PEM block: provided PEM data was larger than the maximum {MAX_CSR_PEM_SIZE}B"
        ));
    }
    let block = first_pem_block(pem_bytes).ok_or_else(|| {
        "error decoding certificate request PEM block: no PEM data was found in given input"
            .to_owned()
    })?;
    let csr = match X509CertificationRequest::from_der(block.contents()) {
        Ok((_, csr)) => csr,
        Err(_) => return Err("x509: malformed certificate request".into()),
    };
    if csr.verify_signature().is_err() {
        return Err(signature_error(&csr));
    }

    let mut basic_constraints_ca = None;
    let mut key_usage: Option<u16> = None;
    let mut ext_key_usage: Option<Vec<&'static str>> = None;
    for attr in csr.certification_request_info.iter_attributes() {
        let ParsedCriAttribute::ExtensionRequest(req) = attr.parsed_attribute() else {
            continue;
        };
        for ext in &req.extensions {
            match ext.oid.to_id_string().as_str() {
                OID_BASIC_CONSTRAINTS => match ext.parsed_extension() {
                    ParsedExtension::BasicConstraints(bc) => basic_constraints_ca = Some(bc.ca),
                    _ => return Err("x509: invalid basic constraints".into()),
                },
                OID_KEY_USAGE => match ext.parsed_extension() {
                    ParsedExtension::KeyUsage(ku) => key_usage = Some(ku.flags & 0x1ff),
                    _ => return Err("x509: invalid key usage".into()),
                },
                OID_EXT_KEY_USAGE => {
                    let oids = match Vec::<Oid>::from_der(ext.value) {
                        Ok(([], oids)) => oids,
                        _ => return Err("x509: invalid extended key usages".into()),
                    };
                    // Unknown OIDs go to Go's UnknownExtKeyUsage, which is not compared.
                    let names = oids
                        .iter()
                        .filter_map(|oid| {
                            let id = oid.to_id_string();
                            EXT_KEY_USAGES
                                .iter()
                                .find(|(o, _)| *o == id)
                                .map(|(_, n)| *n)
                        })
                        .collect();
                    ext_key_usage = Some(names);
                }
                _ => {}
            }
        }
    }

    if let Some(csr_ca) = basic_constraints_ca
        && csr_ca != is_ca
    {
        return Err(format!(
            "encoded CSR error: IsCA {csr_ca} does not match expected value {is_ca}"
        ));
    }
    if key_usage.is_some() || ext_key_usage.is_some() {
        let csr_ku = key_usage.unwrap_or(0);
        if csr_ku != expected.key_usage {
            return Err(format!(
                "encoded CSR error: the KeyUsages {} do not match the expected KeyUsages {}",
                print_usages(&key_usage_names(csr_ku)),
                print_usages(&key_usage_names(expected.key_usage)),
            ));
        }
        let csr_eku = ext_key_usage.unwrap_or_default();
        if csr_eku != expected.ext_key_usage {
            return Err(format!(
                "encoded CSR error: the ExtKeyUsages {} do not match the expected ExtKeyUsages {}",
                print_usages(&csr_eku),
                print_usages(&expected.ext_key_usage),
            ));
        }
    }
    Ok(())
}

/// The first PEM block of any type, like Go's `pem.Decode` (text before it is skipped).
fn first_pem_block(bytes: &[u8]) -> Option<pem::Pem> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("-----BEGIN ")?;
    pem::parse(&text[start..]).ok()
}

/// Go's message for a bad signature depends on the key type.
fn signature_error(csr: &X509CertificationRequest<'_>) -> String {
    match csr
        .certification_request_info
        .subject_pki
        .algorithm
        .algorithm
        .to_id_string()
        .as_str()
    {
        "1.2.840.113549.1.1.1" => "crypto/rsa: verification error".into(),
        "1.2.840.10045.2.1" => "x509: ECDSA verification failure".into(),
        "1.3.101.112" => "x509: Ed25519 verification failure".into(),
        _ => "x509: cannot verify signature: algorithm unimplemented".into(),
    }
}

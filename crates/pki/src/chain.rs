//! Certificate chains and CA bundles.

use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::parse::ParsedCertificate;
use crate::pem_codec::{self, SizeLimits};

/// Decodes every PEM block of a certificate chain (e.g. `tls.crt`) as a
/// certificate, with the chain size limit (`DecodeX509CertificateChainBytes`).
pub fn decode_certificate_chain(pem: &[u8]) -> Result<Vec<ParsedCertificate>> {
    decode_certificates(pem, SizeLimits::default().max_chain_size)
}

/// Like [`decode_certificate_chain`] with the larger trust bundle limit
/// (`DecodeX509CertificateSetBytes`), for `ca.crt` and CA bundles.
pub fn decode_certificate_set(pem: &[u8]) -> Result<Vec<ParsedCertificate>> {
    decode_certificates(pem, SizeLimits::default().max_bundle_size)
}

/// Decodes all certificates of `pem`, rejecting inputs above `max` bytes.
/// Every block must be a certificate; no block at all is an error.
pub fn decode_certificates(pem: &[u8], max: usize) -> Result<Vec<ParsedCertificate>> {
    let blocks = pem_codec::decode_all(pem, max).map_err(|e| match e {
        Error::NoPemData => Error::InvalidCertificate(
            "error decoding certificate PEM block: no valid certificates found".into(),
        ),
        other => other,
    })?;
    blocks
        .iter()
        .map(|b| ParsedCertificate::from_der(&b.der))
        .collect()
}

/// Encodes certificates as concatenated `CERTIFICATE` PEM blocks.
pub fn encode_certificates(certs: &[ParsedCertificate]) -> String {
    certs.iter().map(ParsedCertificate::to_pem).collect()
}

/// The PEM outputs cert-manager stores: the chain for `tls.crt` and the CA
/// for `ca.crt`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PemBundle {
    /// Leaf first, up to the highest certificate that is not self-signed.
    pub chain_pem: String,
    /// The self-signed root if present, else the highest certificate of a
    /// chain longer than one; empty for a lone certificate that is not
    /// self-signed.
    pub ca_pem: String,
}

/// Largest number of distinct certificates accepted, bounding the O(n²)
/// chain assembly.
const MAX_CHAIN_CERTIFICATES: usize = 1000;

/// cert-manager's `ParseSingleCertificateChainPEM`.
pub fn parse_single_certificate_chain_pem(pem: &[u8]) -> Result<PemBundle> {
    parse_single_certificate_chain(decode_certificate_chain(pem)?)
}

/// cert-manager's `ParseSingleCertificateChain`: deduplicates `certs`,
/// orders them into exactly one chain (in any input order) and splits off
/// the CA. Fails if they do not form a single unbroken chain.
pub fn parse_single_certificate_chain(mut certs: Vec<ParsedCertificate>) -> Result<PemBundle> {
    certs.sort_by(|a, b| a.der().cmp(b.der()));
    certs.dedup_by(|a, b| a.der() == b.der());
    if certs.len() > MAX_CHAIN_CERTIFICATES {
        return Err(Error::InvalidChain(
            "certificate chain is too long, must be less than 1000 certificates".into(),
        ));
    }
    if certs.is_empty() {
        return Err(Error::InvalidChain("certificate chain is empty".into()));
    }
    // Each chain is a list of indexes into `certs`, leaf first.
    let mut chains: Vec<Vec<usize>> = (0..certs.len()).map(|i| vec![i]).collect();
    while chains.len() > 1 {
        let last = chains.pop().expect("more than one chain");
        let merged = chains
            .iter_mut()
            .find_map(|chain| try_merge(&certs, &last, chain).map(|m| (chain, m)));
        match merged {
            Some((chain, m)) => *chain = m,
            None => {
                return Err(Error::InvalidChain(
                    "certificate chain is malformed or broken".into(),
                ));
            }
        }
    }
    to_bundle(&certs, &chains[0])
}

/// Glues `a` on top of `b` or `b` on top of `a`, whichever is possible.
fn try_merge(certs: &[ParsedCertificate], a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let issued_by = |child: usize, parent: usize| {
        certs[child].issuer_der == certs[parent].subject_der
            && certs[child].check_signature_from(&certs[parent]).is_ok()
    };
    let (a_leaf, a_root) = (a[0], a[a.len() - 1]);
    let (b_leaf, b_root) = (b[0], b[b.len() - 1]);
    if issued_by(b_root, a_leaf) {
        return Some([b, a].concat());
    }
    if issued_by(a_root, b_leaf) {
        return Some([a, b].concat());
    }
    None
}

fn to_bundle(certs: &[ParsedCertificate], chain: &[usize]) -> Result<PemBundle> {
    let root = &certs[chain[chain.len() - 1]];
    let ca_pem = root.to_pem();
    if chain.len() == 1 {
        let ca = if root.is_self_signed() {
            ca_pem.clone()
        } else {
            String::new()
        };
        return Ok(PemBundle {
            chain_pem: ca_pem,
            ca_pem: ca,
        });
    }
    // Self-signed certificates are left out of the chain (RFC 5246 7.4.2).
    let chain_pem = chain
        .iter()
        .map(|i| &certs[*i])
        .filter(|c| !c.is_self_signed())
        .map(ParsedCertificate::to_pem)
        .collect();
    Ok(PemBundle { chain_pem, ca_pem })
}

/// The cainjector's `AppendCertificatesToBundle`: `bundle` followed by
/// `additional`, deduplicated by DER, with certificates expired at `now`
/// dropped. Empty inputs are allowed; unparsable non-empty ones are errors.
pub fn append_certificates_to_bundle(
    bundle: &[u8],
    additional: &[u8],
    now: SystemTime,
) -> Result<Vec<u8>> {
    let existing = decode_optional(bundle, "bundle")?;
    let extra = decode_optional(additional, "additional certificates")?;
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for cert in existing.iter().chain(extra.iter()) {
        if !cert.is_expired_at(now) && seen.insert(cert.der().to_vec()) {
            out.push_str(&cert.to_pem());
        }
    }
    Ok(out.into_bytes())
}

fn decode_optional(pem: &[u8], what: &str) -> Result<Vec<ParsedCertificate>> {
    if pem.is_empty() {
        return Ok(Vec::new());
    }
    decode_certificate_set(pem)
        .map_err(|e| Error::InvalidChain(format!("failed to parse {what}: {e}")))
}

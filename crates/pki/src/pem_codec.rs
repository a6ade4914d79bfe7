//! PEM decoding with cert-manager's size limits, and Go-compatible encoding.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Upper bounds on PEM input sizes, mirroring cert-manager's `internal/pem`
/// defaults. Inputs over the limit are rejected before any parsing, to bound
/// the work an attacker-controlled Secret can cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeLimits {
    /// Maximum size of a single certificate or CSR PEM.
    pub max_certificate_size: usize,
    /// Maximum size of a private key PEM.
    pub max_private_key_size: usize,
    /// Maximum size of a certificate chain PEM (e.g. `tls.crt`).
    pub max_chain_size: usize,
    /// Maximum size of a trust bundle PEM (e.g. `ca.crt`, CA bundles).
    pub max_bundle_size: usize,
}

const MAX_CA_CERTIFICATE_PEM_SIZE: usize = 6500;
const MAX_LEAF_CERTIFICATE_PEM_SIZE: usize = 30000 + MAX_CA_CERTIFICATE_PEM_SIZE;
const MAX_CERTS_IN_CHAIN: usize = 10;
const MAX_CERTS_IN_TRUST_BUNDLE: usize = 150;
const ESTIMATED_CA_CERT_SIZE: usize = 2200;

impl Default for SizeLimits {
    fn default() -> Self {
        SizeLimits {
            max_certificate_size: MAX_LEAF_CERTIFICATE_PEM_SIZE,
            max_private_key_size: 13000,
            max_chain_size: (MAX_CERTS_IN_CHAIN - 1) * MAX_CA_CERTIFICATE_PEM_SIZE
                + MAX_LEAF_CERTIFICATE_PEM_SIZE,
            max_bundle_size: MAX_CERTS_IN_TRUST_BUNDLE * ESTIMATED_CA_CERT_SIZE,
        }
    }
}

/// One decoded PEM block.
pub(crate) struct Block {
    pub tag: String,
    pub der: Zeroizing<Vec<u8>>,
}

fn check_size(input: &[u8], max: usize) -> Result<()> {
    if input.len() > max {
        return Err(Error::PemTooLarge { max });
    }
    Ok(())
}

fn map_pem_error(input: &[u8], e: ::pem::PemError) -> Error {
    if !contains(input, b"-----BEGIN ") {
        return Error::NoPemData;
    }
    Error::MalformedPem(e.to_string())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decodes the first PEM block of `input`, whatever its type (like Go's
/// `pem.Decode`); the caller decides whether the type is acceptable.
pub(crate) fn decode_first(input: &[u8], max: usize) -> Result<Block> {
    check_size(input, max)?;
    let block = ::pem::parse(input).map_err(|e| map_pem_error(input, e))?;
    Ok(Block {
        tag: block.tag().to_string(),
        der: Zeroizing::new(block.into_contents()),
    })
}

/// Decodes every PEM block of `input`, in order.
pub(crate) fn decode_all(input: &[u8], max: usize) -> Result<Vec<Block>> {
    check_size(input, max)?;
    let blocks = ::pem::parse_many(input).map_err(|e| map_pem_error(input, e))?;
    if blocks.is_empty() {
        return Err(Error::NoPemData);
    }
    Ok(blocks
        .into_iter()
        .map(|b| Block {
            tag: b.tag().to_string(),
            der: Zeroizing::new(b.into_contents()),
        })
        .collect())
}

/// Encodes one block the way Go's `pem.Encode` does: LF line endings,
/// 64-column base64, trailing newline.
pub(crate) fn encode(tag: &str, der: &[u8]) -> String {
    let block = ::pem::Pem::new(tag, der);
    let config = ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF);
    ::pem::encode_config(&block, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_matches_go_layout() {
        let pem = encode("CERTIFICATE", &[0u8; 60]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        assert!(pem.ends_with("-----\n"));
        assert!(!pem.contains('\r'));
    }

    #[test]
    fn rejects_oversized_and_empty_input() {
        assert!(matches!(
            decode_first(&[b'a'; 20], 10),
            Err(Error::PemTooLarge { max: 10 })
        ));
        assert!(matches!(decode_first(b"hello", 100), Err(Error::NoPemData)));
        assert!(matches!(decode_all(b"", 100), Err(Error::NoPemData)));
        assert!(matches!(
            decode_first(b"-----BEGIN X-----\n!!!!\n-----END X-----\n", 100),
            Err(Error::MalformedPem(_))
        ));
    }
}

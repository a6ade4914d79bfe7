//! Secret outputs beyond `tls.crt`/`tls.key`/`ca.crt`: additional output
//! formats and keystores.

pub mod jks;
pub mod pkcs12;

use zeroize::Zeroizing;

use crate::chain;
use crate::error::{Error, Result};
use crate::keys::PrivateKey;
use crate::parse::ParsedCertificate;
use crate::pem_codec::{self, SizeLimits};

/// `tls-combined.pem` (`CombinedPEM`): the key PEM, a newline, then the
/// certificate chain PEM, exactly as cert-manager joins them.
pub fn combined_pem(private_key_pem: &[u8], certificate_pem: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(
        private_key_pem.len() + 1 + certificate_pem.len(),
    ));
    out.extend_from_slice(private_key_pem);
    out.push(b'\n');
    out.extend_from_slice(certificate_pem);
    out
}

/// `key.der` (`DER`): the bytes of the first PEM block of `tls.key`, i.e. the
/// key in whatever encoding `tls.key` uses (PKCS#1, SEC 1 or PKCS#8).
pub fn private_key_der(private_key_pem: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let block =
        pem_codec::decode_first(private_key_pem, SizeLimits::default().max_private_key_size)?;
    Ok(block.der)
}

/// The inputs every keystore is built from, parsed like cert-manager does.
pub(crate) struct KeystoreInput {
    pub key: PrivateKey,
    pub chain: Vec<ParsedCertificate>,
    pub cas: Vec<ParsedCertificate>,
}

impl KeystoreInput {
    pub(crate) fn parse(key_pem: &[u8], cert_pem: &[u8], ca_pem: &[u8]) -> Result<Self> {
        Ok(KeystoreInput {
            key: PrivateKey::from_pem(key_pem)?,
            chain: chain::decode_certificate_chain(cert_pem)?,
            cas: parse_cas(ca_pem)?,
        })
    }
}

/// `ca.crt` certificates; an empty `ca.crt` means none.
pub(crate) fn parse_cas(ca_pem: &[u8]) -> Result<Vec<ParsedCertificate>> {
    if ca_pem.is_empty() {
        Ok(Vec::new())
    } else {
        chain::decode_certificate_set(ca_pem)
    }
}

pub(crate) fn keystore_error(format: &'static str) -> impl Fn(String) -> Error {
    move |reason| Error::Keystore { format, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_pem_joins_with_newline() {
        let out = combined_pem(b"KEY\n", b"CERT\n");
        assert_eq!(&out[..], b"KEY\n\nCERT\n");
    }

    #[test]
    fn key_der_is_the_first_block() {
        let pem = pem_codec::encode("EC PRIVATE KEY", &[1, 2, 3]);
        assert_eq!(&private_key_der(pem.as_bytes()).unwrap()[..], &[1, 2, 3]);
        assert!(private_key_der(b"garbage").is_err());
    }
}

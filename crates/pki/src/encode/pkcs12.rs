//! PKCS#12 keystores (`keystore.p12`) and truststores (`truststore.p12`).
//!
//! cert-manager uses go-pkcs12's profiles; p12-keystore applies one cipher
//! to the whole file, so the profiles map as follows:
//!
//! | profile     | go-pkcs12                                   | here                               |
//! |-------------|---------------------------------------------|------------------------------------|
//! | LegacyRC2   | certs RC2-40, key 3DES, HMAC-SHA1 (1 iter)   | certs and key 3DES, HMAC-SHA1 (1)  |
//! | LegacyDES   | certs and key 3DES, HMAC-SHA1 (1 iter)      | same                               |
//! | Modern2023  | PBES2 AES-256-CBC/PBKDF2-SHA256, HMAC-SHA256 | same                               |
//! | Modern2026  | as Modern2023 but PBMAC1 integrity          | as Modern2023 (HMAC-SHA256)        |
//!
//! 3DES is readable everywhere RC2 is (and by OpenSSL 3 without `-legacy`).
//! Encryption uses 2048 iterations as go-pkcs12 does. Salts are longer.

use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKeyChain,
};
use sha1::{Digest, Sha1};

use super::{KeystoreInput, keystore_error, parse_cas};
use crate::error::Result;
use crate::parse::ParsedCertificate;
use crate::subject;

/// Friendly name of the key entry. go-pkcs12 writes none, for which Java
/// assigns the alias `1`; naming it `1` keeps the alias Java users see.
pub const PKCS12_KEY_ALIAS: &str = "1";

/// `keystores.pkcs12.profile`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pkcs12Profile {
    /// `LegacyRC2` (the default).
    #[default]
    LegacyRc2,
    /// `LegacyDES`.
    LegacyDes,
    /// `Modern2023`.
    Modern2023,
    /// `Modern2026`.
    Modern2026,
}

impl Pkcs12Profile {
    /// From the API value; unknown or empty values mean the default, as in
    /// cert-manager's encoder.
    pub fn from_api(value: &str) -> Self {
        match value {
            "LegacyDES" => Pkcs12Profile::LegacyDes,
            "Modern2023" => Pkcs12Profile::Modern2023,
            "Modern2026" => Pkcs12Profile::Modern2026,
            _ => Pkcs12Profile::LegacyRc2,
        }
    }

    fn write(self, store: &KeyStore, password: &str) -> Result<Vec<u8>> {
        let (cipher, mac, mac_iterations) = match self {
            Pkcs12Profile::LegacyRc2 | Pkcs12Profile::LegacyDes => (
                EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
                MacAlgorithm::HmacSha1,
                1,
            ),
            Pkcs12Profile::Modern2023 | Pkcs12Profile::Modern2026 => (
                EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
                MacAlgorithm::HmacSha256,
                2048,
            ),
        };
        store
            .writer(password)
            .encryption_algorithm(cipher)
            .encryption_iterations(2048)
            .mac_algorithm(mac)
            .mac_iterations(mac_iterations)
            .write()
            .map_err(|e| keystore_error("PKCS#12")(e.to_string()))
    }
}

fn p12_cert(cert: &ParsedCertificate) -> Result<Certificate> {
    Certificate::from_der(cert.der()).map_err(|e| keystore_error("PKCS#12")(e.to_string()))
}

/// `keystore.p12`: the key, the leaf certificate, and as CA certificates the
/// rest of `tls.crt` followed by `ca.crt`.
pub fn encode_pkcs12_keystore(
    profile: Pkcs12Profile,
    password: &str,
    key_pem: &[u8],
    cert_pem: &[u8],
    ca_pem: &[u8],
) -> Result<Vec<u8>> {
    let input = KeystoreInput::parse(key_pem, cert_pem, ca_pem)?;
    let pkcs8 = input.key.to_pkcs8_der()?;
    let key = p12_keystore::PrivateKey::from_der(&pkcs8)
        .map_err(|e| keystore_error("PKCS#12")(e.to_string()))?;
    let certs = input
        .chain
        .iter()
        .chain(&input.cas)
        .map(p12_cert)
        .collect::<Result<Vec<_>>>()?;
    // The local key id ties the key to the leaf: SHA-1 of the leaf, like Go.
    let local_key_id = Sha1::digest(input.chain[0].der()).to_vec();
    let mut store = KeyStore::new();
    store.add_entry(
        PKCS12_KEY_ALIAS,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, certs)),
    );
    profile.write(&store, password)
}

/// `truststore.p12`: the `ca.crt` certificates as Java trusted entries,
/// named by subject like go-pkcs12 (duplicate names get a ` (n)` suffix so
/// no certificate is lost).
pub fn encode_pkcs12_truststore(
    profile: Pkcs12Profile,
    password: &str,
    ca_pem: &[u8],
) -> Result<Vec<u8>> {
    let cas = parse_cas(ca_pem)?;
    let mut store = KeyStore::new();
    for ca in &cas {
        let base = subject::name_to_string(&ca.subject_der)?;
        let mut alias = base.clone();
        let mut n = 1;
        while store.entry(&alias).is_some() {
            n += 1;
            alias = format!("{base} ({n})");
        }
        store.add_entry(&alias, KeyStoreEntry::Certificate(p12_cert(ca)?));
    }
    profile.write(&store, password)
}

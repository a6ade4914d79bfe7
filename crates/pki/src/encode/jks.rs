//! Java KeyStore (JKS) keystores and truststores.
//!
//! JKS is Sun's legacy format: a big-endian entry list followed by a SHA-1
//! digest over `password || "Mighty Aphrodite" || contents`. Private keys are
//! PKCS#8 wrapped by Sun's `KeyProtector`, a SHA-1 keystream XOR that is part
//! of the file format (not something to protect secrets with; the
//! password-derived key is only as strong as the password).
//!
//! Layout follows keystore-go as cert-manager uses it: aliases lowercased,
//! the key entry holds the whole `tls.crt` chain, `ca.crt` certificates are
//! trusted entries `ca`, `ca-1`, `ca-2`, ...

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SecureRandom;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::{KeystoreInput, keystore_error, parse_cas};
use crate::error::Result;
use crate::parse::ParsedCertificate;
use crate::{asn1, oid};

/// Default `keystores.jks.alias`.
pub const DEFAULT_JKS_ALIAS: &str = "certificate";

const MAGIC: u32 = 0xfeed_feed;
const VERSION: u32 = 2;
const PRIVATE_KEY_TAG: u32 = 1;
const TRUSTED_CERT_TAG: u32 = 2;
const CERT_TYPE: &str = "X.509";
const WHITENER: &[u8] = b"Mighty Aphrodite";
const SALT_LEN: usize = 20;

enum Entry {
    PrivateKey {
        protected: Vec<u8>,
        chain: Vec<Vec<u8>>,
    },
    Trusted(Vec<u8>),
}

/// Entries keyed by (lowercased) alias; a later entry replaces an earlier
/// one with the same alias, as in keystore-go's map.
#[derive(Default)]
struct Jks {
    entries: Vec<(String, Entry)>,
}

impl Jks {
    fn insert(&mut self, alias: &str, entry: Entry) {
        let alias = alias.to_lowercase();
        self.entries.retain(|(a, _)| *a != alias);
        self.entries.push((alias, entry));
    }

    fn add_cas(&mut self, cas: &[ParsedCertificate]) {
        for (i, ca) in cas.iter().enumerate() {
            let alias = if i == 0 {
                "ca".to_string()
            } else {
                format!("ca-{i}")
            };
            self.insert(&alias, Entry::Trusted(ca.der().to_vec()));
        }
    }

    fn store(&self, password: &[u8], created: SystemTime) -> Result<Vec<u8>> {
        let millis = created
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut out = Vec::new();
        out.extend(MAGIC.to_be_bytes());
        out.extend(VERSION.to_be_bytes());
        out.extend(len32(self.entries.len())?.to_be_bytes());
        for (alias, entry) in &self.entries {
            match entry {
                Entry::PrivateKey { protected, chain } => {
                    out.extend(PRIVATE_KEY_TAG.to_be_bytes());
                    write_utf(&mut out, alias)?;
                    out.extend(millis.to_be_bytes());
                    write_bytes(&mut out, protected)?;
                    out.extend(len32(chain.len())?.to_be_bytes());
                    for cert in chain {
                        write_cert(&mut out, cert)?;
                    }
                }
                Entry::Trusted(cert) => {
                    out.extend(TRUSTED_CERT_TAG.to_be_bytes());
                    write_utf(&mut out, alias)?;
                    out.extend(millis.to_be_bytes());
                    write_cert(&mut out, cert)?;
                }
            }
        }
        let digest = integrity_digest(&password_bytes(password), &out);
        out.extend(digest);
        Ok(out)
    }
}

fn len32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| keystore_error("JKS")("value too large".into()))
}

fn write_utf(out: &mut Vec<u8>, s: &str) -> Result<()> {
    let len = u16::try_from(s.len()).map_err(|_| keystore_error("JKS")("alias too long".into()))?;
    out.extend(len.to_be_bytes());
    out.extend(s.as_bytes());
    Ok(())
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    out.extend(len32(bytes.len())?.to_be_bytes());
    out.extend(bytes);
    Ok(())
}

fn write_cert(out: &mut Vec<u8>, der: &[u8]) -> Result<()> {
    write_utf(out, CERT_TYPE)?;
    write_bytes(out, der)
}

/// Java hashes passwords as UTF-16BE code units. (keystore-go widens each
/// byte instead, which only agrees for ASCII; bytes that are not UTF-8 are
/// widened that way.)
fn password_bytes(password: &[u8]) -> Zeroizing<Vec<u8>> {
    let bytes = match std::str::from_utf8(password) {
        Ok(s) => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Err(_) => password.iter().flat_map(|b| [0, *b]).collect(),
    };
    Zeroizing::new(bytes)
}

fn integrity_digest(password: &[u8], contents: &[u8]) -> Vec<u8> {
    let mut h = Sha1::new();
    h.update(password);
    h.update(WHITENER);
    h.update(contents);
    h.finalize().to_vec()
}

/// Sun `KeyProtector.protect`: `salt || (key XOR keystream) || check`,
/// keystream blocks `SHA1(password || previous)` starting from the salt,
/// check `SHA1(password || key)`; wrapped in an EncryptedPrivateKeyInfo.
fn protect_key(pkcs8: &[u8], password: &[u8]) -> Result<Vec<u8>> {
    let mut salt = [0u8; SALT_LEN];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| crate::Error::Crypto("random number generator failed"))?;
    protect_key_with_salt(pkcs8, password, &salt)
}

fn keystream(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut stream = Zeroizing::new(Vec::with_capacity(len + 20));
    let mut block = salt.to_vec();
    while stream.len() < len {
        let mut h = Sha1::new();
        h.update(password);
        h.update(&block);
        block = h.finalize().to_vec();
        stream.extend_from_slice(&block);
    }
    stream.truncate(len);
    stream
}

fn protect_key_with_salt(pkcs8: &[u8], password: &[u8], salt: &[u8]) -> Result<Vec<u8>> {
    let password = password_bytes(password);
    let stream = keystream(&password, salt, pkcs8.len());
    let mut protected = salt.to_vec();
    protected.extend(pkcs8.iter().zip(stream.iter()).map(|(k, s)| k ^ s));
    let mut check = Sha1::new();
    check.update(&*password);
    check.update(pkcs8);
    protected.extend(check.finalize());
    let algorithm = asn1::algorithm_identifier(&oid::JKS_KEY_PROTECTOR, Some(&asn1::null()))?;
    asn1::sequence(&[&algorithm, &asn1::octet_string(&protected)?])
}

/// `keystore.jks`: a private key entry under `alias` with the `tls.crt`
/// chain, plus `ca.crt` as trusted entries.
pub fn encode_jks_keystore(
    password: &[u8],
    alias: &str,
    key_pem: &[u8],
    cert_pem: &[u8],
    ca_pem: &[u8],
) -> Result<Vec<u8>> {
    let input = KeystoreInput::parse(key_pem, cert_pem, ca_pem)?;
    let pkcs8 = input.key.to_pkcs8_der()?;
    let mut jks = Jks::default();
    jks.insert(
        alias,
        Entry::PrivateKey {
            protected: protect_key(&pkcs8, password)?,
            chain: input.chain.iter().map(|c| c.der().to_vec()).collect(),
        },
    );
    jks.add_cas(&input.cas);
    jks.store(password, SystemTime::now())
}

/// `truststore.jks`: the `ca.crt` certificates as trusted entries.
pub fn encode_jks_truststore(password: &[u8], ca_pem: &[u8]) -> Result<Vec<u8>> {
    let mut jks = Jks::default();
    jks.add_cas(&parse_cas(ca_pem)?);
    jks.store(password, SystemTime::now())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Minimal reader: checks the digest and returns (alias, tag, key or
    /// cert bytes) per entry, unprotecting keys.
    pub(crate) fn read(data: &[u8], password: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let (body, digest) = data.split_at(data.len() - 20);
        assert_eq!(
            integrity_digest(&password_bytes(password), body),
            digest,
            "bad integrity digest"
        );
        let mut r = Reader(body);
        assert_eq!(r.u32(), MAGIC);
        assert_eq!(r.u32(), VERSION);
        let count = r.u32();
        let mut out = Vec::new();
        for _ in 0..count {
            let tag = r.u32();
            let alias = r.utf();
            r.take(8);
            let payload = if tag == PRIVATE_KEY_TAG {
                let len = r.u32() as usize;
                let protected = r.take(len).to_vec();
                let chain = r.u32();
                for _ in 0..chain {
                    r.utf();
                    let len = r.u32() as usize;
                    r.take(len);
                }
                unprotect(&protected, password)
            } else {
                assert_eq!(r.utf(), CERT_TYPE);
                let len = r.u32() as usize;
                r.take(len).to_vec()
            };
            out.push((alias, tag, payload));
        }
        assert!(r.0.is_empty());
        out
    }

    fn unprotect(epki: &[u8], password: &[u8]) -> Vec<u8> {
        let (_, seq, _) = asn1::read_tlv(epki).unwrap();
        let (_, _, rest) = asn1::read_tlv(seq).unwrap();
        let (_, protected, _) = asn1::read_tlv(rest).unwrap();
        let (salt, rest) = protected.split_at(SALT_LEN);
        let (encrypted, check) = rest.split_at(rest.len() - 20);
        let password = password_bytes(password);
        let stream = keystream(&password, salt, encrypted.len());
        let plain: Vec<u8> = encrypted
            .iter()
            .zip(stream.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        let mut h = Sha1::new();
        h.update(&*password);
        h.update(&plain);
        assert_eq!(h.finalize().as_slice(), check, "bad key check digest");
        plain
    }

    struct Reader<'a>(&'a [u8]);

    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> &'a [u8] {
            let (head, tail) = self.0.split_at(n);
            self.0 = tail;
            head
        }
        fn u32(&mut self) -> u32 {
            u32::from_be_bytes(self.take(4).try_into().unwrap())
        }
        fn utf(&mut self) -> String {
            let len = u16::from_be_bytes(self.take(2).try_into().unwrap()) as usize;
            String::from_utf8(self.take(len).to_vec()).unwrap()
        }
    }

    #[test]
    fn key_protection_round_trips() {
        let key = b"not really a pkcs8 key but long enough to need two sha1 blocks";
        let wrapped = protect_key_with_salt(key, b"changeit", &[7u8; SALT_LEN]).unwrap();
        assert_eq!(unprotect(&wrapped, b"changeit"), key);
    }

    #[test]
    fn password_encoding_matches_java() {
        assert_eq!(&password_bytes(b"ab")[..], &[0, b'a', 0, b'b']);
        assert_eq!(&password_bytes("é".as_bytes())[..], &[0x00, 0xe9]);
        assert_eq!(&password_bytes(&[0xff])[..], &[0x00, 0xff]);
    }

    #[test]
    fn aliases_are_lowercased_and_replaced() {
        let mut jks = Jks::default();
        jks.insert("CA", Entry::Trusted(vec![1]));
        jks.insert("ca", Entry::Trusted(vec![2]));
        let data = jks.store(b"pw", UNIX_EPOCH).unwrap();
        let entries = read(&data, b"pw");
        assert_eq!(entries, [("ca".to_string(), TRUSTED_CERT_TAG, vec![2])]);
    }
}

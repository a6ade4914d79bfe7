//! Private and public keys: generation, PEM/DER encodings, comparison.
//!
//! Keys are generated and used through aws-lc-rs. Encodings are produced from
//! the key components with the encoding-only `pkcs1`/`pkcs8`/`sec1` crates, in
//! the exact layouts Go's `crypto/x509` marshals, so a key written by us reads
//! back identically in Go cert-manager and vice versa.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self as lc, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
};
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::{Decode, Encode};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::pem_codec::{self, SizeLimits};
use crate::signature::SignatureAlgorithm;
use crate::{asn1, oid};

/// Smallest RSA key cert-manager generates or accepts in a spec.
pub const MIN_RSA_KEY_SIZE: u32 = 2048;
/// Largest RSA key cert-manager generates or accepts in a spec.
pub const MAX_RSA_KEY_SIZE: u32 = 8192;

/// `spec.privateKey.algorithm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// `RSA` (the default, also for an empty string).
    #[default]
    Rsa,
    /// `ECDSA`.
    Ecdsa,
    /// `Ed25519`.
    Ed25519,
}

impl FromStr for KeyAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "" | "RSA" => Ok(KeyAlgorithm::Rsa),
            "ECDSA" => Ok(KeyAlgorithm::Ecdsa),
            "Ed25519" => Ok(KeyAlgorithm::Ed25519),
            other => Err(Error::UnsupportedKey(format!(
                "unsupported private key algorithm specified: {other}"
            ))),
        }
    }
}

/// `spec.privateKey.encoding`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyEncoding {
    /// `PKCS1` (the default): PKCS#1 for RSA, SEC 1 for ECDSA, and PKCS#8
    /// for Ed25519 which has no other standard encoding.
    #[default]
    Pkcs1,
    /// `PKCS8` for every key type.
    Pkcs8,
}

impl FromStr for KeyEncoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "" | "PKCS1" => Ok(KeyEncoding::Pkcs1),
            "PKCS8" => Ok(KeyEncoding::Pkcs8),
            other => Err(Error::UnsupportedKey(format!(
                "error encoding private key: unknown key encoding: {other}"
            ))),
        }
    }
}

/// NIST curves supported for ECDSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// secp256r1 / prime256v1.
    P256,
    /// secp384r1.
    P384,
    /// secp521r1.
    P521,
}

impl EcCurve {
    /// Curve size in bits, as used in `spec.privateKey.size`.
    pub fn bits(self) -> u32 {
        match self {
            EcCurve::P256 => 256,
            EcCurve::P384 => 384,
            EcCurve::P521 => 521,
        }
    }

    /// Length of a field element / private scalar in bytes.
    pub(crate) fn scalar_len(self) -> usize {
        (self.bits() as usize).div_ceil(8)
    }

    pub(crate) fn oid(self) -> ObjectIdentifier {
        match self {
            EcCurve::P256 => oid::SECP256R1,
            EcCurve::P384 => oid::SECP384R1,
            EcCurve::P521 => oid::SECP521R1,
        }
    }

    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oid::SECP256R1 => Some(EcCurve::P256),
            oid::SECP384R1 => Some(EcCurve::P384),
            oid::SECP521R1 => Some(EcCurve::P521),
            _ => None,
        }
    }

    /// The signing algorithm Go pairs with the curve.
    fn default_signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            EcCurve::P256 => &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
            EcCurve::P384 => &lc::ECDSA_P384_SHA384_ASN1_SIGNING,
            EcCurve::P521 => &lc::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }
}

/// A concrete key to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA with a modulus of this many bits.
    Rsa(u32),
    /// ECDSA on a NIST curve.
    Ecdsa(EcCurve),
    /// Ed25519.
    Ed25519,
}

impl KeyType {
    /// Resolves cert-manager's `privateKey.algorithm` and `privateKey.size`,
    /// applying the same defaults (RSA 2048, P-256) and limits.
    pub fn from_spec(algorithm: KeyAlgorithm, size: u32) -> Result<Self> {
        match algorithm {
            KeyAlgorithm::Rsa => {
                let bits = if size == 0 { MIN_RSA_KEY_SIZE } else { size };
                if bits < MIN_RSA_KEY_SIZE {
                    return Err(Error::UnsupportedKey(format!(
                        "weak rsa key size specified: {bits}. minimum key size: {MIN_RSA_KEY_SIZE}"
                    )));
                }
                if bits > MAX_RSA_KEY_SIZE {
                    return Err(Error::UnsupportedKey(format!(
                        "rsa key size specified too big: {bits}. maximum key size: {MAX_RSA_KEY_SIZE}"
                    )));
                }
                Ok(KeyType::Rsa(bits))
            }
            KeyAlgorithm::Ecdsa => match size {
                0 | 256 => Ok(KeyType::Ecdsa(EcCurve::P256)),
                384 => Ok(KeyType::Ecdsa(EcCurve::P384)),
                521 => Ok(KeyType::Ecdsa(EcCurve::P521)),
                other => Err(Error::UnsupportedKey(format!(
                    "unsupported ecdsa key size specified: {other}"
                ))),
            },
            KeyAlgorithm::Ed25519 => Ok(KeyType::Ed25519),
        }
    }

    /// The spec algorithm this key type belongs to.
    pub fn algorithm(self) -> KeyAlgorithm {
        match self {
            KeyType::Rsa(_) => KeyAlgorithm::Rsa,
            KeyType::Ecdsa(_) => KeyAlgorithm::Ecdsa,
            KeyType::Ed25519 => KeyAlgorithm::Ed25519,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::Rsa(bits) => write!(f, "RSA-{bits}"),
            KeyType::Ecdsa(curve) => write!(f, "ECDSA-P{}", curve.bits()),
            KeyType::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// Secret key components; every encoding is derived from these.
enum Secret {
    /// PKCS#1 `RSAPrivateKey` DER.
    Rsa(Zeroizing<Vec<u8>>),
    /// Private scalar, left-padded to the curve size.
    Ec(EcCurve, Zeroizing<Vec<u8>>),
    /// 32-byte seed.
    Ed25519(Zeroizing<Vec<u8>>),
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key. `Debug` never shows key material.
pub struct PrivateKey {
    secret: Secret,
    signer: Signer,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("type", &self.key_type().to_string())
            .field("public_key_sha256", &self.public.fingerprint_hex())
            .finish_non_exhaustive()
    }
}

fn crypto(_: impl fmt::Debug) -> Error {
    Error::Crypto("key operation rejected by the crypto backend")
}

fn rejected(format: &'static str) -> impl Fn(aws_lc_rs::error::KeyRejected) -> Error {
    move |e| Error::InvalidPrivateKey {
        format,
        reason: e.to_string(),
    }
}

fn invalid(format: &'static str, reason: impl fmt::Display) -> Error {
    Error::InvalidPrivateKey {
        format,
        reason: reason.to_string(),
    }
}

fn rsa_key_size(bits: u32) -> Result<KeySize> {
    match bits {
        2048 => Ok(KeySize::Rsa2048),
        3072 => Ok(KeySize::Rsa3072),
        4096 => Ok(KeySize::Rsa4096),
        8192 => Ok(KeySize::Rsa8192),
        other => Err(Error::UnsupportedKey(format!(
            "RSA key size {other} cannot be generated; supported sizes are 2048, 3072, 4096 and 8192"
        ))),
    }
}

impl PrivateKey {
    /// Generates a fresh key.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        match key_type {
            KeyType::Rsa(bits) => {
                let pair = RsaKeyPair::generate(rsa_key_size(bits)?).map_err(crypto)?;
                let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(crypto)?;
                let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8.as_ref())
                    .map_err(|e| invalid("pkcs#8", e))?;
                Self::from_pkcs1_der(info.private_key.as_bytes())
            }
            KeyType::Ecdsa(curve) => {
                let pair = EcdsaKeyPair::generate(curve.default_signing()).map_err(crypto)?;
                let scalar = pair.private_key().as_be_bytes().map_err(crypto)?;
                Self::from_ec_scalar(curve, scalar.as_ref(), None)
            }
            KeyType::Ed25519 => {
                let pair = Ed25519KeyPair::generate().map_err(crypto)?;
                let seed = pair.seed().map_err(crypto)?;
                let seed = seed.as_be_bytes().map_err(crypto)?;
                Self::from_ed25519_seed(seed.as_ref())
            }
        }
    }

    /// Parses the first PEM block of `pem`: `PRIVATE KEY` (PKCS#8),
    /// `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC 1), like
    /// cert-manager's `DecodePrivateKeyBytes`.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::from_pem_with_limits(pem, &SizeLimits::default())
    }

    /// [`PrivateKey::from_pem`] with explicit size limits.
    pub fn from_pem_with_limits(pem: &[u8], limits: &SizeLimits) -> Result<Self> {
        let block = pem_codec::decode_first(pem, limits.max_private_key_size)?;
        match block.tag.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der),
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&block.der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&block.der),
            other => Err(Error::UnknownPrivateKeyType(other.to_string())),
        }
    }

    /// Parses an unencrypted PKCS#8 `PrivateKeyInfo` (v1 or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| invalid("pkcs#8", e))?;
        let inner = info.private_key.as_bytes();
        match info.algorithm.oid {
            oid::RSA_ENCRYPTION => Self::from_pkcs1_der(inner),
            oid::EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .and_then(|o| EcCurve::from_oid(&o))
                    .ok_or_else(|| invalid("pkcs#8", "unknown or missing elliptic curve"))?;
                let ec = sec1::EcPrivateKey::from_der(inner).map_err(|e| invalid("pkcs#8", e))?;
                Self::from_ec_scalar(curve, ec.private_key, ec.public_key)
            }
            oid::ED25519 => {
                let seed = <&OctetStringRef>::from_der(inner).map_err(|e| invalid("pkcs#8", e))?;
                Self::from_ed25519_seed(seed.as_bytes())
            }
            other => Err(Error::UnsupportedKey(format!(
                "PKCS#8 private key algorithm {other} is not RSA, ECDSA or Ed25519"
            ))),
        }
    }

    /// Parses a PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self> {
        let pair = RsaKeyPair::from_der(der).map_err(rejected("rsa"))?;
        let public = PublicKey::from_rsa_pkcs1(pair.public_key().as_ref())?;
        Ok(PrivateKey {
            secret: Secret::Rsa(Zeroizing::new(der.to_vec())),
            signer: Signer::Rsa(pair),
            public,
        })
    }

    /// Parses a SEC 1 `ECPrivateKey`; the curve must be named in it.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self> {
        let ec = sec1::EcPrivateKey::from_der(der).map_err(|e| invalid("ecdsa", e))?;
        let curve = ec
            .parameters
            .and_then(|p| p.named_curve())
            .and_then(|o| EcCurve::from_oid(&o))
            .ok_or_else(|| invalid("ecdsa", "unknown or missing elliptic curve"))?;
        Self::from_ec_scalar(curve, ec.private_key, ec.public_key)
    }

    fn from_ec_scalar(curve: EcCurve, scalar: &[u8], public: Option<&[u8]>) -> Result<Self> {
        // Some encoders drop leading zero bytes of the scalar; Go pads them back.
        let trimmed = strip_leading_zeros(scalar);
        let len = curve.scalar_len();
        if trimmed.len() > len {
            return Err(invalid(
                "ecdsa",
                "private key scalar is longer than the curve size",
            ));
        }
        let mut padded = Zeroizing::new(vec![0u8; len]);
        padded[len - trimmed.len()..].copy_from_slice(trimmed);
        let sec1 = encode_sec1(curve, &padded, public, true)?;
        let pair = EcdsaKeyPair::from_private_key_der(curve.default_signing(), &sec1)
            .map_err(rejected("ecdsa"))?;
        let point = pair.public_key().as_ref();
        if public.is_some_and(|p| p != point) {
            return Err(invalid(
                "ecdsa",
                "public key does not match the private key",
            ));
        }
        let public = PublicKey::from_ec_point(curve, point)?;
        Ok(PrivateKey {
            secret: Secret::Ec(curve, padded),
            signer: Signer::Ec(pair),
            public,
        })
    }

    fn from_ed25519_seed(seed: &[u8]) -> Result<Self> {
        if seed.len() != 32 {
            return Err(invalid("ed25519", "seed must be 32 bytes"));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(rejected("ed25519"))?;
        let public = PublicKey::from_ed25519(pair.public_key().as_ref())?;
        Ok(PrivateKey {
            secret: Secret::Ed25519(Zeroizing::new(seed.to_vec())),
            signer: Signer::Ed25519(pair),
            public,
        })
    }

    /// The key's type and size.
    pub fn key_type(&self) -> KeyType {
        match (&self.secret, self.public.kind()) {
            (Secret::Rsa(_), PublicKeyKind::Rsa { bits }) => KeyType::Rsa(bits as u32),
            (Secret::Ec(curve, _), _) => KeyType::Ecdsa(*curve),
            _ => KeyType::Ed25519,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// PEM in the requested encoding; see [`KeyEncoding`].
    pub fn to_pem(&self, encoding: KeyEncoding) -> Result<Zeroizing<String>> {
        let (tag, der) = match (encoding, &self.secret) {
            (KeyEncoding::Pkcs1, Secret::Rsa(pkcs1)) => ("RSA PRIVATE KEY", pkcs1.clone()),
            (KeyEncoding::Pkcs1, Secret::Ec(..)) => ("EC PRIVATE KEY", self.to_sec1_der()?),
            _ => ("PRIVATE KEY", self.to_pkcs8_der()?),
        };
        Ok(Zeroizing::new(pem_codec::encode(tag, &der)))
    }

    /// PKCS#8 v1 `PrivateKeyInfo` DER, laid out like Go's
    /// `MarshalPKCS8PrivateKey` (EC keys carry the curve only in the outer
    /// algorithm identifier).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let curve_oid = match &self.secret {
            Secret::Ec(curve, _) => Some(curve.oid()),
            _ => None,
        };
        let (oid, parameters, inner) = match &self.secret {
            Secret::Rsa(pkcs1) => (oid::RSA_ENCRYPTION, Some(AnyRef::NULL), pkcs1.clone()),
            Secret::Ec(curve, scalar) => (
                oid::EC_PUBLIC_KEY,
                curve_oid.as_ref().map(AnyRef::from),
                encode_sec1(*curve, scalar, Some(self.public.raw()), false)?,
            ),
            Secret::Ed25519(seed) => (
                oid::ED25519,
                None,
                Zeroizing::new(OctetStringRef::new(seed)?.to_der()?),
            ),
        };
        let algorithm = spki::AlgorithmIdentifierRef { oid, parameters };
        let info = pkcs8::PrivateKeyInfoRef::new(algorithm, OctetStringRef::new(&inner)?);
        Ok(Zeroizing::new(info.to_der()?))
    }

    /// PKCS#1 DER; RSA keys only.
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        match &self.secret {
            Secret::Rsa(pkcs1) => Ok(pkcs1.clone()),
            _ => Err(Error::UnsupportedKey(format!(
                "{} keys have no PKCS#1 encoding",
                self.key_type()
            ))),
        }
    }

    /// SEC 1 DER with the named curve and public key, like Go's
    /// `MarshalECPrivateKey`; ECDSA keys only.
    pub fn to_sec1_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        match &self.secret {
            Secret::Ec(curve, scalar) => encode_sec1(*curve, scalar, Some(self.public.raw()), true),
            _ => Err(Error::UnsupportedKey(format!(
                "{} keys have no SEC 1 encoding",
                self.key_type()
            ))),
        }
    }

    /// The signature algorithm Go's `SignCertificate` uses for this signer:
    /// RSA by modulus size, ECDSA by curve, Ed25519 pure.
    pub fn default_signature_algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::default_for(self.key_type())
    }

    /// Signs `message` with `algorithm`, which must fit the key type.
    pub(crate) fn sign(&self, algorithm: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        let unsupported = || {
            Error::UnsupportedSignatureAlgorithm(format!(
                "{algorithm} cannot be used with a {} key",
                self.key_type()
            ))
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match &self.signer {
            Signer::Rsa(pair) => {
                let padding = algorithm.rsa_padding().ok_or_else(unsupported)?;
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut signature)
                    .map_err(crypto)?;
                Ok(signature)
            }
            Signer::Ec(pair) => {
                let Secret::Ec(curve, scalar) = &self.secret else {
                    unreachable!("ECDSA signer always holds an EC secret")
                };
                let wanted = algorithm.ecdsa_signing(*curve).ok_or_else(unsupported)?;
                let signature = if std::ptr::eq(wanted, pair.algorithm()) {
                    pair.sign(&rng, message).map_err(crypto)?
                } else {
                    let sec1 = encode_sec1(*curve, scalar, None, true)?;
                    EcdsaKeyPair::from_private_key_der(wanted, &sec1)
                        .map_err(rejected("ecdsa"))?
                        .sign(&rng, message)
                        .map_err(crypto)?
                };
                Ok(signature.as_ref().to_vec())
            }
            Signer::Ed25519(pair) => {
                if algorithm != SignatureAlgorithm::PureEd25519 {
                    return Err(unsupported());
                }
                Ok(pair.sign(message).as_ref().to_vec())
            }
        }
    }

    /// cert-manager's `PrivateKeyMatchesSpec`: the spec fields this key
    /// violates (`spec.privateKey.algorithm` or `spec.privateKey.size`),
    /// applying the same defaults (RSA, 2048 bits, P-256).
    pub fn matches_spec(&self, algorithm: KeyAlgorithm, size: u32) -> Vec<String> {
        let key_type = self.key_type();
        if key_type.algorithm() != algorithm {
            return vec!["spec.privateKey.algorithm".to_string()];
        }
        let size_ok = match key_type {
            KeyType::Rsa(bits) => bits == if size > 0 { size } else { MIN_RSA_KEY_SIZE },
            KeyType::Ecdsa(curve) => curve.bits() == if size > 0 { size } else { 256 },
            KeyType::Ed25519 => true,
        };
        if size_ok {
            Vec::new()
        } else {
            vec!["spec.privateKey.size".to_string()]
        }
    }
}

/// SEC 1 `ECPrivateKey`; `with_curve` adds the `[0]` parameters.
fn encode_sec1(
    curve: EcCurve,
    scalar: &[u8],
    public: Option<&[u8]>,
    with_curve: bool,
) -> Result<Zeroizing<Vec<u8>>> {
    let key = sec1::EcPrivateKey {
        private_key: scalar,
        parameters: with_curve.then(|| sec1::EcParameters::NamedCurve(curve.oid())),
        public_key: public,
    };
    Ok(Zeroizing::new(key.to_der()?))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Kind and size of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicKeyKind {
    /// RSA with a modulus of this many bits.
    Rsa {
        /// Exact bit length of the modulus.
        bits: usize,
    },
    /// ECDSA on a NIST curve.
    Ecdsa(EcCurve),
    /// Ed25519.
    Ed25519,
    /// Any other algorithm; it can be carried but not compared or used.
    Unsupported,
}

/// A public key, kept as a canonical `SubjectPublicKeyInfo`.
#[derive(Clone)]
pub struct PublicKey {
    kind: PublicKeyKind,
    /// The `subjectPublicKey` BIT STRING contents (canonical for known kinds).
    raw: Vec<u8>,
    /// Canonical SPKI DER (as given for unsupported algorithms).
    spki: Vec<u8>,
    /// Algorithm OID, for messages about unsupported keys.
    algorithm: ObjectIdentifier,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kind", &self.kind)
            .field("sha256", &self.fingerprint_hex())
            .finish()
    }
}

/// Two keys are equal when they are the same key, whatever the SPKI
/// encoding details (e.g. a missing RSA NULL parameter).
impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.algorithm == other.algorithm && self.raw == other.raw
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    /// Parses a DER `SubjectPublicKeyInfo`. Unknown algorithms are accepted
    /// as [`PublicKeyKind::Unsupported`] so certificates carrying them parse.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let spki = spki::SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| Error::InvalidPublicKey(e.to_string()))?;
        let bits = spki.subject_public_key.as_bytes().ok_or_else(|| {
            Error::InvalidPublicKey("public key bit string is not whole bytes".into())
        })?;
        match spki.algorithm.oid {
            oid::RSA_ENCRYPTION => Self::from_rsa_pkcs1(bits),
            oid::EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .and_then(|o| EcCurve::from_oid(&o))
                    .ok_or_else(|| {
                        Error::InvalidPublicKey("unknown or missing elliptic curve".into())
                    })?;
                Self::from_ec_point(curve, bits)
            }
            oid::ED25519 => Self::from_ed25519(bits),
            other => Ok(PublicKey {
                kind: PublicKeyKind::Unsupported,
                raw: bits.to_vec(),
                spki: der.to_vec(),
                algorithm: other,
            }),
        }
    }

    fn from_rsa_pkcs1(der: &[u8]) -> Result<Self> {
        let key = pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(der)
            .map_err(|e| Error::InvalidPublicKey(e.to_string()))?;
        let modulus = key.modulus.as_bytes();
        let bits = match modulus.first() {
            Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
            None => return Err(Error::InvalidPublicKey("RSA modulus is zero".into())),
        };
        let raw = key.to_der()?;
        let params = asn1::null();
        Self::build(
            PublicKeyKind::Rsa { bits },
            oid::RSA_ENCRYPTION,
            Some(&params),
            raw,
        )
    }

    fn from_ec_point(curve: EcCurve, point: &[u8]) -> Result<Self> {
        // Go only accepts uncompressed points for the NIST curves.
        if point.first() != Some(&0x04) || point.len() != 1 + 2 * curve.scalar_len() {
            return Err(Error::InvalidPublicKey(
                "elliptic curve point is not an uncompressed point on the curve".into(),
            ));
        }
        let params = asn1::oid(&curve.oid())?;
        Self::build(
            PublicKeyKind::Ecdsa(curve),
            oid::EC_PUBLIC_KEY,
            Some(&params),
            point.to_vec(),
        )
    }

    fn from_ed25519(key: &[u8]) -> Result<Self> {
        if key.len() != 32 {
            return Err(Error::InvalidPublicKey(
                "Ed25519 public key must be 32 bytes".into(),
            ));
        }
        Self::build(PublicKeyKind::Ed25519, oid::ED25519, None, key.to_vec())
    }

    fn build(
        kind: PublicKeyKind,
        algorithm: ObjectIdentifier,
        params: Option<&[u8]>,
        raw: Vec<u8>,
    ) -> Result<Self> {
        let alg = asn1::algorithm_identifier(&algorithm, params)?;
        let bits = BitStringRef::new(0, &raw)?.to_der()?;
        let spki = asn1::sequence(&[&alg, &bits])?;
        Ok(PublicKey {
            kind,
            raw,
            spki,
            algorithm,
        })
    }

    /// Kind and size.
    pub fn kind(&self) -> PublicKeyKind {
        self.kind
    }

    /// Canonical DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The `subjectPublicKey` bits: PKCS#1 for RSA, the point for ECDSA, the
    /// 32 key bytes for Ed25519.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Stable fingerprint: SHA-256 of the canonical SPKI DER (the same value
    /// as `openssl pkey -pubin -outform DER | sha256sum`).
    pub fn fingerprint(&self) -> [u8; 32] {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }

    /// [`PublicKey::fingerprint`] as lowercase hex.
    pub fn fingerprint_hex(&self) -> String {
        hex(&self.fingerprint())
    }

    /// Subject key identifier the way Go (1.25+) derives it: the first 160
    /// bits of SHA-256 over the `subjectPublicKey` bits (RFC 7093 method 1).
    pub fn key_identifier(&self) -> Vec<u8> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.raw);
        digest.as_ref()[..20].to_vec()
    }

    /// Go's `PublicKeysEqual`: whether `other` is the same key. Errors when
    /// this key's algorithm is not one cert-manager understands.
    pub fn matches(&self, other: &PublicKey) -> Result<bool> {
        if self.kind == PublicKeyKind::Unsupported {
            return Err(Error::InvalidPublicKey(format!(
                "unrecognised public key type: {}",
                self.algorithm
            )));
        }
        Ok(self == other)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_defaults_and_limits() {
        assert_eq!(
            KeyType::from_spec(KeyAlgorithm::Rsa, 0).unwrap(),
            KeyType::Rsa(2048)
        );
        assert_eq!(
            KeyType::from_spec(KeyAlgorithm::Ecdsa, 0).unwrap(),
            KeyType::Ecdsa(EcCurve::P256)
        );
        assert!(KeyType::from_spec(KeyAlgorithm::Rsa, 1024).is_err());
        assert!(KeyType::from_spec(KeyAlgorithm::Rsa, 8193).is_err());
        assert!(KeyType::from_spec(KeyAlgorithm::Ecdsa, 255).is_err());
        assert_eq!("".parse::<KeyAlgorithm>().unwrap(), KeyAlgorithm::Rsa);
        assert!("DSA".parse::<KeyAlgorithm>().is_err());
        assert_eq!("".parse::<KeyEncoding>().unwrap(), KeyEncoding::Pkcs1);
    }

    #[test]
    fn odd_rsa_sizes_are_rejected_at_generation() {
        let err = PrivateKey::generate(KeyType::Rsa(2560)).unwrap_err();
        assert!(err.to_string().contains("2560"), "{err}");
    }

    #[test]
    fn debug_is_redacted() {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P256)).unwrap();
        let debug = format!("{key:?}");
        let scalar = key.to_sec1_der().unwrap();
        assert!(debug.contains("ECDSA-P256"));
        assert!(!debug.contains(&hex(&scalar[7..39])));
    }

    #[test]
    fn matches_spec_reports_algorithm_then_size() {
        let key = PrivateKey::generate(KeyType::Ecdsa(EcCurve::P384)).unwrap();
        assert_eq!(
            key.matches_spec(KeyAlgorithm::Rsa, 0),
            ["spec.privateKey.algorithm"]
        );
        assert_eq!(
            key.matches_spec(KeyAlgorithm::Ecdsa, 0),
            ["spec.privateKey.size"]
        );
        assert!(key.matches_spec(KeyAlgorithm::Ecdsa, 384).is_empty());
    }
}

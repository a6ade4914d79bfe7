//! cert-manager's key usage strings and their X.509 KeyUsage / ExtKeyUsage
//! mapping (`pkg/api/util/usages.go`, `pki.KeyUsagesForCertificateOrCertificateRequest`).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use der::asn1::ObjectIdentifier;

use crate::error::{Error, Result};

/// One of the 23 values of `spec.usages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Usage {
    /// `signing` (alias of digital signature).
    Signing,
    /// `digital signature`.
    DigitalSignature,
    /// `content commitment`.
    ContentCommitment,
    /// `key encipherment`.
    KeyEncipherment,
    /// `key agreement`.
    KeyAgreement,
    /// `data encipherment`.
    DataEncipherment,
    /// `cert sign`.
    CertSign,
    /// `crl sign`.
    CrlSign,
    /// `encipher only`.
    EncipherOnly,
    /// `decipher only`.
    DecipherOnly,
    /// `any`.
    Any,
    /// `server auth`.
    ServerAuth,
    /// `client auth`.
    ClientAuth,
    /// `code signing`.
    CodeSigning,
    /// `email protection`.
    EmailProtection,
    /// `s/mime` (alias of email protection).
    Smime,
    /// `ipsec end system`.
    IpsecEndSystem,
    /// `ipsec tunnel`.
    IpsecTunnel,
    /// `ipsec user`.
    IpsecUser,
    /// `timestamping`.
    Timestamping,
    /// `ocsp signing`.
    OcspSigning,
    /// `microsoft sgc`.
    MicrosoftSgc,
    /// `netscape sgc`.
    NetscapeSgc,
}

/// The usages applied when a spec lists none (`v1.DefaultKeyUsages`).
pub const DEFAULT_USAGES: [Usage; 2] = [Usage::DigitalSignature, Usage::KeyEncipherment];

impl Usage {
    /// All 23 usages.
    pub const ALL: [Usage; 23] = [
        Usage::Signing,
        Usage::DigitalSignature,
        Usage::ContentCommitment,
        Usage::KeyEncipherment,
        Usage::KeyAgreement,
        Usage::DataEncipherment,
        Usage::CertSign,
        Usage::CrlSign,
        Usage::EncipherOnly,
        Usage::DecipherOnly,
        Usage::Any,
        Usage::ServerAuth,
        Usage::ClientAuth,
        Usage::CodeSigning,
        Usage::EmailProtection,
        Usage::Smime,
        Usage::IpsecEndSystem,
        Usage::IpsecTunnel,
        Usage::IpsecUser,
        Usage::Timestamping,
        Usage::OcspSigning,
        Usage::MicrosoftSgc,
        Usage::NetscapeSgc,
    ];

    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Signing => "signing",
            Usage::DigitalSignature => "digital signature",
            Usage::ContentCommitment => "content commitment",
            Usage::KeyEncipherment => "key encipherment",
            Usage::KeyAgreement => "key agreement",
            Usage::DataEncipherment => "data encipherment",
            Usage::CertSign => "cert sign",
            Usage::CrlSign => "crl sign",
            Usage::EncipherOnly => "encipher only",
            Usage::DecipherOnly => "decipher only",
            Usage::Any => "any",
            Usage::ServerAuth => "server auth",
            Usage::ClientAuth => "client auth",
            Usage::CodeSigning => "code signing",
            Usage::EmailProtection => "email protection",
            Usage::Smime => "s/mime",
            Usage::IpsecEndSystem => "ipsec end system",
            Usage::IpsecTunnel => "ipsec tunnel",
            Usage::IpsecUser => "ipsec user",
            Usage::Timestamping => "timestamping",
            Usage::OcspSigning => "ocsp signing",
            Usage::MicrosoftSgc => "microsoft sgc",
            Usage::NetscapeSgc => "netscape sgc",
        }
    }

    /// The KeyUsage bit this usage sets, if it is a key usage.
    pub fn key_usage(self) -> Option<KeyUsages> {
        Some(match self {
            Usage::Signing | Usage::DigitalSignature => KeyUsages::DIGITAL_SIGNATURE,
            Usage::ContentCommitment => KeyUsages::CONTENT_COMMITMENT,
            Usage::KeyEncipherment => KeyUsages::KEY_ENCIPHERMENT,
            Usage::KeyAgreement => KeyUsages::KEY_AGREEMENT,
            Usage::DataEncipherment => KeyUsages::DATA_ENCIPHERMENT,
            Usage::CertSign => KeyUsages::CERT_SIGN,
            Usage::CrlSign => KeyUsages::CRL_SIGN,
            Usage::EncipherOnly => KeyUsages::ENCIPHER_ONLY,
            Usage::DecipherOnly => KeyUsages::DECIPHER_ONLY,
            _ => return None,
        })
    }

    /// The extended key usage this usage adds, if it is one.
    pub fn ext_key_usage(self) -> Option<ExtKeyUsage> {
        Some(match self {
            Usage::Any => ExtKeyUsage::Any,
            Usage::ServerAuth => ExtKeyUsage::ServerAuth,
            Usage::ClientAuth => ExtKeyUsage::ClientAuth,
            Usage::CodeSigning => ExtKeyUsage::CodeSigning,
            Usage::EmailProtection | Usage::Smime => ExtKeyUsage::EmailProtection,
            Usage::IpsecEndSystem => ExtKeyUsage::IpsecEndSystem,
            Usage::IpsecTunnel => ExtKeyUsage::IpsecTunnel,
            Usage::IpsecUser => ExtKeyUsage::IpsecUser,
            Usage::Timestamping => ExtKeyUsage::TimeStamping,
            Usage::OcspSigning => ExtKeyUsage::OcspSigning,
            Usage::MicrosoftSgc => ExtKeyUsage::MicrosoftServerGatedCrypto,
            Usage::NetscapeSgc => ExtKeyUsage::NetscapeServerGatedCrypto,
            _ => return None,
        })
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Usage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Usage::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| unknown_usages(&[s]))
    }
}

fn unknown_usages(names: &[&str]) -> Error {
    Error::InvalidSpec {
        field: "spec.usages",
        reason: format!("unknown key usages: [{}]", names.join(" ")),
    }
}

/// Parses API usage strings, failing with all unknown ones listed like Go.
pub fn parse_usages<S: AsRef<str>>(usages: &[S]) -> Result<Vec<Usage>> {
    let mut parsed = Vec::with_capacity(usages.len());
    let mut unknown = Vec::new();
    for u in usages {
        match u.as_ref().parse::<Usage>() {
            Ok(usage) => parsed.push(usage),
            Err(_) => unknown.push(u.as_ref()),
        }
    }
    if unknown.is_empty() {
        Ok(parsed)
    } else {
        Err(unknown_usages(&unknown))
    }
}

/// `KeyUsagesForCertificateOrCertificateRequest`: `cert sign` when `is_ca`,
/// the defaults when `usages` is empty, EKUs in the order given (duplicates
/// kept, as Go keeps them).
pub fn key_usages_for(usages: &[Usage], is_ca: bool) -> (KeyUsages, Vec<ExtKeyUsage>) {
    let mut ku = KeyUsages::default();
    if is_ca {
        ku |= KeyUsages::CERT_SIGN;
    }
    let usages = if usages.is_empty() {
        &DEFAULT_USAGES[..]
    } else {
        usages
    };
    let mut ekus = Vec::new();
    for usage in usages {
        if let Some(bit) = usage.key_usage() {
            ku |= bit;
        } else if let Some(eku) = usage.ext_key_usage() {
            ekus.push(eku);
        }
    }
    (ku, ekus)
}

/// X.509 KeyUsage bits, numbered as in RFC 5280 (bit 0 = digitalSignature),
/// which is also Go's `x509.KeyUsage` numbering.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KeyUsages(u16);

impl KeyUsages {
    /// digitalSignature (0).
    pub const DIGITAL_SIGNATURE: Self = Self(1 << 0);
    /// contentCommitment / nonRepudiation (1).
    pub const CONTENT_COMMITMENT: Self = Self(1 << 1);
    /// keyEncipherment (2).
    pub const KEY_ENCIPHERMENT: Self = Self(1 << 2);
    /// dataEncipherment (3).
    pub const DATA_ENCIPHERMENT: Self = Self(1 << 3);
    /// keyAgreement (4).
    pub const KEY_AGREEMENT: Self = Self(1 << 4);
    /// keyCertSign (5).
    pub const CERT_SIGN: Self = Self(1 << 5);
    /// cRLSign (6).
    pub const CRL_SIGN: Self = Self(1 << 6);
    /// encipherOnly (7).
    pub const ENCIPHER_ONLY: Self = Self(1 << 7);
    /// decipherOnly (8).
    pub const DECIPHER_ONLY: Self = Self(1 << 8);

    /// From raw bits (bit 0 = digitalSignature); bits above 8 are dropped.
    pub fn from_bits(bits: u16) -> Self {
        Self(bits & 0x1ff)
    }

    /// Raw bits.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// No bit set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// All bits of `other` are set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Go's `KeyUsageStrings`: one usage per bit, lowest bit first, with bit
    /// 0 reported as `digital signature`.
    pub fn to_usages(self) -> Vec<Usage> {
        const ORDER: [Usage; 9] = [
            Usage::DigitalSignature,
            Usage::ContentCommitment,
            Usage::KeyEncipherment,
            Usage::DataEncipherment,
            Usage::KeyAgreement,
            Usage::CertSign,
            Usage::CrlSign,
            Usage::EncipherOnly,
            Usage::DecipherOnly,
        ];
        (0..9)
            .filter(|bit| self.0 & (1 << bit) != 0)
            .map(|bit| ORDER[bit])
            .collect()
    }
}

impl BitOr for KeyUsages {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for KeyUsages {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for KeyUsages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.to_usages()).finish()
    }
}

/// Extended key usages Go's `crypto/x509` knows, plus any other OID.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExtKeyUsage {
    /// anyExtendedKeyUsage.
    Any,
    /// id-kp-serverAuth.
    ServerAuth,
    /// id-kp-clientAuth.
    ClientAuth,
    /// id-kp-codeSigning.
    CodeSigning,
    /// id-kp-emailProtection.
    EmailProtection,
    /// id-kp-ipsecEndSystem.
    IpsecEndSystem,
    /// id-kp-ipsecTunnel.
    IpsecTunnel,
    /// id-kp-ipsecUser.
    IpsecUser,
    /// id-kp-timeStamping.
    TimeStamping,
    /// id-kp-OCSPSigning.
    OcspSigning,
    /// Microsoft Server Gated Crypto.
    MicrosoftServerGatedCrypto,
    /// Netscape Server Gated Crypto.
    NetscapeServerGatedCrypto,
    /// Microsoft commercial code signing.
    MicrosoftCommercialCodeSigning,
    /// Microsoft kernel code signing.
    MicrosoftKernelCodeSigning,
    /// Any other purpose OID (Go's `UnknownExtKeyUsage`).
    Other(ObjectIdentifier),
}

const KNOWN_EKUS: [(ExtKeyUsage, &str); 14] = [
    (ExtKeyUsage::Any, "2.5.29.37.0"),
    (ExtKeyUsage::ServerAuth, "1.3.6.1.5.5.7.3.1"),
    (ExtKeyUsage::ClientAuth, "1.3.6.1.5.5.7.3.2"),
    (ExtKeyUsage::CodeSigning, "1.3.6.1.5.5.7.3.3"),
    (ExtKeyUsage::EmailProtection, "1.3.6.1.5.5.7.3.4"),
    (ExtKeyUsage::IpsecEndSystem, "1.3.6.1.5.5.7.3.5"),
    (ExtKeyUsage::IpsecTunnel, "1.3.6.1.5.5.7.3.6"),
    (ExtKeyUsage::IpsecUser, "1.3.6.1.5.5.7.3.7"),
    (ExtKeyUsage::TimeStamping, "1.3.6.1.5.5.7.3.8"),
    (ExtKeyUsage::OcspSigning, "1.3.6.1.5.5.7.3.9"),
    (
        ExtKeyUsage::MicrosoftServerGatedCrypto,
        "1.3.6.1.4.1.311.10.3.3",
    ),
    (
        ExtKeyUsage::NetscapeServerGatedCrypto,
        "2.16.840.1.113730.4.1",
    ),
    (
        ExtKeyUsage::MicrosoftCommercialCodeSigning,
        "1.3.6.1.4.1.311.2.1.22",
    ),
    (
        ExtKeyUsage::MicrosoftKernelCodeSigning,
        "1.3.6.1.4.1.311.61.1.1",
    ),
];

impl ExtKeyUsage {
    /// The purpose OID.
    pub fn oid(&self) -> ObjectIdentifier {
        match self {
            ExtKeyUsage::Other(oid) => *oid,
            known => {
                let (_, dotted) = KNOWN_EKUS
                    .iter()
                    .find(|(k, _)| k == known)
                    .expect("every known EKU is in the table");
                ObjectIdentifier::new_unwrap(dotted)
            }
        }
    }

    /// The EKU for a purpose OID.
    pub fn from_oid(oid: ObjectIdentifier) -> Self {
        KNOWN_EKUS
            .iter()
            .find(|(_, dotted)| ObjectIdentifier::new_unwrap(dotted) == oid)
            .map(|(k, _)| k.clone())
            .unwrap_or(ExtKeyUsage::Other(oid))
    }

    /// True for the purposes Go's `x509.ExtKeyUsage` enumerates.
    pub fn is_known(&self) -> bool {
        !matches!(self, ExtKeyUsage::Other(_))
    }

    /// Go's `ExtKeyUsageStrings` entry: the usage string, or `unknown`.
    pub fn usage_str(&self) -> &'static str {
        Usage::ALL
            .into_iter()
            .filter(|u| *u != Usage::Smime)
            .find(|u| u.ext_key_usage().as_ref() == Some(self))
            .map(Usage::as_str)
            .unwrap_or("unknown")
    }
}

/// Formats usages like cert-manager's `printKeyUsage`: `[ 'a', 'b' ]`.
pub(crate) fn print_usages<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.into_iter().map(|n| format!(" '{n}'")).collect();
    if quoted.is_empty() {
        "[]".to_string()
    } else {
        format!("[{} ]", quoted.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_23_usages_round_trip_and_map_somewhere() {
        for usage in Usage::ALL {
            assert_eq!(usage.as_str().parse::<Usage>().unwrap(), usage);
            assert!(usage.key_usage().is_some() ^ usage.ext_key_usage().is_some());
        }
    }

    #[test]
    fn defaults_and_ca_bit() {
        let (ku, eku) = key_usages_for(&[], false);
        assert_eq!(
            ku,
            KeyUsages::DIGITAL_SIGNATURE | KeyUsages::KEY_ENCIPHERMENT
        );
        assert!(eku.is_empty());
        let (ku, _) = key_usages_for(&[Usage::ServerAuth], true);
        assert_eq!(ku, KeyUsages::CERT_SIGN);
    }

    #[test]
    fn aliases_and_duplicates_follow_go() {
        let (ku, eku) = key_usages_for(
            &[
                Usage::Signing,
                Usage::Smime,
                Usage::EmailProtection,
                Usage::ServerAuth,
            ],
            false,
        );
        assert_eq!(ku, KeyUsages::DIGITAL_SIGNATURE);
        assert_eq!(
            eku,
            [
                ExtKeyUsage::EmailProtection,
                ExtKeyUsage::EmailProtection,
                ExtKeyUsage::ServerAuth
            ]
        );
        assert_eq!(ku.to_usages(), [Usage::DigitalSignature]);
        assert_eq!(ExtKeyUsage::EmailProtection.usage_str(), "email protection");
    }

    #[test]
    fn unknown_usages_are_listed() {
        let err = parse_usages(&["server auth", "bogus", "nope"]).unwrap_err();
        assert!(
            err.to_string().contains("unknown key usages: [bogus nope]"),
            "{err}"
        );
    }

    #[test]
    fn eku_oids_round_trip() {
        for (eku, _) in KNOWN_EKUS {
            assert_eq!(ExtKeyUsage::from_oid(eku.oid()), eku);
        }
        let other = ObjectIdentifier::new_unwrap("1.2.3.4");
        assert_eq!(ExtKeyUsage::from_oid(other), ExtKeyUsage::Other(other));
    }

    #[test]
    fn print_usages_matches_go() {
        assert_eq!(print_usages(["a", "b"]), "[ 'a', 'b' ]");
        assert_eq!(print_usages([]), "[]");
    }
}

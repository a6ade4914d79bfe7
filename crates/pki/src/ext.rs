//! X.509 extension values: encoding (in Go's layouts) and decoding.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use der::asn1::ObjectIdentifier;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension, X509Extension};

use crate::asn1;
use crate::error::{Error, Result};
use crate::oid;
use crate::spec::{BasicConstraints, CsrSpec, NameConstraintItems, NameConstraints, OtherName};
use crate::usages::{ExtKeyUsage, KeyUsages};

fn ia5(field: &'static str, value: &str) -> Result<()> {
    if value.is_ascii() {
        Ok(())
    } else {
        Err(Error::InvalidSpec {
            field,
            reason: format!("x509: {value:?} cannot be encoded as an IA5String"),
        })
    }
}

/// Go's `net.IP.To4` rule: IPv4-mapped IPv6 addresses are written as IPv4.
fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    }
}

/// The GeneralNames value of the SAN extension, in Go's order (DNS, email,
/// IP, URI, otherName); `None` when there is no name at all.
pub(crate) fn encode_sans(spec: &CsrSpec) -> Result<Option<Vec<u8>>> {
    if !spec.has_sans() {
        return Ok(None);
    }
    let mut names = Vec::new();
    for dns in &spec.dns_names {
        ia5("spec.dnsNames", dns)?;
        names.push(asn1::context(2, false, dns.as_bytes())?);
    }
    for email in &spec.email_addresses {
        ia5("spec.emailAddresses", email)?;
        names.push(asn1::context(1, false, email.as_bytes())?);
    }
    for ip in &spec.ip_addresses {
        names.push(asn1::context(7, false, &ip_bytes(ip))?);
    }
    for uri in &spec.uris {
        ia5("spec.uris", uri)?;
        names.push(asn1::context(6, false, uri.as_bytes())?);
    }
    for other in &spec.other_names {
        names.push(encode_other_name(other)?);
    }
    let parts: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    Ok(Some(asn1::sequence(&parts)?))
}

fn encode_other_name(other: &OtherName) -> Result<Vec<u8>> {
    let invalid = |reason: String| Error::InvalidSpec {
        field: "spec.otherNames",
        reason,
    };
    let type_id = ObjectIdentifier::new(&other.oid)
        .map_err(|_| invalid(format!("invalid OID {:?}", other.oid)))?;
    // Go's MarshalUniversalValue refuses an empty UTF8String.
    if other.utf8_value.is_empty() {
        return Err(invalid(
            "UniversalValue should have exactly one field set".into(),
        ));
    }
    let value = asn1::tlv(der::Tag::Utf8String, other.utf8_value.as_bytes())?;
    let explicit = asn1::context(0, true, &value)?;
    let inner = [asn1::oid(&type_id)?, explicit].concat();
    asn1::context(0, true, &inner)
}

/// KeyUsage BIT STRING with trailing zero bits dropped (Go `MarshalKeyUsage`).
pub(crate) fn encode_key_usage(usage: KeyUsages) -> Result<Vec<u8>> {
    let bits = usage.bits();
    let bytes = [(bits & 0xff) as u8, (bits >> 8) as u8].map(u8::reverse_bits);
    let len = if bytes[1] != 0 { 2 } else { 1 };
    let bytes = &bytes[..len];
    let last = bytes[len - 1];
    let unused = if last == 0 {
        0
    } else {
        last.trailing_zeros() as u8
    };
    asn1::bit_string(unused, bytes)
}

pub(crate) fn encode_ext_key_usage(ekus: &[ExtKeyUsage]) -> Result<Vec<u8>> {
    let oids = ekus
        .iter()
        .map(|e| asn1::oid(&e.oid()))
        .collect::<Result<Vec<_>>>()?;
    let parts: Vec<&[u8]> = oids.iter().map(Vec::as_slice).collect();
    asn1::sequence(&parts)
}

/// BasicConstraints; `cA` FALSE is omitted as DER requires.
pub(crate) fn encode_basic_constraints(bc: &BasicConstraints) -> Result<Vec<u8>> {
    let mut parts = Vec::new();
    if bc.is_ca {
        parts.push(asn1::boolean(true));
    }
    if let Some(len) = bc.max_path_len {
        parts.push(asn1::uint(&len.to_be_bytes())?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    asn1::sequence(&refs)
}

/// NameConstraints value, or `None` when there is nothing to constrain.
pub(crate) fn encode_name_constraints(nc: &NameConstraints) -> Result<Option<Vec<u8>>> {
    if nc.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for (number, items) in [(0, &nc.permitted), (1, &nc.excluded)] {
        if !items.is_empty() {
            parts.push(asn1::context(number, true, &encode_subtrees(items)?)?);
        }
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(Some(asn1::sequence(&refs)?))
}

fn encode_subtrees(items: &NameConstraintItems) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut push = |name: Vec<u8>| -> Result<()> {
        out.extend(asn1::sequence(&[&name])?);
        Ok(())
    };
    for dns in &items.dns_domains {
        ia5("spec.nameConstraints", dns)?;
        push(asn1::context(2, false, dns.as_bytes())?)?;
    }
    for cidr in &items.ip_ranges {
        push(asn1::context(7, false, &parse_cidr(cidr)?)?)?;
    }
    for email in &items.email_addresses {
        ia5("spec.nameConstraints", email)?;
        push(asn1::context(1, false, email.as_bytes())?)?;
    }
    for uri in &items.uri_domains {
        ia5("spec.nameConstraints", uri)?;
        push(asn1::context(6, false, uri.as_bytes())?)?;
    }
    Ok(out)
}

/// CIDR to the masked address followed by the mask (4+4 or 16+16 bytes).
fn parse_cidr(cidr: &str) -> Result<Vec<u8>> {
    let invalid = || Error::InvalidSpec {
        field: "spec.nameConstraints",
        reason: format!("invalid CIDR address: {cidr}"),
    };
    let (addr, prefix) = cidr.split_once('/').ok_or_else(invalid)?;
    let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
    let prefix: u32 = prefix
        .parse()
        .ok()
        .filter(|p: &u32| prefix.bytes().all(|b| b.is_ascii_digit()) && *p <= max_prefix(&addr))
        .ok_or_else(invalid)?;
    let ip = match addr {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let mask: Vec<u8> = (0..ip.len() as u32)
        .map(|i| {
            let bits = prefix.saturating_sub(i * 8).min(8);
            (0xff00u16 >> bits) as u8
        })
        .collect();
    let masked: Vec<u8> = ip.iter().zip(&mask).map(|(a, m)| a & m).collect();
    Ok([masked, mask].concat())
}

fn max_prefix(addr: &IpAddr) -> u32 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// Authority information access: OCSP responders, then CA issuer URLs.
pub(crate) fn encode_aia(ocsp: &[String], issuers: &[String]) -> Result<Vec<u8>> {
    let mut parts = Vec::new();
    for (method, urls) in [(oid::AD_OCSP, ocsp), (oid::AD_CA_ISSUERS, issuers)] {
        for url in urls {
            ia5("issuer URLs", url)?;
            let location = asn1::context(6, false, url.as_bytes())?;
            parts.push(asn1::sequence(&[&asn1::oid(&method)?, &location])?);
        }
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    asn1::sequence(&refs)
}

/// CRL distribution points: one point with a full URI name per URL.
pub(crate) fn encode_crl_distribution_points(urls: &[String]) -> Result<Vec<u8>> {
    let mut parts = Vec::new();
    for url in urls {
        ia5("crlDistributionPoints", url)?;
        let uri = asn1::context(6, false, url.as_bytes())?;
        let full_name = asn1::context(0, true, &uri)?;
        let point_name = asn1::context(0, true, &full_name)?;
        parts.push(asn1::sequence(&[&point_name])?);
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    asn1::sequence(&refs)
}

pub(crate) fn encode_authority_key_id(id: &[u8]) -> Result<Vec<u8>> {
    asn1::sequence(&[&asn1::context(0, false, id)?])
}

/// The extensions of a certificate or CSR that cert-manager looks at.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extensions {
    pub dns_names: Vec<String>,
    pub email_addresses: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub uris: Vec<String>,
    pub other_names: Vec<OtherName>,
    /// otherName entries whose value is not a UTF8String.
    pub non_utf8_other_names: usize,
    /// The raw SAN value and criticality, copied into issued certificates.
    pub san_raw: Option<Vec<u8>>,
    pub key_usage: Option<KeyUsages>,
    pub ext_key_usages: Option<Vec<ExtKeyUsage>>,
    pub basic_constraints: Option<BasicConstraints>,
    pub name_constraints: Option<NameConstraints>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    pub crl_distribution_points: Vec<String>,
    pub ocsp_servers: Vec<String>,
    pub issuing_certificate_urls: Vec<String>,
}

fn bad_extension(name: &str) -> Error {
    Error::InvalidCertificate(format!("malformed {name} extension"))
}

impl Extensions {
    pub(crate) fn decode(exts: &[X509Extension<'_>]) -> Result<Self> {
        let mut out = Extensions::default();
        let mut seen = HashSet::new();
        for ext in exts {
            let id = oid::from_parser(&ext.oid).ok_or_else(|| bad_extension("unknown"))?;
            if !seen.insert(id) {
                return Err(Error::InvalidCertificate(format!(
                    "duplicate extension {id}"
                )));
            }
            out.decode_one(id, ext)?;
        }
        Ok(out)
    }

    fn decode_one(&mut self, id: ObjectIdentifier, ext: &X509Extension<'_>) -> Result<()> {
        match (id, ext.parsed_extension()) {
            (oid::SUBJECT_ALT_NAME, ParsedExtension::SubjectAlternativeName(san)) => {
                self.san_raw = Some(ext.value.to_vec());
                for name in &san.general_names {
                    self.add_san(name)?;
                }
            }
            (oid::KEY_USAGE, ParsedExtension::KeyUsage(ku)) => {
                self.key_usage = Some(KeyUsages::from_bits(ku.flags));
            }
            (oid::EXT_KEY_USAGE, _) => {
                self.ext_key_usages = Some(decode_ext_key_usage(ext.value)?);
            }
            (oid::BASIC_CONSTRAINTS, ParsedExtension::BasicConstraints(bc)) => {
                self.basic_constraints = Some(BasicConstraints {
                    is_ca: bc.ca,
                    max_path_len: bc.path_len_constraint,
                });
            }
            (oid::NAME_CONSTRAINTS, ParsedExtension::NameConstraints(nc)) => {
                let mut constraints = NameConstraints {
                    critical: ext.critical,
                    ..Default::default()
                };
                for (subtrees, items) in [
                    (&nc.permitted_subtrees, &mut constraints.permitted),
                    (&nc.excluded_subtrees, &mut constraints.excluded),
                ] {
                    for subtree in subtrees.iter().flatten() {
                        add_constraint(items, &subtree.base)?;
                    }
                }
                if constraints.is_empty() {
                    return Err(Error::InvalidCertificate(
                        "x509: empty name constraints extension".into(),
                    ));
                }
                self.name_constraints = Some(constraints);
            }
            (oid::SUBJECT_KEY_ID, ParsedExtension::SubjectKeyIdentifier(kid)) => {
                self.subject_key_id = Some(kid.0.to_vec());
            }
            (oid::AUTHORITY_KEY_ID, ParsedExtension::AuthorityKeyIdentifier(aki)) => {
                self.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            (oid::CRL_DISTRIBUTION_POINTS, ParsedExtension::CRLDistributionPoints(dps)) => {
                for dp in dps.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &dp.distribution_point {
                        self.crl_distribution_points.extend(uris(names));
                    }
                }
            }
            (oid::AUTHORITY_INFO_ACCESS, ParsedExtension::AuthorityInfoAccess(aia)) => {
                for desc in aia.iter() {
                    let url = uris(std::slice::from_ref(&desc.access_location));
                    match oid::from_parser(&desc.access_method) {
                        Some(oid::AD_OCSP) => self.ocsp_servers.extend(url),
                        Some(oid::AD_CA_ISSUERS) => self.issuing_certificate_urls.extend(url),
                        _ => {}
                    }
                }
            }
            (
                oid::SUBJECT_ALT_NAME
                | oid::KEY_USAGE
                | oid::BASIC_CONSTRAINTS
                | oid::NAME_CONSTRAINTS
                | oid::SUBJECT_KEY_ID
                | oid::AUTHORITY_KEY_ID
                | oid::CRL_DISTRIBUTION_POINTS
                | oid::AUTHORITY_INFO_ACCESS,
                _,
            ) => return Err(bad_extension(&id.to_string())),
            _ => {}
        }
        Ok(())
    }

    fn add_san(&mut self, name: &GeneralName<'_>) -> Result<()> {
        match name {
            GeneralName::DNSName(s) => self.dns_names.push(s.to_string()),
            GeneralName::RFC822Name(s) => self.email_addresses.push(s.to_string()),
            GeneralName::URI(s) => self.uris.push(s.to_string()),
            GeneralName::IPAddress(bytes) => {
                self.ip_addresses.push(ip_from_bytes(bytes).ok_or_else(|| {
                    Error::InvalidCertificate(format!(
                        "x509: cannot parse IP address of length {}",
                        bytes.len()
                    ))
                })?)
            }
            GeneralName::OtherName(type_id, value) => match other_name_utf8(value) {
                Some(utf8_value) => self.other_names.push(OtherName {
                    oid: type_id.to_id_string(),
                    utf8_value,
                }),
                None => self.non_utf8_other_names += 1,
            },
            // Other name forms are carried in `san_raw` but not interpreted.
            _ => {}
        }
        Ok(())
    }
}

fn uris<'a>(names: &'a [GeneralName<'_>]) -> impl Iterator<Item = String> + 'a {
    names.iter().filter_map(|n| match n {
        GeneralName::URI(u) => Some(u.to_string()),
        _ => None,
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(bytes).ok()?,
        ))),
        _ => None,
    }
}

/// `[0] EXPLICIT` wrapper around a non-empty UTF8String (Go's
/// `UnmarshalUniversalValue` treats an empty one as no value).
fn other_name_utf8(explicit: &[u8]) -> Option<String> {
    let (tag, inner, rest) = asn1::read_tlv(explicit)?;
    if tag != 0xa0 || !rest.is_empty() {
        return None;
    }
    let (tag, content, rest) = asn1::read_tlv(inner)?;
    if tag != 0x0c || !rest.is_empty() || content.is_empty() {
        return None;
    }
    String::from_utf8(content.to_vec()).ok()
}

/// EKU purposes in their encoded order, which Go compares order-sensitively.
fn decode_ext_key_usage(value: &[u8]) -> Result<Vec<ExtKeyUsage>> {
    let bad = || bad_extension("extKeyUsage");
    let (tag, mut seq, rest) = asn1::read_tlv(value).ok_or_else(bad)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad());
    }
    let mut out = Vec::new();
    while !seq.is_empty() {
        let (tag, content, rest) = asn1::read_tlv(seq).ok_or_else(bad)?;
        if tag != 0x06 {
            return Err(bad());
        }
        out.push(ExtKeyUsage::from_oid(
            ObjectIdentifier::from_bytes(content).map_err(|_| bad())?,
        ));
        seq = rest;
    }
    Ok(out)
}

fn add_constraint(items: &mut NameConstraintItems, name: &GeneralName<'_>) -> Result<()> {
    match name {
        GeneralName::DNSName(s) => items.dns_domains.push(s.to_string()),
        GeneralName::RFC822Name(s) => items.email_addresses.push(s.to_string()),
        GeneralName::URI(s) => items.uri_domains.push(s.to_string()),
        GeneralName::IPAddress(bytes) => items.ip_ranges.push(cidr_from_bytes(bytes)?),
        other => {
            return Err(Error::InvalidCertificate(format!(
                "x509: unsupported NameConstraints name {other}"
            )));
        }
    }
    Ok(())
}

/// Address+mask bytes back to CIDR notation; masks must be contiguous.
fn cidr_from_bytes(bytes: &[u8]) -> Result<String> {
    let bad = || {
        Error::InvalidCertificate(format!(
            "x509: IP constraint contained value of length {}",
            bytes.len()
        ))
    };
    let half = match bytes.len() {
        8 => 4,
        32 => 16,
        _ => return Err(bad()),
    };
    let (ip, mask) = bytes.split_at(half);
    let prefix: u32 = mask.iter().map(|b| b.leading_ones()).sum();
    let contiguous = mask
        .iter()
        .enumerate()
        .all(|(i, b)| *b == (0xff00u16 >> prefix.saturating_sub(i as u32 * 8).min(8)) as u8);
    if !contiguous {
        return Err(Error::InvalidCertificate(
            "x509: IP constraint contained invalid mask".into(),
        ));
    }
    let ip = ip_from_bytes(ip).ok_or_else(bad)?;
    Ok(format!("{ip}/{prefix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_bits_match_go() {
        let ku = KeyUsages::DIGITAL_SIGNATURE | KeyUsages::KEY_ENCIPHERMENT;
        assert_eq!(encode_key_usage(ku).unwrap(), [0x03, 0x02, 0x05, 0xa0]);
        assert_eq!(
            encode_key_usage(KeyUsages::CERT_SIGN).unwrap(),
            [0x03, 0x02, 0x02, 0x04]
        );
        let decipher = KeyUsages::DECIPHER_ONLY | KeyUsages::DIGITAL_SIGNATURE;
        assert_eq!(
            encode_key_usage(decipher).unwrap(),
            [0x03, 0x03, 0x07, 0x80, 0x80]
        );
    }

    #[test]
    fn basic_constraints_omit_false() {
        let leaf = BasicConstraints::default();
        assert_eq!(encode_basic_constraints(&leaf).unwrap(), [0x30, 0x00]);
        let ca = BasicConstraints {
            is_ca: true,
            max_path_len: Some(0),
        };
        assert_eq!(
            encode_basic_constraints(&ca).unwrap(),
            [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00]
        );
    }

    #[test]
    fn cidrs_round_trip() {
        for cidr in ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "0.0.0.0/0"] {
            let bytes = parse_cidr(cidr).unwrap();
            assert_eq!(cidr_from_bytes(&bytes).unwrap(), cidr);
        }
        assert_eq!(
            cidr_from_bytes(&parse_cidr("10.1.2.3/8").unwrap()).unwrap(),
            "10.0.0.0/8"
        );
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("10.0.0.0").is_err());
        assert!(cidr_from_bytes(&[10, 0, 0, 0, 255, 0, 255, 0]).is_err());
    }

    #[test]
    fn ipv4_mapped_addresses_are_written_as_ipv4() {
        let mapped: IpAddr = "::ffff:1.2.3.4".parse().unwrap();
        assert_eq!(ip_bytes(&mapped), [1, 2, 3, 4]);
    }

    #[test]
    fn empty_other_name_value_is_rejected() {
        let other = OtherName {
            oid: "1.3.6.1.4.1.311.20.2.3".into(),
            utf8_value: String::new(),
        };
        assert!(encode_other_name(&other).is_err());
    }
}

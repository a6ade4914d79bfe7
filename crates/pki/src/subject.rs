//! Distinguished names: the structured subject, RFC 4514 literal subjects,
//! and their DER encoding.
//!
//! Encodings follow Go so that cert-manager's byte comparisons of subjects
//! (e.g. for `literalSubject`) agree across implementations:
//! * values are PrintableString when every character allows it (no `*`, no
//!   `&`), UTF8String otherwise;
//! * a structured subject is laid out like `pkix.Name.ToRDNSequence`: C, ST,
//!   L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER, all values of one type in
//!   a single multi-valued RDN;
//! * a literal subject is parsed like go-ldap's `ParseDN` and its RDNs are
//!   reversed (the string lists the most specific RDN first);
//! * SET members are sorted by their encoding.

use der::Tag;
use der::asn1::ObjectIdentifier;

use crate::asn1;
use crate::error::{Error, Result};
use crate::oid;

/// The structured subject of cert-manager's Certificate spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// `commonName`.
    pub common_name: String,
    /// `subject.serialNumber`.
    pub serial_number: String,
    /// `subject.countries`.
    pub countries: Vec<String>,
    /// `subject.organizations`.
    pub organizations: Vec<String>,
    /// `subject.organizationalUnits`.
    pub organizational_units: Vec<String>,
    /// `subject.localities`.
    pub localities: Vec<String>,
    /// `subject.provinces`.
    pub provinces: Vec<String>,
    /// `subject.streetAddresses`.
    pub street_addresses: Vec<String>,
    /// `subject.postalCodes`.
    pub postal_codes: Vec<String>,
}

/// One attribute of an RDN; the value is kept as its (Go) string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Atv {
    pub oid: ObjectIdentifier,
    pub value: String,
}

pub(crate) type Rdn = Vec<Atv>;

/// The DER encoding of an empty Name (`SEQUENCE {}`).
pub(crate) const EMPTY_NAME: [u8; 2] = [0x30, 0x00];

impl Subject {
    /// No attribute set.
    pub fn is_empty(&self) -> bool {
        *self == Subject::default()
    }

    /// Go's `pkix.Name.ToRDNSequence` order.
    pub(crate) fn to_rdns(&self) -> Vec<Rdn> {
        let single = |s: &String| {
            if s.is_empty() {
                Vec::new()
            } else {
                vec![s.clone()]
            }
        };
        let groups: [(ObjectIdentifier, Vec<String>); 9] = [
            (oid::COUNTRY, self.countries.clone()),
            (oid::PROVINCE, self.provinces.clone()),
            (oid::LOCALITY, self.localities.clone()),
            (oid::STREET_ADDRESS, self.street_addresses.clone()),
            (oid::POSTAL_CODE, self.postal_codes.clone()),
            (oid::ORGANIZATION, self.organizations.clone()),
            (oid::ORGANIZATIONAL_UNIT, self.organizational_units.clone()),
            (oid::COMMON_NAME, single(&self.common_name)),
            (oid::SERIAL_NUMBER, single(&self.serial_number)),
        ];
        groups
            .into_iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(oid, values)| values.into_iter().map(|value| Atv { oid, value }).collect())
            .collect()
    }

    /// DER Name.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        encode_rdns(&self.to_rdns())
    }

    /// Reads the standard attributes of a DER Name like Go's
    /// `FillFromRDNSequence` (the last CN and serial number win).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let mut subject = Subject::default();
        for atv in decode_name(der)?.into_iter().flatten() {
            let Some(value) = atv.value else { continue };
            match atv.oid {
                oid::COMMON_NAME => subject.common_name = value,
                oid::SERIAL_NUMBER => subject.serial_number = value,
                oid::COUNTRY => subject.countries.push(value),
                oid::LOCALITY => subject.localities.push(value),
                oid::PROVINCE => subject.provinces.push(value),
                oid::STREET_ADDRESS => subject.street_addresses.push(value),
                oid::ORGANIZATION => subject.organizations.push(value),
                oid::ORGANIZATIONAL_UNIT => subject.organizational_units.push(value),
                oid::POSTAL_CODE => subject.postal_codes.push(value),
                _ => {}
            }
        }
        Ok(subject)
    }
}

/// Encodes RDNs as a DER Name.
pub(crate) fn encode_rdns(rdns: &[Rdn]) -> Result<Vec<u8>> {
    let mut sets = Vec::with_capacity(rdns.len());
    for rdn in rdns {
        let atvs = rdn.iter().map(encode_atv).collect::<Result<Vec<_>>>()?;
        sets.push(asn1::set_of(atvs)?);
    }
    let parts: Vec<&[u8]> = sets.iter().map(Vec::as_slice).collect();
    asn1::sequence(&parts)
}

fn encode_atv(atv: &Atv) -> Result<Vec<u8>> {
    let oid = asn1::oid(&atv.oid)?;
    let value = go_string(&atv.value)?;
    asn1::sequence(&[&oid, &value])
}

/// A string the way Go's `asn1.Marshal` encodes an untyped string.
pub(crate) fn go_string(s: &str) -> Result<Vec<u8>> {
    let tag = if s.bytes().all(is_go_printable) {
        Tag::PrintableString
    } else {
        Tag::Utf8String
    };
    asn1::tlv(tag, s.as_bytes())
}

fn is_go_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?')
}

/// A decoded attribute: `value` is `None` when it is not a string type.
pub(crate) struct DecodedAtv {
    pub oid: ObjectIdentifier,
    pub value: Option<String>,
    /// The full value TLV.
    pub raw_value: Vec<u8>,
}

/// Splits a DER Name into RDNs of attributes.
pub(crate) fn decode_name(der: &[u8]) -> Result<Vec<Vec<DecodedAtv>>> {
    let bad = || Error::InvalidSubject("malformed distinguished name".into());
    let (tag, mut rdns, rest) = asn1::read_tlv(der).ok_or_else(bad)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad());
    }
    let mut out = Vec::new();
    while !rdns.is_empty() {
        let (tag, mut set, rest) = asn1::read_tlv(rdns).ok_or_else(bad)?;
        if tag != 0x31 {
            return Err(bad());
        }
        rdns = rest;
        let mut rdn = Vec::new();
        while !set.is_empty() {
            let (tag, atv, rest) = asn1::read_tlv(set).ok_or_else(bad)?;
            if tag != 0x30 {
                return Err(bad());
            }
            set = rest;
            let (tag, oid_bytes, value) = asn1::read_tlv(atv).ok_or_else(bad)?;
            if tag != 0x06 {
                return Err(bad());
            }
            let oid = ObjectIdentifier::from_bytes(oid_bytes).map_err(|_| bad())?;
            let (value_tag, content, trailing) = asn1::read_tlv(value).ok_or_else(bad)?;
            if !trailing.is_empty() {
                return Err(bad());
            }
            rdn.push(DecodedAtv {
                oid,
                value: decode_string(value_tag, content),
                raw_value: value.to_vec(),
            });
        }
        out.push(rdn);
    }
    Ok(out)
}

/// The string types Go's x509 parser turns into Go strings.
fn decode_string(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, T61String, IA5String
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 => String::from_utf8(content.to_vec()).ok(),
        // BMPString: UTF-16BE
        0x1e if content.len().is_multiple_of(2) => {
            let units: Vec<u16> = content
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Go's `pkix.Name.String()` for a DER Name (used e.g. as PKCS#12
/// truststore friendly names): non-standard attributes first as single RDNs,
/// then the standard ones in `ToRDNSequence` order, printed in reverse.
pub fn name_to_string(der: &[u8]) -> Result<String> {
    let decoded = decode_name(der)?;
    let subject = Subject::from_der(der)?;
    let mut rdns: Vec<Vec<(ObjectIdentifier, PrintedValue)>> = Vec::new();
    for atv in decoded.iter().flatten() {
        if is_standard(&atv.oid) && atv.value.is_some() {
            continue;
        }
        let value = match &atv.value {
            Some(s) => PrintedValue::Hex(go_string(s)?),
            None => PrintedValue::Hex(atv.raw_value.clone()),
        };
        rdns.push(vec![(atv.oid, value)]);
    }
    for rdn in subject.to_rdns() {
        rdns.push(
            rdn.into_iter()
                .map(|a| (a.oid, PrintedValue::Text(a.value)))
                .collect(),
        );
    }
    let printed: Vec<String> = rdns
        .iter()
        .rev()
        .map(|rdn| {
            rdn.iter()
                .map(|(oid, value)| print_atv(oid, value))
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    Ok(printed.join(","))
}

enum PrintedValue {
    Text(String),
    Hex(Vec<u8>),
}

fn is_standard(oid: &ObjectIdentifier) -> bool {
    short_name(oid).is_some()
}

fn short_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    Some(match *oid {
        oid::COUNTRY => "C",
        oid::ORGANIZATION => "O",
        oid::ORGANIZATIONAL_UNIT => "OU",
        oid::COMMON_NAME => "CN",
        oid::SERIAL_NUMBER => "SERIALNUMBER",
        oid::LOCALITY => "L",
        oid::PROVINCE => "ST",
        oid::STREET_ADDRESS => "STREET",
        oid::POSTAL_CODE => "POSTALCODE",
        _ => return None,
    })
}

fn print_atv(oid: &ObjectIdentifier, value: &PrintedValue) -> String {
    match (short_name(oid), value) {
        (Some(name), PrintedValue::Text(text)) => format!("{name}={}", escape_rfc2253(text)),
        (_, PrintedValue::Hex(der)) => format!("{oid}=#{}", crate::keys::hex(der)),
        (None, PrintedValue::Text(text)) => format!("{oid}={}", escape_rfc2253(text)),
    }
}

fn escape_rfc2253(value: &str) -> String {
    let last = value.len().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => i == 0 || i == last,
            '#' => i == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Parses an RFC 4514 literal subject (cert-manager's `literalSubject`)
/// into RDNs in DER order.
pub(crate) fn parse_literal(literal: &str) -> Result<Vec<Rdn>> {
    let mut rdns = Vec::new();
    for ldap_rdn in parse_dn(literal)?.into_iter().rev() {
        let mut rdn = Vec::with_capacity(ldap_rdn.len());
        for (ty, value) in ldap_rdn {
            let oid = attribute_type(&ty).ok_or_else(|| {
                Error::InvalidSubject(format!(
                    "Literal subject contains unrecognized key with value [{}]",
                    String::from_utf8_lossy(&value)
                ))
            })?;
            let value = String::from_utf8(value)
                .map_err(|_| Error::InvalidSubject("asn1: string not valid UTF-8".into()))?;
            rdn.push(Atv { oid, value });
        }
        rdns.push(rdn);
    }
    Ok(rdns)
}

/// DER Name for a literal subject.
pub fn literal_subject_to_der(literal: &str) -> Result<Vec<u8>> {
    encode_rdns(&parse_literal(literal)?)
}

/// The first CN of a literal subject (`ExtractCommonNameFromRDNSequence`),
/// or an empty string.
pub fn literal_subject_common_name(literal: &str) -> Result<String> {
    Ok(parse_literal(literal)?
        .into_iter()
        .flatten()
        .find(|a| a.oid == oid::COMMON_NAME)
        .map(|a| a.value)
        .unwrap_or_default())
}

/// cert-manager's `attributeTypeNames` (case-sensitive), else a dotted OID.
fn attribute_type(ty: &[u8]) -> Option<ObjectIdentifier> {
    let ty = std::str::from_utf8(ty).ok()?;
    Some(match ty {
        "C" => oid::COUNTRY,
        "O" => oid::ORGANIZATION,
        "OU" => oid::ORGANIZATIONAL_UNIT,
        "CN" => oid::COMMON_NAME,
        "SERIALNUMBER" => oid::SERIAL_NUMBER,
        "L" => oid::LOCALITY,
        "ST" => oid::PROVINCE,
        "STREET" => oid::STREET_ADDRESS,
        "DC" => oid::DOMAIN_COMPONENT,
        "UID" => oid::USER_ID,
        dotted => return ObjectIdentifier::new(dotted).ok(),
    })
}

type LdapRdn = Vec<(Vec<u8>, Vec<u8>)>;

/// go-ldap v3 `ParseDN`: RDNs in string order, types and values unescaped.
fn parse_dn(s: &str) -> Result<Vec<LdapRdn>> {
    let mut dn = Vec::new();
    if s.trim().is_empty() {
        return Ok(dn);
    }
    let bytes = s.as_bytes();
    let mut rdn: LdapRdn = Vec::new();
    let mut ty: Vec<u8> = Vec::new();
    let mut escaping = false;
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if escaping {
            escaping = false;
        } else if c == b'\\' {
            escaping = true;
        } else if c == b'=' && ty.is_empty() {
            ty = ldap_decode(&s[start..i])?;
            start = i + 1;
        } else if matches!(c, b',' | b'+' | b';') {
            if ty.is_empty() {
                return Err(Error::InvalidSubject("incomplete type, value pair".into()));
            }
            let value = ldap_value(&s[start..i])?;
            start = i + 1;
            rdn.push((std::mem::take(&mut ty), value));
            if c != b'+' {
                dn.push(std::mem::take(&mut rdn));
            }
        }
    }
    if ty.is_empty() {
        return Err(Error::InvalidSubject(
            "DN ended with incomplete type, value pair".into(),
        ));
    }
    let value = ldap_value(&s[start..])?;
    rdn.push((ty, value));
    dn.push(rdn);
    Ok(dn)
}

fn ldap_value(s: &str) -> Result<Vec<u8>> {
    match s.strip_prefix('#') {
        Some(hex) => ldap_decode_ber(hex),
        None => ldap_decode(s),
    }
}

/// `#`-prefixed value: hex of one BER element whose contents are the value.
fn ldap_decode_ber(hex: &str) -> Result<Vec<u8>> {
    let bad = |why: &str| Error::InvalidSubject(format!("failed to decode BER encoding: {why}"));
    let bytes = decode_hex(hex).ok_or_else(|| bad("invalid hex"))?;
    let (tag, content, rest) = asn1::read_tlv(&bytes).ok_or_else(|| bad("invalid element"))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes after value"));
    }
    if tag & 0x20 != 0 {
        return Err(bad("constructed values are not supported"));
    }
    Ok(content.to_vec())
}

fn strip_ldap_spaces(s: &str) -> String {
    let trimmed = s.trim_matches(' ');
    let mut out = trimmed.to_string();
    if !trimmed.is_empty() && s.ends_with(' ') {
        let backslashes = trimmed.bytes().rev().take_while(|b| *b == b'\\').count();
        if backslashes % 2 == 1 {
            out.push(' ');
        }
    }
    out
}

/// go-ldap `decodeString`: trims spaces, resolves `\c` and `\hh` escapes.
fn ldap_decode(s: &str) -> Result<Vec<u8>> {
    let stripped = strip_ldap_spaces(s);
    let chars: Vec<char> = stripped.chars().collect();
    let mut out = Vec::with_capacity(stripped.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            if matches!(c, '"' | ';' | '<' | '>') {
                return Err(Error::InvalidSubject(format!(
                    "got unescaped character: '{c}'"
                )));
            }
            if c == '\0' {
                return Err(Error::InvalidSubject("got unescaped NULL character".into()));
            }
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        let Some(&next) = chars.get(i + 1) else {
            return Err(Error::InvalidSubject(format!(
                "got corrupted escaped character: '{stripped}'"
            )));
        };
        if matches!(
            next,
            ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\'
        ) {
            out.push(next as u8);
            i += 2;
            continue;
        }
        let Some(&low) = chars.get(i + 2) else {
            return Err(Error::InvalidSubject(format!(
                "failed to decode escaped character: invalid byte: {next}"
            )));
        };
        let pair: String = [next, low].iter().collect();
        let byte = decode_hex(&pair).filter(|b| b.len() == 1).ok_or_else(|| {
            Error::InvalidSubject(format!(
                "failed to decode escaped character: invalid byte: {pair}"
            ))
        })?;
        out.push(byte[0]);
        i += 3;
    }
    Ok(out)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(rdns: &[&[(&str, &str)]]) -> Vec<Rdn> {
        rdns.iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|(oid, value)| Atv {
                        oid: ObjectIdentifier::new_unwrap(oid),
                        value: value.to_string(),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn literal_subject_is_reversed_and_typed() {
        let rdns = parse_literal("CN=foo,OU=a+OU=b,O=Org,DC=example,DC=com").unwrap();
        assert_eq!(
            rdns,
            dn(&[
                &[("0.9.2342.19200300.100.1.25", "com")],
                &[("0.9.2342.19200300.100.1.25", "example")],
                &[("2.5.4.10", "Org")],
                &[("2.5.4.11", "a"), ("2.5.4.11", "b")],
                &[("2.5.4.3", "foo")],
            ])
        );
    }

    #[test]
    fn literal_subject_escapes_and_oids() {
        let rdns = parse_literal(r"CN=a\,b\2Bc , 2.5.4.17=12345,UID=#0c03616263").unwrap();
        assert_eq!(
            rdns,
            dn(&[
                &[("0.9.2342.19200300.100.1.1", "abc")],
                &[("2.5.4.17", "12345")],
                &[("2.5.4.3", "a,b+c")],
            ])
        );
    }

    #[test]
    fn literal_subject_errors() {
        assert!(parse_literal("cn=lowercase").is_err());
        assert!(parse_literal("CN").is_err());
        assert!(parse_literal("=x").is_err());
        assert!(parse_literal("CN=a\"b").is_err());
        assert!(parse_literal(r"CN=a\zz").is_err());
        assert!(parse_literal("POSTALCODE=1").is_err());
        assert!(parse_literal("").unwrap().is_empty());
    }

    #[test]
    fn go_string_types() {
        assert_eq!(go_string("abc").unwrap()[0], 0x13);
        assert_eq!(go_string("*.example.com").unwrap()[0], 0x0c);
        assert_eq!(go_string("A&B").unwrap()[0], 0x0c);
        assert_eq!(go_string("zürich").unwrap()[0], 0x0c);
    }

    #[test]
    fn structured_subject_groups_values_in_go_order() {
        let subject = Subject {
            common_name: "cn".into(),
            organizations: vec!["b".into(), "a".into()],
            countries: vec!["GB".into()],
            ..Default::default()
        };
        let rdns = subject.to_rdns();
        assert_eq!(rdns.len(), 3);
        assert_eq!(rdns[0][0].oid, oid::COUNTRY);
        assert_eq!(rdns[1].len(), 2);
        assert_eq!(rdns[2][0].oid, oid::COMMON_NAME);
        let der = subject.to_der().unwrap();
        // The O values share one SET, sorted by encoding ("a" before "b").
        let pos_a = der
            .windows(3)
            .position(|w| w == [0x13, 0x01, b'a'])
            .unwrap();
        let pos_b = der
            .windows(3)
            .position(|w| w == [0x13, 0x01, b'b'])
            .unwrap();
        assert!(pos_a < pos_b);
        assert_eq!(Subject::from_der(&der).unwrap().common_name, "cn");
    }

    #[test]
    fn name_string_matches_go() {
        let der = literal_subject_to_der("CN=foo,O=Acme\\, Inc,C=GB,DC=example").unwrap();
        assert_eq!(
            name_to_string(&der).unwrap(),
            r"CN=foo,O=Acme\, Inc,C=GB,0.9.2342.19200300.100.1.25=#13076578616d706c65"
        );
        assert_eq!(name_to_string(&EMPTY_NAME).unwrap(), "");
    }
}

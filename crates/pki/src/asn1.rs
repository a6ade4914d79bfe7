//! Small DER building helpers on top of the `der` crate.
//!
//! Certificates and CSRs are assembled from already-encoded parts so that raw
//! fields (a CA's subject, a CSR's SAN extension) are carried over byte for
//! byte, the way Go's `RawSubject`/`ExtraExtensions` are.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::{DateTime, Encode, Tag, TagNumber};

use crate::error::Result;

/// Encodes `content` under `tag`.
pub(crate) fn tlv(tag: Tag, content: &[u8]) -> Result<Vec<u8>> {
    Ok(AnyRef::new(tag, content)?.to_der()?)
}

/// SEQUENCE of already-encoded parts, in order.
pub(crate) fn sequence(parts: &[&[u8]]) -> Result<Vec<u8>> {
    tlv(Tag::Sequence, &parts.concat())
}

/// SET OF already-encoded parts, sorted by encoding as DER (and Go) require.
pub(crate) fn set_of(mut parts: Vec<Vec<u8>>) -> Result<Vec<u8>> {
    parts.sort();
    tlv(Tag::Set, &parts.concat())
}

/// `[n]` context-specific tag around `content`.
pub(crate) fn context(number: u32, constructed: bool, content: &[u8]) -> Result<Vec<u8>> {
    let tag = Tag::ContextSpecific {
        constructed,
        number: TagNumber(number),
    };
    tlv(tag, content)
}

pub(crate) fn oid(oid: &ObjectIdentifier) -> Result<Vec<u8>> {
    Ok(oid.to_der()?)
}

pub(crate) fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub(crate) fn boolean(value: bool) -> Vec<u8> {
    vec![0x01, 0x01, if value { 0xff } else { 0x00 }]
}

/// Non-negative INTEGER from big-endian magnitude bytes.
pub(crate) fn uint(bytes: &[u8]) -> Result<Vec<u8>> {
    Ok(UintRef::new(bytes)?.to_der()?)
}

pub(crate) fn octet_string(bytes: &[u8]) -> Result<Vec<u8>> {
    Ok(OctetStringRef::new(bytes)?.to_der()?)
}

pub(crate) fn bit_string(unused_bits: u8, bytes: &[u8]) -> Result<Vec<u8>> {
    Ok(BitStringRef::new(unused_bits, bytes)?.to_der()?)
}

/// AlgorithmIdentifier with optional already-encoded parameters.
pub(crate) fn algorithm_identifier(
    algorithm: &ObjectIdentifier,
    params: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let oid = oid(algorithm)?;
    match params {
        Some(p) => sequence(&[&oid, p]),
        None => sequence(&[&oid]),
    }
}

/// X.509 Extension: `SEQUENCE { extnID, critical DEFAULT FALSE, extnValue }`.
pub(crate) fn extension(id: &ObjectIdentifier, critical: bool, value: &[u8]) -> Result<Vec<u8>> {
    let id = oid(id)?;
    let value = octet_string(value)?;
    if critical {
        sequence(&[&id, &boolean(true), &value])
    } else {
        sequence(&[&id, &value])
    }
}

/// X.509 Time: UTCTime for 1950..=2049, GeneralizedTime otherwise (RFC 5280
/// 4.1.2.5), truncated to whole seconds like Go.
pub(crate) fn time(t: SystemTime) -> Result<Vec<u8>> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| crate::Error::Encoding("times before 1970 are not supported".into()))?
        .as_secs();
    let dt = DateTime::from_unix_duration(Duration::from_secs(secs))?;
    if dt.year() < 2050 {
        Ok(der::asn1::UtcTime::from_date_time(dt)?.to_der()?)
    } else {
        Ok(der::asn1::GeneralizedTime::from_date_time(dt).to_der()?)
    }
}

/// Reads one TLV from the front of `input`: returns (tag byte, content, rest).
/// Only low tag numbers are supported, which covers everything we inspect.
pub(crate) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, r) = rest.split_at(n);
        rest = r;
        len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_of_sorts_by_encoding() {
        let set = set_of(vec![vec![0x04, 0x01, 0x02], vec![0x04, 0x01, 0x01]]).unwrap();
        assert_eq!(set, [0x31, 0x06, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02]);
    }

    #[test]
    fn time_switches_to_generalized_in_2050() {
        let t = UNIX_EPOCH + Duration::from_secs(2_524_608_000); // 2050-01-01
        assert_eq!(time(t).unwrap()[0], 0x18);
        let t = UNIX_EPOCH + Duration::from_secs(2_524_607_999);
        assert_eq!(time(t).unwrap()[0], 0x17);
    }

    #[test]
    fn read_tlv_handles_long_lengths_and_truncation() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let (tag, content, rest) = read_tlv(&long).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (0x04, 0x80, 0));
        assert!(read_tlv(&long[..10]).is_none());
        assert!(read_tlv(&[]).is_none());
    }
}

//! `literalSubject` parsing: an RFC 4514 distinguished name, read the way cert-manager reads
//! it (go-ldap's `ParseDN`, then attribute type names mapped to OIDs).

/// One `type=value` pair after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeTypeAndValue {
    /// OID of the attribute type; `None` when the type is neither a known short name nor a
    /// dotted OID.
    pub oid: Option<Vec<i64>>,
    pub value: String,
}

/// Object identifier of commonName.
pub(crate) const OID_COMMON_NAME: [i64; 4] = [2, 5, 4, 3];

/// Parses a literal subject into RDNs in ASN.1 order (the reverse of the string order).
pub(crate) fn parse_literal_subject(
    subject: &str,
) -> Result<Vec<Vec<AttributeTypeAndValue>>, String> {
    let dn = parse_dn(subject)?;
    Ok(dn
        .into_iter()
        .rev()
        .map(|rdn| {
            rdn.into_iter()
                .map(|(attr_type, value)| AttributeTypeAndValue {
                    oid: attribute_type_oid(&attr_type),
                    value,
                })
                .collect()
        })
        .collect())
}

/// The short names cert-manager knows (exact case), else a dotted OID.
fn attribute_type_oid(t: &str) -> Option<Vec<i64>> {
    let known: &[i64] = match t {
        "C" => &[2, 5, 4, 6],
        "O" => &[2, 5, 4, 10],
        "OU" => &[2, 5, 4, 11],
        "CN" => &OID_COMMON_NAME,
        "SERIALNUMBER" => &[2, 5, 4, 5],
        "L" => &[2, 5, 4, 7],
        "ST" => &[2, 5, 4, 8],
        "STREET" => &[2, 5, 4, 9],
        "DC" => &[0, 9, 2342, 19200300, 100, 1, 25],
        "UID" => &[0, 9, 2342, 19200300, 100, 1, 1],
        other => return parse_object_identifier(other).ok(),
    };
    Some(known.to_vec())
}

/// cert-manager's `ParseObjectIdentifier`: dot-separated integers (Go `strconv.Atoi`, so an
/// optional sign is accepted).
pub(crate) fn parse_object_identifier(s: &str) -> Result<Vec<i64>, String> {
    if s.is_empty() {
        return Err("zero length OBJECT IDENTIFIER".into());
    }
    s.split('.').map(go_atoi).collect()
}

/// Go's `strconv.Atoi`, returning Go's error text.
pub(crate) fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            crate::field::go_quote(s)
        ));
    }
    s.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            crate::field::go_quote(s)
        )
    })
}

/// go-ldap v3.4 `ParseDN`: RDNs in string order, each a list of (type, value).
fn parse_dn(s: &str) -> Result<Vec<Vec<(String, String)>>, String> {
    let mut dn = Vec::new();
    if s.trim().is_empty() {
        return Ok(dn);
    }
    let bytes = s.as_bytes();
    let mut rdn = Vec::new();
    let mut attr_type = String::new();
    let mut escaping = false;
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if escaping {
            escaping = false;
        } else if c == b'\\' {
            escaping = true;
        } else if c == b'=' && attr_type.is_empty() {
            attr_type = decode_string(&s[start..i])?;
            start = i + 1;
        } else if matches!(c, b',' | b'+' | b';') {
            if attr_type.is_empty() {
                return Err("incomplete type, value pair".into());
            }
            let value = decode_value(&s[start..i])?;
            rdn.push((std::mem::take(&mut attr_type), value));
            start = i + 1;
            if c != b'+' {
                dn.push(std::mem::take(&mut rdn));
            }
        }
    }
    if attr_type.is_empty() {
        return Err("DN ended with incomplete type, value pair".into());
    }
    let value = decode_value(&s[start..])?;
    rdn.push((attr_type, value));
    dn.push(rdn);
    Ok(dn)
}

fn decode_value(s: &str) -> Result<String, String> {
    match s.strip_prefix('#') {
        Some(hex) => decode_ber_hex(hex),
        None => decode_string(s),
    }
}

/// Trims spaces, keeping an escaped trailing space, and resolves `\x` and `\hh` escapes.
fn decode_string(raw: &str) -> Result<String, String> {
    let mut trimmed = raw.trim_matches(' ').to_owned();
    if trimmed.ends_with('\\') && raw.ends_with(' ') {
        trimmed.push(' ');
    }
    let chars: Vec<char> = trimmed.chars().collect();
    let mut out: Vec<u8> = Vec::with_capacity(trimmed.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        let Some(&next) = chars.get(i + 1) else {
            return Err(format!("got corrupted escaped character: '{trimmed}'"));
        };
        if matches!(
            next,
            ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\'
        ) {
            let mut buf = [0u8; 4];
            out.extend_from_slice(next.encode_utf8(&mut buf).as_bytes());
            i += 2;
            continue;
        }
        if i + 2 >= chars.len() {
            return Err(format!(
                "failed to decode escaped character: encoding/hex: invalid byte: {next}"
            ));
        }
        let pair: String = chars[i + 1..i + 3].iter().collect();
        if pair.len() != 2 {
            return Err(format!(
                "failed to decode escaped character: invalid byte: {pair}"
            ));
        }
        let byte = hex_byte(pair.as_bytes())
            .map_err(|e| format!("failed to decode escaped character: {e}"))?;
        out.push(byte);
        i += 3;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex_nibble(c: u8) -> Result<u8, String> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!(
            "encoding/hex: invalid byte: U+{:04X} {}",
            c,
            quote_byte(c)
        )),
    }
}

fn quote_byte(c: u8) -> String {
    if c.is_ascii_graphic() || c == b' ' {
        format!("'{}'", c as char)
    } else {
        format!("'\\x{c:02x}'")
    }
}

fn hex_byte(pair: &[u8]) -> Result<u8, String> {
    Ok(hex_nibble(pair[0])? << 4 | hex_nibble(pair[1])?)
}

/// A `#hex` value: hex-encoded BER; the value is the element's content as text.
fn decode_ber_hex(hex: &str) -> Result<String, String> {
    let wrap = |e: String| format!("failed to decode BER encoding: {e}");
    let bytes = hex.as_bytes();
    if bytes.len() % 2 == 1 {
        return Err(wrap("encoding/hex: odd length hex string".into()));
    }
    let der: Vec<u8> = bytes
        .chunks(2)
        .map(hex_byte)
        .collect::<Result<_, _>>()
        .map_err(wrap)?;
    // Identifier octet, then a short or long form length.
    let truncated = || wrap("unexpected EOF".into());
    let (&len0, rest) = der
        .get(1..)
        .and_then(|r| r.split_first())
        .ok_or_else(truncated)?;
    let (len, content) = if len0 & 0x80 == 0 {
        (usize::from(len0), rest)
    } else {
        let n = usize::from(len0 & 0x7f);
        let (len_bytes, content) = (rest.get(..n).ok_or_else(truncated)?, &rest[n..]);
        let len = len_bytes.iter().fold(0usize, |acc, &b| {
            acc.saturating_mul(256).saturating_add(usize::from(b))
        });
        (len, content)
    };
    let content = content.get(..len).ok_or_else(truncated)?;
    Ok(String::from_utf8_lossy(content).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types_and_values(s: &str) -> Vec<Vec<(Option<Vec<i64>>, String)>> {
        parse_literal_subject(s)
            .unwrap()
            .into_iter()
            .map(|rdn| rdn.into_iter().map(|a| (a.oid, a.value)).collect())
            .collect()
    }

    #[test]
    fn parses_in_asn1_order() {
        let rdns = types_and_values("CN=foo,O=Example\\, Inc.+OU=ops,DC=example,DC=com");
        assert_eq!(rdns.len(), 4);
        assert_eq!(
            rdns[3],
            vec![(Some(OID_COMMON_NAME.to_vec()), "foo".to_owned())]
        );
        assert_eq!(rdns[2][0].1, "Example, Inc.");
        assert_eq!(rdns[2][1], (Some(vec![2, 5, 4, 11]), "ops".to_owned()));
    }

    #[test]
    fn unknown_types_have_no_oid() {
        let rdns = types_and_values("cn=lower,1.2.3=x");
        assert_eq!(rdns[1][0].0, None);
        assert_eq!(rdns[0][0].0, Some(vec![1, 2, 3]));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_dn("CN").unwrap_err(),
            "DN ended with incomplete type, value pair"
        );
        assert_eq!(
            parse_dn("foo,CN=x").unwrap_err(),
            "incomplete type, value pair"
        );
        assert_eq!(
            parse_dn("CN=\\").unwrap_err(),
            "got corrupted escaped character: '\\'"
        );
        assert!(
            parse_dn("CN=\\zz")
                .unwrap_err()
                .starts_with("failed to decode escaped character")
        );
        assert_eq!(
            types_and_values("CN=\\41b"),
            vec![vec![(Some(OID_COMMON_NAME.to_vec()), "Ab".to_owned())]]
        );
        assert_eq!(types_and_values("CN=#0c03616263")[0][0].1, "abc");
    }
}

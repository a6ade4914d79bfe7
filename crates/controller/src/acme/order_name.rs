//! Order names exactly as cert-manager gives them, so that an Order cert-manager created
//! before a takeover is found under the same name (and no second ACME order is placed).
//!
//! cert-manager names the Order of a CertificateRequest `<request>-<hash>`: the FNV-1
//! (32-bit) hash of Go's `json.Marshal` of the Order spec with `request` set to nil, wrapped
//! as `{"certificateRequestName":…,"spec":…}` when the request's name has 52 bytes or more,
//! and the request name shortened to at most 52 bytes ending on an alphanumeric. The JSON is
//! written here byte for byte as Go's encoder does (struct field order, `omitempty`, `null`
//! for the nil CSR, HTML-safe string escaping, durations as `Duration.String()`), rather than
//! with serde, whose output differs in exactly those points.
//!
//! The golden values in the tests come from `testdata/order_names.go`, run with Go.

use std::fmt::Write as _;
use std::net::IpAddr;

use api::{GoDuration, OrderSpec};

/// Request names this long are part of the hashed object (cert-manager's rule).
const LONG_NAME: usize = 52;
/// The name prefix is cut to this many bytes: with `-` and a u32 in decimal, 63 at most.
const MAX_PREFIX: usize = 52;

/// cert-manager's name for the Order of the CertificateRequest `cr_name` with `spec`.
pub fn order_name(cr_name: &str, spec: &OrderSpec) -> String {
    let spec_json = hashed_spec_json(spec);
    let hashed = if cr_name.len() >= LONG_NAME {
        // Long names are truncated: the request name keeps their hashes apart.
        let mut out = String::from("{\"certificateRequestName\":");
        push_string(&mut out, cr_name);
        out.push_str(",\"spec\":");
        out.push_str(&spec_json);
        out.push('}');
        out
    } else {
        spec_json
    };
    compute_name(cr_name, hashed.as_bytes())
}

/// cert-manager's `ComputeName` over already encoded bytes: the prefix shortened to 52
/// bytes, `-`, and the 32-bit FNV-1 hash in decimal.
pub fn compute_name(prefix: &str, hashed: &[u8]) -> String {
    format!(
        "{}-{}",
        shorten_dns_safe(prefix, MAX_PREFIX),
        fnv1_32(hashed)
    )
}

/// Go's `net.IP.String()` for an address as `x509` parses it: IPv4 (also IPv4-mapped IPv6)
/// dotted, IPv6 lower-case hex with the first longest run of two or more zero groups as `::`.
pub fn go_ip_string(ip: &IpAddr) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => return v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => return v4.to_string(),
            None => v6.segments(),
        },
    };
    let (mut zero_start, mut zero_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        let run = v6[i..].iter().take_while(|g| **g == 0).count();
        if run >= 2 && run > zero_len {
            (zero_start, zero_len) = (i, run);
        }
        i += run.max(1);
    }
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if i == zero_start {
            out.push_str("::");
            i += zero_len;
            continue;
        }
        if i > 0 && !out.ends_with(':') {
            out.push(':');
        }
        let _ = write!(out, "{:x}", v6[i]);
        i += 1;
    }
    out
}

/// Go's JSON of cert-manager's `OrderSpec` with `Request` nil, fields in the Go struct's
/// order: `request` (no omitempty: `null`), `issuerRef` (name, kind and group omitempty),
/// then commonName, dnsNames, ipAddresses, duration, profile, replaces, all omitempty.
fn hashed_spec_json(spec: &OrderSpec) -> String {
    let mut out = String::from("{\"request\":null,\"issuerRef\":{\"name\":");
    let issuer = &spec.issuer_ref;
    push_string(&mut out, &issuer.name);
    push_field(&mut out, "kind", issuer.kind.as_deref());
    push_field(&mut out, "group", issuer.group.as_deref());
    out.push('}');
    push_field(&mut out, "commonName", spec.common_name.as_deref());
    push_list(&mut out, "dnsNames", spec.dns_names.as_deref());
    push_list(&mut out, "ipAddresses", spec.ip_addresses.as_deref());
    let duration = spec.duration.as_ref().map(|d| {
        // metav1.Duration marshals as Go's `Duration.String()`. A value Go cannot parse
        // never reaches cert-manager (the object does not decode); keep the text then.
        d.parse()
            .map(|d: GoDuration| d.to_string())
            .unwrap_or_else(|_| d.as_str().to_owned())
    });
    // A set duration is never omitted (omitempty on a non-nil pointer).
    if let Some(d) = duration {
        out.push_str(",\"duration\":");
        push_string(&mut out, &d);
    }
    push_field(&mut out, "profile", spec.profile.as_deref());
    push_field(&mut out, "replaces", spec.replaces.as_deref());
    out.push('}');
    out
}

/// `,"key":"value"` unless the value is empty (`omitempty` on a string).
fn push_field(out: &mut String, key: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        let _ = write!(out, ",\"{key}\":");
        push_string(out, v);
    }
}

/// `,"key":[...]` unless the list is empty (`omitempty` on a slice).
fn push_list(out: &mut String, key: &str, values: Option<&[String]>) {
    let Some(values) = values.filter(|v| !v.is_empty()) else {
        return;
    };
    let _ = write!(out, ",\"{key}\":[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(out, v);
    }
    out.push(']');
}

/// A JSON string as Go's `encoding/json` writes it (HTML escaping on): `<`, `>`, `&`, other
/// control characters and U+2028/U+2029 as `\u00XX`/`\u20XX` in lower-case hex, and
/// the short escapes `\" \\ \b \f \n \r \t`; DEL and all other characters as they are.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `hash/fnv` `New32` (FNV-1, not FNV-1a: multiply, then xor).
fn fnv1_32(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, b| {
        h.wrapping_mul(0x0100_0193) ^ u32::from(*b)
    })
}

/// cert-manager's `DNSSafeShortenToNCharacters`: unchanged when shorter than `max` bytes,
/// else cut after the last ASCII alphanumeric within the first `max` bytes.
fn shorten_dns_safe(s: &str, max: usize) -> &str {
    if s.len() < max {
        return s;
    }
    // Byte-wise as Go; the cut is after an ASCII byte, so always on a char boundary.
    match s.as_bytes()[..max]
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
    {
        Some(i) => &s[..=i],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use api::meta::IssuerReference;

    use super::*;

    /// Output of `go run testdata/order_names.go` (go1.26): case, hashed JSON, Order name.
    const GOLDEN: &[(&str, &str, &str)] = &[
        (
            "minimal",
            "{\"request\":null,\"issuerRef\":{\"name\":\"letsencrypt\"},\"commonName\":\"a.example.com\",\"dnsNames\":[\"a.example.com\"]}",
            "web-1-3791854520",
        ),
        (
            "all-fields",
            "{\"request\":null,\"issuerRef\":{\"name\":\"le\",\"kind\":\"ClusterIssuer\",\"group\":\"cert-manager.io\"},\"dnsNames\":[\"b.example.com\",\"a.example.com\"],\"ipAddresses\":[\"192.0.2.1\",\"198.51.100.7\",\"2001:db8::1:0:0:1\",\"::1\"],\"duration\":\"2160h0m0s\",\"profile\":\"shortlived\",\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}",
            "web-2-3666665312",
        ),
        (
            "ip-only",
            "{\"request\":null,\"issuerRef\":{\"name\":\"x\",\"kind\":\"Issuer\"},\"ipAddresses\":[\"10.0.0.1\"],\"duration\":\"1h30m0s\"}",
            "ip-only-1743586846",
        ),
        (
            "escaping",
            "{\"request\":null,\"issuerRef\":{\"name\":\"a\\u0026b\"},\"commonName\":\"x\\u003cy\\u003e\\u0026z.example\",\"dnsNames\":[\"x\\u003cy\\u003e\\u0026z.example\",\"tab\\there\\\"q\\\"\\\\\",\"é.example\",\"line\\u2028sep\\u2029\",\"ctl\\u0001\x7f\\b\\f\\r\\n\"],\"duration\":\"1.5s\"}",
            "esc-2097803083",
        ),
        (
            "micro",
            "{\"request\":null,\"issuerRef\":{\"name\":\"le\"},\"dnsNames\":[\"m.example\"],\"duration\":\"2µs\"}",
            "micro-897591669",
        ),
        (
            "len-51",
            "{\"request\":null,\"issuerRef\":{\"name\":\"le\"},\"dnsNames\":[\"l.example\"]}",
            "a23456789-123456789-123456789-123456789-123456789-1-3581136104",
        ),
        (
            "len-52",
            "{\"certificateRequestName\":\"a23456789-123456789-123456789-123456789-123456789-12\",\"spec\":{\"request\":null,\"issuerRef\":{\"name\":\"le\"},\"dnsNames\":[\"l.example\"]}}",
            "a23456789-123456789-123456789-123456789-123456789-12-1540815477",
        ),
        (
            "long-cut",
            "{\"certificateRequestName\":\"a-very-long-certificate-request-name-for-the-examp.-le-com-1\",\"spec\":{\"request\":null,\"issuerRef\":{\"name\":\"le\"},\"dnsNames\":[\"l.example\"]}}",
            "a-very-long-certificate-request-name-for-the-examp-4241456719",
        ),
        (
            "csr",
            "{\"request\":null,\"issuerRef\":{\"name\":\"le\",\"kind\":\"ClusterIssuer\",\"group\":\"cert-manager.io\"},\"commonName\":\"b.example.com\",\"dnsNames\":[\"b.example.com\",\"a.example.com\"],\"ipAddresses\":[\"192.0.2.10\",\"198.51.100.7\",\"2001:db8::1:0:0:1\"],\"duration\":\"2160h0m0s\"}",
            "from-csr-1-1119309572",
        ),
    ];

    fn golden(id: &str) -> (&'static str, &'static str) {
        let (_, json, name) = GOLDEN.iter().find(|g| g.0 == id).expect("golden case");
        (json, name)
    }

    fn issuer(name: &str, kind: Option<&str>, group: Option<&str>) -> IssuerReference {
        IssuerReference {
            name: name.into(),
            kind: kind.map(Into::into),
            group: group.map(Into::into),
        }
    }

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    fn ips(v: &[IpAddr]) -> Option<Vec<String>> {
        Some(v.iter().map(go_ip_string).collect())
    }

    fn spec(issuer_ref: IssuerReference) -> OrderSpec {
        OrderSpec {
            // Not part of the name.
            request: k8s_openapi::ByteString(b"ignored".to_vec()),
            issuer_ref,
            common_name: None,
            dns_names: None,
            ip_addresses: None,
            duration: None,
            profile: None,
            replaces: None,
        }
    }

    /// The same inputs as the Go program's cases (all but `csr`, which runs through the
    /// CertificateRequest path in `certificaterequests::acme`).
    fn cases() -> Vec<(&'static str, &'static str, OrderSpec)> {
        let le = || issuer("le", None, None);
        let mapped = IpAddr::V6(Ipv4Addr::new(198, 51, 100, 7).to_ipv6_mapped());
        let v6: IpAddr = "2001:db8:0:0:1:0:0:1".parse().unwrap();
        vec![
            ("minimal", "web-1", {
                let mut s = spec(issuer("letsencrypt", None, Some("")));
                s.common_name = Some("a.example.com".into());
                s.dns_names = strings(&["a.example.com"]);
                s
            }),
            ("all-fields", "web-2", {
                let mut s = spec(issuer("le", Some("ClusterIssuer"), Some("cert-manager.io")));
                s.dns_names = strings(&["b.example.com", "a.example.com"]);
                s.ip_addresses = ips(&[
                    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                    mapped,
                    v6,
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                ]);
                s.duration = Some(api::Duration::new("2160h"));
                s.profile = Some("shortlived".into());
                s.replaces = Some("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".into());
                s
            }),
            ("ip-only", "ip-only", {
                let mut s = spec(issuer("x", Some("Issuer"), None));
                s.ip_addresses = ips(&[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
                s.dns_names = Some(Vec::new());
                s.common_name = Some(String::new());
                s.duration = Some(api::Duration::new("90m"));
                s
            }),
            ("escaping", "esc", {
                let mut s = spec(issuer("a&b", None, None));
                s.common_name = Some("x<y>&z.example".into());
                s.dns_names = strings(&[
                    "x<y>&z.example",
                    "tab\there\"q\"\\",
                    "\u{e9}.example",
                    "line\u{2028}sep\u{2029}",
                    "ctl\u{1}\u{7f}\u{8}\u{c}\r\n",
                ]);
                s.duration = Some(api::Duration::new("1500ms"));
                s
            }),
            ("micro", "micro", {
                let mut s = spec(le());
                s.dns_names = strings(&["m.example"]);
                s.duration = Some(api::Duration::new("2us"));
                s
            }),
            (
                "len-51",
                "a23456789-123456789-123456789-123456789-123456789-1",
                {
                    let mut s = spec(le());
                    s.dns_names = strings(&["l.example"]);
                    s
                },
            ),
            (
                "len-52",
                "a23456789-123456789-123456789-123456789-123456789-12",
                {
                    let mut s = spec(le());
                    s.dns_names = strings(&["l.example"]);
                    s
                },
            ),
            (
                "long-cut",
                "a-very-long-certificate-request-name-for-the-examp.-le-com-1",
                {
                    let mut s = spec(le());
                    s.dns_names = strings(&["l.example"]);
                    s
                },
            ),
        ]
    }

    #[test]
    fn names_and_hashed_json_match_go() {
        for (id, cr_name, spec) in cases() {
            let (json, name) = golden(id);
            if cr_name.len() < LONG_NAME {
                assert_eq!(hashed_spec_json(&spec), json, "JSON of case {id}");
            } else {
                assert!(json.contains(&hashed_spec_json(&spec)), "JSON of case {id}");
            }
            assert_eq!(compute_name(cr_name, json.as_bytes()), name, "case {id}");
            assert_eq!(order_name(cr_name, &spec), name, "case {id}");
        }
    }

    /// The whole path from a CertificateRequest: the CSR of the Go program parsed by `pki`
    /// (last CN, SAN order, a 16-byte IPv4-mapped address) and the duration feature.
    #[test]
    fn order_of_a_request_is_named_as_by_cert_manager() {
        let pem = include_str!("testdata/order_name.csr.pem");
        let cr: api::CertificateRequest = serde_json::from_value(serde_json::json!({
            "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": {"name": "from-csr-1", "namespace": "ns", "uid": "u1"},
            "spec": {
                "issuerRef": {"name": "le", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                "duration": "2160h",
                "request": k8s_openapi::ByteString(pem.as_bytes().to_vec()),
            },
        }))
        .unwrap();
        let csr = pki::ParsedCsr::from_pem(pem.as_bytes()).unwrap();
        let order = crate::certificaterequests::acme::build_order(&cr, &csr, true, None);
        let (json, name) = golden("csr");
        assert_eq!(hashed_spec_json(&order.spec), json);
        assert_eq!(order.metadata.name.as_deref(), Some(name));
        assert_eq!(
            order.spec.duration.as_ref().map(api::Duration::as_str),
            Some("2160h0m0s"),
            "the duration as Go writes it"
        );
        assert_eq!(order.spec.request.0, pem.as_bytes(), "the CSR is kept");
        // Without the duration feature the duration is neither sent nor hashed.
        let without = crate::certificaterequests::acme::build_order(&cr, &csr, false, None);
        assert_eq!(without.spec.duration, None);
        assert_ne!(without.metadata.name, order.metadata.name);
    }

    #[test]
    fn fnv1_matches_go() {
        // Go: fnv.New32() of "" and "a" (FNV-1a would give 0xe40c292c for "a").
        assert_eq!(fnv1_32(b""), 2_166_136_261);
        assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
    }

    #[test]
    fn names_are_shortened_on_alphanumerics() {
        assert_eq!(shorten_dns_safe("abc", 52), "abc");
        let long = format!("{}--x", "a".repeat(51));
        assert_eq!(shorten_dns_safe(&long, 52), "a".repeat(51));
        assert_eq!(shorten_dns_safe(&"-".repeat(60), 52), "");
        // Multi-byte text is cut byte-wise as Go does, never inside a character.
        let wide = format!("{}é{}", "a".repeat(51), "b".repeat(10));
        assert_eq!(shorten_dns_safe(&wide, 52), "a".repeat(51));
    }

    #[test]
    fn ip_strings_are_gos() {
        let s = |t: &str| go_ip_string(&t.parse().unwrap());
        assert_eq!(s("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(s("::"), "::");
        assert_eq!(s("::1"), "::1");
        assert_eq!(s("1::"), "1::");
        assert_eq!(s("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
        assert_eq!(s("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
        assert_eq!(s("2001:db8:1:1:1:1:0:1"), "2001:db8:1:1:1:1:0:1");
        assert_eq!(s("::192.0.2.1"), "::c000:201");
    }
}

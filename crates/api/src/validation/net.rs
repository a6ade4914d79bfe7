//! IP addresses and host:port strings, parsed with Go's rules.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Go's `net.ParseIP(s) != nil`: dotted-quad IPv4 without leading zeros, or IPv6 (possibly
/// with an embedded IPv4 tail); no zones.
pub(crate) fn is_ip(s: &str) -> bool {
    if s.contains('%') {
        return false;
    }
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().is_ok();
    }
    // Rust's parser already rejects leading zeros, like Go's since 1.17; check anyway so the
    // behaviour does not depend on that.
    s.parse::<Ipv4Addr>().is_ok()
        && s.split('.')
            .all(|octet| octet == "0" || !octet.starts_with('0'))
}

/// Go's `net.SplitHostPort`.
pub(crate) fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let addr_err = |why: &str| Err(format!("address {hostport}: {why}"));
    let Some(i) = hostport.rfind(':') else {
        return addr_err("missing port in address");
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return addr_err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return addr_err("missing port in address");
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return addr_err("too many colons in address");
            }
            return addr_err("missing port in address");
        }
        host = &hostport[1..end];
        (j, k) = (1, end + 1);
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return addr_err("too many colons in address");
        }
        (j, k) = (0, 0);
    }
    if hostport[j..].contains('[') {
        return addr_err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return addr_err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

/// cert-manager's RFC 2136 nameserver check (`ValidNameserver`): `host[:port]`, IPv6 hosts in
/// brackets, port 53 when missing. Returns the normalised `host:port`.
pub(crate) fn valid_nameserver(nameserver: &str) -> Result<String, String> {
    let nameserver = nameserver.trim();
    if nameserver.is_empty() {
        return Err("RFC2136 nameserver missing".into());
    }
    let (host, port) = match split_host_port(nameserver) {
        Ok((h, p)) => (h.to_owned(), p.to_owned()),
        Err(e) if e.contains("missing port") => (
            nameserver.trim_matches(['[', ']']).to_owned(),
            String::new(),
        ),
        Err(e) => return Err(format!("RFC2136 nameserver is invalid: {e}")),
    };
    if host.is_empty() {
        return Err(format!(
            "RFC2136 nameserver has no host defined, {nameserver}"
        ));
    }
    let port = if port.is_empty() {
        "53".to_owned()
    } else {
        port
    };
    if host.contains(':') {
        Ok(format!("[{host}]:{port}"))
    } else {
        Ok(format!("{host}:{port}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips() {
        for ok in [
            "1.2.3.4",
            "0.0.0.0",
            "::1",
            "2001:db8::1",
            "::ffff:192.0.2.1",
        ] {
            assert!(is_ip(ok), "{ok}");
        }
        for bad in [
            "",
            "1.2.3",
            "01.2.3.4",
            "1.2.3.256",
            "fe80::1%eth0",
            "example.com",
            "1.2.3.4 ",
        ] {
            assert!(!is_ip(bad), "{bad}");
        }
    }

    #[test]
    fn nameservers() {
        let ok = [
            ("8.8.8.8", "8.8.8.8:53"),
            ("8.8.8.8:", "8.8.8.8:53"),
            ("8.8.8.8:5353", "8.8.8.8:5353"),
            ("[2001:db8::1]", "[2001:db8::1]:53"),
            ("[2001:db8::1]:53", "[2001:db8::1]:53"),
            ("ns.example.com", "ns.example.com:53"),
            (" ns.example.com:53 ", "ns.example.com:53"),
        ];
        for (input, want) in ok {
            assert_eq!(valid_nameserver(input).as_deref(), Ok(want), "{input}");
        }
        for bad in ["", ":53", "2001:db8::1", "[2001:db8::1", "a:b:c"] {
            assert!(valid_nameserver(bad).is_err(), "{bad}");
        }
    }
}

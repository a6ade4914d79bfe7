//! Nameserver addresses: the RFC 2136 `nameserver` field (`host[:port]`, port 53 by
//! default, as cert-manager's `ValidNameserver`), the `--dns01-recursive-nameservers` flag
//! (`<ip>:<port>`), and the system resolvers of /etc/resolv.conf.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// Where upstream falls back to when /etc/resolv.conf has no nameserver.
pub const FALLBACK_NAMESERVERS: [SocketAddr; 2] = [
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::new(8, 8, 8, 8)), DNS_PORT),
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::new(8, 8, 4, 4)), DNS_PORT),
];

/// A parsed `host[:port]`: the host is an IP address or a host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// IP address (without brackets) or host name.
    pub host: String,
    /// The port (53 when none was given).
    pub port: u16,
}

impl HostPort {
    /// The address if the host is an IP address.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, self.port))
    }

    /// The address: the IP address as is, a host name through the system resolver (the first
    /// address it returns, as Go's dialer tries first).
    pub async fn resolve(&self, timeout: Duration) -> Result<SocketAddr, String> {
        if let Some(addr) = self.socket_addr() {
            return Ok(addr);
        }
        let lookup = tokio::net::lookup_host((self.host.as_str(), self.port));
        match tokio::time::timeout(timeout, lookup).await {
            Err(_) => Err(format!(
                "resolving host {:?}: no answer within {timeout:?}",
                self.host
            )),
            Ok(Err(e)) => Err(format!("resolving host {:?}: {e}", self.host)),
            Ok(Ok(mut addrs)) => addrs
                .next()
                .ok_or_else(|| format!("resolving host {:?}: no addresses", self.host)),
        }
    }
}

/// Parses the RFC 2136 `nameserver` field like cert-manager: surrounding space trimmed,
/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; an empty port means 53.
pub fn parse_nameserver(nameserver: &str) -> Result<HostPort, String> {
    let s = nameserver.trim();
    if s.is_empty() {
        return Err("RFC2136 nameserver missing".into());
    }
    let (host, port) = split_host_port(s)?;
    if host.is_empty() {
        return Err(format!("RFC2136 nameserver has no host defined, {s}"));
    }
    if host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(format!("RFC2136 nameserver is invalid: bad host {host:?}"));
    }
    let port = match port {
        None | Some("") => DNS_PORT,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("RFC2136 nameserver is invalid: bad port {p:?}"))?,
    };
    Ok(HostPort {
        host: host.to_owned(),
        port,
    })
}

/// Splits `host[:port]`; `None` port when there is none. IPv6 needs brackets with a port.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(format!(
                "RFC2136 nameserver is invalid: missing ']' in {s:?}"
            ));
        };
        let host = &rest[..end];
        let after = &rest[end + 1..];
        if after.is_empty() {
            return Ok((host, None));
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(format!(
                "RFC2136 nameserver is invalid: unexpected {after:?} after ']'"
            ));
        };
        return Ok((host, Some(port)));
    }
    if s.contains(']') {
        return Err(format!(
            "RFC2136 nameserver is invalid: unexpected ']' in {s:?}"
        ));
    }
    match s.matches(':').count() {
        0 => Ok((s, None)),
        1 => {
            let (h, p) = s.split_once(':').expect("one colon");
            Ok((h, Some(p)))
        }
        // A bare IPv6 address: Go's SplitHostPort says "too many colons", upstream then
        // keeps the whole string as the host.
        _ if s.parse::<std::net::Ipv6Addr>().is_ok() => Ok((s, None)),
        _ => Err(format!(
            "RFC2136 nameserver is invalid: too many colons in {s:?}"
        )),
    }
}

/// Parses one `--dns01-recursive-nameservers` entry: `<ip>:<port>` (`[v6]:port`).
/// DNS-over-HTTPS (`https://...`) entries are not supported by this crate.
pub fn parse_recursive_nameserver(entry: &str) -> Result<SocketAddr, String> {
    let s = entry.trim();
    if s.starts_with("https://") {
        return Err(format!(
            "{s:?}: DNS-over-HTTPS nameservers are not supported yet"
        ));
    }
    s.parse::<SocketAddr>()
        .map_err(|_| format!("{s:?}: must be in the format <ip address>:<port>"))
}

/// The recursive nameservers for DNS-01: the flag's entries when given, else the system's
/// (/etc/resolv.conf), else Google's public resolvers, as upstream.
pub fn recursive_nameservers(flag: &[String]) -> Result<Vec<SocketAddr>, String> {
    if flag.is_empty() {
        return Ok(system_nameservers(Path::new("/etc/resolv.conf")));
    }
    flag.iter()
        .enumerate()
        .map(|(i, e)| {
            parse_recursive_nameserver(e)
                .map_err(|m| format!("dns01-recursive-nameservers[{i}]: {m}"))
        })
        .collect()
}

/// The `nameserver` lines of a resolv.conf (port 53), or [`FALLBACK_NAMESERVERS`].
pub fn system_nameservers(resolv_conf: &Path) -> Vec<SocketAddr> {
    let text = std::fs::read_to_string(resolv_conf).unwrap_or_default();
    let found: Vec<SocketAddr> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        // A link-local IPv6 scope (`fe80::1%eth0`) cannot be expressed in SocketAddr's parser.
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .collect();
    if found.is_empty() {
        FALLBACK_NAMESERVERS.to_vec()
    } else {
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (String, u16) {
        let hp = parse_nameserver(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (hp.host, hp.port)
    }

    #[test]
    fn nameserver_forms() {
        assert_eq!(ok("1.2.3.4"), ("1.2.3.4".into(), 53));
        assert_eq!(ok(" 1.2.3.4:5353 "), ("1.2.3.4".into(), 5353));
        assert_eq!(ok("1.2.3.4:"), ("1.2.3.4".into(), 53));
        assert_eq!(ok("[::1]:53"), ("::1".into(), 53));
        assert_eq!(ok("[2001:db8::1]"), ("2001:db8::1".into(), 53));
        assert_eq!(ok("2001:db8::1"), ("2001:db8::1".into(), 53));
        assert_eq!(ok("ns.example.com"), ("ns.example.com".into(), 53));
        assert_eq!(ok("ns.example.com:1053"), ("ns.example.com".into(), 1053));
        assert_eq!(
            parse_nameserver("[::1]:53").unwrap().socket_addr(),
            Some("[::1]:53".parse().unwrap())
        );
        assert_eq!(
            parse_nameserver("ns.example.com").unwrap().socket_addr(),
            None
        );
    }

    #[test]
    fn nameserver_errors() {
        for (bad, want) in [
            ("", "missing"),
            ("   ", "missing"),
            (":53", "no host"),
            ("[]:53", "no host"),
            ("1.2.3.4:99999", "bad port"),
            ("1.2.3.4:x", "bad port"),
            ("[::1", "missing ']'"),
            ("::1]:53", "unexpected ']'"),
            ("[::1]x", "after ']'"),
            ("a:b:c", "too many colons"),
            ("a b:53", "bad host"),
        ] {
            let err = parse_nameserver(bad).unwrap_err();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }

    #[test]
    fn recursive_entries() {
        assert_eq!(
            recursive_nameservers(&["127.0.0.1:53".into(), "[::1]:5353".into()]).unwrap(),
            vec![
                "127.0.0.1:53".parse::<SocketAddr>().unwrap(),
                "[::1]:5353".parse().unwrap()
            ]
        );
        let err = recursive_nameservers(&["1.1.1.1:53".into(), "8.8.8.8".into()]).unwrap_err();
        assert!(err.starts_with("dns01-recursive-nameservers[1]: "), "{err}");
        assert!(err.contains("<ip address>:<port>"), "{err}");
        let err = parse_recursive_nameserver("https://1.1.1.1/dns-query").unwrap_err();
        assert!(err.contains("DNS-over-HTTPS"), "{err}");
    }

    #[test]
    fn resolv_conf() {
        let dir = std::env::temp_dir().join(format!("dns01-resolv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        std::fs::write(
            &path,
            "# comment\nsearch example.com\nnameserver 10.0.0.1\nnameserver ::1\nnameserver fe80::1%eth0\noptions ndots:5\n",
        )
        .unwrap();
        assert_eq!(
            system_nameservers(&path),
            vec![
                "10.0.0.1:53".parse::<SocketAddr>().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
        std::fs::write(&path, "search example.com\n").unwrap();
        assert_eq!(system_nameservers(&path), FALLBACK_NAMESERVERS.to_vec());
        assert_eq!(
            system_nameservers(&dir.join("missing")),
            FALLBACK_NAMESERVERS.to_vec()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

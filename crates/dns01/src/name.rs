//! DNS name helpers: the challenge record name and walking up a name's labels.

use hickory_proto::rr::Name;

use crate::error::{Error, Result};

/// The label ACME puts in front of the domain (RFC 8555 §8.4).
pub const CHALLENGE_LABEL: &str = "_acme-challenge";

/// The record name for a DNS-01 challenge of `domain`: `_acme-challenge.<domain>.`.
/// A leading `*.` (a wildcard identifier) is stripped, as the challenge for `*.example.com`
/// is validated at `_acme-challenge.example.com`; a trailing dot is accepted.
pub fn challenge_record_name(domain: &str) -> Result<String> {
    let trimmed = domain.trim();
    let base = trimmed.strip_prefix("*.").unwrap_or(trimmed);
    let base = base.strip_suffix('.').unwrap_or(base);
    if base.is_empty() || base.starts_with('.') || base.contains("..") || base.contains('*') {
        return Err(Error::invalid_name(
            domain,
            "not a domain name for a DNS-01 challenge",
        ));
    }
    let fqdn = format!("{CHALLENGE_LABEL}.{base}.");
    parse_fqdn(&fqdn)?;
    Ok(fqdn)
}

/// `name` with a trailing dot.
pub fn to_fqdn(name: &str) -> String {
    if name.is_empty() || name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// Parses a fully qualified name (a missing trailing dot is added).
pub(crate) fn parse_fqdn(name: &str) -> Result<Name> {
    if name.is_empty() || name == "." {
        return Err(Error::invalid_name(name, "empty name"));
    }
    let mut parsed =
        Name::from_ascii(to_fqdn(name)).map_err(|e| Error::invalid_name(name, e.to_string()))?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

/// `fqdn` and each of its parents, longest first, without the root:
/// `a.example.com.`, `example.com.`, `com.`.
pub(crate) fn self_and_parents(fqdn: &Name) -> impl Iterator<Item = Name> + '_ {
    (0..fqdn.num_labels()).map(move |skip| fqdn.trim_to((fqdn.num_labels() - skip) as usize))
}

/// Case-insensitive name equality (`Name`'s `==` already ignores case).
pub(crate) fn same_name(a: &Name, b: &Name) -> bool {
    a.eq(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_names() {
        for (domain, want) in [
            ("example.com", "_acme-challenge.example.com."),
            ("www.example.com.", "_acme-challenge.www.example.com."),
            ("*.example.com", "_acme-challenge.example.com."),
            (" a.b.example.com ", "_acme-challenge.a.b.example.com."),
        ] {
            assert_eq!(challenge_record_name(domain).unwrap(), want, "{domain}");
        }
        for bad in ["", "*.", ".", "a..b", "*.*.example.com", "x.*.example.com"] {
            let err = challenge_record_name(bad).unwrap_err();
            assert!(err.to_string().contains("invalid DNS name"), "{bad}: {err}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(challenge_record_name(&long).is_err());
    }

    #[test]
    fn parents() {
        let n = parse_fqdn("_acme-challenge.www.example.com").unwrap();
        let all: Vec<String> = self_and_parents(&n).map(|n| n.to_string()).collect();
        assert_eq!(
            all,
            [
                "_acme-challenge.www.example.com.",
                "www.example.com.",
                "example.com.",
                "com."
            ]
        );
        assert!(parse_fqdn("").is_err());
        assert!(parse_fqdn(".").is_err());
        assert_eq!(to_fqdn("a.b"), "a.b.");
        assert_eq!(to_fqdn("a.b."), "a.b.");
    }
}

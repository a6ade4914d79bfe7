//! ACME DNS-01 solving, the DNS side: the RFC 2136 provider (dynamic updates signed with
//! TSIG), zone discovery by SOA queries, and the propagation self check, with cert-manager's
//! semantics.
//!
//! ```no_run
//! # async fn t(spec: &api::acme::dns01::AcmeIssuerDns01ProviderRfc2136, secret: &[u8]) -> Result<(), dns01::Error> {
//! let provider = dns01::Rfc2136::from_spec(spec, Some(secret)).await?;
//! let fqdn = dns01::challenge_record_name("*.example.com")?; // _acme-challenge.example.com.
//! provider.present(&fqdn, "key-authorization-digest").await?;
//! let check = dns01::SelfCheck::new(dns01::recursive_nameservers(&[]).unwrap(), false);
//! while !check.is_propagated(&fqdn, "key-authorization-digest").await? { /* retry later */ }
//! provider.cleanup(&fqdn, "key-authorization-digest").await?;
//! # Ok(()) }
//! ```
//!
//! Every DNS exchange has a deadline ([`DEFAULT_TIMEOUT`] unless set); errors name the
//! server, the request and the RCODE or TSIG error. TSIG secrets are never logged or printed.

mod error;
mod name;
mod nameserver;
mod query;
mod rfc2136;
mod selfcheck;
mod transport;
mod tsig;

use std::net::SocketAddr;

pub use error::{Error, Result};
pub use name::{CHALLENGE_LABEL, challenge_record_name, to_fqdn};
pub use nameserver::{
    DNS_PORT, FALLBACK_NAMESERVERS, HostPort, parse_nameserver, parse_recursive_nameserver,
    recursive_nameservers, system_nameservers,
};
pub use query::{find_zone_by_fqdn, lookup_ip, lookup_txt};
pub use rfc2136::{Rfc2136, TXT_TTL};
pub use selfcheck::SelfCheck;
pub use transport::{DEFAULT_TIMEOUT, Protocol};
pub use tsig::{Tsig, TsigAlgorithm};

/// The name to put the challenge record at, as upstream's `DNS01LookupFQDN`:
/// `_acme-challenge.<domain>.`, and with `follow_cname` (the solver's `cnameStrategy:
/// Follow`) the end of its CNAME chain according to `nameservers`.
pub async fn challenge_fqdn(
    domain: &str,
    follow_cname: bool,
    nameservers: &[SocketAddr],
) -> Result<String> {
    let fqdn = challenge_record_name(domain)?;
    if !follow_cname {
        return Ok(fqdn);
    }
    let name = name::parse_fqdn(&fqdn)?;
    Ok(query::follow_cnames(&name, nameservers, DEFAULT_TIMEOUT)
        .await?
        .to_string())
}

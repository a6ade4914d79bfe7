//! The DNS-01 self check: has the challenge TXT record propagated, before the ACME server
//! is asked to validate it?
//!
//! As upstream's `CheckTXTRecordPropagation`: the CNAME chain of the record name is followed
//! through the recursive nameservers; then either every recursive nameserver
//! (`--dns01-recursive-nameservers-only`) or every authoritative nameserver of the zone (the
//! default; their names come from the recursive nameservers) must serve the value.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::{Name, RData, RecordType};

use crate::error::{Error, Result};
use crate::name::parse_fqdn;
use crate::nameserver::DNS_PORT;
use crate::query::{authoritative_nameservers, follow_cnames, query, txt_at_all};
use crate::transport::DEFAULT_TIMEOUT;

/// How to check propagation (the controller's `--dns01-recursive-nameservers*` flags).
#[derive(Clone, Debug)]
pub struct SelfCheck {
    /// The resolvers to ask (`--dns01-recursive-nameservers`, else the system's).
    pub recursive_nameservers: Vec<SocketAddr>,
    /// Ask only the recursive nameservers (`--dns01-recursive-nameservers-only`), never the
    /// zone's authoritative ones.
    pub recursive_only: bool,
    /// The port the authoritative nameservers are asked on: 53, as upstream; tests with a
    /// nameserver on another port set it.
    pub authoritative_port: u16,
    /// Deadline of each DNS exchange.
    pub timeout: Duration,
}

impl SelfCheck {
    /// A check through `recursive_nameservers`, authoritative nameservers on port 53.
    pub fn new(recursive_nameservers: Vec<SocketAddr>, recursive_only: bool) -> Self {
        Self {
            recursive_nameservers,
            recursive_only,
            authoritative_port: DNS_PORT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Whether the TXT record `fqdn` = `value` is visible everywhere it must be. `Ok(false)`
    /// means "not yet" (absent, NXDOMAIN); errors are failed lookups.
    pub async fn is_propagated(&self, fqdn: &str, value: &str) -> Result<bool> {
        let name = parse_fqdn(fqdn)?;
        let name = follow_cnames(&name, &self.recursive_nameservers, self.timeout).await?;
        if self.recursive_only {
            return txt_at_all(&name, value, &self.recursive_nameservers, self.timeout).await;
        }
        let servers = self.authoritative_servers(&name).await?;
        txt_at_all(&name, value, &servers, self.timeout).await
    }

    /// The addresses of the authoritative nameservers of the zone of `fqdn`.
    pub async fn authoritative_addresses(&self, fqdn: &str) -> Result<Vec<SocketAddr>> {
        self.authoritative_servers(&parse_fqdn(fqdn)?).await
    }

    async fn authoritative_servers(&self, fqdn: &Name) -> Result<Vec<SocketAddr>> {
        let names =
            authoritative_nameservers(fqdn, &self.recursive_nameservers, self.timeout).await?;
        let mut servers = Vec::new();
        for ns in &names {
            let addrs = self.resolve_host(ns).await;
            if addrs.is_empty() {
                return Err(Error::NoAuthoritativeNameservers {
                    fqdn: fqdn.to_string(),
                    message: format!("nameserver {ns} has no address"),
                });
            }
            // One address per name, as a dialer would use: the first.
            servers.push(SocketAddr::new(addrs[0], self.authoritative_port));
        }
        tracing::debug!(%fqdn, ?servers, "authoritative nameservers");
        Ok(servers)
    }

    /// A nameserver's addresses: A and AAAA through the recursive nameservers, else the
    /// system resolver (which upstream's dialer uses).
    async fn resolve_host(&self, host: &Name) -> Vec<IpAddr> {
        let mut addrs = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            match query(host, rtype, &self.recursive_nameservers, self.timeout).await {
                Ok((_, resp)) => addrs.extend(resp.answers.iter().filter_map(|r| match &r.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })),
                Err(e) => tracing::debug!(%host, error = %e, "address lookup failed"),
            }
        }
        if addrs.is_empty() {
            let host = host.to_ascii();
            let lookup = tokio::net::lookup_host((host.trim_end_matches('.'), DNS_PORT));
            if let Ok(Ok(found)) = tokio::time::timeout(self.timeout, lookup).await {
                addrs.extend(found.map(|a| a.ip()));
            }
        }
        addrs
    }
}

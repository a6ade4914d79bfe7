//! Address lookups through `--acme-http01-solver-nameservers` (for clusters whose own DNS
//! does not see the public records), with the workspace's one DNS client (crate `dns01`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Per query and server, as upstream's resolver dialer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// The nameservers of `--acme-http01-solver-nameservers`, tried in order.
pub struct Resolver {
    servers: Vec<SocketAddr>,
}

impl Resolver {
    pub fn new(servers: Vec<SocketAddr>) -> Self {
        Self { servers }
    }

    /// IPv4 then IPv6 addresses of `host`; an error when it has none or no server answers.
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        match dns01::lookup_ip(host, &self.servers, QUERY_TIMEOUT).await {
            Ok(addresses) if !addresses.is_empty() => Ok(addresses),
            Ok(_) => Err(format!("lookup {host}: no such host")),
            Err(e) => Err(format!("lookup {host}: {e}")),
        }
    }
}

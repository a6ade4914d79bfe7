//! DNS lookups as cert-manager's DNS-01 code does them: one query type to a list of
//! nameservers (first that answers wins), the zone apex by walking up SOA queries, CNAME
//! chains, a zone's NS names, and the TXT check at a list of servers.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use crate::error::{Error, Result};
use crate::name::{parse_fqdn, same_name, self_and_parents};
use crate::transport::{Exchange, Protocol, rcode_name};

/// The EDNS payload size upstream advertises.
const EDNS_PAYLOAD: u16 = 4096;

/// Longest CNAME chain followed; longer ones are treated like loops.
const MAX_CNAME_CHAIN: usize = 16;

/// A recursive (RD) query for `name`/`rtype`, asked of each nameserver in turn until one
/// answers; that server and its response are returned whatever the RCODE. UDP first, TCP when the answer is
/// truncated or does not come.
pub(crate) async fn query(
    name: &Name,
    rtype: RecordType,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<(SocketAddr, Message)> {
    let mut request = Message::query();
    request.add_query(Query::query(name.clone(), rtype));
    request.metadata.recursion_desired = true;
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    request.edns = Some(edns);
    let what = format!("{rtype} query for {name}");
    let mut last = None;
    for &server in nameservers {
        let exchange = Exchange {
            what: &what,
            server,
            timeout,
            protocol: Protocol::Udp,
            tcp_fallback: true,
        };
        match exchange.run(&request, None).await {
            Ok(resp) => return Ok((server, resp)),
            Err(e) => {
                tracing::debug!(error = %e, "DNS query failed, trying the next nameserver");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::NoNameservers(name.to_string())))
}

/// The zone apex of `fqdn`: the first of `fqdn` and its parents whose SOA query returns an
/// SOA record in the answer (NXDOMAIN or a CNAME means: go up). Each nameserver is tried in
/// turn; the last error is returned when none succeeds.
pub async fn find_zone_by_fqdn(fqdn: &str, nameservers: &[SocketAddr]) -> Result<String> {
    find_zone(fqdn, nameservers, crate::DEFAULT_TIMEOUT).await
}

pub(crate) async fn find_zone(
    fqdn: &str,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<String> {
    let name = parse_fqdn(fqdn)?;
    let mut last = None;
    for &server in nameservers {
        match find_zone_at(&name, server, nameservers, timeout).await {
            Ok(zone) => return Ok(zone.to_string()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::NoNameservers(fqdn.to_owned())))
}

async fn find_zone_at(
    fqdn: &Name,
    server: SocketAddr,
    all: &[SocketAddr],
    timeout: Duration,
) -> Result<Name> {
    for domain in self_and_parents(fqdn) {
        let (_, resp) = query(&domain, RecordType::SOA, &[server], timeout).await?;
        match resp.metadata.response_code {
            ResponseCode::NXDomain => continue,
            ResponseCode::NoError => {}
            other => {
                return Err(Error::Rcode {
                    what: format!("SOA query for {domain} (zone of {fqdn})"),
                    server,
                    rcode: rcode_name(other),
                    tsig_error: None,
                });
            }
        }
        // A CNAME cannot sit at a zone apex (RFC 2181 §10.1): keep climbing.
        if resp
            .answers
            .iter()
            .any(|r| r.record_type() == RecordType::CNAME)
        {
            continue;
        }
        if let Some(soa) = resp
            .answers
            .iter()
            .find(|r| r.record_type() == RecordType::SOA)
        {
            return Ok(soa.name.clone());
        }
    }
    Err(Error::NoZone {
        fqdn: fqdn.to_string(),
        nameservers: all.to_vec(),
    })
}

/// Follows the CNAME chain from `fqdn` and returns its last name. A server error ends the
/// chain where it is, as upstream.
pub(crate) async fn follow_cnames(
    fqdn: &Name,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<Name> {
    let mut chain = vec![fqdn.clone()];
    loop {
        let current = chain.last().expect("never empty").clone();
        let (_, resp) = query(&current, RecordType::CNAME, nameservers, timeout).await?;
        if resp.metadata.response_code != ResponseCode::NoError {
            return Ok(current);
        }
        let target = resp.answers.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if same_name(&r.name, &current) => Some(c.0.clone()),
            _ => None,
        });
        let Some(target) = target else {
            return Ok(current);
        };
        if chain.iter().any(|n| same_name(n, &target)) || chain.len() > MAX_CNAME_CHAIN {
            return Err(Error::CnameLoop {
                fqdn: fqdn.to_string(),
                target: target.to_string(),
            });
        }
        tracing::debug!(%current, %target, "following CNAME");
        chain.push(target);
    }
}

/// The NS names of the zone of `fqdn` (lowercase, with trailing dot), from the first
/// nameserver that can tell.
pub(crate) async fn authoritative_nameservers(
    fqdn: &Name,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<Vec<Name>> {
    let mut last = None;
    for &server in nameservers {
        let result = async {
            let zone = find_zone_at(fqdn, server, &[server], timeout).await?;
            let (_, resp) = query(&zone, RecordType::NS, &[server], timeout).await?;
            let names: Vec<Name> = resp
                .answers
                .iter()
                .filter_map(|r| match &r.data {
                    RData::NS(ns) => Some(ns.0.to_lowercase()),
                    _ => None,
                })
                .collect();
            if names.is_empty() {
                return Err(Error::NoAuthoritativeNameservers {
                    fqdn: fqdn.to_string(),
                    message: format!("{server} returned no NS records for zone {zone}"),
                });
            }
            Ok(names)
        }
        .await;
        match result {
            Ok(names) => return Ok(names),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::NoNameservers(fqdn.to_string())))
}

/// Whether every one of `nameservers` serves a TXT record `value` at `fqdn`. NXDOMAIN is
/// "not yet"; any other error RCODE is an error.
pub(crate) async fn txt_at_all(
    fqdn: &Name,
    value: &str,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<bool> {
    if nameservers.is_empty() {
        return Err(Error::NoNameservers(fqdn.to_string()));
    }
    for &server in nameservers {
        let (_, resp) = query(fqdn, RecordType::TXT, &[server], timeout).await?;
        match resp.metadata.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            other => {
                return Err(Error::Rcode {
                    what: format!("TXT query for {fqdn}"),
                    server,
                    rcode: rcode_name(other),
                    tsig_error: None,
                });
            }
        }
        if !has_txt(&resp, value) {
            tracing::debug!(%fqdn, %server, "TXT record not found yet");
            return Ok(false);
        }
    }
    Ok(true)
}

/// The TXT values (character-strings joined) of a response's answer section.
pub(crate) fn txt_values(resp: &Message) -> Vec<String> {
    resp.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

fn has_txt(resp: &Message, value: &str) -> bool {
    txt_values(resp).iter().any(|v| v == value)
}

/// The TXT values at `fqdn` according to `nameservers` (empty on NXDOMAIN).
pub async fn lookup_txt(
    fqdn: &str,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<Vec<String>> {
    let name = parse_fqdn(fqdn)?;
    let (server, resp) = query(&name, RecordType::TXT, nameservers, timeout).await?;
    match resp.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(txt_values(&resp)),
        other => Err(Error::Rcode {
            what: format!("TXT query for {name}"),
            server,
            rcode: rcode_name(other),
            tsig_error: None,
        }),
    }
}

/// The IPv4 then IPv6 addresses of `host` according to `nameservers` (the first that
/// answers); empty when it has none. For the HTTP-01 reachability check through
/// `--acme-http01-solver-nameservers`. A recursive answer may start with a CNAME chain; the
/// addresses are at its end.
pub async fn lookup_ip(
    host: &str,
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<Vec<IpAddr>> {
    let name = parse_fqdn(host)?;
    let mut addresses = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let (server, resp) = query(&name, rtype, nameservers, timeout).await?;
        match resp.metadata.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            other => {
                return Err(Error::Rcode {
                    what: format!("{rtype} query for {name}"),
                    server,
                    rcode: rcode_name(other),
                    tsig_error: None,
                });
            }
        }
        addresses.extend(resp.answers.iter().filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        }));
    }
    Ok(addresses)
}

//! The RFC 2136 provider: adds and removes the challenge TXT record with a dynamic update,
//! signed with TSIG when a key is configured.

use std::net::SocketAddr;
use std::time::Duration;

use api::acme::dns01::{AcmeIssuerDns01ProviderRfc2136, Rfc2136UpdateProtocol};
use api::field::Path;
use base64::Engine as _;
use hickory_proto::op::{Message, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::error::{Error, Result};
use crate::name::parse_fqdn;
use crate::nameserver::parse_nameserver;
use crate::query::find_zone;
use crate::transport::{DEFAULT_TIMEOUT, Exchange, Protocol, rcode_name};
use crate::tsig::{Tsig, TsigAlgorithm, tsig_error_name, tsig_of};

/// TTL of the challenge record, as upstream.
pub const TXT_TTL: u32 = 60;

/// An RFC 2136 nameserver and the key to sign updates with.
#[derive(Clone, Debug)]
pub struct Rfc2136 {
    /// The primary nameserver that accepts updates.
    pub nameserver: SocketAddr,
    /// The TSIG key; `None` sends unsigned updates.
    pub tsig: Option<Tsig>,
    /// UDP (default) or TCP.
    pub protocol: Protocol,
    /// Deadline of each DNS exchange.
    pub timeout: Duration,
}

#[derive(Clone, Copy)]
enum Change {
    Add,
    Remove,
}

impl Rfc2136 {
    /// A provider for `nameserver` with the default protocol and timeout.
    pub fn new(nameserver: SocketAddr, tsig: Option<Tsig>) -> Self {
        Self {
            nameserver,
            tsig,
            protocol: Protocol::Udp,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Builds the provider from a solver's `rfc2136` block and the data of the key its
    /// `tsigSecretSecretRef` selects (base64, as `tsig-keygen` prints it). Errors name the
    /// field under `rfc2136.`; [`from_spec_at`](Self::from_spec_at) takes the full path.
    pub async fn from_spec(
        spec: &AcmeIssuerDns01ProviderRfc2136,
        tsig_secret: Option<&[u8]>,
    ) -> Result<Self> {
        Self::from_spec_at(&Path::new("rfc2136"), spec, tsig_secret).await
    }

    /// [`from_spec`](Self::from_spec) with errors naming fields under `path`, e.g.
    /// `spec.acme.solvers[0].dns01.rfc2136`. As upstream: TSIG is used only when both the
    /// key name and the secret are non-empty; the algorithm defaults to HMACMD5 and is
    /// checked even without a key; a host name as nameserver is resolved here.
    pub async fn from_spec_at(
        path: &Path,
        spec: &AcmeIssuerDns01ProviderRfc2136,
        tsig_secret: Option<&[u8]>,
    ) -> Result<Self> {
        let algorithm = parse_algorithm(path, spec.tsig_algorithm.as_deref())?;
        let tsig = parse_tsig(path, spec.tsig_key_name.as_deref(), algorithm, tsig_secret)?;
        let field = path.child("nameserver");
        let host_port =
            parse_nameserver(&spec.nameserver).map_err(|m| Error::invalid_field(&field, m))?;
        let nameserver = host_port
            .resolve(DEFAULT_TIMEOUT)
            .await
            .map_err(|m| Error::invalid_field(&field, m))?;
        let protocol = match spec.protocol {
            Some(Rfc2136UpdateProtocol::Tcp) => Protocol::Tcp,
            _ => Protocol::Udp,
        };
        Ok(Self {
            protocol,
            ..Self::new(nameserver, tsig)
        })
    }

    /// Adds the TXT record `fqdn` = `value` (TTL 60) in the zone of `fqdn`, found by SOA
    /// queries to this nameserver. Other TXT values at `fqdn` stay.
    pub async fn present(&self, fqdn: &str, value: &str) -> Result<()> {
        let zone = find_zone(fqdn, &[self.nameserver], self.timeout).await?;
        self.present_in_zone(&zone, fqdn, value).await
    }

    /// Removes the TXT record `fqdn` = `value`, and only that value.
    pub async fn cleanup(&self, fqdn: &str, value: &str) -> Result<()> {
        let zone = find_zone(fqdn, &[self.nameserver], self.timeout).await?;
        self.cleanup_in_zone(&zone, fqdn, value).await
    }

    /// [`present`](Self::present) in a zone the caller already knows (upstream resolves it
    /// with the recursive nameservers before calling the provider).
    pub async fn present_in_zone(&self, zone: &str, fqdn: &str, value: &str) -> Result<()> {
        self.change(Change::Add, zone, fqdn, value).await
    }

    /// [`cleanup`](Self::cleanup) in a zone the caller already knows.
    pub async fn cleanup_in_zone(&self, zone: &str, fqdn: &str, value: &str) -> Result<()> {
        self.change(Change::Remove, zone, fqdn, value).await
    }

    async fn change(&self, change: Change, zone: &str, fqdn: &str, value: &str) -> Result<()> {
        let zone_name = parse_fqdn(zone)?;
        let name = parse_fqdn(fqdn)?;
        if !zone_name.zone_of(&name) {
            return Err(Error::NotInZone {
                fqdn: name.to_string(),
                zone: zone_name.to_string(),
            });
        }
        let what = match change {
            Change::Add => format!("RFC2136 update adding TXT {name} in zone {zone_name}"),
            Change::Remove => format!("RFC2136 update removing TXT {name} in zone {zone_name}"),
        };
        let request = update_message(change, zone_name, name, value);
        let exchange = Exchange {
            what: &what,
            server: self.nameserver,
            timeout: self.timeout,
            protocol: self.protocol,
            tcp_fallback: false,
        };
        let resp = exchange.run(&request, self.tsig.as_ref()).await?;
        let tsig_error = tsig_of(&resp).and_then(|t| t.error).map(tsig_error_name);
        if resp.metadata.response_code != ResponseCode::NoError || tsig_error.is_some() {
            return Err(Error::Rcode {
                what,
                server: self.nameserver,
                rcode: rcode_name(resp.metadata.response_code),
                tsig_error,
            });
        }
        tracing::debug!(server = %self.nameserver, "{what}: done");
        Ok(())
    }
}

/// An UPDATE for `zone` with one TXT record to add (class IN, TTL 60) or to delete
/// (RFC 2136 §2.5.4: class NONE, TTL 0, the exact RDATA).
fn update_message(change: Change, zone: Name, name: Name, value: &str) -> Message {
    let mut message = Message::query();
    message.metadata.op_code = OpCode::Update;
    message.metadata.recursion_desired = false;
    let mut zone_query = Query::query(zone, RecordType::SOA);
    zone_query.set_query_class(DNSClass::IN);
    message.add_zone(zone_query);
    let mut record = Record::from_rdata(name, TXT_TTL, RData::TXT(TXT::new(vec![value.into()])));
    if let Change::Remove = change {
        record.dns_class = DNSClass::NONE;
        record.ttl = 0;
    }
    message.add_update(record);
    message
}

fn parse_algorithm(path: &Path, name: Option<&str>) -> Result<TsigAlgorithm> {
    let name = name.unwrap_or("");
    TsigAlgorithm::from_spec_name(name).ok_or_else(|| {
        Error::invalid_field(
            path.child("tsigAlgorithm"),
            format!(
                "unsupported TSIG algorithm {name:?}: supported values: {}",
                TsigAlgorithm::NAMES.join(", ")
            ),
        )
    })
}

fn parse_tsig(
    path: &Path,
    key_name: Option<&str>,
    algorithm: TsigAlgorithm,
    secret: Option<&[u8]>,
) -> Result<Option<Tsig>> {
    let key_name = key_name.unwrap_or("").trim();
    let secret = secret.unwrap_or_default();
    if key_name.is_empty() || secret.is_empty() {
        return Ok(None);
    }
    parse_fqdn(key_name)
        .map_err(|e| Error::invalid_field(path.child("tsigKeyName"), e.to_string()))?;
    // Secrets are often written with a trailing newline; base64 has no whitespace.
    let text: Vec<u8> = secret
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| {
            // The error may quote a byte of the secret; say only where it went wrong.
            let why = match e {
                base64::DecodeError::InvalidByte(at, _) => {
                    format!("invalid character at offset {at}")
                }
                base64::DecodeError::InvalidLength(_) => "invalid length".to_owned(),
                base64::DecodeError::InvalidLastSymbol(at, _) => {
                    format!("invalid last symbol at offset {at}")
                }
                base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
            };
            Error::invalid_field(
                path.child("tsigSecretSecretRef"),
                format!("the TSIG secret is not valid base64: {why}"),
            )
        })?;
    if decoded.is_empty() {
        return Ok(None);
    }
    Ok(Some(Tsig {
        key_name: key_name.to_owned(),
        algorithm,
        secret: decoded,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(nameserver: &str) -> AcmeIssuerDns01ProviderRfc2136 {
        AcmeIssuerDns01ProviderRfc2136 {
            nameserver: nameserver.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn nameserver_defaults_and_errors() {
        let p = Rfc2136::from_spec(&spec("1.2.3.4"), None).await.unwrap();
        assert_eq!(p.nameserver, "1.2.3.4:53".parse().unwrap());
        assert!(p.tsig.is_none());
        assert_eq!(p.protocol, Protocol::Udp);
        let p = Rfc2136::from_spec(&spec("1.2.3.4:5353"), None)
            .await
            .unwrap();
        assert_eq!(p.nameserver, "1.2.3.4:5353".parse().unwrap());
        let p = Rfc2136::from_spec(&spec("[::1]:53"), None).await.unwrap();
        assert_eq!(p.nameserver, "[::1]:53".parse().unwrap());
        let p = Rfc2136::from_spec(&spec("localhost:1053"), None)
            .await
            .unwrap();
        assert_eq!(p.nameserver.port(), 1053);
        assert!(p.nameserver.ip().is_loopback());

        let path = Path::new("spec").children(&["acme", "solvers[0]", "dns01", "rfc2136"]);
        for bad in ["", "1.2.3.4:x", "[::1", ":53"] {
            let err = Rfc2136::from_spec_at(&path, &spec(bad), None)
                .await
                .unwrap_err();
            assert!(
                err.to_string().starts_with(
                    "spec.acme.solvers[0].dns01.rfc2136.nameserver: RFC2136 nameserver"
                ),
                "{bad:?}: {err}"
            );
        }
        let mut s = spec("127.0.0.1");
        s.protocol = Some(Rfc2136UpdateProtocol::Tcp);
        assert_eq!(
            Rfc2136::from_spec(&s, None).await.unwrap().protocol,
            Protocol::Tcp
        );
    }

    #[tokio::test]
    async fn tsig_from_spec() {
        let mut s = spec("127.0.0.1");
        s.tsig_key_name = Some("cm-key".into());
        // Empty algorithm: HMACMD5, as upstream.
        let p = Rfc2136::from_spec(&s, Some(b"c2VjcmV0\n")).await.unwrap();
        let t = p.tsig.unwrap();
        assert_eq!(t.algorithm, TsigAlgorithm::HmacMd5);
        assert_eq!(t.secret, b"secret");
        assert_eq!(t.key_name, "cm-key");

        s.tsig_algorithm = Some("hmacsha512".into());
        let t = Rfc2136::from_spec(&s, Some(b"c2VjcmV0"))
            .await
            .unwrap()
            .tsig
            .unwrap();
        assert_eq!(t.algorithm, TsigAlgorithm::HmacSha512);

        // No secret or no key name: unsigned updates, as upstream.
        assert!(Rfc2136::from_spec(&s, None).await.unwrap().tsig.is_none());
        assert!(
            Rfc2136::from_spec(&s, Some(b""))
                .await
                .unwrap()
                .tsig
                .is_none()
        );
        let mut unnamed = s.clone();
        unnamed.tsig_key_name = None;
        assert!(
            Rfc2136::from_spec(&unnamed, Some(b"c2VjcmV0"))
                .await
                .unwrap()
                .tsig
                .is_none()
        );

        // A bad algorithm is an error even without a key.
        unnamed.tsig_algorithm = Some("HMACSHA384".into());
        let err = Rfc2136::from_spec(&unnamed, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("rfc2136.tsigAlgorithm: unsupported TSIG algorithm \"HMACSHA384\""),
            "{err}"
        );
        assert!(
            err.contains("HMACMD5, HMACSHA1, HMACSHA256, HMACSHA512"),
            "{err}"
        );

        let err = Rfc2136::from_spec(&s, Some(b"not base64!"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("rfc2136.tsigSecretSecretRef: the TSIG secret is not valid base64"),
            "{err}"
        );
        assert!(
            !err.contains("not base64!"),
            "the secret must not be echoed: {err}"
        );

        let mut badname = s.clone();
        badname.tsig_key_name = Some("a..b".into());
        let err = Rfc2136::from_spec(&badname, Some(b"c2VjcmV0"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("rfc2136.tsigKeyName: "),
            "{err}"
        );
    }

    #[tokio::test]
    async fn refuses_names_outside_the_zone() {
        let p = Rfc2136::new("127.0.0.1:9".parse().unwrap(), None);
        let err = p
            .present_in_zone("example.org.", "_acme-challenge.example.com.", "v")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotInZone { .. }), "{err}");
    }

    #[test]
    fn update_messages() {
        let zone = Name::from_ascii("example.com.").unwrap();
        let name = Name::from_ascii("_acme-challenge.example.com.").unwrap();
        let add = update_message(Change::Add, zone.clone(), name.clone(), "v1");
        assert_eq!(add.metadata.op_code, OpCode::Update);
        assert_eq!(add.queries[0].name(), &zone);
        assert_eq!(add.queries[0].query_type(), RecordType::SOA);
        let rec = &add.authorities[0];
        assert_eq!((rec.dns_class, rec.ttl), (DNSClass::IN, 60));
        assert_eq!(rec.data, RData::TXT(TXT::new(vec!["v1".into()])));
        let del = update_message(Change::Remove, zone, name, "v1");
        let rec = &del.authorities[0];
        assert_eq!((rec.dns_class, rec.ttl), (DNSClass::NONE, 0));
        assert_eq!(rec.data, RData::TXT(TXT::new(vec!["v1".into()])));
    }
}

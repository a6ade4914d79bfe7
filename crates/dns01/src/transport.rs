//! Sending one DNS message to one server over UDP or TCP and reading its response, with a
//! deadline, matching the response to the request, and TSIG verification of signed
//! responses.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::tsig::Tsig;

/// Transport of RFC 2136 updates (the solver's `protocol` field).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// UDP (the default), no fallback.
    #[default]
    Udp,
    /// TCP.
    Tcp,
}

/// The default timeout of one exchange, as upstream's `DNSTimeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One request to one server.
pub(crate) struct Exchange<'a> {
    /// Describes the request in errors: `SOA query for example.com.`.
    pub what: &'a str,
    pub server: SocketAddr,
    pub timeout: Duration,
    pub protocol: Protocol,
    /// Retry over TCP when the UDP answer is truncated or does not come (queries do, as
    /// upstream; updates are sent once over the configured protocol).
    pub tcp_fallback: bool,
}

impl Exchange<'_> {
    fn err_io(&self, source: std::io::Error) -> Error {
        Error::Io {
            what: self.what.to_owned(),
            server: self.server,
            source,
        }
    }

    fn bad(&self, message: impl Into<String>) -> Error {
        Error::BadResponse {
            what: self.what.to_owned(),
            server: self.server,
            message: message.into(),
        }
    }

    fn timed_out(&self) -> Error {
        Error::Timeout {
            what: self.what.to_owned(),
            server: self.server,
            timeout: self.timeout,
        }
    }

    /// Sends `request` (signed with `tsig` when given) and returns the response, whatever
    /// its RCODE. A signed NOERROR response must carry a valid TSIG.
    pub(crate) async fn run(&self, request: &Message, tsig: Option<&Tsig>) -> Result<Message> {
        let mut request = request.clone();
        let signed = match tsig {
            Some(t) => Some(t.sign(&mut request).map_err(|message| Error::Encode {
                what: self.what.to_owned(),
                message,
            })?),
            None => None,
        };
        let bytes = request.to_vec().map_err(|e| Error::Encode {
            what: self.what.to_owned(),
            message: e.to_string(),
        })?;
        let (raw, response) = self.send(&request, &bytes).await?;
        if let (Some(t), Some(s)) = (tsig, &signed)
            && response.metadata.response_code == ResponseCode::NoError
        {
            t.verify_response(s, &raw)
                .map_err(|message| Error::TsigVerify {
                    what: self.what.to_owned(),
                    server: self.server,
                    message,
                })?;
        }
        Ok(response)
    }

    async fn send(&self, request: &Message, bytes: &[u8]) -> Result<(Vec<u8>, Message)> {
        let deadline = Instant::now() + self.timeout;
        if self.protocol == Protocol::Tcp {
            return self.tcp(request, bytes, deadline).await;
        }
        match self.udp(request, bytes, deadline).await {
            Ok((_, resp)) if resp.metadata.truncation && self.tcp_fallback => {
                tracing::debug!(server = %self.server, what = self.what, "truncated UDP answer, retrying over TCP");
                self.tcp(request, bytes, Instant::now() + self.timeout)
                    .await
            }
            Err(Error::Timeout { .. }) if self.tcp_fallback => {
                tracing::debug!(server = %self.server, what = self.what, "no UDP answer, retrying over TCP");
                self.tcp(request, bytes, Instant::now() + self.timeout)
                    .await
            }
            other => other,
        }
    }

    async fn udp(
        &self,
        request: &Message,
        bytes: &[u8],
        deadline: Instant,
    ) -> Result<(Vec<u8>, Message)> {
        let local: SocketAddr = if self.server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(|e| self.err_io(e))?;
        socket
            .connect(self.server)
            .await
            .map_err(|e| self.err_io(e))?;
        socket.send(bytes).await.map_err(|e| self.err_io(e))?;
        let mut buf = vec![0u8; 65_535];
        loop {
            let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
                .await
                .map_err(|_| self.timed_out())?
                .map_err(|e| self.err_io(e))?;
            // Datagrams of other transactions (or spoofing attempts) are not ours: skip them.
            if n < 2 || u16::from_be_bytes([buf[0], buf[1]]) != request.metadata.id {
                continue;
            }
            let raw = buf[..n].to_vec();
            let response = self.decode(request, &raw)?;
            return Ok((raw, response));
        }
    }

    async fn tcp(
        &self,
        request: &Message,
        bytes: &[u8],
        deadline: Instant,
    ) -> Result<(Vec<u8>, Message)> {
        let io = async {
            let mut stream = TcpStream::connect(self.server).await?;
            let len = u16::try_from(bytes.len())
                .map_err(|_| std::io::Error::other("message longer than 65535 bytes"))?;
            let mut framed = Vec::with_capacity(bytes.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(bytes);
            stream.write_all(&framed).await?;
            let n = stream.read_u16().await?;
            let mut raw = vec![0u8; usize::from(n)];
            stream.read_exact(&mut raw).await?;
            Ok::<_, std::io::Error>(raw)
        };
        let raw = tokio::time::timeout_at(deadline, io)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.err_io(e))?;
        let response = self.decode(request, &raw)?;
        Ok((raw, response))
    }

    /// Decodes a response and checks that it answers `request`.
    fn decode(&self, request: &Message, raw: &[u8]) -> Result<Message> {
        let response = Message::from_vec(raw).map_err(|e| self.bad(e.to_string()))?;
        let (q, r) = (&request.metadata, &response.metadata);
        if r.id != q.id {
            return Err(self.bad(format!("ID {} does not match the request's {}", r.id, q.id)));
        }
        if r.message_type != MessageType::Response {
            return Err(self.bad("not a response"));
        }
        if r.op_code != q.op_code {
            return Err(self.bad(format!(
                "opcode {} for a request of {}",
                r.op_code, q.op_code
            )));
        }
        // FORMERR/NOTIMP responses may leave the question out; any question must be ours.
        if !response.queries.is_empty() && response.queries != request.queries {
            return Err(self.bad("the question does not match the request"));
        }
        Ok(response)
    }
}

/// The RCODE as `dig` prints it (`NOERROR`, `NXDOMAIN`, `REFUSED`, `NOTAUTH`, ...).
pub(crate) fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::YXDomain => "YXDOMAIN".into(),
        ResponseCode::YXRRSet => "YXRRSET".into(),
        ResponseCode::NXRRSet => "NXRRSET".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        ResponseCode::BADVERS => "BADVERS".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

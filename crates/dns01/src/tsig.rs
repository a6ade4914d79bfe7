//! TSIG (RFC 8945): signing requests and verifying signed responses.
//!
//! hickory-proto encodes the TSIG record and the to-be-signed data; the MACs come from
//! aws-lc-rs (HMAC-SHA1/256/512) and RustCrypto's `hmac` + `md-5` (HMAC-MD5, cert-manager's
//! default algorithm, which aws-lc-rs does not offer).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac as awshmac;
use hickory_proto::op::{Header, Message, Query};
use hickory_proto::rr::rdata::tsig::{self as wire, TSIG, TsigError};
use hickory_proto::rr::{Name, RData, Record};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};
use hmac::{KeyInit, Mac};

/// Allowed clock difference between signer and verifier, as upstream (seconds).
pub const FUDGE: u16 = 300;

/// A TSIG algorithm cert-manager supports, by its `tsigAlgorithm` name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TsigAlgorithm {
    /// `HMACMD5` (`hmac-md5.sig-alg.reg.int.`), the default when the field is empty.
    #[default]
    HmacMd5,
    /// `HMACSHA1` (`hmac-sha1.`).
    HmacSha1,
    /// `HMACSHA256` (`hmac-sha256.`).
    HmacSha256,
    /// `HMACSHA512` (`hmac-sha512.`).
    HmacSha512,
}

impl TsigAlgorithm {
    /// The `tsigAlgorithm` names, as upstream lists them.
    pub const NAMES: [&'static str; 4] = ["HMACMD5", "HMACSHA1", "HMACSHA256", "HMACSHA512"];

    /// Parses a `tsigAlgorithm` value, case-insensitively; empty means [`HmacMd5`](Self::HmacMd5).
    pub fn from_spec_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "" | "HMACMD5" => Self::HmacMd5,
            "HMACSHA1" => Self::HmacSha1,
            "HMACSHA256" => Self::HmacSha256,
            "HMACSHA512" => Self::HmacSha512,
            _ => return None,
        })
    }

    /// The `tsigAlgorithm` name.
    pub fn spec_name(self) -> &'static str {
        match self {
            Self::HmacMd5 => "HMACMD5",
            Self::HmacSha1 => "HMACSHA1",
            Self::HmacSha256 => "HMACSHA256",
            Self::HmacSha512 => "HMACSHA512",
        }
    }

    fn wire(self) -> wire::TsigAlgorithm {
        match self {
            Self::HmacMd5 => wire::TsigAlgorithm::HmacMd5,
            Self::HmacSha1 => wire::TsigAlgorithm::HmacSha1,
            Self::HmacSha256 => wire::TsigAlgorithm::HmacSha256,
            Self::HmacSha512 => wire::TsigAlgorithm::HmacSha512,
        }
    }

    fn aws_key(self, key: &[u8]) -> Option<awshmac::Key> {
        let alg = match self {
            Self::HmacMd5 => return None,
            Self::HmacSha1 => awshmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Self::HmacSha256 => awshmac::HMAC_SHA256,
            Self::HmacSha512 => awshmac::HMAC_SHA512,
        };
        Some(awshmac::Key::new(alg, key))
    }

    fn md5(key: &[u8]) -> hmac::Hmac<md5::Md5> {
        <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length")
    }

    /// The MAC of `data`.
    pub(crate) fn sign(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self.aws_key(key) {
            Some(k) => awshmac::sign(&k, data).as_ref().to_vec(),
            None => {
                let mut m = Self::md5(key);
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    /// Constant-time check of `tag` against the MAC of `data` (full-length MACs only).
    pub(crate) fn verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        match self.aws_key(key) {
            Some(k) => awshmac::verify(&k, data, tag).is_ok(),
            None => {
                let mut m = Self::md5(key);
                m.update(data);
                m.verify_slice(tag).is_ok()
            }
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec_name())
    }
}

/// A TSIG key. `Debug` does not print the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Tsig {
    /// The key name as the server knows it (`cm-key` or `cm-key.`).
    pub key_name: String,
    /// The algorithm.
    pub algorithm: TsigAlgorithm,
    /// The shared secret (base64-decoded).
    pub secret: Vec<u8>,
}

impl fmt::Debug for Tsig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tsig")
            .field("key_name", &self.key_name)
            .field("algorithm", &self.algorithm)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

/// What is needed to verify the response to a signed request.
pub(crate) struct Signed {
    pub(crate) request_mac: Vec<u8>,
    pub(crate) key_name: Name,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Tsig {
    fn name(&self) -> Result<Name, String> {
        crate::name::parse_fqdn(&self.key_name).map_err(|e| format!("TSIG key name: {e}"))
    }

    /// Signs `message` (RFC 8945 §5.1): appends the TSIG record. Returns what verifying the
    /// response needs.
    pub(crate) fn sign(&self, message: &mut Message) -> Result<Signed, String> {
        self.sign_at(message, now())
    }

    fn sign_at(&self, message: &mut Message, time: u64) -> Result<Signed, String> {
        let key_name = self.name()?;
        let pre = TSIG::new(
            self.algorithm.wire(),
            time,
            FUDGE,
            Vec::new(),
            message.metadata.id,
            None,
            Vec::new(),
        );
        message.signature = None;
        let tbs = wire::message_tbs(message, &pre, &key_name).map_err(|e| e.to_string())?;
        let mac = self.algorithm.sign(&self.secret, &tbs);
        let record = wire::make_tsig_record(key_name.clone(), pre.set_mac(mac.clone()));
        message.signature = Some(Box::new(record));
        Ok(Signed {
            request_mac: mac,
            key_name,
        })
    }

    /// Verifies the TSIG of a response to a request signed with [`sign`](Self::sign)
    /// (RFC 8945 §5.3): same key and algorithm, valid MAC over the request MAC and the
    /// response, signing time within the fudge.
    pub(crate) fn verify_response(&self, signed: &Signed, response: &[u8]) -> Result<(), String> {
        self.verify_response_at(signed, response, now())
    }

    fn verify_response_at(&self, signed: &Signed, response: &[u8], now: u64) -> Result<(), String> {
        let (tbs, key_name, tsig) = response_tbs(response, &signed.request_mac)?;
        if !crate::name::same_name(&key_name, &signed.key_name) {
            return Err(format!("response signed with another key ({key_name})"));
        }
        if !same_algorithm(&tsig.algorithm, &self.algorithm.wire()) {
            return Err(format!(
                "response signed with another algorithm ({})",
                tsig.algorithm
            ));
        }
        if let Some(e) = tsig.error {
            return Err(format!("TSIG error {}", tsig_error_name(e)));
        }
        if !self.algorithm.verify(&self.secret, &tbs, &tsig.mac) {
            return Err("BADSIG: the response MAC does not match".into());
        }
        if now.abs_diff(tsig.time) > u64::from(tsig.fudge) {
            return Err(format!(
                "BADTIME: response signed at {} (fudge {}s), now {now}",
                tsig.time, tsig.fudge
            ));
        }
        Ok(())
    }
}

/// Algorithm names compare case-insensitively (BIND answers `hmac-md5.sig-alg.reg.int.`,
/// which hickory only knows in upper case).
fn same_algorithm(a: &wire::TsigAlgorithm, b: &wire::TsigAlgorithm) -> bool {
    let norm = |n: &wire::TsigAlgorithm| {
        n.to_name()
            .to_ascii()
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    norm(a) == norm(b)
}

/// The TSIG record of a decoded message, if it has one (the last additional record).
pub(crate) fn tsig_of(message: &Message) -> Option<&TSIG> {
    match &message.additionals.last()?.data {
        RData::TSIG(t) => Some(t),
        _ => None,
    }
}

/// `BADSIG`, `BADKEY`, `BADTIME`, ... as `dig` prints them.
pub(crate) fn tsig_error_name(e: TsigError) -> String {
    match e {
        TsigError::BadSig => "BADSIG".into(),
        TsigError::BadKey => "BADKEY".into(),
        TsigError::BadTime => "BADTIME".into(),
        TsigError::BadTrunc => "BADTRUNC".into(),
        TsigError::Unknown(n) => format!("error {n}"),
    }
}

/// The data a response's MAC covers (RFC 8945 §4.3): the request MAC, the response as sent
/// without its TSIG record (original ID, ARCOUNT less one), and the TSIG variables.
fn response_tbs(message: &[u8], request_mac: &[u8]) -> Result<(Vec<u8>, Name, TSIG), String> {
    let err = |e: &dyn fmt::Display| format!("decoding the response: {e}");
    let mut decoder = BinDecoder::new(message);
    let Header {
        mut metadata,
        mut counts,
    } = Header::read(&mut decoder).map_err(|e| err(&e))?;
    if counts.additionals == 0 {
        return Err("the response is not signed".into());
    }
    counts.additionals -= 1;
    let start = message.len() - decoder.len();
    for _ in 0..counts.queries {
        Query::read(&mut decoder).map_err(|e| err(&e))?;
    }
    let before_tsig = usize::from(counts.answers)
        + usize::from(counts.authorities)
        + usize::from(counts.additionals);
    for _ in 0..before_tsig {
        Record::<RData>::read(&mut decoder).map_err(|e| err(&e))?;
    }
    let end = message.len() - decoder.len();
    let record = Record::<RData>::read(&mut decoder).map_err(|e| err(&e))?;
    let RData::TSIG(tsig) = record.data else {
        return Err("the response is not signed".into());
    };
    if !decoder.is_empty() {
        return Err("data after the TSIG record".into());
    }
    metadata.id = tsig.oid;

    let mut buf = Vec::with_capacity(message.len() + request_mac.len() + 2);
    let mut enc = BinEncoder::new(&mut buf);
    let encode = |e: hickory_proto::ProtoError| format!("encoding the signed data: {e}");
    enc.emit_u16(request_mac.len() as u16).map_err(encode)?;
    enc.emit_vec(request_mac).map_err(encode)?;
    Header { metadata, counts }.emit(&mut enc).map_err(encode)?;
    enc.emit_vec(&message[start..end]).map_err(encode)?;
    tsig.emit_tsig_for_mac(&mut enc, &record.name)
        .map_err(encode)?;
    Ok((buf, record.name, tsig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode, ResponseCode};
    use hickory_proto::rr::RecordType;

    #[test]
    fn algorithm_names() {
        for (name, want) in [
            ("", TsigAlgorithm::HmacMd5),
            ("HMACMD5", TsigAlgorithm::HmacMd5),
            ("hmacmd5", TsigAlgorithm::HmacMd5),
            ("HMACSHA1", TsigAlgorithm::HmacSha1),
            ("HmacSha256", TsigAlgorithm::HmacSha256),
            ("HMACSHA512", TsigAlgorithm::HmacSha512),
        ] {
            assert_eq!(TsigAlgorithm::from_spec_name(name), Some(want), "{name}");
        }
        for bad in [
            "HMACSHA384",
            "hmac-sha256",
            "SHA256",
            "HMACSHA224",
            " HMACMD5",
        ] {
            assert_eq!(TsigAlgorithm::from_spec_name(bad), None, "{bad}");
        }
        for n in TsigAlgorithm::NAMES {
            assert_eq!(TsigAlgorithm::from_spec_name(n).unwrap().spec_name(), n);
        }
        assert_eq!(TsigAlgorithm::default(), TsigAlgorithm::HmacMd5);
    }

    /// RFC 2202 / RFC 4231 test vectors: the right primitive behind each name.
    #[test]
    fn hmac_vectors() {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let data = b"what do ya want for nothing?";
        for (alg, want) in [
            (TsigAlgorithm::HmacMd5, "750c783e6ab0b503eaa86e310a5db738"),
            (
                TsigAlgorithm::HmacSha1,
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                TsigAlgorithm::HmacSha256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                TsigAlgorithm::HmacSha512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ] {
            let mac = alg.sign(b"Jefe", data);
            assert_eq!(hex(&mac), want, "{alg}");
            assert!(alg.verify(b"Jefe", data, &mac));
            assert!(!alg.verify(b"Jeff", data, &mac));
            assert!(!alg.verify(b"Jefe", data, &mac[..mac.len() - 1]));
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let t = Tsig {
            key_name: "k".into(),
            algorithm: TsigAlgorithm::HmacSha256,
            secret: b"topsecret".to_vec(),
        };
        let s = format!("{t:?}");
        assert!(!s.contains("topsecret") && s.contains("<9 bytes>"), "{s}");
    }

    /// Signs a request, then plays the server: builds a response signed over the request MAC
    /// the way RFC 8945 §4.3.1 says, and checks that only the right one verifies.
    #[test]
    fn request_and_response_round_trip() {
        for alg in [
            TsigAlgorithm::HmacMd5,
            TsigAlgorithm::HmacSha1,
            TsigAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha512,
        ] {
            let key = Tsig {
                key_name: "Cm-Key".into(),
                algorithm: alg,
                secret: b"0123456789abcdef".to_vec(),
            };
            let mut req = Message::new(4242, MessageType::Query, OpCode::Update);
            req.add_query(Query::query(
                Name::from_ascii("example.com.").unwrap(),
                RecordType::SOA,
            ));
            let signed = key.sign_at(&mut req, 1_000_000).unwrap();
            let bytes = req.to_vec().unwrap();
            // The request carries a TSIG whose MAC covers the message without it.
            let decoded = Message::from_vec(&bytes).unwrap();
            let t = tsig_of(&decoded).expect("signed");
            assert_eq!(t.mac, signed.request_mac);
            let mut unsigned = decoded.clone();
            unsigned.additionals.pop();
            let pre = TSIG::new(alg.wire(), 1_000_000, FUDGE, vec![], 4242, None, vec![]);
            let tbs = wire::message_tbs(&unsigned, &pre, &signed.key_name).unwrap();
            assert!(alg.verify(&key.secret, &tbs, &t.mac));

            let response = server_response(&key, &signed, 1_000_010);
            key.verify_response_at(&signed, &response, 1_000_020)
                .unwrap();
            // Too far from the signing time.
            let e = key
                .verify_response_at(&signed, &response, 1_000_010 + 301)
                .unwrap_err();
            assert!(e.contains("BADTIME"), "{e}");
            // Another secret.
            let other = Tsig {
                secret: b"another secret!!".to_vec(),
                ..key.clone()
            };
            let e = other
                .verify_response_at(&signed, &response, 1_000_020)
                .unwrap_err();
            assert!(e.contains("BADSIG"), "{e}");
            // A flipped bit in the signed part.
            let mut tampered = response.clone();
            tampered[3] ^= 0x01;
            assert!(
                key.verify_response_at(&signed, &tampered, 1_000_020)
                    .is_err()
            );
            // Unsigned.
            let mut plain = Message::from_vec(&response).unwrap();
            plain.additionals.pop();
            let e = key
                .verify_response_at(&signed, &plain.to_vec().unwrap(), 1_000_020)
                .unwrap_err();
            assert!(e.contains("not signed"), "{e}");
        }
    }

    fn server_response(key: &Tsig, signed: &Signed, time: u64) -> Vec<u8> {
        let mut resp = Message::new(4242, MessageType::Response, OpCode::Update);
        resp.metadata.response_code = ResponseCode::NoError;
        resp.add_query(Query::query(
            Name::from_ascii("example.com.").unwrap(),
            RecordType::SOA,
        ));
        let pre = TSIG::new(
            key.algorithm.wire(),
            time,
            FUDGE,
            vec![],
            4242,
            None,
            vec![],
        );
        let mut tbs = Vec::new();
        tbs.extend_from_slice(&(signed.request_mac.len() as u16).to_be_bytes());
        tbs.extend_from_slice(&signed.request_mac);
        tbs.extend(wire::message_tbs(&resp, &pre, &signed.key_name).unwrap());
        let mac = key.algorithm.sign(&key.secret, &tbs);
        resp.signature = Some(Box::new(wire::make_tsig_record(
            signed.key_name.clone(),
            pre.set_mac(mac),
        )));
        resp.to_vec().unwrap()
    }
}

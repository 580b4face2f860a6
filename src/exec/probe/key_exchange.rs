//! Key-exchange strength (SC.MSS/CONF.03: DH group ≥ 2048 bits, ECDH ≥ 256 bits): a TLS 1.2
//! ClientHello offering DHE-only suites, or ECDHE suites with chosen groups, and the server's
//! flight read up to its ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4), which names the DH
//! prime or the curve. No handshake is completed. Protocol only: the verdict judges the sizes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::response::{ProbeOutcome, parse_server_hello};
use super::{Offer, ProbeError, client_random, closed, hello, is_disconnect, malformed, not_tls};
use crate::exec::transcript::Transcript;
pub use crate::cipher::groups::{describe_group, group_bits, group_name};

/// DHE suites (RSA and DSS authentication): a server offering any DHE shows its group.
pub const DHE_SUITES: &[u16] =
    &[0x009F, 0x009E, 0x006B, 0x0067, 0x0039, 0x0033, 0xCCAA, 0x00A3, 0x00A2, 0x006A, 0x0040, 0x0038, 0x0032, 0x0016];
/// ECDHE suites (RSA and ECDSA authentication), so the curve alone decides.
pub const ECDHE_SUITES: &[u16] =
    &[0xC030, 0xC02F, 0xC028, 0xC027, 0xC014, 0xC013, 0xC02C, 0xC02B, 0xC024, 0xC023, 0xC00A, 0xC009, 0xCCA8, 0xCCA9];
/// Named curves under 256 bits (RFC 4492 §5.1.1), offered alone: each must be refused.
pub const WEAK_CURVES: &[u16] = &[0x0013, 0x0015, 0x0012, 0x0014, 0x0010, 0x0011, 0x000F, 0x0001, 0x0003, 0x0004, 0x0006, 0x0007, 0x0008];
/// Groups of 256 bits or more, offered one at a time to list those the server accepts.
pub const STRONG_GROUPS: &[u16] = &[0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x001A, 0x001B, 0x001C];

/// Most bytes read for one flight (the certificate chain comes before the ServerKeyExchange).
const MAX_FLIGHT: usize = 256 * 1024;

/// The key exchange a ServerKeyExchange announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kx {
    /// Finite-field DH: the size of the prime p, in bits.
    Dh { bits: u32 },
    /// ECDH on a named curve.
    Ecdh { group: u16 },
    /// The flight ended (ServerHelloDone, an alert, a close) with no ServerKeyExchange.
    NoneSeen,
}

impl Kx {
    pub fn describe(&self) -> String {
        match self {
            Kx::Dh { bits } => format!("DH group of {bits} bits"),
            Kx::Ecdh { group } => match group_bits(*group) {
                Some(b) => format!("ECDH on {} ({b} bits)", describe_group(*group)),
                None => format!("ECDH on {} (size unknown)", describe_group(*group)),
            },
            Kx::NoneSeen => "no ServerKeyExchange seen".into(),
        }
    }
}

/// Sends `offer` and reads the answer and, after a ServerHello, the flight up to its
/// ServerKeyExchange, within `timeout`. The connection is closed afterwards.
pub async fn probe(mut tcp: TcpStream, offer: &Offer, timeout: Duration, transcript: &Transcript) -> Result<(ProbeOutcome, Kx), ProbeError> {
    offer.check().map_err(|e| ProbeError::Harness(format!("invalid offer: {e}")))?;
    let record = hello::client_hello_record(offer, client_random()?);
    transcript.sent(&offer.describe());
    let deadline = Instant::now() + timeout;
    match tokio::time::timeout_at(deadline, tcp.write_all(&record)).await {
        Err(_) => return Err(ProbeError::Timeout { during: "key-exchange probe, sending".into(), after: timeout }),
        Ok(Err(e)) if is_disconnect(&e) => return Ok((closed(transcript), Kx::NoneSeen)),
        Ok(Err(source)) => return Err(ProbeError::Io { during: "key-exchange probe".into(), source }),
        Ok(Ok(())) => {}
    }
    let answer = read_flight(&mut tcp, deadline, timeout, transcript).await;
    let _ = tokio::time::timeout(Duration::from_millis(200), tcp.shutdown()).await;
    answer
}

async fn read_flight(tcp: &mut TcpStream, deadline: Instant, timeout: Duration, transcript: &Transcript) -> Result<(ProbeOutcome, Kx), ProbeError> {
    let mut seen = Vec::new();
    loop {
        let mut chunk = [0u8; 16384];
        let read = crate::exec::timing::server(tokio::time::timeout_at(deadline, tcp.read(&mut chunk))).await;
        let n = match read {
            // After a ServerHello, the end of the wait only ends the flight.
            Err(_) => match parse(&seen, true) {
                Ok(Some(answer)) => return Ok(report(transcript, answer)),
                _ => return Err(ProbeError::Timeout { during: "key-exchange probe, waiting for the server".into(), after: timeout }),
            },
            Ok(Ok(n)) => n,
            Ok(Err(e)) if is_disconnect(&e) => 0,
            Ok(Err(source)) => return Err(ProbeError::Io { during: "key-exchange probe".into(), source }),
        };
        if n == 0 && seen.is_empty() {
            return Ok((closed(transcript), Kx::NoneSeen));
        }
        seen.extend_from_slice(&chunk[..n]);
        match parse(&seen, n == 0) {
            Ok(Some(answer)) => return Ok(report(transcript, answer)),
            Ok(None) if n == 0 => return Err(malformed(transcript, &seen, "the connection closed in the middle of a record".into())),
            Ok(None) if seen.len() < MAX_FLIGHT => {}
            Ok(None) => return Err(malformed(transcript, &seen, format!("no ServerKeyExchange within {MAX_FLIGHT} bytes"))),
            Err(reason) => return Err(not_tls(transcript, &seen, reason)),
        }
    }
}

fn report(transcript: &Transcript, (outcome, kx): (ProbeOutcome, Kx)) -> (ProbeOutcome, Kx) {
    transcript.received(&outcome.describe());
    if matches!(outcome, ProbeOutcome::ServerHello { .. }) {
        transcript.received(&format!("<TLS ServerKeyExchange: {}>", kx.describe()));
    }
    (outcome, kx)
}

/// Parses the server's bytes so far. `Ok(None)`: more are needed (unless `ended`: the stream
/// ended or the wait did, and what was seen is the answer).
pub(crate) fn parse(bytes: &[u8], ended: bool) -> Result<Option<(ProbeOutcome, Kx)>, String> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    let mut hello = None;
    while let Some(header) = rest.get(..5) {
        let (kind, length) = (header[0], usize::from(u16::from_be_bytes([header[3], header[4]])));
        if !(0x14..=0x18).contains(&kind) || header[1] != 3 {
            return Err(format!("not a TLS record header (type 0x{kind:02X})"));
        }
        let Some(payload) = rest.get(5..5 + length) else { break };
        rest = &rest[5 + length..];
        match (kind, &hello) {
            (0x15, None) => {
                let [level, description, ..] = payload else { return Err("short alert record".into()) };
                return Ok(Some((ProbeOutcome::Alert { level: *level, description: *description }, Kx::NoneSeen)));
            }
            (0x16, _) => {
                handshake.extend_from_slice(payload);
                if let Some(answer) = walk_messages(&handshake, &mut hello)? {
                    return Ok(Some(answer));
                }
            }
            // An alert or anything else after the ServerHello ends the flight.
            (_, Some(outcome)) => return Ok(Some((outcome.clone(), Kx::NoneSeen))),
            (other, None) => return Err(format!("record type 0x{other:02X} before any ServerHello")),
        }
    }
    Ok(match hello {
        Some(outcome) if ended => Some((outcome, Kx::NoneSeen)),
        _ => None,
    })
}

/// Walks the complete handshake messages; the answer once the ServerKeyExchange or the
/// ServerHelloDone is reached.
fn walk_messages(hs: &[u8], hello: &mut Option<ProbeOutcome>) -> Result<Option<(ProbeOutcome, Kx)>, String> {
    let mut pos = 0;
    while let Some(header) = hs.get(pos..pos + 4) {
        let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        let Some(body) = hs.get(pos + 4..pos + 4 + length) else { return Ok(None) };
        pos += 4 + length;
        match (header[0], hello.as_ref()) {
            (2, None) => *hello = Some(parse_server_hello(body)?),
            (_, None) => return Err(format!("first handshake message has type {}, not ServerHello (2)", header[0])),
            (12, Some(outcome)) => return Ok(Some((outcome.clone(), server_key_exchange(body)?))),
            (14, Some(outcome)) => return Ok(Some((outcome.clone(), Kx::NoneSeen))),
            _ => {} // Certificate, CertificateStatus, CertificateRequest
        }
    }
    Ok(None)
}

/// The key exchange of a ServerKeyExchange body: ECParameters (curve_type 3 = named_curve) or
/// ServerDHParams (dh_p first). An ECDHE body starts with 3 and a 16-bit curve; a DHE one with
/// the 16-bit length of p, which for any real group is at least 64, so the first byte tells.
fn server_key_exchange(body: &[u8]) -> Result<Kx, String> {
    match body {
        [3, hi, lo, ..] => Ok(Kx::Ecdh { group: u16::from_be_bytes([*hi, *lo]) }),
        [hi, lo, rest @ ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            let p = rest.get(..len).ok_or("ServerKeyExchange: dh_p longer than the message")?;
            Ok(Kx::Dh { bits: bit_length(p) })
        }
        _ => Err("ServerKeyExchange of less than 2 bytes".into()),
    }
}

/// Bits of a big-endian unsigned integer, leading zeros not counted.
fn bit_length(n: &[u8]) -> u32 {
    let n = &n[n.iter().position(|b| *b != 0).unwrap_or(n.len())..];
    match n.first() {
        None => 0,
        Some(first) => (n.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 3];
        r.extend((payload.len() as u16).to_be_bytes());
        r.extend(payload);
        r
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind, 0];
        m.extend((body.len() as u16).to_be_bytes());
        m.extend(body);
        m
    }

    fn server_hello(suite: u16) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend([9u8; 32]);
        b.push(0);
        b.extend(suite.to_be_bytes());
        b.push(0);
        message(2, &b)
    }

    fn dh_ske(p_bytes: usize) -> Vec<u8> {
        let mut b = (p_bytes as u16).to_be_bytes().to_vec();
        b.push(0x80);
        b.extend(vec![0xff; p_bytes - 1]);
        b.extend([0, 1, 2, 0, 1, 5]); // g = 2, Ys
        message(12, &b)
    }

    #[test]
    fn dh_group_size_is_read_across_records() {
        let mut hs = server_hello(0x009F);
        hs.extend(message(11, &[0, 0, 3, 0, 0, 0]));
        hs.extend(dh_ske(128));
        let (a, b) = hs.split_at(40);
        let bytes = [record(0x16, a), record(0x16, b)].concat();
        assert_eq!(parse(&bytes[..30], false), Ok(None), "more bytes needed");
        let (outcome, kx) = parse(&bytes, false).unwrap().unwrap();
        assert_eq!(outcome, ProbeOutcome::ServerHello { version: 0x0303, cipher_suite: 0x009F });
        assert_eq!(kx, Kx::Dh { bits: 1024 });
        assert_eq!(parse(&record(0x16, &[server_hello(0x009E), dh_ske(256)].concat()), false).unwrap().unwrap().1, Kx::Dh { bits: 2048 });
    }

    #[test]
    fn the_curve_or_its_absence_is_reported() {
        let ske = message(12, &[3, 0x00, 0x13, 4, 1, 2, 3, 4]);
        let bytes = record(0x16, &[server_hello(0xC02F), ske].concat());
        assert_eq!(parse(&bytes, false).unwrap().unwrap().1, Kx::Ecdh { group: 0x0013 });
        assert_eq!(Kx::Ecdh { group: 0x0013 }.describe(), "ECDH on secp192r1 (0x0013) (192 bits)");
        // A ServerHello then a close: accepted, key exchange not seen.
        let only_hello = record(0x16, &server_hello(0x009F));
        assert_eq!(parse(&only_hello, false), Ok(None));
        assert_eq!(parse(&only_hello, true).unwrap().unwrap().1, Kx::NoneSeen);
        // Refused with an alert.
        let (o, kx) = parse(&record(0x15, &[2, 40]), false).unwrap().unwrap();
        assert_eq!((o, kx), (ProbeOutcome::Alert { level: 2, description: 40 }, Kx::NoneSeen));
        assert!(parse(b"220 smtp ready\r\n", false).is_err());
    }

    #[test]
    fn bit_lengths_ignore_leading_zeros() {
        assert_eq!(bit_length(&[0, 0, 0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0, 0]), 0);
    }
}

//! Faults `tls10` and `static-rsa-suite`: simulated acceptance of SSL 3.0 / TLS 1.0 / 1.1, and of
//! the static-RSA suite TLS_RSA_WITH_AES_256_CBC_SHA with TLS 1.2.
//!
//! rustls cannot speak TLS 1.0 or 1.1, nor any static-RSA suite, so an operator "accepting"
//! them is simulated: the first
//! record of the connection is peeked; if it is a ClientHello whose highest offered version is
//! below TLS 1.2 (no `supported_versions` extension and `legacy_version` 0x0301/0x0302, or a
//! `supported_versions` list that stops below 0x0303), the mock answers one well-formed
//! ServerHello record with that version and the first real suite the client offered, then closes.
//! That is exactly what a legacy-TLS probe looks for (a ServerHello below 0x0303); a full TLS 1.0
//! handshake is not possible. Without the fault such a hello goes to rustls, which refuses it with
//! an alert. `static-rsa-suite` does the same for a TLS 1.2 ClientHello (no TLS 1.3 offered)
//! listing 0x0035: a ServerHello selecting it, then close.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RECORD_HANDSHAKE: u8 = 0x16;
const CLIENT_HELLO: u8 = 0x01;
const SERVER_HELLO: u8 = 0x02;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
const TLS12: u16 = 0x0303;
/// TLS_RSA_WITH_AES_256_CBC_SHA (`AES256-SHA`), the suite fault `static-rsa-suite` accepts.
pub const STATIC_RSA_SUITE: u16 = 0x0035;
const MAX_RECORD: usize = 5 + 16384;

/// What the first ClientHello offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloOffer {
    pub legacy_version: u16,
    pub cipher_suites: Vec<u16>,
    pub supported_versions: Option<Vec<u16>>,
}

impl HelloOffer {
    /// The highest protocol version the client offers.
    pub fn highest_version(&self) -> u16 {
        match &self.supported_versions {
            Some(list) => list.iter().copied().filter(|v| !is_grease(*v)).max().unwrap_or(self.legacy_version),
            None => self.legacy_version,
        }
    }

    /// The first suite that is neither GREASE nor a signalling value.
    pub fn first_real_suite(&self) -> Option<u16> {
        self.cipher_suites.iter().copied().find(|s| !is_grease(*s) && *s != 0x00ff && *s != 0x5600)
    }
}

/// Peeks the first record of `tcp`; when it is a legacy ClientHello, consumes it, answers a
/// ServerHello, closes the write side and returns the version answered. Otherwise leaves the
/// bytes unread for rustls and returns `None`.
pub async fn answer_if_legacy(tcp: &mut TcpStream) -> std::io::Result<Option<u16>> {
    let chosen = answer_if(tcp, |offer| {
        let version = offer.highest_version();
        (version < TLS12).then(|| (version, offer.first_real_suite().unwrap_or(0x002f)))
    })
    .await?;
    Ok(chosen.map(|(version, _)| version))
}

/// Like [`answer_if_legacy`] for a TLS 1.2 ClientHello offering [`STATIC_RSA_SUITE`]: answers a
/// TLS 1.2 ServerHello selecting it. Returns whether it answered.
pub async fn answer_if_static_rsa(tcp: &mut TcpStream) -> std::io::Result<bool> {
    let chosen = answer_if(tcp, |offer| {
        (offer.highest_version() == TLS12 && offer.cipher_suites.contains(&STATIC_RSA_SUITE)).then_some((TLS12, STATIC_RSA_SUITE))
    })
    .await?;
    Ok(chosen.is_some())
}

/// Peeks the first record; when it is a ClientHello for which `choose` gives (version, suite),
/// consumes it, answers that ServerHello and closes. Otherwise leaves the bytes for rustls.
async fn answer_if(tcp: &mut TcpStream, choose: impl Fn(&HelloOffer) -> Option<(u16, u16)>) -> std::io::Result<Option<(u16, u16)>> {
    let mut chosen = None;
    answer_with(tcp, |_, offer| {
        chosen = choose(offer);
        chosen.map(|(version, suite)| server_hello(version, suite))
    })
    .await?;
    Ok(chosen)
}

/// Peeks the first record; when it is a ClientHello (record bytes, parsed offer) for which
/// `respond` gives an answer, consumes it, sends the answer and closes. Otherwise leaves the
/// bytes for rustls. Returns whether it answered.
pub(super) async fn answer_with(tcp: &mut TcpStream, mut respond: impl FnMut(&[u8], &HelloOffer) -> Option<Vec<u8>>) -> std::io::Result<bool> {
    let Some(record_len) = peek_first_record(tcp).await? else { return Ok(false) };
    let mut record = vec![0u8; record_len];
    let n = tcp.peek(&mut record).await?;
    let Some(offer) = parse_client_hello(&record[..n]) else { return Ok(false) };
    let Some(answer) = respond(&record[..n], &offer) else { return Ok(false) };
    tcp.read_exact(&mut record[..n]).await?; // consumed, so closing sends FIN, not RST
    tcp.write_all(&answer).await?;
    tcp.shutdown().await?;
    // Let the client read the answer and close first.
    let mut sink = [0u8; 512];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    Ok(true)
}

/// Waits until the whole first record is buffered; its length, or `None` when the stream does
/// not start with a handshake record (or closes early).
async fn peek_first_record(tcp: &TcpStream) -> std::io::Result<Option<usize>> {
    let mut buf = vec![0u8; MAX_RECORD];
    let mut seen = 0;
    loop {
        let n = tcp.peek(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        if buf[0] != RECORD_HANDSHAKE {
            return Ok(None);
        }
        if n >= 5 {
            let want = (5 + u16::from_be_bytes([buf[3], buf[4]]) as usize).min(MAX_RECORD);
            if n >= want {
                return Ok(Some(want));
            }
        }
        if n == seen {
            // peek returns at once while bytes are pending: do not spin.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        seen = n;
    }
}

/// Parses a ClientHello record (header included). `None` when it is something else or
/// malformed.
pub fn parse_client_hello(record: &[u8]) -> Option<HelloOffer> {
    let mut r = Reader(record);
    if r.u8()? != RECORD_HANDSHAKE {
        return None;
    }
    r.take(4)?; // record version + length
    if r.u8()? != CLIENT_HELLO {
        return None;
    }
    r.take(3)?;
    let legacy_version = r.u16()?;
    r.take(32)?;
    let sid_len = r.u8()? as usize;
    r.take(sid_len)?;
    let suites_len = r.u16()? as usize;
    let cipher_suites = r.take(suites_len)?.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    let comp_len = r.u8()? as usize;
    r.take(comp_len)?;
    let supported_versions = r.u16().and_then(|len| find_supported_versions(r.take(len as usize)?));
    Some(HelloOffer { legacy_version, cipher_suites, supported_versions })
}

fn find_supported_versions(mut exts: &[u8]) -> Option<Vec<u16>> {
    while exts.len() >= 4 {
        let kind = u16::from_be_bytes([exts[0], exts[1]]);
        let len = u16::from_be_bytes([exts[2], exts[3]]) as usize;
        let body = exts.get(4..4 + len)?;
        if kind == EXT_SUPPORTED_VERSIONS {
            let list = body.get(1..1 + *body.first()? as usize)?;
            return Some(list.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect());
        }
        exts = &exts[4 + len..];
    }
    None
}

/// A minimal ServerHello record: `version`, a random, empty session id, `suite`, no compression,
/// no extensions.
pub fn server_hello(version: u16, suite: u16) -> Vec<u8> {
    let mut random = [0u8; 32];
    if getrandom::fill(&mut random).is_err() {
        random = [0x5a; 32]; // a probe only reads the version: any bytes will do
    }
    let mut body = Vec::with_capacity(38);
    body.extend(version.to_be_bytes());
    body.extend(random);
    body.push(0);
    body.extend(suite.to_be_bytes());
    body.push(0);
    let mut handshake = vec![SERVER_HELLO, 0, (body.len() >> 8) as u8, body.len() as u8];
    handshake.extend(body);
    let mut record = vec![RECORD_HANDSHAKE];
    record.extend(version.to_be_bytes());
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

/// A TLS 1.0/1.1 ClientHello as a legacy-TLS probe sends it (tests only, here and in
/// integration tests through the public function).
pub fn legacy_client_hello(version: u16, suites: &[u16]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(version.to_be_bytes());
    body.extend([0x11u8; 32]);
    body.push(0);
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]); // null compression
    // renegotiation_info only: no supported_versions.
    body.extend(5u16.to_be_bytes());
    body.extend([0xff, 0x01, 0x00, 0x01, 0x00]);
    let mut handshake = vec![CLIENT_HELLO, 0, (body.len() >> 8) as u8, body.len() as u8];
    handshake.extend(body);
    let mut record = vec![RECORD_HANDSHAKE, 0x03, 0x01];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_hello_is_recognised_and_answered_in_kind() {
        let hello = legacy_client_hello(0x0301, &[0x00ff, 0xc014, 0x002f]);
        let offer = parse_client_hello(&hello).unwrap();
        assert_eq!(offer.highest_version(), 0x0301);
        assert_eq!(offer.first_real_suite(), Some(0xc014));
        let answer = server_hello(0x0301, 0xc014);
        assert_eq!(&answer[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(answer[5], SERVER_HELLO);
        assert_eq!(&answer[9..11], &[0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([answer[3], answer[4]]) as usize, answer.len() - 5);
    }

    #[test]
    fn supported_versions_wins_over_legacy_version() {
        let mut hello = legacy_client_hello(0x0303, &[0x1301]);
        // Replace the extensions with supported_versions [GREASE, 1.3, 1.2].
        let ext = [0x00, 0x2b, 0x00, 0x07, 0x06, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03];
        let ext_start = hello.len() - 7;
        hello.truncate(ext_start);
        hello.extend((ext.len() as u16).to_be_bytes());
        hello.extend(ext);
        let offer = parse_client_hello(&hello).unwrap();
        assert_eq!(offer.supported_versions.as_deref(), Some(&[0x3a3a, 0x0304, 0x0303][..]));
        assert_eq!(offer.highest_version(), 0x0304);
    }

    #[test]
    fn garbage_is_not_a_hello() {
        assert_eq!(parse_client_hello(b"EHLO x\r\n"), None);
        assert_eq!(parse_client_hello(&[0x16, 3, 1, 0, 4, 1, 0, 0]), None);
        assert_eq!(parse_client_hello(&[]), None);
    }
}

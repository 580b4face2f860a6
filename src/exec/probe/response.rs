//! Reading the server's answer to a ClientHello: the first handshake message (ServerHello) or an
//! alert. Every length is checked against the bytes present; nothing here can panic on input.

use serde::{Deserialize, Serialize};

use crate::cipher::suites::{alert_name, describe_suite, describe_version};

/// What the server did with the offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeOutcome {
    /// The server accepted: `version` is the negotiated one (the supported_versions extension
    /// wins over the legacy field), `cipher_suite` the one it picked.
    ServerHello { version: u16, cipher_suite: u16 },
    /// The server refused with an alert (level 2 = fatal; 40 handshake_failure, 70 protocol_version).
    Alert { level: u8, description: u8 },
    /// The server closed (or reset) the connection without a byte.
    Closed,
}

impl ProbeOutcome {
    /// One line for the transcript.
    pub fn describe(&self) -> String {
        match self {
            ProbeOutcome::ServerHello { version, cipher_suite } => format!(
                "<TLS ServerHello: version {}, suite {}>",
                describe_version(*version),
                describe_suite(*cipher_suite)
            ),
            ProbeOutcome::Alert { level, description } => {
                let level_name = match level {
                    1 => "warning",
                    2 => "fatal",
                    _ => "unknown-level",
                };
                let name = alert_name(*description).unwrap_or("unknown");
                format!("<TLS alert: {level_name} {name} ({level}/{description})>")
            }
            ProbeOutcome::Closed => "<connection closed without a TLS reply>".into(),
        }
    }
}

/// Largest record a TLS 1.2 peer may send (2^14 + 2048).
const MAX_RECORD: usize = 16384 + 2048;

/// Parses what was received so far: `Ok(None)` needs more bytes, `Err(reason)` is not TLS or
/// not the expected first message.
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<ProbeOutcome>, String> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    loop {
        let Some(header) = rest.get(..5) else { return Ok(None) };
        let (kind, length) = (header[0], usize::from(u16::from_be_bytes([header[3], header[4]])));
        if !(0x14..=0x18).contains(&kind) || header[1] != 3 {
            return Err(format!(
                "not a TLS record header (type 0x{kind:02X}, version 0x{:02X}{:02X})",
                header[1], header[2]
            ));
        }
        if length > MAX_RECORD {
            return Err(format!("record length {length} exceeds {MAX_RECORD}"));
        }
        let Some(payload) = rest.get(5..5 + length) else { return Ok(None) };
        rest = &rest[5 + length..];
        match kind {
            0x15 => return parse_alert(payload).map(Some),
            0x16 => {
                handshake.extend_from_slice(payload);
                if let Some(outcome) = parse_handshake(&handshake)? {
                    return Ok(Some(outcome));
                }
            }
            other => return Err(format!("record type 0x{other:02X} before any ServerHello")),
        }
    }
}

fn parse_alert(payload: &[u8]) -> Result<ProbeOutcome, String> {
    match payload {
        [level, description, ..] => Ok(ProbeOutcome::Alert { level: *level, description: *description }),
        _ => Err(format!("alert record of {} byte(s)", payload.len())),
    }
}

/// `Ok(None)` while the first handshake message is incomplete (it may span records).
fn parse_handshake(hs: &[u8]) -> Result<Option<ProbeOutcome>, String> {
    let Some(header) = hs.get(..4) else { return Ok(None) };
    if header[0] != 2 {
        return Err(format!("first handshake message has type {}, not ServerHello (2)", header[0]));
    }
    let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
    let Some(body) = hs.get(4..4 + length) else {
        return if length > 4 * MAX_RECORD { Err(format!("ServerHello length {length}")) } else { Ok(None) };
    };
    parse_server_hello(body).map(Some)
}

fn parse_server_hello(body: &[u8]) -> Result<ProbeOutcome, String> {
    let mut r = Reader { bytes: body, pos: 0 };
    let legacy_version = r.u16("server_version")?;
    r.skip(32, "random")?;
    let session_id_len = usize::from(r.u8("session_id length")?);
    r.skip(session_id_len, "session_id")?;
    let cipher_suite = r.u16("cipher_suite")?;
    r.u8("compression_method")?;
    let mut version = legacy_version;
    if r.remaining() > 0 {
        let ext_len = usize::from(r.u16("extensions length")?);
        let mut exts = Reader { bytes: r.take(ext_len, "extensions")?, pos: 0 };
        while exts.remaining() > 0 {
            let kind = exts.u16("extension type")?;
            let len = usize::from(exts.u16("extension length")?);
            let data = exts.take(len, "extension data")?;
            if kind == 0x002B {
                let selected = data.get(..2).ok_or("short supported_versions extension")?;
                version = u16::from_be_bytes([selected[0], selected[1]]);
            }
        }
    }
    Ok(ProbeOutcome::ServerHello { version, cipher_suite })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("ServerHello truncated in {what}"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn skip(&mut self, n: usize, what: &str) -> Result<(), String> {
        self.take(n, what).map(|_| ())
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(version: u16, suite: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[9; 32]);
        body.push(32);
        body.extend_from_slice(&[1; 32]);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        if !extensions.is_empty() {
            body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
            body.extend_from_slice(extensions);
        }
        let mut hs = vec![2, 0, 0, body.len() as u8];
        hs.extend_from_slice(&body);
        hs
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 3];
        r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn server_hello_and_alert() {
        let sh = record(0x16, &server_hello(0x0301, 0xC014, &[0xFF, 0x01, 0, 1, 0]));
        assert_eq!(parse(&sh), Ok(Some(ProbeOutcome::ServerHello { version: 0x0301, cipher_suite: 0xC014 })));
        assert_eq!(parse(&record(0x15, &[2, 70])), Ok(Some(ProbeOutcome::Alert { level: 2, description: 70 })));
    }

    #[test]
    fn supported_versions_wins() {
        let sh = record(0x16, &server_hello(0x0303, 0x1302, &[0x00, 0x2B, 0, 2, 3, 4]));
        assert_eq!(parse(&sh), Ok(Some(ProbeOutcome::ServerHello { version: 0x0304, cipher_suite: 0x1302 })));
    }

    #[test]
    fn partial_input_needs_more_at_every_cut() {
        let mut sh = record(0x16, &server_hello(0x0303, 0xC02F, &[]));
        sh.extend_from_slice(&record(0x16, &[11, 0, 0, 0]));
        for cut in 0..sh.len() - 4 {
            let r = parse(&sh[..cut]);
            assert!(matches!(r, Ok(None) | Ok(Some(_))), "cut {cut}: {r:?}");
        }
        assert!(parse(&sh[..40]).unwrap().is_none());
    }

    #[test]
    fn server_hello_split_across_records() {
        let hs = server_hello(0x0303, 0xC02F, &[]);
        let mut bytes = record(0x16, &hs[..10]);
        bytes.extend_from_slice(&record(0x16, &hs[10..]));
        assert_eq!(parse(&bytes), Ok(Some(ProbeOutcome::ServerHello { version: 0x0303, cipher_suite: 0xC02F })));
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        assert!(parse(b"220 mx.op.test ESMTP\r\n").unwrap_err().contains("not a TLS record"));
        assert!(parse(&record(0x17, &[0; 4])).unwrap_err().contains("0x17"));
        assert!(parse(&record(0x15, &[2])).unwrap_err().contains("1 byte"));
        assert!(parse(&record(0x16, &[1, 0, 0, 0])).unwrap_err().contains("not ServerHello"));
        // A ServerHello whose session id length runs past the end.
        let mut sh = server_hello(0x0303, 0xC02F, &[]);
        sh[4 + 2 + 32] = 200;
        assert!(parse(&record(0x16, &sh)).unwrap_err().contains("truncated"));
        // Extensions whose lengths lie.
        let sh = server_hello(0x0303, 0xC02F, &[0xFF, 0x01, 0, 9, 0]);
        assert!(parse(&record(0x16, &sh)).is_err());
        let oversized = [0x16, 3, 3, 0xFF, 0xFF];
        assert!(parse(&oversized).unwrap_err().contains("exceeds"));
        // Every prefix of random-ish bytes is handled.
        let noise: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        for start in 0..noise.len() {
            let _ = parse(&noise[start..]);
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            ProbeOutcome::Alert { level: 2, description: 40 }.describe(),
            "<TLS alert: fatal handshake_failure (2/40)>"
        );
        assert!(
            ProbeOutcome::ServerHello { version: 0x0301, cipher_suite: 0xC013 }
                .describe()
                .contains("TLS 1.0 (0x0301), suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (0xC013)")
        );
    }
}

//! The raw TLS ClientHello probe: offers exactly a version and a list of suites, and reports
//! what the server answered (ServerHello, alert or close), without completing any handshake.
//!
//! This answers the questions rustls cannot ask: "does the server accept TLS 1.0/1.1?" and
//! "does it accept a suite outside the allowed list?". Positive TLS 1.2/1.3 checks use rustls
//! (`exec::tls`). On STARTTLS ports, run [`starttls_preamble_smtp`] or [`starttls_preamble_imap`]
//! first, then probe the stream they give back.

pub mod families;
mod hello;
mod preamble;
pub(crate) mod response;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

pub use crate::cipher::families::{FamilyOffer, plan as plan_families};
pub use hello::{LEGACY_SUITES, Offer};
pub use preamble::{Preamble, starttls_preamble_imap, starttls_preamble_smtp};
pub use response::ProbeOutcome;
pub use crate::cipher::suites::{alert_name, describe_suite, describe_version, suite_code, suite_name, version_name};

use crate::exec::smtp::{Fault, SmtpError};
use crate::exec::transcript::Transcript;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The offer cannot be encoded, or the harness cannot build a ClientHello.
    #[error("harness error: {0}")]
    Harness(String),
    #[error("no answer from the server within {after:?} ({during})")]
    Timeout { during: String, after: Duration },
    #[error("the server closed the connection ({during})")]
    Closed { during: String },
    #[error("unexpected bytes from the server ({during}): {reason}; seen: {seen}")]
    Malformed { during: String, reason: String, seen: String },
    #[error("I/O error ({during}): {source}")]
    Io { during: String, source: std::io::Error },
    #[error("SMTP STARTTLS preamble: {0}")]
    Smtp(#[from] SmtpError),
    /// A plaintext "try later" (`421 …`, `* BYE …`) where the exchange expected something else.
    #[error("service temporarily unavailable ({reply}) during the {during}")]
    Unavailable { during: String, reply: String },
}

impl ProbeError {
    pub fn fault(&self) -> Fault {
        match self {
            ProbeError::Harness(_) => Fault::Harness,
            ProbeError::Smtp(e) => e.fault(),
            _ => Fault::Target,
        }
    }
}

/// Most bytes read while waiting for the first handshake message.
const MAX_REPLY: usize = 64 * 1024;

/// Sends a ClientHello for `offer` on `tcp` (positioned where the TLS handshake starts) and reads
/// until the server's ServerHello, alert or close, within `timeout`. The connection is closed
/// afterwards: a probe never completes a handshake.
pub async fn probe(
    mut tcp: TcpStream,
    offer: &Offer,
    timeout: Duration,
    transcript: &Transcript,
) -> Result<ProbeOutcome, ProbeError> {
    offer.check().map_err(|e| ProbeError::Harness(format!("invalid offer: {e}")))?;
    let record = hello::client_hello_record(offer, client_random()?);
    transcript.sent(&offer.describe());
    let deadline = Instant::now() + timeout;
    let during = "ClientHello probe";
    match tokio::time::timeout_at(deadline, tcp.write_all(&record)).await {
        Err(_) => return Err(ProbeError::Timeout { during: format!("{during}, sending"), after: timeout }),
        Ok(Err(e)) if is_disconnect(&e) => return Ok(closed(transcript)),
        Ok(Err(source)) => return Err(ProbeError::Io { during: during.into(), source }),
        Ok(Ok(())) => {}
    }
    let outcome = read_outcome(&mut tcp, deadline, timeout, transcript).await;
    let _ = tokio::time::timeout(Duration::from_millis(200), tcp.shutdown()).await;
    outcome
}

async fn read_outcome(
    tcp: &mut TcpStream,
    deadline: Instant,
    timeout: Duration,
    transcript: &Transcript,
) -> Result<ProbeOutcome, ProbeError> {
    let during = "ClientHello probe";
    let mut seen = Vec::new();
    loop {
        let mut chunk = [0u8; 8192];
        let n = match crate::exec::timing::server(tokio::time::timeout_at(deadline, tcp.read(&mut chunk))).await {
            Err(_) => {
                return Err(ProbeError::Timeout { during: format!("{during}, waiting for the server"), after: timeout });
            }
            Ok(Ok(0)) => 0,
            Ok(Err(e)) if is_disconnect(&e) => 0,
            Ok(Err(source)) => return Err(ProbeError::Io { during: during.into(), source }),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            if seen.is_empty() {
                return Ok(closed(transcript));
            }
            return Err(malformed(transcript, &seen, "the connection closed in the middle of a record".into()));
        }
        seen.extend_from_slice(&chunk[..n]);
        match response::parse(&seen) {
            Ok(Some(outcome)) => {
                transcript.received(&outcome.describe());
                return Ok(outcome);
            }
            Ok(None) if seen.len() < MAX_REPLY => {}
            Ok(None) => return Err(malformed(transcript, &seen, format!("no ServerHello within {MAX_REPLY} bytes"))),
            Err(reason) => return Err(not_tls(transcript, &seen, reason)),
        }
    }
}

fn closed(transcript: &Transcript) -> ProbeOutcome {
    let outcome = ProbeOutcome::Closed;
    transcript.note(&outcome.describe());
    outcome
}

/// Bytes that are not TLS: a plaintext "try later" is named as such (the server refused the
/// connection, it did not answer the offer); other plaintext replies are said to be plaintext.
fn not_tls(transcript: &Transcript, seen: &[u8], reason: String) -> ProbeError {
    if let Some(reply) = crate::exec::busy::plaintext_refusal(seen) {
        transcript.received(&reply);
        return ProbeError::Unavailable { during: "ClientHello probe, where a TLS record was expected".into(), reply };
    }
    let plaintext = seen.iter().take(4).all(|b| b.is_ascii_graphic() || *b == b' ');
    let reason = if plaintext { format!("a plaintext reply where a TLS record was expected ({reason})") } else { reason };
    malformed(transcript, seen, reason)
}

fn malformed(transcript: &Transcript, seen: &[u8], reason: String) -> ProbeError {
    let seen = show_bytes(seen);
    transcript.received(&format!("<{seen}>"));
    ProbeError::Malformed { during: "ClientHello probe".into(), reason, seen }
}

/// The first bytes as hex, plus printable text when they look like a text protocol.
fn show_bytes(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(48)];
    let text: String = head.iter().map(|&b| if (0x20..0x7F).contains(&b) { b as char } else { '.' }).collect();
    format!("{} byte(s): {} \"{text}\"", bytes.len(), hex::encode(head))
}

fn is_disconnect(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
}

fn client_random() -> Result<[u8; 32], ProbeError> {
    let mut random = [0u8; 32];
    crate::exec::tls::provider()
        .secure_random
        .fill(&mut random)
        .map_err(|_| ProbeError::Harness("no randomness available for the ClientHello".into()))?;
    Ok(random)
}

#[cfg(test)]
mod tests;

//! The plaintext part of a STARTTLS port, done by hand so that the raw probe (not rustls) sends
//! the first TLS byte.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::ProbeError;
use crate::exec::smtp::linebuf::LineBuf;
use crate::exec::smtp::{SmtpSession, SmtpTimeouts};
use crate::exec::transcript::Transcript;

/// Where the plaintext preamble ended.
#[derive(Debug)]
pub enum Preamble {
    /// The server agreed to start TLS: the stream is positioned where the handshake starts.
    Ready(TcpStream),
    /// The server did not agree: the step and the reply (as on the wire) that stopped it.
    Refused { step: &'static str, reply: String },
}

/// Greeting, `EHLO`, `STARTTLS`; `Ready` after a 220 to STARTTLS.
pub async fn starttls_preamble_smtp(
    tcp: TcpStream,
    ehlo_name: &str,
    timeouts: SmtpTimeouts,
    transcript: &Transcript,
) -> Result<Preamble, ProbeError> {
    let (host, port) = tcp.peer_addr().map(|a| (a.ip().to_string(), a.port())).unwrap_or_default();
    let (mut session, greeting) = SmtpSession::from_tcp(tcp, &host, port, timeouts, transcript.clone()).await?;
    if greeting.code != 220 {
        return Ok(Preamble::Refused { step: "greeting", reply: greeting.render() });
    }
    let (ehlo, _) = session.ehlo(ehlo_name).await?;
    if ehlo.code != 250 {
        return Ok(Preamble::Refused { step: "EHLO", reply: ehlo.render() });
    }
    // The raw command, not `starttls()`: the handshake is the probe's, not rustls's.
    let reply = session.command("STARTTLS").await?;
    if (400..500).contains(&reply.code) {
        return Err(ProbeError::Unavailable { during: "STARTTLS".into(), reply: reply.render() });
    }
    if reply.code != 220 {
        return Ok(Preamble::Refused { step: "STARTTLS", reply: reply.render() });
    }
    Ok(Preamble::Ready(session.into_tcp()?))
}

/// The tag of the STARTTLS command.
const TAG: &str = "a1";
/// Untagged lines tolerated before the tagged reply.
const MAX_UNTAGGED: usize = 100;
const MAX_LINE: usize = 64 * 1024;

/// Greeting, `a1 STARTTLS`; `Ready` after `a1 OK`.
pub async fn starttls_preamble_imap(
    tcp: TcpStream,
    reply_timeout: Duration,
    transcript: &Transcript,
) -> Result<Preamble, ProbeError> {
    let mut lines = LineReader { tcp, buf: LineBuf::default(), transcript, timeout: reply_timeout };
    let greeting = lines.read_line("IMAP greeting", Instant::now() + reply_timeout).await?;
    if !greeting.starts_with("* ") {
        return Err(lines.malformed("IMAP greeting", &greeting, "an IMAP greeting starts with \"* \""));
    }
    if crate::exec::busy::is_refusal_line(&greeting) {
        return Err(ProbeError::Unavailable { during: "IMAP greeting".into(), reply: greeting });
    }
    if !starts_with_ignore_case(&greeting, "* OK") {
        return Ok(Preamble::Refused { step: "greeting", reply: greeting });
    }
    lines.send(&format!("{TAG} STARTTLS")).await?;
    let deadline = Instant::now() + reply_timeout;
    for _ in 0..=MAX_UNTAGGED {
        let line = lines.read_line("reply to STARTTLS", deadline).await?;
        if starts_with_ignore_case(&line, &format!("{TAG} OK")) {
            lines.discard_leftover();
            return Ok(Preamble::Ready(lines.tcp));
        }
        if line.starts_with(&format!("{TAG} ")) {
            return Ok(Preamble::Refused { step: "STARTTLS", reply: line });
        }
        if !line.starts_with("* ") {
            return Err(lines.malformed("reply to STARTTLS", &line, "neither tagged nor untagged"));
        }
    }
    Err(lines.malformed("reply to STARTTLS", "", "no tagged reply after 100 untagged lines"))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

struct LineReader<'a> {
    tcp: TcpStream,
    /// Searched once per byte, as the SMTP reader's (a trickled long line is not rescanned).
    buf: LineBuf,
    transcript: &'a Transcript,
    timeout: Duration,
}

impl LineReader<'_> {
    async fn read_line(&mut self, during: &str, deadline: Instant) -> Result<String, ProbeError> {
        loop {
            if let Some(raw) = self.buf.take_line() {
                let line = String::from_utf8_lossy(raw).trim_end_matches(['\r', '\n']).to_string();
                self.transcript.received(&line);
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                let partial = String::from_utf8_lossy(self.buf.unread()).into_owned();
                return Err(self.malformed(during, &partial, "no line end"));
            }
            let mut chunk = [0u8; 4096];
            match crate::exec::timing::server(tokio::time::timeout_at(deadline, self.tcp.read(&mut chunk))).await {
                Err(_) => return Err(ProbeError::Timeout { during: during.into(), after: self.timeout }),
                Ok(Ok(0)) => return Err(ProbeError::Closed { during: during.into() }),
                Ok(Ok(n)) => self.buf.extend(&chunk[..n]),
                Ok(Err(source)) => return Err(ProbeError::Io { during: during.into(), source }),
            }
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), ProbeError> {
        self.transcript.sent(line);
        let bytes = format!("{line}\r\n");
        match tokio::time::timeout(self.timeout, self.tcp.write_all(bytes.as_bytes())).await {
            Err(_) => Err(ProbeError::Timeout { during: "sending STARTTLS".into(), after: self.timeout }),
            Ok(Err(source)) => Err(ProbeError::Io { during: "sending STARTTLS".into(), source }),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Bytes after the tagged OK were sent in plaintext: they are not part of the handshake.
    fn discard_leftover(&mut self) {
        if !self.buf.is_empty() {
            self.transcript.received(&String::from_utf8_lossy(self.buf.unread()));
            self.transcript.note(&format!("{} unrequested plaintext bytes after STARTTLS discarded", self.buf.len()));
            self.buf.clear();
        }
    }

    fn malformed(&self, during: &str, line: &str, reason: &str) -> ProbeError {
        let seen: String = line.chars().take(200).collect();
        ProbeError::Malformed { during: during.into(), reason: reason.into(), seen: format!("{seen:?}") }
    }
}

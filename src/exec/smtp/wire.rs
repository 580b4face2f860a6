//! Line-oriented I/O over a [`Conn`], with a deadline on every read and write, and every line
//! written to the transcript as it crosses the wire (so a partial reply before a timeout is
//! still evidence).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::error::{SmtpError, Stage};
use super::linebuf::LineBuf;
use super::reply::{Reply, ReplyAssembler};
use crate::exec::timing;
use crate::exec::tls::{Conn, TlsError, TlsFacts, TlsSettings};
use crate::exec::transcript::Transcript;

/// Longest reply line accepted before the reply is declared malformed. RFC 5321 allows 512
/// octets; real servers exceed it, so the bound only stops a server that never ends a line.
const MAX_LINE: usize = 64 * 1024;
/// The most unread bytes kept while waiting to see whether the server closes.
const MAX_PENDING: usize = 1 << 20;
/// How much of an offending line an error message quotes.
const QUOTE: usize = 200;

pub(crate) struct Wire {
    /// `None` once a failed TLS handshake has consumed the connection.
    conn: Option<Conn>,
    /// Bytes read but not yet consumed as lines.
    buf: LineBuf,
    transcript: Transcript,
}

impl Wire {
    pub(crate) fn new(conn: Conn, transcript: Transcript) -> Self {
        Wire { conn: Some(conn), buf: LineBuf::default(), transcript }
    }

    pub(crate) fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.conn.as_ref().is_some_and(Conn::is_tls)
    }

    fn conn(&mut self) -> Result<&mut Conn, SmtpError> {
        self.conn.as_mut().ok_or_else(|| {
            SmtpError::Misuse("the connection was lost in a failed TLS handshake; open a new session".into())
        })
    }

    /// Reads one complete reply; the whole reply must arrive within `timeout`.
    pub(crate) async fn read_reply(&mut self, during: impl Into<Stage>, timeout: Duration) -> Result<Reply, SmtpError> {
        let during = during.into();
        let deadline = Instant::now() + timeout;
        let mut assembler = ReplyAssembler::default();
        loop {
            let line = self.read_line(&during, deadline, timeout).await?;
            self.transcript.received(&line);
            match assembler.push(&line) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => {}
                Err(reason) => {
                    return Err(SmtpError::Malformed { during, line: quote(&line), reason });
                }
            }
        }
    }

    /// One line without its line ending (CRLF, or a bare LF, which is accepted).
    async fn read_line(&mut self, during: &Stage, deadline: Instant, timeout: Duration) -> Result<String, SmtpError> {
        loop {
            if let Some(raw) = self.buf.take_line() {
                let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                // Scrubbed as it enters: a server echoing a token shows it nowhere downstream
                // (replies, verdict texts, errors, and their shortened quotes).
                return Ok(self.transcript.secrets().scrub(&String::from_utf8_lossy(raw)));
            }
            if self.buf.len() > MAX_LINE {
                let line = quote(&self.transcript.secrets().scrub(&String::from_utf8_lossy(self.buf.unread())));
                let reason = format!("no line end within {MAX_LINE} bytes");
                return Err(SmtpError::Malformed { during: during.clone(), line, reason });
            }
            let mut chunk = [0u8; 4096];
            let read = timing::server(tokio::time::timeout_at(deadline, self.conn()?.read(&mut chunk))).await;
            match read {
                Err(_) => {
                    self.record_partial();
                    return Err(SmtpError::Timeout { during: during.clone(), after: timeout });
                }
                Ok(Ok(0)) => {
                    let partial = self.record_partial();
                    return Err(SmtpError::Closed { during: during.clone(), reset: None, partial });
                }
                Ok(Ok(n)) => self.buf.extend(&chunk[..n]),
                Ok(Err(e)) => {
                    self.record_partial();
                    return Err(SmtpError::from_io(during, e));
                }
            }
        }
    }

    /// Records an unterminated line left in the buffer, and returns it.
    fn record_partial(&mut self) -> Option<String> {
        if self.buf.is_empty() {
            return None;
        }
        let partial = self.transcript.secrets().scrub(&String::from_utf8_lossy(self.buf.unread()));
        self.transcript.received(&partial);
        self.transcript.note("(the line above arrived without a line end)");
        Some(quote(&partial))
    }

    /// Sends `line` + CRLF and records it.
    pub(crate) async fn send_line(&mut self, line: &str, during: &str, timeout: Duration) -> Result<(), SmtpError> {
        one_line(line, during)?;
        self.transcript.sent(line);
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write(&bytes, during, timeout).await
    }

    /// Sends a line carrying a secret; the transcript gets `description` only.
    pub(crate) async fn send_secret_line(
        &mut self,
        line: Zeroizing<String>,
        description: &str,
        during: &str,
        timeout: Duration,
    ) -> Result<(), SmtpError> {
        one_line(&line, during)?;
        self.transcript.sent_secret(description);
        let mut bytes = Zeroizing::new(Vec::with_capacity(line.len() + 2));
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write(&bytes, during, timeout).await
    }

    /// Writes and flushes bytes the caller has already recorded (or summarised).
    pub(crate) async fn write(&mut self, bytes: &[u8], during: &str, timeout: Duration) -> Result<(), SmtpError> {
        let conn = self.conn()?;
        let write = async {
            conn.write_all(bytes).await?;
            conn.flush().await
        };
        match tokio::time::timeout(timeout, write).await {
            Err(_) => Err(SmtpError::Timeout { during: format!("{during} (sending)").into(), after: timeout }),
            Ok(Err(e)) => Err(SmtpError::from_io(&during.into(), e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// True if the peer closes (EOF or reset) within `wait`. Bytes that arrive meanwhile are kept
    /// for the next read.
    /// A server that keeps sending more than [`MAX_PENDING`] bytes meanwhile is talking, not
    /// closing: the wait ends there (`false`) rather than buffering without end.
    pub(crate) async fn closed_by_peer(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let Some(conn) = self.conn.as_mut() else { return true };
        while self.buf.len() <= MAX_PENDING {
            let mut chunk = [0u8; 4096];
            match timing::server(tokio::time::timeout_at(deadline, conn.read(&mut chunk))).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(n)) => self.buf.extend(&chunk[..n]),
            }
        }
        false
    }

    /// Runs the TLS handshake in place. Plaintext bytes already buffered are discarded (and
    /// noted): they were sent before TLS and must not be read as if protected by it.
    pub(crate) async fn upgrade(&mut self, settings: &TlsSettings) -> Result<TlsFacts, (TlsError, TlsFacts)> {
        let Some(conn) = self.conn.take() else {
            return Err((TlsError::Config("no connection left to upgrade".into()), TlsFacts::default()));
        };
        self.discard_buffered("before the TLS handshake");
        match conn.upgrade(settings).await {
            Ok((conn, facts)) => {
                self.conn = Some(conn);
                Ok(facts)
            }
            Err(failure) => Err(failure),
        }
    }

    fn discard_buffered(&mut self, when: &str) {
        if !self.buf.is_empty() {
            let n = self.buf.len();
            self.transcript.received(&String::from_utf8_lossy(self.buf.unread()));
            self.transcript.note(&format!("{n} unrequested plaintext bytes from the server {when} were discarded"));
            self.buf.clear();
        }
    }

    /// Gives the plain TCP stream back (for a raw TLS probe after a plaintext STARTTLS).
    pub(crate) fn into_tcp(mut self) -> Result<TcpStream, SmtpError> {
        self.discard_buffered("before the TLS probe");
        match self.conn.take() {
            Some(Conn::Plain(tcp)) => Ok(tcp),
            Some(Conn::Tls(_)) => Err(SmtpError::Misuse("the connection is already TLS".into())),
            None => Err(SmtpError::Misuse("no connection left".into())),
        }
    }

    /// Closes our side (TLS close_notify, then FIN); failures do not matter any more.
    pub(crate) async fn shutdown(&mut self, timeout: Duration) {
        if let Some(conn) = self.conn.as_mut() {
            let _ = tokio::time::timeout(timeout, conn.shutdown()).await;
        }
    }
}

/// Every command line written goes through here: a CR or LF inside would be a second command
/// the guard and the message cap never saw. The line itself is not quoted (it may hold a secret).
fn one_line(line: &str, during: &str) -> Result<(), SmtpError> {
    if line.contains(['\r', '\n']) {
        return Err(SmtpError::Misuse(format!(
            "{during}: the command line holds a line break (CR or LF); refused, nothing was sent"
        )));
    }
    Ok(())
}

fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

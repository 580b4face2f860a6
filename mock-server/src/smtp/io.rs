//! The SMTP connection: plain or TLS, a line reader with an idle timeout and length limits, the
//! DATA reader (dot-unstuffing, size limit), and writes mirrored to the wire log.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::wire::WireLog;

/// An idle client is disconnected after this long without sending anything.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest command line accepted (RFC 5321 says 512; SASL responses can be much longer).
pub const MAX_COMMAND_LINE: usize = 64 * 1024;
/// Longest line inside DATA (RFC 5321 says 1000; be lenient, but bounded).
const MAX_DATA_LINE: usize = 1024 * 1024;

pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Why no (more) input could be read: each ends the session.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("client closed the connection")]
    Closed,
    #[error("client idle for {0:?}")]
    Idle(Duration),
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
}

/// A line read; `TooLong` when the client exceeded the limit (the rest of the line was skipped).
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Complete(Vec<u8>),
    TooLong,
}

/// What DATA brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Data {
    /// The message, dot-unstuffed, without the final `.` line.
    Complete(Vec<u8>),
    /// Over the size limit: read to the end and dropped.
    TooBig,
    /// Stopped on purpose after `n` bytes (fault `drop-mid-data`).
    Stopped(usize),
}

pub struct SmtpIo {
    conn: Conn,
    buf: Vec<u8>,
    pub log: WireLog,
}

impl SmtpIo {
    pub fn new(conn: Conn, log: WireLog) -> Self {
        SmtpIo { conn, buf: Vec::new(), log }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.conn, Conn::Tls(_))
    }

    /// The client's certificate chain when a TLS session has one.
    pub fn peer_certificates(&self) -> Option<Vec<rustls::pki_types::CertificateDer<'static>>> {
        match &self.conn {
            Conn::Tls(tls) => tls.get_ref().1.peer_certificates().map(|c| c.iter().map(|c| c.clone().into_owned()).collect()),
            Conn::Plain(_) => None,
        }
    }

    /// Gives back the plain TCP stream for STARTTLS, dropping any input the client pipelined
    /// after the command (RFC 3207 §4.2: it must not be carried into the TLS session).
    /// Returns how many bytes were dropped; `Err(self)` when already in TLS.
    pub fn into_plain(self) -> Result<(TcpStream, WireLog, usize), Self> {
        match self.conn {
            Conn::Plain(tcp) => Ok((tcp, self.log, self.buf.len())),
            conn @ Conn::Tls(_) => Err(SmtpIo { conn, ..self }),
        }
    }

    /// Reads one line (terminator included) of at most `max` bytes.
    pub async fn read_line(&mut self, max: usize) -> Result<Line, ReadError> {
        let mut skipping = false;
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Ok(if skipping || line.len() > max { Line::TooLong } else { Line::Complete(line) });
            }
            if self.buf.len() > max {
                skipping = true;
                self.buf.clear();
            }
            self.fill().await?;
        }
    }

    /// Reads a DATA body up to the lone `.` line, keeping at most `limit` bytes; with
    /// `stop_after`, returns as soon as that many bytes were read (the rest stays unread).
    pub async fn read_data(&mut self, limit: usize, stop_after: Option<usize>) -> Result<Data, ReadError> {
        let mut message = Vec::new();
        let mut too_big = false;
        let mut seen = 0usize;
        loop {
            let line = match self.read_line(MAX_DATA_LINE).await? {
                Line::Complete(line) => line,
                Line::TooLong => {
                    too_big = true;
                    continue;
                }
            };
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            seen += line.len();
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            if message.len() + unstuffed.len() > limit {
                too_big = true;
                message = Vec::new();
            }
            if !too_big {
                message.extend_from_slice(unstuffed);
            }
            if stop_after.is_some_and(|n| seen >= n) {
                return Ok(Data::Stopped(seen));
            }
        }
        self.log.client(format!("<message: {seen} bytes of DATA>").as_bytes());
        Ok(if too_big { Data::TooBig } else { Data::Complete(message) })
    }

    /// Writes server text (CRLF-terminated lines) and flushes.
    pub async fn write(&mut self, text: &str) -> std::io::Result<()> {
        self.log.server(text);
        self.write_raw(text.as_bytes()).await
    }

    /// Writes bytes as they are (the `garbage` fault's malformed line).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.conn.write_all(bytes).await?;
        self.conn.flush().await
    }

    /// Fault `oversized-line`: `prefix` and megabytes without a line end, held until the client
    /// leaves.
    pub async fn endless_line(&mut self, prefix: &[u8]) {
        crate::misbehave::send_endless_line(&mut self.conn, prefix).await;
    }

    /// Fault `tls-alert-mid-session`: a fatal TLS alert, then the connection closes (nothing
    /// happens on a plain connection: there is no TLS to alert on).
    pub async fn fatal_alert(&mut self) {
        if let Conn::Tls(tls) = &mut self.conn
            && let Err(e) = crate::misbehave::send_fatal_alert(tls).await
        {
            self.log.note(&format!("fatal alert not sent: {e}"));
        }
    }

    /// Closes our side cleanly (TLS close_notify, then FIN).
    pub async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.conn.shutdown()).await;
    }

    async fn fill(&mut self) -> Result<(), ReadError> {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(IDLE_TIMEOUT, self.conn.read(&mut chunk))
            .await
            .map_err(|_| ReadError::Idle(IDLE_TIMEOUT))??;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn pair() -> (SmtpIo, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (SmtpIo::new(Conn::Plain(server), WireLog::new(false, "test")), client)
    }

    #[tokio::test]
    async fn lines_long_lines_and_pipelined_input() {
        let (mut io, mut client) = pair().await;
        let long = "X".repeat(100);
        client.write_all(format!("NOOP\r\n{long}\r\nQUIT\r\n").as_bytes()).await.unwrap();
        assert_eq!(io.read_line(50).await.unwrap(), Line::Complete(b"NOOP\r\n".to_vec()));
        assert_eq!(io.read_line(50).await.unwrap(), Line::TooLong);
        assert_eq!(io.read_line(50).await.unwrap(), Line::Complete(b"QUIT\r\n".to_vec()));
        drop(client);
        assert!(matches!(io.read_line(50).await, Err(ReadError::Closed)));
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_limited() {
        let (mut io, mut client) = pair().await;
        client.write_all(b"a\r\n..b\r\n.\r\nNEXT\r\n").await.unwrap();
        assert_eq!(io.read_data(100, None).await.unwrap(), Data::Complete(b"a\r\n.b\r\n".to_vec()));
        assert_eq!(io.read_line(50).await.unwrap(), Line::Complete(b"NEXT\r\n".to_vec()));
        client.write_all(b"0123456789\r\n0123456789\r\n.\r\n").await.unwrap();
        assert_eq!(io.read_data(15, None).await.unwrap(), Data::TooBig);
        client.write_all(b"0123456789\r\n0123456789\r\n").await.unwrap();
        assert_eq!(io.read_data(1000, Some(5)).await.unwrap(), Data::Stopped(12));
    }
}

//! The TCP stream under the harness's TLS sessions, keeping the first bytes the server sent: a
//! server refusing the connection in plaintext on a TLS port (`421 …`, `* BYE …`, as Exim does
//! beyond `smtp_accept_max`) is then named for what it said, not as a corrupt TLS record.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How many of the server's first bytes are kept.
const KEPT: usize = 512;

pub struct Sniffed {
    tcp: TcpStream,
    first: Vec<u8>,
}

impl Sniffed {
    pub fn new(tcp: TcpStream) -> Self {
        Sniffed { tcp, first: Vec::new() }
    }

    /// The server's first bytes (up to 512).
    pub fn first_bytes(&self) -> &[u8] {
        &self.first
    }

    /// True when the server's first byte cannot start a TLS record (content types 20 to 24).
    pub fn not_tls(&self) -> bool {
        self.first.first().is_some_and(|b| !(0x14..=0x18).contains(b))
    }
}

impl AsyncRead for Sniffed {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if this.first.len() < KEPT {
            let new = &buf.filled()[before..];
            let take = new.len().min(KEPT - this.first.len());
            this.first.extend_from_slice(&new[..take]);
        }
        polled
    }
}

impl AsyncWrite for Sniffed {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn keeps_the_first_bytes_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"421 4.7.0 Too many connections\r\n").await.unwrap();
        });
        let mut sniffed = Sniffed::new(TcpStream::connect(addr).await.unwrap());
        let mut all = Vec::new();
        sniffed.read_to_end(&mut all).await.unwrap();
        server.await.unwrap();
        assert_eq!(sniffed.first_bytes(), b"421 4.7.0 Too many connections\r\n");
        assert!(sniffed.not_tls());
    }
}

//! The byte stream under an IMAP session: plain TCP before STARTTLS, TLS after it (or from the
//! first byte on the implicit-TLS port).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::tls::{ServerTls, client_cert_mailbox};

pub enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// What the TLS handshake established about the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The client presented a certificate (the TLS layer verified it, unless a fault says not to).
    pub has_client_cert: bool,
    /// The mailbox that certificate is bound to (its subjectAltName e-mail address).
    pub cert_mailbox: Option<String>,
}

/// TLS-accepts `tcp`, giving up after `timeout`.
pub async fn accept_tls(tcp: TcpStream, tls: &ServerTls, timeout: Duration) -> io::Result<(Transport, TlsInfo)> {
    // `ServerTls::accept` also plays the `tls10` fault (a legacy hello answered, then closed).
    let stream = tokio::time::timeout(timeout, tls.accept(tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client did not finish the TLS handshake in time"))?
        .map_err(|e| io::Error::other(e.to_string()))?;
    let peer = stream.get_ref().1.peer_certificates();
    let info = TlsInfo { has_client_cert: peer.is_some_and(|c| !c.is_empty()), cert_mailbox: client_cert_mailbox(peer) };
    Ok((Transport::Tls(Box::new(stream)), info))
}

impl Transport {
    /// The TCP stream of a session still in clear text (for STARTTLS).
    pub fn into_plain(self) -> Option<TcpStream> {
        match self {
            Transport::Plain(tcp) => Some(tcp),
            Transport::Tls(_) => None,
        }
    }
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

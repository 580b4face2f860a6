//! The byte-level misbehaviour of the robustness faults that no codec would produce: a server
//! that never speaks, a TLS handshake refused with an alert, a reply line that never ends, a
//! fatal TLS alert in the middle of a session.
//!
//! Each function ends when the client gives up (closes) or after [`HOLD_LIMIT`], so a mock
//! session never outlives the harness waiting on it by much.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// A misbehaving session holds its connection at most this long.
pub const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// Fault `oversized-line`: bytes sent without a line end, far over the harness's line limits
/// (SMTP 64 KiB, IMAP 1 MiB).
pub const OVERSIZED_LINE_BYTES: usize = 4 << 20;

/// Fault `eof-mid-literal`: the literal size announced, and the bytes actually sent of it.
pub const LITERAL_ANNOUNCED: usize = 4096;
pub const LITERAL_SENT: usize = 100;

/// A fatal `handshake_failure` alert record, in clear (TLS 1.2/1.3 record layer).
pub const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// Reads and drops whatever the client sends until it closes, or [`HOLD_LIMIT`].
pub async fn hold<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(HOLD_LIMIT, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// Fault `silent`: the connection is accepted and then nothing is ever sent (no greeting, no TLS
/// handshake answer).
pub async fn stay_silent(mut tcp: TcpStream) {
    hold(&mut tcp).await;
}

/// Fault `tls-handshake-fail`: waits for the ClientHello, answers it with a fatal
/// `handshake_failure` alert and closes.
pub async fn refuse_handshake(tcp: &mut TcpStream) -> std::io::Result<()> {
    let mut hello = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut hello))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no ClientHello"))??;
    if n > 0 {
        tcp.write_all(&HANDSHAKE_FAILURE_ALERT).await?;
        tcp.flush().await?;
    }
    let _ = tcp.shutdown().await;
    Ok(())
}

/// Fault `oversized-line`: `prefix` then [`OVERSIZED_LINE_BYTES`] of text without a line end,
/// then the connection is held open (still no line end) until the client leaves. Returns when
/// the client closed; write errors mean the same.
pub async fn send_endless_line<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, prefix: &[u8]) {
    let chunk = vec![b'x'; 64 * 1024];
    let send = async {
        stream.write_all(prefix).await?;
        for _ in 0..OVERSIZED_LINE_BYTES / chunk.len() {
            stream.write_all(&chunk).await?;
        }
        stream.flush().await
    };
    if tokio::time::timeout(HOLD_LIMIT, send).await.is_ok_and(|r| r.is_ok()) {
        hold(stream).await;
    }
}

/// Fault `eof-mid-literal`: a FETCH response announcing a literal of [`LITERAL_ANNOUNCED`]
/// bytes followed by only [`LITERAL_SENT`] of them.
pub fn truncated_fetch() -> Vec<u8> {
    let mut out = format!("* 1 FETCH (UID 1 BODY[] {{{LITERAL_ANNOUNCED}}}\r\n").into_bytes();
    let body = b"From: <mock@operateur.mock.mssante.test>\r\nSubject: truncated on purpose\r\n\r\n";
    out.extend(body.iter().cycle().take(LITERAL_SENT));
    out
}

/// Fault `tls-alert-mid-session`: makes rustls send a fatal alert on an established session,
/// encrypted as the protocol requires, then closes the TCP connection.
///
/// rustls has no API to send an arbitrary fatal alert, but it sends `bad_record_mac` (encrypted
/// with the session keys) when an incoming record fails to decrypt: a forged record is fed to it.
pub async fn send_fatal_alert(tls: &mut TlsStream<TcpStream>) -> std::io::Result<()> {
    let (tcp, conn) = tls.get_mut();
    let mut forged = vec![0x17, 0x03, 0x03, 0x00, 0x20];
    forged.extend([0x5a; 32]);
    conn.read_tls(&mut forged.as_slice())?;
    // Expected to fail: that failure is what queues the alert.
    let _ = conn.process_new_packets();
    let mut out = Vec::new();
    while conn.wants_write() {
        if conn.write_tls(&mut out)? == 0 {
            break;
        }
    }
    tcp.write_all(&out).await?;
    tcp.flush().await?;
    tcp.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (server, client)
    }

    #[tokio::test]
    async fn silent_sends_nothing_and_ends_when_the_client_leaves() {
        let (server, mut client) = pair().await;
        let task = tokio::spawn(stay_silent(server));
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_millis(200), client.read(&mut buf)).await;
        assert!(read.is_err(), "the silent server sent something");
        drop(client);
        tokio::time::timeout(Duration::from_secs(2), task).await.expect("ends after the client left").unwrap();
    }

    #[tokio::test]
    async fn handshake_refusal_is_a_fatal_alert() {
        let (mut server, mut client) = pair().await;
        client.write_all(&[0x16, 0x03, 0x01, 0x00, 0x01, 0x01]).await.unwrap();
        refuse_handshake(&mut server).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, HANDSHAKE_FAILURE_ALERT);
    }

    #[tokio::test]
    async fn endless_line_has_no_line_end() {
        let (mut server, mut client) = pair().await;
        let task = tokio::spawn(async move { send_endless_line(&mut server, b"250-").await });
        let mut got = vec![0u8; 256 * 1024];
        client.read_exact(&mut got).await.unwrap();
        assert!(got.starts_with(b"250-x") && !got.contains(&b'\n'));
        drop(client);
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("ends after the client left").unwrap();
    }

    /// A real TLS 1.3 session: the client must read the server's fatal alert. (TLS 1.2 would
    /// need an RSA certificate for the allow-listed suites, which rcgen cannot generate quickly;
    /// `tests/integration/robustness.rs` covers the harness's default negotiation.)
    #[tokio::test]
    async fn mid_session_alert_reaches_the_client_as_an_alert() {
        use std::sync::Arc;
        for version in [&rustls::version::TLS13] {
            let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
            let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
            let der = cert.cert.der().clone();
            let server_tls = crate::tls::ServerTls::new(vec![der.clone()], key, vec![der]).unwrap();
            let mut roots = rustls::RootCertStore::empty();
            roots.add(cert.cert.der().clone()).unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let client = rustls::ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[version])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let (server, client_tcp) = pair().await;
            let accepting = tokio::spawn(async move { server_tls.accept(server).await });
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let mut client = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, client_tcp).await.unwrap();
            let mut server = accepting.await.unwrap().unwrap();
            send_fatal_alert(&mut server).await.unwrap();
            let mut buf = [0u8; 64];
            let err = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await.unwrap().unwrap_err();
            let inner = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
            assert!(matches!(inner, Some(rustls::Error::AlertReceived(_))), "{version:?}: {err:?}");
        }
    }

    #[test]
    fn truncated_fetch_announces_more_than_it_sends() {
        let bytes = truncated_fetch();
        let head_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert!(bytes[..head_end].ends_with(format!("{{{LITERAL_ANNOUNCED}}}\r\n").as_bytes()));
        assert_eq!(bytes.len() - head_end, LITERAL_SENT);
    }
}

//! Test helpers: start a mock on loopback, a small raw SMTP client (plain, STARTTLS, implicit
//! TLS, client certificates) trusting the generated ca.pem, and a raw HTTP/1.1 POST.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mssconf_mock::faults::{Fault, FaultSet};
use mssconf_mock::{MockConfig, MockHandle, MockOperator};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

pub const WAIT: Duration = Duration::from_secs(10);
pub const SERVER_NAME: &str = "mock.mssante.test";

/// One PKI for the whole test binary, generated once; every mock reuses it without writing.
pub fn shared_pki_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let accounts = mssconf_mock::accounts::Accounts::standard("operateur.mock.mssante.test");
        let spec = mssconf_mock::pki::PkiSpec {
            host_name: SERVER_NAME.into(),
            app1: accounts.by_role("app1").unwrap().address.clone(),
            app2: accounts.by_role("app2").unwrap().address.clone(),
        };
        mssconf_mock::pki::Pki::prepare(dir.path(), &spec).expect("PKI");
        dir
    });
    dir.path().to_path_buf()
}

pub async fn start(faults: &[Fault]) -> MockHandle {
    start_with(faults.iter().copied().collect(), |_| {}).await
}

pub async fn start_with(faults: FaultSet, tweak: impl FnOnce(&mut MockConfig)) -> MockHandle {
    let mut config = MockConfig::new(shared_pki_dir());
    config.faults = faults;
    config.log_wire = std::env::var_os("MOCK_LOG_WIRE").is_some();
    tweak(&mut config);
    MockOperator::start(config).await.expect("mock starts")
}

pub fn address(mock: &MockHandle, role: &str) -> String {
    mock.context().accounts.by_role(role).unwrap().address.clone()
}

// ---------------------------------------------------------------- TLS

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn roots(ca: &Path) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

/// A client trusting only `ca`, optionally showing a certificate (cert file holds the chain).
pub fn client_config(ca: &Path, identity: Option<(&Path, &Path)>) -> ClientConfig {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(ca));
    match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert).unwrap().map(|c| c.unwrap()).collect();
            builder.with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(key).unwrap()).unwrap()
        }
    }
}

pub fn default_tls(mock: &MockHandle) -> ClientConfig {
    client_config(&mock.pki_files().ca, None)
}

pub fn identity(files: &mssconf_mock::pki::CertKeyFiles) -> Option<(&Path, &Path)> {
    Some((files.cert.as_path(), files.key.as_path()))
}

// ---------------------------------------------------------------- SMTP client

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

pub struct Smtp {
    stream: Option<Stream>,
    buf: Vec<u8>,
}

impl Smtp {
    /// Connects and reads the greeting.
    pub async fn connect(addr: std::net::SocketAddr) -> (Smtp, Reply) {
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr)).await.unwrap().unwrap();
        let mut smtp = Smtp { stream: Some(Stream::Plain(tcp)), buf: Vec::new() };
        let greeting = smtp.reply().await;
        (smtp, greeting)
    }

    /// Connects with implicit TLS and reads the greeting.
    pub async fn connect_tls(addr: std::net::SocketAddr, config: ClientConfig) -> (Smtp, Reply) {
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr)).await.unwrap().unwrap();
        let tls = handshake(tcp, config).await.expect("TLS handshake");
        let mut smtp = Smtp { stream: Some(Stream::Tls(Box::new(tls))), buf: Vec::new() };
        let greeting = smtp.reply().await;
        (smtp, greeting)
    }

    /// Connects to the STARTTLS port, EHLO, STARTTLS, handshake, EHLO again.
    pub async fn connect_starttls(addr: std::net::SocketAddr, config: ClientConfig) -> (Smtp, Reply) {
        let (mut smtp, greeting) = Smtp::connect(addr).await;
        assert_eq!(greeting.code, 220);
        assert_eq!(smtp.cmd("EHLO client.test").await.code, 250);
        assert_eq!(smtp.cmd("STARTTLS").await.code, 220);
        smtp.start_tls(config).await.expect("TLS handshake");
        let ehlo = smtp.cmd("EHLO client.test").await;
        assert_eq!(ehlo.code, 250, "{ehlo:?}");
        (smtp, ehlo)
    }

    pub async fn start_tls(&mut self, config: ClientConfig) -> std::io::Result<()> {
        let Some(Stream::Plain(tcp)) = self.stream.take() else { panic!("not plain") };
        let tls = handshake(tcp, config).await?;
        self.stream = Some(Stream::Tls(Box::new(tls)));
        Ok(())
    }

    pub fn tls(&self) -> Option<&rustls::ClientConnection> {
        match self.stream.as_ref() {
            Some(Stream::Tls(t)) => Some(t.get_ref().1),
            _ => None,
        }
    }

    fn io(&mut self) -> &mut dyn Io {
        match self.stream.as_mut().expect("stream") {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.as_mut(),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let io = self.io();
        io.write_all(bytes).await.unwrap();
        io.flush().await.unwrap();
    }

    pub async fn line(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    pub async fn cmd(&mut self, line: &str) -> Reply {
        self.line(line).await;
        self.reply().await
    }

    /// Reads one whole reply (multi-line aware); panics after [`WAIT`].
    pub async fn reply(&mut self) -> Reply {
        tokio::time::timeout(WAIT, self.try_reply()).await.expect("reply in time").expect("a reply")
    }

    /// A reply, or `None` when the server closed the connection.
    pub async fn try_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await?;
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if last {
                return Some(Reply { code, lines });
            }
        }
    }

    /// One raw line without CRLF (lossy UTF-8), `None` at EOF.
    pub async fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Some(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string());
            }
            let mut chunk = [0u8; 4096];
            let n = self.io().read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// True when the server has closed (EOF or reset) within [`WAIT`].
    pub async fn closed(&mut self) -> bool {
        matches!(tokio::time::timeout(WAIT, self.read_line()).await, Ok(None))
    }

    pub async fn xoauth2(&mut self, mailbox: &str, token: &str) -> Reply {
        self.cmd(&format!("AUTH XOAUTH2 {}", xoauth2_payload(mailbox, token))).await
    }

    /// MAIL, RCPT…, DATA with `message` (CRLF text, dot-stuffed here); the final reply.
    pub async fn send_message(&mut self, mail_from: &str, rcpts: &[&str], message: &str) -> Reply {
        let r = self.cmd(&format!("MAIL FROM:{mail_from}")).await;
        if r.code != 250 {
            return r;
        }
        for rcpt in rcpts {
            let r = self.cmd(&format!("RCPT TO:{rcpt}")).await;
            if r.code != 250 {
                return r;
            }
        }
        let r = self.cmd("DATA").await;
        if r.code != 354 {
            return r;
        }
        self.send_raw(&dot_stuff(message)).await;
        self.send_raw(b".\r\n").await;
        self.reply().await
    }
}

async fn handshake(tcp: TcpStream, config: ClientConfig) -> std::io::Result<TlsStream<TcpStream>> {
    let connector = TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(SERVER_NAME).unwrap();
    let tls = tokio::time::timeout(WAIT, connector.connect(name, tcp)).await.expect("handshake in time")?;
    Ok(tls)
}

pub fn dot_stuff(message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in message.split_inclusive("\r\n") {
        if line.starts_with('.') {
            out.push(b'.');
        }
        out.extend_from_slice(line.as_bytes());
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

pub fn xoauth2_payload(mailbox: &str, token: &str) -> String {
    STANDARD.encode(format!("user={mailbox}\x01auth=Bearer {token}\x01\x01"))
}

pub fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

// ---------------------------------------------------------------- HTTP

/// A raw HTTP/1.1 request; (status, body).
pub async fn http(addr: std::net::SocketAddr, method: &str, path: &str, form: Option<&str>) -> (u16, String) {
    let mut tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr)).await.unwrap().unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(body) = form {
        request += &format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    } else {
        request += "\r\n";
    }
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut response)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A token from the mock's issuer.
pub async fn token(mock: &MockHandle, mailbox: &str, lifetime: i64) -> String {
    let (status, body) =
        http(mock.endpoints().http, "POST", "/psc/token", Some(&format!("mailbox={mailbox}&lifetime={lifetime}"))).await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["access_token"].as_str().unwrap().to_string()
}

/// An authenticated STARTTLS session as `role` (PER/ORG via XOAUTH2).
pub async fn logged_in(mock: &MockHandle, role: &str) -> Smtp {
    let mailbox = address(mock, role);
    let token = token(mock, &mailbox, 300).await;
    let (mut smtp, _) = Smtp::connect_starttls(mock.endpoints().smtp_starttls, default_tls(mock)).await;
    let r = smtp.xoauth2(&mailbox, &token).await;
    assert_eq!(r.code, 235, "{r:?}");
    smtp
}

/// Messages of `mailbox`'s INBOX, raw.
pub fn inbox(mock: &MockHandle, mailbox: &str) -> Vec<Vec<u8>> {
    mock.context()
        .store
        .with_mailbox(mailbox, |m| m.folders["INBOX"].messages.iter().map(|m| m.raw.to_vec()).collect())
        .unwrap_or_default()
}

pub fn faults(list: &[Fault]) -> FaultSet {
    list.iter().copied().collect()
}

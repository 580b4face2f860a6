//! Shared by the IMAP integration tests: a test PKI generated at run time, a mock IMAP server on
//! 127.0.0.1 port 0, and a raw IMAP client over tokio-rustls that returns the exact bytes.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mssconf_mock::accounts::Accounts;
use mssconf_mock::context::MockContext;
use mssconf_mock::faults::{Fault, FaultSet};
use mssconf_mock::imap::{ImapOptions, serve_with};
use mssconf_mock::store::Store;
use mssconf_mock::tls::ServerTls;
use mssconf_mock::tokens::TokenService;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

pub const DOMAIN: &str = "op.test";
/// Longest wait for any server answer in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn per1() -> String {
    format!("dr.martin.fictif@{DOMAIN}")
}
pub fn per2() -> String {
    format!("dr.durand.fictif@{DOMAIN}")
}
pub fn app1() -> String {
    format!("app.dpi.fictif@{DOMAIN}")
}
pub fn app2() -> String {
    format!("app.labo.fictif@{DOMAIN}")
}

/// A test CA with a server certificate for `localhost` and client certificates for APP mailboxes.
pub struct Pki {
    pub ca: CertificateDer<'static>,
    issuer: CertifiedIssuer<'static, KeyPair>,
    pub server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

pub struct ClientCert {
    pub chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl ClientCert {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}

impl Pki {
    pub fn new() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut server_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
        Pki {
            ca: issuer.der().clone(),
            server_chain: vec![server_cert.der().clone()],
            server_key: server_key.serialize_der(),
            issuer,
        }
    }

    /// A client certificate whose subjectAltName is the e-mail address `mailbox`.
    pub fn client(&self, mailbox: &str) -> ClientCert {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![SanType::Rfc822Name(mailbox.try_into().unwrap())];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ClientCert { chain: vec![cert.der().clone()], key: key.serialize_der() }
    }

    pub fn server_tls(&self) -> ServerTls {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        ServerTls::new(self.server_chain.clone(), key, vec![self.ca.clone()]).unwrap()
    }
}

pub struct Mock {
    pub ctx: MockContext,
    pub pki: Arc<Pki>,
    pub plain: SocketAddr,
    pub implicit: SocketAddr,
}

pub fn options() -> ImapOptions {
    ImapOptions {
        read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        handshake_timeout: Duration::from_secs(10),
        slow_delay: Duration::from_millis(1500),
    }
}

/// A mock with both listeners (STARTTLS and implicit TLS) and the given faults.
pub async fn start(faults: &[Fault]) -> Mock {
    start_with(faults, options()).await
}

pub async fn start_with(faults: &[Fault], options: ImapOptions) -> Mock {
    let faults: FaultSet = faults.iter().copied().collect();
    let accounts = Accounts::standard(DOMAIN);
    let store = Store::new(accounts.all().iter().map(|a| a.address.as_str()));
    let pki = Arc::new(Pki::new());
    let ctx = MockContext {
        store,
        tokens: TokenService::new("https://psc.mock.test", faults.clone()),
        faults,
        behaviours: Default::default(),
        accounts,
        tls: pki.server_tls(),
        host_name: "imap.op.test".into(),
        max_message_size: 10 * 1024 * 1024,
        whitelist: vec![DOMAIN.into()],
        crl: None,
        log_wire: std::env::var_os("MSSCONF_TEST_WIRE").is_some(),
        flaky_once: Default::default(),
        connections: Default::default(),
    };
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let implicit = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (plain_addr, implicit_addr) = (plain.local_addr().unwrap(), implicit.local_addr().unwrap());
    tokio::spawn(serve_with(plain, ctx.clone(), false, options.clone()));
    tokio::spawn(serve_with(implicit, ctx.clone(), true, options));
    Mock { ctx, pki, plain: plain_addr, implicit: implicit_addr }
}

impl Mock {
    pub fn token(&self, mailbox: &str, lifetime_secs: i64) -> String {
        self.ctx.tokens.issue(mailbox, "99900000001", lifetime_secs)
    }

    /// Clear-text connection, greeting read.
    pub async fn connect_plain(&self) -> (Client, String) {
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(self.plain)).await.unwrap().unwrap();
        let mut client = Client { conn: Conn::Plain(tcp), pki: self.pki.clone(), tag: 0 };
        let greeting = client.line().await;
        (client, greeting)
    }

    /// Implicit-TLS connection (optionally with a client certificate), greeting read.
    pub async fn connect_tls(&self, cert: Option<&ClientCert>) -> (Client, String) {
        let tcp = tokio::time::timeout(WAIT, TcpStream::connect(self.implicit)).await.unwrap().unwrap();
        let tls = handshake(&self.pki, tcp, cert).await.unwrap();
        let mut client = Client { conn: Conn::Tls(Box::new(tls)), pki: self.pki.clone(), tag: 0 };
        let greeting = client.line().await;
        (client, greeting)
    }

    /// Implicit TLS and a successful XOAUTH2 login as `mailbox`.
    pub async fn login(&self, mailbox: &str) -> Client {
        let (mut client, _) = self.connect_tls(None).await;
        let token = self.token(mailbox, 300);
        // Tag `L`, so that the test's own commands are t1, t2…
        client.send(format!("L AUTHENTICATE XOAUTH2 {}\r\n", xoauth2(mailbox, &token)).as_bytes()).await;
        let reply = client.until_tagged("L").await;
        assert!(reply.last().unwrap().starts_with("L OK "), "login failed: {reply:?}");
        client
    }
}

pub async fn handshake(pki: &Pki, tcp: TcpStream, cert: Option<&ClientCert>) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match cert {
        Some(c) => builder.with_client_auth_cert(c.chain.clone(), c.key()).unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(WAIT, connector.connect(name, tcp)).await.map_err(|_| std::io::ErrorKind::TimedOut)?
}

pub fn xoauth2(user: &str, token: &str) -> String {
    B64.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

pub fn oauthbearer(user: &str, token: &str) -> String {
    B64.encode(format!("n,a={user},\x01host=localhost\x01port=993\x01auth=Bearer {token}\x01\x01"))
}

pub fn plain(authcid: &str) -> String {
    B64.encode(format!("\0{authcid}\0ignored-password"))
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    B64.decode(text.trim()).unwrap()
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

/// A raw IMAP client: writes lines, reads responses byte for byte (literals included).
pub struct Client {
    conn: Conn,
    pki: Arc<Pki>,
    tag: u32,
}

impl Client {
    pub async fn send(&mut self, bytes: &[u8]) {
        let write = async {
            match &mut self.conn {
                Conn::Plain(s) => s.write_all(bytes).await,
                Conn::Tls(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Conn::Gone => panic!("connection gone"),
            }
        };
        tokio::time::timeout(WAIT, write).await.unwrap().unwrap();
    }

    async fn read_byte(&mut self) -> Option<u8> {
        let mut b = [0u8; 1];
        let read = async {
            match &mut self.conn {
                Conn::Plain(s) => s.read(&mut b).await,
                Conn::Tls(s) => s.read(&mut b).await,
                Conn::Gone => Ok(0),
            }
        };
        match tokio::time::timeout(WAIT, read).await.expect("server answered in time") {
            Ok(1) => Some(b[0]),
            _ => None,
        }
    }

    /// One response line as raw bytes, a literal's bytes included; `None` at end of stream.
    pub async fn raw_line(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            let b = self.read_byte().await?;
            line.push(b);
            if line.ends_with(b"\r\n") {
                match literal_size(&line) {
                    Some(n) => {
                        for _ in 0..n {
                            let b = self.read_byte().await?;
                            line.push(b);
                        }
                    }
                    None => return Some(line),
                }
            }
        }
    }

    /// One response line as text (lossy), without the final CRLF.
    pub async fn line(&mut self) -> String {
        let raw = self.raw_line().await.expect("a line before end of stream");
        String::from_utf8_lossy(&raw).trim_end_matches("\r\n").to_string()
    }

    pub fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("t{}", self.tag)
    }

    /// Sends `<tag> <command>` and returns every line up to the tagged one (included).
    pub async fn cmd(&mut self, command: &str) -> Vec<String> {
        let tag = self.next_tag();
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until_tagged(&tag).await
    }

    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Like `cmd`, with the raw bytes of each line.
    pub async fn cmd_raw(&mut self, command: &str) -> Vec<Vec<u8>> {
        let tag = self.next_tag();
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        let mut lines = Vec::new();
        loop {
            let line = self.raw_line().await.expect("a line before end of stream");
            let done = line.starts_with(format!("{tag} ").as_bytes());
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// STARTTLS, then the TLS handshake (optionally with a client certificate).
    pub async fn starttls(&mut self, cert: Option<&ClientCert>) {
        let reply = self.cmd("STARTTLS").await;
        assert!(reply.last().unwrap().contains(" OK "), "{reply:?}");
        self.upgrade(cert).await;
    }

    /// The TLS handshake on the clear-text connection (after the server's STARTTLS OK).
    pub async fn upgrade(&mut self, cert: Option<&ClientCert>) {
        let Conn::Plain(tcp) = std::mem::replace(&mut self.conn, Conn::Gone) else { panic!("already TLS") };
        let tls = handshake(&self.pki, tcp, cert).await.unwrap();
        self.conn = Conn::Tls(Box::new(tls));
    }

    /// True when the server closed the connection (read returns end of stream).
    pub async fn closed(&mut self) -> bool {
        self.raw_line().await.is_none()
    }
}

/// `{N}\r\n` (or `{N+}`) at the end of a line announces N literal bytes.
fn literal_size(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}\r\n")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = std::str::from_utf8(&body[open + 1..]).ok()?;
    digits.trim_end_matches('+').parse().ok()
}

/// A message with an IHE_XDM-like attachment and the MSSanté headers.
pub const MULTIPART: &[u8] = b"From: Dr Martin <dr.martin.fictif@op.test>\r\nTo: app.dpi.fictif@op.test\r\nSubject: Compte rendu\r\nMessage-ID: <cr-1@op.test>\r\nX-MSS-NIL: 1\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoir piece jointe.\r\n--sep\r\nContent-Type: application/zip; name=\"IHE_XDM.zip\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"IHE_XDM.zip\"\r\n\r\nUEsDBBQAAAAIAA==\r\n--sep--\r\n";

pub const SIMPLE: &[u8] = b"From: secretariat.fictif@op.test\r\nTo: dr.martin.fictif@op.test\r\nSubject: Rendez-vous\r\n\r\nDemain 10h.\r\n";

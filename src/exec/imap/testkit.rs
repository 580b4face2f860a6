//! Scripted IMAP servers for the tests: a listener on 127.0.0.1:0 that plays a fixed script
//! (send these bytes, expect a line starting so, do a TLS handshake, sleep, close) and reports
//! what the client sent. Plus a throw-away test PKI made with rcgen.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::session::{ImapSession, ImapTimeouts};
use crate::secret::{Secret, SecretSet};
use crate::exec::net::{Endpoint, TlsMode};
use crate::exec::tls::TlsSettings;
use crate::scenario::model::TlsVersions;
use crate::exec::transcript::Transcript;

/// How long a script step waits for the client before the script fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// One step of a server script.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Send these bytes as they are.
    Send(String),
    /// Send these bytes and remember when (see [`Trace::marks`]).
    SendMarked(String),
    /// Send raw bytes (binary literals, garbage).
    SendBytes(Vec<u8>),
    /// Read one line; it must start with this prefix.
    Expect(String),
    /// Read exactly this many bytes (a literal), then its CRLF.
    ExpectLiteral(usize),
    /// TLS handshake as the server.
    StartTls,
    Sleep(Duration),
    /// Close the connection now.
    Close,
}

pub(crate) fn send(s: &str) -> Step {
    Step::Send(s.to_string())
}

pub(crate) fn expect(s: &str) -> Step {
    Step::Expect(s.to_string())
}

/// What the client did, as the scripted server saw it.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Every line received (literal bytes included, lossy), CRLF stripped.
    pub lines: Vec<String>,
    /// When each [`Step::SendMarked`] was sent.
    pub marks: Vec<Instant>,
}

pub(crate) struct ScriptServer {
    pub port: u16,
    handle: JoinHandle<Result<Trace, String>>,
}

impl ScriptServer {
    /// Starts a server playing `steps` to the first client. `tls` is used by [`Step::StartTls`]
    /// and, when `implicit`, before the first step.
    pub async fn start(steps: Vec<Step>, tls: Option<Arc<ServerConfig>>, implicit: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let handle = tokio::spawn(async move {
            let (tcp, _) = tokio::time::timeout(STEP_TIMEOUT, listener.accept())
                .await
                .map_err(|_| "no client connected".to_string())?
                .map_err(|e| e.to_string())?;
            let mut player = Player {
                io: Io::Plain(tcp),
                buf: Vec::new(),
                trace: Trace::default(),
                tls,
            };
            if implicit {
                player.start_tls().await?;
            }
            for step in steps {
                player.play(step).await?;
            }
            Ok(player.trace)
        });
        ScriptServer { port, handle }
    }

    /// Waits for the script's end; `Err` says which step failed.
    pub async fn finish(self) -> Result<Trace, String> {
        match tokio::time::timeout(STEP_TIMEOUT * 2, self.handle).await {
            Err(_) => Err("script did not finish".into()),
            Ok(Err(e)) => Err(format!("script panicked: {e}")),
            Ok(Ok(r)) => r,
        }
    }

    pub fn endpoint(&self, tls: TlsMode) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port: self.port,
            tls,
        }
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Closed,
}

struct Player {
    io: Io,
    buf: Vec<u8>,
    trace: Trace,
    tls: Option<Arc<ServerConfig>>,
}

impl Player {
    async fn play(&mut self, step: Step) -> Result<(), String> {
        match step {
            Step::Send(s) => self.write(s.as_bytes()).await,
            Step::SendMarked(s) => {
                self.write(s.as_bytes()).await?;
                self.trace.marks.push(Instant::now());
                Ok(())
            }
            Step::SendBytes(b) => self.write(&b).await,
            Step::Expect(prefix) => {
                let line = self.read_line().await?;
                if line.starts_with(&prefix) {
                    Ok(())
                } else {
                    Err(format!("expected a line starting {prefix:?}, got {line:?}"))
                }
            }
            Step::ExpectLiteral(n) => {
                while self.buf.len() < n + 2 {
                    self.fill().await?;
                }
                let bytes: Vec<u8> = self.buf.drain(..n + 2).collect();
                self.trace.lines.push(String::from_utf8_lossy(&bytes[..n]).into_owned());
                if &bytes[n..] == b"\r\n" {
                    Ok(())
                } else {
                    Err("literal not followed by CRLF".into())
                }
            }
            Step::StartTls => self.start_tls().await,
            Step::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Step::Close => {
                self.io = Io::Closed;
                Ok(())
            }
        }
    }

    async fn start_tls(&mut self) -> Result<(), String> {
        let config = self.tls.clone().ok_or("script has no TLS config")?;
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Closed) else {
            return Err("StartTls on a non-plain connection".into());
        };
        let tls = tokio::time::timeout(STEP_TIMEOUT, TlsAcceptor::from(config).accept(tcp))
            .await
            .map_err(|_| "TLS accept timed out".to_string())?
            .map_err(|e| format!("TLS accept: {e}"))?;
        self.io = Io::Tls(Box::new(tls));
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        let r = match &mut self.io {
            Io::Plain(s) => s.write_all(bytes).await,
            Io::Tls(s) => s.write_all(bytes).await.and(s.flush().await),
            Io::Closed => return Err("write on a closed script connection".into()),
        };
        r.map_err(|e| format!("write: {e}"))
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 4096];
        let read = async {
            match &mut self.io {
                Io::Plain(s) => s.read(&mut chunk).await,
                Io::Tls(s) => s.read(&mut chunk).await,
                Io::Closed => Ok(0),
            }
        };
        let n = tokio::time::timeout(STEP_TIMEOUT, read)
            .await
            .map_err(|_| "client sent nothing".to_string())?
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("client closed; lines so far: {:?}", self.trace.lines));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_string();
                self.trace.lines.push(line.clone());
                return Ok(line);
            }
            self.fill().await?;
        }
    }
}

/// A CA and a server certificate for `imap.test`, fresh per call.
pub(crate) struct TestPki {
    pub ca_pem: String,
    pub server: Arc<ServerConfig>,
}

impl TestPki {
    pub fn new() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "mssconf test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key")).expect("ca cert");
        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec!["imap.test".to_string()]).expect("server params");
        params.distinguished_name.push(DnType::CommonName, "imap.test");
        let cert = params.signed_by(&key, &ca).expect("server cert");
        let chain = vec![cert.der().clone(), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server = ServerConfig::builder_with_provider(crate::exec::tls::provider())
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        TestPki {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }

    /// Client settings trusting only this CA, for `imap.test`.
    pub fn client(&self) -> TlsSettings {
        TlsSettings {
            trust_anchors_pem: vec![self.ca_pem.clone().into_bytes()],
            server_name: "imap.test".into(),
            versions: TlsVersions::Any,
            client_identity: None,
            handshake_timeout: Duration::from_secs(5),
        }
    }
}

/// Settings for plain-text tests (never used for a handshake).
pub(crate) fn no_tls() -> TlsSettings {
    TlsSettings {
        trust_anchors_pem: Vec::new(),
        server_name: "imap.test".into(),
        versions: TlsVersions::Any,
        client_identity: None,
        handshake_timeout: Duration::from_secs(2),
    }
}

pub(crate) const TIMEOUTS: ImapTimeouts = ImapTimeouts {
    connect: Duration::from_secs(2),
    response: Duration::from_secs(2),
};

/// The canary token of the tests, registered in the returned transcript's secret set.
pub(crate) const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.canary-payload-4242.sig-abcdef";

pub(crate) fn transcript() -> Transcript {
    let secrets = SecretSet::new();
    secrets.register(&Secret::new(TOKEN));
    Transcript::new(secrets).for_conn("imap#1")
}

/// Connects to a plain scripted server.
pub(crate) async fn connect_plain(server: &ScriptServer, timeouts: ImapTimeouts) -> (ImapSession, Transcript) {
    let t = transcript();
    let (mut session, _) = ImapSession::connect(&server.endpoint(TlsMode::Starttls), &no_tls(), timeouts, t.clone())
        .await
        .expect("connect");
    // The scripted server is plaintext; the harness refuses real credentials in clear otherwise.
    session.plaintext_auth_for_tests = true;
    (session, t)
}

/// The transcript as text, one rendered line each.
pub(crate) fn rendered(t: &Transcript) -> String {
    t.lines()
        .iter()
        .map(|l| format!("{} {}\n", l.dir.prefix(), l.text))
        .collect()
}

/// `* OK [CAPABILITY caps] …`.
pub(crate) fn greeting(caps: &str) -> Step {
    send(&format!("* OK [CAPABILITY {caps}] scripted server ready\r\n"))
}

//! Test support: a throw-away PKI and a server that plays a script on one connection.
//! (The shared mock operator is tested elsewhere; these scripts pin exact bytes.)

use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::exec::tls::TlsSettings;
use crate::scenario::model::TlsVersions;

/// A CA and one `localhost` server certificate (ECDSA P-256), as PEM.
pub(crate) struct TestPki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestPki {
    pub(crate) fn new(ca_name: &str) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, ca_name);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key")).expect("ca cert");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &ca).expect("server cert");
        TestPki { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }

    /// A rustls server offering TLS 1.2 and 1.3 with its default suites.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        let chain = vec![CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).expect("cert pem")];
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).expect("key pem");
        let config = ServerConfig::builder_with_provider(crate::exec::tls::provider())
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        Arc::new(config)
    }

    /// Client settings trusting this PKI's CA only.
    pub(crate) fn tls_settings(&self) -> TlsSettings {
        TlsSettings {
            trust_anchors_pem: vec![self.ca_pem.clone().into_bytes()],
            server_name: "localhost".into(),
            versions: TlsVersions::Any,
            client_identity: None,
            handshake_timeout: Duration::from_secs(5),
        }
    }
}

/// One move of the scripted server.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Writes these bytes (CRLFs included by the script).
    Send(String),
    /// Reads one line and requires it to equal this text (line end excluded).
    Expect(String),
    /// Reads one line, whatever it is.
    ExpectAny,
    /// Reads a DATA body up to and including the `.` line.
    ReadBody,
    /// Reads at least this many bytes, whatever they are.
    ReadBytes(usize),
    /// Server side of a TLS handshake on the current connection.
    StartTls,
    /// A server-side handshake the client must abort (e.g. it distrusts the certificate).
    StartTlsRefusedByClient,
    Pause(Duration),
    /// Closes the connection (close_notify first under TLS).
    Close,
}

pub(crate) fn send(text: &str) -> Step {
    Step::Send(text.to_string())
}

pub(crate) fn expect(line: &str) -> Step {
    Step::Expect(line.to_string())
}

/// What the scripted server saw.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub received: Vec<String>,
    /// The raw DATA body (stuffing and end marker included).
    pub body: Vec<u8>,
}

pub(crate) struct ScriptedServer {
    pub port: u16,
    handle: JoinHandle<Result<Script, String>>,
}

const SERVER_WAIT: Duration = Duration::from_secs(10);

impl ScriptedServer {
    /// Listens on 127.0.0.1:0 and plays `steps` on the first connection (TLS first if `implicit`).
    pub(crate) async fn start(steps: Vec<Step>, tls: Option<Arc<ServerConfig>>, implicit: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = tokio::spawn(async move {
            let (tcp, _) = tokio::time::timeout(SERVER_WAIT, listener.accept())
                .await
                .map_err(|_| "no client connected".to_string())?
                .map_err(|e| e.to_string())?;
            let mut conn = ServerConn { io: Io::Plain(tcp), buf: Vec::new(), tls };
            if implicit {
                conn.start_tls().await?;
            }
            conn.play(steps).await
        });
        ScriptedServer { port, handle }
    }

    /// Waits for the script to end; panics with the server's complaint if it went off script.
    pub(crate) async fn finish(self) -> Script {
        match tokio::time::timeout(SERVER_WAIT, self.handle).await {
            Err(_) => panic!("scripted server did not finish"),
            Ok(Err(e)) => panic!("scripted server panicked: {e}"),
            Ok(Ok(Err(e))) => panic!("scripted server: {e}"),
            Ok(Ok(Ok(script))) => script,
        }
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

struct ServerConn {
    io: Io,
    buf: Vec<u8>,
    tls: Option<Arc<ServerConfig>>,
}

impl ServerConn {
    async fn play(&mut self, steps: Vec<Step>) -> Result<Script, String> {
        let mut script = Script::default();
        for step in steps {
            match step {
                Step::Send(text) => self.write(text.as_bytes()).await?,
                Step::Expect(want) => {
                    let got = self.read_line().await?;
                    script.received.push(got.clone());
                    if got != want {
                        return Err(format!("expected {want:?}, got {got:?}"));
                    }
                }
                Step::ExpectAny => script.received.push(self.read_line().await?),
                Step::ReadBody => script.body = self.read_body().await?,
                Step::ReadBytes(n) => {
                    while self.buf.len() < n {
                        self.fill().await?;
                    }
                    self.buf.clear();
                }
                Step::StartTls => self.start_tls().await?,
                Step::StartTlsRefusedByClient => {
                    if self.start_tls().await.is_ok() {
                        return Err("the client completed a handshake it should have refused".into());
                    }
                }
                Step::Pause(d) => tokio::time::sleep(d).await,
                Step::Close => self.close().await,
            }
        }
        Ok(script)
    }

    async fn start_tls(&mut self) -> Result<(), String> {
        if !self.buf.is_empty() {
            return Err("client sent bytes before the TLS handshake".into());
        }
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Gone) else {
            return Err("not a plain connection".into());
        };
        let config = self.tls.clone().ok_or("no TLS config in the script")?;
        let tls = TlsAcceptor::from(config).accept(tcp).await.map_err(|e| format!("server handshake: {e}"))?;
        self.io = Io::Tls(Box::new(tls));
        Ok(())
    }

    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=end).collect();
                let text = String::from_utf8_lossy(&raw);
                return Ok(text.trim_end_matches(['\r', '\n']).to_string());
            }
            self.fill().await?;
        }
    }

    async fn read_body(&mut self) -> Result<Vec<u8>, String> {
        loop {
            let done = self.buf.starts_with(b".\r\n") || self.buf.windows(5).any(|w| w == b"\r\n.\r\n");
            if done {
                let end = if self.buf.starts_with(b".\r\n") {
                    3
                } else {
                    self.buf.windows(5).position(|w| w == b"\r\n.\r\n").map(|p| p + 5).unwrap_or(0)
                };
                return Ok(self.buf.drain(..end).collect());
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = vec![0u8; 64 * 1024];
        let read = match &mut self.io {
            Io::Plain(s) => tokio::time::timeout(SERVER_WAIT, s.read(&mut chunk)).await,
            Io::Tls(s) => tokio::time::timeout(SERVER_WAIT, s.read(&mut chunk)).await,
            Io::Gone => return Err("connection gone".into()),
        };
        match read {
            Err(_) => Err("client sent nothing".into()),
            Ok(Err(e)) => Err(format!("read: {e}")),
            Ok(Ok(0)) => Err("client closed the connection".into()),
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        let result = match &mut self.io {
            Io::Plain(s) => s.write_all(bytes).await,
            Io::Tls(s) => {
                let r = s.write_all(bytes).await;
                r.and(s.flush().await)
            }
            Io::Gone => return Err("connection gone".into()),
        };
        result.map_err(|e| format!("write: {e}"))
    }

    async fn close(&mut self) {
        match std::mem::replace(&mut self.io, Io::Gone) {
            Io::Plain(mut s) => {
                let _ = s.shutdown().await;
            }
            Io::Tls(mut s) => {
                let _ = s.shutdown().await;
            }
            Io::Gone => {}
        }
    }
}

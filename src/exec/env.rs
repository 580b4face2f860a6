//! What every scenario of a run shares: the target, its key material, tokens, fixtures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use super::error::ExecError;
use super::tls::{ClientIdentity, TlsSettings};
use crate::scenario::model::TlsVersions;
use crate::secret::{Secret, SecretSet};
use crate::scenario::model::{ClientCert, Credential};
use super::busy::BusyRetry;
use super::pacing::Pacing;
use super::submission::SubmissionGate;
use crate::target::allow::HostAllowList;
use crate::target::model::{CertificateFiles, SecretSource, Target};
use crate::target::private_file;

/// Run-wide context. Cheap to share behind an `Arc`.
pub struct RunEnv {
    pub target: Target,
    /// `target` as JSON, for `${target.…}`.
    pub target_vars: Value,
    pub fixtures: Value,
    pub fixtures_dir: PathBuf,
    pub secrets: SecretSet,
    pub run_id: String,
    /// The only hosts the run may contact (the profile's endpoints and http URLs).
    pub hosts: HostAllowList,
    /// Spacing and cap of the messages the run submits, shared by parallel scenarios.
    pub submissions: SubmissionGate,
    /// Connections per host, open at once and per second, shared by parallel scenarios.
    pub pacing: Pacing,
    /// How a connection refused for now ("try later") is retried.
    pub busy: BusyRetry,
    trust_anchors: Vec<Vec<u8>>,
    http: reqwest::Client,
    tokens: Mutex<HashMap<(String, TokenKind), Secret>>,
}

/// Installs ring as rustls' process-wide provider (reqwest uses it). Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl RunEnv {
    pub fn new(target: Target, fixtures: Value, fixtures_dir: PathBuf, run_id: String) -> Result<Arc<Self>, ExecError> {
        install_crypto_provider();
        let mut trust_anchors = Vec::new();
        for p in &target.trust_anchors {
            trust_anchors.push(read(p)?);
        }
        let hosts = HostAllowList::of(&target);
        let submissions = SubmissionGate::new(&target.rate);
        let (pacing, busy) = (Pacing::new(&target.rate), BusyRetry::new(&target.rate));
        let http = reqwest::Client::builder()
            .tls_certs_only(http_anchors(&trust_anchors)?)
            .redirect(redirects_within(hosts.clone()))
            .timeout(Duration::from_millis(target.timeouts.reply.max(1000)))
            .connect_timeout(Duration::from_millis(target.timeouts.connect.max(500)))
            .no_proxy()
            .build()
            .map_err(|e| ExecError::harness(format!("HTTP client: {e}")))?;
        let target_vars = serde_json::to_value(&target).map_err(|e| ExecError::harness(e.to_string()))?;
        Ok(Arc::new(RunEnv {
            target,
            target_vars,
            fixtures,
            fixtures_dir,
            secrets: SecretSet::new(),
            run_id,
            hosts,
            submissions,
            pacing,
            busy,
            trust_anchors,
            http,
            tokens: Mutex::new(HashMap::new()),
        }))
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Waits for the pacing of `url`'s host before an HTTP request (see [`Pacing::start`]).
    pub async fn pace_http(&self, url: &str) {
        if let Some(host) = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)) {
            self.pacing.start(&host).await;
        }
    }

    pub fn timeout(&self, ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// TLS settings for a connection presenting `cert` (if any).
    pub fn tls_settings(&self, versions: Option<TlsVersions>, cert: Option<&ClientCert>) -> Result<TlsSettings, ExecError> {
        let client_identity = match cert {
            None => None,
            Some(c) => Some(self.identity(self.cert_files(c)?)?),
        };
        Ok(TlsSettings {
            trust_anchors_pem: self.trust_anchors.clone(),
            server_name: self.target.server_name.clone(),
            versions: versions.unwrap_or_default(),
            client_identity,
            handshake_timeout: Duration::from_millis(self.target.timeouts.connect),
        })
    }

    fn cert_files(&self, cert: &ClientCert) -> Result<&CertificateFiles, ExecError> {
        let t = &self.target;
        let found = match cert {
            ClientCert::Mailbox(role) => t.mailboxes.get(&role.value).and_then(|m| m.certificate.as_ref()),
            ClientCert::Expired => t.negative.expired_client_cert.as_ref(),
            ClientCert::Foreign => t.negative.foreign_client_cert.as_ref(),
        };
        found.ok_or_else(|| ExecError::harness(format!("no client certificate for {cert:?} in the target profile")))
    }

    fn identity(&self, files: &CertificateFiles) -> Result<ClientIdentity, ExecError> {
        let cert_chain_pem = read(&files.cert)?;
        let key = private_file::read_text(&files.key).map_err(ExecError::harness)?;
        let key = Secret::new(key.to_string());
        Ok(ClientIdentity { cert_chain_pem, key })
    }

    /// The mailbox address of a role.
    pub fn address(&self, role: &str) -> Result<String, ExecError> {
        self.target
            .mailboxes
            .get(role)
            .map(|m| m.address.clone())
            .ok_or_else(|| ExecError::harness(format!("the target declares no mailbox `{role}`")))
    }

    /// The bearer token a credential stands for, registered as a secret. `None` for mailboxes
    /// that log in with a certificate.
    pub async fn token(&self, role: &str, credential: &Credential) -> Result<Option<Secret>, ExecError> {
        let (token_role, kind) = match credential {
            Credential::Valid => (role, TokenKind::Valid),
            Credential::Expired => (role, TokenKind::Expired),
            Credential::Revoked => (role, TokenKind::Revoked),
            Credential::TokenOf(other) => (other.value.as_str(), TokenKind::Valid),
            Credential::Malformed => {
                let s = Secret::new(format!("{}{}", crate::exec::sasl::MADE_UP_TOKEN_PREFIX, self.run_id));
                self.secrets.register(&s);
                return Ok(Some(s));
            }
        };
        let mailbox = self
            .target
            .mailboxes
            .get(token_role)
            .ok_or_else(|| ExecError::harness(format!("the target declares no mailbox `{token_role}`")))?;
        let source = match kind {
            TokenKind::Valid => mailbox.token.as_ref(),
            TokenKind::Expired => self.target.negative.expired_token.as_ref(),
            TokenKind::Revoked => self.target.negative.revoked_token.as_ref(),
        };
        let Some(source) = source else {
            return Ok(None);
        };
        let key = (token_role.to_string(), kind);
        if let Some(t) = self.tokens.lock().await.get(&key) {
            return Ok(Some(t.clone()));
        }
        let token = self.fetch_token(source, &mailbox.address, kind).await?;
        self.secrets.register(&token);
        self.tokens.lock().await.insert(key, token.clone());
        Ok(Some(token))
    }

    async fn fetch_token(&self, source: &SecretSource, address: &str, kind: TokenKind) -> Result<Secret, ExecError> {
        match source {
            SecretSource::Env(var) => std::env::var(var)
                .map(Secret::new)
                .map_err(|_| ExecError::harness(format!("environment variable {var} (token) is not set"))),
            SecretSource::File(path) => Ok(Secret::new(private_file::read_text(path).map_err(ExecError::harness)?.to_string())),
            SecretSource::Issuer => self.issue_token(address, kind).await,
        }
    }

    /// Asks the test issuer: `mailbox`, `lifetime` (negative: already expired) and, for a
    /// revoked token, `revoked=true` (the issuer revokes it before answering).
    async fn issue_token(&self, address: &str, kind: TokenKind) -> Result<Secret, ExecError> {
        let url = self
            .target
            .http
            .token_issuer
            .as_deref()
            .ok_or_else(|| ExecError::harness("`token: issuer` needs `http.token_issuer` in the target profile"))?;
        let lifetime = if kind == TokenKind::Expired { "-120" } else { "600" };
        let mut form = vec![("mailbox", address), ("lifetime", lifetime)];
        if kind == TokenKind::Revoked {
            form.push(("revoked", "true"));
        }
        self.hosts.check_url(url).map_err(|e| ExecError::harness(format!("token issuer: {e}")))?;
        self.pace_http(url).await;
        let request = self.http.post(url).form(&form).send();
        let resp = crate::exec::timing::server(request)
            .await
            .map_err(|e| ExecError::connect(format!("token issuer {url}: {e}")))?;
        let status = resp.status();
        let bytes = crate::exec::timing::server(read_body_bounded(resp, MAX_TOKEN_ANSWER)).await.map_err(|e| ExecError::protocol(format!("token issuer answer: {e}")))?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| ExecError::protocol(format!("token issuer answer: {e}")))?;
        match body.get("access_token").and_then(Value::as_str) {
            Some(t) if status.is_success() => Ok(Secret::new(t)),
            _ => Err(ExecError::protocol(format!("token issuer {url} answered {status} without access_token"))),
        }
    }
}

/// Which token of a mailbox: its own, or the profile's negative material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TokenKind {
    Valid,
    Expired,
    Revoked,
}

/// Follows at most 5 redirects, and only to declared hosts: a redirect must not lead the harness
/// to a host the target profile does not name.
pub(crate) fn redirects_within(hosts: HostAllowList) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // The same check as the first request: declared host, https unless loopback (so an
        // https → http redirect on a remote host is refused).
        let refused = hosts.check_url(attempt.url().as_str()).err().map(|e| match e {
            crate::target::allow::HostRefused::Undeclared { host, .. } => {
                format!("safety: redirect to host `{host}`, which the target profile does not declare")
            }
            other => format!("redirect refused: {other}"),
        });
        match refused {
            _ if attempt.previous().len() >= 5 => attempt.error("more than 5 redirects"),
            Some(why) => attempt.error(why),
            None => attempt.follow(),
        }
    })
}

/// The most bytes of an `http` step's response body kept (a whitelist, an autoconfig file).
pub const MAX_HTTP_BODY: usize = 16 << 20;
/// The most bytes of a token issuer's answer.
const MAX_TOKEN_ANSWER: usize = 1 << 20;

/// Reads a response body chunk by chunk, refusing more than `max` bytes (never read whole
/// first): a hostile server cannot make the harness hold an endless body.
pub async fn read_body_bounded(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(format!("body larger than {max} bytes: not read further"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The HTTP client trusts the profile's anchors only (as the TLS endpoints do), never the
/// system's roots.
fn http_anchors(pems: &[Vec<u8>]) -> Result<Vec<reqwest::Certificate>, ExecError> {
    let mut out = Vec::new();
    for pem in pems {
        out.extend(reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ExecError::harness(format!("trust anchors for HTTP: {e}")))?);
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, ExecError> {
    std::fs::read(path).map_err(|e| ExecError::harness(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::exec::smtp::testkit::TestPki;

    /// An https server on loopback with `pki`'s `localhost` certificate, answering `200 ok`.
    async fn https_server(pki: &TestPki) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(sock).await else { continue };
                let mut buf = [0u8; 2048];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").await;
                let _ = tls.shutdown().await;
            }
        });
        port
    }

    fn env_trusting(dir: &Path, ca_pem: &str, port: u16) -> Arc<RunEnv> {
        std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general]\ndomain: op.test\nserver_name: localhost\n\
             trust_anchors: [{}]\nmailboxes: {{}}\nendpoints: {{}}\nhttp: {{ whitelist: 'https://localhost:{port}/liste.xml' }}\n",
            dir.join("ca.pem").display()
        );
        let target: Target = crate::yaml::read::parse_yaml(Path::new("t.yaml"), &yaml).unwrap();
        RunEnv::new(target, Value::Null, "fixtures".into(), "run".into()).unwrap()
    }

    /// The HTTP client trusts the profile's anchors, and only them: an https endpoint whose
    /// chain leads to the profile's CA is reached; one signed by another CA is not.
    #[tokio::test]
    async fn https_is_verified_against_the_profile_anchors_only() {
        let (operator, other) = (TestPki::new("Operator test CA"), TestPki::new("Some other CA"));
        let port = https_server(&operator).await;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("https://localhost:{port}/liste.xml");
        let env = env_trusting(dir.path(), &operator.ca_pem, port);
        let resp = env.http().get(&url).send().await.expect("the profile's CA is trusted");
        assert_eq!(resp.text().await.unwrap(), "ok");
        let env = env_trusting(dir.path(), &other.ca_pem, port);
        assert!(env.http().get(&url).send().await.is_err(), "a chain to another CA is refused");
    }

    /// A body is read chunk by chunk and refused past its bound, never held whole first.
    #[tokio::test]
    async fn a_response_body_is_bounded() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = sock.read(&mut buf).await;
                let body = "x".repeat(50_000);
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            }
        });
        install_crypto_provider();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        let e = read_body_bounded(client.get(&url).send().await.unwrap(), 10_000).await.unwrap_err();
        assert!(e.contains("larger than 10000 bytes"), "{e}");
        assert_eq!(read_body_bounded(client.get(&url).send().await.unwrap(), 60_000).await.unwrap().len(), 50_000);
    }
}

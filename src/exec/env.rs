//! What every scenario of a run shares: the target, its key material, tokens, fixtures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::error::ExecError;
use super::tls::{ClientIdentity, TlsSettings};
use crate::scenario::model::TlsVersions;
use crate::secret::{Secret, SecretSet};
use crate::scenario::model::ClientCert;
use super::busy::BusyRetry;
use super::pacing::Pacing;
use super::submission::SubmissionGate;
use crate::target::allow::HostAllowList;
use crate::target::model::{CertificateFiles, Target};
use crate::target::private_file;

/// Run-wide context. Cheap to share behind an `Arc`.
pub struct RunEnv {
    pub target: Target,
    /// `target` as JSON, for `${target.…}`.
    pub target_vars: Value,
    pub fixtures: Value,
    pub fixtures_dir: PathBuf,
    pub secrets: SecretSet,
    /// What the run's transcripts may still keep (shared by its scenarios).
    pub transcripts: super::keep_budget::ByteBudget,
    /// What the run may still keep of fetched messages.
    pub fetched: super::keep_budget::ByteBudget,
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
    pub(crate) tokens: super::tokens::TokenCache,
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
            transcripts: Default::default(),
            fetched: super::keep_budget::ByteBudget::new(super::keep_budget::MAX_RUN_FETCHED),
            run_id,
            hosts,
            submissions,
            pacing,
            busy,
            trust_anchors,
            http,
            tokens: Default::default(),
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
            ClientCert::Revoked => t.negative.revoked_client_cert.as_ref(),
        };
        found.ok_or_else(|| ExecError::profile(format!("no client certificate for {cert:?} in the target profile")))
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
            .ok_or_else(|| ExecError::profile(format!("the target declares no mailbox `{role}`")))
    }

    // The tokens of the run: `token`, `token_noting`, `mailbox_token` (src/exec/tokens/provider.rs).
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
pub(crate) mod tests {
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

    /// A plain HTTP server on loopback answering every request with `answer` (head and body).
    pub(crate) async fn http_server(answer: Vec<u8>) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(&answer).await;
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
        let body = "x".repeat(50_000);
        let port = http_server(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_bytes()).await;
        install_crypto_provider();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        let e = read_body_bounded(client.get(&url).send().await.unwrap(), 10_000).await.unwrap_err();
        assert!(e.contains("larger than 10000 bytes"), "{e}");
        assert_eq!(read_body_bounded(client.get(&url).send().await.unwrap(), 60_000).await.unwrap().len(), 50_000);
    }
}

//! What every scenario of a run shares: the target, its key material, tokens, fixtures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use super::error::ExecError;
use super::tls::{ClientIdentity, TlsSettings, TlsVersions};
use crate::evidence::secret::{Secret, SecretSet};
use crate::scenario::model::{ClientCert, Credential};
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
        let http = reqwest::Client::builder()
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
            trust_anchors,
            http,
            tokens: Mutex::new(HashMap::new()),
        }))
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
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
                let s = Secret::new(format!("mssconf-malformed-token-{}", self.run_id));
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
        let request = self.http.post(url).form(&form).send();
        let resp = crate::exec::timing::server(request)
            .await
            .map_err(|e| ExecError::connect(format!("token issuer {url}: {e}")))?;
        let status = resp.status();
        let body: Value = crate::exec::timing::server(resp.json()).await.map_err(|e| ExecError::protocol(format!("token issuer answer: {e}")))?;
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
fn redirects_within(hosts: HostAllowList) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let refused = match attempt.url().host_str() {
            Some(h) if hosts.allows(h) => None,
            other => Some(other.unwrap_or("<none>").to_string()),
        };
        match refused {
            _ if attempt.previous().len() >= 5 => attempt.error("more than 5 redirects"),
            Some(host) => attempt.error(format!("safety: redirect to host `{host}`, which the target profile does not declare")),
            None => attempt.follow(),
        }
    })
}

fn read(path: &Path) -> Result<Vec<u8>, ExecError> {
    std::fs::read(path).map_err(|e| ExecError::harness(format!("cannot read {}: {e}", path.display())))
}

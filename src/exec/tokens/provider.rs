//! Which token a credential stands for, and where it comes from: the profile's source for the
//! mailbox (`issuer`, `env`, `file`, `command`, `oauth2`) or its negative material.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::answer::TokenAnswer;
use super::expiry::Lifetime;
use super::{Held, TokenKind, command, oauth2};
use crate::secret::Secret;
use crate::exec::env::{RunEnv, read_body_bounded};
use crate::exec::error::ExecError;
use crate::scenario::model::Credential;
use crate::target::model::TokenSource;
use crate::target::secret_value::{self, SecretAt};

/// The most bytes of a token issuer's answer.
const MAX_TOKEN_ANSWER: usize = 1 << 20;

impl RunEnv {
    /// The bearer token a credential stands for, registered as a secret. `None` for mailboxes
    /// that log in with a certificate. A mailbox's own token is renewed when it nears expiry.
    pub async fn token(&self, role: &str, credential: &Credential) -> Result<Option<Secret>, ExecError> {
        token(self, role, credential).await.map(|(secret, _)| secret)
    }

    /// [`RunEnv::token`], with a note for the transcript when this call renewed the token.
    pub async fn token_noting(&self, role: &str, credential: &Credential) -> Result<(Option<Secret>, Option<String>), ExecError> {
        token(self, role, credential).await
    }

    /// Obtains (and, if it nears expiry, renews) the token of mailbox `role`: what a scenario's
    /// `auth` with a valid credential uses. `None` when the mailbox declares no token (it logs
    /// in with a certificate). The token joins the run's redaction set.
    pub async fn mailbox_token(&self, role: &str) -> Result<Option<Secret>, ExecError> {
        self.token(role, &Credential::Valid).await
    }
}

/// The token a credential stands for, with a note for the transcript when the call renewed it.
async fn token(env: &RunEnv, role: &str, credential: &Credential) -> Result<(Option<Secret>, Option<String>), ExecError> {
    let (token_role, kind) = match credential {
        Credential::Valid => (role, TokenKind::Valid),
        Credential::Expired => (role, TokenKind::Expired),
        Credential::Revoked => (role, TokenKind::Revoked),
        Credential::TokenOf(other) => (other.value.as_str(), TokenKind::Valid),
        Credential::Derived(d) => {
            return env.derived_token(role, d).await?.map(|t| (Some(t), None)).map_err(ExecError::harness);
        }
        Credential::Malformed => {
            let s = Secret::new(format!("{}{}", crate::exec::sasl::MADE_UP_TOKEN_PREFIX, env.run_id));
            env.secrets.register(&s);
            return Ok((Some(s), None));
        }
    };
    let mailbox = env
        .target
        .mailboxes
        .get(token_role)
        .ok_or_else(|| ExecError::profile(format!("the target declares no mailbox `{token_role}`")))?;
    let source = match kind {
        TokenKind::Valid => mailbox.token.clone(),
        TokenKind::Expired => env.target.negative.expired_token.as_ref().map(TokenSource::from),
        TokenKind::Revoked => env.target.negative.revoked_token.as_ref().map(TokenSource::from),
    };
    let Some(source) = source else {
        return Ok((None, None));
    };
    let address = mailbox.address.as_str();
    let (secret, note) = env.tokens.get_noting(token_role, kind, |_| obtain(env, token_role, address, &source, kind)).await?;
    Ok((Some(secret), note))
}

/// Asks the source for a token, registers it, and says how long it lives.
async fn obtain(env: &RunEnv, role: &str, address: &str, source: &TokenSource, kind: TokenKind) -> Result<Held, ExecError> {
    let timeout = Duration::from_millis(env.target.timeouts.token_fetch.max(100));
    let answer = match source {
        TokenSource::Env(var) => from_profile(SecretAt::Env(var))?,
        TokenSource::File(path) => from_profile(SecretAt::File(path))?,
        TokenSource::Issuer => issue_token(env, address, kind).await?,
        TokenSource::Command(argv) => {
            let req = command::Request { role, address, timeout };
            command::run(argv, &req, &env.secrets).await?
        }
        TokenSource::Oauth2(o) => {
            let refresh = match (env.tokens.rotated_refresh(role), &o.refresh_token) {
                (Some(rotated), _) => Some(rotated),
                (None, Some(r)) => Some(oauth2::read_secret(r, "refresh token", &env.secrets)?),
                (None, None) => None,
            };
            let answer = oauth2::request(env, o, refresh.as_ref(), timeout).await?;
            if let Some(rt) = &answer.refresh_token {
                env.tokens.set_rotated_refresh(role, rt.clone());
            }
            answer
        }
    };
    if answer.access_token.expose().is_empty() {
        return Err(ExecError::harness("the token is empty"));
    }
    env.secrets.register(&answer.access_token);
    let life = Lifetime::of(answer.access_token.expose(), answer.expires_in, SystemTime::now());
    Ok(Held { secret: answer.access_token, life })
}

/// Asks the test issuer: `mailbox`, `lifetime` (negative: already expired) and, for a
/// revoked token, `revoked=true` (the issuer revokes it before answering).
/// A token the profile gives in a variable or a file, read like every secret of the profile
/// ([`secret_value::read`]); a variable's surrounding blanks are dropped, as a file's are.
fn from_profile(at: SecretAt<'_>) -> Result<TokenAnswer, ExecError> {
    let token = secret_value::read(at, "token")?;
    Ok(TokenAnswer { access_token: Secret::new(token.expose().trim()), expires_in: None, refresh_token: None })
}

async fn issue_token(env: &RunEnv, address: &str, kind: TokenKind) -> Result<TokenAnswer, ExecError> {
    let url = env
        .target
        .http
        .token_issuer
        .as_deref()
        .ok_or_else(|| ExecError::profile("`token: issuer` needs `http.token_issuer` in the target profile"))?;
    let lifetime = if kind == TokenKind::Expired { "-120" } else { "600" };
    let mut form = vec![("mailbox", address), ("lifetime", lifetime)];
    if kind == TokenKind::Revoked {
        form.push(("revoked", "true"));
    }
    env.hosts.check_url(url).map_err(|e| ExecError::harness(format!("token issuer: {e}")))?;
    env.pace_http(url).await;
    let request = env.http().post(url).form(&form).send();
    let resp = crate::exec::timing::server(request).await.map_err(|e| ExecError::connect(format!("token issuer {url}: {e}")))?;
    let status = resp.status();
    let bytes = crate::exec::timing::server(read_body_bounded(resp, MAX_TOKEN_ANSWER))
        .await
        .map_err(|e| ExecError::protocol(format!("token issuer answer: {e}")))?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|e| ExecError::protocol(format!("token issuer answer: {e}")))?;
    match body.get("access_token").and_then(Value::as_str) {
        Some(t) if status.is_success() => {
            // An expired or revoked token is never renewed: its lifetime does not matter.
            let expires_in = body.get("expires_in").and_then(Value::as_u64).filter(|_| kind == TokenKind::Valid);
            Ok(TokenAnswer { access_token: Secret::new(t), expires_in, refresh_token: None })
        }
        _ => Err(ExecError::protocol(format!("token issuer {url} answered {status} without access_token"))),
    }
}

//! `token: { oauth2: { … } }`: a token from an OAuth 2.0 token endpoint, by the refresh token
//! grant (RFC 6749 §6) or the client credentials grant (§4.4). The endpoint is reached like every
//! HTTP URL of the run: the profile's anchors only, its host allow-list, https unless loopback.

use std::time::Duration;

use serde_json::Value;

use super::answer::{TokenAnswer, excerpt};
use crate::secret::{Secret, SecretSet};
use crate::exec::env::{RunEnv, read_body_bounded};
use crate::exec::error::{Category, ExecError};
use crate::target::token_source::{Grant, OAuth2, SecretRef};

/// The most bytes of a token endpoint's answer.
const MAX_ANSWER: usize = 1 << 20;

/// Reads a secret the profile points at (`{ env }` or `{ file }`), registered for redaction.
pub fn read_secret(r: &SecretRef, what: &str, secrets: &SecretSet) -> Result<Secret, ExecError> {
    let s = crate::target::secret_value::read(r.at(), what)?;
    if s.expose().is_empty() {
        return Err(ExecError::profile(format!("the {what} is empty")));
    }
    secrets.register(&s);
    Ok(s)
}

/// Asks the token endpoint once. `refresh` is the refresh token to present (the profile's, or
/// the last one the endpoint rotated to).
pub async fn request(env: &RunEnv, o: &OAuth2, refresh: Option<&Secret>, timeout: Duration) -> Result<TokenAnswer, ExecError> {
    let url = o.token_endpoint.as_str();
    let at = format!("token endpoint {url} ({} grant)", o.grant.name());
    env.hosts.check_url(url).map_err(|e| ExecError::harness(format!("{at}: {e}")))?;
    let client_secret = o.client_secret.as_ref().map(|r| read_secret(r, "client secret", &env.secrets)).transpose()?;
    let mut form: Vec<(&str, &str)> = vec![("grant_type", o.grant.name())];
    if o.grant == Grant::RefreshToken {
        let rt = refresh.ok_or_else(|| ExecError::harness(format!("{at}: no refresh token")))?;
        form.push(("refresh_token", rt.expose()));
    }
    if let Some(scope) = &o.scope {
        form.push(("scope", scope));
    }
    if let Some(audience) = &o.audience {
        form.push(("audience", audience));
    }
    // RFC 6749 §2.3.1: a confidential client authenticates with HTTP Basic, its id and secret
    // form-encoded first; a public client names itself in the body.
    let mut req = env.http().post(url).timeout(timeout);
    match &client_secret {
        Some(secret) => req = req.basic_auth(form_encode(&o.client_id), Some(form_encode(secret.expose()))),
        None => form.push(("client_id", &o.client_id)),
    }
    env.pace_http(url).await;
    let resp = crate::exec::timing::server(req.form(&form).send()).await.map_err(|e| {
        let category = if e.is_timeout() { Category::Timeout } else { Category::Connect };
        ExecError::new(category, format!("{at}: {}", env.secrets.scrub(&e.to_string())))
    })?;
    let status = resp.status();
    let body = crate::exec::timing::server(read_body_bounded(resp, MAX_ANSWER))
        .await
        .map_err(|e| ExecError::protocol(format!("{at}: answer not read: {e}")))?;
    if !status.is_success() {
        return Err(refusal(&at, status, &body, &env.secrets));
    }
    let answer = TokenAnswer::from_json(&body).map_err(|e| ExecError::protocol(format!("{at} answered {status}, but {e}")))?;
    if let Some(rt) = &answer.refresh_token {
        env.secrets.register(rt);
    }
    Ok(answer)
}

/// A refusal: `error` and `error_description` (RFC 6749 §5.2), secrets redacted, never the raw
/// body. 429 and 5xx say "try later": `unavailable`; the rest (an `invalid_grant`, a refused
/// client) is the profile's credentials: `harness`.
fn refusal(at: &str, status: reqwest::StatusCode, body: &[u8], secrets: &SecretSet) -> ExecError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(|s| excerpt(s, secrets));
    let said = match (field("error"), field("error_description")) {
        (Some(e), Some(d)) => format!(": {e} ({d})"),
        (Some(e), None) => format!(": {e}"),
        _ => String::new(),
    };
    let text = format!("{at} answered {status}{said}");
    if status.as_u16() == 429 || status.is_server_error() { ExecError::new(Category::Unavailable, text) } else { ExecError::profile(text) }
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_are_form_encoded_before_basic() {
        assert_eq!(form_encode("mssconf client"), "mssconf+client");
        assert_eq!(form_encode("a:b/c@d"), "a%3Ab%2Fc%40d");
        assert_eq!(form_encode("Az09-._*"), "Az09-._*");
    }

    #[test]
    fn refusals_say_why_without_secrets() {
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("the-refresh-token-42"));
        let body = br#"{"error":"invalid_grant","error_description":"refresh token the-refresh-token-42 expired"}"#;
        let e = refusal("token endpoint", reqwest::StatusCode::BAD_REQUEST, body, &secrets);
        assert_eq!((e.category(), e.fault()), (Category::Harness, crate::exec::error::Fault::Profile), "the profile's credentials");
        assert!(e.message().contains("400 Bad Request: invalid_grant (refresh token <redacted> expired)"), "{e}");
        let e = refusal("token endpoint", reqwest::StatusCode::TOO_MANY_REQUESTS, b"<html>slow down</html>", &secrets);
        assert_eq!((e.category(), e.fault()), (Category::Unavailable, crate::exec::error::Fault::Server));
        assert!(!e.message().contains("html"), "{e}");
        assert_eq!(refusal("t", reqwest::StatusCode::SERVICE_UNAVAILABLE, b"", &secrets).category(), Category::Unavailable);
    }
}

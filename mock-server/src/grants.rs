//! The OAuth 2.0 grants of the mock's token endpoint (`POST /psc/token` with `grant_type`): the
//! refresh token grant (RFC 6749 §6) and the client credentials grant (§4.4).
//!
//! Each PER/ORG mailbox is a registered client: its `client_id` is its address, its client
//! secret and refresh token are derived from a per-instance key (`GrantBook::client_secret`,
//! `GrantBook::refresh_token` in [`crate::grant_book`]: tests hand them to the harness through
//! files). The client
//! authenticates with HTTP Basic (§2.3.1) or in the body. Tokens live the configured lifetime
//! (`MockConfig::token_lifetime`, `mssconf mock --lifetime`), so a run can outlive them.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use crate::accounts::MailboxKind;
use crate::context::MockContext;

/// Answers a grant request. `fields` is the form, `headers` may carry HTTP Basic.
pub fn answer(ctx: &MockContext, fields: &HashMap<String, String>, headers: &HeaderMap) -> Response {
    let book = &ctx.tokens.grants;
    let (client_id, secret) = match client(fields, headers) {
        Ok(c) => c,
        Err(why) => return error(StatusCode::BAD_REQUEST, "invalid_request", why),
    };
    let Some(client_id) = client_id else { return error(StatusCode::UNAUTHORIZED, "invalid_client", "no client_id") };
    let account = match ctx.accounts.get(&client_id) {
        Some(a) if a.kind != MailboxKind::Applicative => a,
        _ => return error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client"),
    };
    let secret_ok = secret.as_deref().map(|s| s == book.client_secret(&account.address));
    if secret_ok == Some(false) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client", "wrong client secret");
    }
    match fields.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {
            let presented = fields.get("refresh_token").map(|t| t.trim()).unwrap_or("");
            if presented != book.refresh_token(&account.address) {
                return error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown refresh token");
            }
        }
        Some("client_credentials") if secret_ok != Some(true) => {
            return error(StatusCode::UNAUTHORIZED, "invalid_client", "client_credentials needs the client secret");
        }
        Some("client_credentials") => {}
        Some(_) => return error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "refresh_token or client_credentials"),
        None => return error(StatusCode::BAD_REQUEST, "invalid_request", "missing grant_type"),
    }
    if book.refusing() {
        return error(StatusCode::BAD_REQUEST, "invalid_grant", "grant refused (the refresh token was revoked)");
    }
    let lifetime = book.lifetime();
    let token = ctx.tokens.issue(&account.address, account.rpps, lifetime);
    book.count_grant(&account.address);
    let body = json!({ "access_token": token, "token_type": "Bearer", "expires_in": lifetime.max(0), "scope": "openid scope_all mail" });
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// `(client_id, client_secret)` from HTTP Basic (form-encoded parts) or from the body.
fn client(fields: &HashMap<String, String>, headers: &HeaderMap) -> Result<(Option<String>, Option<String>), &'static str> {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Ok((fields.get("client_id").cloned(), fields.get("client_secret").cloned()));
    };
    let auth = auth.to_str().map_err(|_| "Authorization is not text")?;
    let encoded = auth.strip_prefix("Basic ").ok_or("only HTTP Basic client authentication")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| "Basic credentials are not base64")?;
    let text = String::from_utf8(decoded).map_err(|_| "Basic credentials are not UTF-8")?;
    let (id, secret) = text.split_once(':').ok_or("Basic credentials without `:`")?;
    Ok((Some(form_decode(id)?), Some(form_decode(secret)?)))
}

fn form_decode(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or("bad percent-encoding")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad percent-encoding")?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "credentials are not UTF-8")
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({ "error": code, "error_description": description }))).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;
    use crate::test_support::context;

    async fn ask(ctx: &MockContext, fields: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, serde_json::Value) {
        let fields = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut headers = HeaderMap::new();
        if let Some((id, secret)) = basic {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", id.replace('@', "%40"), secret));
            headers.insert(header::AUTHORIZATION, format!("Basic {b}").parse().unwrap());
        }
        let resp = answer(ctx, &fields, &headers);
        let status = resp.status().as_u16();
        let body = to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn refresh_and_client_credentials_grants() {
        let ctx = context(&[]);
        let per1 = ctx.accounts.by_role("per1").unwrap().address.clone();
        let book = &ctx.tokens.grants;
        book.set_lifetime(3);
        let rt = book.refresh_token(&per1);
        let (status, body) = ask(&ctx, &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("client_id", &per1)], None).await;
        assert_eq!((status, body["expires_in"].as_i64()), (200, Some(3)), "{body}");
        let token = body["access_token"].as_str().unwrap();
        assert!(ctx.tokens.validate(token, &per1).is_ok());
        let secret = book.client_secret(&per1);
        let (status, body) = ask(&ctx, &[("grant_type", "client_credentials")], Some((&per1, &secret))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(book.granted(&per1), 2);
        // Wrong secret, wrong refresh token, no secret for client_credentials, refusal switch.
        assert_eq!(ask(&ctx, &[("grant_type", "client_credentials")], Some((&per1, "nope"))).await.0, 401);
        let (s, b) = ask(&ctx, &[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", &per1)], None).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
        assert_eq!(ask(&ctx, &[("grant_type", "client_credentials"), ("client_id", &per1)], None).await.0, 401);
        book.refuse(true);
        let (s, b) = ask(&ctx, &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("client_id", &per1)], None).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
        assert_eq!(book.granted(&per1), 2);
        // The issuer's lifetimes are capped at the configured one.
        assert_eq!((book.cap(600), book.cap(-120)), (3, -120));
    }
}

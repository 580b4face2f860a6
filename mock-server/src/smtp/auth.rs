//! SASL on the submission server: XOAUTH2 and OAUTHBEARER (RFC 7628) with a bearer token for
//! PER/ORG mailboxes, PLAIN bound to the TLS client certificate for APP mailboxes.
//!
//! This file decides; the session does the exchanges on the wire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::accounts::MailboxKind;
use crate::context::MockContext;
use crate::faults::Fault;

/// The RFC 7628 error a real operator sends (base64 in a `334` challenge) when it refuses a
/// token, before `535` and a disconnect.
pub const OAUTH_ERROR_JSON: &str = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

pub fn oauth_error_challenge() -> String {
    STANDARD.encode(OAUTH_ERROR_JSON)
}

/// What a decoded bearer SASL response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerResponse {
    /// `user=` (XOAUTH2) or `a=` (OAUTHBEARER); `None` when OAUTHBEARER gives no authzid.
    pub user: Option<String>,
    pub token: String,
}

/// Outcome of an authentication attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Logged in as this mailbox.
    Accepted(String),
    /// Bearer token refused: RFC 7628 error challenge, `535`, disconnect.
    TokenRefused(String),
    /// Credentials refused, session stays open (`535`).
    Refused(String),
    /// The client's data could not be decoded (`501`).
    Malformed(&'static str),
}

/// Decodes a base64 SASL response (`=` is the empty response).
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text == "=" {
        return Some(Vec::new());
    }
    STANDARD.decode(text).ok()
}

/// `user=<addr>^Aauth=Bearer <token>^A^A`.
pub fn parse_xoauth2(payload: &[u8]) -> Option<BearerResponse> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut user = None;
    let mut token = None;
    for field in text.split('\x01') {
        if let Some(u) = field.strip_prefix("user=") {
            user = Some(u.trim().to_string());
        } else if let Some(auth) = field.strip_prefix("auth=") {
            token = Some(bearer_value(auth)?);
        }
    }
    Some(BearerResponse { user: Some(user?), token: token? })
}

/// `n,a=<addr>,^Ahost=…^Aport=…^Aauth=Bearer <token>^A^A` (RFC 7628 §3.1).
pub fn parse_oauthbearer(payload: &[u8]) -> Option<BearerResponse> {
    let text = std::str::from_utf8(payload).ok()?;
    let (gs2, rest) = text.split_once('\x01')?;
    let mut gs2_fields = gs2.split(',');
    if !matches!(gs2_fields.next()?, "n" | "y") {
        return None; // channel binding ("p=") is not offered
    }
    let user = gs2_fields.next()?.strip_prefix("a=").map(|a| a.replace("=2C", ",").replace("=3D", "="));
    let token = rest.split('\x01').find_map(|f| f.strip_prefix("auth=")).and_then(bearer_value)?;
    Some(BearerResponse { user, token })
}

fn bearer_value(auth: &str) -> Option<String> {
    let (scheme, token) = auth.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_string())
}

/// Decides a bearer login (XOAUTH2/OAUTHBEARER).
pub fn check_bearer(ctx: &MockContext, response: &BearerResponse) -> Verdict {
    // Without an authzid, the mailbox is the one the token was issued for.
    let user = match &response.user {
        Some(user) => user.clone(),
        None => match ctx.tokens.claims(&response.token) {
            Some(claims) => claims.mailbox,
            None => return Verdict::TokenRefused("unknown token and no authzid".into()),
        },
    };
    match ctx.tokens.validate(&response.token, &user) {
        Ok(_) => match ctx.accounts.get(&user) {
            Some(account) if account.kind != MailboxKind::Applicative => Verdict::Accepted(account.address.clone()),
            Some(_) => Verdict::TokenRefused(format!("{user} is an APP mailbox: certificate + PLAIN only")),
            None if ctx.faults.is_on(Fault::AcceptForeignToken) => Verdict::Accepted(user.to_ascii_lowercase()),
            None => Verdict::TokenRefused(format!("no mailbox {user}")),
        },
        Err(refusal) => Verdict::TokenRefused(format!("{refusal} (user {user})")),
    }
}

/// Decides a PLAIN login: only an APP mailbox, over TLS, whose client certificate is bound to
/// the authcid (the password is not a credential here). `cert_mailbox` is the SAN e-mail of the
/// verified client certificate; `has_cert` whether the client showed any certificate.
pub fn check_plain(ctx: &MockContext, payload: &[u8], tls: bool, has_cert: bool, cert_mailbox: Option<&str>) -> Verdict {
    let mut parts = payload.split(|b| *b == 0);
    let (Some(authzid), Some(authcid), Some(_password), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Verdict::Malformed("PLAIN response is not authzid NUL authcid NUL password");
    };
    let (Ok(authzid), Ok(authcid)) = (std::str::from_utf8(authzid), std::str::from_utf8(authcid)) else {
        return Verdict::Malformed("PLAIN names are not UTF-8");
    };
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
        return Verdict::Refused(format!("authzid {authzid} differs from authcid {authcid}"));
    }
    let Some(account) = ctx.accounts.get(authcid) else {
        return Verdict::Refused(format!("no mailbox {authcid}"));
    };
    if account.kind != MailboxKind::Applicative {
        return Verdict::Refused(format!("{authcid} is not an APP mailbox: XOAUTH2 only"));
    }
    if !tls || !has_cert {
        return Verdict::Refused("PLAIN needs a TLS session with a client certificate".into());
    }
    let bound = cert_mailbox.is_some_and(|m| m.eq_ignore_ascii_case(&account.address));
    if bound || ctx.faults.is_on(Fault::AcceptAnyClientCert) {
        Verdict::Accepted(account.address.clone())
    } else {
        Verdict::Refused(format!("client certificate is bound to {}, not {authcid}", cert_mailbox.unwrap_or("no mailbox")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::context;

    #[test]
    fn xoauth2_and_oauthbearer_payloads_parse() {
        let x = parse_xoauth2(b"user=a@b.test\x01auth=Bearer tok123\x01\x01").unwrap();
        assert_eq!(x, BearerResponse { user: Some("a@b.test".into()), token: "tok123".into() });
        let o = parse_oauthbearer(b"n,a=a@b.test,\x01host=h\x01port=587\x01auth=Bearer tok\x01\x01").unwrap();
        assert_eq!(o, BearerResponse { user: Some("a@b.test".into()), token: "tok".into() });
        let no_authzid = parse_oauthbearer(b"n,,\x01auth=Bearer tok\x01\x01").unwrap();
        assert_eq!(no_authzid.user, None);
        assert_eq!(parse_xoauth2(b"user=a\x01auth=Basic xx\x01\x01"), None);
        assert_eq!(parse_oauthbearer(b"p=tls-unique,,\x01auth=Bearer t\x01\x01"), None);
        assert_eq!(decode_b64("="), Some(vec![]));
        assert_eq!(decode_b64("!!"), None);
    }

    #[test]
    fn bearer_checks_token_mailbox_and_kind() {
        let ctx = context(&[]);
        let per1 = ctx.accounts.by_role("per1").unwrap().clone();
        let per2 = ctx.accounts.by_role("per2").unwrap().clone();
        let token = ctx.tokens.issue(&per1.address, per1.rpps, 300);
        let ok = BearerResponse { user: Some(per1.address.clone()), token: token.clone() };
        assert_eq!(check_bearer(&ctx, &ok), Verdict::Accepted(per1.address.clone()));
        let implicit = BearerResponse { user: None, token: token.clone() };
        assert_eq!(check_bearer(&ctx, &implicit), Verdict::Accepted(per1.address.clone()));
        let foreign = BearerResponse { user: Some(per2.address.clone()), token };
        assert!(matches!(check_bearer(&ctx, &foreign), Verdict::TokenRefused(_)));
        let ctx = context(&[Fault::AcceptForeignToken]);
        let token = ctx.tokens.issue(&per1.address, per1.rpps, 300);
        let foreign = BearerResponse { user: Some(per2.address.clone()), token };
        assert_eq!(check_bearer(&ctx, &foreign), Verdict::Accepted(per2.address));
    }

    #[test]
    fn plain_is_bound_to_the_certificate_unless_faulted() {
        let ctx = context(&[]);
        let app1 = ctx.accounts.by_role("app1").unwrap().address.clone();
        let app2 = ctx.accounts.by_role("app2").unwrap().address.clone();
        let payload = format!("\0{app1}\0ignored");
        let p = payload.as_bytes();
        assert_eq!(check_plain(&ctx, p, true, true, Some(&app1)), Verdict::Accepted(app1.clone()));
        assert!(matches!(check_plain(&ctx, p, true, true, Some(&app2)), Verdict::Refused(_)));
        assert!(matches!(check_plain(&ctx, p, true, false, None), Verdict::Refused(_)));
        assert!(matches!(check_plain(&ctx, p, false, true, Some(&app1)), Verdict::Refused(_)));
        assert!(matches!(check_plain(&ctx, b"nonul", true, true, None), Verdict::Malformed(_)));
        let per1 = ctx.accounts.by_role("per1").unwrap().address.clone();
        let per = format!("\0{per1}\0x");
        assert!(matches!(check_plain(&ctx, per.as_bytes(), true, true, Some(&per1)), Verdict::Refused(_)));
        let ctx = context(&[Fault::AcceptAnyClientCert]);
        assert_eq!(check_plain(&ctx, p, true, true, Some(&app2)), Verdict::Accepted(app1));
    }
}

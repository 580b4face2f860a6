//! SASL payloads of the mechanisms the operator offers (already base64-decoded by the codec).

use imap_types::auth::AuthMechanism;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// Google's XOAUTH2: `user=<mailbox>\x01auth=Bearer <token>\x01\x01`.
    XOAuth2,
    /// RFC 7628: `n,a=<mailbox>,\x01host=…\x01port=…\x01auth=Bearer <token>\x01\x01`.
    OAuthBearer,
    /// RFC 4616: `authzid\0authcid\0password`.
    Plain,
    /// RFC 4422 EXTERNAL: the identity is the TLS client certificate; the payload an authzid.
    External,
}

impl Mechanism {
    pub fn from_imap(mechanism: &AuthMechanism<'_>) -> Option<Self> {
        match mechanism {
            AuthMechanism::XOAuth2 => Some(Mechanism::XOAuth2),
            AuthMechanism::OAuthBearer => Some(Mechanism::OAuthBearer),
            AuthMechanism::Plain => Some(Mechanism::Plain),
            other if other.as_ref().eq_ignore_ascii_case("EXTERNAL") => Some(Mechanism::External),
            _ => None,
        }
    }

    /// Bearer mechanisms answer a refusal with an RFC 7628 error challenge before the NO.
    pub fn is_bearer(self) -> bool {
        matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }
}

/// What the client's payload claims (the secrets are checked elsewhere).
#[derive(PartialEq, Eq)]
pub enum Credentials {
    Bearer { user: Option<String>, token: String },
    Plain { authzid: String, authcid: String },
    External { authzid: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer { user, .. } => write!(f, "Bearer {{ user: {user:?}, token: <redacted> }}"),
            Credentials::Plain { authzid, authcid } => write!(f, "Plain {{ {authzid:?}, {authcid:?} }}"),
            Credentials::External { authzid } => write!(f, "External {{ {authzid:?} }}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client sent a malformed {0} payload")]
pub struct MalformedPayload(&'static str);

pub fn parse(mechanism: Mechanism, payload: &[u8]) -> Result<Credentials, MalformedPayload> {
    let text = std::str::from_utf8(payload);
    match mechanism {
        Mechanism::XOAuth2 => xoauth2(text.map_err(|_| MalformedPayload("XOAUTH2"))?),
        Mechanism::OAuthBearer => oauthbearer(text.map_err(|_| MalformedPayload("OAUTHBEARER"))?),
        Mechanism::Plain => plain(payload),
        Mechanism::External => Ok(Credentials::External {
            authzid: text.map_err(|_| MalformedPayload("EXTERNAL"))?.trim().to_string(),
        }),
    }
}

fn xoauth2(text: &str) -> Result<Credentials, MalformedPayload> {
    let bad = MalformedPayload("XOAUTH2");
    let mut user = None;
    let mut token = None;
    for pair in text.split('\x01').filter(|p| !p.is_empty()) {
        if let Some(u) = pair.strip_prefix("user=") {
            user = Some(u.trim().to_string());
        } else if let Some(auth) = pair.strip_prefix("auth=") {
            token = Some(bearer(auth).ok_or(bad.clone())?);
        }
    }
    match (user, token) {
        (Some(user), Some(token)) if !user.is_empty() => Ok(Credentials::Bearer { user: Some(user), token }),
        _ => Err(bad),
    }
}

fn oauthbearer(text: &str) -> Result<Credentials, MalformedPayload> {
    let bad = MalformedPayload("OAUTHBEARER");
    let (gs2, rest) = text.split_once('\x01').ok_or(bad.clone())?;
    // gs2-header: "n," or "y," (no channel binding offered), then an optional "a=" authzid.
    let mut gs2_fields = gs2.split(',');
    if !matches!(gs2_fields.next(), Some("n" | "y")) {
        return Err(bad);
    }
    let user = gs2_fields
        .next()
        .and_then(|a| a.strip_prefix("a="))
        .map(|a| a.replace("=2C", ",").replace("=3D", "="))
        .filter(|a| !a.is_empty());
    let token = rest
        .split('\x01')
        .find_map(|kv| kv.strip_prefix("auth="))
        .and_then(bearer)
        .ok_or(bad)?;
    Ok(Credentials::Bearer { user, token })
}

/// `Bearer <token>`, scheme case-insensitive.
fn bearer(auth: &str) -> Option<String> {
    let (scheme, token) = auth.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

fn plain(payload: &[u8]) -> Result<Credentials, MalformedPayload> {
    let bad = MalformedPayload("PLAIN");
    let fields: Vec<&[u8]> = payload.split(|&b| b == 0).collect();
    let [authzid, authcid, _password] = fields.as_slice() else { return Err(bad) };
    let text = |b: &[u8]| std::str::from_utf8(b).map(|s| s.trim().to_string()).map_err(|_| bad.clone());
    let (authzid, authcid) = (text(authzid)?, text(authcid)?);
    if authcid.is_empty() {
        return Err(bad);
    }
    Ok(Credentials::Plain { authzid, authcid })
}

/// The RFC 7628 §3.2.2 error challenge sent before refusing a bearer token.
pub const BEARER_ERROR_CHALLENGE: &[u8] = br#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer_of(c: Credentials) -> (Option<String>, String) {
        match c {
            Credentials::Bearer { user, token } => (user, token),
            other => panic!("not bearer: {other:?}"),
        }
    }

    #[test]
    fn xoauth2_payload() {
        let c = parse(Mechanism::XOAuth2, b"user=a@op.test\x01auth=Bearer tok.en\x01\x01").unwrap();
        assert_eq!(bearer_of(c), (Some("a@op.test".into()), "tok.en".into()));
        assert!(parse(Mechanism::XOAuth2, b"user=a@op.test\x01auth=Basic x\x01\x01").is_err());
        assert!(parse(Mechanism::XOAuth2, b"auth=Bearer t\x01\x01").is_err());
        assert!(parse(Mechanism::XOAuth2, b"\xff\xfe").is_err());
        assert!(parse(Mechanism::XOAuth2, b"").is_err());
    }

    #[test]
    fn oauthbearer_payload() {
        let c = parse(Mechanism::OAuthBearer, b"n,a=a@op.test,\x01host=h\x01port=993\x01auth=Bearer t1\x01\x01").unwrap();
        assert_eq!(bearer_of(c), (Some("a@op.test".into()), "t1".into()));
        let c = parse(Mechanism::OAuthBearer, b"n,,\x01auth=bearer t2\x01\x01").unwrap();
        assert_eq!(bearer_of(c), (None, "t2".into()));
        assert!(parse(Mechanism::OAuthBearer, b"p=tls-unique,,\x01auth=Bearer t\x01\x01").is_err());
        assert!(parse(Mechanism::OAuthBearer, b"n,,\x01host=h\x01\x01").is_err());
    }

    #[test]
    fn plain_and_external_payloads() {
        let c = parse(Mechanism::Plain, b"\0app@op.test\0ignored").unwrap();
        assert_eq!(c, Credentials::Plain { authzid: String::new(), authcid: "app@op.test".into() });
        assert!(parse(Mechanism::Plain, b"app@op.test").is_err());
        assert!(parse(Mechanism::Plain, b"\0\0pw").is_err());
        assert_eq!(parse(Mechanism::External, b"").unwrap(), Credentials::External { authzid: String::new() });
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = parse(Mechanism::XOAuth2, b"user=a\x01auth=Bearer SECRET\x01\x01").unwrap();
        assert!(!format!("{c:?}").contains("SECRET"));
    }

    #[test]
    fn mechanisms_from_the_codec() {
        assert_eq!(Mechanism::from_imap(&AuthMechanism::try_from("external").unwrap()), Some(Mechanism::External));
        assert_eq!(Mechanism::from_imap(&AuthMechanism::Login), None);
    }
}

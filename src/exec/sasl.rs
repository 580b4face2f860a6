//! SASL payloads the harness sends (RFC 4422 mechanisms used by the API LPS), and their
//! descriptions for transcripts. The payload carries the secret; the description never does.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::scenario::model::Mechanism;
use crate::secret::Secret;

/// Who logs in, with what.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The mailbox address (XOAUTH2 `user=`, OAUTHBEARER `a=`, PLAIN authcid).
    pub user: String,
    /// Bearer token (XOAUTH2, OAUTHBEARER) or password (PLAIN; may be empty).
    pub secret: Option<Secret>,
}

/// Prefix of the made-up token of a negative test (`credential: malformed`), built by
/// `RunEnv::token`. No real bearer token starts so (a JWT starts with `eyJ`).
pub const MADE_UP_TOKEN_PREFIX: &str = "mssconf-malformed-token-";

impl Credentials {
    /// True for the made-up credential of a negative test: the only one that may go in clear.
    pub fn is_made_up(&self) -> bool {
        self.secret.as_ref().is_some_and(|s| s.expose().starts_with(MADE_UP_TOKEN_PREFIX))
    }
}

/// Why a login is sent or refused on a connection that is not (yet) TLS: a real credential
/// (token, password, the address of a certificate login) never goes in clear; the made-up
/// token of a negative test may, and the transcript says so. `Ok(Some(note))` for the latter.
pub fn clear_text_login(tls: bool, creds: &Credentials, during: &str) -> Result<Option<String>, String> {
    if tls {
        Ok(None)
    } else if creds.is_made_up() {
        Ok(Some(format!("{during} in clear (no TLS): the made-up token of a negative test, not a real credential")))
    } else {
        Err(format!("{during} refused by the harness: TLS is not up, and a real credential never goes over a plaintext connection"))
    }
}

/// The raw (not yet base64) client response of `mech`. `host`/`port` feed OAUTHBEARER's GS2 fields.
pub fn client_response(mech: Mechanism, creds: &Credentials, host: &str, port: u16) -> Vec<u8> {
    let secret = creds.secret.as_ref().map(Secret::expose).unwrap_or("");
    match mech {
        Mechanism::Xoauth2 => format!("user={}\x01auth=Bearer {secret}\x01\x01", creds.user).into_bytes(),
        Mechanism::OAuthBearer => {
            format!("n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {secret}\x01\x01", creds.user).into_bytes()
        }
        // authzid empty, authcid = mailbox address.
        Mechanism::Plain => format!("\0{}\0{secret}", creds.user).into_bytes(),
        // Empty response: the identity is the certificate's (RFC 4422 EXTERNAL, "=" on the wire).
        Mechanism::External => Vec::new(),
    }
}

/// `client_response` in base64, as sent on the wire (`=` for an empty response, RFC 4954/4959).
pub fn client_response_b64(mech: Mechanism, creds: &Credentials, host: &str, port: u16) -> String {
    let raw = client_response(mech, creds, host, port);
    if raw.is_empty() { "=".to_string() } else { STANDARD.encode(raw) }
}

/// A transcript-safe description of the response: the user and the shape, never the secret.
pub fn describe(mech: Mechanism, creds: &Credentials) -> String {
    match mech {
        Mechanism::Xoauth2 | Mechanism::OAuthBearer => {
            let shape = match &creds.secret {
                Some(s) => token_shape(s.expose()),
                None => "none".into(),
            };
            format!("<{} response: user={}, auth=Bearer <redacted token, {shape}>>", mech.name(), creds.user)
        }
        Mechanism::Plain => format!("<PLAIN response: authcid={}, password <redacted>>", creds.user),
        Mechanism::External => "<EXTERNAL response: empty, identity from the client certificate>".into(),
    }
}

/// What a reader may know about a token: its length and whether it looks like a JWT.
fn token_shape(token: &str) -> String {
    let jwt = token.split('.').count() == 3 && !token.contains(char::is_whitespace);
    format!("{} chars{}", token.len(), if jwt { ", JWT-shaped" } else { "" })
}

/// Decodes a server challenge (base64) for the reader, e.g. the RFC 7628 JSON error
/// `{"status":"401","schemes":"bearer","scope":"mail"}`. `None` if not base64 UTF-8.
pub fn decode_challenge(b64: &str) -> Option<String> {
    let bytes = STANDARD.decode(b64.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials { user: "a@op.test".into(), secret: Some(Secret::new("hdr.payload.sig")) }
    }

    #[test]
    fn xoauth2_matches_the_published_layout() {
        let raw = client_response(Mechanism::Xoauth2, &creds(), "h", 1);
        assert_eq!(raw, b"user=a@op.test\x01auth=Bearer hdr.payload.sig\x01\x01");
    }

    #[test]
    fn oauthbearer_has_gs2_header_and_host() {
        let raw = String::from_utf8(client_response(Mechanism::OAuthBearer, &creds(), "mx.test", 587)).unwrap();
        assert!(raw.starts_with("n,a=a@op.test,\x01host=mx.test\x01port=587\x01auth=Bearer "));
    }

    #[test]
    fn plain_and_external() {
        let c = Credentials { user: "app@op.test".into(), secret: None };
        assert_eq!(client_response(Mechanism::Plain, &c, "h", 1), b"\0app@op.test\0");
        assert_eq!(client_response_b64(Mechanism::External, &c, "h", 1), "=");
    }

    #[test]
    fn description_never_holds_the_secret() {
        let d = describe(Mechanism::Xoauth2, &creds());
        assert!(!d.contains("hdr.payload.sig") && d.contains("JWT-shaped") && d.contains("a@op.test"));
    }

    #[test]
    fn challenge_decoding() {
        let b64 = STANDARD.encode(r#"{"status":"401","schemes":"bearer","scope":"mail"}"#);
        assert!(decode_challenge(&b64).unwrap().contains("401"));
        assert_eq!(decode_challenge("***"), None);
    }
}

//! What a token provider hands back (an OAuth 2.0 token answer, RFC 6749 §5.1, or a helper's
//! output), and how a provider's words reach an error message without a secret in them.

use serde_json::Value;

use crate::secret::{REDACTED, Secret, SecretSet};

/// A token and what its provider said of it. Never printed: every value is a [`Secret`].
#[derive(Debug)]
pub struct TokenAnswer {
    pub access_token: Secret,
    pub expires_in: Option<u64>,
    /// A rotated refresh token (RFC 6749 §6): it replaces the profile's for the rest of the run.
    pub refresh_token: Option<Secret>,
}

impl TokenAnswer {
    /// A JSON token answer: `access_token` (a string), `token_type` Bearer when given,
    /// `expires_in` in seconds (a number, or a string of digits as some servers send).
    pub fn from_json(body: &[u8]) -> Result<TokenAnswer, String> {
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON (line {}, column {})", e.line(), e.column()))?;
        let token = v.get("access_token").and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
        let Some(token) = token else { return Err("the answer has no `access_token`".into()) };
        if let Some(kind) = v.get("token_type").and_then(Value::as_str)
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(format!("the answer's `token_type` is `{}`, not Bearer", excerpt_plain(kind)));
        }
        let expires_in = match v.get("expires_in") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)).unwrap_or(0)),
            Some(Value::String(s)) => Some(s.trim().parse().map_err(|_| "the answer's `expires_in` is not a number of seconds".to_string())?),
            Some(_) => return Err("the answer's `expires_in` is not a number of seconds".into()),
        };
        let refresh_token = v.get("refresh_token").and_then(Value::as_str).filter(|t| !t.trim().is_empty()).map(|t| Secret::new(t.trim()));
        Ok(TokenAnswer { access_token: Secret::new(token), expires_in, refresh_token })
    }

    /// A helper's stdout: a JSON token answer when it starts with `{`, else the bare token.
    pub fn from_helper_output(out: &str) -> Result<TokenAnswer, String> {
        let out = out.trim();
        if out.starts_with('{') {
            return TokenAnswer::from_json(out.as_bytes());
        }
        if out.contains(char::is_whitespace) {
            return Err("it printed more than one word (expected the token alone, or a JSON token answer)".into());
        }
        Ok(TokenAnswer { access_token: Secret::new(out), expires_in: None, refresh_token: None })
    }
}

/// Words of a provider (a helper's stderr, an `error_description`) fit for an error message: the
/// last three lines, each cut at 120 characters, every known secret and every token-like run (20
/// or more token characters mixing letters and digits) replaced by `<redacted>` first.
pub fn excerpt(text: &str, secrets: &SecretSet) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let cut = |line: &str| {
        let clean = excerpt_plain(&secrets.scrub(line));
        if clean.chars().count() > 120 { clean.chars().take(120).collect::<String>() + "…" } else { clean }
    };
    lines[lines.len().saturating_sub(3)..].iter().map(|l| cut(l)).collect::<Vec<_>>().join(" / ")
}

/// Token-like runs replaced (no secret set at hand).
fn excerpt_plain(text: &str) -> String {
    let run = regex::Regex::new(r"[A-Za-z0-9_\-+/=.~]{20,}").expect("static regex");
    run.replace_all(text, |c: &regex::Captures| {
        let s = &c[0];
        let mixed = s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic());
        if mixed { REDACTED.to_string() } else { s.to_string() }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_answers_are_read_and_checked() {
        let a = TokenAnswer::from_json(br#"{"access_token":"abc","token_type":"bearer","expires_in":"90","refresh_token":"r2"}"#).unwrap();
        assert_eq!((a.access_token.expose(), a.expires_in, a.refresh_token.map(|r| r.expose().to_string())), ("abc", Some(90), Some("r2".into())));
        let a = TokenAnswer::from_json(br#"{"access_token":"abc","expires_in":120}"#).unwrap();
        assert_eq!(a.expires_in, Some(120));
        assert!(TokenAnswer::from_json(br#"{"token_type":"Bearer"}"#).unwrap_err().contains("no `access_token`"));
        assert!(TokenAnswer::from_json(br#"{"access_token":"abc","token_type":"mac"}"#).unwrap_err().contains("not Bearer"));
        assert!(TokenAnswer::from_json(b"<html>").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn helper_output_is_a_bare_token_or_json() {
        assert_eq!(TokenAnswer::from_helper_output("  tok-123\n").unwrap().access_token.expose(), "tok-123");
        assert_eq!(TokenAnswer::from_helper_output(r#"{"access_token":"t","expires_in":5}"#).unwrap().expires_in, Some(5));
        let e = TokenAnswer::from_helper_output("Token: tok-123\n").unwrap_err();
        assert!(e.contains("more than one word") && !e.contains("tok-123"), "{e}");
    }

    #[test]
    fn excerpts_quote_no_secret() {
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("refresh-secret-value"));
        let stderr = "starting\nusing refresh-secret-value\nerror: got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl from cache\n";
        let e = excerpt(stderr, &secrets);
        assert!(!e.contains("refresh-secret-value") && !e.contains("eyJhbGci"), "{e}");
        assert!(e.contains("error: got <redacted> from cache"), "{e}");
        assert_eq!(excerpt("cannot read /run/secrets/psc-refresh-token: denied", &secrets), "cannot read /run/secrets/psc-refresh-token: denied");
        assert!(excerpt(&"word ".repeat(200), &secrets).chars().count() <= 121);
        // A token cut by the length bound is redacted before the cut, never half-shown.
        let long = format!("{} eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "x ".repeat(50));
        assert!(!excerpt(&long, &secrets).contains("eyJ"), "{}", excerpt(&long, &secrets));
    }
}

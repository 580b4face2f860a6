//! One HTTP request to a declared host, and the response observed (parsed as a whitelist when
//! it is one). Credential headers are redacted by class in the transcript and join the run's
//! secrets.

use super::env::RunEnv;
use super::error::ExecError;
use super::observation::HttpObservation;
use super::timing;
use super::transcript::Transcript;
use super::whitelist;

/// Where preflight finds it: said with its causes, as a request error is.
pub use super::error::causes;

/// A request with every `${…}` already rendered.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Headers that carry credentials: Authorization, cookies, API keys, tokens, sessions.
fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "authorization" | "proxy-authorization" | "cookie" | "set-cookie")
        || ["token", "secret", "key", "auth", "session", "password", "credential"].iter().any(|w| n.contains(w))
}

/// What the transcript shows of a credential header (its name and, for Authorization, the
/// scheme), and the value to add to the secrets (the credentials after the scheme, or all).
fn redacted_header(name: &str, value: &str) -> (String, Option<String>) {
    let lower = name.to_ascii_lowercase();
    let (scheme, credential) = match value.trim().split_once(char::is_whitespace) {
        Some((scheme, rest)) if lower.ends_with("authorization") => (format!("{scheme} "), rest.trim()),
        _ => (String::new(), value.trim()),
    };
    let secret = (!credential.is_empty()).then(|| credential.to_string());
    (format!("{name}: {scheme}<redacted>"), secret)
}

/// Sends `r` (after checking its host against the target's) and observes the response.
pub async fn request(env: &RunEnv, t: &Transcript, r: &HttpRequest) -> Result<HttpObservation, ExecError> {
    let url = &r.url;
    // Before any connection: an undeclared host is never contacted.
    env.hosts.check_url(url).map_err(|e| ExecError::harness(e.to_string()))?;
    let method = reqwest::Method::from_bytes(r.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| ExecError::harness(format!("bad HTTP method `{}`", r.method)))?;
    t.sent(&format!("{method} {url}"));
    let mut req = env.http().request(method, url);
    for (k, v) in &r.headers {
        // Credential-bearing headers (by class, not by one name): the transcript shows the
        // scheme at most, and the value joins the run's secrets so an echo is scrubbed too.
        if is_credential_header(k) {
            let (shown, secret) = redacted_header(k, v);
            if let Some(secret) = secret {
                env.secrets.register(&crate::secret::Secret::new(secret));
            }
            t.sent_secret(&shown);
        } else {
            t.sent(&format!("{k}: {v}"));
        }
        req = req.header(k, v);
    }
    if let Some(body) = &r.body {
        t.sent(&format!("<body: {} bytes>", body.len()));
        req = req.body(body.clone());
    }
    env.pace_http(url).await;
    // Said with its causes: reqwest's message omits them (e.g. a redirect refused by the host allow-list).
    let resp = timing::server(req.send()).await.map_err(|e| ExecError::http(url, e))?;
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> =
        resp.headers().iter().map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).to_string())).collect();
    let body = timing::server(super::env::read_body_bounded(resp, super::env::MAX_HTTP_BODY))
        .await
        .map_err(|e| ExecError::protocol(format!("{url}: body: {e}")))?;
    let body = String::from_utf8_lossy(&body).into_owned();
    t.received(&format!("HTTP {status}"));
    for (k, v) in &headers {
        if is_credential_header(k) {
            t.received(&format!("{k}: <redacted>"));
        } else {
            t.received(&format!("{k}: {v}"));
        }
    }
    t.received(&format!("<body: {} bytes, sha256 {}>", body.len(), &crate::util::digest::sha256_hex(body.as_bytes())[..16]));
    let whitelist = whitelist::parse(&body).ok();
    if let Some(w) = &whitelist {
        t.note(&format!("whitelist: {} domain(s)", w.len()));
    }
    // What the verdict quotes (and shortens) is scrubbed first: a server echoing a token.
    let secrets = t.secrets();
    let headers = headers.into_iter().map(|(k, v)| (k, secrets.scrub(&v))).collect();
    let body = if secrets.leaks(&body) { secrets.scrub(&body) } else { body };
    Ok(HttpObservation { status, headers, body, whitelist })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redaction by header class: Cookie, API keys, tokens go out of the transcript like
    /// Authorization; the credential part is what joins the secrets.
    #[test]
    fn credential_headers_are_redacted_by_class() {
        for name in ["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "apikey", "X-Session-Id"] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["Accept", "Content-Type", "User-Agent", "X-Request-Id"] {
            assert!(!is_credential_header(name), "{name}");
        }
        assert_eq!(redacted_header("Authorization", "Bearer abc.def"), ("Authorization: Bearer <redacted>".into(), Some("abc.def".into())));
        assert_eq!(redacted_header("Cookie", "sid=s3cr3t-value"), ("Cookie: <redacted>".into(), Some("sid=s3cr3t-value".into())));
        assert_eq!(redacted_header("X-Api-Key", "k-123456"), ("X-Api-Key: <redacted>".into(), Some("k-123456".into())));
    }
}

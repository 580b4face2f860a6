//! What loading can tell is wrong with a token source (`mailboxes.*.token`): a grant without
//! its secret, a token endpoint in plain http off loopback, an empty command.

use super::token_source::{Grant, TokenSource};

/// What is wrong with this source that loading can tell: a grant without its secret, a
/// token endpoint in plain http off loopback, an empty command.
pub fn problems(source: &TokenSource) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match source {
        TokenSource::Command(argv) if argv.first().is_none_or(|p| p.trim().is_empty()) => {
            out.push(("`token.command` names no program".into(), "`command: [PROGRAM, ARG…]`".into()));
        }
        TokenSource::Oauth2(o) => {
            if let Some(why) = endpoint_problem(&o.token_endpoint) {
                out.push((format!("`token_endpoint` {why}"), "an https URL (http only on a loopback host)".into()));
            }
            if o.grant == Grant::RefreshToken && o.refresh_token.is_none() {
                out.push(("grant `refresh_token` without `refresh_token`".into(), "`refresh_token: { env: VARIABLE }` or `{ file: PATH }`".into()));
            }
            if o.grant == Grant::ClientCredentials && o.client_secret.is_none() {
                out.push(("grant `client_credentials` without `client_secret`".into(), "`client_secret: { env: VARIABLE }` or `{ file: PATH }`".into()));
            }
        }
        _ => {}
    }
    out
}

/// Why `url` cannot be a token endpoint: not a URL, another scheme, plain http off loopback.
fn endpoint_problem(url: &str) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("`{url}` is not a URL ({e})")),
    };
    let host = parsed.host_str().unwrap_or("");
    match parsed.scheme() {
        "https" if !host.is_empty() => None,
        "http" if super::allow::is_loopback(host) => None,
        "http" => Some(format!("`{url}` is plain http to a host that is not loopback: a token must not cross a network in clear")),
        other => Some(format!("`{url}` has scheme `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> TokenSource {
        crate::yaml::read::parse_yaml(std::path::Path::new("t.yaml"), yaml).unwrap()
    }

    #[test]
    fn bad_sources_are_named() {
        assert!(problems(&parse("command: [/usr/bin/psc-token]")).is_empty());
        assert_eq!(problems(&TokenSource::Command(vec![])).len(), 1);
        let ok = parse("oauth2: { token_endpoint: 'https://psc.test/token', grant: refresh_token, client_id: c, refresh_token: { file: /r } }");
        assert!(problems(&ok).is_empty(), "{:?}", problems(&ok));
        let loopback = parse("oauth2: { token_endpoint: 'http://127.0.0.1:8080/t', grant: client_credentials, client_id: c, client_secret: { env: S } }");
        assert!(problems(&loopback).is_empty());
        let clear = parse("oauth2: { token_endpoint: 'http://psc.test/token', grant: client_credentials, client_id: c }");
        let p = problems(&clear);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].0.contains("plain http") && p[1].0.contains("without `client_secret`"), "{p:?}");
    }
}

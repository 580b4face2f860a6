//! Loading a target profile: parsed, paths resolved against the profile's folder, inline
//! secrets refused.

use std::path::{Path, PathBuf};

use crate::yaml::error::{LoadError, LoadErrorKind, Span};
use crate::yaml::read::{parse_yaml, read_bounded};

use super::model::Target;

/// Reads a target profile. Relative paths inside it are taken from the profile's folder.
pub fn load_target(file: &Path) -> Result<Target, Vec<LoadError>> {
    let source = read_bounded(file).map_err(|e| vec![e])?;
    let inline = find_inline_secrets(file, &source);
    if !inline.is_empty() {
        return Err(inline);
    }
    let mut target: Target = parse_yaml(file, &source).map_err(|e| vec![explain(hide_secret_values(e, &source))])?;
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    resolve_paths(&mut target, &base);
    let errors = check(file, &source, &target);
    if errors.is_empty() { Ok(target) } else { Err(errors) }
}

/// A parse error on a line where a secret belongs (`token:`, `password:`…) never repeats what
/// it found there: the value may be a mistyped secret.
fn hide_secret_values(mut e: LoadError, source: &str) -> LoadError {
    let secret_value = regex::Regex::new(r"(?i)(?:password|token|secret|bearer|private|key)\s*:\s*['\x22]?([^'\x22,}\]\n]+)").expect("static regex");
    let line = source.lines().nth((e.span.line as usize).saturating_sub(1)).unwrap_or("");
    let echoed = secret_value.captures_iter(line).any(|c| {
        let value = c[1].trim();
        value.len() >= 3 && (e.message.contains(value) || e.expected.as_deref().is_some_and(|x| x.contains(value)))
    });
    if e.span.line > 0 && echoed {
        e.message = "this line, where a secret source belongs, does not parse (its value is not repeated)".into();
        e.expected = Some("`token: issuer`, `{ env: VARIABLE }` or `{ file: PATH }` (`password:` the same without `issuer`)".into());
    }
    e
}

/// serde cannot say which form of an untagged enum was meant: name the accepted ones.
fn explain(mut e: LoadError) -> LoadError {
    if e.message.contains("untagged enum AppAuthForms") {
        e.message = "unknown `app_auth_form`".into();
        e.expected = Some("plain, external or certificate-only, or `{ smtp: FORM, imap: FORM }`".into());
    }
    e
}

fn resolve_paths(t: &mut Target, base: &Path) {
    let fix = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    t.trust_anchors.iter_mut().for_each(fix);
    for mb in t.mailboxes.values_mut() {
        if let Some(c) = mb.certificate.as_mut() {
            fix(&mut c.cert);
            fix(&mut c.key);
        }
    }
    for c in [t.negative.expired_client_cert.as_mut(), t.negative.foreign_client_cert.as_mut()].into_iter().flatten() {
        fix(&mut c.cert);
        fix(&mut c.key);
    }
}

/// Lines that look like a secret written into the profile: a JWT, a PEM private key, a
/// `password:`/`token:` with a literal value.
pub fn find_inline_secrets(file: &Path, source: &str) -> Vec<LoadError> {
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.").expect("static regex");
    // Block (`token: x`) and flow (`{ …, token: x }`) mappings alike.
    let literal = regex::Regex::new(r"(?:^|[{,])\s*(password|\w*token|secret|bearer)\s*:\s*['\x22]?([^\s'\x22{},#\]\[]+)")
        .expect("static regex");
    let mut errors = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let at = |col: usize| Span::new(file, i as u64 + 1, col as u64 + 1);
        if let Some(m) = jwt.find(line) {
            errors.push(secret_error(at(m.start()), "a bearer token (JWT) is written in the profile"));
        } else if let Some(idx) = line.find("PRIVATE KEY-----") {
            errors.push(secret_error(at(idx), "a private key is written in the profile"));
        } else if let Some(c) = literal.captures(line)
            && !matches!(&c[2], "issuer")
        {
            let m = c.get(2).expect("group 2");
            errors.push(secret_error(at(m.start()), &format!("`{}` holds a literal value", &c[1])));
        }
    }
    errors
}

fn secret_error(span: Span, what: &str) -> LoadError {
    LoadError::new(span, LoadErrorKind::Invalid, format!("{what}: secrets never go into a profile file"))
        .expected("`issuer`, `{ env: VARIABLE }` or `{ file: PATH }`")
}

fn check(file: &Path, source: &str, t: &Target) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let line_of = |needle: &str| -> Span {
        source
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(needle))
            .map(|(i, l)| Span::new(file, i as u64 + 1, l.find(needle).unwrap_or(0) as u64 + 1))
            .unwrap_or_else(|| Span::new(file, 0, 0))
    };
    for (name, endpoint) in &t.endpoints {
        if !is_host(&endpoint.host) {
            errors.push(
                LoadError::new(line_of(&format!("{name}:")), LoadErrorKind::Invalid, format!("endpoint `{name}`: `{}` is not a host", endpoint.host))
                    .expected("a host name or an IP address, without scheme, port or path (e.g. `api-lps.operateur.fr`)"),
            );
        }
        if !super::ENDPOINT_NAMES.contains(&name.as_str()) {
            errors.push(
                LoadError::new(line_of(name), LoadErrorKind::Invalid, format!("unknown endpoint `{name}`"))
                    .expected(format!("one of {}", super::ENDPOINT_NAMES.join(", "))),
            );
        }
    }
    for (role, mb) in &t.mailboxes {
        let bad_type = match mb.kind {
            super::model::MailboxType::App => {
                mb.certificate.is_none().then_some(("an APP mailbox needs `certificate`", "`certificate: { cert: PATH, key: PATH }`"))
            }
            _ => mb.token.is_none().then_some(("a PER/ORG mailbox needs `token`", "`token: issuer`, `{ env: VARIABLE }` or `{ file: PATH }`")),
        };
        if let Some((msg, expected)) = bad_type {
            errors.push(
                LoadError::new(line_of(&format!("{role}:")), LoadErrorKind::Invalid, format!("mailbox `{role}`: {msg}")).expected(expected),
            );
        }
        if !mb.address.contains('@') {
            errors.push(
                LoadError::new(line_of(&mb.address), LoadErrorKind::Invalid, format!("mailbox `{role}`: `{}` is not an address", mb.address))
                    .expected("local@domain"),
            );
        }
    }
    if t.rate.messages_per_minute == 0 {
        errors.push(
            LoadError::new(line_of("messages_per_minute"), LoadErrorKind::Invalid, "`rate.messages_per_minute` is 0")
                .expected("at least 1 (default 30)"),
        );
    }
    for (key, value) in [("max_parallel_connections", t.rate.max_parallel_connections), ("connections_per_second", t.rate.connections_per_second)] {
        if value == 0 {
            errors.push(
                LoadError::new(line_of(key), LoadErrorKind::Invalid, format!("`rate.{key}` is 0"))
                    .expected("at least 1 (defaults: 4 parallel connections, 5 per second)"),
            );
        }
    }
    let to = &t.timeouts;
    for (name, ms) in [("connect", to.connect), ("reply", to.reply), ("delivery", to.delivery), ("step", to.step), ("scenario", to.scenario)] {
        if ms > super::MAX_WAIT_MS {
            errors.push(
                LoadError::new(line_of(&format!("{name}:")), LoadErrorKind::Invalid, format!("`timeouts.{name}` is {ms} ms"))
                    .expected(format!("at most {} ms (one hour)", super::MAX_WAIT_MS)),
            );
        }
    }
    if t.mailboxes.len() > super::MAX_TEST_MAILBOXES {
        errors.push(
            LoadError::new(line_of("mailboxes:"), LoadErrorKind::Invalid, format!("{} mailboxes declared", t.mailboxes.len()))
                .expected(format!("at most {} test mailboxes (operator contract)", super::MAX_TEST_MAILBOXES)),
        );
    }
    errors
}

/// A DNS name (letters, digits, `-`, `_`, dots) or an IP address: what `connect` takes as host.
fn is_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_are_names_or_addresses() {
        for ok in ["mx.op.test", "127.0.0.1", "::1", "localhost", "api-lps.recette.fr"] {
            assert!(super::is_host(ok), "{ok}");
        }
        for bad in ["", "imaps://mx.op.test:993", "mx.op.test:993", "mx op", "a..b", "mx.op.test/"] {
            assert!(!super::is_host(bad), "{bad}");
        }
    }

    use super::*;

    /// `u64::MAX` ms would overflow the deadline (audit crashed on it): refused at load, with
    /// its line; one hour is the bound.
    #[test]
    fn huge_timeouts_are_refused_at_load_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yaml");
        let profile = |reply: u64| {
            format!(
                "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general]\ndomain: op.test\nserver_name: mx.op.test\n\
                 trust_anchors: []\nmailboxes: {{}}\nendpoints: {{}}\ntimeouts:\n  connect: 1000\n  reply: {reply}\n"
            )
        };
        std::fs::write(&file, profile(u64::MAX)).unwrap();
        let errs = load_target(&file).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        let text = errs[0].to_string();
        assert!(errs[0].span.line == 13 && text.contains("`timeouts.reply` is 18446744073709551615 ms") && text.contains("at most 3600000"), "{text}");
        std::fs::write(&file, profile(crate::target::MAX_WAIT_MS)).unwrap();
        assert!(load_target(&file).is_ok());
    }

    #[test]
    fn inline_secrets_are_refused_with_their_line() {
        let src = "name: x\nmailboxes:\n  per1:\n    token: abcdef123\n";
        let errs = find_inline_secrets(Path::new("t.yaml"), src);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].span.line, 4);
        let jwt = "x: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.sig\n";
        assert_eq!(find_inline_secrets(Path::new("t.yaml"), jwt).len(), 1);
        let ok = "    token: issuer\n    token: { env: TOKEN_PER1 }\n  per1: { address: a@b.test, type: PER, token: issuer }\n\
                  http: { token_issuer: https://psc.test/token }\nnegative: { expired_token: { file: /t } }\n";
        assert!(find_inline_secrets(Path::new("t.yaml"), ok).is_empty(), "{:?}", find_inline_secrets(Path::new("t.yaml"), ok));
        // A flow mapping is caught too, on its line and at the value's column.
        let flow = "mailboxes:\n  per1: { address: a@b.test, type: PER, token: abc123 }\n";
        let errs = find_inline_secrets(Path::new("t.yaml"), flow);
        assert_eq!((errs.len(), errs[0].span.line, errs[0].span.column), (1, 2, 48), "{errs:?}");
        assert!(!errs[0].to_string().contains("abc123"), "{}", errs[0]);
        assert_eq!(find_inline_secrets(Path::new("t.yaml"), "negative: { expired_token: old-token-1 }\n").len(), 1);
        // A parse error on such a line does not repeat the value.
        let source = "name: x\n  per1: { token: \"s3cr3t-v4lue\" }\n";
        let e = LoadError::new(Span::new(Path::new("t.yaml"), 2, 3), LoadErrorKind::Invalid, "unknown variant `s3cr3t-v4lue`");
        let shown = hide_secret_values(e, source).to_string();
        assert!(!shown.contains("s3cr3t") && shown.contains("not repeated"), "{shown}");
    }
}

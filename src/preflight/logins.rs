//! Every mailbox of the profile: its token is obtained the way a run obtains it
//! ([`RunEnv::token`], so new token sources plug in here unchanged), then it logs in on one
//! submission and one IMAP endpoint and leaves at once (QUIT / LOGOUT). PER/ORG mailboxes use
//! XOAUTH2; APP mailboxes present their certificate and use PLAIN, EXTERNAL or nothing, as the
//! profile's `app_auth_form` says ([`crate::load::login`]).

use super::endpoints::{imap_timeouts, smtp_timeouts, transcript};
use super::{Finding, same, text};
use crate::exec::env::RunEnv;
use crate::exec::net::{Endpoint, TlsMode};
use crate::runner::scenario::open;
use crate::load::login::{Login, Protocol, Sasl, login};
use crate::target::model::{Mailbox, MailboxType};
use crate::target::token_source::TokenSource;

/// Preferred endpoints for the logins: the run's usual ones first.
const SMTP_ORDER: [&str; 2] = ["smtp_starttls", "smtp_implicit"];
const IMAP_ORDER: [&str; 2] = ["imap_implicit", "imap_starttls"];

pub async fn check(env: &RunEnv) -> Vec<Finding> {
    let smtp = pick(env, &SMTP_ORDER);
    let imap = pick(env, &IMAP_ORDER);
    // Mailboxes side by side (the pacing still caps connections per host), lines in profile order.
    let each = env.target.mailboxes.iter().map(|(role, m)| mailbox(env, role, m, smtp, imap));
    futures_util::future::join_all(each).await.into_iter().flatten().collect()
}

async fn mailbox(env: &RunEnv, role: &str, m: &Mailbox, smtp: Option<&Endpoint>, imap: Option<&Endpoint>) -> Vec<Finding> {
    let mut out = Vec::new();
    if m.kind != MailboxType::App {
        let token = token(env, role, m.token.as_ref()).await;
        let failed = token.status == super::Status::Fix;
        out.push(token);
        if failed {
            return out;
        }
    }
    if let Some(ep) = smtp {
        out.push(smtp_login(env, role, ep).await);
    }
    if let Some(ep) = imap {
        out.push(imap_login(env, role, ep).await);
    }
    out
}

fn pick<'a>(env: &'a RunEnv, order: &[&str]) -> Option<&'a Endpoint> {
    order.iter().find_map(|n| env.target.endpoints.get(*n))
}

/// Where the profile says a token comes from, without its value.
fn source_name(source: Option<&TokenSource>) -> String {
    match source {
        Some(TokenSource::Issuer) => "issuer".into(),
        Some(TokenSource::Env(v)) => format!("env {v}"),
        Some(TokenSource::File(p)) => format!("file {}", p.display()),
        // The helper's program, never its arguments (they may name a vault path or an account).
        Some(TokenSource::Command(c)) => format!("command {}", c.first().map(String::as_str).unwrap_or("?")),
        Some(TokenSource::Oauth2(o)) => format!("oauth2 {}", o.token_endpoint),
        None => "none".into(),
    }
}

async fn token(env: &RunEnv, role: &str, source: Option<&TokenSource>) -> Finding {
    let from = source_name(source);
    // The provider the runs use: renewal and every token source included.
    match env.mailbox_token(role).await {
        Ok(Some(_)) => Finding::ok(role, "token", text(format!("jeton obtenu ({from})"), format!("token obtained ({from})"))),
        Ok(None) => Finding::fix(role, "token", text("aucune source de jeton", "no token source"), text("déclarer `token:` pour cette BAL", "declare `token:` for this mailbox")),
        Err(e) => Finding::fix(
            role,
            "token",
            same(format!("{from}: {}", env.secrets.scrub(&e.to_string()))),
            text("fournir le jeton : variable d'environnement définie, fichier lisible (0600) ou émetteur joignable", "provide the token: environment variable set, file readable (0600) or issuer reachable"),
        ),
    }
}

fn refused(env: &RunEnv, role: &str, check: &'static str, seen: String) -> Finding {
    Finding::fix(
        role,
        check,
        same(env.secrets.scrub(&seen)),
        text(
            "connexion de la BAL refusée : vérifier le jeton (source, validité, BAL liée) ou le certificat et le mot de passe applicatifs",
            "the mailbox's login is refused: check the token (source, validity, bound mailbox) or the applicative certificate and password",
        ),
    )
}

fn mechanism(sasl: &Sasl) -> String {
    match sasl {
        Sasl::Auth { mechanism, .. } => mechanism.name().to_string(),
        Sasl::CertificateOnly => "certificate".into(),
    }
}

async fn smtp_login(env: &RunEnv, role: &str, ep: &Endpoint) -> Finding {
    let Login { tls, sasl } = match login(env, role, Protocol::Smtp).await {
        Ok(l) => l,
        Err(e) => return refused(env, role, "smtp-login", e),
    };
    let t = transcript(env, &format!("{role}-smtp"));
    let how = mechanism(&sasl);
    let result = async {
        let (mut s, _, _slot) = open::smtp(env, ep, &tls, smtp_timeouts(env), &t).await.map_err(|e| e.to_string())?;
        s.ehlo("mssconf-preflight.test").await.map_err(|e| e.to_string())?;
        if ep.tls == TlsMode::Starttls {
            let (reply, facts) = s.starttls(&tls).await.map_err(|e| e.to_string())?;
            if facts.is_none() {
                return Err(format!("STARTTLS: {}", reply.render()));
            }
            s.ehlo("mssconf-preflight.test").await.map_err(|e| e.to_string())?;
        }
        let seen = match &sasl {
            Sasl::CertificateOnly => "TLS session with the client certificate".to_string(),
            Sasl::Auth { mechanism, credentials } => {
                let ex = s.auth(*mechanism, credentials, true).await.map_err(|e| e.to_string())?;
                match ex.final_reply() {
                    Some(r) if r.is_positive() => r.first_line().to_string(),
                    Some(r) => return Err(format!("AUTH {}: {}", mechanism.name(), r.render())),
                    None => return Err(format!("AUTH {}: no final reply", mechanism.name())),
                }
            }
        };
        let _ = s.quit().await;
        Ok(seen)
    };
    match result.await {
        Ok(seen) => Finding::ok(role, "smtp-login", same(format!("SMTP {ep} {how}: {seen}"))),
        Err(e) => refused(env, role, "smtp-login", format!("SMTP {ep} {how}: {e}")),
    }
}

async fn imap_login(env: &RunEnv, role: &str, ep: &Endpoint) -> Finding {
    let Login { tls, sasl } = match login(env, role, Protocol::Imap).await {
        Ok(l) => l,
        Err(e) => return refused(env, role, "imap-login", e),
    };
    let t = transcript(env, &format!("{role}-imap"));
    let how = mechanism(&sasl);
    let result = async {
        let (mut s, _, _slot) = open::imap(env, ep, &tls, imap_timeouts(env), &t).await.map_err(|e| e.to_string())?;
        if ep.tls == TlsMode::Starttls {
            let (status, facts) = s.starttls(&tls).await.map_err(|e| e.to_string())?;
            if facts.is_none() {
                return Err(format!("STARTTLS: {status}"));
            }
        }
        let seen = match &sasl {
            Sasl::CertificateOnly => "TLS session with the client certificate".to_string(),
            Sasl::Auth { mechanism, credentials } => {
                let (caps, _) = s.capability().await.map_err(|e| e.to_string())?;
                let sasl_ir = caps.iter().any(|c| c.eq_ignore_ascii_case("SASL-IR"));
                let ex = s.authenticate(*mechanism, credentials, sasl_ir).await.map_err(|e| e.to_string())?;
                if !ex.status.is_ok() {
                    return Err(format!("AUTHENTICATE {}: {}", mechanism.name(), ex.status));
                }
                ex.status.to_string()
            }
        };
        let _ = s.logout().await;
        Ok(seen)
    };
    match result.await {
        Ok(seen) => Finding::ok(role, "imap-login", same(format!("IMAP {ep} {how}: {seen}"))),
        Err(e) => refused(env, role, "imap-login", format!("IMAP {ep} {how}: {e}")),
    }
}

//! One SMTP or IMAP endpoint: connect (through the run's pacing and "try later" retries), read
//! the greeting, EHLO / CAPABILITY, STARTTLS when the endpoint says so, judge the TLS session,
//! then QUIT / LOGOUT. No credentials here: the logins are [`super::logins`]'.

use std::time::Duration;

use super::{Finding, judge, same, text};
use crate::exec::env::RunEnv;
use crate::exec::imap::{ImapError, ImapTimeouts, StatusKind};
use crate::exec::net::{Endpoint, TlsMode};
use crate::runner::scenario::open;
use crate::exec::smtp::{SmtpError, SmtpTimeouts};
use crate::exec::tls::TlsFacts;
use crate::exec::transcript::Transcript;

/// The EHLO name the preflight announces.
const EHLO_NAME: &str = "mssconf-preflight.test";

pub async fn check(env: &RunEnv, name: &str, ep: &Endpoint) -> Vec<Finding> {
    let mut out = Vec::new();
    if name.starts_with("smtp") { smtp(env, name, ep, &mut out).await } else { imap(env, name, ep, &mut out).await }
    out
}

pub fn smtp_timeouts(env: &RunEnv) -> SmtpTimeouts {
    let t = &env.target.timeouts;
    SmtpTimeouts::new(Duration::from_millis(t.connect), Duration::from_millis(t.reply))
}

pub fn imap_timeouts(env: &RunEnv) -> ImapTimeouts {
    let t = &env.target.timeouts;
    ImapTimeouts { connect: Duration::from_millis(t.connect), response: Duration::from_millis(t.reply) }
}

pub fn transcript(env: &RunEnv, conn: &str) -> Transcript {
    Transcript::new(env.secrets.clone()).for_conn(format!("preflight-{conn}"))
}

async fn smtp(env: &RunEnv, name: &str, ep: &Endpoint, out: &mut Vec<Finding>) {
    let tls = match env.tls_settings(None, None) {
        Ok(t) => t,
        Err(e) => return out.push(harness(name, &e.to_string())),
    };
    let t = transcript(env, name);
    let (mut s, greeting, _slot) = match open::smtp(env, ep, &tls, smtp_timeouts(env), &t).await {
        Ok(v) => v,
        Err(e) => return out.push(smtp_failure(name, ep, &e)),
    };
    if greeting.code != 220 {
        out.push(Finding::fix(name, "greeting", same(greeting.render()), text("le serveur refuse la session : voir avec l'opérateur", "the server refuses the session: ask the operator")));
        return;
    }
    out.push(Finding::ok(name, "connect", same(format!("{ep}: {}", greeting.first_line()))));
    let mut caps = match s.ehlo(EHLO_NAME).await {
        Ok((reply, caps)) if reply.code == 250 => caps,
        Ok((reply, _)) => return out.push(Finding::fix(name, "ehlo", same(reply.render()), text("EHLO refusé : voir avec l'opérateur", "EHLO refused: ask the operator"))),
        Err(e) => return out.push(smtp_failure(name, ep, &e)),
    };
    if ep.tls == TlsMode::Starttls {
        if !caps.starttls() {
            out.push(Finding::fix(name, "starttls", text("STARTTLS non annoncé", "STARTTLS not announced"), text("vérifier le port (587 : STARTTLS) ou déclarer `tls: implicit`", "check the port (587: STARTTLS) or declare `tls: implicit`")));
            return;
        }
        match s.starttls(&tls).await {
            Ok((_, Some(_))) => {}
            Ok((reply, None)) => return out.push(Finding::fix(name, "starttls", same(reply.render()), text("STARTTLS refusé : voir avec l'opérateur", "STARTTLS refused: ask the operator"))),
            Err(e) => return out.push(smtp_failure(name, ep, &e)),
        }
        caps = match s.ehlo(EHLO_NAME).await {
            Ok((_, caps)) => caps,
            Err(e) => return out.push(smtp_failure(name, ep, &e)),
        };
    }
    if let Some(facts) = s.tls_facts() {
        out.push(judge::tls(name, facts, None, judge::today()));
    }
    let mechanisms = caps.auth_mechanisms();
    out.push(capabilities(name, "ehlo", &format!("AUTH {}; SIZE {}", mechanisms.join(" "), caps.size().map_or("-".into(), |n| n.to_string())), &mechanisms, env));
    let _ = s.quit().await;
}

async fn imap(env: &RunEnv, name: &str, ep: &Endpoint, out: &mut Vec<Finding>) {
    let tls = match env.tls_settings(None, None) {
        Ok(t) => t,
        Err(e) => return out.push(harness(name, &e.to_string())),
    };
    let t = transcript(env, name);
    let (mut s, greeting, _slot) = match open::imap(env, ep, &tls, imap_timeouts(env), &t).await {
        Ok(v) => v,
        Err(e) => return out.push(imap_failure(name, ep, &e)),
    };
    if greeting.status.kind != StatusKind::Ok {
        out.push(Finding::fix(name, "greeting", same(greeting.status.to_string()), text("accueil inattendu : voir avec l'opérateur", "unexpected greeting: ask the operator")));
        return;
    }
    out.push(Finding::ok(name, "connect", same(format!("{ep}: * {}", greeting.status))));
    if ep.tls == TlsMode::Starttls {
        match s.starttls(&tls).await {
            Ok((_, Some(_))) => {}
            Ok((status, None)) => return out.push(Finding::fix(name, "starttls", same(status.to_string()), text("STARTTLS refusé : vérifier le port (143) ou déclarer `tls: implicit`", "STARTTLS refused: check the port (143) or declare `tls: implicit`"))),
            Err(e) => return out.push(imap_failure(name, ep, &e)),
        }
    }
    if let Some(facts) = s.tls_facts() {
        out.push(judge::tls(name, facts, None, judge::today()));
    }
    match s.capability().await {
        Ok((caps, _)) => {
            let mechanisms: Vec<String> = caps.iter().filter_map(|c| c.get(..5).filter(|p| p.eq_ignore_ascii_case("AUTH=")).map(|_| c[5..].to_string())).collect();
            out.push(capabilities(name, "capability", &caps.join(" "), &mechanisms, env));
        }
        Err(e) => out.push(imap_failure(name, ep, &e)),
    }
    let _ = s.logout().await;
}

/// The capabilities line: a warning when the profile has PER/ORG mailboxes and XOAUTH2 is not
/// offered (their logins, checked below, will say whether they fail).
fn capabilities(name: &str, check: &'static str, seen: &str, mechanisms: &[String], env: &RunEnv) -> Finding {
    use crate::target::model::MailboxType;
    let bearer = env.target.mailboxes.values().any(|m| m.kind != MailboxType::App);
    if bearer && !mechanisms.iter().any(|m| m.eq_ignore_ascii_case("XOAUTH2")) {
        return Finding::warning(name, check, same(seen.to_string()), text("XOAUTH2 non annoncé après TLS : les BAL PER/ORG ne pourront pas se connecter", "XOAUTH2 not announced after TLS: PER/ORG mailboxes will not log in"));
    }
    Finding::ok(name, check, same(seen.to_string()))
}

fn smtp_failure(name: &str, ep: &Endpoint, e: &SmtpError) -> Finding {
    match (e, e.tls_facts()) {
        (_, Some(facts)) => tls_failure(name, facts, &e.to_string()),
        (SmtpError::Connect(_), _) => unreachable(name, ep, &e.to_string()),
        _ => Finding::fix(name, "connect", same(e.to_string()), text(format!("le service sur {ep} ne répond pas en SMTP : vérifier le port et `tls:` du profil"), format!("the service on {ep} does not answer as SMTP: check the profile's port and `tls:`"))),
    }
}

fn imap_failure(name: &str, ep: &Endpoint, e: &ImapError) -> Finding {
    match (e, e.tls_facts()) {
        (_, Some(facts)) => tls_failure(name, facts, &e.to_string()),
        (ImapError::Connect(_), _) => unreachable(name, ep, &e.to_string()),
        _ => Finding::fix(name, "connect", same(e.to_string()), text(format!("le service sur {ep} ne répond pas en IMAP : vérifier le port et `tls:` du profil"), format!("the service on {ep} does not answer as IMAP: check the profile's port and `tls:`"))),
    }
}

fn tls_failure(name: &str, facts: &TlsFacts, error: &str) -> Finding {
    judge::tls(name, facts, Some(error), judge::today())
}

fn unreachable(name: &str, ep: &Endpoint, error: &str) -> Finding {
    Finding::fix(
        name,
        "connect",
        same(error.to_string()),
        text(
            format!("{ep} injoignable : vérifier l'hôte et le port du profil, le pare-feu (adresse IP de sortie autorisée par l'opérateur ?)"),
            format!("{ep} unreachable: check the profile's host and port, the firewall (is the outgoing IP address allowed by the operator?)"),
        ),
    )
}

fn harness(name: &str, error: &str) -> Finding {
    Finding::fix(name, "tls", same(error.to_string()), text("vérifier les fichiers `trust_anchors` du profil", "check the profile's `trust_anchors` files"))
}

//! The service as it shows itself (issue #18 item 3): the SMTP banner and EHLO name, the IMAP
//! greeting and `ID` response, the server's TLS chain. Recorded once per run, before the
//! scenarios, on a connection of its own that never authenticates; compared with what the
//! profile declares by [`crate::verdict::identity`]. This module records, never judges: a
//! connection that fails is written down as such and the run goes on.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::env::RunEnv;
use super::imap::{Greeting, ImapSession, ImapTimeouts};
use super::net::{Endpoint, TlsMode};
use super::run::open;
use super::smtp::{Reply, SmtpSession, SmtpTimeouts};
use super::tls::{TlsFacts, TlsSettings};
use super::transcript::Transcript;
use crate::scenario::model::{Scenario, StepAction};

/// The EHLO name the harness gives (the one the scenarios use by default).
const EHLO_NAME: &str = "mssconf.test";

/// Everything the servers showed of themselves, as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceIdentity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<ImapIdentity>,
    /// What could not be observed (no endpoint, connection refused…), one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unobserved: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmtpIdentity {
    /// `name=host:port`.
    pub endpoint: String,
    /// The greeting (220 line(s)), as sent.
    pub banner: String,
    /// The first line of the EHLO reply: the name the server gives itself.
    pub ehlo_name: Option<String>,
    /// The handshake (after STARTTLS, or from the first byte on an implicit TLS port).
    pub tls: Option<TlsFacts>,
    /// Where the exchange stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImapIdentity {
    pub endpoint: String,
    /// The greeting line after `* `, as sent.
    pub greeting: String,
    /// The server advertised `ID` (RFC 2971): only then is `ID NIL` sent.
    pub id_advertised: bool,
    /// The `* ID (…)` response as sent, when asked.
    pub id_response: Option<String>,
    /// Its field/value pairs (`name`, `version`, `vendor`…), field names lower-cased.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_fields: Vec<(String, String)>,
    pub tls: Option<TlsFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The endpoint names the steps of `scenarios` connect to (SMTP, IMAP and TLS steps).
pub fn endpoints_used<'a>(scenarios: impl IntoIterator<Item = &'a Scenario>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for step in scenarios.into_iter().flat_map(|s| &s.steps) {
        match step.action() {
            Some(StepAction::Smtp(s)) => used.insert(s.endpoint.value.clone()),
            Some(StepAction::Imap(s)) => used.insert(s.endpoint.value.clone()),
            Some(StepAction::Tls(s)) => used.insert(s.endpoint.value.clone()),
            _ => false,
        };
    }
    used
}

/// The first endpoint of `names` the profile declares and the run uses.
fn pick<'a>(env: &'a RunEnv, used: &BTreeSet<String>, names: &[&'a str]) -> Option<(&'a str, &'a Endpoint)> {
    names.iter().filter(|n| used.contains(**n)).find_map(|n| env.target.endpoints.get(*n).map(|e| (*n, e)))
}

/// Observes the SMTP and IMAP services of the run's target, on endpoints among `used` (the run
/// contacts nothing it would not contact anyway); never fails.
pub async fn observe(env: &RunEnv, used: &BTreeSet<String>) -> ServiceIdentity {
    let mut out = ServiceIdentity::default();
    let tls = match env.tls_settings(None, None) {
        Ok(t) => t,
        Err(e) => {
            out.unobserved.push(format!("TLS settings: {}", e.message));
            return out;
        }
    };
    let connect = Duration::from_millis(env.target.timeouts.connect);
    let reply = Duration::from_millis(env.target.timeouts.reply);
    // One bound for the whole exchange, so a server that trickles cannot hold the run.
    let bound = connect + reply * 6;
    let t = Transcript::new(env.secrets.clone());
    match pick(env, used, &["smtp_starttls", "smtp_implicit"]) {
        None => out.unobserved.push("SMTP: no SMTP endpoint used by this run".into()),
        Some((name, ep)) => {
            let t = t.for_conn("identity-smtp");
            let opened = tokio::time::timeout(bound, async {
                let (session, greeting, _slot) = open::smtp(env, ep, &tls, SmtpTimeouts::new(connect, reply), &t).await?;
                Ok::<_, super::smtp::SmtpError>(smtp_identity(session, &greeting, ep.tls, &tls, &format!("{name}={ep}")).await)
            });
            match opened.await {
                Ok(Ok(id)) => out.smtp = Some(id),
                Ok(Err(e)) => out.unobserved.push(format!("SMTP {name}={ep}: {e}")),
                Err(_) => out.unobserved.push(format!("SMTP {name}={ep}: no end within {bound:?}")),
            }
        }
    }
    match pick(env, used, &["imap_starttls", "imap_implicit"]) {
        None => out.unobserved.push("IMAP: no IMAP endpoint used by this run".into()),
        Some((name, ep)) => {
            let t = t.for_conn("identity-imap");
            let opened = tokio::time::timeout(bound, async {
                let timeouts = ImapTimeouts { connect, response: reply };
                let (session, greeting, _slot) = open::imap(env, ep, &tls, timeouts, &t).await?;
                Ok::<_, super::imap::ImapError>(imap_identity(session, &greeting, ep.tls, &tls, &format!("{name}={ep}")).await)
            });
            match opened.await {
                Ok(Ok(id)) => out.imap = Some(id),
                Ok(Err(e)) => out.unobserved.push(format!("IMAP {name}={ep}: {e}")),
                Err(_) => out.unobserved.push(format!("IMAP {name}={ep}: no end within {bound:?}")),
            }
        }
    }
    out
}

/// Greeting, then EHLO (after STARTTLS on a STARTTLS port), then QUIT.
pub async fn smtp_identity(mut s: SmtpSession, greeting: &Reply, mode: TlsMode, tls: &TlsSettings, endpoint: &str) -> SmtpIdentity {
    let mut id = SmtpIdentity {
        endpoint: endpoint.to_string(),
        banner: reply_text(greeting),
        tls: s.tls_facts().cloned(),
        ..Default::default()
    };
    if let Err(e) = smtp_exchange(&mut s, &mut id, mode, tls).await {
        id.stopped = Some(e.to_string());
    }
    let _ = s.quit().await;
    id
}

async fn smtp_exchange(s: &mut SmtpSession, id: &mut SmtpIdentity, mode: TlsMode, tls: &TlsSettings) -> Result<(), super::smtp::SmtpError> {
    let (ehlo, _) = s.ehlo(EHLO_NAME).await?;
    id.ehlo_name = ehlo.lines.first().cloned();
    if mode == TlsMode::Starttls {
        let (reply, facts) = s.starttls(tls).await?;
        if facts.is_none() {
            id.stopped = Some(format!("STARTTLS: {}", reply_text(&reply)));
            return Ok(());
        }
        id.tls = facts;
        let (ehlo, _) = s.ehlo(EHLO_NAME).await?;
        id.ehlo_name = ehlo.lines.first().cloned();
    }
    Ok(())
}

fn reply_text(r: &Reply) -> String {
    r.lines.iter().map(|l| format!("{} {l}", r.code)).collect::<Vec<_>>().join("\n")
}

/// Greeting, STARTTLS on a STARTTLS port, CAPABILITY, `ID NIL` when advertised, LOGOUT.
pub async fn imap_identity(mut s: ImapSession, greeting: &Greeting, mode: TlsMode, tls: &TlsSettings, endpoint: &str) -> ImapIdentity {
    let g = &greeting.status;
    let code = g.code.as_deref().map(|c| format!("[{c}] ")).unwrap_or_default();
    let mut id = ImapIdentity {
        endpoint: endpoint.to_string(),
        greeting: format!("{:?} {code}{}", g.kind, g.text).to_uppercase_first(),
        tls: s.tls_facts().cloned(),
        ..Default::default()
    };
    if let Err(e) = imap_exchange(&mut s, &mut id, mode, tls).await {
        id.stopped = Some(e.to_string());
    }
    let _ = s.logout().await;
    id
}

async fn imap_exchange(s: &mut ImapSession, id: &mut ImapIdentity, mode: TlsMode, tls: &TlsSettings) -> Result<(), super::imap::ImapError> {
    if mode == TlsMode::Starttls {
        let (status, facts) = s.starttls(tls).await?;
        if facts.is_none() {
            id.stopped = Some(format!("STARTTLS: {:?} {}", status.kind, status.text));
            return Ok(());
        }
        id.tls = facts;
    }
    let (caps, _) = s.capability().await?;
    id.id_advertised = caps.iter().any(|c| c.eq_ignore_ascii_case("ID"));
    if !id.id_advertised {
        return Ok(());
    }
    let response = s.command("ID NIL").await?;
    if let Some(line) = response.untagged.iter().find(|l| l.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("* ID "))) {
        id.id_fields = id_fields(&line[5..]);
        id.id_response = Some(line.clone());
    }
    Ok(())
}

/// `("name" "Dovecot" "version" "2.3")` → [(name, Dovecot), (version, 2.3)]; `NIL` → [].
pub fn id_fields(list: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut chars = list.trim().trim_start_matches('(').trim_end_matches(')').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut w = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => w.extend(chars.next()),
                        '"' => break,
                        c => w.push(c),
                    }
                }
                words.push(Some(w));
            }
            c if c.is_whitespace() => {}
            c => {
                let mut w = String::from(c);
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    w.push(c);
                }
                words.push((!w.eq_ignore_ascii_case("NIL")).then_some(w));
            }
        }
    }
    words
        .chunks(2)
        .filter_map(|p| match p {
            [Some(k), Some(v)] => Some((k.to_lowercase(), v.clone())),
            _ => None,
        })
        .collect()
}

trait UpperFirst {
    fn to_uppercase_first(self) -> String;
}

impl UpperFirst for String {
    /// `Ok [CAPABILITY …] ready` → `OK [CAPABILITY …] ready` (the status word as IMAP writes it).
    fn to_uppercase_first(self) -> String {
        match self.split_once(' ') {
            Some((w, rest)) => format!("{} {rest}", w.to_uppercase()),
            None => self.to_uppercase(),
        }
    }
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;

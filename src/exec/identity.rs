//! The service as it shows itself (issue #18 item 3): the SMTP banner and EHLO name, the IMAP
//! greeting and `ID` response, the server's TLS chain. Recorded once per run, after the
//! scenarios, on a connection of its own that never authenticates; the verdict stage compares
//! it with what the profile declares. This module records, never judges: a
//! connection that fails is written down as such and the run goes on.

use serde::{Deserialize, Serialize};

use super::imap::{Greeting, ImapSession};
use super::net::TlsMode;
use super::smtp::{Reply, SmtpSession};
use super::tls::{TlsFacts, TlsSettings};

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

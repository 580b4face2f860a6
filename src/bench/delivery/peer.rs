//! The bench's clients on the peer: one submission session (sender) and two IMAP sessions on the
//! recipient's INBOX (one waits with IDLE, one polls at a fixed 1 s pace), all through the
//! harness's own SMTP and IMAP clients, logged in with the profile's bearer tokens.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::exec::env::RunEnv;
use crate::exec::imap::{ImapSession, ImapTimeouts, WaitMethod, WaitOutcome};
use crate::exec::message::{Draft, build};
use crate::exec::net::{Endpoint, TlsMode};
use crate::exec::sasl::Credentials;
use crate::scenario::model::Mechanism;
use crate::exec::smtp::{SmtpSession, SmtpTimeouts};
use crate::exec::transcript::Transcript;
use crate::scenario::model::Credential;
use crate::target::load::load_target;
use crate::target::model::{Environment, Target};

/// Sender and recipient roles: test mailboxes the profile declares.
const SENDER: &str = "per1";
const RECIPIENT: &str = "per2";
const FOLDER: &str = "INBOX";
/// Time given to the IDLE waiter to select, search and enter IDLE before the message is sent
/// (a few ms on loopback; samples that missed it are counted, not mixed in).
const IDLE_SETTLE: Duration = Duration::from_millis(30);
/// The baseline: a step-retry runner checks right after the `250`, then every second.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// One message's timeline.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The `250` after DATA was read.
    pub accepted: Instant,
    /// IDLE waiter: when the `* n EXISTS` push was read (`None`: not seen through the push).
    pub exists: Option<Instant>,
    /// IDLE waiter: when the search that found the message was written (with DONE).
    pub search_sent: Option<Instant>,
    /// IDLE waiter: when the search that found the message ended.
    pub idle_seen: Instant,
    /// Polling waiter (started after the `250`): when it found the message.
    pub poll_seen: Instant,
    /// The harness's own flow, `wait_for` started after the `250` (search, then IDLE).
    pub flow_seen: Instant,
}

pub struct Peer {
    env: Arc<RunEnv>,
    smtp: SmtpSession,
    idle: Option<ImapSession>,
    poll: ImapSession,
    flow: ImapSession,
    sender: String,
    recipient: String,
    wait_timeout: Duration,
    /// UIDs of the bench's messages, expunged at the end.
    delivered: Vec<u32>,
}

/// Loads the peer profile and refuses anything but a loopback test environment: the bench sends
/// dozens of messages and must never reach an operator's platform.
fn load_peer(profile: &Path) -> Result<Target, String> {
    let target = load_target(profile).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        format!("peer profile {} does not load: {first}", profile.display())
    })?;
    if target.environment == Environment::Production {
        return Err("the peer profile says `environment: production`: the bench only runs on a local peer".into());
    }
    if let Some((name, e)) = target.endpoints.iter().find(|(_, e)| !is_loopback(&e.host)) {
        return Err(format!("endpoint {name} ({e}) is not loopback: the bench only runs on a local peer"));
    }
    Ok(target)
}

/// The run context of the bench on the peer of `profile` (tokens, TLS settings, rate gate).
pub(crate) fn run_env(profile: &Path) -> Result<Arc<RunEnv>, String> {
    let target = load_peer(profile)?;
    let run_id = format!("bench-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"));
    RunEnv::new(target, Value::Null, std::env::temp_dir(), run_id).map_err(|e| e.to_string())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Peer {
    pub async fn connect(profile: &Path) -> Result<Peer, String> {
        let env = run_env(profile)?;
        let wait_timeout = Duration::from_millis(env.target.timeouts.delivery.max(5000));
        let sender = env.address(SENDER).map_err(|e| e.to_string())?;
        let recipient = env.address(RECIPIENT).map_err(|e| e.to_string())?;
        let smtp = submission(&env, SENDER).await?;
        let idle = mailbox(&env, RECIPIENT, "imap#idle").await?;
        let poll = mailbox(&env, RECIPIENT, "imap#poll").await?;
        let flow = mailbox(&env, RECIPIENT, "imap#flow").await?;
        Ok(Peer { env, smtp, idle: Some(idle), poll, flow, sender, recipient, wait_timeout, delivered: Vec::new() })
    }

    /// Sends message `n` while the IDLE waiter idles, then starts the polling waiter and the
    /// harness's own flow side by side; all three must find it.
    pub async fn sample(&mut self, n: usize) -> Result<Sample, String> {
        let message_id = format!("{}-{n}@{}", self.env.run_id, self.env.target.domain);
        let criteria = format!("HEADER Message-ID \"<{message_id}>\"");
        let mut idle = self.idle.take().ok_or("the IDLE session was lost by an earlier sample")?;
        let (c, timeout) = (criteria.clone(), self.wait_timeout);
        let waiter = tokio::spawn(async move {
            let outcome = idle.wait_for_using(FOLDER, &c, timeout, WaitMethod::Idle).await;
            (idle, outcome)
        });
        tokio::time::sleep(IDLE_SETTLE).await;
        let accepted = self.submit(n, &message_id).await?;
        let pace = WaitMethod::Polling { interval: POLL_INTERVAL };
        let (polled, flowed) = tokio::join!(
            self.poll.wait_for_using(FOLDER, &criteria, timeout, pace),
            self.flow.wait_for(FOLDER, &criteria, timeout),
        );
        let (idle, idled) = waiter.await.map_err(|e| format!("the IDLE waiter failed: {e}"))?;
        self.idle = Some(idle);
        let idled = found(idled, "IDLE", WaitMethod::Idle)?;
        let polled = found(polled, "polling", pace)?;
        let flowed = found(flowed, "wait_for", WaitMethod::Idle)?;
        self.delivered.extend(idled.uid);
        Ok(Sample {
            accepted,
            exists: idled.exists_at,
            search_sent: idled.search_sent_at,
            idle_seen: idled.found_at.unwrap_or(accepted),
            poll_seen: polled.found_at.unwrap_or(accepted),
            flow_seen: flowed.found_at.unwrap_or(accepted),
        })
    }

    /// MAIL, RCPT, DATA within the profile's submission rate; the instant the `250` was read.
    async fn submit(&mut self, n: usize, message_id: &str) -> Result<Instant, String> {
        let draft = Draft {
            name: format!("bench-{n}"),
            from: self.sender.clone(),
            to: vec![self.recipient.clone()],
            subject: format!("mssconf bench: delivery detection {n} (fictitious)"),
            body: Some("Fictitious message sent by `mssconf bench` to time delivery detection.\n".into()),
            message_id: message_id.to_string(),
            ..Default::default()
        };
        let built = build(&draft);
        self.env.submissions.admit().await.map_err(|e| e.to_string())?;
        let smtp_err = |e: crate::exec::smtp::SmtpError| format!("submission: {e}");
        expect_code(self.smtp.mail_from(&self.sender, &[]).await.map_err(smtp_err)?.code, 250, "MAIL FROM")?;
        expect_code(self.smtp.rcpt_to(&self.recipient, &[]).await.map_err(smtp_err)?.code, 250, "RCPT TO")?;
        let data = self.smtp.data(&built.to_vec()).await.map_err(smtp_err)?;
        let accepted = Instant::now();
        expect_code(data.final_reply.map_or(data.intermediate.code, |r| r.code), 250, "the end of DATA")?;
        Ok(accepted)
    }

    /// Expunges the bench's messages (only those UIDs) and logs out.
    pub async fn close(mut self) {
        let mut idle = self.idle.take();
        if let Some(s) = idle.as_mut() {
            for uid in &self.delivered {
                let _ = s.uid_store(*uid, "+FLAGS.SILENT (\\Deleted)").await;
            }
            if !self.delivered.is_empty() {
                let set = self.delivered.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                let _ = s.command(&format!("UID EXPUNGE {set}")).await;
            }
            let _ = s.logout().await;
        }
        let _ = self.poll.logout().await;
        let _ = self.flow.logout().await;
        let _ = self.smtp.quit().await;
    }
}

fn expect_code(code: u16, want: u16, what: &str) -> Result<(), String> {
    if code == want { Ok(()) } else { Err(format!("the peer answered {code} to {what} (expected {want})")) }
}

fn found(outcome: Result<WaitOutcome, crate::exec::imap::ImapError>, who: &str, want: WaitMethod) -> Result<WaitOutcome, String> {
    let w = outcome.map_err(|e| format!("{who} wait: {e}"))?;
    if w.uid.is_none() || w.found_at.is_none() {
        return Err(format!("{who} wait: the message was not found within {:?} ({})", w.elapsed, w.status));
    }
    if w.method != want {
        return Err(format!("{who} wait used {:?} (the peer does not announce IDLE?)", w.method));
    }
    Ok(w)
}

/// A submission session logged in as `role`: implicit TLS when declared, else STARTTLS; XOAUTH2.
pub(crate) async fn submission(env: &RunEnv, role: &str) -> Result<SmtpSession, String> {
    let endpoint = pick(env, "smtp_implicit", "smtp_starttls")?;
    let t = &env.target.timeouts;
    let timeouts = SmtpTimeouts::new(Duration::from_millis(t.connect), Duration::from_millis(t.reply));
    let tls = env.tls_settings(None, None).map_err(|e| e.to_string())?;
    let transcript = Transcript::new(env.secrets.clone()).for_conn("smtp#bench");
    let err = |e: crate::exec::smtp::SmtpError| format!("submission to {endpoint}: {e}");
    let (mut s, greeting) = SmtpSession::connect(&endpoint, &tls, timeouts, transcript).await.map_err(err)?;
    expect_code(greeting.code, 220, "the connection (greeting)")?;
    s.ehlo("bench.mssconf.test").await.map_err(err)?;
    if endpoint.tls == TlsMode::Starttls {
        let (reply, facts) = s.starttls(&tls).await.map_err(err)?;
        if facts.is_none() {
            return Err(format!("submission: STARTTLS refused ({})", reply.code));
        }
        s.ehlo("bench.mssconf.test").await.map_err(err)?;
    }
    let creds = credentials(env, role).await?;
    let auth = s.auth(Mechanism::Xoauth2, &creds, true).await.map_err(err)?;
    match auth.final_reply() {
        Some(r) if r.code == 235 => Ok(s),
        other => Err(format!("submission: XOAUTH2 for {role} refused ({:?})", other.map(|r| r.code))),
    }
}

/// An IMAP session logged in as `role`, its transcript named `name`: implicit TLS when
/// declared, else STARTTLS; XOAUTH2.
pub(crate) async fn mailbox(env: &RunEnv, role: &str, name: &str) -> Result<ImapSession, String> {
    let endpoint = pick(env, "imap_implicit", "imap_starttls")?;
    let t = &env.target.timeouts;
    let timeouts = ImapTimeouts { connect: Duration::from_millis(t.connect), response: Duration::from_millis(t.reply) };
    let tls = env.tls_settings(None, None).map_err(|e| e.to_string())?;
    let transcript = Transcript::new(env.secrets.clone()).for_conn(name);
    let err = |e: crate::exec::imap::ImapError| format!("IMAP {endpoint}: {e}");
    let (mut s, _greeting) = ImapSession::connect(&endpoint, &tls, timeouts, transcript).await.map_err(err)?;
    if endpoint.tls == TlsMode::Starttls {
        let (status, facts) = s.starttls(&tls).await.map_err(err)?;
        if facts.is_none() {
            return Err(format!("IMAP: STARTTLS refused ({status})"));
        }
    }
    let caps = match s.capabilities() {
        Some(c) => c.to_vec(),
        None => s.capability().await.map_err(err)?.0,
    };
    let sasl_ir = caps.iter().any(|c| c.eq_ignore_ascii_case("SASL-IR"));
    let creds = credentials(env, role).await?;
    let auth = s.authenticate(Mechanism::Xoauth2, &creds, sasl_ir).await.map_err(err)?;
    if !auth.status.is_ok() {
        return Err(format!("IMAP: XOAUTH2 for {role} refused ({})", auth.status));
    }
    Ok(s)
}

async fn credentials(env: &RunEnv, role: &str) -> Result<Credentials, String> {
    let user = env.address(role).map_err(|e| e.to_string())?;
    let secret = env.token(role, &Credential::Valid).await.map_err(|e| e.to_string())?;
    if secret.is_none() {
        return Err(format!("the peer profile gives mailbox `{role}` no token"));
    }
    Ok(Credentials { user, secret })
}

fn pick(env: &RunEnv, first: &str, second: &str) -> Result<Endpoint, String> {
    let e = &env.target.endpoints;
    e.get(first)
        .or_else(|| e.get(second))
        .cloned()
        .ok_or_else(|| format!("the peer profile declares neither {first} nor {second}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("192.0.2.1") && !is_loopback("mss.operateur.example"));
    }

    #[test]
    fn a_missing_profile_is_a_reason_not_a_panic() {
        let reason = load_peer(Path::new("/nonexistent/peer.yaml")).unwrap_err();
        assert!(reason.contains("does not load"), "{reason}");
    }
}

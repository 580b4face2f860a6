//! One submission session of the load: connect, TLS, AUTH once, then transaction after
//! transaction on the same connection (MAIL FROM, RCPT TO, DATA) until the run's deadline, its
//! message budget or a stop. Each transaction's latency runs from sending MAIL FROM to the 250
//! after the body.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::ledger::Ledger;
use super::login::{Login, Sasl};
use super::message::MessageTemplate;
use crate::exec::net::{Endpoint, TlsMode};
use crate::exec::smtp::{SmtpError, SmtpSession, SmtpTimeouts};
use crate::exec::transcript::Transcript;
use crate::secret::SecretSet;

/// A session is replaced after this many transactions, so that its transcript (kept in memory)
/// stays bounded during a long soak.
const TRANSACTIONS_PER_SESSION: u32 = 500;
/// Pause after a failed connection before the next attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);

/// What every worker shares.
pub struct WorkerShared {
    pub endpoint: Endpoint,
    pub login: Login,
    pub sender: String,
    pub recipients: Vec<String>,
    pub template: MessageTemplate,
    pub timeouts: SmtpTimeouts,
    pub secrets: SecretSet,
    pub ledger: Arc<Ledger>,
    /// Submission stops at this instant.
    pub deadline: Instant,
}

/// Runs worker `id` until the deadline, the budget or `stop`.
pub async fn run(id: usize, shared: Arc<WorkerShared>, stop: watch::Receiver<bool>) {
    let mut session: Option<(SmtpSession, u32)> = None;
    let mut sessions = 0u32;
    while !*stop.borrow() && Instant::now() < shared.deadline {
        let (s, done) = match session.take() {
            Some(open) => open,
            None => {
                sessions += 1;
                match open(&shared, &format!("load-smtp#{id}.{sessions}")).await {
                    Ok(s) => (s, 0),
                    Err(kind) => {
                        shared.ledger.error(&kind);
                        tokio::time::sleep_until((Instant::now() + RECONNECT_PAUSE).min(shared.deadline)).await;
                        continue;
                    }
                }
            }
        };
        let Some(seq) = shared.ledger.claim() else {
            session = Some((s, done));
            break;
        };
        let mut s = s;
        let keep = transaction(&shared, &mut s, seq).await;
        if keep && done + 1 < TRANSACTIONS_PER_SESSION {
            session = Some((s, done + 1));
        } else if keep {
            let _ = s.quit().await;
        }
    }
    if let Some((mut s, _)) = session {
        let _ = s.quit().await;
    }
}

/// Connects, secures and authenticates a session; the error is the kind to count.
async fn open(shared: &WorkerShared, conn: &str) -> Result<SmtpSession, String> {
    let transcript = Transcript::new(shared.secrets.clone()).for_conn(conn);
    let tls = &shared.login.tls;
    let (mut s, greeting) = SmtpSession::connect(&shared.endpoint, tls, shared.timeouts, transcript)
        .await
        .map_err(|e| error_kind(&e))?;
    positive(greeting.code, "greeting")?;
    let (reply, _) = s.ehlo("mssconf-load.test").await.map_err(|e| error_kind(&e))?;
    positive(reply.code, "ehlo")?;
    if shared.endpoint.tls == TlsMode::Starttls {
        let (reply, facts) = s.starttls(tls).await.map_err(|e| error_kind(&e))?;
        if facts.is_none() {
            return Err(format!("starttls-{}", reply.code));
        }
        let (reply, _) = s.ehlo("mssconf-load.test").await.map_err(|e| error_kind(&e))?;
        positive(reply.code, "ehlo")?;
    }
    if let Sasl::Auth { mechanism, credentials } = &shared.login.sasl {
        let ex = s.auth(*mechanism, credentials, true).await.map_err(|e| error_kind(&e))?;
        match ex.final_reply() {
            Some(r) if r.is_positive() => {}
            Some(r) => return Err(format!("auth-{}", r.code)),
            None => return Err("auth-no-reply".into()),
        }
    }
    Ok(s)
}

/// One message. False when the session must not be reused.
async fn transaction(shared: &WorkerShared, s: &mut SmtpSession, seq: u64) -> bool {
    let ledger = &shared.ledger;
    let index = (seq as usize) % shared.recipients.len();
    let to = &shared.recipients[index];
    let body = shared.template.render(seq, to);
    let started = Instant::now();
    let step = async {
        let r = s.mail_from(&shared.sender, &[]).await?;
        if !r.is_positive() {
            return Ok(Err(r.code));
        }
        let r = s.rcpt_to(to, &[]).await?;
        if !r.is_positive() {
            return Ok(Err(r.code));
        }
        ledger.expect(seq, index);
        let ex = s.data(&body).await?;
        let last = ex.final_reply.unwrap_or(ex.intermediate);
        Ok::<_, SmtpError>(if last.is_positive() { Ok(()) } else { Err(last.code) })
    };
    match step.await {
        Ok(Ok(())) => {
            ledger.accepted(seq, started.elapsed());
            true
        }
        Ok(Err(code)) => {
            ledger.failed(seq, &code.to_string());
            // 421: the server is closing; otherwise forget the transaction and go on.
            code != 421 && s.command("RSET").await.is_ok_and(|r| r.is_positive())
        }
        Err(e) => {
            ledger.failed(seq, &error_kind(&e));
            false
        }
    }
}

fn positive(code: u16, what: &str) -> Result<(), String> {
    if (200..400).contains(&code) { Ok(()) } else { Err(format!("{what}-{code}")) }
}

/// The error-count key of a failure without a reply.
pub fn error_kind(e: &SmtpError) -> String {
    match e {
        SmtpError::Connect(_) => "smtp-connect",
        SmtpError::Timeout { .. } => "smtp-timeout",
        SmtpError::Closed { .. } => "smtp-closed",
        SmtpError::Malformed { .. } => "smtp-malformed",
        SmtpError::Tls { .. } => "smtp-tls",
        SmtpError::Io { .. } => "smtp-io",
        SmtpError::Misuse(_) => "harness",
        SmtpError::Unavailable { .. } => "smtp-unavailable",
    }
    .to_string()
}

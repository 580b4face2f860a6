//! Opening a step's connection the polite way: a place in the host's pacing first
//! ([`crate::exec::pacing`]), then the session, tried again while the server says "try later"
//! ([`crate::exec::busy`]). Each attempt takes its own place and start time, so retries are paced
//! like any other connection. The [`Slot`] returned is held as long as the connection is.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::imap::{Greeting, ImapError, ImapSession, ImapTimeouts};
use crate::exec::net::{self, Endpoint};
use crate::exec::pacing::Slot;
use crate::exec::smtp::{Reply, SmtpError, SmtpSession, SmtpTimeouts};
use crate::exec::tls::TlsSettings;
use crate::exec::transcript::Transcript;

/// Waits for a place to `host`, noting the wait in the transcript when there was one.
pub async fn slot(env: &RunEnv, host: &str, t: &Transcript) -> Slot {
    let slot = env.pacing.slot(host).await;
    if let Some(note) = slot.note(&env.pacing, host) {
        t.note(&note);
    }
    slot
}

/// An SMTP session and its greeting; a 4xx greeting (also in plaintext on an implicit TLS port)
/// or a close before it is retried.
pub async fn smtp(
    env: &RunEnv,
    ep: &Endpoint,
    tls: &TlsSettings,
    timeouts: SmtpTimeouts,
    t: &Transcript,
) -> Result<(SmtpSession, Reply, Slot), SmtpError> {
    let attempt = || async {
        let slot = slot(env, &ep.host, t).await;
        let (session, greeting) = SmtpSession::connect(ep, tls, timeouts, t.clone()).await?;
        Ok((session, greeting, slot))
    };
    env.busy.run(t, attempt, SmtpError::busy).await
}

/// An IMAP session and its greeting; a `* BYE` greeting (also in plaintext on an implicit TLS
/// port) or a close before it is retried.
pub async fn imap(
    env: &RunEnv,
    ep: &Endpoint,
    tls: &TlsSettings,
    timeouts: ImapTimeouts,
    t: &Transcript,
) -> Result<(ImapSession, Greeting, Slot), ImapError> {
    let attempt = || async {
        let slot = slot(env, &ep.host, t).await;
        let (session, greeting) = ImapSession::connect(ep, tls, timeouts, t.clone()).await?;
        Ok((session, greeting, slot))
    };
    env.busy.run(t, attempt, ImapError::busy).await
}

/// A plain TCP connection under the pacing, for the TLS steps (handshake and raw probes), which
/// then speak their own preamble; their "try later" is retried around the whole opening by
/// [`retry_opening`].
pub async fn tcp(env: &RunEnv, ep: &Endpoint, t: &Transcript) -> Result<(TcpStream, Slot), ExecError> {
    let slot = slot(env, &ep.host, t).await;
    let tcp = net::connect(&ep.host, ep.port, Duration::from_millis(env.target.timeouts.connect)).await?;
    Ok((tcp, slot))
}

/// Runs a TLS step's opening (connect, STARTTLS preamble, first TLS bytes) again while it ends
/// in "try later" (an error of category `unavailable`).
pub async fn retry_opening<T, F, Fut>(env: &RunEnv, t: &Transcript, attempt: F) -> Result<T, ExecError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ExecError>>,
{
    let busy = |e: &ExecError| (e.category == crate::exec::error::Category::Unavailable).then(|| e.message.clone());
    env.busy.run(t, attempt, busy).await
}

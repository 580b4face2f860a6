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
/// in "try later" (an error whose cause says so).
pub async fn retry_opening<T, F, Fut>(env: &RunEnv, t: &Transcript, attempt: F) -> Result<T, ExecError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ExecError>>,
{
    env.busy.run(t, attempt, ExecError::busy).await
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::exec::probe::ProbeError;

    fn env() -> Arc<RunEnv> {
        let yaml = "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general]\ndomain: op.test\n\
                    server_name: localhost\ntrust_anchors: []\nmailboxes: {}\nendpoints: {}\n\
                    rate: { busy_retries: 2, busy_backoff_ms: 1 }\n";
        let target = crate::yaml::read::parse_yaml(Path::new("t.yaml"), yaml).unwrap();
        RunEnv::new(target, serde_json::Value::Object(Default::default()), "fixtures".into(), "run".into()).unwrap()
    }

    /// How many attempts `retry_opening` makes when every one fails with `e`.
    async fn attempts(e: ExecError) -> (u32, Vec<String>) {
        let env = env();
        let t = Transcript::new(env.secrets.clone());
        let mut n = 0;
        let result: Result<(), ExecError> = retry_opening(&env, &t, || {
            n += 1;
            let e = e.clone();
            async move { Err(e) }
        })
        .await;
        assert!(result.is_err());
        (n, t.lines().into_iter().map(|l| l.text).collect())
    }

    /// "Try later" is read from the typed cause, here an SMTP `421` inside a probe's STARTTLS
    /// preamble: retried, the notes quoting the error's text. The same text as a described
    /// protocol error is not retried: text is never parsed.
    #[tokio::test]
    async fn a_try_later_is_retried_on_its_typed_cause_not_its_text() {
        let busy = SmtpError::Unavailable { during: "EHLO".into(), reply: "421 4.3.2 busy".into() };
        let e = ExecError::from(ProbeError::Smtp(busy));
        assert_eq!(e.to_string(), "unavailable: SMTP STARTTLS preamble: service temporarily unavailable (421 4.3.2 busy) at the EHLO");
        let (n, notes) = attempts(e.clone()).await;
        assert_eq!(n, 3, "{notes:?}");
        assert!(notes[0].starts_with("attempt 1/3: service temporarily unavailable (SMTP STARTTLS preamble: service temporarily"), "{notes:?}");
        let (n, _) = attempts(ExecError::protocol(e.message())).await;
        assert_eq!(n, 1);
    }
}

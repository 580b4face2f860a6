//! "Try later": a server that refuses a connection for now (a `421` or other 4xx greeting, an
//! IMAP `* BYE` greeting, a reset before the greeting, the same refusal sent in plaintext on a TLS
//! port) says nothing about its conformance. The opening of the connection is retried after a
//! bounded, doubling wait (`rate.busy_retries`, `rate.busy_backoff_ms`), each attempt noted in the
//! transcript; a refusal that persists ends the step as an error of category `unavailable`
//! ("service temporarily unavailable"), never as a failed check.

use std::future::Future;
use std::time::Duration;

use super::transcript::Transcript;
use crate::target::model::Rate;

/// The longest single wait between two attempts, whatever the profile's backoff.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// How often, and after how long, an opening refused for now is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyRetry {
    pub retries: u32,
    pub backoff: Duration,
}

impl BusyRetry {
    pub fn new(rate: &Rate) -> Self {
        BusyRetry { retries: rate.busy_retries, backoff: Duration::from_millis(rate.busy_backoff_ms) }
    }

    /// The wait before retry `n` (1-based): the backoff, doubled at each further retry, capped.
    pub fn wait(&self, n: u32) -> Duration {
        self.backoff.saturating_mul(1 << (n.saturating_sub(1)).min(16)).min(MAX_WAIT)
    }

    /// Runs `attempt` until it succeeds, fails for another reason than `busy` recognises, or the
    /// retries are spent (the last error is returned). `busy` says why an error means "try later".
    pub async fn run<T, E, F, Fut>(&self, t: &Transcript, mut attempt: F, busy: impl Fn(&E) -> Option<String>) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let total = self.retries + 1;
        let mut n = 1;
        loop {
            let error = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(why) = busy(&error) else { return Err(error) };
            if n >= total {
                t.note(&format!("attempt {n}/{total}: service temporarily unavailable ({why}); no retry left"));
                return Err(error);
            }
            let wait = self.wait(n);
            t.note(&format!(
                "attempt {n}/{total}: service temporarily unavailable ({why}); trying again in {} ms",
                wait.as_millis()
            ));
            // Time the server asked for: counted as server wait.
            crate::exec::timing::server(tokio::time::sleep(wait)).await;
            n += 1;
        }
    }
}

/// A plaintext "try later" where something else was expected (a TLS record, a ClientHello
/// answer): an SMTP 4xx reply line or an IMAP `* BYE`. The first line, as text.
pub fn plaintext_refusal(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len()).min(512);
    let line = String::from_utf8_lossy(&bytes[..end]).trim_end_matches('\r').to_string();
    is_refusal_line(&line).then_some(line)
}

/// `4xx text` / `4xx-text` (SMTP, RFC 5321 §4.2) or `* BYE …` (IMAP, RFC 9051 §7.1.5).
pub fn is_refusal_line(line: &str) -> bool {
    let b = line.as_bytes();
    let smtp = b.len() >= 3
        && b[0] == b'4'
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b.get(3).is_none_or(|c| matches!(c, b' ' | b'-'));
    let imap = line.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("* BYE"));
    smtp || imap
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::secret::SecretSet;

    fn policy(retries: u32) -> BusyRetry {
        BusyRetry { retries, backoff: Duration::from_millis(500) }
    }

    fn fast(retries: u32) -> BusyRetry {
        BusyRetry { retries, backoff: Duration::from_millis(10) }
    }

    #[test]
    fn waits_double_and_are_capped() {
        let p = policy(3);
        assert_eq!([p.wait(1), p.wait(2), p.wait(3)], [500, 1000, 2000].map(Duration::from_millis));
        assert_eq!(p.wait(40), MAX_WAIT);
    }

    #[tokio::test]
    async fn a_busy_opening_is_retried_then_given_up_with_every_attempt_noted() {
        let t = Transcript::new(SecretSet::new());
        let calls = AtomicU32::new(0);
        let busy = |e: &String| e.starts_with("421").then(|| e.clone());
        let started = tokio::time::Instant::now();
        let result: Result<(), String> = fast(2)
            .run(&t, || async { Err(format!("421 busy #{}", calls.fetch_add(1, Ordering::SeqCst) + 1)) }, busy)
            .await;
        assert_eq!(result.unwrap_err(), "421 busy #3");
        assert!(started.elapsed() >= Duration::from_millis(30), "waited 10 then 20 ms: {:?}", started.elapsed());
        let notes: Vec<String> = t.lines().iter().map(|l| l.text.clone()).collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("attempt 1/3") && notes[0].contains("421 busy #1") && notes[0].contains("10 ms"));
        assert!(notes[2].contains("attempt 3/3") && notes[2].contains("no retry left"));
    }

    #[tokio::test]
    async fn other_errors_and_successes_are_not_retried() {
        let t = Transcript::new(SecretSet::new());
        let calls = AtomicU32::new(0);
        let busy = |e: &String| e.starts_with("421").then(|| e.clone());
        let r: Result<(), String> = fast(3).run(&t, || async { calls.fetch_add(1, Ordering::SeqCst); Err("554 no".to_string()) }, busy).await;
        assert_eq!((r.unwrap_err().as_str(), calls.load(Ordering::SeqCst)), ("554 no", 1));
        let calls = AtomicU32::new(0);
        let r: Result<u32, String> = fast(3)
            .run(&t, || async { if calls.fetch_add(1, Ordering::SeqCst) == 0 { Err("421 once".to_string()) } else { Ok(7) } }, busy)
            .await;
        assert_eq!(r, Ok(7));
    }

    #[test]
    fn plaintext_refusals_are_recognised() {
        assert_eq!(plaintext_refusal(b"421 4.7.0 Too many connections\r\nrest").as_deref(), Some("421 4.7.0 Too many connections"));
        assert_eq!(plaintext_refusal(b"* BYE too many connections\r\n").as_deref(), Some("* BYE too many connections"));
        assert!(plaintext_refusal(b"450-busy").is_some());
        for not in [&b"220 mx ESMTP\r\n"[..], b"\x16\x03\x03\x00\x02", b"* OK ready", b"4200 x", b"554 no", b""] {
            assert_eq!(plaintext_refusal(not), None, "{not:?}");
        }
    }
}

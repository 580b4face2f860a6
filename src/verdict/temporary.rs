//! "Try later" is not an answer to judge. An SMTP 4xx reply (RFC 5321 §4.2.1: transient; `421`
//! the service closing, `450`/`451`/`452` a rate limit or a resource running short) says the
//! command may succeed later: any conformant server may send one under load. Where the scenario
//! does not expect a 4xx, such a reply ends the step as an error of category `unavailable` with
//! the server's words, never as a failed check (docs/verdicts.md). IMAP says the same with
//! `NO [UNAVAILABLE]` (RFC 5530 §3: a subsystem is down, temporarily), and HTTP with `429 Too
//! Many Requests` (RFC 6585 §4) or `503 Service Unavailable` (RFC 9110 §15.6.4).

use super::code_matches;
use super::transaction::TransactionRule;
use crate::exec::observation::{HttpObservation, ImapObservation, SmtpObservation, TransactionObservation};

/// The reply, when `obs` is a 4xx that the expected `code` pattern does not accept.
pub fn smtp_reply(code: Option<&str>, obs: &SmtpObservation) -> Option<String> {
    let pattern = code?;
    let transient = (400..500).contains(&obs.code) && !code_matches(pattern, obs.code);
    transient.then(|| format!("{} {}", obs.code, obs.text.lines().next().unwrap_or("").trim()).trim_end().to_string())
}

/// The refusing reply, when a submission attempt was stopped by a 4xx its rule does not accept
/// (a refusal expected with `5xx`, or no refusal expected).
pub fn transaction(rule: &TransactionRule, o: &TransactionObservation) -> Option<String> {
    let r = o.refusal.as_ref()?;
    ((400..500).contains(&r.code) && !code_matches(&rule.code, r.code)).then(|| format!("{} at {}", r.reply.trim(), r.stage.name()))
}

/// The response, when `obs` is a `NO [UNAVAILABLE]` and the expected `status` is not `no`.
pub fn imap_reply(status: Option<&str>, obs: &ImapObservation) -> Option<String> {
    let expects_no = status?.split('|').any(|s| s.trim().eq_ignore_ascii_case("no"));
    let unavailable = obs.code.as_deref().and_then(|c| c.split_whitespace().next()).is_some_and(|c| c.eq_ignore_ascii_case("UNAVAILABLE"));
    (obs.status.eq_ignore_ascii_case("NO") && unavailable && !expects_no).then(|| format!("NO [UNAVAILABLE] {}", obs.text.trim()).trim_end().to_string())
}

/// The status, when an HTTP answer is 429 or 503 and the expected `status` is another.
pub fn http_status(status: Option<u16>, obs: &HttpObservation) -> Option<String> {
    let want = status?;
    (matches!(obs.status, 429 | 503) && obs.status != want).then(|| format!("HTTP {}", obs.status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::observation::Refusal;
    use crate::scenario::model::{SmtpStage, TransactionOutcome};

    fn reply(code: u16, text: &str) -> SmtpObservation {
        SmtpObservation { code, text: text.into(), ..Default::default() }
    }

    #[test]
    fn a_4xx_the_step_does_not_expect_is_try_later() {
        assert_eq!(smtp_reply(Some("250"), &reply(421, "4.7.0 Too many messages, try later\nbye")).as_deref(), Some("421 4.7.0 Too many messages, try later"));
        assert_eq!(smtp_reply(Some("5xx"), &reply(451, "4.7.1 rate limited")).as_deref(), Some("451 4.7.1 rate limited"));
        assert!(smtp_reply(Some("4xx|5xx"), &reply(451, "x")).is_none(), "expected: judged");
        assert!(smtp_reply(Some("250"), &reply(554, "no")).is_none(), "5xx: judged");
        assert!(smtp_reply(None, &reply(421, "x")).is_none(), "no code expected: nothing to judge it against");
    }

    #[test]
    fn an_imap_no_unavailable_is_try_later_unless_no_is_expected() {
        let no = |code: &str| ImapObservation { status: "NO".into(), code: Some(code.into()), text: "Backend down".into(), ..Default::default() };
        assert_eq!(imap_reply(Some("ok"), &no("UNAVAILABLE")).as_deref(), Some("NO [UNAVAILABLE] Backend down"));
        assert!(imap_reply(Some("no|bad"), &no("UNAVAILABLE")).is_none());
        assert!(imap_reply(Some("ok"), &no("AUTHENTICATIONFAILED")).is_none());
        assert!(imap_reply(None, &no("UNAVAILABLE")).is_none());
    }

    #[test]
    fn http_429_and_503_are_try_later_unless_expected() {
        let got = |status| HttpObservation { status, ..Default::default() };
        assert_eq!(http_status(Some(200), &got(429)).as_deref(), Some("HTTP 429"));
        assert_eq!(http_status(Some(200), &got(503)).as_deref(), Some("HTTP 503"));
        assert!(http_status(Some(503), &got(503)).is_none());
        assert!(http_status(Some(200), &got(404)).is_none(), "judged");
        assert!(http_status(None, &got(429)).is_none());
    }

    #[test]
    fn a_transaction_stopped_by_a_4xx_is_try_later() {
        let rule = |code: &str| TransactionRule { outcome: TransactionOutcome::Refused, stages: vec![SmtpStage::Rcpt], code: code.into() };
        let stopped = |code: u16, closed: bool| TransactionObservation {
            refusal: Some(Refusal { stage: SmtpStage::Rcpt, code, reply: format!("{code} 4.7.0 slow down"), closed }),
            ..Default::default()
        };
        assert_eq!(transaction(&rule("5xx"), &stopped(421, true)).as_deref(), Some("421 4.7.0 slow down at RCPT TO"));
        assert!(transaction(&rule("4xx|5xx"), &stopped(451, false)).is_none());
        assert!(transaction(&rule("5xx"), &stopped(550, false)).is_none());
        assert!(transaction(&rule("5xx"), &stopped(0, true)).is_none(), "a close without reply is judged");
        assert!(transaction(&rule("5xx"), &TransactionObservation::default()).is_none());
    }
}

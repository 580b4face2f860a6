//! Delivery status notifications (RFC 3461/3464, multipart/report RFC 6522) for the sender.

use chrono::{DateTime, Utc};

use super::envelope::{Destination, Envelope, Recipient, Ret};
use super::headers;

/// What happened to one recipient's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Handed on to another operator of the whitelist (discarded by the mock).
    Relayed,
    /// No such local mailbox (5.1.1).
    Failed,
}

impl Outcome {
    pub fn of(destination: Destination, stored: bool) -> Outcome {
        match destination {
            Destination::Local if stored => Outcome::Delivered,
            Destination::Relay => Outcome::Relayed,
            _ => Outcome::Failed,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Relayed => "relayed",
            Outcome::Failed => "failed",
        }
    }

    fn status(self) -> &'static str {
        match self {
            Outcome::Failed => "5.1.1",
            _ => "2.0.0",
        }
    }

    fn diagnostic(self) -> &'static str {
        match self {
            Outcome::Delivered => "250 2.0.0 delivered to mailbox",
            Outcome::Relayed => "250 2.0.0 relayed to an operator without DSN support",
            Outcome::Failed => "550 5.1.1 mailbox unknown",
        }
    }

    pub fn is_failure(self) -> bool {
        self == Outcome::Failed
    }
}

/// Whether `recipient`'s NOTIFY asks for a report of `outcome`. Without NOTIFY, only failures
/// are reported (RFC 3461 §4.1).
pub fn wanted(recipient: &Recipient, outcome: Outcome) -> bool {
    let n = recipient.notify;
    if n.never {
        return false;
    }
    match outcome {
        Outcome::Failed => n.failure || !n.explicit,
        Outcome::Delivered | Outcome::Relayed => n.success,
    }
}

/// Everything a report is made from.
pub struct Report<'a> {
    pub host: &'a str,
    pub queue_id: &'a str,
    pub envelope: &'a Envelope,
    /// Recipients reported on, all successes or all failures.
    pub entries: Vec<(&'a Recipient, Outcome)>,
    /// The message as the client submitted it.
    pub original: &'a [u8],
    pub arrival: DateTime<Utc>,
}

/// The DSN message, RFC 5322 bytes, From the mailer daemon To the envelope sender.
pub fn build(report: &Report<'_>) -> Vec<u8> {
    let failure = report.entries.iter().any(|(_, o)| o.is_failure());
    let boundary = format!("=_dsn_{}", report.queue_id);
    let subject = if failure { "Undelivered Mail Returned to Sender" } else { "Successful Mail Delivery Report" };
    let mut out = String::new();
    out += &format!("From: Mail Delivery System <MAILER-DAEMON@{}>\r\n", report.host);
    out += &format!("To: <{}>\r\n", report.envelope.sender);
    out += &format!("Subject: {subject}\r\n");
    out += &format!("Date: {}\r\n", Utc::now().to_rfc2822());
    out += &format!("Message-ID: <dsn.{}@{}>\r\n", report.queue_id, report.host);
    out += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
    out += &format!("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n");
    out += "This is a MIME-encapsulated delivery status notification.\r\n\r\n";
    out += &format!("--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Description: Notification\r\n\r\n");
    out += &human_text(report, failure);
    out += &format!("\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\nContent-Description: Delivery report\r\n\r\n");
    out += &status_fields(report);
    let mut bytes = out.into_bytes();
    bytes.extend(returned_part(report, failure, &boundary));
    bytes.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    bytes
}

fn human_text(report: &Report<'_>, failure: bool) -> String {
    let mut text = format!("This is the mail system at host {} (mssconf mock, fictitious operator).\r\n\r\n", report.host);
    text += if failure {
        "Your message could not be delivered to one or more recipients.\r\n\r\n"
    } else {
        "Your message was successfully delivered to the destination(s) listed below.\r\n\r\n"
    };
    for (r, outcome) in &report.entries {
        text += &format!("<{}>: {}\r\n", r.address, outcome.diagnostic());
    }
    text
}

fn status_fields(report: &Report<'_>) -> String {
    let mut fields = format!("Reporting-MTA: dns; {}\r\n", report.host);
    if let Some(env_id) = &report.envelope.env_id {
        fields += &format!("Original-Envelope-Id: {env_id}\r\n");
    }
    fields += &format!("Arrival-Date: {}\r\n", report.arrival.to_rfc2822());
    for (r, outcome) in &report.entries {
        fields += "\r\n";
        fields += &format!("Final-Recipient: rfc822; {}\r\n", r.address);
        if let Some(orcpt) = &r.orcpt {
            fields += &format!("Original-Recipient: rfc822; {orcpt}\r\n");
        }
        fields += &format!("Action: {}\r\nStatus: {}\r\n", outcome.action(), outcome.status());
        fields += &format!("Diagnostic-Code: smtp; {}\r\n", outcome.diagnostic());
    }
    fields
}

/// RET=FULL: the whole message; RET=HDRS: its headers; unspecified: full for failures,
/// headers for successes.
fn returned_part(report: &Report<'_>, failure: bool, boundary: &str) -> Vec<u8> {
    let full = match report.envelope.ret {
        Ret::Full => true,
        Ret::Headers => false,
        Ret::Unspecified => failure,
    };
    let mut part = format!("\r\n--{boundary}\r\n").into_bytes();
    if full {
        part.extend(b"Content-Type: message/rfc822\r\nContent-Description: Returned message\r\n\r\n");
        part.extend_from_slice(report.original);
    } else {
        part.extend(b"Content-Type: text/rfc822-headers\r\nContent-Description: Returned message headers\r\n\r\n");
        part.extend_from_slice(headers::header_block(report.original));
    }
    if !part.ends_with(b"\r\n") {
        part.extend(b"\r\n");
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::envelope::Notify;

    fn recipient(address: &str, notify: Notify) -> Recipient {
        Recipient { address: address.into(), orcpt: Some(format!("orig-{address}")), notify, destination: Destination::Local }
    }

    #[test]
    fn notify_decides_which_outcomes_are_reported() {
        let none = recipient("a@x", Notify::default());
        assert!(wanted(&none, Outcome::Failed) && !wanted(&none, Outcome::Delivered));
        let success = recipient("a@x", Notify { success: true, explicit: true, ..Default::default() });
        assert!(wanted(&success, Outcome::Delivered) && wanted(&success, Outcome::Relayed));
        assert!(!wanted(&success, Outcome::Failed));
        let never = recipient("a@x", Notify { never: true, explicit: true, ..Default::default() });
        assert!(!wanted(&never, Outcome::Failed));
    }

    #[test]
    fn report_has_the_three_parts() {
        let r = recipient("b@x.test", Notify::default());
        let envelope = Envelope { sender: "a@x.test".into(), env_id: Some("ENV42".into()), ret: Ret::Headers, recipients: vec![r.clone()], refusal: None };
        let original = b"From: a@x.test\r\nSubject: hi\r\n\r\nsecret body\r\n";
        let report = Report {
            host: "mock.test",
            queue_id: "Q1",
            envelope: &envelope,
            entries: vec![(&r, Outcome::Delivered)],
            original,
            arrival: Utc::now(),
        };
        let text = String::from_utf8(build(&report)).unwrap();
        assert!(text.contains("multipart/report; report-type=delivery-status"));
        for needle in [
            "Reporting-MTA: dns; mock.test",
            "Original-Envelope-Id: ENV42",
            "Final-Recipient: rfc822; b@x.test",
            "Original-Recipient: rfc822; orig-b@x.test",
            "Action: delivered",
            "Status: 2.0.0",
            "text/rfc822-headers",
            "Subject: hi",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
        assert!(!text.contains("secret body"), "RET=HDRS must not return the body");
        let parsed = mail_parser::MessageParser::default().parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.parts.len(), 4);
    }
}

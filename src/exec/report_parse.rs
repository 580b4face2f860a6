//! Reading delivery status notifications (RFC 3464) and disposition notifications (RFC 8098)
//! out of a `multipart/report` message. Input is untrusted: never panics, returns `None` when
//! the message is not a report.

use mail_parser::{MessageParser, MimeHeaders};

use super::observation::ReportFields;

pub fn parse(bytes: &[u8]) -> Option<ReportFields> {
    let msg = MessageParser::default().parse(bytes)?;
    let top = msg.parts.first()?.content_type()?;
    if !top.ctype().eq_ignore_ascii_case("multipart") || !top.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")) {
        return None;
    }
    let report_type = top.attribute("report-type").unwrap_or_default().to_ascii_lowercase();
    let part = msg.parts.iter().find(|p| {
        p.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("message")
                && c.subtype().is_some_and(|s| {
                    s.eq_ignore_ascii_case("delivery-status") || s.eq_ignore_ascii_case("disposition-notification")
                        || s.eq_ignore_ascii_case("global-delivery-status")
                })
        })
    })?;
    let text = String::from_utf8_lossy(part.contents()).to_string();
    Some(fields(&report_type, &text))
}

/// Parses the header-like field blocks of a status part.
pub fn fields(report_type: &str, text: &str) -> ReportFields {
    let mut out = ReportFields { report_type: report_type.to_string(), ..Default::default() };
    for (name, value) in field_lines(text) {
        match name.to_ascii_lowercase().as_str() {
            "action" => out.actions.push(value.to_ascii_lowercase()),
            "status" => out.statuses.push(value),
            "original-envelope-id" => out.envelope_id = Some(value),
            "original-message-id" => out.original_message_id = Some(value),
            "disposition" => out.disposition = Some(value),
            _ => {}
        }
    }
    out
}

/// `Name: value` lines with continuation lines unfolded; blank lines separate blocks and are
/// skipped; anything else is ignored.
fn field_lines(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            // Drop an RFC 3464 type prefix only for status codes (`smtp; 250 ok` stays whole).
            out.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped after RFC 3464 §10.1 and RFC 8098 §9 examples (addresses changed).
    const DSN: &str = "From: mailer@op.test\r\nTo: a@op.test\r\nSubject: Delivery report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message was delivered.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.op.test\r\nOriginal-Envelope-Id: env-42\r\n\r\nFinal-Recipient: rfc822; b@op.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\nFinal-Recipient: rfc822; c@other.test\r\nAction: relayed\r\nStatus: 2.0.0\r\n--b1--\r\n";
    const MDN: &str = "From: b@op.test\r\nTo: a@op.test\r\nSubject: Lu\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification;\r\n boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\nThe message was displayed.\r\n--b2\r\nContent-Type: message/disposition-notification\r\n\r\nReporting-UA: mua.op.test; mssconf\r\nFinal-Recipient: rfc822; b@op.test\r\nOriginal-Message-ID: <m1@op.test>\r\nDisposition: automatic-action/MDN-sent-automatically;\r\n processed\r\n--b2--\r\n";

    #[test]
    fn dsn_fields() {
        let r = parse(DSN.as_bytes()).expect("a report");
        assert_eq!(r.report_type, "delivery-status");
        assert_eq!(r.actions, ["delivered", "relayed"]);
        assert_eq!(r.statuses, ["2.0.0", "2.0.0"]);
        assert_eq!(r.envelope_id.as_deref(), Some("env-42"));
    }

    #[test]
    fn mdn_fields() {
        let r = parse(MDN.as_bytes()).expect("a report");
        assert_eq!(r.report_type, "disposition-notification");
        assert_eq!(r.original_message_id.as_deref(), Some("<m1@op.test>"));
        assert!(r.disposition.unwrap().contains("processed"));
    }

    #[test]
    fn not_a_report() {
        assert!(parse(b"Subject: x\r\n\r\nhello").is_none());
        assert!(parse(b"").is_none());
        assert!(parse(&[0xff, 0, 1, 2]).is_none());
    }
}

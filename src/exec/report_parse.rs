//! Reading delivery status notifications (RFC 3464) and disposition notifications (RFC 8098)
//! out of a `multipart/report` message. Input is untrusted: never panics, returns `None` when
//! the message is not a report.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{MessageParser, MimeHeaders};

use super::observation::ReportFields;

/// Reports are read part by part: headers with `MessageParser::parse_headers`, bodies split on the
/// boundary here. The full `MessageParser::parse` is not used: mail-parser 0.11 trips a
/// `debug_assert!` ("Invalid part ID") on some malformed `message/rfc822` parts, a panic in
/// debug and fuzz builds, and a report's returned message is never read anyway.
pub fn parse(bytes: &[u8]) -> Option<ReportFields> {
    let (top, body) = headers_and_body(bytes)?;
    if !top.is("multipart", &["report"]) {
        return None;
    }
    let boundary = top.boundary.filter(|b| !b.is_empty())?;
    let status = mime_parts(body, &boundary).find_map(|part| {
        let (ctype, content) = headers_and_body(part)?;
        let status = ["delivery-status", "disposition-notification", "global-delivery-status"];
        ctype.is("message", &status).then(|| decoded(ctype.encoding.as_deref(), content))
    })?;
    Some(fields(&top.report_type, &String::from_utf8_lossy(&status)))
}

/// What the harness needs of a part's headers.
struct PartHeaders {
    ctype: String,
    subtype: String,
    /// `report-type`, lower-cased.
    report_type: String,
    boundary: Option<String>,
    /// Content-Transfer-Encoding, lower-cased.
    encoding: Option<String>,
}

impl PartHeaders {
    fn is(&self, ctype: &str, subtypes: &[&str]) -> bool {
        self.ctype.eq_ignore_ascii_case(ctype) && subtypes.iter().any(|s| self.subtype.eq_ignore_ascii_case(s))
    }
}

/// The headers of `bytes` (text/plain when no Content-Type) and the bytes after them.
fn headers_and_body(bytes: &[u8]) -> Option<(PartHeaders, &[u8])> {
    let (head, body) = bytes.split_at(body_start(bytes));
    let msg = MessageParser::default().parse_headers(head)?;
    let root = msg.parts.first()?;
    let ctype = root.content_type();
    let headers = PartHeaders {
        ctype: ctype.map_or("text", |c| c.ctype()).to_string(),
        subtype: ctype.and_then(|c| c.subtype()).unwrap_or("plain").to_string(),
        report_type: ctype.and_then(|c| c.attribute("report-type")).unwrap_or_default().to_ascii_lowercase(),
        boundary: ctype.and_then(|c| c.attribute("boundary")).map(str::to_string),
        encoding: root.content_transfer_encoding().map(str::to_ascii_lowercase),
    };
    Some((headers, body))
}

/// Where the body starts: after the first empty line (`parse_headers` does not say).
fn body_start(bytes: &[u8]) -> usize {
    let mut pos = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        pos += line.len();
        if matches!(line, b"\n" | b"\r\n") {
            return pos;
        }
    }
    bytes.len()
}

/// The body of a part, decoded from its Content-Transfer-Encoding (kept as is if undecodable).
fn decoded(encoding: Option<&str>, content: &[u8]) -> Vec<u8> {
    let decoded = match encoding {
        Some("base64") => base64_decode(content),
        Some("quoted-printable") => quoted_printable_decode(content),
        _ => None,
    };
    decoded.unwrap_or_else(|| content.to_vec())
}

/// The parts of a multipart body: what lies between `--boundary` lines, up to `--boundary--`.
fn mime_parts<'a>(body: &'a [u8], boundary: &str) -> impl Iterator<Item = &'a [u8]> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut starts = Vec::new();
    let mut pos = 0;
    let mut closed = false;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if let Some(after) = text.strip_prefix(delimiter.as_slice())
            && !closed
        {
            starts.push((pos, pos + line.len()));
            closed = after.starts_with(b"--");
        }
        pos += line.len();
    }
    // Part i runs from the end of delimiter line i to the start of delimiter line i + 1.
    let parts: Vec<&[u8]> = starts.windows(2).map(|w| &body[w[0].1..w[1].0]).collect();
    parts.into_iter()
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

    #[test]
    fn encoded_status_part_and_unclosed_body() {
        let b64 = "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\nQWN0aW9uOiBmYWlsZWQNClN0YXR1czogNS4xLjENCg==\r\n--x--\r\n";
        let r = parse(b64.as_bytes()).expect("a report");
        assert_eq!((r.actions, r.statuses), (vec!["failed".to_string()], vec!["5.1.1".to_string()]));
        // Without a closing delimiter, the last part is not complete: nothing is read from it.
        let unclosed = "Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n";
        assert!(parse(unclosed.as_bytes()).is_none());
    }

    /// A malformed `message/rfc822` part on which mail-parser 0.11's full parse trips a
    /// `debug_assert!` (found by fuzzing; kept in fuzz/regressions/report_parse/).
    #[test]
    fn malformed_returned_message_does_not_panic() {
        let hostile = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/report_parse/mail-parser-invalid-part-id"))
            .expect("regression input");
        let r = parse(&hostile).expect("still a report");
        assert_eq!(r.report_type, "disposition-notification");
    }
}

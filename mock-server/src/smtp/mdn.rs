//! Read receipts (MDN, RFC 8098) sent by the `mdn_responder` mailbox.

use chrono::Utc;
use mail_parser::Message;

use super::headers;

/// The address a message asks an MDN to be sent to, when it asks for one.
pub fn requested_by(message: &Message<'_>) -> Option<String> {
    // mail-parser keeps this header as raw text: take `<addr>` or the bare address.
    let raw = message.header_raw("Disposition-Notification-To")?.trim();
    let address = match (raw.find('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    let address = address.trim();
    address.contains('@').then(|| address.to_string())
}

/// An automatic "processed" MDN from `responder` about `original`, addressed to `to`.
pub fn build(host: &str, responder: &str, to: &str, original: &[u8], message: &Message<'_>) -> Vec<u8> {
    let id = format!("{:x}", Utc::now().timestamp_nanos_opt().unwrap_or_default());
    let boundary = format!("=_mdn_{id}");
    let subject = message.subject().unwrap_or("");
    let mut out = String::new();
    out += &format!("From: <{responder}>\r\nTo: <{to}>\r\n");
    out += &format!("Subject: Accusé de lecture (traité) : {subject}\r\n");
    out += &format!("Date: {}\r\nMessage-ID: <mdn.{id}@{host}>\r\n", Utc::now().to_rfc2822());
    if let Some(original_id) = message.message_id() {
        out += &format!("In-Reply-To: <{original_id}>\r\nReferences: <{original_id}>\r\n");
    }
    out += "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n";
    out += &format!(
        "Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    );
    out += &format!("--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    out += &format!(
        "The message sent to {responder} was processed automatically by the recipient's system.\r\n\
         This is no guarantee that it was read.\r\n"
    );
    out += &format!("\r\n--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n");
    out += &format!("Reporting-UA: {host}; mssconf-mock\r\n");
    if let Some(orig) = message.header_raw("Original-Recipient") {
        out += &format!("Original-Recipient: {}\r\n", orig.trim());
    }
    out += &format!("Final-Recipient: rfc822; {responder}\r\n");
    if let Some(original_id) = message.message_id() {
        out += &format!("Original-Message-ID: <{original_id}>\r\n");
    }
    out += "Disposition: automatic-action/MDN-sent-automatically; processed\r\n";
    out += &format!("\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(headers::header_block(original));
    bytes.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    bytes
}

/// Fault `alter-mdn`: in a read receipt a user submitted (a `message/disposition-notification`
/// part), the `Original-Message-ID` line is dropped and the disposition becomes `deleted`. Other
/// messages come back unchanged (`None`).
pub fn altered(raw: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(raw);
    if !text.to_ascii_lowercase().contains("message/disposition-notification") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("original-message-id:") {
            continue;
        }
        if lower.starts_with("disposition:") {
            out += &line.replace("processed", "deleted");
        } else {
            out += line;
        }
    }
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alter_mdn_touches_only_receipts() {
        let mdn = b"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n--b\r\n\
Content-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; a@b\r\nOriginal-Message-ID: <x@y>\r\n\
Disposition: manual-action/MDN-sent-manually; processed\r\n--b--\r\n";
        let out = String::from_utf8(altered(mdn).unwrap()).unwrap();
        assert!(!out.contains("Original-Message-ID") && out.contains("; deleted\r\n") && out.contains("Final-Recipient"), "{out}");
        assert_eq!(altered(b"Subject: hello\r\n\r\nprocessed\r\n"), None);
    }

    #[test]
    fn mdn_reports_processed_for_the_original_message() {
        let original = b"From: a@x.test\r\nTo: r@x.test\r\nMessage-ID: <m1@x.test>\r\nSubject: CR\r\n\
                         Disposition-Notification-To: a@x.test\r\n\r\nbody\r\n";
        let parsed = mail_parser::MessageParser::default().parse(&original[..]).unwrap();
        assert_eq!(requested_by(&parsed).as_deref(), Some("a@x.test"));
        let mdn = String::from_utf8(build("mock.test", "r@x.test", "a@x.test", original, &parsed)).unwrap();
        for needle in [
            "report-type=disposition-notification",
            "Final-Recipient: rfc822; r@x.test",
            "Original-Message-ID: <m1@x.test>",
            "Disposition: automatic-action/MDN-sent-automatically; processed",
        ] {
            assert!(mdn.contains(needle), "{needle} missing in\n{mdn}");
        }
        let plain = mail_parser::MessageParser::default().parse(&b"From: a@x\r\n\r\nx"[..]).unwrap();
        assert_eq!(requested_by(&plain), None);
    }
}

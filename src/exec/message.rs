//! Messages the harness sends (built from a scenario's spec) and reads back (facts extracted
//! for the verdict: headers, part hashes, DSN/MDN fields).

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use super::observation::{Comparison, FetchedMessage};
use super::report_parse;

/// A message spec with every variable already resolved.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Write the text body as is (`8bit`, CRLF line ends) instead of letting the builder encode it.
    pub body_8bit: bool,
    pub attachments: Vec<AttachmentData>,
    pub disposition_notification_to: Option<String>,
    pub pad_to_bytes: Option<u64>,
    /// Local part of the Message-ID (made unique by the caller).
    pub message_id: String,
}

#[derive(Debug, Clone)]
pub struct AttachmentData {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message as built and sent.
#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    pub bytes: Vec<u8>,
    /// With angle brackets, as in the header.
    pub message_id: String,
    pub subject: String,
    /// Leaf MIME parts: (label, sha256 of decoded content).
    pub parts: Vec<(String, String)>,
}

pub fn build(d: &Draft) -> Built {
    let mut b = MessageBuilder::new()
        .from(d.from.as_str())
        .to(d.to.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        .subject(d.subject.as_str())
        .message_id(d.message_id.as_str())
        .date(chrono::Utc::now().timestamp());
    for (name, value) in &d.headers {
        b = b.header(name.clone(), Raw::new(value.clone()));
    }
    if let Some(dnt) = &d.disposition_notification_to {
        b = b.header("Disposition-Notification-To", Raw::new(format!("<{dnt}>")));
    }
    let body = d.body.clone().unwrap_or_default();
    if d.body_8bit {
        // A raw part: the builder writes it verbatim, so line ends must already be CRLF.
        let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
        b.text_body = Some(MimePart::new("text/plain", crlf).transfer_encoding("8bit"));
    } else {
        b = b.text_body(body);
    }
    for a in &d.attachments {
        b = b.attachment(a.content_type.clone(), a.filename.clone(), a.bytes.clone());
    }
    if let Some(target) = d.pad_to_bytes {
        // Size the padding from a first build, so the final message reaches `target`.
        let probe = b.clone().write_to_vec().unwrap_or_default().len() as u64;
        let missing = target.saturating_sub(probe + 200);
        // Base64 grows by 4/3: pad with raw bytes worth the missing encoded size.
        let raw_len = (missing * 3 / 4) as usize;
        b = b.attachment("application/octet-stream", "padding.bin", vec![b'x'; raw_len]);
    }
    let mut bytes = b.write_to_vec().unwrap_or_default();
    // SMTP ends every message with CRLF (RFC 5321 §4.1.1.4): record the bytes as they travel,
    // or the last text part of a single-part message hashes differently once delivered.
    if !bytes.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    let parts = part_hashes(&bytes);
    Built { name: d.name.clone(), bytes, message_id: format!("<{}>", d.message_id), subject: d.subject.clone(), parts }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Leaf parts of a message: (`<n> <content-type> [filename]`, sha256 of decoded content).
pub fn part_hashes(bytes: &[u8]) -> Vec<(String, String)> {
    let Some(msg) = MessageParser::default().parse(bytes) else { return Vec::new() };
    msg.parts
        .iter()
        .filter(|p| !p.is_multipart())
        .enumerate()
        .map(|(i, p)| {
            let ctype = p
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                .unwrap_or_else(|| "text/plain".into());
            let name = p.attachment_name().map(|n| format!(" {n}")).unwrap_or_default();
            (format!("{} {ctype}{name}", i + 1), sha256_hex(p.contents()))
        })
        .collect()
}

/// Raw value of the first header `name` (unfolded, trimmed).
pub fn header_value(bytes: &[u8], name: &str) -> Option<String> {
    headers(bytes).into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// Every top-level header (name, unfolded raw value), in order.
pub fn headers(bytes: &[u8]) -> Vec<(String, String)> {
    let Some(msg) = MessageParser::default().parse_headers(bytes) else { return Vec::new() };
    msg.headers_raw().map(|(n, v)| (n.to_string(), unfold(v))).collect()
}

fn unfold(v: &str) -> String {
    v.replace("\r\n", "").replace('\n', "").trim().to_string()
}

/// Facts of a fetched message, compared with `sent` when given.
pub fn facts(received: &[u8], sent: Option<(&Built, &[String])>) -> FetchedMessage {
    let comparison = sent.map(|(built, names)| compare(built, received, names));
    FetchedMessage {
        size: received.len(),
        sha256: sha256_hex(received),
        headers: headers(received),
        comparison,
        report: report_parse::parse(received),
    }
}

/// Headers compared by default: every `X-MSS-*` header of the sent message, and the usual ones.
fn default_headers(sent: &Built) -> Vec<String> {
    let mut names: Vec<String> = ["Subject", "From", "To", "Message-ID"].map(String::from).to_vec();
    for (n, _) in headers(&sent.bytes) {
        if n.to_ascii_uppercase().starts_with("X-MSS-") && !names.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
            names.push(n);
        }
    }
    names
}

pub fn compare(sent: &Built, received: &[u8], names: &[String]) -> Comparison {
    let names = if names.is_empty() { default_headers(sent) } else { names.to_vec() };
    let headers = names
        .iter()
        .map(|n| (n.clone(), header_value(&sent.bytes, n), header_value(received, n)))
        .collect();
    let got = part_hashes(received);
    let parts = sent
        .parts
        .iter()
        .enumerate()
        .map(|(i, (label, hash))| (label.clone(), hash.clone(), got.get(i).map(|(_, h)| h.clone())))
        .collect();
    Comparison { sent_name: sent.name.clone(), headers, parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            name: "m1".into(),
            from: "a@op.test".into(),
            to: vec!["b@op.test".into()],
            subject: "XDM/1.0/DDM+Compte rendu FICTIF Dominique".into(),
            headers: vec![("X-MSS-NIL".into(), "DEV1".into()), ("X-MSS-CODECDA".into(), "34112-3".into())],
            body: Some("Texte fictif éàü".into()),
            attachments: vec![AttachmentData { filename: "IHE_XDM.ZIP".into(), content_type: "application/zip".into(), bytes: vec![1, 2, 3, 250] }],
            message_id: "m1.test@mssconf.test".into(),
            ..Default::default()
        }
    }

    #[test]
    fn built_message_round_trips() {
        let b = build(&draft());
        assert_eq!(b.message_id, "<m1.test@mssconf.test>");
        assert_eq!(b.parts.len(), 2);
        assert_eq!(header_value(&b.bytes, "x-mss-nil").as_deref(), Some("DEV1"));
        let cmp = compare(&b, &b.bytes, &[]);
        assert!(cmp.headers.iter().all(|(_, s, r)| s == r && s.is_some()), "{cmp:?}");
        assert!(cmp.parts.iter().all(|(_, s, r)| Some(s) == r.as_ref()));
    }

    #[test]
    fn altered_attachment_and_stripped_header_are_seen() {
        let b = build(&draft());
        let text = String::from_utf8(b.bytes.clone()).unwrap();
        let stripped = text.replace("X-MSS-NIL: DEV1\r\n", "");
        let cmp = compare(&b, stripped.as_bytes(), &[]);
        assert!(cmp.headers.iter().any(|(n, s, r)| n == "X-MSS-NIL" && s.is_some() && r.is_none()));
        let altered = text.replace("AQID+g==", "AQIE+g==");
        assert_ne!(altered, text, "attachment base64 not found in {text}");
        let cmp = compare(&b, altered.as_bytes(), &[]);
        assert!(cmp.parts.iter().any(|(_, s, r)| Some(s) != r.as_ref()));
    }

    #[test]
    fn an_8bit_body_is_sent_verbatim_with_crlf() {
        let mut d = draft();
        d.body = Some("Ligne é\nSecond œ €\n".into());
        d.body_8bit = true;
        let b = build(&d);
        let text = String::from_utf8(b.bytes.clone()).unwrap();
        assert!(text.contains("Content-Transfer-Encoding: 8bit\r\n"), "{text}");
        assert!(text.contains("Ligne é\r\nSecond œ €\r\n"), "{text}");
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF in {text}");
        let cmp = compare(&b, &b.bytes, &[]);
        assert!(cmp.parts.iter().all(|(_, s, r)| Some(s) == r.as_ref()));
    }

    #[test]
    fn single_part_message_compares_equal_after_transport() {
        let mut d = draft();
        d.attachments.clear();
        let b = build(&d);
        assert!(b.bytes.ends_with(b"\r\n"));
        // What a server stores: trace headers prepended, the message as received.
        let mut delivered = b"Return-Path: <a@op.test>\r\nReceived: from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\n".to_vec();
        delivered.extend_from_slice(&b.bytes);
        let cmp = compare(&b, &delivered, &[]);
        assert!(cmp.parts.iter().all(|(_, s, r)| Some(s) == r.as_ref()), "{cmp:?}");
    }

    #[test]
    fn padding_reaches_the_size() {
        let mut d = draft();
        d.pad_to_bytes = Some(200_000);
        let b = build(&d);
        assert!(b.bytes.len() >= 190_000 && b.bytes.len() <= 210_000, "{}", b.bytes.len());
    }
}

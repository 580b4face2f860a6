//! The DATA body: dot-stuffing (RFC 5321 §4.5.2) done chunk by chunk, the end-of-data marker,
//! and the one-line summary the transcript records instead of the body.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::reply::Reply;

/// What the server answered to DATA and, if it asked for the body (354), to the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataExchange {
    /// The reply to `DATA` itself (354 to go on, or a refusal).
    pub intermediate: Reply,
    /// The reply after the end-of-data marker; `None` when the body was not sent.
    pub final_reply: Option<Reply>,
}

/// How much of the body is stuffed and written at a time.
pub(crate) const CHUNK: usize = 16 * 1024;

/// Dot-stuffs a body fed in pieces. A line starts after any LF, not only after CRLF: a body with
/// bare LF line ends must not be able to end the DATA phase early on a lenient server. Bodies
/// that test such smuggling go through the raw escape hatch instead.
#[derive(Debug)]
pub(crate) struct DotStuffer {
    at_line_start: bool,
    /// The last two bytes seen, to choose the end-of-data marker.
    tail: [u8; 2],
    seen: usize,
    pub(crate) stuffed_lines: usize,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer { at_line_start: true, tail: [0; 2], seen: 0, stuffed_lines: 0 }
    }
}

impl DotStuffer {
    /// Appends `input`, stuffed, to `out`.
    pub(crate) fn stuff(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + 8);
        for &b in input {
            if self.at_line_start && b == b'.' {
                out.push(b'.');
                self.stuffed_lines += 1;
            }
            out.push(b);
            self.at_line_start = b == b'\n';
            self.tail = [self.tail[1], b];
        }
        self.seen += input.len();
    }

    /// `.CRLF` after a body ending in CRLF (or an empty body), else `CRLF.CRLF`.
    pub(crate) fn terminator(&self) -> &'static [u8] {
        if self.seen == 0 || self.tail == *b"\r\n" { b".\r\n" } else { b"\r\n.\r\n" }
    }
}

/// A message body handed to DATA in chunks, so a large message is never copied whole.
pub trait DataBody: Send {
    /// The first bytes of the message, holding its header section (for the summary).
    fn head(&self) -> &[u8];
    /// Replaces `out` with the next chunk; false when the body is over.
    fn next_chunk(&mut self, out: &mut Vec<u8>) -> bool;
}

/// A body already in memory.
pub struct SliceBody<'a> {
    message: &'a [u8],
    pos: usize,
}

impl<'a> SliceBody<'a> {
    pub fn new(message: &'a [u8]) -> Self {
        SliceBody { message, pos: 0 }
    }
}

impl DataBody for SliceBody<'_> {
    fn head(&self) -> &[u8] {
        self.message
    }

    fn next_chunk(&mut self, out: &mut Vec<u8>) -> bool {
        out.clear();
        let end = (self.pos + CHUNK).min(self.message.len());
        out.extend_from_slice(&self.message[self.pos..end]);
        self.pos = end;
        !out.is_empty()
    }
}

impl DataBody for crate::exec::message::Reader<'_> {
    fn head(&self) -> &[u8] {
        crate::exec::message::Reader::head(self)
    }

    fn next_chunk(&mut self, out: &mut Vec<u8>) -> bool {
        crate::exec::message::Reader::next_chunk(self, out)
    }
}

/// Counts and hashes the body as it is sent, for the transcript's summary line.
#[derive(Default)]
pub(crate) struct SentBody {
    hasher: Sha256,
    pub(crate) bytes: u64,
}

impl SentBody {
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    /// `<message: 1234 bytes, sha256 …, Subject: "…", Message-ID: <…>>`, from the bytes sent
    /// and the header section in `head`.
    pub(crate) fn summary(self, head: &[u8]) -> String {
        let sha = hex::encode(self.hasher.finalize());
        let mut text = format!("<message: {} bytes, sha256 {sha}", self.bytes);
        let headers = header_section(head);
        if let Some(subject) = header_value(headers, "Subject") {
            text.push_str(&format!(", Subject: {subject:?}"));
        }
        if let Some(id) = header_value(headers, "Message-ID") {
            text.push_str(&format!(", Message-ID: {id}"));
        }
        text.push('>');
        text
    }
}

/// The summary of a whole message in memory.
#[cfg(test)]
pub(crate) fn summary(message: &[u8]) -> String {
    let mut sent = SentBody::default();
    sent.update(message);
    sent.summary(message)
}

/// The bytes before the first empty line, searched in the first 64 KiB only.
fn header_section(message: &[u8]) -> &[u8] {
    let head = &message[..message.len().min(64 * 1024)];
    let end = head.windows(2).position(|w| w == b"\n\n").map(|p| p + 1);
    let end_crlf = head.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 2);
    let end = match (end, end_crlf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(head.len()),
    };
    &head[..end]
}

/// The unfolded value of the first header `name`, cut to 200 characters.
fn header_value(headers: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let mut value: Option<String> = None;
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        let folded = line.starts_with([' ', '\t']);
        match (&mut value, folded) {
            (Some(v), true) => v.push_str(line),
            (Some(_), false) => break,
            (None, false) => {
                if let Some((field, rest)) = line.split_once(':')
                    && field.trim().eq_ignore_ascii_case(name)
                {
                    value = Some(rest.trim_start().to_string());
                }
            }
            (None, true) => {}
        }
    }
    value.map(|v| v.trim().chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuff_in_pieces(body: &[u8], piece: usize) -> (Vec<u8>, DotStuffer) {
        let mut s = DotStuffer::default();
        let mut out = Vec::new();
        for chunk in body.chunks(piece.max(1)) {
            s.stuff(chunk, &mut out);
        }
        out.extend_from_slice(s.terminator());
        (out, s)
    }

    #[test]
    fn leading_dots_are_doubled_across_chunk_borders() {
        let body = b".first\r\nmid.dle\r\n.\r\n..two\r\n";
        for piece in [1, 2, 3, 7, 100] {
            let (out, s) = stuff_in_pieces(body, piece);
            assert_eq!(out, b"..first\r\nmid.dle\r\n..\r\n...two\r\n.\r\n", "piece {piece}");
            assert_eq!(s.stuffed_lines, 3);
        }
    }

    #[test]
    fn terminator_completes_the_last_line() {
        assert_eq!(stuff_in_pieces(b"no newline", 4).0, b"no newline\r\n.\r\n");
        assert_eq!(stuff_in_pieces(b"bare lf\n", 4).0, b"bare lf\n\r\n.\r\n");
        assert_eq!(stuff_in_pieces(b"", 4).0, b".\r\n");
        assert_eq!(stuff_in_pieces(b"x\r\n", 4).0, b"x\r\n.\r\n");
    }

    #[test]
    fn bare_lf_dot_line_is_stuffed() {
        assert_eq!(stuff_in_pieces(b"a\n.\nb\r\n", 64).0, b"a\n..\nb\r\n.\r\n");
    }

    #[test]
    fn summary_names_size_hash_and_headers() {
        let msg = b"From: a@op.test\r\nSubject: =?utf-8?q?Bilan?=\r\n  suite\r\nMessage-ID: <1@op.test>\r\n\r\nSubject: not a header\r\n";
        let s = summary(msg);
        assert!(s.starts_with(&format!("<message: {} bytes, sha256 ", msg.len())), "{s}");
        assert!(s.contains(r#"Subject: "=?utf-8?q?Bilan?=  suite""#), "{s}");
        assert!(s.contains("Message-ID: <1@op.test>>"), "{s}");
        assert!(!s.contains("not a header"));
        let plain = b"no headers at all";
        let sha = hex::encode(Sha256::digest(plain));
        assert_eq!(summary(plain), format!("<message: 17 bytes, sha256 {sha}>"));
    }

    #[test]
    fn stuffing_is_the_same_whatever_the_chunking() {
        // Lines starting with dots land on every offset of a chunk border.
        let mut body = Vec::new();
        for i in 0..5000 {
            body.extend_from_slice(if i % 3 == 0 { b".x\r\n".as_slice() } else { b"ab\r\n.".as_slice() });
            body.extend(std::iter::repeat_n(b'y', i % 7));
            body.extend_from_slice(b"\r\n");
        }
        let whole = stuff_in_pieces(&body, body.len()).0;
        for piece in [1, 2, 3, 5, 4096, CHUNK - 1, CHUNK] {
            assert_eq!(stuff_in_pieces(&body, piece).0, whole, "piece {piece}");
        }
        let mut reader = SliceBody::new(&body);
        let (mut s, mut out, mut chunk) = (DotStuffer::default(), Vec::new(), Vec::new());
        while reader.next_chunk(&mut chunk) {
            assert!(chunk.len() <= CHUNK);
            s.stuff(&chunk, &mut out);
        }
        out.extend_from_slice(s.terminator());
        assert_eq!(out, whole);
        // Undoing the stuffing gives the body back.
        let text = String::from_utf8(out).unwrap();
        let unstuffed: Vec<&str> = text.split("\r\n").map(|l| l.strip_prefix('.').unwrap_or(l)).collect();
        assert_eq!(unstuffed.join("\r\n").trim_end_matches("\r\n\r\n"), String::from_utf8(body).unwrap().trim_end_matches("\r\n"));
    }

    #[test]
    fn a_streamed_message_is_stuffed_across_chunks() {
        use crate::exec::message::{Composed, Segment};
        // Dots after CRLF at the very end of one segment / start of the next.
        let c = Composed::new(vec![
            Segment::Bytes(b"A: b\r\n\r\n.".to_vec()),
            Segment::Bytes(b".\r\n".to_vec()),
            Segment::Bytes(b"x\r\n".to_vec()),
            Segment::Bytes(b".y\r\n".to_vec()),
        ]);
        let mut reader = c.reader();
        let (mut s, mut out, mut chunk) = (DotStuffer::default(), Vec::new(), Vec::new());
        while DataBody::next_chunk(&mut reader, &mut chunk) {
            s.stuff(&chunk, &mut out);
        }
        out.extend_from_slice(s.terminator());
        assert_eq!(out, b"A: b\r\n\r\n...\r\nx\r\n..y\r\n.\r\n");
    }
}

//! Raw RFC 5322 header fields, byte-exact, for the IMAP items that want the header as sent
//! (`BODY[HEADER.FIELDS (...)]`, ENVELOPE strings, `SEARCH HEADER`).
//!
//! mail-parser decodes values (RFC 2047, address lists); IMAP wants many of them raw, so the
//! field split is done here on the stored bytes.

/// One header field as it appears in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    /// Field name without the colon, as written.
    pub name: &'a [u8],
    /// The whole field, name to final line break included, continuation lines included.
    pub raw: &'a [u8],
}

impl Field<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value after the colon, unfolded (line breaks removed) and trimmed.
    pub fn value(&self) -> String {
        let after_colon = self.raw.iter().position(|&b| b == b':').map_or(&[][..], |i| &self.raw[i + 1..]);
        let unfolded: Vec<u8> = after_colon.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
        String::from_utf8_lossy(&unfolded).trim().to_string()
    }
}

/// Splits a header block (up to and possibly including the blank line) into fields. Lines that
/// are neither a field start nor a continuation (no colon) are skipped, never an error.
pub fn fields(block: &[u8]) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    while pos < block.len() {
        let end = block[pos..].iter().position(|&b| b == b'\n').map_or(block.len(), |i| pos + i + 1);
        let line = &block[pos..end];
        let is_blank = line == b"\r\n" || line == b"\n";
        let is_continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !is_continuation {
            if let Some(s) = start.take() {
                push_field(&mut out, &block[s..pos]);
            }
            if is_blank {
                break;
            }
            start = Some(pos);
        }
        pos = end;
    }
    if let Some(s) = start {
        push_field(&mut out, &block[s..pos.min(block.len())]);
    }
    out
}

fn push_field<'a>(out: &mut Vec<Field<'a>>, raw: &'a [u8]) {
    if let Some(colon) = raw.iter().position(|&b| b == b':') {
        let name = trim_ascii_end(&raw[..colon]);
        if !name.is_empty() {
            out.push(Field { name, raw });
        }
    }
}

fn trim_ascii_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The unfolded value of the first field called `name`.
pub fn value(block: &[u8], name: &str) -> Option<String> {
    fields(block).into_iter().find(|f| f.is(name)).map(|f| f.value())
}

/// `HEADER.FIELDS` (`exclude = false`) or `HEADER.FIELDS.NOT` (`exclude = true`): the matching
/// fields in message order, followed by the blank line (RFC 3501 §6.4.5).
pub fn select(block: &[u8], names: &[String], exclude: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields(block) {
        let listed = names.iter().any(|n| field.is(n));
        if listed != exclude {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &[u8] = b"From: A <a@x.test>\r\nSubject: hello\r\n  world\r\nX-MSS-NIL: 1\r\nbroken line\r\n\r\nbody: no\r\n";

    #[test]
    fn splits_folded_fields_and_stops_at_blank_line() {
        let f = fields(BLOCK);
        let names: Vec<_> = f.iter().map(|f| String::from_utf8_lossy(f.name).to_string()).collect();
        assert_eq!(names, ["From", "Subject", "X-MSS-NIL"]);
        assert_eq!(f[1].value(), "hello  world");
        assert_eq!(value(BLOCK, "x-mss-nil").as_deref(), Some("1"));
        assert_eq!(value(BLOCK, "body"), None);
    }

    #[test]
    fn selects_fields_with_blank_line() {
        let names = vec!["subject".to_string()];
        assert_eq!(select(BLOCK, &names, false), b"Subject: hello\r\n  world\r\n\r\n");
        let not = select(BLOCK, &names, true);
        assert!(not.starts_with(b"From: A") && !not.windows(7).any(|w| w == b"Subject"));
        assert_eq!(select(b"", &names, false), b"\r\n");
    }

    #[test]
    fn tolerates_lf_only_and_missing_final_newline() {
        let f = fields(b"A: 1\nB: 2");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].value(), "2");
        assert_eq!(select(b"A: 1\nB: 2", &["b".to_string()], false), b"B: 2\r\n\r\n");
    }
}

//! Byte-exact work on a message's top-level header block: split, list fields, drop fields.
//! Everything not touched is kept byte for byte.

/// Lines of `raw` as (start, end) byte ranges, terminators included.
fn lines(raw: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= raw.len() {
            return None;
        }
        let end = raw[i..].iter().position(|b| *b == b'\n').map_or(raw.len(), |p| i + p + 1);
        let range = (i, end);
        i = end;
        Some(range)
    })
}

/// (end of the header fields, start of the body): the blank line lies between them. Without a
/// blank line both are the length.
pub fn split(raw: &[u8]) -> (usize, usize) {
    lines(raw)
        .find(|(s, e)| matches!(&raw[*s..*e], b"\r\n" | b"\n"))
        .unwrap_or((raw.len(), raw.len()))
}

/// The header fields, without the blank line that ends them.
pub fn header_block(raw: &[u8]) -> &[u8] {
    &raw[..split(raw).0]
}

/// Header fields as (name, byte range including folded continuation lines).
fn field_ranges(raw: &[u8]) -> Vec<(String, usize, usize)> {
    let block = header_block(raw);
    let mut out: Vec<(String, usize, usize)> = Vec::new();
    for (s, e) in lines(block) {
        let line = &block[s..e];
        if matches!(line.first(), Some(b' ' | b'\t'))
            && let Some(last) = out.last_mut()
        {
            last.2 = e;
            continue;
        }
        let name = line.iter().position(|b| *b == b':').map(|p| String::from_utf8_lossy(&line[..p]).trim().to_string());
        out.push((name.unwrap_or_default(), s, e));
    }
    out
}

/// Header fields as (name, raw bytes including folded continuation lines).
pub fn fields(raw: &[u8]) -> Vec<(String, &[u8])> {
    field_ranges(raw).into_iter().map(|(n, s, e)| (n, &raw[s..e])).collect()
}

/// The message without the top-level header fields for which `drop` is true; every other byte
/// is kept as it was.
pub fn without_fields(raw: &[u8], drop: impl Fn(&str) -> bool) -> Vec<u8> {
    let (header_end, _) = split(raw);
    let mut out = Vec::with_capacity(raw.len());
    for (name, s, e) in field_ranges(raw) {
        if !drop(&name) {
            out.extend_from_slice(&raw[s..e]);
        }
    }
    out.extend_from_slice(&raw[header_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@b\r\nX-MSS-NIL: DEV1\r\nSubject: long\r\n folded\r\nx-mss-ins: O\r\n\r\nbody\r\nX-MSS-NIL: in body\r\n";

    #[test]
    fn fields_include_folded_lines() {
        let f = fields(MSG);
        assert_eq!(f.len(), 4);
        assert_eq!(f[2], ("Subject".to_string(), &b"Subject: long\r\n folded\r\n"[..]));
        assert!(header_block(MSG).ends_with(b"x-mss-ins: O\r\n"));
        assert_eq!(&MSG[header_block(MSG).len()..], b"\r\nbody\r\nX-MSS-NIL: in body\r\n");
    }

    #[test]
    fn dropping_fields_keeps_everything_else_byte_for_byte() {
        let out = without_fields(MSG, |n| n.to_ascii_lowercase().starts_with("x-mss-"));
        assert_eq!(out, b"From: a@b\r\nSubject: long\r\n folded\r\n\r\nbody\r\nX-MSS-NIL: in body\r\n");
        assert_eq!(without_fields(MSG, |_| false), MSG);
        let no_body = b"From: a\r\nX-MSS-A: 1\r\n";
        assert_eq!(without_fields(no_body, |n| n.starts_with("X-MSS")), b"From: a\r\n");
    }
}

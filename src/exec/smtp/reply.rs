//! SMTP replies (RFC 5321 §4.2) and their line-by-line assembly.
//!
//! smtp-proto's `ResponseReceiver` joins the lines of a reply into one message and accepts a
//! continuation line whose code differs from the first; a conformance harness needs the opposite
//! (every line kept as sent, mixed codes reported), so replies are assembled here, one line at a
//! time, as they arrive.

use serde::{Deserialize, Serialize};

/// One complete server reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub code: u16,
    /// RFC 3463 enhanced status code of the first line (`5.7.8`), if it carries one.
    pub enhanced: Option<String>,
    /// The text of each line after the code and its separator, enhanced code included, as sent.
    pub lines: Vec<String>,
}

impl Reply {
    /// 2xx: the command was accepted.
    pub fn is_positive(&self) -> bool {
        self.class() == 2
    }

    /// 3xx: the server waits for more (334 SASL challenge, 354 start mail input).
    pub fn is_intermediate(&self) -> bool {
        self.class() == 3
    }

    /// 4xx or 5xx.
    pub fn is_negative(&self) -> bool {
        matches!(self.class(), 4 | 5)
    }

    /// The first digit of the code.
    pub fn class(&self) -> u16 {
        self.code / 100
    }

    /// The lines' text joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The first line's text (the whole text of a one-line reply).
    pub fn first_line(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }

    /// The reply as it was on the wire (without the final CRLF), for messages and evidence.
    pub fn render(&self) -> String {
        let last = self.lines.len().saturating_sub(1);
        let lines = self.lines.iter().enumerate().map(|(i, text)| {
            let sep = if i == last { ' ' } else { '-' };
            if text.is_empty() && i == last { format!("{}", self.code) } else { format!("{}{sep}{text}", self.code) }
        });
        lines.collect::<Vec<_>>().join("\n")
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// Collects reply lines until the last one (`ddd SP` or a bare `ddd`).
/// The most lines one reply may have (an EHLO reply has a few dozen).
pub(crate) const MAX_REPLY_LINES: usize = 1000;

#[derive(Debug, Default)]
pub(crate) struct ReplyAssembler {
    code: Option<u16>,
    lines: Vec<String>,
}

impl ReplyAssembler {
    /// Adds one line (without its line ending). `Ok(Some(reply))` once the reply is complete;
    /// `Err(reason)` if the line is not an SMTP reply line.
    pub(crate) fn push(&mut self, line: &str) -> Result<Option<Reply>, String> {
        let (code, last, text) = split_line(line)?;
        if let Some(first) = self.code
            && first != code
        {
            return Err(format!("continuation line has code {code}, the reply started with {first}"));
        }
        self.code = Some(code);
        // Bounded: a server streaming continuation lines cannot grow the reply without end.
        if self.lines.len() >= MAX_REPLY_LINES {
            return Err(format!("more than {MAX_REPLY_LINES} lines in one reply"));
        }
        self.lines.push(text.to_string());
        if !last {
            return Ok(None);
        }
        let lines = std::mem::take(&mut self.lines);
        let enhanced = lines.first().and_then(|l| enhanced_code(l));
        self.code = None;
        Ok(Some(Reply { code, enhanced, lines }))
    }
}

/// `250-text` → (250, false, "text"); `250 text` / `250` → (250, true, …).
fn split_line(line: &str) -> Result<(u16, bool, &str), String> {
    let bytes = line.as_bytes();
    let digits = bytes.get(..3).filter(|d| d.iter().all(u8::is_ascii_digit));
    let Some(digits) = digits else {
        return Err("a reply line must start with a three-digit code".into());
    };
    if !(b'2'..=b'5').contains(&digits[0]) {
        return Err("reply codes start with 2, 3, 4 or 5".into());
    }
    let code = digits.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match bytes.get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err("the code must be followed by a space, a hyphen or the end of the line".into()),
    }
}

/// The RFC 3463 `class.subject.detail` code at the start of `text`, if any.
fn enhanced_code(text: &str) -> Option<String> {
    let token = text.split(' ').next()?;
    let parts: Vec<&str> = token.split('.').collect();
    let [class, subject, detail] = parts.as_slice() else { return None };
    let numeric = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    let valid = matches!(*class, "2" | "4" | "5") && numeric(subject, 3) && numeric(detail, 3);
    valid.then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    /// A server streaming continuation lines is stopped at a bound, with a clear reason.
    #[test]
    fn a_reply_has_at_most_max_reply_lines() {
        let mut a = ReplyAssembler::default();
        for _ in 0..super::MAX_REPLY_LINES {
            assert_eq!(a.push("250-more"), Ok(None));
        }
        let e = a.push("250-more").unwrap_err();
        assert!(e.contains("more than 1000 lines"), "{e}");
    }

    use super::*;

    fn assemble(lines: &[&str]) -> Result<Reply, String> {
        let mut a = ReplyAssembler::default();
        for (i, l) in lines.iter().enumerate() {
            if let Some(r) = a.push(l)? {
                assert_eq!(i, lines.len() - 1, "reply ended early");
                return Ok(r);
            }
        }
        Err("incomplete".into())
    }

    #[test]
    fn multi_line_reply_keeps_every_line() {
        let r = assemble(&["250-mx.op.test greets you", "250-PIPELINING", "250 AUTH XOAUTH2 PLAIN"]).unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, ["mx.op.test greets you", "PIPELINING", "AUTH XOAUTH2 PLAIN"]);
        assert!(r.is_positive() && r.enhanced.is_none());
        assert_eq!(r.render(), "250-mx.op.test greets you\n250-PIPELINING\n250 AUTH XOAUTH2 PLAIN");
    }

    #[test]
    fn enhanced_codes() {
        let r = assemble(&["535 5.7.8 Authentication credentials invalid"]).unwrap();
        assert_eq!(r.enhanced.as_deref(), Some("5.7.8"));
        assert_eq!(r.first_line(), "5.7.8 Authentication credentials invalid");
        assert!(r.is_negative());
        assert_eq!(assemble(&["250 2.1.0"]).unwrap().enhanced.as_deref(), Some("2.1.0"));
        assert_eq!(assemble(&["250 1.2.3 no"]).unwrap().enhanced, None);
        assert_eq!(assemble(&["250 2.1 no"]).unwrap().enhanced, None);
        assert_eq!(assemble(&["250 2.1.0000 no"]).unwrap().enhanced, None);
    }

    #[test]
    fn bare_code_and_empty_text() {
        let r = assemble(&["354"]).unwrap();
        assert!(r.is_intermediate() && r.lines == [""]);
        assert_eq!(r.render(), "354");
        assert_eq!(assemble(&["334 "]).unwrap().lines, [""]);
    }

    #[test]
    fn malformed_lines_are_reported() {
        assert!(assemble(&["hello"]).unwrap_err().contains("three-digit"));
        assert!(assemble(&["25"]).is_err());
        assert!(assemble(&["250x"]).unwrap_err().contains("followed by"));
        assert!(assemble(&["650 what"]).is_err());
        assert!(assemble(&["250-a", "251 b"]).unwrap_err().contains("code 251"));
    }

    #[test]
    fn assembler_is_reusable() {
        let mut a = ReplyAssembler::default();
        assert_eq!(a.push("250 one").unwrap().unwrap().code, 250);
        assert_eq!(a.push("354 two").unwrap().unwrap().code, 354);
    }
}

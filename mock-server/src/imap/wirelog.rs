//! The session's wire log (stderr, when `MockContext::log_wire`): one line per IMAP line, with
//! SASL payloads and LOGIN passwords redacted and literals summarised by size.

use std::sync::atomic::{AtomicU64, Ordering};

/// Longest line printed; the rest is elided.
const MAX_SHOWN: usize = 300;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Client,
    Server,
}

/// Reassembles the chunks of one direction into lines.
#[derive(Debug, Default)]
struct LineAssembler {
    partial: Vec<u8>,
    /// Bytes of a literal still to come (not logged, only counted).
    literal_left: usize,
}

impl LineAssembler {
    /// Feeds bytes; returns complete lines (CRLF stripped), a literal as `<N-byte literal>`.
    fn feed(&mut self, mut bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        while !bytes.is_empty() {
            if self.literal_left > 0 {
                let take = self.literal_left.min(bytes.len());
                self.literal_left -= take;
                bytes = &bytes[take..];
                continue;
            }
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.partial.extend_from_slice(&bytes[..i]);
                    bytes = &bytes[i + 1..];
                    let mut line = std::mem::take(&mut self.partial);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if let Some(n) = literal_announcement(&line) {
                        self.literal_left = n;
                        line.extend_from_slice(format!(" <{n}-byte literal>").as_bytes());
                    }
                    lines.push(line);
                }
                None => {
                    self.partial.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
        lines
    }
}

/// `{123}` or `{123+}` at the end of a line announces a literal of 123 bytes.
fn literal_announcement(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

pub struct WireLog {
    enabled: bool,
    session: u64,
    client: LineAssembler,
    server: LineAssembler,
    /// The next client line answers a SASL challenge: it carries a credential.
    secret_line_expected: bool,
}

impl WireLog {
    pub fn new(enabled: bool) -> Self {
        WireLog {
            enabled,
            session: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            client: LineAssembler::default(),
            server: LineAssembler::default(),
            secret_line_expected: false,
        }
    }

    /// Marks the next client line as a SASL response, to be redacted.
    pub fn expect_secret_line(&mut self) {
        self.secret_line_expected = true;
    }

    /// The server refused the client's last line: a literal it announced will not follow.
    pub fn client_line_refused(&mut self) {
        self.client = LineAssembler::default();
    }

    pub fn note(&self, what: &str) {
        if self.enabled {
            eprintln!("imap#{} -- {what}", self.session);
        }
    }

    pub fn bytes(&mut self, direction: Direction, bytes: &[u8]) {
        if !self.enabled {
            return;
        }
        for line in self.lines(direction, bytes) {
            eprintln!("imap#{} {line}", self.session);
        }
    }

    fn lines(&mut self, direction: Direction, bytes: &[u8]) -> Vec<String> {
        let (assembler, prefix) = match direction {
            Direction::Client => (&mut self.client, "C:"),
            Direction::Server => (&mut self.server, "S:"),
        };
        let mut out = Vec::new();
        for line in assembler.feed(bytes) {
            let shown = if direction == Direction::Client && std::mem::take(&mut self.secret_line_expected) {
                "<redacted SASL response>".to_string()
            } else if direction == Direction::Client {
                redact_command(&printable(&line))
            } else {
                printable(&line)
            };
            out.push(format!("{prefix} {shown}"));
        }
        out
    }
}

/// Hides what follows the mechanism of AUTHENTICATE and the credentials of LOGIN.
fn redact_command(line: &str) -> String {
    let words: Vec<&str> = line.splitn(4, ' ').collect();
    match words.as_slice() {
        [tag, cmd, mech, _] if cmd.eq_ignore_ascii_case("AUTHENTICATE") => {
            format!("{tag} {cmd} {mech} <redacted>")
        }
        [tag, cmd, ..] if cmd.eq_ignore_ascii_case("LOGIN") => format!("{tag} {cmd} <redacted>"),
        _ => line.to_string(),
    }
}

fn printable(line: &[u8]) -> String {
    let mut s = String::new();
    for &b in line.iter().take(MAX_SHOWN) {
        if (0x20..0x7f).contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if line.len() > MAX_SHOWN {
        s.push_str(&format!("... ({} bytes)", line.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let mut log = WireLog::new(true);
        let lines = log.lines(Direction::Client, b"a1 AUTHENTICATE XOAUTH2 dXNlcj1h\r\na2 login u p\r\n");
        assert_eq!(lines, ["C: a1 AUTHENTICATE XOAUTH2 <redacted>", "C: a2 login <redacted>"]);
        log.expect_secret_line();
        let lines = log.lines(Direction::Client, b"dG9rZW4=\r\na3 NOOP\r\n");
        assert_eq!(lines, ["C: <redacted SASL response>", "C: a3 NOOP"]);
    }

    #[test]
    fn chunks_are_joined_and_literals_summarised() {
        let mut log = WireLog::new(true);
        assert!(log.lines(Direction::Server, b"* 1 FETCH (BODY[] {5}\r").is_empty());
        let lines = log.lines(Direction::Server, b"\nhel\x01o)\r\na OK\r\n");
        assert_eq!(lines, ["S: * 1 FETCH (BODY[] {5} <5-byte literal>", "S: )", "S: a OK"]);
        assert_eq!(printable(b"\x01x"), "\\x01x");
    }

    #[test]
    fn a_refused_literal_is_not_awaited() {
        let mut log = WireLog::new(true);
        assert_eq!(log.lines(Direction::Client, b"a APPEND INBOX {99999}\r\n").len(), 1);
        log.client_line_refused();
        assert_eq!(log.lines(Direction::Client, b"b NOOP\r\n"), ["C: b NOOP"]);
    }

    #[test]
    fn literal_announcements() {
        assert_eq!(literal_announcement(b"a APPEND Sent {12}"), Some(12));
        assert_eq!(literal_announcement(b"a APPEND Sent {12+}"), Some(12));
        assert_eq!(literal_announcement(b"a OK {x}"), None);
        assert_eq!(literal_announcement(b"}"), None);
    }
}

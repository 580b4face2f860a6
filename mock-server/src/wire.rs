//! Wire log: each session's lines on stderr when `log_wire` is on, with secrets redacted.
//!
//! Lines carrying credentials (an `AUTH`/`AUTHENTICATE` argument, a SASL continuation) are
//! written as `<redacted>`; message contents are summarised, never dumped.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

#[derive(Debug, Clone)]
pub struct WireLog {
    enabled: bool,
    label: String,
}

impl WireLog {
    /// A log for one new session of protocol `proto` (`smtp`, `imap`…), numbered process-wide.
    pub fn new(enabled: bool, proto: &str) -> Self {
        let n = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        WireLog { enabled, label: format!("{proto}#{n}") }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// A line from the client, redacted if it starts an authentication exchange.
    pub fn client(&self, line: &[u8]) {
        if self.enabled {
            self.emit("C:", &redact_command(&String::from_utf8_lossy(line)));
        }
    }

    /// A line from the client that carries a secret (SASL response).
    pub fn client_secret(&self) {
        if self.enabled {
            self.emit("C:", "<redacted>");
        }
    }

    /// Lines sent by the server.
    pub fn server(&self, text: &str) {
        if self.enabled {
            for line in text.split_terminator('\n') {
                self.emit("S:", line.trim_end_matches('\r'));
            }
        }
    }

    /// Something that is not a wire line (TLS established, connection closed…).
    pub fn note(&self, text: &str) {
        if self.enabled {
            self.emit("--", text);
        }
    }

    fn emit(&self, dir: &str, text: &str) {
        eprintln!("[mock {}] {dir} {}", self.label, text.escape_debug());
    }
}

/// `AUTH XOAUTH2 dXNlcj…` → `AUTH XOAUTH2 <redacted>`; also IMAP `tag AUTHENTICATE m ir` and
/// `tag LOGIN user pass`.
pub fn redact_command(line: &str) -> String {
    let line = line.trim_end_matches(['\r', '\n']);
    let words: Vec<&str> = line.split(' ').collect();
    let keep = match words.iter().map(|w| w.to_ascii_uppercase()).collect::<Vec<_>>().as_slice() {
        [auth, ..] if auth == "AUTH" => 2,
        [_, cmd, ..] if cmd == "AUTHENTICATE" => 3,
        [_, cmd, ..] if cmd == "LOGIN" => 2,
        _ => return line.to_string(),
    };
    if words.len() <= keep {
        return line.to_string();
    }
    format!("{} <redacted>", words[..keep].join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_arguments_are_redacted() {
        assert_eq!(redact_command("AUTH XOAUTH2 dXNlcj1h\r\n"), "AUTH XOAUTH2 <redacted>");
        assert_eq!(redact_command("auth plain"), "auth plain");
        assert_eq!(redact_command("a1 AUTHENTICATE XOAUTH2 abc"), "a1 AUTHENTICATE XOAUTH2 <redacted>");
        assert_eq!(redact_command("a2 LOGIN user secret"), "a2 LOGIN <redacted>");
        assert_eq!(redact_command("MAIL FROM:<a@b>"), "MAIL FROM:<a@b>");
    }

    #[test]
    fn sessions_get_distinct_labels() {
        assert_ne!(WireLog::new(false, "smtp").label(), WireLog::new(false, "smtp").label());
    }
}

//! What crossed the wire, as the evidence layer reads it.
//!
//! The protocol layer writes every line through a [`Transcript`]. Lines that carry a secret are
//! written with [`Transcript::sent_secret`], which records only a description chosen by the
//! caller (e.g. `AUTH XOAUTH2 <redacted: user=a@b, auth=Bearer …>`), never the bytes. Every line is
//! also scrubbed against the run's [`SecretSet`], which catches a secret echoed by a server.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::secret::SecretSet;

/// Who wrote a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The harness sent this to the server.
    Sent,
    /// The server sent this to the harness.
    Received,
    /// A fact the harness noted (TLS negotiated, connection closed, decoded SASL…).
    Note,
}

impl Direction {
    /// The prefix used in text transcripts: `C:` client, `S:` server, `*` note.
    pub fn prefix(self) -> &'static str {
        match self {
            Direction::Sent => "C:",
            Direction::Received => "S:",
            Direction::Note => "* ",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub at: DateTime<Utc>,
    pub dir: Direction,
    /// The connection this line belongs to (`smtp#1`, `imap#2`, `http#1`…).
    pub conn: String,
    pub text: String,
}

impl Line {
    /// `12:03:04.123 smtp#1 C: EHLO mssconf.test`
    pub fn render(&self) -> String {
        format!(
            "{} {} {} {}",
            self.at.format("%H:%M:%S%.3f"),
            self.conn,
            self.dir.prefix(),
            self.text
        )
    }
}

/// A shared, append-only transcript. Cloning gives another handle to the same lines.
#[derive(Clone, Debug)]
pub struct Transcript {
    lines: Arc<Mutex<Vec<Line>>>,
    secrets: SecretSet,
    conn: String,
}

impl Transcript {
    pub fn new(secrets: SecretSet) -> Self {
        Transcript { lines: Arc::default(), secrets, conn: "run".into() }
    }

    /// A handle writing lines for connection `conn` into the same transcript.
    pub fn for_conn(&self, conn: impl Into<String>) -> Self {
        Transcript { lines: self.lines.clone(), secrets: self.secrets.clone(), conn: conn.into() }
    }

    pub fn secrets(&self) -> &SecretSet {
        &self.secrets
    }

    fn push(&self, dir: Direction, text: &str) {
        let text = self.secrets.scrub(text.trim_end_matches(['\r', '\n']));
        let line = Line { at: Utc::now(), dir, conn: self.conn.clone(), text };
        self.lines.lock().expect("transcript lock").push(line);
    }

    /// Records bytes the harness sent, one line per CRLF-terminated line.
    pub fn sent(&self, text: &str) {
        for l in split_lines(text) {
            self.push(Direction::Sent, l);
        }
    }

    /// Records a line that carried a secret, by the caller's description only.
    pub fn sent_secret(&self, description: &str) {
        self.push(Direction::Sent, description);
    }

    pub fn received(&self, text: &str) {
        for l in split_lines(text) {
            self.push(Direction::Received, l);
        }
    }

    pub fn note(&self, text: &str) {
        self.push(Direction::Note, text);
    }

    /// A copy of every line so far.
    pub fn lines(&self) -> Vec<Line> {
        self.lines.lock().expect("transcript lock").clone()
    }

    /// Lines recorded since index `from` (to cut a step's excerpt out of a scenario's transcript).
    pub fn lines_from(&self, from: usize) -> Vec<Line> {
        let lines = self.lines.lock().expect("transcript lock");
        lines.get(from..).map(<[Line]>::to_vec).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.lines.lock().expect("transcript lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_suffix("\r\n").or_else(|| text.strip_suffix('\n')).unwrap_or(text);
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn lines_are_split_and_scrubbed() {
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("tok-abcdef-123456"));
        let t = Transcript::new(secrets).for_conn("smtp#1");
        t.received("250-mock\r\n250 AUTH XOAUTH2\r\n");
        t.received("535 bad token tok-abcdef-123456\r\n");
        t.sent_secret("AUTH XOAUTH2 <redacted>");
        let lines = t.lines();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1].text, "250 AUTH XOAUTH2");
        assert_eq!(lines[2].text, "535 bad token <redacted>");
        assert_eq!(lines[3].dir, Direction::Sent);
        assert!(lines[0].render().contains("smtp#1 S: 250-mock"));
    }
}

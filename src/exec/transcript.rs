//! What crossed the wire, as the evidence layer reads it.
//!
//! The protocol layer writes every line through a [`Transcript`]. Lines that carry a secret are
//! written with [`Transcript::sent_secret`], which records only a description chosen by the
//! caller (e.g. `AUTH XOAUTH2 <redacted: user=a@b, auth=Bearer …>`), never the bytes. Every line is
//! also scrubbed against the run's [`SecretSet`], which catches a secret echoed by a server.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keep_budget::{ByteBudget, cut_line};
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
    lines: Arc<Mutex<Kept>>,
    secrets: SecretSet,
    conn: String,
    budget: ByteBudget,
}

/// The lines kept, and whether the budget already refused one (noted once).
#[derive(Debug, Default)]
struct Kept {
    lines: Vec<Line>,
    full: bool,
}

impl Transcript {
    /// A transcript with a budget of its own ([`Transcript::within`] shares a run's).
    pub fn new(secrets: SecretSet) -> Self {
        Transcript::within(secrets, ByteBudget::default())
    }

    /// A transcript whose lines count against `budget` (the run's, shared by its scenarios).
    pub fn within(secrets: SecretSet, budget: ByteBudget) -> Self {
        Transcript { lines: Arc::default(), secrets, conn: "run".into(), budget }
    }

    /// A handle writing lines for connection `conn` into the same transcript.
    pub fn for_conn(&self, conn: impl Into<String>) -> Self {
        Transcript { lines: self.lines.clone(), secrets: self.secrets.clone(), conn: conn.into(), budget: self.budget.clone() }
    }

    pub fn secrets(&self) -> &SecretSet {
        &self.secrets
    }

    /// Scrubbed first, then cut to the line bound, then kept if the run's budget allows.
    fn push(&self, dir: Direction, text: &str) {
        let text = cut_line(self.secrets.scrub(text.trim_end_matches(['\r', '\n'])));
        let mut kept = self.lines.lock().expect("transcript lock");
        if self.budget.take(text.len() + self.conn.len()) {
            kept.lines.push(Line { at: Utc::now(), dir, conn: self.conn.clone(), text });
        } else if !kept.full {
            kept.full = true;
            let text = self.budget.full_note();
            kept.lines.push(Line { at: Utc::now(), dir: Direction::Note, conn: self.conn.clone(), text });
        }
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
        self.lines.lock().expect("transcript lock").lines.clone()
    }

    /// Lines recorded since index `from` (to cut a step's excerpt out of a scenario's transcript).
    pub fn lines_from(&self, from: usize) -> Vec<Line> {
        let lines = self.lines.lock().expect("transcript lock");
        lines.lines.get(from..).map(<[Line]>::to_vec).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.lines.lock().expect("transcript lock").lines.len()
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

    /// A hostile server cannot fill memory or the evidence through the transcript (issue #17
    /// item 7): a line keeps at most MAX_LINE_KEPT bytes, scrubbed before the cut; the run's
    /// transcripts keep at most their budget, and each says once which limit it reached.
    #[test]
    fn transcripts_are_bounded_per_line_and_per_run() {
        use crate::exec::keep_budget::MAX_LINE_KEPT;
        let secrets = SecretSet::new();
        let token = "tok-abcdef-123456";
        secrets.register(&Secret::new(token));
        let budget = ByteBudget::new(200_000);
        let a = Transcript::within(secrets.clone(), budget.clone()).for_conn("imap#1");
        // The token straddles the cut: scrubbing after cutting would leave its start.
        let long = format!("{}{token}{}", "x".repeat(MAX_LINE_KEPT - 5), "y".repeat(100_000));
        a.received(&long);
        let first = &a.lines()[0].text;
        assert!(first.len() < MAX_LINE_KEPT + 200 && first.contains("at most 65536 bytes"), "{}", first.len());
        assert!(!first.contains("tok-a"), "a token start was kept");
        for _ in 0..10 {
            a.received(&"z".repeat(30_000));
        }
        let b = Transcript::within(secrets, budget).for_conn("smtp#1");
        b.received("250 too late");
        b.received("250 still too late");
        for t in [&a, &b] {
            let lines = t.lines();
            let notes: Vec<_> = lines.iter().filter(|l| l.text.contains("transcript limit reached")).collect();
            assert_eq!(notes.len(), 1, "{lines:?}");
            assert!(notes[0].text.contains("keep at most 200000 bytes"), "{}", notes[0].text);
        }
        assert_eq!(a.len(), 1 + 4 + 1, "the first line, four 30 KB lines within the budget, the note");
        assert!(!b.lines().iter().any(|l| l.text.contains("too late")));
    }
}

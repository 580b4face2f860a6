//! What the auditor reads: plain lines of at most 100 columns, words first, colour only as a
//! supplement (off when `NO_COLOR` is set, when output is not a terminal, or on `TERM=dumb`).
//! Every text that came from the network is made visible (`\xNN`) before it reaches the
//! terminal, so a server cannot send escape sequences to the auditor's screen.

use std::io::IsTerminal;

use crate::exec::transcript::{Direction, Line};
use crate::lang::Lang;
use crate::record::{MessageRecord, Outcome, words};
use crate::report::excerpt::{Item, excerpt};
use crate::util::visible::visible_keeping;
use crate::verdict::Check;

/// Widest line written (screen sharing: a plain terminal, often not full screen).
pub const MAX_WIDTH: usize = 100;
/// Transcript lines shown per step; the report keeps them all.
pub const MAX_STEP_LINES: usize = 120;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// SGR colours used; always with a word that says the same thing.
pub mod sgr {
    pub const PASS: &str = "1;32";
    pub const FAIL: &str = "1;31";
    pub const ERROR: &str = "1;35";
    pub const SKIP: &str = "1;33";
    pub const TITLE: &str = "1";
    pub const SENT: &str = "36";
    pub const NOTE: &str = "33";
}

impl Style {
    /// From the environment: `NO_COLOR` (any non-empty value), `TERM=dumb`, a non-terminal
    /// output, and `COLUMNS` when narrower than [`MAX_WIDTH`].
    pub fn detect() -> Self {
        Self::from_env(
            std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            std::env::var("TERM").ok().as_deref(),
            std::env::var("COLUMNS").ok().as_deref(),
            std::io::stdout().is_terminal(),
        )
    }

    fn from_env(no_color: bool, term: Option<&str>, columns: Option<&str>, terminal: bool) -> Self {
        let columns = columns.and_then(|c| c.trim().parse::<usize>().ok());
        Style {
            color: !no_color && term != Some("dumb") && terminal,
            width: columns.map_or(MAX_WIDTH, |c| c.clamp(40, MAX_WIDTH)),
        }
    }

    pub fn plain() -> Self {
        Style { color: false, width: MAX_WIDTH }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    /// `text` cut into lines of at most `width` columns, on spaces where possible; the first
    /// line starts with `first`, the others with `rest`.
    pub fn wrap(&self, text: &str, first: &str, rest: &str) -> Vec<String> {
        wrap(text, first, rest, self.width)
    }

    /// The verdict word (the cards' French word), coloured when colour is on.
    pub fn verdict(&self, o: Outcome) -> String {
        self.paint(outcome_sgr(o), words::verdict(o, Lang::Fr).word)
    }
}

pub fn outcome_sgr(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => sgr::PASS,
        Outcome::Fail => sgr::FAIL,
        Outcome::Error => sgr::ERROR,
        Outcome::Skip | Outcome::Interrupted | Outcome::Flaky => sgr::SKIP,
    }
}

/// Network text made safe for a terminal: control characters (tabs too) become `\xNN`.
pub fn safe(text: &str) -> String {
    visible_keeping(text, &[])
}

fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        let len = line.chars().count();
        let wlen = word.chars().count();
        if !empty && len + 1 + wlen > width {
            out.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        // A word longer than a line is cut where the line ends.
        let mut word = word.to_string();
        while line.chars().count() + word.chars().count() > width && word.chars().count() > 1 {
            let room = width.saturating_sub(line.chars().count()).max(1);
            let head: String = word.chars().take(room).collect();
            line.push_str(&head);
            out.push(std::mem::replace(&mut line, rest.to_string()));
            word = word.chars().skip(room).collect();
        }
        line.push_str(&word);
        empty = false;
    }
    out.push(line);
    out
}

/// A step's transcript, one screen line per wire line (wrapped), each with its direction.
pub fn transcript(style: &Style, lines: &[Line]) -> Vec<String> {
    let mut out = Vec::new();
    for item in excerpt(lines, MAX_STEP_LINES) {
        match item {
            Item::Line(_, l) => {
                let said = if l.dir == Direction::Note { crate::verdict::french::note(&l.text, crate::lang::Lang::Fr) } else { l.text.clone() };
                let text = format!("{} {} {} {}", l.at.format("%H:%M:%S"), safe(&l.conn), l.dir.prefix().trim_end(), safe(&said));
                let code = match l.dir {
                    Direction::Sent => Some(sgr::SENT),
                    Direction::Note => Some(sgr::NOTE),
                    Direction::Received => None,
                };
                for piece in style.wrap(&text, "  ", "        ") {
                    out.push(code.map_or(piece.clone(), |c| style.paint(c, &piece)));
                }
            }
            Item::Cut(n) => out.push(format!("  … {n} ligne(s) non affichée(s) ici, conservées dans le rapport …")),
        }
    }
    out
}

/// `  OK      code de réponse : attendu 250 / obtenu 250 ready`
pub fn check(style: &Style, c: &Check) -> Vec<String> {
    let (word, code) = match (c.passed, c.advisory) {
        (true, _) => ("OK", sgr::PASS),
        // An observation or a préconisation not followed: said, but not a failure.
        (false, true) => ("AVIS", sgr::NOTE),
        (false, false) => ("ÉCHEC", sgr::FAIL),
    };
    // The console is French: the harness's own phrases in French, the server's text as sent.
    let (what, expected, actual) = crate::verdict::french::check(c, crate::lang::Lang::Fr);
    let mut text = format!("{word:<7} {} : attendu {} / obtenu {}", safe(&what), safe(&expected), safe(&actual));
    if let Some(at) = c.at.as_ref().filter(|_| !c.passed) {
        text += &format!(" ({})", safe(at));
    }
    let mut lines = style.wrap(&text, "  ", "          ");
    if let Some(first) = lines.first_mut() {
        *first = format!("  {}{}", style.paint(code, word), &first[2 + word.len()..]);
    }
    lines
}

/// `Message envoyé « m1 » : objet « … », 1234 octets, Message-ID <…>`
pub fn message(m: &MessageRecord) -> String {
    let dir = words::direction(&m.direction, Lang::Fr);
    let subject = m.subject.as_deref().map(|s| format!(" : objet « {} »,", safe(s))).unwrap_or_else(|| " :".into());
    let id = m.message_id.as_deref().map(|i| format!(", Message-ID {}", safe(i))).unwrap_or_default();
    format!("Message {dir} « {} »{subject} {} {}{id}.", safe(&m.name), m.size, words::FR.bytes)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn wrapping_keeps_every_line_within_the_width_and_every_word() {
        let text = "un deux trois ".repeat(20) + &"z".repeat(130);
        let lines = wrap(&text, "  ", "    ", 40);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with("    ")));
        let joined: String = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        assert_eq!(joined.matches("trois").count(), 20);
        assert_eq!(joined.chars().filter(|c| *c == 'z').count(), 130);
    }

    #[test]
    fn colour_only_adds_to_the_words() {
        let plain = Style::plain();
        assert_eq!(plain.verdict(Outcome::Fail), "NON CONFORME");
        let colour = Style { color: true, width: 100 };
        assert_eq!(colour.verdict(Outcome::Pass), "\x1b[1;32mCONFORME\x1b[0m");
        let c = Check::new("reply code", "250", "535 no", false);
        assert_eq!(check(&plain, &c), ["  ÉCHEC   code de réponse : attendu 250 / obtenu 535 no"]);
        assert!(check(&colour, &c)[0].contains("\x1b[1;31mÉCHEC\x1b[0m   code de réponse"));
    }

    #[test]
    fn server_text_cannot_reach_the_terminal_as_control_codes() {
        let line = Line { at: Utc::now(), dir: Direction::Received, conn: "smtp#1".into(), text: "250 \x1b[2Jok\u{9b}".into() };
        let shown = transcript(&Style::plain(), &[line]);
        assert!(!shown[0].contains('\x1b') && !shown[0].contains('\u{9b}'), "{shown:?}");
        assert!(shown[0].contains("smtp#1 S: 250 \\x1b[2Jok"));
    }

    #[test]
    fn no_color_dumb_terminals_and_pipes_get_no_colour() {
        assert!(Style::from_env(false, Some("xterm"), None, true).color);
        assert!(!Style::from_env(true, Some("xterm"), None, true).color, "NO_COLOR");
        assert!(!Style::from_env(false, Some("dumb"), None, true).color, "TERM=dumb");
        assert!(!Style::from_env(false, Some("xterm"), None, false).color, "not a terminal");
    }

    #[test]
    fn width_follows_narrower_columns_only() {
        assert_eq!(Style::from_env(false, None, Some("80"), true).width, 80);
        assert_eq!(Style::from_env(false, None, Some("250"), true).width, MAX_WIDTH);
        assert_eq!(Style::from_env(false, None, Some("10"), true).width, 40);
        assert_eq!(Style::from_env(false, None, Some("n/a"), true).width, MAX_WIDTH);
    }
}

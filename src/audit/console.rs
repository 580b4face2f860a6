//! Line-based dialogue with the operator: text out (wrapped), one line in per answer. Works in
//! any plain terminal and over screen sharing; nothing depends on raw keys or the mouse.

use std::io::{BufRead, Write};

use super::screen::Style;

pub struct Console<R, W> {
    input: R,
    out: W,
    pub style: Style,
}

impl<R: BufRead, W: Write> Console<R, W> {
    pub fn new(input: R, out: W, style: Style) -> Self {
        Console { input, out, style }
    }

    /// Writes lines as they are (already wrapped and painted). A terminal that went away is
    /// noticed on the next read, which ends the session with progress saved.
    pub fn lines(&mut self, lines: &[String]) {
        for l in lines {
            let _ = writeln!(self.out, "{l}");
        }
        let _ = self.out.flush();
    }

    /// Writes a paragraph wrapped to the screen width.
    pub fn say(&mut self, text: &str) {
        let lines = self.style.wrap(&typeset(text), "", "");
        self.lines(&lines);
    }

    /// `text` wrapped with a hanging indent (`  1. …` then `     …`).
    pub fn item(&mut self, first: &str, text: &str) {
        let rest = " ".repeat(first.chars().count());
        let lines = self.style.wrap(&typeset(text), first, &rest);
        self.lines(&lines);
    }

    pub fn blank(&mut self) {
        self.lines(&[String::new()]);
    }

    /// Shows `prompt` and reads one line, trimmed. `None` when input has ended (terminal
    /// closed, connection lost) or cannot be read.
    pub fn ask(&mut self, prompt: &str) -> Option<String> {
        let _ = write!(self.out, "{prompt}");
        let _ = self.out.flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(self.out);
                None
            }
            Ok(_) => Some(line.trim().to_string()),
        }
    }
}

/// French typography: no line break inside `« … »` or before `:` and `;` (no-break spaces).
fn typeset(text: &str) -> String {
    text.replace("« ", "«\u{a0}").replace(" »", "\u{a0}»").replace(" :", "\u{a0}:").replace(" ;", "\u{a0};")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_trimmed_and_end_of_input_is_none() {
        let mut out = Vec::new();
        let mut c = Console::new(&b"  r \n\n"[..], &mut out, Style::plain());
        assert_eq!(c.ask("> ").as_deref(), Some("r"));
        assert_eq!(c.ask("> ").as_deref(), Some(""));
        assert_eq!(c.ask("> "), None);
        c.item("  1. ", &"mot ".repeat(40));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("> > > \n  1. mot"));
        assert!(text.lines().all(|l| l.chars().count() <= 100));
        assert!(text.lines().nth(2).unwrap().starts_with("     mot"));
    }

    #[test]
    fn french_punctuation_stays_with_its_word() {
        let mut out = Vec::new();
        let mut c = Console::new(&b""[..], &mut out, Style { color: false, width: 40 });
        c.say(&format!("{} objet « Bonjour » : fin", "x".repeat(28)));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, format!("{} objet\n«\u{a0}Bonjour\u{a0}»\u{a0}: fin\n", "x".repeat(28)));
    }
}

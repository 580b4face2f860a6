//! Console progress: a bar on a terminal, one plain line per scenario otherwise (CI logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::record::Outcome;
use crate::runner::RunEvent;

/// Consumes run events until the sender side is dropped.
pub async fn show(mut events: mpsc::UnboundedReceiver<RunEvent>, total: u64) {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    while let Some(ev) = events.recv().await {
        match ev {
            RunEvent::Started { name } => {
                if let Some(b) = &bar {
                    b.set_message(name);
                }
            }
            RunEvent::Retrying { name, attempt, outcome, reason } => {
                let line = format!(
                    "{:<11} {name} (attempt {attempt} ended in {}{})",
                    "RETRY",
                    outcome.name(),
                    reason.map(|r| format!(": {}", printable(&r))).unwrap_or_default()
                );
                match &bar {
                    Some(b) => b.println(line),
                    None => eprintln!("{line}"),
                }
            }
            RunEvent::Finished { name, outcome, reason, duration_ms, advisories } => {
                let line = finished_line(&name, outcome, reason.as_deref(), duration_ms, advisories);
                match &bar {
                    Some(b) => {
                        b.println(line);
                        b.inc(1);
                    }
                    None => eprintln!("{line}"),
                }
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

/// The line printed when a scenario ends.
fn finished_line(name: &str, outcome: Outcome, reason: Option<&str>, duration_ms: u64, advisories: usize) -> String {
    let advice = if advisories > 0 { format!(" [{advisories} observation(s)/préconisation(s) not followed]") } else { String::new() };
    format!(
        "{:<11} {name} ({duration_ms} ms){advice}{}",
        label(outcome),
        reason.filter(|_| outcome != Outcome::Pass).map(|r| format!(": {}", printable(r))).unwrap_or_default()
    )
}

/// A reason may quote a server: its control characters (terminal escapes, CR, LF) become
/// `\xNN`, so it stays one line of our own. A CI workflow command (`::…`) is only read at the
/// start of a line, and a reason never starts one.
pub(crate) fn printable(text: &str) -> String {
    crate::util::visible::visible_keeping(text, &[])
}

pub fn label(o: Outcome) -> &'static str {
    crate::record::words::progress_word(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's text in a reason cannot drive the terminal (escape sequences, a title set by
    /// OSC) nor start a line of its own (a `::` CI workflow command after a line feed).
    #[test]
    fn server_text_in_a_reason_is_one_printable_line() {
        let hostile = "protocol: 554 \u{1b}]0;pwned\u{7}\u{1b}[2J\r\n::add-mask::x\n::error file=a::b \u{9b}31m";
        let line = finished_line("general::OPE/X.01.01", Outcome::Error, Some(hostile), 12, 0);
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(line.starts_with("ERROR") && line.contains("\\x1b]0;pwned\\x07") && line.contains("\\x0d\\x0a::add-mask"), "{line}");
        assert_eq!(line.lines().count(), 1);
    }
}

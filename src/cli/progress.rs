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
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                );
                match &bar {
                    Some(b) => b.println(line),
                    None => eprintln!("{line}"),
                }
            }
            RunEvent::Finished { name, outcome, reason, duration_ms, advisories } => {
                let advice = if advisories > 0 { format!(" [{advisories} observation(s)/préconisation(s) not followed]") } else { String::new() };
                let line = format!(
                    "{:<11} {name} ({duration_ms} ms){advice}{}",
                    label(outcome),
                    reason.filter(|_| outcome != Outcome::Pass).map(|r| format!(": {r}")).unwrap_or_default()
                );
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

pub fn label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Error => "ERROR",
        Outcome::Skip => "SKIP",
        Outcome::Interrupted => "INTERRUPTED",
        Outcome::Flaky => "FLAKY",
    }
}

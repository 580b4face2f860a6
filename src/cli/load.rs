//! `mssconf load`: a load / soak run against a loopback operator (see `crate::load`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tokio::sync::watch;

use crate::exit_code;
use crate::load::config::{parse_duration, parse_size};
use crate::load::{self, LoadReport, LoadRequest, Progress};
use crate::runner::{self, TargetChoice};

#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// Target profile; its hosts must all be loopback (default: the embedded mock operator).
    #[arg(long, value_name = "PROFILE")]
    pub target: Option<PathBuf>,
    /// Concurrent authenticated submission sessions.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Submission stops after this long (e.g. 30s, 2m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Bytes per message, headers included (e.g. 10k, 1M).
    #[arg(long = "message-size", default_value = "10k", value_parser = parse_size)]
    pub message_size: usize,
    /// Submission stops after this many accepted messages.
    #[arg(long = "max-messages", value_name = "M")]
    pub max_messages: Option<u64>,
    /// Write the report as JSON to FILE.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Mailbox role that submits.
    #[arg(long = "from", value_name = "ROLE", default_value = "per1")]
    pub sender: String,
    /// Mailbox role that receives (repeatable: messages go to each in turn).
    #[arg(long = "to", value_name = "ROLE")]
    pub recipients: Vec<String>,
    /// Submission endpoint: smtp_starttls (default) or smtp_implicit.
    #[arg(long, value_name = "ENDPOINT")]
    pub submission: Option<String>,
    /// IMAP endpoint of the watchers: imap_implicit (default) or imap_starttls.
    #[arg(long, value_name = "ENDPOINT")]
    pub imap: Option<String>,
    /// How long to wait for the last deliveries once submission has stopped.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub drain: Duration,
    /// Keep the load messages in the recipients' INBOX (default: expunge them once verified).
    #[arg(long)]
    pub keep: bool,
    /// Project root holding `fixtures/` (default: current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

impl LoadArgs {
    pub fn request(&self) -> LoadRequest {
        LoadRequest {
            concurrency: self.concurrency,
            duration: self.duration,
            message_size: self.message_size,
            max_messages: self.max_messages,
            sender: self.sender.clone(),
            recipients: if self.recipients.is_empty() { vec!["per2".into()] } else { self.recipients.clone() },
            submission: self.submission.clone(),
            imap: self.imap.clone(),
            drain: self.drain,
            expunge: !self.keep,
        }
    }
}

pub fn main(args: LoadArgs) -> i32 {
    super::runtime::block_on(super::runtime::Threads::Multi, run(args))
}

async fn run(args: LoadArgs) -> i32 {
    let choice = match &args.target {
        Some(p) => TargetChoice::Profile(p.clone()),
        None => TargetChoice::EmbeddedMock(Default::default()),
    };
    let acquired = match runner::acquire(&choice).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::CONFIG;
        }
    };
    if acquired.mock.is_some() {
        eprintln!("embedded mock operator started (no --target)");
    }
    // A load run is a stress test: never on a production platform (there is no --production).
    if let Err(e) = super::selection::gate(&acquired.target, false, acquired.mock.is_some()) {
        eprintln!("error: {e}");
        if let Some(m) = acquired.mock {
            m.shutdown().await;
        }
        return exit_code::CONFIG;
    }
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let code = match load::prepare(acquired.target.clone(), &root, args.request()) {
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::CONFIG
        }
        Ok((cfg, env)) => {
            let (stop_tx, stop_rx) = watch::channel(false);
            let stopper = tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\ninterrupt: stopping submission, waiting briefly for deliveries in flight");
                    let _ = stop_tx.send(true);
                    // A second Ctrl-C does not wait for the (short, bounded) drain.
                    if tokio::signal::ctrl_c().await.is_ok() {
                        eprintln!("second interrupt: exiting without a report");
                        std::process::exit(130);
                    }
                }
            });
            let mut line = ProgressLine::new();
            let outcome = load::run(cfg, env, stop_rx, |p| line.show(p)).await;
            line.finish();
            stopper.abort();
            match outcome {
                Ok(report) => conclude(&report, args.report.as_ref()),
                Err(e) => {
                    eprintln!("error: {e}");
                    exit_code::CONFIG
                }
            }
        }
    };
    if let Some(m) = acquired.mock {
        m.shutdown().await;
    }
    code
}

/// Prints the summary, writes the JSON report; exit 0 only for a complete run without errors.
fn conclude(report: &LoadReport, path: Option<&PathBuf>) -> i32 {
    print!("{}", report.summary());
    if let Some(path) = path {
        let json = match serde_json::to_vec_pretty(report) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("error: cannot encode the report: {e}");
                return exit_code::CONFIG;
            }
        };
        if let Err(e) = crate::util::atomic::write_atomic(path, &json) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit_code::CONFIG;
        }
        println!("report: {}", path.display());
    }
    if report.interrupted || report.error_total() > 0 || report.verified == 0 { exit_code::FAILED } else { exit_code::OK }
}

/// One progress line on stderr: rewritten in place on a terminal, every 5 s otherwise.
struct ProgressLine {
    tty: bool,
    shown: u64,
}

impl ProgressLine {
    fn new() -> Self {
        ProgressLine { tty: std::io::stderr().is_terminal(), shown: 0 }
    }

    fn show(&mut self, p: Progress) {
        self.shown += 1;
        if !self.tty && self.shown % 5 != 0 {
            return;
        }
        let c = p.counts;
        let phase = if p.draining { "draining" } else { "loading" };
        let text = format!(
            "{phase} {:>5.1} s: submitted {}, verified {}, in flight {}, errors {}",
            p.elapsed.as_secs_f64(),
            c.submitted,
            c.verified,
            c.in_flight,
            c.errors
        );
        if self.tty {
            eprint!("\r{text}\x1b[K");
        } else {
            eprintln!("{text}");
        }
    }

    fn finish(&self) {
        if self.tty && self.shown > 0 {
            eprintln!();
        }
    }
}

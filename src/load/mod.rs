//! `mssconf load`: a load / soak run against a loopback operator (issue #8, point 3).
//!
//! N submission sessions authenticate once each (STARTTLS or implicit TLS, then SASL as the
//! profile's mailbox says) and send message after message on the same connection; one IMAP
//! watcher per recipient mailbox idles on INBOX and matches each delivered message by its unique
//! Message-ID. Two HDR histograms come out: submission latency (MAIL FROM → 250 after the body)
//! and delivery latency (that 250 → seen over IMAP), with throughput and errors by reply code.
//!
//! Safety: loopback targets only, declared test mailboxes only, fictitious content checked by
//! the send guard; the run is bounded by its duration and message budget, every wait by a
//! timeout. The profile's `rate` (meant for shared operator environments) does not apply here.
//!
//! ```text
//! config ─► watchers ready ─► workers (until deadline / budget / stop) ─► drain ─► report
//! ```

pub mod config;
pub mod histogram;
pub mod ledger;
pub mod login;
pub mod message;
pub mod number;
pub mod plot;
pub mod relay;
pub mod report;
pub mod watcher;
pub mod worker;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use config::{ConfigError, LoadConfig, LoadRequest};
pub use ledger::{Counts, Ledger};
pub use report::LoadReport;

use crate::exec::env::RunEnv;
use crate::exec::imap::ImapTimeouts;
use crate::exec::smtp::SmtpTimeouts;
use crate::fixtures::guard::Guard;
use crate::target::model::Target;
use login::Protocol;
use message::MessageTemplate;
use watcher::{Watcher, WatcherShared};
use worker::WorkerShared;

/// After a stop (Ctrl-C), deliveries in flight get this long at most.
const STOP_DRAIN: Duration = Duration::from_secs(3);
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Why a load run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Setup(String),
}

/// Where the run stands, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub elapsed: Duration,
    pub counts: Counts,
    /// Submission is over; the watchers wait for the last deliveries.
    pub draining: bool,
}

/// Checks `req` against `target` and builds the run context (key material, tokens, the
/// fixtures the send guard checks against, from `root/fixtures/fixtures.yaml`).
pub fn prepare(target: Target, root: &Path, req: LoadRequest) -> Result<(LoadConfig, Arc<RunEnv>), LoadError> {
    let fixtures_dir = root.join("fixtures");
    let fixtures = crate::scenario::catalogue::load_fixtures(&fixtures_dir.join("fixtures.yaml"))
        .map_err(|e| LoadError::Setup(format!("fixtures: {e}")))?;
    let cfg = LoadConfig::new(target, &fixtures, req)?;
    let env = RunEnv::new(cfg.target.clone(), fixtures, fixtures_dir, format!("load-{}", run_id()))
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    Ok((cfg, env))
}

/// Runs the load described by `cfg`; `stop` turning true ends it early with a partial report.
pub async fn run(
    cfg: LoadConfig,
    env: Arc<RunEnv>,
    mut stop: watch::Receiver<bool>,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<LoadReport, LoadError> {
    let run_id = run_id();
    let sender_address = cfg.address(&cfg.sender).to_string();
    let recipient_addresses: Vec<String> = cfg.recipients.iter().map(|r| cfg.address(r).to_string()).collect();
    let template = MessageTemplate::new(&run_id, &sender_address, cfg.message_size);
    let guard = Guard::new(&env.fixtures, &cfg.target).map_err(|e| LoadError::Setup(e.to_string()))?;
    for to in &recipient_addresses {
        template.check(&guard, to).map_err(|e| LoadError::Setup(e.to_string()))?;
    }
    let t = &cfg.target.timeouts;
    let (connect, reply) = (Duration::from_millis(t.connect), Duration::from_millis(t.reply));
    let ledger = Arc::new(Ledger::new(cfg.max_messages));

    let watcher_shared = Arc::new(WatcherShared {
        endpoint: cfg.endpoint(&cfg.imap).clone(),
        timeouts: ImapTimeouts { connect, response: reply },
        secrets: env.secrets.clone(),
        ledger: ledger.clone(),
        marker_prefix: template.marker_prefix(),
        expunge: cfg.expunge,
    });
    let mut watchers = Vec::new();
    for (index, role) in cfg.recipients.iter().enumerate() {
        let login = login::login(&env, role, Protocol::Imap).await.map_err(LoadError::Setup)?;
        let w = Watcher::start(watcher_shared.clone(), login, index)
            .await
            .map_err(|e| LoadError::Setup(format!("IMAP watcher of `{role}` could not start: {e}")))?;
        watchers.push(w);
    }
    let login = login::login(&env, &cfg.sender, Protocol::Smtp).await.map_err(LoadError::Setup)?;

    let start = Instant::now();
    let worker_shared = Arc::new(WorkerShared {
        endpoint: cfg.endpoint(&cfg.submission).clone(),
        login,
        sender: sender_address,
        recipients: recipient_addresses,
        template,
        timeouts: SmtpTimeouts::new(connect, reply),
        secrets: env.secrets.clone(),
        ledger: ledger.clone(),
        deadline: start + cfg.duration,
    });
    let (drain_tx, drain_rx) = watch::channel(None);
    let mut watching = JoinSet::new();
    for w in watchers {
        watching.spawn(w.run(drain_rx.clone()));
    }
    let mut workers = JoinSet::new();
    for id in 0..cfg.concurrency {
        workers.spawn(worker::run(id, worker_shared.clone(), stop.clone()));
    }

    let report_progress = |draining: bool, progress: &mut dyn FnMut(Progress)| {
        progress(Progress { elapsed: start.elapsed(), counts: ledger.counts(), draining });
    };
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    while !workers.is_empty() {
        tokio::select! {
            _ = tick.tick() => report_progress(false, &mut progress),
            _ = workers.join_next() => {}
        }
    }
    let interrupted = *stop.borrow();
    let drain = if interrupted { cfg.drain.min(STOP_DRAIN) } else { cfg.drain };
    let _ = drain_tx.send(Some(Instant::now() + drain));
    // A stop during the drain cuts it short; a dropped stop sender just stops being watched.
    let mut stop_open = true;
    while !watching.is_empty() {
        tokio::select! {
            _ = tick.tick() => report_progress(true, &mut progress),
            _ = watching.join_next() => {}
            changed = stop.changed(), if stop_open && !interrupted => match changed {
                Ok(()) if *stop.borrow() => {
                    let _ = drain_tx.send(Some(Instant::now() + cfg.drain.min(STOP_DRAIN)));
                    stop_open = false;
                }
                Ok(()) => {}
                Err(_) => stop_open = false,
            },
        }
    }
    let interrupted = interrupted || *stop.borrow();
    ledger.abandon_in_flight();
    Ok(build_report(&cfg, &ledger, start, interrupted))
}

fn build_report(cfg: &LoadConfig, ledger: &Ledger, start: Instant, interrupted: bool) -> LoadReport {
    let wall = start.elapsed();
    let counts = ledger.counts();
    // The ledger's clock started before the watchers logged in: rates count from the workers' start.
    let setup = start.saturating_duration_since(ledger.start);
    let (submit_span, verify_span) = ledger.spans();
    let (submit_span, verify_span) = (submit_span.saturating_sub(setup), verify_span.saturating_sub(setup));
    let endpoint = |name: &str| format!("{} ({})", cfg.endpoint(name), cfg.tls_mode(name));
    LoadReport {
        target: cfg.target.name.clone(),
        submission: endpoint(&cfg.submission),
        imap: endpoint(&cfg.imap),
        sender: cfg.sender.clone(),
        recipients: cfg.recipients.clone(),
        concurrency: cfg.concurrency,
        message_size: cfg.message_size,
        duration_limit_s: cfg.duration.as_secs_f64(),
        max_messages: cfg.max_messages,
        interrupted,
        wall_s: wall.as_secs_f64(),
        submitted: counts.submitted,
        verified: counts.verified,
        submitted_per_s: report::rate(counts.submitted, submit_span.as_secs_f64()),
        verified_per_s: report::rate(counts.verified, verify_span.as_secs_f64()),
        submission_latency: ledger.submission().percentiles(),
        delivery_latency: ledger.delivery().percentiles(),
        errors: ledger.errors(),
    }
}

/// A short id unique enough to tell this run's messages from any other's in the mailbox.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}{:x}", (nanos as u64) & 0xffff_ffff_ffff, std::process::id())
}

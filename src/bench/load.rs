//! Load figure (issue #8 point 3): `mssconf load` against Postfix's own `smtp-source`, same
//! concurrency, same message size, same peer, same run.
//!
//! - smtp-source speaks plain SMTP without TLS or AUTH, so it goes to the peer's plain loopback
//!   listener (`PEER_PLAIN_PORT`, base + 25), which delivers into the same Dovecot mailboxes.
//! - Its throughput is `messages / wall time` of a direct run (`-d`: one connection per session,
//!   reused, like the harness's sessions).
//! - It prints no latencies: a second run goes through [`crate::load::relay`], a loopback relay
//!   timing each transaction from the MAIL FROM line to the reply after the end of data as the
//!   relay sees them. The harness times the same span on its own side (its TLS and parsing
//!   included), so the comparison does not favour the harness.
//! - Full bench order: smtp-source direct (throughput), `mssconf load`, smtp-source relayed
//!   (latencies only), so that the two throughputs are measured back to back.
//! - Between runs the peer's queue is let empty (`postqueue -p`, bounded), so that neither run
//!   competes with the other's deliveries, and smtp-source's messages are expunged (untimed), so
//!   that every run delivers into a mailbox of the same size.
//! - The peer's own delivery rate (smtp-source's messages over the time until the queue is empty)
//!   bounds any verified throughput: the bench prints it against smtp-source's accept rate, the
//!   best ratio the verified line can reach on this peer.
//! - The harness's figure is *verified* throughput: messages seen over IMAP per second.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::{BenchConfig, Figure, Measured};
use crate::exec::imap::{ImapSession, ImapTimeouts};
use crate::exec::net::TlsMode;
use crate::load::histogram::Percentiles;
use crate::load::login::{self, Protocol, Sasl};
use crate::load::plot::{self, Series};
use crate::load::relay::Relay;
use crate::load::{self as load_mode, LoadReport, LoadRequest};
use crate::target::load::load_target;
use crate::target::model::Target;

const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";
const THROUGHPUT: &str = "load throughput (verified delivery)";
const SUBMITTED: &str = "load throughput (submitted, harness side)";
const DELIVERED: &str = "load throughput (verified) vs the peer's own delivery rate";
/// The peer's own delivery rate against smtp-source's accept rate: the ceiling of the first ratio.
const CEILING: &str = "load ceiling, the peer's own delivery rate (bounds verified throughput)";
const P50: &str = "load submission latency p50";
const P99: &str = "load submission latency p99";
/// smtp-source adds about this many header bytes to its `-l` payload.
const SMTP_SOURCE_HEADERS: usize = 200;
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// The peer delivers more slowly than it accepts: the full bench's thousands of messages need
/// minutes to leave its queue.
const QUEUE_WAIT_QUICK: Duration = Duration::from_secs(20);
const QUEUE_WAIT_FULL: Duration = Duration::from_secs(180);

/// Sizes of one measurement.
#[derive(Debug, Clone, Copy)]
struct Shape {
    concurrency: usize,
    message_size: usize,
    messages: u64,
}

impl Shape {
    fn of(cfg: &BenchConfig) -> Shape {
        let messages = if cfg.quick { 150 } else { 2000 };
        Shape { concurrency: 4, message_size: 10 * 1024, messages }
    }
}

pub async fn measure(cfg: &BenchConfig) -> Vec<Measured> {
    let skip = |reason: String| vec![Measured::skipped(THROUGHPUT, reason)];
    let Some(profile) = &cfg.peer else {
        return skip("no Postfix+Dovecot peer profile (scripts/peer/start.sh, then --peer)".into());
    };
    if !Path::new(SMTP_SOURCE).is_file() {
        return skip(format!("{SMTP_SOURCE} not found (Debian package postfix)"));
    }
    let target = match load_target(profile) {
        Ok(t) => t,
        Err(e) => return skip(format!("peer profile {}: {} problem(s)", profile.display(), e.len())),
    };
    let plain = match plain_listener(&target).await {
        Ok(a) => a,
        Err(e) => return skip(e),
    };
    match compare(cfg, target, plain).await {
        Ok(lines) => lines,
        Err(e) => skip(e),
    }
}

async fn compare(cfg: &BenchConfig, target: Target, plain: SocketAddr) -> Result<Vec<Measured>, String> {
    let shape = Shape::of(cfg);
    let tag = format!("mssconf-baseline-{}", std::process::id());
    let from = address(&target, "per1")?;
    let to = address(&target, "per2")?;
    wait_for_empty_queue(cfg.quick).await;
    // Quick mode: one smtp-source run, through the timing relay, gives both figures (the relay
    // costs it a little throughput); the full bench runs it direct for throughput, then relayed.
    let relay = Relay::start(plain).await.map_err(|e| format!("timing relay: {e}"))?;
    let first = if cfg.quick { relay.addr } else { plain };
    let started = Instant::now();
    smtp_source(first, shape, &from, &to, &tag).await?;
    let baseline_rate = shape.messages as f64 / started.elapsed().as_secs_f64();
    // Accepted is not delivered: the time until the peer's queue is empty again bounds its own
    // delivery rate, which also bounds any verified throughput.
    let baseline_delivered = wait_for_empty_queue(cfg.quick).await.then(|| shape.messages as f64 / started.elapsed().as_secs_f64());
    // Each run delivers into a mailbox holding what the runs before left: the baseline's
    // messages go before the next run (untimed), as the harness expunges its own.
    let mut cleaned = remove_baseline_messages(cfg, &target, &tag).await;
    // The harness runs right after the throughput baseline: on a shared machine the load of
    // others drifts, and the closer the two runs, the less it tilts the ratio.
    let report = mssconf_load(cfg, target.clone(), shape).await?;
    if !cfg.quick {
        wait_for_empty_queue(cfg.quick).await;
        smtp_source(relay.addr, shape, &from, &to, &tag).await?;
        wait_for_empty_queue(cfg.quick).await;
        cleaned = cleaned.and(remove_baseline_messages(cfg, &target, &tag).await);
    }
    let baseline = relay.finish().transactions.percentiles();
    write_outputs(cfg, &report, &baseline, baseline_rate, shape);
    let mut lines = vec![
        Figure::new(THROUGHPUT, report.verified_per_s, "msg/s", ("smtp-source", baseline_rate, "msg/s")),
        Figure::new(SUBMITTED, report.submitted_per_s, "msg/s", ("smtp-source", baseline_rate, "msg/s")),
        Figure::new(P50, report.submission_latency.p50_ms, "ms", ("smtp-source", baseline.p50_ms, "ms")),
        Figure::new(P99, report.submission_latency.p99_ms, "ms", ("smtp-source", baseline.p99_ms, "ms")),
    ];
    match baseline_delivered {
        Some(rate) => {
            lines.push(Figure::new(
                DELIVERED,
                report.verified_per_s,
                "msg/s",
                ("smtp-source accepted and delivered (queue empty)", rate, "msg/s"),
            ));
            // No verified throughput can pass the peer's own delivery rate: this ratio is the
            // best the first line can reach on this peer, in this run.
            lines.push(Figure::new(CEILING, rate, "msg/s", ("smtp-source", baseline_rate, "msg/s")));
        }
        None => lines.push(Measured::skipped(DELIVERED, "the peer's queue did not empty in time (or postqueue is unavailable)")),
    }
    if report.error_total() > 0 {
        lines.push(Measured::skipped("load errors", format!("{} error(s): {:?}", report.error_total(), report.errors)));
    }
    if let Err(e) = cleaned {
        lines.push(Measured::skipped("load cleanup", e));
    }
    Ok(lines)
}

/// The plain listener: `PEER_PLAIN_PORT` if set, else the peer's convention (submission port
/// − 587 + 25); it must greet with 220.
async fn plain_listener(target: &Target) -> Result<SocketAddr, String> {
    let port = match std::env::var("PEER_PLAIN_PORT") {
        Ok(p) => p.parse::<u16>().map_err(|_| format!("PEER_PLAIN_PORT={p} is not a port"))?,
        Err(_) => {
            let submission = target.endpoints.get("smtp_starttls").ok_or("the peer profile has no smtp_starttls")?;
            submission.port.checked_sub(587 - 25).ok_or("cannot derive the plain port from smtp_starttls")?
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let greeting = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await.ok()?;
        Some(buf[..n].starts_with(b"220"))
    };
    match tokio::time::timeout(Duration::from_secs(3), greeting).await {
        Ok(Some(true)) => Ok(addr),
        _ => Err(format!(
            "the peer has no plain SMTP listener on {addr} for smtp-source (restart the peer with this \
             version of scripts/peer/start.sh)"
        )),
    }
}

fn address(target: &Target, role: &str) -> Result<String, String> {
    target.mailboxes.get(role).map(|m| m.address.clone()).ok_or_else(|| format!("the peer profile has no `{role}`"))
}

/// `smtp-source -d -s N -m M -l S` to `addr`; fails on a non-zero exit.
async fn smtp_source(addr: SocketAddr, shape: Shape, from: &str, to: &str, tag: &str) -> Result<(), String> {
    let payload = shape.message_size.saturating_sub(SMTP_SOURCE_HEADERS).to_string();
    let mut cmd = Command::new(SMTP_SOURCE);
    cmd.args(["-d", "-s", &shape.concurrency.to_string(), "-m", &shape.messages.to_string(), "-l", &payload])
        .args(["-f", from, "-t", to, "-S", tag, "-M", "mssconf-bench.test", &addr.to_string()]);
    let out = run_bounded(cmd, RUN_TIMEOUT).await?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("smtp-source failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Runs `cmd` to completion without blocking the runtime; killed after `timeout`. Its output is
/// read while it runs (`postqueue -p` on a queue of thousands prints far more than a pipe holds,
/// and would block on a full pipe until killed).
async fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<Output, String> {
    let name = cmd.get_program().to_string_lossy().to_string();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(10)).await,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{name} did not finish within {timeout:?}"));
            }
            Err(e) => return Err(format!("{name}: {e}")),
        }
    };
    // Exited: its pipes reach end of file (smtp-source and postqueue leave no process behind).
    let collect = |h: std::thread::JoinHandle<Vec<u8>>| h.join().unwrap_or_default();
    let (stdout, stderr) = tokio::task::spawn_blocking(move || (collect(stdout), collect(stderr)))
        .await
        .map_err(|e| format!("{name}: output reader: {e}"))?;
    Ok(Output { status, stdout, stderr })
}

/// Reads a child's pipe to its end on a thread of its own.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Bounded wait for the peer's Postfix queue to empty; false if it did not (or `postqueue`
/// cannot be asked).
async fn wait_for_empty_queue(quick: bool) -> bool {
    let deadline = Instant::now() + if quick { QUEUE_WAIT_QUICK } else { QUEUE_WAIT_FULL };
    while Instant::now() < deadline {
        let mut cmd = Command::new("postqueue");
        cmd.arg("-p");
        match run_bounded(cmd, Duration::from_secs(5)).await {
            Ok(o) if o.status.success() => {
                if String::from_utf8_lossy(&o.stdout).contains("Mail queue is empty") {
                    return true;
                }
            }
            _ => return false,
        }
        // showq lists the whole queue each time: do not take the CPU the deliveries need.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn mssconf_load(cfg: &BenchConfig, target: Target, shape: Shape) -> Result<LoadReport, String> {
    let req = LoadRequest {
        concurrency: shape.concurrency,
        message_size: shape.message_size,
        max_messages: Some(shape.messages),
        duration: Duration::from_secs(if cfg.quick { 20 } else { 120 }),
        drain: Duration::from_secs(if cfg.quick { 20 } else { 180 }),
        ..LoadRequest::default()
    };
    let (config, env) = load_mode::prepare(target, &cfg.root, req).map_err(|e| format!("mssconf load: {e}"))?;
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    load_mode::run(config, env, stop_rx, |_| {}).await.map_err(|e| format!("mssconf load: {e}"))
}

/// Removes smtp-source's messages (subject `tag`) from the recipient's INBOX.
async fn remove_baseline_messages(cfg: &BenchConfig, target: &Target, tag: &str) -> Result<(), String> {
    let (_, env) = load_mode::prepare(target.clone(), &cfg.root, LoadRequest::default()).map_err(|e| e.to_string())?;
    let endpoint = target.endpoints.get("imap_implicit").ok_or("no imap_implicit endpoint")?;
    let login = login::login(&env, "per2", Protocol::Imap).await?;
    let Sasl::Auth { mechanism, credentials } = &login.sasl else { return Err("no IMAP login for per2".into()) };
    let timeouts = ImapTimeouts { connect: Duration::from_secs(5), response: Duration::from_secs(30) };
    let transcript = crate::exec::transcript::Transcript::new(env.secrets.clone());
    let e = |e: crate::exec::imap::ImapError| format!("cleanup over IMAP: {e}");
    let (mut s, _) = ImapSession::connect(endpoint, &login.tls, timeouts, transcript).await.map_err(e)?;
    if endpoint.tls != TlsMode::Implicit {
        return Err("cleanup expects an implicit-TLS IMAP endpoint".into());
    }
    s.authenticate(*mechanism, credentials, true).await.map_err(e)?;
    s.select("INBOX").await.map_err(e)?;
    let (uids, _) = s.uid_search(&format!("SUBJECT \"{tag}\"")).await.map_err(e)?;
    for chunk in uids.chunks(500) {
        let set: Vec<String> = chunk.iter().map(u32::to_string).collect();
        let set = set.join(",");
        s.command(&format!("UID STORE {set} +FLAGS.SILENT (\\Deleted)")).await.map_err(e)?;
        s.command(&format!("UID EXPUNGE {set}")).await.map_err(e)?;
    }
    let _ = s.logout().await;
    Ok(())
}

/// `load-report.json`, `load-latency.png` and the percentile lines in the work folder; failures
/// here are printed, not fatal (the figures are already measured).
fn write_outputs(cfg: &BenchConfig, report: &LoadReport, baseline: &Percentiles, baseline_rate: f64, shape: Shape) {
    let summary = serde_json::json!({
        "mssconf_load": report,
        "smtp_source": { "messages_per_s": baseline_rate, "submission_latency": baseline },
        "shape": { "concurrency": shape.concurrency, "message_size": shape.message_size, "messages": shape.messages },
    });
    if let Ok(json) = serde_json::to_vec_pretty(&summary)
        && let Err(e) = crate::util::atomic::write_atomic(&cfg.work_dir.join("load-report.json"), &json)
    {
        eprintln!("load: cannot write load-report.json: {e}");
    }
    let series = [
        Series { name: format!("mssconf load, submission (STARTTLS + XOAUTH2), {} msg/s verified", crate::load::number::number(report.verified_per_s)), values_ms: report.submission_latency.series() },
        Series { name: format!("smtp-source, submission (plain SMTP), {} msg/s", crate::load::number::number(baseline_rate)), values_ms: baseline.series() },
        Series { name: "mssconf load, delivery (250 → seen over IMAP IDLE)".into(), values_ms: report.delivery_latency.series() },
    ];
    let subtitle = format!(
        "Postfix+Dovecot peer, {} sessions, {} bytes per message, {} messages each, same run",
        shape.concurrency, shape.message_size, shape.messages
    );
    match plot::png("Load: latency percentiles, mssconf load vs smtp-source", &subtitle, &series) {
        Ok(png) => {
            if let Err(e) = crate::util::atomic::write_atomic(&cfg.work_dir.join("load-latency.png"), &png) {
                eprintln!("load: cannot write load-latency.png: {e}");
            }
        }
        Err(e) => eprintln!("load: cannot render the plot: {e}"),
    }
}

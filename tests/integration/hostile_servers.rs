//! Hostile servers on loopback (issue #17 item 7): each floods, never ends a line, announces a
//! huge literal or streams an endless body, and the run must end that scenario in `error` with a
//! reason naming the limit it reached, quickly (well within the profile's timeouts: the bounds
//! stop it, not the clock), with the peak memory of the child `mssconf` bounded.
//! Scenarios: `tests/cases/hostile/servers/`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::measure;
use crate::outcomes;

const SCENARIOS: &str = "tests/cases/hostile/servers";
/// Below the profile's 60 s reply timeout: a bound, not the clock, ends each case (the untagged
/// flood takes a few seconds in a debug build; more on a loaded machine).
const BOUNDED: Duration = Duration::from_secs(50);
/// Peak RSS of the child run (debug build). A reader keeping what each hostile server sends
/// (1.2 MB of untagged lines held twice, a 17 MiB body, 10 000 literals) stays well below.
const RSS_LIMIT_KIB: i64 = 150 * 1024;

/// Serves every connection of `listener` with `serve` (a thread each) for two minutes.
fn start(serve: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(120);
        while Instant::now() < until {
            match listener.accept() {
                Ok((s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(Duration::from_secs(90)));
                    std::thread::spawn(move || serve(s));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    port
}

/// Writes `bytes` `times` times (write errors end it: the harness stopped reading and closed).
fn repeat(s: &mut TcpStream, bytes: &[u8], times: usize) {
    let block = bytes.repeat((64 * 1024 / bytes.len()).max(1));
    let per_block = block.len() / bytes.len();
    let mut left = times;
    while left > 0 {
        let n = left.min(per_block);
        if s.write_all(&block[..n * bytes.len()]).is_err() {
            return;
        }
        left -= n;
    }
}

/// Waits for the harness to close (or the read timeout).
fn linger(s: TcpStream) {
    let mut lines = BufReader::new(s);
    let mut line = String::new();
    while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
        line.clear();
    }
}

/// IMAP greeting, then the first command line is read before `then` answers it.
fn imap(s: &mut TcpStream) -> bool {
    let _ = s.write_all(b"* OK [CAPABILITY IMAP4rev1] hostile ready\r\n");
    let mut line = String::new();
    BufReader::new(s.try_clone().expect("clone")).read_line(&mut line).is_ok_and(|n| n > 0)
}

fn smtp_reply_flood(mut s: TcpStream) {
    repeat(&mut s, b"220-flood\r\n", 1500);
    let _ = s.write_all(b"220 end\r\n");
    linger(s);
}

fn smtp_endless_line(mut s: TcpStream) {
    let _ = s.write_all(b"220 ");
    repeat(&mut s, b"x", 200 * 1024);
    linger(s);
}

fn imap_untagged_flood(mut s: TcpStream) {
    if imap(&mut s) {
        repeat(&mut s, b"* OK flood\r\n", 100_001);
        linger(s);
    }
}

fn imap_huge_literal(mut s: TcpStream) {
    if imap(&mut s) {
        let _ = s.write_all(b"* 1 FETCH (BODY[] {268435455}\r\n");
        repeat(&mut s, b"0123456789abcdef", 64 * 1024);
        // Closed with the literal far from complete.
    }
}

fn imap_literal_chain(mut s: TcpStream) {
    if imap(&mut s) {
        repeat(&mut s, b" X {0}\r\n", 10_001);
        linger(s);
    }
}

fn imap_endless_line(mut s: TcpStream) {
    if imap(&mut s) {
        repeat(&mut s, b"* OK ", 1);
        repeat(&mut s, b"y", (1 << 20) + 4096);
        linger(s);
    }
}

fn http_endless_body(mut s: TcpStream) {
    let mut request = String::new();
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    while reader.read_line(&mut request).is_ok_and(|n| n > 2) {
        request.clear();
    }
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
    repeat(&mut s, b"z", 17 << 20);
}

/// A profile whose SMTP, IMAP and HTTP endpoints are the hostile server's port.
fn profile(dir: &Path, port: u16) -> PathBuf {
    std::fs::write(dir.join("ca.pem"), "no anchor is used: every endpoint is plain loopback").expect("ca");
    let y = format!(
        "name: hostile-server\noperator: Op\nservice: Svc\nversion: \"1\"\nclaims: [general]\ndomain: op.test\n\
         server_name: mx.op.test\nendpoints:\n  smtp_starttls: {{ host: 127.0.0.1, port: {port}, tls: starttls }}\n  \
         imap_starttls: {{ host: 127.0.0.1, port: {port}, tls: starttls }}\n\
         http:\n  whitelist: http://127.0.0.1:{port}/whitelist\ntrust_anchors: [ca.pem]\n\
         mailboxes:\n  per1: {{ address: per1@op.test, type: PER, token: issuer }}\n\
         timeouts: {{ connect: 5000, reply: 60000, delivery: 5000, step: 120000, scenario: 180000 }}\n"
    );
    let path = dir.join("hostile.target.yaml");
    std::fs::write(&path, y).expect("profile");
    path
}

/// Runs scenario `id` against a server serving with `serve`; returns the scenario's outcome
/// and reason, after checking the bounds of time and memory.
fn against(serve: fn(TcpStream), id: &str) -> (String, String) {
    let port = start(serve);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = profile(dir.path(), port);
    let reports = dir.path().join("reports");
    let args = ["run", "--target", target.to_str().unwrap(), "--scenarios", SCENARIOS, "--scenario", id, "--report-dir", reports.to_str().unwrap()];
    let m = measure(&args);
    let json = std::fs::read_to_string(reports.join("report.json")).unwrap_or_else(|e| panic!("{id}: no report ({e}): {}", m.stderr));
    let report: serde_json::Value = serde_json::from_str(&json).expect("report.json");
    let (_, outcome, reason) = outcomes(&report).into_iter().find(|o| o.0 == id).expect("the scenario ran");
    eprintln!("{id}: {outcome}, {:?}, peak RSS {} KiB: {reason}", m.took, m.max_rss_kib);
    assert!(m.took < BOUNDED, "{id}: {:?}: a bound should end it, not the timeouts", m.took);
    assert!(m.max_rss_kib < RSS_LIMIT_KIB, "{id}: peak RSS {} KiB", m.max_rss_kib);
    (outcome, reason)
}

fn assert_error_naming(serve: fn(TcpStream), id: &str, limit: &str) {
    let (outcome, reason) = against(serve, id);
    assert_eq!(outcome, "error", "{id}: {reason}");
    assert!(reason.contains(limit), "{id}: the reason should name `{limit}`: {reason}");
}

#[test]
fn an_smtp_reply_flood_and_an_endless_line_stop_at_their_bounds() {
    assert_error_naming(smtp_reply_flood, "OPE/SUB.01.81", "more than 1000 lines in one reply");
    assert_error_naming(smtp_endless_line, "OPE/SUB.01.81", "no line end within 65536 bytes");
}

#[test]
fn imap_floods_huge_literals_and_endless_lines_stop_at_their_bounds() {
    assert_error_naming(imap_untagged_flood, "OPE/SUB.01.82", "more than 100000 untagged responses");
    assert_error_naming(imap_literal_chain, "OPE/SUB.01.82", "more than 10000 lines and literals in one response");
    assert_error_naming(imap_endless_line, "OPE/SUB.01.82", "line longer than 1048576 bytes");
    // The huge literal header reserves nothing like 256 MiB (RSS bound above); the close comes
    // first, with the partial literal noted.
    let (outcome, reason) = against(imap_huge_literal, "OPE/SUB.01.82");
    assert_eq!(outcome, "error", "{reason}");
    assert!(reason.contains("closed"), "{reason}");
}

#[test]
fn an_endless_http_body_stops_at_its_bound() {
    assert_error_naming(http_endless_body, "OPE/DIR.01.81", "body larger than 16777216 bytes");
}

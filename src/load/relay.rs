//! A loopback TCP relay that timestamps plain SMTP transactions passing through it: the way
//! latency percentiles are taken for Postfix's `smtp-source`, which prints none.
//!
//! The relay reads the client's `MAIL FROM` line and the server's reply after the end-of-data
//! marker, and records the time between the two as the relay saw them. This excludes the
//! client's own processing (the harness measures its latency on the client side, which includes
//! its own TLS and parsing, so the comparison does not favour the harness). Transactions must
//! not be pipelined (smtp-source never pipelines).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::histogram::Latencies;

/// A silent side for this long ends the relayed connection.
const IDLE: Duration = Duration::from_secs(30);
const CONNECT: Duration = Duration::from_secs(5);

/// What the relay measured.
#[derive(Debug, Default)]
pub struct Timings {
    /// MAIL FROM (client) → reply after the end of data (server).
    pub transactions: Latencies,
    /// Final replies by code.
    pub codes: BTreeMap<u16, u64>,
}

pub struct Relay {
    pub addr: SocketAddr,
    timings: Arc<Mutex<Timings>>,
    task: JoinHandle<()>,
}

impl Relay {
    /// Listens on 127.0.0.1 (a free port) and relays every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let timings = Arc::new(Mutex::new(Timings::default()));
        let shared = timings.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let Ok(Ok(server)) = tokio::time::timeout(CONNECT, TcpStream::connect(upstream)).await else { return };
                    relay(client, server, shared).await;
                });
            }
        });
        Ok(Relay { addr, timings, task })
    }

    /// Stops listening and returns what was measured.
    pub fn finish(self) -> Timings {
        self.task.abort();
        std::mem::take(&mut *lock(&self.timings))
    }
}

/// One relayed connection's view of the SMTP dialogue.
#[derive(Debug, Default)]
struct Dialogue {
    mail_at: Option<Instant>,
    /// The client is sending the message body.
    in_data: bool,
    /// The last bytes of the body seen, to find `CRLF.CRLF` across reads.
    tail: Vec<u8>,
    /// The end of data went through; the next complete reply is the transaction's.
    awaiting_final: bool,
    client_line: Vec<u8>,
    server_line: Vec<u8>,
}

impl Dialogue {
    fn from_client(&mut self, bytes: &[u8], now: Instant) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.in_data {
                rest = self.body(rest);
                continue;
            }
            match rest.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    self.client_line.extend_from_slice(&rest[..=end]);
                    rest = &rest[end + 1..];
                    let line = std::mem::take(&mut self.client_line);
                    self.client_command(&line, now);
                }
                None => {
                    self.client_line.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
    }

    fn client_command(&mut self, line: &[u8], now: Instant) {
        let upper = String::from_utf8_lossy(line).trim_end().to_ascii_uppercase();
        if upper.starts_with("MAIL FROM") {
            self.mail_at = Some(now);
        } else if upper == "DATA" {
            self.in_data = true;
            // The DATA line's CRLF counts: a body of just "." ends at once.
            self.tail = b"\r\n".to_vec();
        }
    }

    /// Consumes body bytes up to and including the end-of-data marker; returns what follows.
    fn body<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        for (i, b) in bytes.iter().enumerate() {
            self.tail.push(*b);
            if self.tail.len() > 5 {
                self.tail.remove(0);
            }
            if self.tail.ends_with(b"\r\n.\r\n") {
                self.in_data = false;
                self.awaiting_final = true;
                self.tail.clear();
                return &bytes[i + 1..];
            }
        }
        &[]
    }

    /// Returns the latency and code when a reply ends a transaction.
    fn from_server(&mut self, bytes: &[u8], now: Instant) -> Vec<(Duration, u16)> {
        let mut done = Vec::new();
        for b in bytes {
            self.server_line.push(*b);
            if *b != b'\n' {
                continue;
            }
            let line = std::mem::take(&mut self.server_line);
            let last_line = line.get(3) != Some(&b'-');
            let code = std::str::from_utf8(line.get(..3).unwrap_or_default()).ok().and_then(|c| c.parse::<u16>().ok());
            if let (true, true, Some(code), Some(mail_at)) = (last_line, self.awaiting_final, code, self.mail_at) {
                done.push((now.saturating_duration_since(mail_at), code));
                self.awaiting_final = false;
                self.mail_at = None;
            }
        }
        done
    }
}

async fn relay(client: TcpStream, server: TcpStream, timings: Arc<Mutex<Timings>>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let dialogue = Arc::new(Mutex::new(Dialogue::default()));
    let d = dialogue.clone();
    let up = pump(cr, sw, move |bytes, now| lock(&d).from_client(bytes, now));
    let down = pump(sr, cw, move |bytes, now| {
        let done = lock(&dialogue).from_server(bytes, now);
        if !done.is_empty() {
            let mut t = lock(&timings);
            for (latency, code) in done {
                t.transactions.record(latency);
                *t.codes.entry(code).or_default() += 1;
            }
        }
    });
    // Either side ending ends the connection.
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

/// Copies `from` to `to`, showing each read to `observe` first (timestamped at the read).
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut observe: impl FnMut(&[u8], Instant)) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match tokio::time::timeout(IDLE, from.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => n,
        };
        observe(&buf[..n], Instant::now());
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_transaction_is_timed_from_mail_from_to_the_reply_after_the_body() {
        let mut d = Dialogue::default();
        let t0 = Instant::now();
        d.from_client(b"EHLO x\r\nMAIL FROM:<a@b.test>\r\n", t0);
        assert!(d.from_server(b"250 ok\r\n", t0).is_empty(), "the MAIL reply is not the end");
        d.from_client(b"RCPT TO:<c@b.test>\r\nDATA\r\n", t0);
        assert!(d.from_server(b"250 ok\r\n354 go\r\n", t0).is_empty());
        d.from_client(b"Subject: x\r\n\r\n..dot\r\n", t0);
        d.from_client(b"body\r", t0);
        d.from_client(b"\n.\r", t0);
        assert!(d.in_data);
        d.from_client(b"\n", t0);
        assert!(!d.in_data && d.awaiting_final);
        let later = t0 + Duration::from_millis(7);
        assert!(d.from_server(b"250-multi\r\n", later).is_empty());
        assert_eq!(d.from_server(b"250 2.0.0 queued\r\n", later), vec![(Duration::from_millis(7), 250)]);
        assert!(d.from_server(b"250 again\r\n", later).is_empty(), "one reply per transaction");
    }

    #[tokio::test]
    async fn relay_forwards_both_ways_and_times_the_transaction() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = server.local_addr().unwrap();
        let fake = tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            s.write_all(b"220 hi\r\n").await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            for reply in [&b"250 ok\r\n"[..], b"250 ok\r\n", b"354 go\r\n", b"250 queued\r\n"] {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                s.write_all(reply).await.unwrap();
            }
            got
        });
        let relay = Relay::start(upstream).await.unwrap();
        let mut c = TcpStream::connect(relay.addr).await.unwrap();
        let mut buf = [0u8; 64];
        let mut read_reply = async |c: &mut TcpStream| {
            let n = c.read(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf[..n]).to_string()
        };
        assert_eq!(read_reply(&mut c).await, "220 hi\r\n");
        for line in [&b"MAIL FROM:<a@b.test>\r\n"[..], b"RCPT TO:<c@b.test>\r\n", b"DATA\r\n", b"x\r\n.\r\n"] {
            c.write_all(line).await.unwrap();
            read_reply(&mut c).await;
        }
        let got = fake.await.unwrap();
        assert!(got.ends_with(b"DATA\r\nx\r\n.\r\n"), "{}", String::from_utf8_lossy(&got));
        let t = relay.finish();
        assert_eq!(t.transactions.count(), 1);
        assert_eq!(t.codes.get(&250), Some(&1));
    }
}

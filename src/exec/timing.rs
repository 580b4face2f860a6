//! Time accounting: how long a step waited on the server (connect, TLS handshake, reads of
//! replies and responses, IDLE, HTTP exchanges) versus how long the harness itself took.
//!
//! The IO boundary wraps each wait in [`server`]; the time lands in the [`WaitMeter`] installed
//! for the running task with [`WaitMeter::scope`] (the runner installs one per step, the load
//! mode may install one per session). Outside a scope nothing is counted, so protocol code used
//! on its own pays one task-local lookup per wait. Nested waits count once: a whole delivery
//! wait can be marked as server time without its inner reads being counted twice.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

tokio::task_local! {
    static METER: WaitMeter;
}

/// Accumulates server wait time; clones share the total.
#[derive(Debug, Clone, Default)]
pub struct WaitMeter {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    nanos: AtomicU64,
    /// Waits in progress: only the outermost one counts.
    depth: AtomicU32,
}

impl WaitMeter {
    pub fn new() -> Self {
        WaitMeter::default()
    }

    /// Total server wait so far.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.inner.nanos.load(Ordering::Relaxed))
    }

    /// Runs `fut` with this meter counting the server waits of the current task.
    pub async fn scope<F: Future>(&self, fut: F) -> F::Output {
        METER.scope(self.clone(), fut).await
    }

    fn add(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.inner.nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Counts a wait from its start to its end or its cancellation (a timeout dropping the wait
/// still waited on the server).
struct Waiting {
    meter: WaitMeter,
    start: Instant,
    outermost: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.meter.inner.depth.fetch_sub(1, Ordering::Relaxed);
        if self.outermost {
            self.meter.add(self.start.elapsed());
        }
    }
}

/// Awaits `fut`, a wait on the server, counting its time in the current task's meter if any.
/// Wrap the whole wait, timeout included, so that a wait cut by its timeout is counted too.
pub async fn server<F: Future>(fut: F) -> F::Output {
    let _waiting = METER.try_with(|m| Waiting {
        meter: m.clone(),
        start: Instant::now(),
        outermost: m.inner.depth.fetch_add(1, Ordering::Relaxed) == 0,
    });
    fut.await
}

/// A span of wall time split between the server and the harness, in whole milliseconds that add
/// up exactly to the span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Split {
    pub total_ms: u64,
    pub server_wait_ms: u64,
    pub harness_ms: u64,
}

impl Split {
    /// `waited` is capped at `total` (a wait cannot be longer than the span holding it).
    pub fn of(total: Duration, waited: Duration) -> Split {
        let total_ms = millis(total);
        let server_wait_ms = millis(waited).min(total_ms);
        Split { total_ms, server_wait_ms, harness_ms: total_ms - server_wait_ms }
    }
}

pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A loopback server that sleeps `delay` before answering one line.
    async fn slow_echo(delay: Duration) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 64];
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = sock.write_all(b"250 ok\r\n").await;
            }
        });
        port
    }

    #[tokio::test]
    async fn a_delayed_reply_is_server_wait_not_harness_time() {
        let port = slow_echo(Duration::from_millis(200)).await;
        let meter = WaitMeter::new();
        let clock = Instant::now();
        meter
            .scope(async {
                let mut tcp = crate::exec::net::connect("127.0.0.1", port, Duration::from_secs(5)).await.unwrap();
                tcp.write_all(b"NOOP\r\n").await.unwrap();
                let mut buf = [0u8; 64];
                let n = server(tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))).await.unwrap().unwrap();
                assert_eq!(&buf[..n], b"250 ok\r\n");
            })
            .await;
        let split = Split::of(clock.elapsed(), meter.total());
        assert!(split.server_wait_ms >= 200, "{split:?}");
        assert!(split.harness_ms < 50, "{split:?}");
    }

    /// Through the real SMTP wire: a greeting that comes 200 ms late and a slow reply to EHLO.
    #[tokio::test]
    async fn the_smtp_wire_counts_late_replies_as_server_wait() {
        use crate::exec::net::{Endpoint, TlsMode};
        use crate::exec::smtp::testkit::{ScriptedServer, Step, TestPki, expect, send};
        use crate::exec::smtp::{SmtpSession, SmtpTimeouts};
        let late = Duration::from_millis(200);
        let script = vec![Step::Pause(late), send("220 mx\r\n"), expect("EHLO t"), Step::Pause(late), send("250 mx\r\n")];
        let server = ScriptedServer::start(script, None, false).await;
        let ep = Endpoint { host: "127.0.0.1".into(), port: server.port, tls: TlsMode::Starttls };
        let transcript = crate::exec::transcript::Transcript::new(Default::default());
        let timeouts = SmtpTimeouts::new(Duration::from_secs(5), Duration::from_secs(5));
        let tls = TestPki::new("t").tls_settings();
        let meter = WaitMeter::new();
        let clock = Instant::now();
        meter
            .scope(async {
                let (mut s, _) = SmtpSession::connect(&ep, &tls, timeouts, transcript).await.unwrap();
                s.ehlo("t").await.unwrap();
            })
            .await;
        let split = Split::of(clock.elapsed(), meter.total());
        server.finish().await;
        assert!(split.server_wait_ms >= 400, "{split:?}");
        // Generous: the machine running the tests may be busy; the point is the 400 ms went to the server.
        assert!(split.harness_ms < 150, "{split:?}");
    }

    #[tokio::test]
    async fn nested_waits_count_once_and_cancelled_waits_count() {
        let meter = WaitMeter::new();
        meter
            .scope(async {
                server(async {
                    server(tokio::time::sleep(Duration::from_millis(30))).await;
                    server(tokio::time::sleep(Duration::from_millis(30))).await;
                })
                .await;
                // A wait cut by a timeout outside it still waited.
                let _ = tokio::time::timeout(Duration::from_millis(30), server(std::future::pending::<()>())).await;
            })
            .await;
        let total = meter.total();
        assert!(total >= Duration::from_millis(90) && total < Duration::from_millis(150), "{total:?}");
    }

    #[tokio::test]
    async fn waits_outside_a_scope_are_not_counted_anywhere() {
        let meter = WaitMeter::new();
        server(tokio::time::sleep(Duration::from_millis(5))).await;
        assert_eq!(meter.total(), Duration::ZERO);
    }

    #[test]
    fn a_split_adds_up_to_its_span() {
        let s = Split::of(Duration::from_millis(1234), Duration::from_micros(1_000_900));
        assert_eq!((s.total_ms, s.server_wait_ms, s.harness_ms), (1234, 1000, 234));
        assert_eq!(Split::of(Duration::from_millis(5), Duration::from_millis(9)).harness_ms, 0);
    }
}

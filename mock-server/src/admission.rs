//! Faults `connection-limit` and `connection-rate`: the limits a real operator puts on one client
//! address (Exim's `smtp_accept_max`, Postfix's anvil). Beyond them a new SMTP or IMAP connection
//! is refused the way those servers do it: one plaintext line as soon as it is accepted (`421 …`
//! for SMTP, `* BYE …` for IMAP), even on an implicit TLS port, then the close.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::faults::{CONNECTION_LIMIT, CONNECTION_RATE, Fault, FaultSet};

/// The connections of one mock instance, counted across its SMTP and IMAP listeners.
#[derive(Debug, Clone, Default)]
pub struct Admission(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    /// When the admitted connections of the last second started.
    recent: VecDeque<Instant>,
}

/// An admitted connection: the place is freed when it drops (the session ended).
#[derive(Debug)]
pub struct Ticket(Option<Admission>);

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(a) = self.0.take() {
            let mut counts = a.0.lock().unwrap_or_else(|p| p.into_inner());
            counts.open = counts.open.saturating_sub(1);
        }
    }
}

impl Admission {
    /// A ticket for a new connection, or why the limits the faults set refuse it.
    pub fn admit(&self, faults: &FaultSet) -> Result<Ticket, String> {
        let (limit, rate) = (faults.is_on(Fault::ConnectionLimit), faults.is_on(Fault::ConnectionRate));
        if !limit && !rate {
            return Ok(Ticket(None));
        }
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        while counts.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            counts.recent.pop_front();
        }
        if limit && counts.open >= CONNECTION_LIMIT {
            return Err(format!("too many concurrent connections (limit {CONNECTION_LIMIT}, fault connection-limit)"));
        }
        if rate && counts.recent.len() >= CONNECTION_RATE {
            return Err(format!("too many connections per second (limit {CONNECTION_RATE}/s, fault connection-rate)"));
        }
        counts.open += 1;
        counts.recent.push_back(now);
        Ok(Ticket(Some(self.clone())))
    }
}

/// Sends `line` in plaintext, then closes the way a refusing server does: our side first, then
/// what the client sent is read and dropped for a moment (so the close is a FIN, not a reset that
/// could discard the refusal before the client reads it).
pub async fn refuse(mut tcp: TcpStream, line: String, log_wire: bool) {
    if log_wire {
        eprintln!("refused a connection: {line}");
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(format!("{line}\r\n").as_bytes())).await;
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_open_connections_until_they_end() {
        let a = Admission::default();
        let faults: FaultSet = [Fault::ConnectionLimit].into_iter().collect();
        let mut held: Vec<Ticket> = (0..CONNECTION_LIMIT).map(|_| a.admit(&faults).expect("under the limit")).collect();
        assert!(a.admit(&faults).unwrap_err().contains("limit 4"));
        held.pop();
        assert!(a.admit(&faults).is_ok(), "a place freed by a session that ended");
    }

    #[test]
    fn the_rate_counts_starts_within_a_second() {
        let a = Admission::default();
        let faults: FaultSet = [Fault::ConnectionRate].into_iter().collect();
        for _ in 0..CONNECTION_RATE {
            drop(a.admit(&faults).expect("under the rate"));
        }
        assert!(a.admit(&faults).unwrap_err().contains("per second"), "ended sessions still count for the second");
        assert!(Admission::default().admit(&FaultSet::none()).is_ok());
    }
}

//! The messages a run submits, shared by every scenario running in parallel: spaced by the
//! profile's `rate.messages_per_minute` (a DATA waits for its slot) and capped by
//! `rate.max_messages_per_run` (the DATA that would exceed the cap is not sent). An operator's
//! test platform is shared with other integrators; a retried or looping scenario must not flood it.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::ExecError;
use crate::target::model::Rate;

pub struct SubmissionGate {
    interval: Duration,
    cap: u32,
    per_minute: u32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    admitted: u32,
    /// The earliest instant the next DATA may start.
    next_slot: Option<Instant>,
}

/// A DATA allowed to go: its number in the run and how long it waited for its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub number: u32,
    pub cap: u32,
    pub waited: Duration,
}

impl Admitted {
    /// A transcript note: `message 3/200 of this run (waited 1500 ms for the 30/min rate)`.
    pub fn describe(&self, per_minute: u32) -> String {
        format!(
            "message {}/{} of this run (waited {} ms for the {per_minute}/min rate)",
            self.number,
            self.cap,
            self.waited.as_millis()
        )
    }
}

impl SubmissionGate {
    /// A rate of 0 is refused when the profile loads; here it is read as 1 per minute.
    pub fn new(rate: &Rate) -> Self {
        let per_minute = rate.messages_per_minute.max(1);
        SubmissionGate {
            interval: Duration::from_secs(60) / per_minute,
            cap: rate.max_messages_per_run,
            per_minute,
            state: Mutex::new(State::default()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Waits for the next slot, or refuses once the run's cap is reached. Slots are handed out
    /// in call order; one taken by a caller that then gives up (timeout) stays used.
    pub async fn admit(&self) -> Result<Admitted, ExecError> {
        let requested = Instant::now();
        let (number, slot) = {
            let mut st = self.state.lock().await;
            if st.admitted >= self.cap {
                return Err(ExecError::harness(format!(
                    "safety: message cap reached: the target profile allows {} message(s) per run \
                     (`rate.max_messages_per_run`) and all were sent; this DATA was not sent",
                    self.cap
                )));
            }
            st.admitted += 1;
            let slot = st.next_slot.map_or(requested, |s| s.max(requested));
            st.next_slot = Some(slot + self.interval);
            (st.admitted, slot)
        };
        tokio::time::sleep_until(slot).await;
        Ok(Admitted { number, cap: self.cap, waited: requested.elapsed() })
    }
}

/// Whether a raw SMTP command line starts a message (`DATA`, `BDAT …`): raw commands can
/// send a message as well as the `data` action can.
pub fn opens_a_message(line: &str) -> bool {
    let verb = line.split_whitespace().next().unwrap_or("");
    verb.eq_ignore_ascii_case("DATA") || verb.eq_ignore_ascii_case("BDAT")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time (no paused clock: tokio's test-util is not enabled), so only lower bounds are
    // asserted, with a rate fast enough to keep the tests short.
    fn gate(per_minute: u32, cap: u32) -> SubmissionGate {
        SubmissionGate::new(&Rate { messages_per_minute: per_minute, max_messages_per_run: cap, ..Rate::default() })
    }

    #[tokio::test]
    async fn parallel_callers_share_one_schedule() {
        let g = std::sync::Arc::new(gate(1200, 10)); // one slot every 50 ms
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let g = g.clone();
                tokio::spawn(async move { g.admit().await.unwrap() })
            })
            .collect();
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap());
        }
        got.sort_by_key(|a| a.number);
        assert_eq!(got.iter().map(|a| a.number).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(got[0].waited < Duration::from_millis(40), "the first message does not wait: {got:?}");
        assert!(got[2].waited >= Duration::from_millis(100), "the third waits two slots: {got:?}");
        assert!(t0.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn the_message_over_the_cap_is_refused() {
        let g = gate(60_000, 2);
        assert_eq!(g.admit().await.unwrap().number, 1);
        assert_eq!(g.admit().await.unwrap().number, 2);
        let err = g.admit().await.unwrap_err();
        assert!(err.message().contains("message cap reached") && err.message().contains("allows 2 message(s)"), "{err}");
        assert!(g.admit().await.is_err(), "the cap stays reached");
    }

    #[tokio::test]
    async fn an_idle_gate_does_not_make_the_next_message_wait() {
        let g = gate(1200, 10);
        g.admit().await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(g.admit().await.unwrap().waited < Duration::from_millis(20));
    }

    #[test]
    fn raw_data_and_bdat_open_a_message() {
        assert!(opens_a_message("DATA") && opens_a_message(" data ") && opens_a_message("BDAT 10 LAST"));
        assert!(!opens_a_message("RCPT TO:<a@b>") && !opens_a_message("DATAX") && !opens_a_message(""));
    }

    #[test]
    fn a_zero_rate_is_read_as_one_per_minute() {
        let g = gate(0, 1);
        assert_eq!((g.per_minute(), g.interval), (1, Duration::from_secs(60)));
        let a = Admitted { number: 3, cap: 200, waited: Duration::from_millis(1500) };
        assert_eq!(a.describe(30), "message 3/200 of this run (waited 1500 ms for the 30/min rate)");
    }
}

//! How much one run keeps of what servers send: transcripts, and fetched messages.
//!
//! A server can send a great deal within its timeouts (a 64 KiB SMTP line, 100 000 untagged IMAP
//! responses, a 256 MiB message per fetch): every bound of the readers still lets a hostile
//! server fill memory and the evidence folder over a run. So a transcript line keeps at most
//! [`MAX_LINE_KEPT`] bytes (scrubbed before it is cut), the transcripts of a run keep at most
//! [`MAX_RUN_KEPT`] bytes in all (past that, lines are not kept and each transcript says once
//! which limit it reached), and the messages a run fetches at most [`MAX_RUN_FETCHED`] bytes
//! (past that, a fetch step ends in error naming the limit).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most bytes of one transcript line kept.
pub const MAX_LINE_KEPT: usize = 64 * 1024;
/// The most bytes the transcripts of one run keep, all scenarios together.
pub const MAX_RUN_KEPT: u64 = 256 << 20;
/// The most bytes of fetched messages one run keeps (for its `.eml` evidence).
pub const MAX_RUN_FETCHED: u64 = 1 << 30;

/// The bytes a run may still keep of one kind; clones share it.
#[derive(Clone, Debug)]
pub struct ByteBudget {
    left: Arc<AtomicU64>,
    limit: u64,
}

impl Default for ByteBudget {
    /// The transcripts' budget.
    fn default() -> Self {
        ByteBudget::new(MAX_RUN_KEPT)
    }
}

impl ByteBudget {
    pub fn new(limit: u64) -> Self {
        ByteBudget { left: Arc::new(AtomicU64::new(limit)), limit }
    }

    /// Takes `n` bytes from the budget. When fewer are left the budget is spent: this line and
    /// every later one of the run are refused (so "later lines are not kept" holds).
    pub(crate) fn take(&self, n: usize) -> bool {
        let n = n as u64;
        let taken = self.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(n)).is_ok();
        if !taken {
            self.left.store(0, Ordering::Relaxed);
        }
        taken
    }

    /// The limit, for messages (`256 MiB`, or bytes below 1 MiB).
    pub(crate) fn limit_text(&self) -> String {
        if self.limit >= 1 << 20 { format!("{} MiB", self.limit >> 20) } else { format!("{} bytes", self.limit) }
    }

    /// The note a transcript gets the first time a line is not kept.
    pub(crate) fn full_note(&self) -> String {
        format!(
            "transcript limit reached: the transcripts of a run keep at most {}; later lines of this run are not kept",
            self.limit_text()
        )
    }

    /// Keeps a fetched message of `len` bytes, or says which limit refuses it.
    pub(crate) fn keep_fetched(&self, len: usize) -> Result<(), String> {
        if self.take(len) {
            return Ok(());
        }
        Err(format!(
            "message of {len} bytes not kept: the messages fetched by a run are kept up to {} in all, and this run reached it",
            self.limit_text()
        ))
    }
}

/// `text` cut to [`MAX_LINE_KEPT`] bytes (on a character boundary), saying how much was left out.
/// The caller scrubs first: a cut token start would no longer be recognised.
pub(crate) fn cut_line(text: String) -> String {
    if text.len() <= MAX_LINE_KEPT {
        return text;
    }
    let mut end = MAX_LINE_KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… [{} more bytes not kept: a transcript line keeps at most {MAX_LINE_KEPT} bytes]",
        &text[..end],
        text.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fetched messages have a per-run bound (issue #17 item 7): past it, the error names it,
    /// and later messages are refused too.
    #[test]
    fn fetched_messages_are_bounded_per_run() {
        let run = ByteBudget::new(100);
        let shared = run.clone();
        assert_eq!(run.keep_fetched(60), Ok(()));
        let e = shared.keep_fetched(60).unwrap_err();
        assert!(e.contains("up to 100 bytes in all"), "{e}");
        assert!(run.keep_fetched(1).is_err(), "the limit once reached stays reached");
        assert_eq!(ByteBudget::new(MAX_RUN_FETCHED).limit_text(), "1024 MiB");
    }
}

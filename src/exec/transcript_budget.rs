//! How much text the transcripts of one run may keep.
//!
//! A server can send a great deal within its timeouts (a 64 KiB SMTP line, 100 000 untagged IMAP
//! responses): every bound of the readers still lets a hostile server fill memory and the
//! evidence folder through the transcript. So a line keeps at most [`MAX_LINE_KEPT`] bytes
//! (scrubbed before it is cut), and the transcripts of a run keep at most [`MAX_RUN_KEPT`] bytes
//! in all; past that, lines are counted, not kept, and each transcript says once which limit it
//! reached.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most bytes of one transcript line kept.
pub const MAX_LINE_KEPT: usize = 64 * 1024;
/// The most bytes the transcripts of one run keep, all scenarios together.
pub const MAX_RUN_KEPT: u64 = 256 << 20;

/// The bytes a run's transcripts may still keep; clones share it.
#[derive(Clone, Debug)]
pub struct TranscriptBudget {
    left: Arc<AtomicU64>,
    limit: u64,
}

impl Default for TranscriptBudget {
    fn default() -> Self {
        TranscriptBudget::new(MAX_RUN_KEPT)
    }
}

impl TranscriptBudget {
    pub fn new(limit: u64) -> Self {
        TranscriptBudget { left: Arc::new(AtomicU64::new(limit)), limit }
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

    /// The note a transcript gets the first time a line is not kept.
    pub(crate) fn full_note(&self) -> String {
        let limit = if self.limit >= 1 << 20 { format!("{} MiB", self.limit >> 20) } else { format!("{} bytes", self.limit) };
        format!("transcript limit reached: the transcripts of a run keep at most {limit}; later lines of this run are not kept")
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

//! The IMAP read buffer, cut into messages as they complete.
//!
//! Taken messages are dropped by moving a start offset, and the buffer is compacted once per
//! read (when a message is incomplete), never once per message: a read holding a thousand short
//! untagged responses moves its bytes once, not a thousand times.

use super::scanner::{FrameError, Scan, Scanner, Span};
use super::received::{Piece, Received};

/// Literals this large are moved out of the read buffer, not copied.
pub(crate) const BIG_LITERAL: usize = 1 << 20;

/// Room kept free for the next read while a big literal arrives (the reader reads 16 KiB).
const READ_ROOM: usize = 16 * 1024;

/// Bytes read from the server and not yet taken as messages.
#[derive(Default)]
pub(crate) struct Framer {
    buf: Vec<u8>,
    /// Where the unread bytes start in `buf`.
    start: usize,
    /// Where the scan of the unread bytes stands (kept between reads).
    scanner: Scanner,
    /// Bytes moved by compaction so far (the linearity test reads it).
    pub(crate) moved: u64,
}

impl Framer {
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every unread byte (after a framing error, or before a TLS upgrade).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.scanner.reset();
    }

    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes the scanner examined so far.
    #[cfg(test)]
    pub(crate) fn examined(&self) -> u64 {
        self.scanner.examined
    }

    /// Takes one complete message off the unread bytes (`Ok(None)` if more bytes are needed).
    ///
    /// A large literal (a fetched message) is not copied: the buffer holding it becomes the
    /// literal, and the message's `raw` is left empty. While such a literal is incomplete, the
    /// buffer is grown as bytes arrive (at most doubling), never to an announced size at once.
    pub(crate) fn take(&mut self) -> Result<Option<Received>, FrameError> {
        let (spans, used) = match self.scanner.scan(&self.buf[self.start..])? {
            Scan::Complete(spans, used) => (spans, used),
            Scan::Incomplete(needed) => {
                self.compact();
                if let Some(needed) = needed.filter(|&n| n >= BIG_LITERAL) {
                    self.grow_towards(needed);
                }
                return Ok(None);
            }
        };
        let big = spans.iter().position(|s| matches!(s, Span::Literal(r) if r.len() >= BIG_LITERAL));
        let Some(big) = big else {
            let message = &self.buf[self.start..self.start + used];
            let pieces = spans.iter().map(|s| piece(message, s)).collect();
            let raw = message.to_vec();
            self.start += used;
            if self.start == self.buf.len() {
                self.buf.clear();
                self.start = 0;
            }
            return Ok(Some(Received { pieces, raw }));
        };
        self.compact();
        let rest = self.buf.split_off(used);
        let mut whole = std::mem::replace(&mut self.buf, rest);
        let mut pieces: Vec<Piece> = spans.iter().map(|s| piece(&whole, s)).collect();
        if let Span::Literal(r) = &spans[big] {
            whole.truncate(r.end);
            whole.drain(..r.start);
            pieces[big] = Piece::Literal(whole);
        }
        Ok(Some(Received { pieces, raw: Vec::new() }))
    }

    /// Before the buffer is full, grows it geometrically (at most doubling), never past the
    /// length that completes the literal and never to an announced size at once: a
    /// `{268435455}` header alone reserves nothing like 256 MiB, and a big literal ends in a
    /// buffer of its own size (no final doubling past it).
    fn grow_towards(&mut self, needed: usize) {
        let len = self.buf.len();
        if self.buf.capacity() - len >= READ_ROOM || self.buf.capacity() >= needed {
            return;
        }
        let target = needed.min(len.saturating_mul(2).max(BIG_LITERAL));
        self.buf.reserve_exact(target - len);
    }

    /// Drops the taken bytes at the front (the scan's positions are relative to `start`, so
    /// they hold).
    fn compact(&mut self) {
        if self.start > 0 {
            self.moved += (self.buf.len() - self.start) as u64;
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

fn piece(buf: &[u8], span: &Span) -> Piece {
    match span {
        Span::Line(r) => Piece::Line(buf[r.clone()].to_vec()),
        // The big literal is replaced by the caller; an empty stand-in costs nothing.
        Span::Literal(r) if r.len() >= BIG_LITERAL => Piece::Literal(Vec::new()),
        Span::Literal(r) => Piece::Literal(buf[r.clone()].to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 000 short untagged responses arriving in 16 KiB reads (issue #17 item 7): each byte
    /// is examined once and moved at most once, whatever the number of messages per read
    /// (dropping each taken message from the front would move about n × 8 KiB bytes).
    #[test]
    fn a_flood_of_short_messages_costs_linear_work() {
        let flood = b"* OK flood\r\n".repeat(100_000);
        let mut f = Framer::default();
        let mut taken = 0;
        for chunk in flood.chunks(16 * 1024) {
            f.extend(chunk);
            while f.take().unwrap().is_some() {
                taken += 1;
            }
        }
        assert_eq!(taken, 100_000);
        assert!(f.is_empty());
        assert!(f.examined() <= flood.len() as u64, "{} bytes examined", f.examined());
        assert!(f.moved <= flood.len() as u64, "{} bytes moved for {}", f.moved, flood.len());
    }
}

//! The SMTP reader's buffer: bytes read but not yet taken as lines.
//!
//! A line end is searched for only in bytes not searched before, and taken lines are dropped by
//! moving a start offset: a server trickling a long unterminated line (or many short ones) costs
//! time linear in the bytes it sends, not quadratic.

#[derive(Debug, Default)]
pub(crate) struct LineBuf {
    bytes: Vec<u8>,
    /// Where the unread bytes start.
    start: usize,
    /// Bytes from `start` known to hold no line feed.
    searched: usize,
    /// Bytes examined for a line end so far (the linearity test reads it).
    pub(crate) examined: u64,
}

impl LineBuf {
    pub(crate) fn extend(&mut self, chunk: &[u8]) {
        // Taken lines are dropped once they are most of the buffer (amortised, never per line).
        if self.start > 0 && self.start >= self.bytes.len() / 2 {
            self.bytes.drain(..self.start);
            self.start = 0;
        }
        self.bytes.extend_from_slice(chunk);
    }

    /// The next line with its line end (`\n`), if one has arrived whole.
    pub(crate) fn take_line(&mut self) -> Option<&[u8]> {
        let from = self.start + self.searched;
        let unsearched = &self.bytes[from..];
        let found = unsearched.iter().position(|&b| b == b'\n');
        self.examined += found.map_or(unsearched.len(), |i| i + 1) as u64;
        match found {
            Some(i) => {
                let line = self.start..from + i + 1;
                self.start = line.end;
                self.searched = 0;
                Some(&self.bytes[line])
            }
            None => {
                self.searched += unsearched.len();
                None
            }
        }
    }

    /// The unread bytes.
    pub(crate) fn unread(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len() - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.start = 0;
        self.searched = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_taken_in_order_and_partial_lines_wait() {
        let mut b = LineBuf::default();
        b.extend(b"250-a\r\n250 b\r\n25");
        assert_eq!(b.take_line(), Some(&b"250-a\r\n"[..]));
        assert_eq!(b.take_line(), Some(&b"250 b\r\n"[..]));
        assert_eq!(b.take_line(), None);
        b.extend(b"0 c\n");
        assert_eq!(b.take_line(), Some(&b"250 c\n"[..]));
        assert!(b.is_empty());
    }

    /// A long unterminated line trickled in small reads is searched once, not from its start
    /// on each read (issue #17 item 7): bytes examined stay within the bytes received.
    #[test]
    fn a_trickled_long_line_is_searched_once() {
        let mut b = LineBuf::default();
        let total = 64 * 1024;
        for _ in 0..total / 16 {
            b.extend(&[b'x'; 16]);
            assert_eq!(b.take_line(), None);
        }
        b.extend(b"\r\n");
        assert_eq!(b.take_line().map(<[u8]>::len), Some(total + 2));
        // A rescan from the start would examine about total² / 32 = 134 M bytes.
        assert!(b.examined <= total as u64 + 2, "{} bytes examined for {total}", b.examined);
    }

    /// Many lines in one read: each byte examined once, and taken lines cost no shifting per line.
    #[test]
    fn many_short_lines_cost_linear_work() {
        let mut b = LineBuf::default();
        let reply: Vec<u8> = b"250-x\r\n".repeat(10_000);
        b.extend(&reply);
        let mut n = 0;
        while b.take_line().is_some() {
            n += 1;
        }
        assert_eq!(n, 10_000);
        assert_eq!(b.examined, reply.len() as u64);
    }
}

//! Finds where server messages end in the read buffer: lines, and the literals they announce.
//!
//! The scanner keeps its place between reads: bytes already searched are not searched again,
//! and an incomplete literal is skipped by its length, so a message trickled in small reads
//! costs time linear in its bytes, never a rescan from byte 0 on each chunk. Each message is
//! bounded: a line at most [`MAX_LINE`] bytes, a literal at most [`MAX_LITERAL`], the whole
//! message at most [`MAX_MESSAGE`] bytes and [`MAX_PIECES`] lines and literals.

use std::ops::Range;

/// A server line longer than this without a line end is garbage, not IMAP.
pub(crate) const MAX_LINE: usize = 1 << 20;
/// Literals larger than this are refused (the API LPS caps messages far below).
pub(crate) const MAX_LITERAL: u64 = 256 << 20;
/// The most bytes one message (its lines and literals together) may take.
pub(crate) const MAX_MESSAGE: usize = (MAX_LITERAL as usize) + (16 << 20);
/// The most lines and literals one message may have (a FETCH has a handful).
pub(crate) const MAX_PIECES: usize = 10_000;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    LineTooLong,
    LiteralTooLarge(u64),
    MessageTooLarge,
    TooManyPieces,
    /// An untagged response whose first word is not an atom or a number (RFC 3501 §9).
    BadUntagged,
}

impl FrameError {
    /// The reason, naming the limit that was passed.
    pub(crate) fn reason(&self) -> String {
        match self {
            FrameError::LineTooLong => format!("line longer than {MAX_LINE} bytes"),
            FrameError::LiteralTooLarge(n) => format!("literal of {n} bytes announced (at most {MAX_LITERAL})"),
            FrameError::MessageTooLarge => format!("one response longer than {MAX_MESSAGE} bytes (lines and literals)"),
            FrameError::TooManyPieces => format!("more than {MAX_PIECES} lines and literals in one response"),
            FrameError::BadUntagged => "untagged response that does not start with an atom or a number".into(),
        }
    }
}

/// Where a message's pieces lie in the buffer.
pub(crate) enum Span {
    Line(Range<usize>),
    Literal(Range<usize>),
}

/// What [`Scanner::scan`] found at the start of the buffer.
pub(crate) enum Scan {
    /// A whole message: its pieces and the bytes it used.
    Complete(Vec<Span>, usize),
    /// More bytes are needed; when inside a literal, the buffer length it takes to finish it.
    Incomplete(Option<usize>),
}

/// The scan of the message at the start of the buffer, kept between reads. The buffer may only
/// grow at its end between two calls; after a `Complete` (whose bytes the caller removes) or an
/// error, the scanner starts afresh.
#[derive(Default)]
pub(crate) struct Scanner {
    /// The message cap (tests lower it; [`MAX_MESSAGE`] otherwise).
    max_message: Option<usize>,
    spans: Vec<Span>,
    /// Where the next line starts.
    pos: usize,
    /// Bytes from `pos` known to hold no line feed.
    searched: usize,
    /// The end of the literal being received, if any.
    literal_end: Option<usize>,
    /// Bytes examined for line ends so far (the linearity test reads it).
    pub(crate) examined: u64,
}

impl Scanner {
    pub(crate) fn scan(&mut self, buf: &[u8]) -> Result<Scan, FrameError> {
        let found = self.resume(buf);
        if !matches!(found, Ok(Scan::Incomplete(_))) {
            self.reset();
        }
        found
    }

    /// Forgets the message being scanned (the buffer was cleared).
    pub(crate) fn reset(&mut self) {
        let (examined, max_message) = (self.examined, self.max_message);
        *self = Scanner { examined, max_message, ..Scanner::default() };
    }

    fn resume(&mut self, buf: &[u8]) -> Result<Scan, FrameError> {
        loop {
            if let Some(end) = self.literal_end {
                if buf.len() < end {
                    return Ok(Scan::Incomplete(Some(end)));
                }
                self.literal_end = None;
                self.pos = end;
            }
            let from = self.pos + self.searched;
            let unsearched = &buf[from..];
            let found = unsearched.iter().position(|&b| b == b'\n');
            self.examined += found.map_or(unsearched.len(), |nl| nl + 1) as u64;
            let Some(nl) = found else {
                self.searched += unsearched.len();
                return if self.searched > MAX_LINE { Err(FrameError::LineTooLong) } else { Ok(Scan::Incomplete(None)) };
            };
            let end = from + nl;
            self.searched = 0;
            let line_end = if end > self.pos && buf[end - 1] == b'\r' { end - 1 } else { end };
            let line = &buf[self.pos..line_end];
            if self.spans.is_empty() && !untagged_head_ok(line) {
                return Err(FrameError::BadUntagged);
            }
            let announced = literal_announcement(line);
            self.spans.push(Span::Line(self.pos..line_end));
            self.pos = end + 1;
            let Some(len) = announced else {
                return Ok(Scan::Complete(std::mem::take(&mut self.spans), self.pos));
            };
            if len > MAX_LITERAL {
                return Err(FrameError::LiteralTooLarge(len));
            }
            let literal = self.pos..self.pos + len as usize;
            if literal.end > self.max_message.unwrap_or(MAX_MESSAGE) {
                return Err(FrameError::MessageTooLarge);
            }
            if self.spans.len() + 1 > MAX_PIECES {
                return Err(FrameError::TooManyPieces);
            }
            self.literal_end = Some(literal.end);
            self.spans.push(Span::Literal(literal));
        }
    }
}

/// `* WORD …`: WORD must be a number or an atom (no control character, space or specials).
/// Lenient parsing stops here: a response that is not even shaped like one is the server's fault.
fn untagged_head_ok(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"* ") else { return true };
    let word = rest.split(|&b| b == b' ').next().unwrap_or(&[]);
    !word.is_empty() && word.iter().all(|&b| b > 0x20 && b < 0x7f && !br#"(){%*"\]"#.contains(&b))
}

/// The length of the literal a line announces: `{N}`, `{N+}` or literal8 `~{N}` at its end.
pub(crate) fn literal_announcement(line: &[u8]) -> Option<u64> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in `chunk`-byte reads, scanning after each as the reader does; returns the
    /// messages' lengths and the bytes examined.
    fn trickle(input: &[u8], chunk: usize) -> (Vec<usize>, u64) {
        let mut s = Scanner::default();
        let mut buf = Vec::new();
        let mut used = Vec::new();
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Scan::Complete(_, n) = s.scan(&buf).unwrap() {
                buf.drain(..n);
                used.push(n);
            }
        }
        (used, s.examined)
    }

    /// The scanner is linear (issue #17 item 7): a message trickled in small reads, a long line
    /// and many literals, has each byte examined at most once, not rescanned from its start on
    /// each read (which would examine about n²/2·chunk bytes).
    #[test]
    fn trickled_input_is_examined_once() {
        let long_line = [b"* OK ".as_slice(), &[b'x'; 512 * 1024], b"\r\n"].concat();
        let (used, examined) = trickle(&long_line, 64);
        assert_eq!(used, [long_line.len()]);
        assert!(examined <= long_line.len() as u64, "{examined} bytes examined for {}", long_line.len());

        let mut many = b"* 1 FETCH (".to_vec();
        for _ in 0..3000 {
            many.extend_from_slice(b"X {3}\r\nabc ");
        }
        many.extend_from_slice(b")\r\n");
        let (used, examined) = trickle(&many, 64);
        assert_eq!(used, [many.len()]);
        assert!(examined <= many.len() as u64, "{examined} bytes examined for {}", many.len());
    }

    /// Literal bytes are skipped by their length, not searched.
    #[test]
    fn literal_bytes_are_not_examined() {
        let body = vec![b'\n'; 200_000];
        let input = [b"* 1 FETCH (BODY[] {200000}\r\n".as_slice(), &body, b")\r\n"].concat();
        let (used, examined) = trickle(&input, 1000);
        assert_eq!(used, [input.len()]);
        assert!(examined < 100, "{examined} bytes examined");
    }

    /// A message is bounded as a whole, not only line by line and literal by literal: endless
    /// empty literals, or literals adding up past the message cap, end with the limit named.
    #[test]
    fn a_message_has_bounded_pieces_and_bytes() {
        let mut s = Scanner::default();
        let endless = b"* 1 FETCH (X {0}\r\n".repeat(MAX_PIECES);
        let e = s.scan(&endless).err().unwrap();
        assert_eq!(e, FrameError::TooManyPieces);
        assert!(e.reason().contains("10000"), "{}", e.reason());

        // Literals each within their own cap, adding up past the message's (lowered here).
        let mut s = Scanner { max_message: Some(100_000), ..Scanner::default() };
        let mut big = b"* 1 FETCH (A {60000}\r\n".to_vec();
        big.resize(big.len() + 60_000, b'a');
        big.extend_from_slice(b" B {60000}\r\n");
        assert_eq!(s.scan(&big).err(), Some(FrameError::MessageTooLarge));
    }
}

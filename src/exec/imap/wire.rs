//! Bytes on the IMAP connection: server output framed into messages (lines and literals),
//! commands written out, both recorded in the transcript.
//!
//! Framing is separate from parsing so a literal's bytes are never read as protocol lines,
//! whatever they contain.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Duration, Instant};

use super::error::{ImapError, Stage};
use super::framer::Framer;
pub(crate) use super::received::{Piece, Received, literal_summary, render_literal};
pub(crate) use super::scanner::FrameError;
#[cfg(test)]
use super::{framer::BIG_LITERAL, scanner::{MAX_LINE, literal_announcement}};
use crate::exec::tls::Conn;
use crate::exec::transcript::Transcript;

/// When a read or write must be done by, and the budget it came from (for the error).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub at: Instant,
    pub budget: Duration,
}

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        Deadline {
            at: Instant::now() + budget,
            budget,
        }
    }
}

/// Cuts one complete message from the start of `buf`: `Ok(None)` if more bytes are needed,
/// else the message and the number of bytes it used.
#[cfg(test)]
pub(crate) fn frame(buf: &[u8]) -> Result<Option<(Received, usize)>, FrameError> {
    let mut owned = buf.to_vec();
    Ok(take_frame(&mut owned)?.map(|msg| (msg, buf.len() - owned.len())))
}

/// Takes one complete message off the start of `buf` (`Ok(None)` if more bytes are needed).
#[cfg(test)]
pub(crate) fn take_frame(buf: &mut Vec<u8>) -> Result<Option<Received>, FrameError> {
    let mut framer = Framer::default();
    framer.extend(buf);
    let msg = framer.take();
    *buf = framer.unread().to_vec();
    msg
}

/// How a write is recorded in the transcript.
pub(crate) enum Record<'a> {
    /// As the bytes themselves (split into lines).
    Wire,
    /// Carries a secret: only this description is recorded.
    Secret(&'a str),
    /// Too long or binary: this summary is recorded instead (a message body).
    Summary(&'a str),
}

/// The connection, its unread bytes and the transcript.
pub(crate) struct Wire {
    conn: Option<Conn>,
    buf: Framer,
    transcript: Transcript,
    closed: bool,
}

impl Wire {
    pub fn new(conn: Conn, transcript: Transcript) -> Self {
        Wire {
            conn: Some(conn),
            buf: Framer::default(),
            transcript,
            closed: false,
        }
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub fn is_closed(&self) -> bool {
        self.closed || self.conn.is_none()
    }

    pub fn is_tls(&self) -> bool {
        self.conn.as_ref().is_some_and(Conn::is_tls)
    }

    /// Reads the next complete server message.
    pub async fn read(&mut self, deadline: Deadline, waiting_for: impl Into<Stage>) -> Result<Received, ImapError> {
        let waiting_for = waiting_for.into();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            match self.buf.take() {
                Ok(Some(mut msg)) => {
                    msg.record(&self.transcript);
                    // Scrubbed as it enters: status and untagged text never carry a token
                    // downstream (verdict texts, errors, shortened quotes). Literals and `raw`
                    // stay exact (fetched messages are compared byte for byte).
                    let secrets = self.transcript.secrets();
                    for piece in &mut msg.pieces {
                        if let Piece::Line(l) = piece
                            && secrets.leaks(&String::from_utf8_lossy(l))
                        {
                            *l = secrets.scrub(&String::from_utf8_lossy(l)).into_bytes();
                        }
                    }
                    return Ok(msg);
                }
                Ok(None) => {}
                Err(e) => return Err(self.malformed(e)),
            }
            if self.is_closed() {
                return Err(ImapError::Closed {
                    waiting_for: waiting_for.clone(),
                });
            }
            let Some(conn) = self.conn.as_mut() else {
                return Err(ImapError::Closed {
                    waiting_for: waiting_for.clone(),
                });
            };
            match crate::exec::timing::server(tokio::time::timeout_at(deadline.at, conn.read(&mut chunk))).await {
                Err(_) => {
                    self.note_partial("incomplete data before the timeout");
                    return Err(ImapError::Timeout {
                        waiting_for: waiting_for.clone(),
                        after: deadline.budget,
                    });
                }
                Ok(Err(e)) => {
                    self.closed = true;
                    self.transcript.note(&format!("connection error: {e}"));
                    return Err(ImapError::Io(e));
                }
                Ok(Ok(0)) => {
                    self.closed = true;
                    self.note_partial("incomplete data before the close");
                    self.transcript.note("connection closed by the server");
                    return Err(ImapError::Closed {
                        waiting_for: waiting_for.clone(),
                    });
                }
                Ok(Ok(n)) => self.buf.extend(&chunk[..n]),
            }
        }
    }

    /// Writes `bytes` (already CRLF-terminated) and records them as `record` says.
    pub async fn write(&mut self, bytes: &[u8], record: Record<'_>, deadline: Deadline) -> Result<(), ImapError> {
        let Some(conn) = self.conn.as_mut().filter(|_| !self.closed) else {
            return Err(ImapError::Closed {
                waiting_for: "nothing: it was closed before the next command".into(),
            });
        };
        match record {
            Record::Wire => self.transcript.sent(&String::from_utf8_lossy(bytes)),
            Record::Secret(d) => self.transcript.sent_secret(d),
            Record::Summary(d) => self.transcript.sent(d),
        }
        let write = async {
            conn.write_all(bytes).await?;
            conn.flush().await
        };
        match tokio::time::timeout_at(deadline.at, write).await {
            Err(_) => Err(ImapError::Timeout {
                waiting_for: "the server to read the harness's bytes (write blocked)".into(),
                after: deadline.budget,
            }),
            Ok(Err(e)) => {
                self.closed = true;
                self.transcript.note(&format!("connection error while sending: {e}"));
                Err(ImapError::Io(e))
            }
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Takes the connection out (for a TLS upgrade). Bytes the server sent ahead are discarded
    /// and their count returned: after STARTTLS they must not be trusted (RFC 2595 §3.1).
    pub fn take_conn(&mut self) -> (Option<Conn>, usize) {
        let ahead = self.buf.len();
        self.buf.clear();
        (self.conn.take(), ahead)
    }

    pub fn put_conn(&mut self, conn: Conn) {
        self.conn = Some(conn);
        self.closed = false;
    }

    /// Marks the connection closed and drops it (after LOGOUT, or a failed upgrade).
    pub async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_millis(200), conn.shutdown()).await;
        }
        self.closed = true;
    }

    fn note_partial(&mut self, what: &str) {
        if !self.buf.is_empty() {
            let excerpt = self.scrubbed_excerpt();
            self.transcript
                .note(&format!("{what}: {} bytes: {excerpt}", self.buf.len()));
        }
    }

    /// The start of the buffer for a message: scrubbed whole first, then cut (cutting first
    /// would leave the start of a token the scrub no longer recognises).
    fn scrubbed_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(self.buf.unread());
        let secrets = self.transcript.secrets();
        if secrets.leaks(&text) { excerpt(secrets.scrub(&text).as_bytes()) } else { excerpt(self.buf.unread()) }
    }

    fn malformed(&mut self, e: FrameError) -> ImapError {
        let reason = e.reason();
        let excerpt = self.scrubbed_excerpt();
        // The stream cannot be resynchronised: stop reading it.
        self.buf.clear();
        self.closed = true;
        self.transcript
            .note(&format!("malformed server output ({reason}): {excerpt}"));
        ImapError::Malformed { reason, excerpt }
    }
}

/// The start of some bytes, escaped for a one-line message.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(200)];
    let mut s = head.escape_ascii().to_string();
    if bytes.len() > head.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(input: &[u8]) -> (Vec<Piece>, usize) {
        let (msg, used) = frame(input).unwrap().unwrap();
        assert_eq!(msg.raw, &input[..used]);
        (msg.pieces, used)
    }

    #[test]
    fn a_line_is_a_message() {
        let (pieces, used) = framed(b"* OK ready\r\na1 OK");
        assert_eq!(pieces, vec![Piece::Line(b"* OK ready".to_vec())]);
        assert_eq!(used, 12);
    }

    #[test]
    fn literals_are_taken_by_length_whatever_they_hold() {
        let input = b"* 1 FETCH (BODY[] {12}\r\na1 OK x\r\n\r\n UID 3)\r\n";
        let (pieces, used) = framed(input);
        assert_eq!(used, input.len());
        assert_eq!(pieces[1], Piece::Literal(b"a1 OK x\r\n\r\n ".to_vec()[..12].to_vec()));
        assert_eq!(pieces.len(), 3);
    }

    #[test]
    fn incomplete_input_waits() {
        assert_eq!(frame(b"* OK rea").unwrap(), None);
        assert_eq!(frame(b"* 1 FETCH (BODY[] {10}\r\nabc").unwrap(), None);
    }

    #[test]
    fn announcements() {
        assert_eq!(literal_announcement(b"x {5}"), Some(5));
        assert_eq!(literal_announcement(b"x {5+}"), Some(5));
        assert_eq!(literal_announcement(b"x ~{0}"), Some(0));
        assert_eq!(literal_announcement(b"x {}"), None);
        assert_eq!(literal_announcement(b"x {a}"), None);
        assert_eq!(literal_announcement(b"x {99999999999999999999}"), None);
    }

    #[test]
    fn oversized_input_is_an_error() {
        assert_eq!(
            frame(b"* x {999999999999}\r\n").unwrap_err(),
            FrameError::LiteralTooLarge(999999999999)
        );
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(frame(&long).unwrap_err(), FrameError::LineTooLong);
        assert_eq!(frame(b"* \x01GARBAGE {\r\n").unwrap_err(), FrameError::BadUntagged);
        assert_eq!(frame(b"* \r\n").unwrap_err(), FrameError::BadUntagged);
        assert!(frame(b"* 3 EXISTS\r\n").unwrap().is_some());
        assert!(frame(b"* OK [CAPABILITY IMAP4rev1] ready\r\n").unwrap().is_some());
    }

    #[test]
    fn literal_rendering() {
        assert_eq!(render_literal(b"Subject"), "Subject");
        let body = b"From: a\r\n\r\nhello\r\n";
        let shown = render_literal(body);
        assert!(
            shown.starts_with("<literal 18 bytes, sha256 ") && shown.len() > 64,
            "{shown}"
        );
        let msg = Received {
            pieces: vec![
                Piece::Line(b"* 1 FETCH (BODY[] {18}".to_vec()),
                Piece::Literal(body.to_vec()),
                Piece::Line(b")".to_vec()),
            ],
            raw: vec![],
        };
        assert!(msg.text().starts_with("* 1 FETCH (BODY[] {18}<literal 18 bytes"));
        assert!(msg.text().ends_with(">)"));
    }

    /// A hostile `{268435455}` header reserves memory as bytes arrive, not the announced size.
    #[test]
    fn a_literal_header_alone_reserves_little() {
        let mut f = Framer::default();
        f.extend(b"* 1 FETCH (BODY[] {268435455}\r\n0123456789");
        assert!(f.take().unwrap().is_none());
        assert!(f.capacity() <= 4 << 20, "{} bytes reserved", f.capacity());
        f.extend(&vec![b'x'; 3 << 20]);
        let before = f.len();
        assert!(f.take().unwrap().is_none());
        assert!(f.capacity() <= 2 * before + (1 << 20), "{} bytes reserved for {before}", f.capacity());
    }

    #[test]
    fn a_big_literal_is_moved_out_of_the_buffer() {
        let body: Vec<u8> = (0..BIG_LITERAL + 10).map(|i| b'a' + (i % 26) as u8).collect();
        let head = format!("* 1 FETCH (UID 7 BODY[] {{{}}}\r\n", body.len());
        let mut f = Framer::default();
        // A short message before it: taken by offset, compacted when the literal waits.
        f.extend(b"* 2 EXISTS\r\n");
        f.extend(head.as_bytes());
        f.extend(&body[..1000]);
        assert_eq!(f.take().unwrap().unwrap().raw, b"* 2 EXISTS\r\n");
        assert!(f.take().unwrap().is_none());
        // Read as the reader does (16 KiB at a time, a take after each): grown geometrically,
        // ending at the literal's own size, never doubled past it.
        for chunk in body[1000..].chunks(16 * 1024) {
            f.extend(chunk);
            assert!(f.capacity() < head.len() + body.len() + 4096, "{} bytes reserved", f.capacity());
            if f.len() < head.len() + body.len() {
                assert!(f.take().unwrap().is_none());
            }
        }
        f.extend(b")\r\na1 OK done\r\n");
        let msg = f.take().unwrap().unwrap();
        assert!(msg.raw.is_empty());
        assert_eq!(msg.pieces[0], Piece::Line(head.trim_end().as_bytes().to_vec()));
        assert_eq!(msg.pieces[1], Piece::Literal(body));
        assert_eq!(msg.pieces[2], Piece::Line(b")".to_vec()));
        assert_eq!(f.unread(), b"a1 OK done\r\n");
        assert_eq!(f.take().unwrap().unwrap().raw, b"a1 OK done\r\n");
        assert!(f.is_empty());
    }
}

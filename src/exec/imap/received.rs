//! One server message as framed: its lines and literals, and how a literal is shown to a reader.

use sha2::{Digest, Sha256};

use crate::exec::transcript::Transcript;

/// Literals shorter than this, printable and on one line, are shown as is in transcripts.
const INLINE_LITERAL: usize = 100;

/// One framed piece of a server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A line, without its line end.
    Line(Vec<u8>),
    /// The bytes of a literal announced by the previous line.
    Literal(Vec<u8>),
}

/// One complete server message: a line, plus literals and continuation lines if announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub pieces: Vec<Piece>,
    /// The exact bytes received, line ends included; empty when a literal was too large to
    /// copy (see [`Framer::take`](super::framer::Framer::take)): its bytes are in `pieces` only.
    pub raw: Vec<u8>,
}

impl Received {
    /// The first line as text (lossy UTF-8).
    pub fn head(&self) -> String {
        match self.pieces.first() {
            Some(Piece::Line(l)) => String::from_utf8_lossy(l).into_owned(),
            _ => String::new(),
        }
    }

    /// The whole message on one line, literals shown as [`render_literal`] does.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Line(l) => out.push_str(&String::from_utf8_lossy(l)),
                Piece::Literal(b) => out.push_str(&render_literal(b)),
            }
        }
        out
    }

    pub(super) fn record(&self, transcript: &Transcript) {
        for piece in &self.pieces {
            match piece {
                Piece::Line(l) => transcript.received(&String::from_utf8_lossy(l)),
                Piece::Literal(b) => transcript.received(&render_literal(b)),
            }
        }
    }
}

/// A literal for a reader: short one-line text as is, anything else by size and SHA-256.
pub(crate) fn render_literal(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if bytes.len() <= INLINE_LITERAL && !s.chars().any(char::is_control) => s.to_string(),
        _ => literal_summary(bytes),
    }
}

/// `<literal 342 bytes, sha256 …>`: enough to match the bytes against stored evidence.
pub(crate) fn literal_summary(bytes: &[u8]) -> String {
    format!(
        "<literal {} bytes, sha256 {}>",
        bytes.len(),
        hex::encode(Sha256::digest(bytes))
    )
}

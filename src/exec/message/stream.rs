//! A composed message kept as segments: the MIME skeleton as bytes, and each large attachment
//! as a source whose base64 is produced on the fly whenever the message is read (for DATA, for
//! its hash, for the `.eml` file). A 25 MB message thus never sits whole in memory.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::generated::Generated;

/// Raw bytes per base64 line (RFC 2045 §6.8: 76 characters).
const LINE_INPUT: usize = 57;
/// Raw bytes encoded per chunk: whole lines, about 16 KiB of output.
const RAW_CHUNK: usize = LINE_INPUT * 200;
/// Verbatim bytes handed out per chunk.
const BYTES_CHUNK: usize = 16 * 1024;

/// One piece of a composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Written as is (headers, small parts, boundaries).
    Bytes(Vec<u8>),
    /// The body of a base64 part, encoded from its source when read.
    Base64(Generated),
}

/// A message as segments; reading it yields the exact bytes sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composed {
    segments: Vec<Segment>,
}

impl Composed {
    pub fn new(segments: Vec<Segment>) -> Self {
        Composed { segments }
    }

    /// A message held whole as bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Composed {
            segments: vec![Segment::Bytes(bytes)],
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The leading verbatim bytes: the whole header section at least (parts come after it).
    pub fn head(&self) -> &[u8] {
        match self.segments.first() {
            Some(Segment::Bytes(b)) => b,
            _ => &[],
        }
    }

    /// The size in bytes, computed without encoding anything.
    pub fn len(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Bytes(b) => b.len() as u64,
                Segment::Base64(g) => base64_lines_len(g.size),
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader {
            segments: &self.segments,
            index: 0,
            offset: 0,
            raw: Vec::new(),
            part_hashes: None,
        }
    }

    /// The whole message in memory: only for small messages (tests, IMAP APPEND).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut all = Vec::with_capacity(self.len() as usize);
        let mut reader = self.reader();
        let mut chunk = Vec::new();
        while reader.next_chunk(&mut chunk) {
            all.extend_from_slice(&chunk);
        }
        all
    }

    /// Reads the message once: its SHA-256 and, for each streamed part in order, the SHA-256 of
    /// its decoded content (hashed while it is encoded, not decoded back).
    pub fn digest(&self) -> (String, Vec<String>) {
        let mut reader = self.reader();
        reader.part_hashes = Some(Vec::new());
        let mut whole = Sha256::new();
        let mut chunk = Vec::new();
        while reader.next_chunk(&mut chunk) {
            whole.update(&chunk);
        }
        let parts = reader
            .part_hashes
            .unwrap_or_default()
            .into_iter()
            .map(|h| hex::encode(h.finalize()))
            .collect();
        (hex::encode(whole.finalize()), parts)
    }
}

/// Encoded size of `raw` bytes as base64 lines of 76 characters, each ended by CRLF.
pub fn base64_lines_len(raw: u64) -> u64 {
    let full = raw / LINE_INPUT as u64;
    let rest = raw % LINE_INPUT as u64;
    full * 78 + if rest > 0 { rest.div_ceil(3) * 4 + 2 } else { 0 }
}

/// Reads a [`Composed`] in chunks of about 16 KiB.
pub struct Reader<'a> {
    segments: &'a [Segment],
    index: usize,
    /// Position in the current segment (raw bytes for a base64 segment).
    offset: u64,
    raw: Vec<u8>,
    /// When set, one hasher per base64 segment, fed with the raw bytes as they are encoded.
    part_hashes: Option<Vec<Sha256>>,
}

impl Reader<'_> {
    /// The message's leading verbatim bytes (its header section).
    pub fn head(&self) -> &[u8] {
        match self.segments.first() {
            Some(Segment::Bytes(b)) => b,
            _ => &[],
        }
    }

    /// Replaces `out` with the next chunk; false when the message is over (`out` is empty).
    pub fn next_chunk(&mut self, out: &mut Vec<u8>) -> bool {
        out.clear();
        while out.is_empty() {
            let Some(segment) = self.segments.get(self.index) else {
                return false;
            };
            let done = match segment {
                Segment::Bytes(b) => {
                    let start = self.offset as usize;
                    let end = (start + BYTES_CHUNK).min(b.len());
                    out.extend_from_slice(&b[start..end]);
                    self.offset = end as u64;
                    end == b.len()
                }
                Segment::Base64(g) => self.encode_next(g, out),
            };
            if done {
                self.index += 1;
                self.offset = 0;
            }
        }
        true
    }

    /// Encodes the next raw chunk of `g` into `out`; true when `g` is exhausted.
    fn encode_next(&mut self, g: &Generated, out: &mut Vec<u8>) -> bool {
        if self.offset == 0
            && let Some(h) = self.part_hashes.as_mut()
        {
            h.push(Sha256::new());
        }
        let n = (g.size - self.offset).min(RAW_CHUNK as u64) as usize;
        self.raw.resize(n, 0);
        g.fill(self.offset, &mut self.raw);
        if let Some(h) = self.part_hashes.as_mut().and_then(|h| h.last_mut()) {
            h.update(&self.raw);
        }
        encode_lines(&self.raw, out);
        self.offset += n as u64;
        self.offset == g.size
    }
}

/// Appends `raw` as base64 lines of 76 characters + CRLF (`raw` holds whole lines except at the
/// end of a part).
pub fn encode_lines(raw: &[u8], out: &mut Vec<u8>) {
    let mut line = [0u8; 76];
    for group in raw.chunks(LINE_INPUT) {
        let n = STANDARD.encode_slice(group, &mut line).unwrap_or(0);
        out.extend_from_slice(&line[..n]);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(size: u64) -> Generated {
        Generated { size, seed: 7 }
    }

    #[test]
    fn encoded_lines_match_a_whole_encoding() {
        for size in [
            0u64,
            1,
            56,
            57,
            58,
            114,
            RAW_CHUNK as u64 - 1,
            RAW_CHUNK as u64,
            RAW_CHUNK as u64 * 2 + 5,
        ] {
            let g = generated(size);
            let c = Composed::new(vec![
                Segment::Bytes(b"H: v\r\n\r\n".to_vec()),
                Segment::Base64(g.clone()),
            ]);
            let bytes = c.to_vec();
            assert_eq!(bytes.len() as u64, c.len(), "size {size}");
            let body = &bytes[8..];
            assert!(
                body.split(|&b| b == b'\n').all(|l| l.len() <= 77),
                "long line at size {size}"
            );
            let joined: Vec<u8> = body.iter().copied().filter(|b| !b"\r\n".contains(b)).collect();
            let mut raw = vec![0; size as usize];
            g.fill(0, &mut raw);
            assert_eq!(STANDARD.decode(&joined).unwrap(), raw, "size {size}");
        }
    }

    #[test]
    fn digest_hashes_the_message_and_each_streamed_part() {
        let g = generated(100_000);
        let c = Composed::new(vec![
            Segment::Bytes(b"A\r\n\r\n".to_vec()),
            Segment::Base64(g.clone()),
            Segment::Bytes(b"--b--\r\n".to_vec()),
        ]);
        let (whole, parts) = c.digest();
        assert_eq!(whole, hex::encode(Sha256::digest(c.to_vec())));
        let mut raw = vec![0; 100_000];
        g.fill(0, &mut raw);
        assert_eq!(parts, vec![hex::encode(Sha256::digest(&raw))]);
    }

    #[test]
    fn chunks_stay_small() {
        let c = Composed::new(vec![
            Segment::Bytes(vec![b'a'; 100_000]),
            Segment::Base64(generated(200_000)),
        ]);
        let mut r = c.reader();
        let mut chunk = Vec::new();
        let mut total = 0;
        while r.next_chunk(&mut chunk) {
            assert!(!chunk.is_empty() && chunk.len() <= 20 * 1024, "{}", chunk.len());
            total += chunk.len() as u64;
        }
        assert_eq!(total, c.len());
        assert!(!r.next_chunk(&mut chunk) && chunk.is_empty());
    }
}

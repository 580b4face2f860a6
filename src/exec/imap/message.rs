//! Message commands: UID SEARCH / FETCH / STORE / MOVE and APPEND.

use std::num::NonZeroU32;

use imap_codec::ResponseCodec;
use imap_codec::decode::Decoder;
use imap_types::fetch::MessageDataItem;
use imap_types::response::{Data, Response as CodecResponse};
use serde::{Deserialize, Serialize};

use super::error::ImapError;
use super::quote::astring;
use super::response::{Response, Status, untagged_search};
use super::session::{ImapSession, Next};
use super::wire::{Deadline, Piece, Record, literal_summary};

/// How a message was moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveMethod {
    /// `UID MOVE` (RFC 6851).
    Move,
    /// MOVE not advertised: `UID COPY`, `UID STORE +FLAGS.SILENT (\Deleted)`, then `UID EXPUNGE`
    /// (UIDPLUS) or `EXPUNGE`.
    CopyStoreExpunge,
}

/// The outcome of [`ImapSession::uid_move`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub method: MoveMethod,
    /// The first status that was not OK, else the last one.
    pub status: Status,
}

impl ImapSession {
    /// `UID SEARCH criteria` (criteria in IMAP syntax, e.g. `HEADER Message-ID "<x@y>"`).
    pub async fn uid_search(&mut self, criteria: &str) -> Result<(Vec<u32>, Status), ImapError> {
        let ex = self.run(&format!("UID SEARCH {criteria}")).await?;
        let uids = ex
            .untagged_heads()
            .filter_map(|h| untagged_search(&h))
            .flatten()
            .collect();
        Ok((uids, ex.status))
    }

    /// `UID FETCH uid items` as received (FLAGS, ENVELOPE, BODYSTRUCTURE…).
    pub async fn uid_fetch(&mut self, uid: u32, items: &str) -> Result<Response, ImapError> {
        Ok(self.run(&format!("UID FETCH {uid} {items}")).await?.into_response())
    }

    /// `UID FETCH uid (BODY.PEEK[])` → the message's exact bytes, `None` if the server sent no
    /// body for that UID (the status tells why). `\Seen` is not set.
    pub async fn uid_fetch_message(&mut self, uid: u32) -> Result<(Option<Vec<u8>>, Status), ImapError> {
        let ex = self.run(&format!("UID FETCH {uid} (UID BODY.PEEK[])")).await?;
        let mut body = None;
        for msg in ex.untagged {
            if msg.raw.is_empty() {
                // A large literal (see `take_frame`): moved out as framed, never copied.
                if let Some(bytes) = take_literal_after_body(msg.pieces, uid) {
                    body = Some(bytes);
                }
            } else if let Some(bytes) = fetched_body(&msg.raw, uid) {
                body = Some(bytes);
            } else if let Some(bytes) = literal_after_body(&msg.pieces, uid) {
                // imap-codec refuses some bytes servers do send (NUL in a literal…): the framing
                // already delimits the literal, so take it and say so.
                self.transcript()
                    .note("FETCH response not parsed by imap-codec: body taken from the BODY[] literal");
                body = Some(bytes);
            }
        }
        Ok((body, ex.status))
    }

    /// `UID STORE uid action`, e.g. action `+FLAGS (\Seen)`.
    pub async fn uid_store(&mut self, uid: u32, action: &str) -> Result<Status, ImapError> {
        Ok(self.run(&format!("UID STORE {uid} {action}")).await?.status)
    }

    /// `APPEND folder (flags) {n}` + the message as a synchronizing literal. Returns the status
    /// and the UID of an `[APPENDUID validity uid]` code. A refusal of the literal (tagged
    /// response instead of `+`) is returned as that status.
    pub async fn append(
        &mut self,
        folder: &str,
        flags: &[&str],
        message: &[u8],
    ) -> Result<(Status, Option<u32>), ImapError> {
        let folder = astring(folder)?;
        let (tag, deadline) = self
            .send(&format!("APPEND {folder} ({}) {{{}}}", flags.join(" "), message.len()))
            .await?;
        let status = loop {
            match self.next(&tag, deadline, "the APPEND continuation request").await? {
                Next::Continuation(_) => break None,
                Next::Tagged(status) => break Some(status),
                Next::Untagged(_) => {}
            }
        };
        if let Some(status) = status {
            return Ok((status, None));
        }
        self.send_literal(message, deadline).await?;
        let ex = self.finish(&tag, deadline, "the response to APPEND").await?;
        let uid = ex.status.code_number("APPENDUID", 1);
        Ok((ex.status, uid))
    }

    async fn send_literal(&mut self, message: &[u8], deadline: Deadline) -> Result<(), ImapError> {
        let mut bytes = Vec::with_capacity(message.len() + 2);
        bytes.extend_from_slice(message);
        bytes.extend_from_slice(b"\r\n");
        let summary = literal_summary(message);
        self.wire.write(&bytes, Record::Summary(&summary), deadline).await
    }

    /// Moves a message: `UID MOVE` when advertised, else COPY + STORE `\Deleted` + EXPUNGE
    /// (noted in the transcript as such).
    pub async fn uid_move(&mut self, uid: u32, folder: &str) -> Result<Moved, ImapError> {
        let folder = astring(folder)?;
        if self.has_capability("MOVE").await? {
            let status = self.run(&format!("UID MOVE {uid} {folder}")).await?.status;
            return Ok(Moved {
                method: MoveMethod::Move,
                status,
            });
        }
        self.transcript()
            .note("MOVE not advertised: moving with COPY + STORE \\Deleted + EXPUNGE");
        let method = MoveMethod::CopyStoreExpunge;
        let expunge = if self.has_capability("UIDPLUS").await? {
            format!("UID EXPUNGE {uid}")
        } else {
            "EXPUNGE".into()
        };
        let steps = [
            format!("UID COPY {uid} {folder}"),
            format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"),
            expunge,
        ];
        let mut status = None;
        for step in steps {
            let s = self.run(&step).await?.status;
            let failed = !s.is_ok();
            status = Some(s);
            if failed {
                break;
            }
        }
        let status = status.unwrap_or_else(|| Status::bye(""));
        Ok(Moved { method, status })
    }
}

/// The `BODY[]` bytes of a `* n FETCH` response about `uid` (a response without `UID` is
/// accepted: some servers omit it although RFC 3501 §6.4.8 requires it).
pub(crate) fn fetched_body(raw: &[u8], uid: u32) -> Option<Vec<u8>> {
    let Ok((_, CodecResponse::Data(Data::Fetch { items, .. }))) = ResponseCodec::default().decode(raw) else {
        return None;
    };
    let mut body = None;
    let mut uid_ok = true;
    for item in items.as_ref() {
        match item {
            MessageDataItem::Uid(u) => uid_ok = NonZeroU32::new(uid) == Some(*u),
            MessageDataItem::BodyExt {
                section: None,
                origin: None,
                data,
            } => {
                body = data.0.as_ref().map(|s| AsRef::<[u8]>::as_ref(s).to_vec());
            }
            _ => {}
        }
    }
    body.filter(|_| uid_ok)
}

/// Fallback for [`fetched_body`]: the literal announced by a line ending `BODY[] {n}` in a
/// FETCH response whose `UID`, if present, is `uid`.
pub(crate) fn literal_after_body(pieces: &[Piece], uid: u32) -> Option<Vec<u8>> {
    match &pieces[body_literal_index(pieces, uid)?] {
        Piece::Literal(bytes) => Some(bytes.clone()),
        Piece::Line(_) => None,
    }
}

/// [`literal_after_body`], taking the literal out rather than copying it.
fn take_literal_after_body(mut pieces: Vec<Piece>, uid: u32) -> Option<Vec<u8>> {
    let i = body_literal_index(&pieces, uid)?;
    match pieces.swap_remove(i) {
        Piece::Literal(bytes) => Some(bytes),
        Piece::Line(_) => None,
    }
}

/// Index in `pieces` of the `BODY[]` literal of a FETCH response about `uid`.
fn body_literal_index(pieces: &[Piece], uid: u32) -> Option<usize> {
    let mut lines = pieces.iter().filter_map(|p| match p {
        Piece::Line(l) => Some(String::from_utf8_lossy(l).to_ascii_uppercase()),
        Piece::Literal(_) => None,
    });
    let head = lines.next()?;
    let words: Vec<&str> = head.split_whitespace().collect();
    if words.get(2) != Some(&"FETCH") {
        return None;
    }
    let uid_word = words.iter().position(|w| w.trim_start_matches('(') == "UID");
    if let Some(i) = uid_word
        && words.get(i + 1).map(|w| w.trim_end_matches(')')) != Some(uid.to_string().as_str())
    {
        return None;
    }
    pieces.windows(2).position(|w| match w {
        [Piece::Line(l), Piece::Literal(_)] => {
            let line = String::from_utf8_lossy(l).to_ascii_uppercase();
            line.rsplit_once(' ').is_some_and(|(before, _)| before.ends_with("BODY[]"))
        }
        _ => false,
    }).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_taken_from_the_literal() {
        let raw = b"* 1 FETCH (UID 7 BODY[] {14}\r\nSubject: x\r\n\r\n)\r\n";
        assert_eq!(fetched_body(raw, 7).unwrap(), b"Subject: x\r\n\r\n");
        assert_eq!(fetched_body(raw, 8), None);
    }

    #[test]
    fn body_without_uid_or_quoted() {
        let raw = b"* 1 FETCH (BODY[] \"abc\")\r\n";
        assert_eq!(fetched_body(raw, 7).unwrap(), b"abc");
        assert_eq!(fetched_body(b"* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n", 7), None);
        assert_eq!(fetched_body(b"* 1 FETCH (UID 7 BODY[] NIL)\r\n", 7), None);
    }

    fn pieces(parts: &[&[u8]]) -> Vec<Piece> {
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i % 2 == 0 {
                    Piece::Line(p.to_vec())
                } else {
                    Piece::Literal(p.to_vec())
                }
            })
            .collect()
    }

    #[test]
    fn fallback_takes_the_body_literal() {
        let p = pieces(&[b"* 1 FETCH (UID 7 BODY[] {3}", b"a\0b", b")"]);
        assert_eq!(literal_after_body(&p, 7).unwrap(), b"a\0b");
        assert_eq!(literal_after_body(&p, 8), None);
        let p = pieces(&[b"* 1 FETCH (BODY[HEADER] {3}", b"a\0b", b")"]);
        assert_eq!(literal_after_body(&p, 7), None);
        let p = pieces(&[b"* 1 FETCH (BODY[] {3}", b"a\0b", b" UID 7)"]);
        assert_eq!(literal_after_body(&p, 7).unwrap(), b"a\0b");
        assert_eq!(take_literal_after_body(p, 7).unwrap(), b"a\0b");
        let p = pieces(&[b"* 1 FETCH (UID 7 BODY[] {3}", b"a\0b", b")"]);
        assert_eq!(take_literal_after_body(p.clone(), 8), None);
        assert_eq!(take_literal_after_body(p, 7).unwrap(), b"a\0b");
    }
}

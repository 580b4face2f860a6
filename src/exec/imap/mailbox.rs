//! Mailbox commands: SELECT, EXAMINE, CREATE, LIST.

use imap_codec::ResponseCodec;
use imap_codec::decode::Decoder;
use imap_types::mailbox::Mailbox;
use imap_types::response::{Data, Response as CodecResponse};
use serde::{Deserialize, Serialize};

use super::error::ImapError;
use super::quote::{astring, is_astring_char};
use super::response::{Status, untagged_exists};
use super::session::{Exchange, ImapSession};

/// What SELECT or EXAMINE reported about the mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selected {
    pub status: Status,
    /// `* n EXISTS` (0 when the server sent none).
    pub exists: u32,
    pub uid_validity: Option<u32>,
    pub uid_next: Option<u32>,
    /// The tagged OK carried `[READ-ONLY]`.
    pub read_only: bool,
    pub untagged: Vec<String>,
}

impl ImapSession {
    /// `SELECT folder`.
    pub async fn select(&mut self, folder: &str) -> Result<Selected, ImapError> {
        self.open_mailbox("SELECT", folder).await
    }

    /// `EXAMINE folder` (read-only).
    pub async fn examine(&mut self, folder: &str) -> Result<Selected, ImapError> {
        self.open_mailbox("EXAMINE", folder).await
    }

    async fn open_mailbox(&mut self, verb: &str, folder: &str) -> Result<Selected, ImapError> {
        self.exists = None;
        let ex = self.run(&format!("{verb} {}", astring(folder)?)).await?;
        Ok(selected(ex))
    }

    /// `CREATE folder`.
    pub async fn create(&mut self, folder: &str) -> Result<Status, ImapError> {
        Ok(self.run(&format!("CREATE {}", astring(folder)?)).await?.status)
    }

    /// `LIST reference pattern` → the mailbox names listed (as sent: modified UTF-7 is not
    /// decoded). A `LIST` line the codec cannot read is noted and skipped.
    pub async fn list(&mut self, reference: &str, pattern: &str) -> Result<(Vec<String>, Status), ImapError> {
        let ex = self
            .run(&format!("LIST {} {}", astring(reference)?, list_pattern(pattern)?))
            .await?;
        let mut names = Vec::new();
        for msg in &ex.untagged {
            let head = msg.head();
            let is_list = head.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("* LIST "));
            match listed_mailbox(&msg.raw) {
                Some(name) => names.push(name),
                None if is_list => self.transcript().note(&format!("LIST response not parsed: {head}")),
                None => {}
            }
        }
        Ok((names, ex.status))
    }
}

fn selected(ex: Exchange) -> Selected {
    let mut out = Selected {
        status: ex.status.clone(),
        exists: 0,
        uid_validity: None,
        uid_next: None,
        read_only: ex.status.code_name().as_deref() == Some("READ-ONLY"),
        untagged: Vec::new(),
    };
    for rest in ex.untagged_heads() {
        if let Some(n) = untagged_exists(&rest) {
            out.exists = n;
        } else if let Some(s) = Status::parse(&rest) {
            out.uid_validity = s.code_number("UIDVALIDITY", 0).or(out.uid_validity);
            out.uid_next = s.code_number("UIDNEXT", 0).or(out.uid_next);
        }
    }
    out.untagged = ex.into_response().untagged;
    out
}

/// LIST patterns may hold the wildcards `*` and `%` bare (list-mailbox); anything else is quoted.
fn list_pattern(pattern: &str) -> Result<String, ImapError> {
    let bare = !pattern.is_empty() && pattern.bytes().all(|b| b == b'*' || b == b'%' || is_astring_char(b));
    if bare {
        Ok(pattern.to_string())
    } else {
        astring(pattern)
    }
}

/// The mailbox name of a `* LIST` response.
pub(crate) fn listed_mailbox(raw: &[u8]) -> Option<String> {
    match ResponseCodec::default().decode(raw) {
        Ok((_, CodecResponse::Data(Data::List { mailbox, .. }))) => Some(match mailbox {
            Mailbox::Inbox => "INBOX".to_string(),
            Mailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_lines_are_decoded() {
        assert_eq!(
            listed_mailbox(b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n").as_deref(),
            Some("INBOX")
        );
        assert_eq!(
            listed_mailbox(b"* LIST () \"/\" \"Mes envois\"\r\n").as_deref(),
            Some("Mes envois")
        );
        assert_eq!(
            listed_mailbox(b"* LIST () \"/\" {4}\r\nSent\r\n").as_deref(),
            Some("Sent")
        );
        assert_eq!(listed_mailbox(b"* 3 EXISTS\r\n"), None);
    }

    #[test]
    fn list_patterns() {
        assert_eq!(list_pattern("*").unwrap(), "*");
        assert_eq!(list_pattern("INBOX/%").unwrap(), "INBOX/%");
        assert_eq!(list_pattern("").unwrap(), "\"\"");
        assert_eq!(list_pattern("a b*").unwrap(), "\"a b*\"");
    }
}

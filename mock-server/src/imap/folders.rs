//! Folder commands of the authenticated state: LIST/LSUB, CREATE, DELETE, STATUS, SELECT and
//! EXAMINE, APPEND.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use imap_types::core::{Atom, QuotedChar};
use imap_types::flag::{Flag, FlagNameAttribute};
use imap_types::mailbox::{ListMailbox, Mailbox};
use imap_types::response::{Code, Data};
use imap_types::status::{StatusDataItem, StatusDataItemName};

use crate::store::{FolderError, Store};

use super::flags;
use super::outcome::{Outcome, code};
use super::view::View;

pub const DELIMITER: char = '/';

/// The store's name of a folder: INBOX in any case is `INBOX`.
pub fn folder_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_string(),
        Mailbox::Other(other) => {
            let name = String::from_utf8_lossy(other.as_ref()).into_owned();
            if name.eq_ignore_ascii_case("INBOX") { "INBOX".to_string() } else { name }
        }
    }
}

fn wire_mailbox(name: &str) -> Option<Mailbox<'static>> {
    Mailbox::try_from(name.to_string()).ok()
}

fn folder_names(store: &Store, mailbox: &str) -> Vec<String> {
    store.with_mailbox(mailbox, |m| m.folders.keys().cloned().collect()).unwrap_or_default()
}

/// LIST (or LSUB: every folder counts as subscribed).
pub fn list(store: &Store, mailbox: &str, reference: &Mailbox<'_>, pattern: &ListMailbox<'_>, lsub: bool) -> Outcome {
    let pattern: &[u8] = match pattern {
        ListMailbox::Token(t) => t.as_ref(),
        ListMailbox::String(s) => s.as_ref(),
    };
    let mut outcome = Outcome::ok(if lsub { "LSUB completed" } else { "LIST completed" });
    let delimiter = QuotedChar::try_from(DELIMITER).ok();
    if pattern.is_empty() && !lsub {
        // `LIST "" ""` asks for the hierarchy delimiter only.
        if let Some(root) = wire_mailbox("") {
            outcome.data(Data::List { items: vec![FlagNameAttribute::Noselect], delimiter, mailbox: root });
        }
        return outcome;
    }
    let reference = match reference {
        Mailbox::Inbox => b"INBOX".to_vec(),
        Mailbox::Other(o) => o.as_ref().to_vec(),
    };
    let full_pattern = [reference.as_slice(), pattern].concat();
    for name in folder_names(store, mailbox) {
        let matched = if name == "INBOX" {
            wildcard_match(&full_pattern.to_ascii_uppercase(), b"INBOX")
        } else {
            wildcard_match(&full_pattern, name.as_bytes())
        };
        if let (true, Some(wire)) = (matched, wire_mailbox(&name)) {
            let items = special_use(&name).into_iter().collect();
            outcome.data(if lsub {
                Data::Lsub { items, delimiter, mailbox: wire }
            } else {
                Data::List { items, delimiter, mailbox: wire }
            });
        }
    }
    outcome
}

/// RFC 6154 attribute of the default folders (helps clients find Sent).
fn special_use(name: &str) -> Option<FlagNameAttribute<'static>> {
    let attribute = match name {
        "Sent" => "Sent",
        "Drafts" => "Drafts",
        "Trash" => "Trash",
        _ => return None,
    };
    Atom::try_from(attribute).ok().map(FlagNameAttribute::from)
}

/// `*` matches anything, `%` anything but the hierarchy delimiter. Dynamic programming, so a
/// pattern full of wildcards cannot make it slow.
pub fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    // reachable[j]: pattern prefix processed so far matches name[..j].
    let mut reachable = vec![false; name.len() + 1];
    reachable[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            b'*' | b'%' => {
                for j in 0..=name.len() {
                    next[j] = reachable[j] || (j > 0 && next[j - 1] && (p == b'*' || name[j - 1] != DELIMITER as u8));
                }
            }
            _ => {
                for j in 1..=name.len() {
                    next[j] = reachable[j - 1] && name[j - 1] == p;
                }
            }
        }
        reachable = next;
    }
    reachable[name.len()]
}

pub fn create(store: &Store, mailbox: &str, folder: &Mailbox<'_>) -> Outcome {
    let name = folder_name(folder);
    let name = name.trim_end_matches(DELIMITER);
    if name.is_empty() {
        return Outcome::no("Folder name is empty");
    }
    match store.create_folder(mailbox, name) {
        Ok(()) => Outcome::ok("CREATE completed"),
        Err(FolderError::Exists) => Outcome::no("Folder already exists").with_code(code("ALREADYEXISTS")),
        Err(e) => Outcome::no(format!("CREATE failed: {e}")),
    }
}

pub fn delete(store: &Store, mailbox: &str, folder: &Mailbox<'_>) -> Outcome {
    match store.delete_folder(mailbox, &folder_name(folder)) {
        Ok(()) => Outcome::ok("DELETE completed"),
        Err(FolderError::NoFolder) => Outcome::no("No such folder").with_code(code("NONEXISTENT")),
        Err(e) => Outcome::no(format!("DELETE refused: {e}")),
    }
}

pub fn status(store: &Store, mailbox: &str, folder: &Mailbox<'_>, names: &[StatusDataItemName]) -> Outcome {
    let name = folder_name(folder);
    let items = store
        .with_mailbox(mailbox, |m| {
            let f = m.folders.get(&name)?;
            let count = |pred: &dyn Fn(&BTreeSet<String>) -> bool| f.messages.iter().filter(|msg| pred(&msg.flags)).count() as u32;
            Some(
                names
                    .iter()
                    .filter_map(|n| match n {
                        StatusDataItemName::Messages => Some(StatusDataItem::Messages(f.messages.len() as u32)),
                        StatusDataItemName::Recent => Some(StatusDataItem::Recent(0)),
                        StatusDataItemName::UidNext => f.uid_next.try_into().ok().map(StatusDataItem::UidNext),
                        StatusDataItemName::UidValidity => f.uid_validity.try_into().ok().map(StatusDataItem::UidValidity),
                        StatusDataItemName::Unseen => Some(StatusDataItem::Unseen(count(&|fl| !fl.contains(flags::SEEN)))),
                        StatusDataItemName::Deleted => Some(StatusDataItem::Deleted(count(&|fl| fl.contains(flags::DELETED)))),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .flatten();
    match (items, wire_mailbox(&name)) {
        (Some(items), Some(wire)) => {
            let mut outcome = Outcome::ok("STATUS completed");
            outcome.data(Data::Status { mailbox: wire, items: items.into() });
            outcome
        }
        _ => Outcome::no("No such folder").with_code(code("NONEXISTENT")),
    }
}

/// SELECT (`read_only = false`) or EXAMINE. The view is `None` when the folder does not exist.
pub fn select(store: &Store, mailbox: &str, folder: &Mailbox<'_>, read_only: bool) -> (Outcome, Option<View>) {
    let name = folder_name(folder);
    let Some(view) = View::open(store, mailbox, &name, read_only) else {
        return (Outcome::no("No such folder").with_code(code("NONEXISTENT")), None);
    };
    let (first_unseen, uid_next) = store
        .with_mailbox(mailbox, |m| {
            m.folders.get(&name).map(|f| {
                let unseen = f.messages.iter().position(|msg| !msg.flags.contains(flags::SEEN)).map(|i| i as u32 + 1);
                (unseen, f.uid_next)
            })
        })
        .flatten()
        .unwrap_or((None, 1));
    let mut outcome = Outcome::ok(if read_only { "EXAMINE completed" } else { "SELECT completed" })
        .with_code(if read_only { Code::ReadOnly } else { Code::ReadWrite });
    outcome.data(Data::Flags(flags::system()));
    outcome.notice(Code::PermanentFlags(flags::permanent(read_only)), "Flags permitted");
    outcome.data(Data::Exists(view.exists()));
    outcome.data(Data::Recent(0));
    if let Some(Ok(code)) = first_unseen.map(Code::unseen) {
        outcome.notice(code, "First unseen");
    }
    if let Ok(code) = Code::uidvalidity(view.uid_validity) {
        outcome.notice(code, "UIDs valid");
    }
    if let Ok(code) = Code::uidnext(uid_next) {
        outcome.notice(code, "Predicted next UID");
    }
    (outcome, Some(view))
}

/// APPEND; the caller announces the new message (for IDLE sessions) on success.
pub struct Appended {
    pub folder: String,
    pub uid: u32,
}

pub fn append(
    store: &Store,
    mailbox: &str,
    folder: &Mailbox<'_>,
    flag_list: &[Flag<'_>],
    date: Option<DateTime<Utc>>,
    raw: Vec<u8>,
    max_size: usize,
) -> (Outcome, Option<Appended>) {
    if max_size > 0 && raw.len() > max_size {
        return (Outcome::no(format!("Message larger than {max_size} bytes")).with_code(Code::TooBig), None);
    }
    let name = folder_name(folder);
    let appended = store
        .with_mailbox(mailbox, |m| {
            let f = m.folders.get_mut(&name)?;
            let uid = f.append(Arc::new(raw), flags::stored_set(flag_list));
            if let (Some(date), Some(msg)) = (date, f.messages.last_mut()) {
                msg.internal_date = date;
            }
            Some((f.uid_validity, uid))
        })
        .flatten();
    match appended {
        Some((uid_validity, uid)) => {
            let mut outcome = Outcome::ok("APPEND completed");
            if let (Ok(uid_validity), Ok(uid_nz)) = (uid_validity.try_into(), uid.try_into()) {
                outcome = outcome.with_code(Code::AppendUid { uid_validity, uid: uid_nz });
            }
            (outcome, Some(Appended { folder: name, uid }))
        }
        None => (Outcome::no("No such folder").with_code(Code::TryCreate), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"*", b"INBOX"));
        assert!(wildcard_match(b"%", b"Sent") && !wildcard_match(b"%", b"Projets/2026"));
        assert!(wildcard_match(b"Projets/%", b"Projets/2026"));
        assert!(wildcard_match(b"S*t", b"Sent") && !wildcard_match(b"S*x", b"Sent"));
        assert!(!wildcard_match(b"", b"Sent"));
        let many = vec![b'*'; 200];
        assert!(wildcard_match(&many, b"Sent"));
    }

    #[test]
    fn select_and_status_of_a_fresh_inbox() {
        let store = Store::new(["a@x.test"]);
        store.deliver("a@x.test", "INBOX", b"Subject: x\r\n\r\n".to_vec(), BTreeSet::new());
        let (outcome, view) = select(&store, "a@x.test", &Mailbox::Inbox, false);
        assert_eq!(view.unwrap().uids, [1]);
        assert_eq!(outcome.code, Some(Code::ReadWrite));
        assert!(outcome.untagged.len() >= 6);
        let (outcome, view) = select(&store, "a@x.test", &Mailbox::try_from("Nope").unwrap(), true);
        assert!(view.is_none() && outcome.kind == imap_types::response::StatusKind::No);
        let st = status(&store, "a@x.test", &Mailbox::Inbox, &[StatusDataItemName::Messages, StatusDataItemName::Unseen]);
        assert_eq!(st.untagged.len(), 1);
    }

    #[test]
    fn append_gives_appenduid() {
        let store = Store::new(["a@x.test"]);
        let sent = Mailbox::try_from("Sent").unwrap();
        let (outcome, appended) = append(&store, "a@x.test", &sent, &[Flag::Seen], None, b"x".to_vec(), 0);
        assert!(matches!(outcome.code, Some(Code::AppendUid { .. })));
        assert_eq!(appended.unwrap().uid, 1);
        let (outcome, _) = append(&store, "a@x.test", &Mailbox::try_from("Nope").unwrap(), &[], None, vec![], 0);
        assert_eq!(outcome.code, Some(Code::TryCreate));
        let (outcome, _) = append(&store, "a@x.test", &sent, &[], None, vec![0; 10], 5);
        assert_eq!(outcome.code, Some(Code::TooBig));
    }
}

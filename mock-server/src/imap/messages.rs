//! Commands that change messages of the selected folder: STORE, COPY, MOVE, EXPUNGE (and the
//! silent expunge of CLOSE).

use std::collections::BTreeSet;

use imap_types::core::Vec1;
use imap_types::fetch::MessageDataItem;
use imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_types::mailbox::Mailbox;
use imap_types::response::{Code, Data};
use imap_types::sequence::SequenceSet;

use crate::store::{Store, StoredMessage};

use super::flags;
use super::folders::folder_name;
use super::outcome::Outcome;
use super::view::{View, uid_set};

/// What a STORE asks: `FLAGS`, `+FLAGS` or `-FLAGS`, `.SILENT` or not, which flags.
pub struct FlagChange {
    pub kind: StoreType,
    pub response: StoreResponse,
    pub flags: BTreeSet<String>,
}

impl FlagChange {
    pub fn new(kind: StoreType, response: StoreResponse, flag_list: &[Flag<'_>]) -> Self {
        FlagChange { kind, response, flags: flags::stored_set(flag_list) }
    }
}

pub fn store_flags(store: &Store, mailbox: &str, view: &View, set: &SequenceSet, by_uid: bool, change: &FlagChange) -> Outcome {
    if view.read_only {
        return Outcome::no("Folder is read-only (EXAMINE)").with_code(Code::ReadOnly);
    }
    let (kind, response, wanted) = (change.kind, change.response, &change.flags);
    let targets = view.targets(store, mailbox, set, by_uid);
    let mut outcome = Outcome::ok(if by_uid { "UID STORE completed" } else { "STORE completed" });
    for target in targets {
        let uid = target.message.uid;
        let updated = store
            .with_mailbox(mailbox, |m| {
                let msg = m.folders.get_mut(&view.folder)?.messages.iter_mut().find(|msg| msg.uid == uid)?;
                flags::apply(&mut msg.flags, kind, wanted);
                Some(msg.flags.clone())
            })
            .flatten();
        if let (Some(current), StoreResponse::Answer) = (updated, response) {
            let mut items = vec![MessageDataItem::Flags(flags::fetched(&current))];
            if by_uid {
                items.push(MessageDataItem::Uid(uid.try_into().unwrap_or(std::num::NonZeroU32::MIN)));
            }
            if let (Ok(items), Ok(seq)) = (Vec1::try_from(items), target.seq.try_into()) {
                outcome.data(Data::Fetch { seq, items });
            }
        }
    }
    outcome
}

/// What COPY or MOVE did, for announcing and for the selected view.
pub struct Copied {
    pub folder: String,
    pub new_uids: Vec<u32>,
    pub moved_uids: Vec<u32>,
}

/// COPY (`remove = false`) or MOVE. For MOVE the caller sends the EXPUNGEs of `moved_uids`;
/// the COPYUID code is then an untagged OK before them (RFC 6851 §4.3).
pub fn copy(
    store: &Store,
    mailbox: &str,
    view: &View,
    set: &SequenceSet,
    by_uid: bool,
    destination: &Mailbox<'_>,
    remove: bool,
) -> (Outcome, Option<Copied>) {
    if remove && view.read_only {
        return (Outcome::no("Folder is read-only (EXAMINE)").with_code(Code::ReadOnly), None);
    }
    let dest = folder_name(destination);
    let sources: Vec<StoredMessage> = view.targets(store, mailbox, set, by_uid).into_iter().map(|t| t.message).collect();
    let done = store
        .with_mailbox(mailbox, |m| {
            let uid_validity = m.folders.get(&dest)?.uid_validity;
            let mut new_uids = Vec::new();
            for msg in &sources {
                let folder = m.folders.get_mut(&dest)?;
                new_uids.push(folder.append(msg.raw.clone(), msg.flags.clone()));
                if let Some(copy) = folder.messages.last_mut() {
                    copy.internal_date = msg.internal_date;
                }
            }
            let moved: BTreeSet<u32> = if remove { sources.iter().map(|s| s.uid).collect() } else { BTreeSet::new() };
            if let Some(source) = m.folders.get_mut(&view.folder) {
                source.messages.retain(|msg| !moved.contains(&msg.uid));
            }
            Some((uid_validity, new_uids))
        })
        .flatten();
    let Some((uid_validity, new_uids)) = done else {
        return (Outcome::no("No such destination folder").with_code(Code::TryCreate), None);
    };
    let source_uids: Vec<u32> = sources.iter().map(|s| s.uid).collect();
    let copy_uid = match (uid_validity.try_into(), uid_set(&source_uids), uid_set(&new_uids)) {
        (Ok(uid_validity), Some(source), Some(destination)) => Some(Code::CopyUid { uid_validity, source, destination }),
        _ => None,
    };
    let verb = match (remove, by_uid) {
        (true, true) => "UID MOVE",
        (true, false) => "MOVE",
        (false, true) => "UID COPY",
        (false, false) => "COPY",
    };
    let mut outcome = Outcome::ok(format!("{verb} completed"));
    match (copy_uid, remove) {
        (Some(code), true) => outcome.notice(code, "Moved"),
        (Some(code), false) => outcome = outcome.with_code(code),
        (None, _) => {}
    }
    let moved_uids = if remove { source_uids } else { Vec::new() };
    (outcome, Some(Copied { folder: dest, new_uids, moved_uids }))
}

/// Removes the `\Deleted` messages of the selected folder (restricted to `only` for UID
/// EXPUNGE); returns their UIDs.
pub fn expunge(store: &Store, mailbox: &str, view: &View, only: Option<&SequenceSet>) -> Vec<u32> {
    let allowed: Option<BTreeSet<u32>> =
        only.map(|set| view.targets(store, mailbox, set, true).into_iter().map(|t| t.message.uid).collect());
    store
        .with_mailbox(mailbox, |m| {
            let Some(folder) = m.folders.get_mut(&view.folder) else { return Vec::new() };
            let doomed: Vec<u32> = folder
                .messages
                .iter()
                .filter(|msg| msg.flags.contains(flags::DELETED))
                .filter(|msg| allowed.as_ref().is_none_or(|a| a.contains(&msg.uid)))
                .map(|msg| msg.uid)
                .collect();
            folder.messages.retain(|msg| !doomed.contains(&msg.uid));
            doomed
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Store, View) {
        let store = Store::new(["a@x.test"]);
        for i in 1..=3 {
            store.deliver("a@x.test", "INBOX", format!("Subject: {i}\r\n\r\n").into_bytes(), BTreeSet::new());
        }
        let view = View::open(&store, "a@x.test", "INBOX", false).unwrap();
        (store, view)
    }

    #[test]
    fn store_then_expunge() {
        let (store, mut view) = setup();
        let set = SequenceSet::try_from("1,3").unwrap();
        let change = FlagChange::new(StoreType::Add, StoreResponse::Answer, &[Flag::Deleted]);
        let out = store_flags(&store, "a@x.test", &view, &set, false, &change);
        assert_eq!(out.untagged.len(), 2);
        let gone = expunge(&store, "a@x.test", &view, Some(&SequenceSet::try_from("3").unwrap()));
        assert_eq!(gone, [3]);
        assert_eq!(view.forget(&gone), [3]);
        assert_eq!(expunge(&store, "a@x.test", &view, None), [1]);
    }

    #[test]
    fn move_copies_then_removes() {
        let (store, view) = setup();
        let trash = Mailbox::try_from("Trash").unwrap();
        let (out, copied) = copy(&store, "a@x.test", &view, &SequenceSet::try_from("2:3").unwrap(), false, &trash, true);
        let copied = copied.unwrap();
        assert_eq!((copied.new_uids.clone(), copied.moved_uids.clone()), (vec![1, 2], vec![2, 3]));
        assert_eq!(out.untagged.len(), 1, "COPYUID before the EXPUNGEs");
        let left = store.with_mailbox("a@x.test", |m| m.folders["INBOX"].messages.len()).unwrap();
        assert_eq!(left, 1);
        let (out, copied) = copy(&store, "a@x.test", &view, &SequenceSet::try_from("1").unwrap(), false, &Mailbox::try_from("Nope").unwrap(), false);
        assert!(copied.is_none() && out.code == Some(Code::TryCreate));
    }
}

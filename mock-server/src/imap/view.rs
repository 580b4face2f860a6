//! A session's view of its selected folder: the UIDs it has announced, in sequence-number order.
//!
//! Sequence numbers are per session (RFC 3501 §2.3.1.2): messages other sessions add are shown
//! with `EXISTS` when this session is told; expunges by others only at NOOP/CHECK/IDLE.

use std::num::NonZeroU32;

use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use crate::store::{Store, StoredMessage};

pub struct View {
    pub folder: String,
    pub read_only: bool,
    pub uid_validity: u32,
    /// UIDs in sequence order: `uids[i]` has sequence number `i + 1`.
    pub uids: Vec<u32>,
}

/// A message of the view with its numbers and a snapshot of its stored state.
pub struct Target {
    pub seq: u32,
    pub message: StoredMessage,
}

impl View {
    /// Opens `folder` of `mailbox`; `None` when it does not exist.
    pub fn open(store: &Store, mailbox: &str, folder: &str, read_only: bool) -> Option<View> {
        store
            .with_mailbox(mailbox, |m| {
                m.folders.get(folder).map(|f| View {
                    folder: folder.to_string(),
                    read_only,
                    uid_validity: f.uid_validity,
                    uids: f.messages.iter().map(|msg| msg.uid).collect(),
                })
            })
            .flatten()
    }

    pub fn exists(&self) -> u32 {
        self.uids.len().try_into().unwrap_or(u32::MAX)
    }

    /// Messages of the view designated by `set` (sequence numbers, or UIDs when `by_uid`), with
    /// their current stored state; messages expunged meanwhile are skipped.
    pub fn targets(&self, store: &Store, mailbox: &str, set: &SequenceSet, by_uid: bool) -> Vec<Target> {
        let largest = if by_uid { self.uids.iter().copied().max().unwrap_or(0) } else { self.exists() };
        let wanted: Vec<(u32, u32)> = self
            .uids
            .iter()
            .enumerate()
            .map(|(i, &uid)| (i as u32 + 1, uid))
            .filter(|&(seq, uid)| contains(set, if by_uid { uid } else { seq }, largest))
            .collect();
        self.snapshot(store, mailbox, &wanted)
    }

    /// Every message of the view with its stored state.
    pub fn all(&self, store: &Store, mailbox: &str) -> Vec<Target> {
        let wanted: Vec<(u32, u32)> = self.uids.iter().enumerate().map(|(i, &uid)| (i as u32 + 1, uid)).collect();
        self.snapshot(store, mailbox, &wanted)
    }

    fn snapshot(&self, store: &Store, mailbox: &str, wanted: &[(u32, u32)]) -> Vec<Target> {
        store
            .with_mailbox(mailbox, |m| {
                let Some(folder) = m.folders.get(&self.folder) else { return Vec::new() };
                wanted
                    .iter()
                    .filter_map(|&(seq, uid)| {
                        let message = folder.messages.iter().find(|msg| msg.uid == uid)?;
                        Some(Target { seq, message: message.clone() })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Takes in messages added to the folder since the view last looked; returns the new
    /// `EXISTS` count when there are some.
    pub fn take_new(&mut self, store: &Store, mailbox: &str) -> Option<u32> {
        let known_max = self.uids.iter().copied().max().unwrap_or(0);
        let new: Vec<u32> = store
            .with_mailbox(mailbox, |m| {
                m.folders
                    .get(&self.folder)
                    .map(|f| f.messages.iter().map(|msg| msg.uid).filter(|&u| u > known_max).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        if new.is_empty() {
            return None;
        }
        self.uids.extend(new);
        Some(self.exists())
    }

    /// Drops messages no longer in the folder; returns the `EXPUNGE` numbers to send, in order.
    pub fn take_expunged(&mut self, store: &Store, mailbox: &str) -> Vec<u32> {
        let present: Vec<u32> = store
            .with_mailbox(mailbox, |m| {
                m.folders.get(&self.folder).map(|f| f.messages.iter().map(|msg| msg.uid).collect()).unwrap_or_default()
            })
            .unwrap_or_default();
        let gone: Vec<u32> = self.uids.iter().copied().filter(|u| !present.contains(u)).collect();
        self.forget(&gone)
    }

    /// Removes `uids` from the view; returns the `EXPUNGE` numbers to send, in order. Sending
    /// them from the highest down means no number shifts while the client applies them.
    pub fn forget(&mut self, uids: &[u32]) -> Vec<u32> {
        let mut seqs: Vec<u32> =
            self.uids.iter().enumerate().filter(|(_, u)| uids.contains(u)).map(|(i, _)| i as u32 + 1).collect();
        seqs.reverse();
        self.uids.retain(|u| !uids.contains(u));
        seqs
    }
}

/// Whether `n` is in `set`, `*` standing for `largest` (RFC 3501 §9 seq-range: `a:b` = `b:a`).
/// Checked per message rather than expanded, so `1:4294967295` costs nothing.
pub fn contains(set: &SequenceSet, n: u32, largest: u32) -> bool {
    let expand = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => largest,
    };
    set.0.as_ref().iter().any(|seq| match seq {
        Sequence::Single(s) => expand(s) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (expand(a), expand(b));
            a.min(b) <= n && n <= a.max(b)
        }
    })
}

/// A UID set for COPYUID/APPENDUID from a list of UIDs (in the given order).
pub fn uid_set(uids: &[u32]) -> Option<imap_types::extensions::uidplus::UidSet> {
    use imap_types::extensions::uidplus::{UidElement, UidSet};
    let elements: Vec<UidElement> = uids.iter().filter_map(|&u| NonZeroU32::new(u)).map(UidElement::Single).collect();
    imap_types::core::Vec1::try_from(elements).ok().map(UidSet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn set(s: &str) -> SequenceSet {
        SequenceSet::try_from(s).unwrap()
    }

    #[test]
    fn set_membership() {
        assert!(contains(&set("1:*"), 5, 5));
        assert!(contains(&set("*"), 5, 5) && !contains(&set("*"), 4, 5));
        assert!(contains(&set("10:3"), 4, 10));
        assert!(contains(&set("559:*"), 42, 42), "a range past the end includes the last UID");
        assert!(contains(&set("1,3:4,9"), 9, 10) && !contains(&set("1,3:4,9"), 2, 10));
        assert!(contains(&set("1:4294967295"), 7, 7));
    }

    #[test]
    fn view_follows_the_store() {
        let store = Store::new(["a@x.test"]);
        for i in 0..3 {
            store.deliver("a@x.test", "INBOX", format!("Subject: {i}\r\n\r\n").into_bytes(), BTreeSet::new());
        }
        let mut view = View::open(&store, "a@x.test", "INBOX", false).unwrap();
        assert_eq!(view.uids, [1, 2, 3]);
        let t = view.targets(&store, "a@x.test", &set("2:*"), false);
        assert_eq!(t.iter().map(|t| (t.seq, t.message.uid)).collect::<Vec<_>>(), [(2, 2), (3, 3)]);
        assert_eq!(view.targets(&store, "a@x.test", &set("3"), true).len(), 1);
        store.deliver("a@x.test", "INBOX", b"x".to_vec(), BTreeSet::new());
        assert_eq!(view.take_new(&store, "a@x.test"), Some(4));
        assert_eq!(view.take_new(&store, "a@x.test"), None);
        store.with_mailbox("a@x.test", |m| m.folders.get_mut("INBOX").unwrap().messages.retain(|m| m.uid % 2 == 0));
        assert_eq!(view.take_expunged(&store, "a@x.test"), [3, 1]);
        assert_eq!(view.uids, [2, 4]);
        assert!(View::open(&store, "a@x.test", "Nope", false).is_none());
    }
}

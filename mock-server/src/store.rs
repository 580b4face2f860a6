//! The mock operator's mailboxes: folders of messages, in memory, for the server's life.
//!
//! SMTP delivers into it, IMAP reads and changes it. Every delivery is announced on a broadcast
//! channel so IMAP IDLE sessions can push `EXISTS` at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

/// Folders every mailbox has from the start.
pub const DEFAULT_FOLDERS: [&str; 4] = ["INBOX", "Sent", "Drafts", "Trash"];

#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub uid: u32,
    pub flags: BTreeSet<String>,
    /// The message exactly as received (RFC 5322 bytes), shared, never copied per read.
    pub raw: Arc<Vec<u8>>,
    pub internal_date: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Folder {
    pub uid_validity: u32,
    pub uid_next: u32,
    pub messages: Vec<StoredMessage>,
}

impl Folder {
    fn new(uid_validity: u32) -> Self {
        Folder { uid_validity, uid_next: 1, messages: Vec::new() }
    }

    /// Appends a message and returns its UID.
    pub fn append(&mut self, raw: Arc<Vec<u8>>, flags: BTreeSet<String>) -> u32 {
        let uid = self.uid_next;
        self.uid_next += 1;
        self.messages.push(StoredMessage { uid, flags, raw, internal_date: Utc::now() });
        uid
    }
}

#[derive(Debug, Clone)]
pub struct Mailbox {
    pub address: String,
    pub folders: BTreeMap<String, Folder>,
}

/// A message has arrived in `address`'s `folder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub address: String,
    pub folder: String,
    pub uid: u32,
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<HashMap<String, Mailbox>>>,
    deliveries: broadcast::Sender<Delivery>,
}

impl Store {
    /// A store holding the given mailbox addresses, each with the default folders.
    pub fn new<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Self {
        let mut map = HashMap::new();
        for (i, addr) in addresses.into_iter().enumerate() {
            let folders = DEFAULT_FOLDERS
                .iter()
                .enumerate()
                .map(|(j, f)| (f.to_string(), Folder::new(1000 + (i * 10 + j) as u32)))
                .collect();
            map.insert(key(addr), Mailbox { address: addr.to_string(), folders });
        }
        let (deliveries, _) = broadcast::channel(1024);
        Store { inner: Arc::new(Mutex::new(map)), deliveries }
    }

    pub fn has_mailbox(&self, address: &str) -> bool {
        self.inner.lock().expect("store lock").contains_key(&key(address))
    }

    /// Delivers a message into a folder of a local mailbox and announces it. `None` when the
    /// mailbox or folder does not exist.
    pub fn deliver(&self, address: &str, folder: &str, raw: Vec<u8>, flags: BTreeSet<String>) -> Option<u32> {
        let uid = {
            let mut inner = self.inner.lock().expect("store lock");
            let mailbox = inner.get_mut(&key(address))?;
            mailbox.folders.get_mut(folder)?.append(Arc::new(raw), flags)
        };
        // No receiver is fine: nobody is idling.
        let _ = self.deliveries.send(Delivery { address: key(address), folder: folder.to_string(), uid });
        Some(uid)
    }

    /// Runs `f` on a mailbox under the store lock (keep it short: no IO inside).
    pub fn with_mailbox<R>(&self, address: &str, f: impl FnOnce(&mut Mailbox) -> R) -> Option<R> {
        let mut inner = self.inner.lock().expect("store lock");
        inner.get_mut(&key(address)).map(f)
    }

    /// Announces that a folder changed outside `deliver` (APPEND, COPY, MOVE by IMAP).
    pub fn announce(&self, address: &str, folder: &str, uid: u32) {
        let _ = self.deliveries.send(Delivery { address: key(address), folder: folder.to_string(), uid });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.deliveries.subscribe()
    }

    /// Creates an empty folder in a mailbox (IMAP CREATE). `Err` says why it could not be.
    pub fn create_folder(&self, address: &str, folder: &str) -> Result<(), FolderError> {
        let mut inner = self.inner.lock().expect("store lock");
        let mailbox = inner.get_mut(&key(address)).ok_or(FolderError::NoMailbox)?;
        if mailbox.folders.keys().any(|f| same_folder(f, folder)) {
            return Err(FolderError::Exists);
        }
        // A fresh UIDVALIDITY, above every one this mailbox used, so clients never mix folders.
        let uid_validity = mailbox.folders.values().map(|f| f.uid_validity).max().unwrap_or(1000) + 1;
        mailbox.folders.insert(folder.to_string(), Folder::new(uid_validity));
        Ok(())
    }

    /// Deletes a folder and its messages (IMAP DELETE). INBOX cannot be deleted.
    pub fn delete_folder(&self, address: &str, folder: &str) -> Result<(), FolderError> {
        if folder.eq_ignore_ascii_case("INBOX") {
            return Err(FolderError::Protected);
        }
        let mut inner = self.inner.lock().expect("store lock");
        let mailbox = inner.get_mut(&key(address)).ok_or(FolderError::NoMailbox)?;
        mailbox.folders.remove(folder).map(|_| ()).ok_or(FolderError::NoFolder)
    }
}

/// Why a folder could not be created or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FolderError {
    #[error("no such mailbox")]
    NoMailbox,
    #[error("no such folder")]
    NoFolder,
    #[error("folder already exists")]
    Exists,
    #[error("INBOX cannot be deleted")]
    Protected,
}

/// INBOX is case-insensitive (RFC 3501 §5.1); other folder names are compared exactly.
fn same_folder(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case("INBOX") || b.eq_ignore_ascii_case("INBOX") {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Addresses compare case-insensitively.
fn key(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivery_is_stored_and_announced() {
        let store = Store::new(["a@x.test"]);
        let mut rx = store.subscribe();
        let uid = store.deliver("A@x.test", "INBOX", b"Subject: t\r\n\r\nhi\r\n".to_vec(), BTreeSet::new());
        assert_eq!(uid, Some(1));
        assert_eq!(rx.recv().await.unwrap().uid, 1);
        assert_eq!(store.deliver("b@x.test", "INBOX", vec![], BTreeSet::new()), None);
        let n = store.with_mailbox("a@x.test", |m| m.folders["INBOX"].messages.len());
        assert_eq!(n, Some(1));
    }

    #[test]
    fn folders_are_created_once_and_inbox_stays() {
        let store = Store::new(["a@x.test"]);
        assert_eq!(store.create_folder("a@x.test", "Projets"), Ok(()));
        assert_eq!(store.create_folder("a@x.test", "Projets"), Err(FolderError::Exists));
        assert_eq!(store.create_folder("a@x.test", "inbox"), Err(FolderError::Exists));
        let v = store.with_mailbox("a@x.test", |m| m.folders["Projets"].uid_validity).unwrap();
        assert!(v > 1003);
        assert_eq!(store.delete_folder("a@x.test", "INBOX"), Err(FolderError::Protected));
        assert_eq!(store.delete_folder("a@x.test", "Projets"), Ok(()));
        assert_eq!(store.delete_folder("a@x.test", "Projets"), Err(FolderError::NoFolder));
        assert_eq!(store.create_folder("b@x.test", "X"), Err(FolderError::NoMailbox));
    }
}

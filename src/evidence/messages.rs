//! Messages sent and received, saved as `.eml` files: `messages/<scenario id>/<name>.eml`.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::evidence::error::EvidenceError;
use crate::evidence::guard::Guard;
use crate::evidence::names::safe_file_name;
use crate::exec::message::MessageData;
use crate::record::ScenarioRecord;

/// Folder of the `.eml` files in a report folder.
pub const MESSAGES_DIR: &str = "messages";

/// The bytes of a message a scenario sent or received, in the order of
/// [`ScenarioRecord::messages`], with the step during which it was seen.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageBytes {
    pub step: Option<usize>,
    /// Received bytes, or a sent message's segments (encoded again when written).
    pub bytes: MessageData,
}

impl std::fmt::Debug for MessageBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MessageBytes {{ step: {:?}, {} bytes }}", self.step, self.bytes.len())
    }
}

/// The relative path of a message of `scenario` named `name` (`/` separated, as in reports).
fn relative_path(scenario_id: &str, name: &str, taken: &[String]) -> String {
    let dir = safe_file_name(scenario_id);
    let stem = safe_file_name(name);
    let mut candidate = format!("{MESSAGES_DIR}/{dir}/{stem}.eml");
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{MESSAGES_DIR}/{dir}/{stem}-{n}.eml");
        n += 1;
    }
    candidate
}

/// Writes the messages of `scenario` under `dir` and records each file in
/// `MessageRecord::file`. `bytes[i]` belongs to `scenario.messages[i]`.
pub fn write_messages(
    dir: &Path,
    scenario: &mut ScenarioRecord,
    bytes: &[MessageBytes],
    guard: &Guard,
) -> Result<Vec<PathBuf>, EvidenceError> {
    let mut written = Vec::new();
    let mut taken = Vec::new();
    for (record, message) in scenario.messages.iter_mut().zip(bytes) {
        let rel = relative_path(&scenario.id, &record.name, &taken);
        written.push(write_data(guard, &dir.join(&rel), &message.bytes)?);
        record.file = Some(rel.clone());
        taken.push(rel);
    }
    Ok(written)
}

/// Secrets are looked for in each chunk together with this much of the previous one, so a secret
/// cut by a chunk border is still seen.
const OVERLAP: usize = 16 * 1024;

/// Writes `data` to `path` atomically, in chunks (a sent message is encoded again as it is
/// written, never held whole), refusing it when it holds a secret of the run.
pub fn write_data(guard: &Guard, path: &Path, data: &MessageData) -> Result<PathBuf, EvidenceError> {
    if let MessageData::Bytes(bytes) = data {
        return guard.write(path, bytes);
    }
    // A first pass checks for secrets, so a refused message never reaches the disk.
    let mut window = Vec::with_capacity(OVERLAP + 32 * 1024);
    data.for_each_chunk(|chunk| {
        window.extend_from_slice(chunk);
        guard.check(path, &String::from_utf8_lossy(&window))?;
        window.drain(..window.len().saturating_sub(OVERLAP));
        Ok::<_, EvidenceError>(())
    })?;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| EvidenceError::write(parent, e))?;
    }
    // The same temp-file naming as every other evidence file, so an interrupted write is cleaned.
    crate::util::atomic::write_atomic_deferred_with(path, |file| {
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        data.for_each_chunk(|chunk| out.write_all(chunk))?;
        out.flush()
    })
    .map_err(|e| EvidenceError::write(path, e))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MessageRecord;

    fn message(name: &str) -> MessageRecord {
        MessageRecord {
            name: name.into(),
            direction: "sent".into(),
            message_id: None,
            subject: None,
            size: 3,
            sha256: String::new(),
            file: None,
        }
    }

    #[test]
    fn writes_one_file_per_message_with_unique_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut s: ScenarioRecord = serde_json::from_value(crate::evidence::testdata::scenario_json("OPE/MSG.01.01")).unwrap();
        s.messages = vec![message("m1"), message("m/1"), message("m_1")];
        let bytes: Vec<MessageBytes> =
            [b"one", b"two", b"thr"].iter().map(|b| MessageBytes { step: Some(0), bytes: b.to_vec().into() }).collect();
        let files = write_messages(dir.path(), &mut s, &bytes, &Guard::default()).unwrap();
        assert_eq!(files.len(), 3);
        let rels: Vec<_> = s.messages.iter().map(|m| m.file.clone().unwrap()).collect();
        assert_eq!(rels, ["messages/OPE_MSG.01.01/m1.eml", "messages/OPE_MSG.01.01/m_1.eml", "messages/OPE_MSG.01.01/m_1-2.eml"]);
        assert_eq!(std::fs::read(dir.path().join(&rels[2])).unwrap(), b"thr");
    }

    #[test]
    fn a_composed_message_is_written_in_chunks_and_checked_for_secrets() {
        use crate::secret::{Secret, SecretSet};
        use crate::exec::message::{Composed, Generated, Segment};
        let dir = tempfile::tempdir().unwrap();
        let composed = Composed::new(vec![
            Segment::Bytes(b"Subject: x\r\n\r\n".to_vec()),
            Segment::Base64(Generated { size: 200_000, seed: 3 }),
            Segment::Bytes(b"end\r\n".to_vec()),
        ]);
        let data = MessageData::Composed(std::sync::Arc::new(composed.clone()));
        let path = dir.path().join("m/big.eml");
        write_data(&Guard::default(), &path, &data).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), composed.to_vec());
        // A secret cut across two chunks is still refused, and nothing is left behind.
        let secrets = SecretSet::new();
        secrets.register(&Secret::new("canary-secret-4242"));
        let mut head = vec![b'a'; 16 * 1024 - 8];
        head.extend_from_slice(b"canary-secret-4242 tail\r\n");
        let leaking = MessageData::Composed(std::sync::Arc::new(Composed::new(vec![Segment::Bytes(head)])));
        let bad = dir.path().join("m/bad.eml");
        assert!(matches!(write_data(&Guard::new(Some(secrets)), &bad, &leaking), Err(EvidenceError::Leak { .. })));
        assert_eq!(std::fs::read_dir(dir.path().join("m")).unwrap().count(), 1);
    }
}

//! Messages sent and received, saved as `.eml` files: `messages/<scenario id>/<name>.eml`.

use std::path::{Path, PathBuf};

use crate::evidence::error::EvidenceError;
use crate::evidence::guard::Guard;
use crate::evidence::names::safe_file_name;
use crate::record::ScenarioRecord;

/// Folder of the `.eml` files in a report folder.
pub const MESSAGES_DIR: &str = "messages";

/// The bytes of a message a scenario sent or received, in the order of
/// [`ScenarioRecord::messages`], with the step during which it was seen.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageBytes {
    pub step: Option<usize>,
    pub bytes: Vec<u8>,
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
        written.push(guard.write(&dir.join(&rel), &message.bytes)?);
        record.file = Some(rel.clone());
        taken.push(rel);
    }
    Ok(written)
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
            [b"one", b"two", b"thr"].iter().map(|b| MessageBytes { step: Some(0), bytes: b.to_vec() }).collect();
        let files = write_messages(dir.path(), &mut s, &bytes, &Guard::default()).unwrap();
        assert_eq!(files.len(), 3);
        let rels: Vec<_> = s.messages.iter().map(|m| m.file.clone().unwrap()).collect();
        assert_eq!(rels, ["messages/OPE_MSG.01.01/m1.eml", "messages/OPE_MSG.01.01/m_1.eml", "messages/OPE_MSG.01.01/m_1-2.eml"]);
        assert_eq!(std::fs::read(dir.path().join(&rels[2])).unwrap(), b"thr");
    }
}

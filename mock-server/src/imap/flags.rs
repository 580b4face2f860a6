//! Message flags between the store (strings such as `\Seen`, `$Label`) and the wire.

use std::collections::BTreeSet;

use imap_types::IntoStatic;
use imap_types::flag::{Flag, FlagFetch, FlagPerm, StoreType};

pub const SEEN: &str = "\\Seen";
pub const DELETED: &str = "\\Deleted";
pub const FLAGGED: &str = "\\Flagged";
pub const ANSWERED: &str = "\\Answered";
pub const DRAFT: &str = "\\Draft";

/// The system flags every folder supports.
pub fn system() -> Vec<Flag<'static>> {
    vec![Flag::Answered, Flag::Flagged, Flag::Deleted, Flag::Seen, Flag::Draft]
}

/// PERMANENTFLAGS: the system flags and new keywords (`\*`), none when read-only.
pub fn permanent(read_only: bool) -> Vec<FlagPerm<'static>> {
    if read_only {
        return Vec::new();
    }
    let mut perm: Vec<FlagPerm<'static>> = system().into_iter().map(FlagPerm::Flag).collect();
    perm.push(FlagPerm::Asterisk);
    perm
}

/// The stored form of a flag: its canonical IMAP spelling (`\seen` becomes `\Seen`).
pub fn stored(flag: &Flag<'_>) -> String {
    flag.to_string()
}

/// Flags as stored; `\Recent` is the server's to set (RFC 3501 §2.3.2), never a client's.
pub fn stored_set(flags: &[Flag<'_>]) -> BTreeSet<String> {
    flags.iter().map(stored).filter(|f| !f.eq_ignore_ascii_case("\\Recent")).collect()
}

/// Stored flags as FETCH shows them; strings that are no valid flag are left out.
pub fn fetched(flags: &BTreeSet<String>) -> Vec<FlagFetch<'static>> {
    flags
        .iter()
        .filter_map(|s| Flag::try_from(s.as_str()).ok().map(|f| FlagFetch::Flag(f.into_static())))
        .collect()
}

/// Applies a STORE to a message's flags.
pub fn apply(current: &mut BTreeSet<String>, kind: StoreType, flags: &BTreeSet<String>) {
    match kind {
        StoreType::Replace => *current = flags.clone(),
        StoreType::Add => current.extend(flags.iter().cloned()),
        StoreType::Remove => current.retain(|f| !flags.contains(f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_through_the_store() {
        let set = stored_set(&[Flag::try_from("\\seen").unwrap(), Flag::try_from("$Label1").unwrap()]);
        assert_eq!(set, BTreeSet::from(["\\Seen".to_string(), "$Label1".to_string()]));
        assert!(stored_set(&[Flag::try_from("\\Recent").unwrap()]).is_empty());
        assert_eq!(fetched(&set).len(), 2);
        assert!(fetched(&BTreeSet::from(["bad flag".to_string()])).is_empty());
        let mut current = BTreeSet::from([SEEN.to_string()]);
        apply(&mut current, StoreType::Add, &BTreeSet::from([FLAGGED.to_string()]));
        apply(&mut current, StoreType::Remove, &BTreeSet::from([SEEN.to_string()]));
        assert_eq!(current, BTreeSet::from([FLAGGED.to_string()]));
        assert!(permanent(true).is_empty() && permanent(false).len() == 6);
    }
}

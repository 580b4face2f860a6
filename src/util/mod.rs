//! Small helpers every stage may use, with no project type in them: crash-safe file writes, SHA-256 hex,
//! Paris time, a parallel map, printable text.

pub mod atomic;
pub mod digest;
pub mod par;
pub mod paris;
pub mod visible;

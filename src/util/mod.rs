//! Small helpers every stage may use, with no project type in them: crash-safe file writes,
//! Paris time, printable text.

pub mod atomic;
pub mod paris;
pub mod visible;

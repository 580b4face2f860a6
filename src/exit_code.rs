//! Process exit codes of `mssconf`, documented in the README.

/// Everything ran and passed (or was validly skipped).
pub const OK: i32 = 0;
/// At least one scenario failed or ended in error; or `validate` found a defect.
pub const FAILED: i32 = 1;
/// Usage or configuration error (bad flag, unreadable target profile, catalogue not loadable).
pub const CONFIG: i32 = 2;

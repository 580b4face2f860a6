//! `mssconf audit`: an agency auditor watches the run on the operator's screen. Scenarios run
//! one step at a time: the step is announced in plain French, the operator runs it, the
//! exchange and the verdict are shown, and the auditor's attestations, notes and skips go into
//! the report. Progress is saved after every step so a dropped session can resume.

pub mod console;
pub mod screen;
pub mod session;
pub mod state;


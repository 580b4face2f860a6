#![no_main]
//! Calls `mssconf::fuzzing::smtp_reply`, the same function the corpus regression test replays.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mssconf::fuzzing::smtp_reply(data));

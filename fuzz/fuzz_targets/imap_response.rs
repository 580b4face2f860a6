#![no_main]
//! Calls `mssconf::fuzzing::imap_response`, the same function the corpus regression test replays.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mssconf::fuzzing::imap_response(data));

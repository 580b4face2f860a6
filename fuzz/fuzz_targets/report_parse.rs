#![no_main]
//! Calls `mssconf::fuzzing::report_parse`, the same function the corpus regression test replays.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mssconf::fuzzing::report_parse(data));

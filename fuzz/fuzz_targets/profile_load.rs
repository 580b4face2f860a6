#![no_main]
//! Calls `mssconf::fuzzing::profile_load`, the same function the corpus regression test replays.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mssconf::fuzzing::profile_load(data));

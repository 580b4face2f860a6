#![no_main]
//! Calls `mssconf::fuzzing::scenario_load`, the same function the corpus regression test replays.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mssconf::fuzzing::scenario_load(data));

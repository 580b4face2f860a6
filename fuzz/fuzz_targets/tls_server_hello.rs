#![no_main]
//! Calls `mssconf::fuzzing::tls_server_hello`, the same function the corpus regression test replays.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mssconf::fuzzing::tls_server_hello(data));

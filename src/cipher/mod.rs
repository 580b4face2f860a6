//! TLS names the whole harness shares: cipher suite and version names (IANA), and the families
//! of TLS 1.2 suites outside any sensible allow-list. Tables only, no IO: scenarios are checked
//! against them at load, the probe offers them, reports name them.

pub mod families;
pub mod suites;

//! TLS names the whole harness shares: cipher suite and version names (IANA), and the families
//! of TLS 1.2 suites outside any sensible allow-list. Tables only, no IO: scenarios are checked
//! against them at load, the probe offers them, reports name them.

pub mod families;
pub mod groups;
pub mod suites;

/// The TLS 1.2 suites of the allow-list [SC.MSS/CONF.03], IANA names: a target profile's
/// default `tls.cipher_allow_list`. The mock operator keeps its own copy (it shares no code with
/// the harness's protocol layer); `tests/integration/architecture.rs` checks they agree.
pub const ALLOW_LIST: [&str; 6] = [
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
];

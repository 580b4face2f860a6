//! What every server of the mock operator (SMTP, IMAP, HTTP) shares.

use crate::accounts::Accounts;
use crate::behaviours::BehaviourSet;
use crate::faults::FaultSet;
use crate::store::Store;
use crate::tls::ServerTls;
use crate::tokens::TokenService;

#[derive(Clone)]
pub struct MockContext {
    pub store: Store,
    pub tokens: TokenService,
    pub faults: FaultSet,
    /// Conformant variations (where a refusal happens, …): never a deviation.
    pub behaviours: BehaviourSet,
    pub accounts: Accounts,
    pub tls: ServerTls,
    /// Host name in greetings and in the server certificate.
    pub host_name: String,
    /// Largest message accepted (announced with SMTP SIZE).
    pub max_message_size: usize,
    /// The test root's CRL (DER) published at `/crl/root.crl`; `None` in unit-test contexts.
    pub crl: Option<std::sync::Arc<Vec<u8>>>,
    /// Domains a recipient may belong to (the published whitelist the mock serves).
    pub whitelist: Vec<String>,
    /// Log each session's lines (redacted) on stderr.
    pub log_wire: bool,
    /// Spent by the first EHLO when fault `flaky-once` is on (one per mock instance).
    pub flaky_once: crate::faults::OneShot,
    /// The SMTP/IMAP connections counted by faults `connection-limit` and `connection-rate`.
    pub connections: crate::admission::Admission,
}

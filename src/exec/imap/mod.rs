//! The harness's IMAP client (RFC 3501 / 9051 subset used by the API LPS).
//!
//! The layer observes and never judges: a `NO` or `BAD` comes back as an `Ok` [`Status`], and
//! [`ImapError`] only means the harness could not observe (connect, TLS handshake, timeout, closed
//! connection, unparseable response, I/O). Every read is bounded by a caller-given timeout.
//!
//! Everything that crosses the wire goes to the [`Transcript`](crate::exec::transcript::Transcript),
//! except secrets: SASL and LOGIN lines are recorded by description only, message bodies and other
//! long literals by length and SHA-256.
//!
//! A typical run: [`ImapSession::connect`] (implicit TLS when the endpoint says so) →
//! [`ImapSession::starttls`] (plain endpoints) → [`ImapSession::authenticate`] →
//! [`ImapSession::wait_for`] a delivered message → [`ImapSession::uid_fetch_message`] →
//! [`ImapSession::logout`]. Negative tests use [`ImapSession::command`] (any line, fresh tag) and
//! [`ImapSession::is_closed_by_peer`].
//!
//! Framing (lines and literals) is hand-written in `wire`; status lines, capabilities, `EXISTS`
//! and `SEARCH` are parsed leniently by hand (`response`); `FETCH` and `LIST` data, which carry
//! strings and literals, go through imap-codec's response codec.

mod auth;
mod error;
pub(crate) mod framer;
pub(crate) mod mailbox;
pub(crate) mod message;
mod quote;
pub(crate) mod received;
pub(crate) mod scanner;
pub(crate) mod response;
mod session;
mod wait;
pub(crate) mod wire;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

pub use auth::AuthExchange;
pub use error::{Fault, ImapError, Stage};
pub use mailbox::Selected;
pub use message::{MoveMethod, Moved};
pub use response::{Greeting, Response, Status, StatusKind};
pub use session::{ImapSession, ImapTimeouts};
pub use wait::{WaitMethod, WaitOutcome};

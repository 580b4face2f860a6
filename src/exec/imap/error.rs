//! Why the harness could not observe an IMAP exchange, and whose fault that is.

use std::fmt;
use std::time::Duration;

use crate::exec::net::NetError;
use crate::exec::tls::{TlsError, TlsFacts, peer_alert};

/// Who caused an [`ImapError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The IMAP server (target): silent, closed the connection, spoke garbage, failed TLS.
    Server,
    /// The network between the harness and the target (connect timeout, reset, I/O).
    Network,
    /// The harness itself (misuse of the session, bad local TLS configuration).
    Harness,
}

/// What the harness was waiting for when the server went silent or closed. Only the greeting is
/// decided on (a close before it is "try later"); anything else is a name for the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// The server's greeting, before any command.
    Greeting,
    /// Anything later, as records name it ("the response to LOGIN", "the TLS handshake"…). A
    /// text is never the greeting, whatever it says: the greeting is only [`Stage::Greeting`].
    Named(String),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Greeting => f.write_str("the greeting"),
            Stage::Named(name) => f.write_str(name),
        }
    }
}

impl From<&str> for Stage {
    fn from(name: &str) -> Self {
        Stage::Named(name.to_string())
    }
}

/// The harness could not observe the exchange. A `NO`/`BAD` reply is never an `ImapError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImapError {
    #[error("could not connect to the IMAP server: {0}")]
    Connect(#[from] NetError),
    #[error("TLS handshake with the IMAP server failed: {error}")]
    Tls { error: TlsError, facts: Box<TlsFacts> },
    #[error("the IMAP server sent nothing expected within {after:?} (the harness was waiting for {waiting_for})")]
    Timeout { waiting_for: Stage, after: Duration },
    #[error("the IMAP server closed the connection (the harness was waiting for {waiting_for})")]
    Closed { waiting_for: Stage },
    #[error("the IMAP server sent a malformed response ({reason}): {excerpt}")]
    Malformed { reason: String, excerpt: String },
    #[error("I/O error on the IMAP connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("harness error: {0}")]
    Harness(String),
    /// "Try later" as the session opens: a `* BYE` greeting, or such a line (or an SMTP-style
    /// `4xx`) in plaintext on an implicit TLS port. No observation of conformance.
    #[error("service temporarily unavailable ({0}) as the IMAP session opened")]
    Unavailable(String),
}

impl ImapError {
    pub fn fault(&self) -> Fault {
        match self {
            ImapError::Connect(NetError::Timeout { .. }) | ImapError::Io(_) => Fault::Network,
            ImapError::Connect(NetError::Connect { .. }) => Fault::Server,
            ImapError::Tls {
                error: TlsError::Config(_),
                ..
            }
            | ImapError::Harness(_) => Fault::Harness,
            ImapError::Tls { .. }
            | ImapError::Timeout { .. }
            | ImapError::Closed { .. }
            | ImapError::Malformed { .. }
            | ImapError::Unavailable(_) => Fault::Server,
        }
    }

    /// Why this error means "try later" at the opening of a session (a `* BYE` greeting, the
    /// same in plaintext on a TLS port, the connection closed before any greeting), if it does.
    pub fn busy(&self) -> Option<String> {
        match self {
            ImapError::Unavailable(why) => Some(why.clone()),
            ImapError::Closed { waiting_for: Stage::Greeting } => {
                Some("connection closed before the greeting".into())
            }
            _ => None,
        }
    }

    /// The fatal TLS alert the server ended the exchange with, if any (during the handshake, or
    /// on the first read after a TLS 1.3 one).
    pub fn server_alert(&self) -> Option<String> {
        match self {
            ImapError::Tls { error: TlsError::Alert(alert), .. } => Some(alert.clone()),
            ImapError::Io(source) => peer_alert(source),
            _ => None,
        }
    }

    /// The TLS facts of a failed handshake (the chain seen, the verification result).
    pub fn tls_facts(&self) -> Option<&TlsFacts> {
        match self {
            ImapError::Tls { facts, .. } => Some(facts),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_attributed() {
        let t = ImapError::Timeout {
            waiting_for: Stage::Greeting,
            after: Duration::from_secs(1),
        };
        assert_eq!(t.fault(), Fault::Server);
        assert!(t.to_string().contains("greeting"));
        assert_eq!(ImapError::Harness("x".into()).fault(), Fault::Harness);
        let tls = ImapError::Tls {
            error: TlsError::Config("bad PEM".into()),
            facts: Box::default(),
        };
        assert_eq!(tls.fault(), Fault::Harness);
        assert!(tls.tls_facts().is_some());
    }

    /// "Try later" is decided on the typed stage, never on its text: a close before the greeting
    /// is busy, a close at a stage merely named "the greeting" is not (same text, other stage).
    #[test]
    fn a_close_is_busy_only_at_the_typed_greeting() {
        let greeting = ImapError::Closed { waiting_for: Stage::Greeting };
        assert_eq!(greeting.to_string(), "the IMAP server closed the connection (the harness was waiting for the greeting)");
        assert_eq!(greeting.busy().as_deref(), Some("connection closed before the greeting"));
        let named = ImapError::Closed { waiting_for: "the greeting".into() };
        assert_eq!(named.to_string(), greeting.to_string());
        assert_eq!(named.busy(), None);
        let silent = ImapError::Timeout { waiting_for: Stage::Greeting, after: Duration::from_secs(1) };
        assert_eq!(silent.busy(), None);
    }
}

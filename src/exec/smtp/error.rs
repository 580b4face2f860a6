//! Why an SMTP exchange could not be observed.
//!
//! A negative reply (4xx/5xx) is never an error: it is an observation returned as `Ok(Reply)`.
//! `SmtpError` only means the harness saw no complete reply, and each variant names who is at
//! fault so the verdict layer can turn it into `Verdict::Error` with the right wording.

use std::fmt;
use std::time::Duration;

use crate::exec::net::NetError;
use crate::exec::tls::{TlsError, TlsFacts, peer_alert};

/// Who made an observation impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The target (or the network to it): unreachable, silent, closed, or sent non-SMTP bytes.
    Target,
    /// The harness itself: bad configuration or a call in a state where it cannot be made.
    Harness,
}

/// What the harness was waiting for (or doing) when an exchange failed. Only the greeting is
/// decided on (a close before it is "try later"); any other stage is a name for the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// The server's first reply, before any command.
    Greeting,
    /// Any later stage, as records name it ("reply to EHLO", "STARTTLS handshake"…). A text is
    /// never the greeting, whatever it says: the greeting is only ever [`Stage::Greeting`].
    Named(String),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Greeting => f.write_str("greeting"),
            Stage::Named(name) => f.write_str(name),
        }
    }
}

impl From<&str> for Stage {
    fn from(name: &str) -> Self {
        Stage::Named(name.to_string())
    }
}

impl From<String> for Stage {
    fn from(name: String) -> Self {
        Stage::Named(name)
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpError {
    #[error("could not connect to the target: {0}")]
    Connect(#[from] NetError),
    #[error("no complete reply from the server within {after:?} (waiting for the {during})")]
    Timeout { during: Stage, after: Duration },
    /// `reset` is the I/O error that ended the connection (a reset, a broken pipe), if not a
    /// plain end of stream.
    #[error("the server closed the connection while the harness waited for the {during}{}{}",
        reset.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
        partial.as_ref().map(|p| format!(" (partial line: {p:?})")).unwrap_or_default())]
    Closed { during: Stage, reset: Option<String>, partial: Option<String> },
    #[error("malformed reply from the server ({during}): {reason}: {line:?}")]
    Malformed { during: Stage, line: String, reason: String },
    #[error("TLS failed ({during}): {error}")]
    Tls { during: Stage, error: TlsError, facts: Box<TlsFacts> },
    #[error("I/O error on the connection ({during}): {source}")]
    Io { during: Stage, source: std::io::Error },
    #[error("harness error: {0}")]
    Misuse(String),
    /// "Try later" where the session opens: a 4xx to the greeting, EHLO or STARTTLS, or such a
    /// line in plaintext on an implicit TLS port. No observation of conformance.
    #[error("service temporarily unavailable ({reply}) at the {during}")]
    Unavailable { during: Stage, reply: String },
}

impl SmtpError {
    pub fn fault(&self) -> Fault {
        match self {
            SmtpError::Misuse(_) => Fault::Harness,
            SmtpError::Tls { error: TlsError::Config(_), .. } => Fault::Harness,
            _ => Fault::Target,
        }
    }

    /// Why this error means "try later" at the opening of a session (a 4xx greeting, the same in
    /// plaintext on a TLS port, the connection closed before any greeting), if it does.
    pub fn busy(&self) -> Option<String> {
        match self {
            SmtpError::Unavailable { reply, .. } => Some(reply.clone()),
            SmtpError::Closed { during: during @ Stage::Greeting, reset, partial: None } => Some(format!(
                "connection closed before the greeting: {during}{}",
                reset.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
            )),
            _ => None,
        }
    }

    /// The fatal TLS alert the server ended the exchange with, if any (during the handshake, or
    /// on the first read after a TLS 1.3 one).
    pub fn server_alert(&self) -> Option<String> {
        match self {
            SmtpError::Tls { error: TlsError::Alert(alert), .. } => Some(alert.clone()),
            SmtpError::Io { source, .. } => peer_alert(source),
            _ => None,
        }
    }

    /// The TLS facts seen before a failed handshake, if this is a TLS error.
    pub fn tls_facts(&self) -> Option<&TlsFacts> {
        match self {
            SmtpError::Tls { facts, .. } => Some(facts),
            _ => None,
        }
    }

    /// Maps an I/O error: a reset or broken pipe means the peer went away.
    pub(crate) fn from_io(during: &Stage, source: std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        match source.kind() {
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                SmtpError::Closed { during: during.clone(), reset: Some(source.to_string()), partial: None }
            }
            _ => SmtpError::Io { during: during.clone(), source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_attributed() {
        let closed = SmtpError::Closed { during: Stage::Greeting, reset: None, partial: Some("220 mx".into()) };
        assert_eq!(closed.fault(), Fault::Target);
        assert!(closed.to_string().contains("partial line: \"220 mx\""));
        assert_eq!(SmtpError::Misuse("starttls twice".into()).fault(), Fault::Harness);
        let config = SmtpError::Tls {
            during: "STARTTLS".into(),
            error: TlsError::Config("bad anchor".into()),
            facts: Box::default(),
        };
        assert_eq!(config.fault(), Fault::Harness);
        let reset = SmtpError::from_io(&"reply".into(), std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(reset, SmtpError::Closed { .. }));
    }

    /// "Try later" is decided on the typed stage, never on its text: a close before the greeting
    /// (a plain end or a reset) is busy; a close at a stage merely named "greeting", or after a
    /// partial greeting, is not. The texts are the ones records have always shown.
    #[test]
    fn a_close_is_busy_only_at_the_typed_greeting() {
        let closed = SmtpError::Closed { during: Stage::Greeting, reset: None, partial: None };
        assert_eq!(closed.to_string(), "the server closed the connection while the harness waited for the greeting");
        assert_eq!(closed.busy().as_deref(), Some("connection closed before the greeting: greeting"));
        let reset = SmtpError::from_io(&Stage::Greeting, std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(reset.to_string(), "the server closed the connection while the harness waited for the greeting (connection reset)");
        assert_eq!(reset.busy().as_deref(), Some("connection closed before the greeting: greeting (connection reset)"));
        let named = SmtpError::Closed { during: "greeting".into(), reset: None, partial: None };
        assert_eq!(named.to_string(), closed.to_string());
        assert_eq!(named.busy(), None);
        let begun = SmtpError::Closed { during: Stage::Greeting, reset: None, partial: Some("220-mx".into()) };
        assert_eq!(begun.busy(), None);
        let later = SmtpError::from_io(&"greeting".into(), std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(later.busy(), None);
    }
}

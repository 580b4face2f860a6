//! Why an SMTP exchange could not be observed.
//!
//! A negative reply (4xx/5xx) is never an error: it is an observation returned as `Ok(Reply)`.
//! `SmtpError` only means the harness saw no complete reply, and each variant names who is at
//! fault so the verdict layer can turn it into `Verdict::Error` with the right wording.

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

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpError {
    #[error("could not connect to the target: {0}")]
    Connect(#[from] NetError),
    #[error("no complete reply from the server within {after:?} (waiting for the {during})")]
    Timeout { during: String, after: Duration },
    #[error("the server closed the connection while the harness waited for the {during}{}",
        partial.as_ref().map(|p| format!(" (partial line: {p:?})")).unwrap_or_default())]
    Closed { during: String, partial: Option<String> },
    #[error("malformed reply from the server ({during}): {reason}: {line:?}")]
    Malformed { during: String, line: String, reason: String },
    #[error("TLS failed ({during}): {error}")]
    Tls { during: String, error: TlsError, facts: Box<TlsFacts> },
    #[error("I/O error on the connection ({during}): {source}")]
    Io { during: String, source: std::io::Error },
    #[error("harness error: {0}")]
    Misuse(String),
    /// "Try later" where the session opens: a 4xx to the greeting, EHLO or STARTTLS, or such a
    /// line in plaintext on an implicit TLS port. No observation of conformance.
    #[error("service temporarily unavailable ({reply}) at the {during}")]
    Unavailable { during: String, reply: String },
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
            SmtpError::Closed { during, partial: None } if during.starts_with("greeting") => {
                Some(format!("connection closed before the greeting: {during}"))
            }
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
    pub(crate) fn from_io(during: &str, source: std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        match source.kind() {
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                SmtpError::Closed { during: format!("{during} ({source})"), partial: None }
            }
            _ => SmtpError::Io { during: during.to_string(), source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_attributed() {
        let closed = SmtpError::Closed { during: "greeting".into(), partial: Some("220 mx".into()) };
        assert_eq!(closed.fault(), Fault::Target);
        assert!(closed.to_string().contains("partial line: \"220 mx\""));
        assert_eq!(SmtpError::Misuse("starttls twice".into()).fault(), Fault::Harness);
        let config = SmtpError::Tls {
            during: "STARTTLS".into(),
            error: TlsError::Config("bad anchor".into()),
            facts: Box::default(),
        };
        assert_eq!(config.fault(), Fault::Harness);
        let reset = SmtpError::from_io("reply", std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(reset, SmtpError::Closed { .. }));
    }
}

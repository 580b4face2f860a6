//! Why the harness could not observe something. Never a verdict: it ends a scenario as `error`.
//!
//! An [`ExecError`] keeps its [`Cause`] typed (the SMTP, IMAP, probe, TCP or HTTP error itself),
//! so what decides on it (a "try later" retried, a TLS alert a step accepts as a refusal, who is
//! at fault) matches on the cause instead of reading text. Its text, what records and reports
//! show, is `category: [context: ]cause`.

use std::fmt;
use std::sync::Arc;

use crate::exec::imap::{self, ImapError};
use crate::exec::net::NetError;
use crate::exec::probe::ProbeError;
use crate::exec::smtp::{self, SmtpError};
use crate::target::secret_value::ReadError;

/// What kind of failure to observe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Connection refused, unreachable, DNS.
    Connect,
    /// The server did not answer within the timeout.
    Timeout,
    /// TLS handshake failure (not an expected refusal).
    Tls,
    /// Malformed or unexpected reply from the server.
    Protocol,
    /// The server closed the connection.
    Closed,
    /// The harness's own fault (configuration, missing file, bug).
    Harness,
    /// The server refused the connection for now ("try later": 421, `* BYE`), retries included.
    Unavailable,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Connect => "connect",
            Category::Timeout => "timeout",
            Category::Tls => "tls",
            Category::Protocol => "protocol",
            Category::Closed => "closed",
            Category::Harness => "harness",
            Category::Unavailable => "unavailable",
        }
    }
}

/// Who made the observation impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The target's server: silent, closed, spoke garbage, failed TLS, said "try later".
    Server,
    /// The network between the harness and the target.
    Network,
    /// The target profile (or its environment): a mailbox, certificate or variable it lacks.
    Profile,
    /// The harness itself: a scenario it should have refused, a local file, a bug.
    Harness,
}

/// What ended the observation: the protocol layer's own error where there is one (shared, so an
/// error the token cache hands to several steps stays one value), else a description.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Cause {
    #[error(transparent)]
    Smtp(Arc<SmtpError>),
    #[error(transparent)]
    Imap(Arc<ImapError>),
    /// A raw ClientHello probe.
    #[error(transparent)]
    Probe(Arc<ProbeError>),
    /// Opening a TCP connection.
    #[error(transparent)]
    Net(Arc<NetError>),
    /// An HTTP request without a response, said with its causes (`a: b: c`).
    #[error("{}", causes(.0.as_ref()))]
    Http(#[source] Arc<reqwest::Error>),
    /// "Try later" (a plaintext `421` on a TLS port, an HTTP 429), described.
    #[error("{0}")]
    Unavailable(String),
    /// Something the server (or its token endpoint) did, described.
    #[error("{0}")]
    Server(String),
    /// The network, described.
    #[error("{0}")]
    Network(String),
    /// Something the target profile lacks, described.
    #[error("{0}")]
    Profile(String),
    /// The harness's own fault, described.
    #[error("{0}")]
    Harness(String),
}

#[derive(Debug, Clone)]
pub struct ExecError {
    category: Category,
    /// What the harness was doing, said before the cause (`SMTP STARTTLS preamble`).
    context: Option<String>,
    cause: Cause,
}

impl ExecError {
    /// A described cause of `category`.
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        let m = message.into();
        let cause = match category {
            Category::Connect => Cause::Network(m),
            Category::Harness => Cause::Harness(m),
            Category::Unavailable => Cause::Unavailable(m),
            _ => Cause::Server(m),
        };
        Self::of(category, cause)
    }
    fn of(category: Category, cause: Cause) -> Self {
        ExecError { category, context: None, cause }
    }
    pub fn harness(m: impl Into<String>) -> Self {
        Self::new(Category::Harness, m)
    }
    /// The target profile lacks what the step needs (category `harness`: nothing was observed).
    pub fn profile(m: impl Into<String>) -> Self {
        Self::of(Category::Harness, Cause::Profile(m.into()))
    }
    pub fn connect(m: impl Into<String>) -> Self {
        Self::new(Category::Connect, m)
    }
    pub fn protocol(m: impl Into<String>) -> Self {
        Self::new(Category::Protocol, m)
    }
    pub fn timeout(m: impl Into<String>) -> Self {
        Self::new(Category::Timeout, m)
    }
    /// The error a "try later" that persisted ends its step with.
    pub fn unavailable(why: &str) -> Self {
        Self::new(Category::Unavailable, format!("service temporarily unavailable ({why})"))
    }
    /// An HTTP request to `url` that got no response.
    pub fn http(url: &str, e: reqwest::Error) -> Self {
        let category = if e.is_timeout() { Category::Timeout } else { Category::Connect };
        Self::of(category, Cause::Http(Arc::new(e))).context(url)
    }

    /// Says what the harness was doing: `what: ` goes before the message; category and cause stay.
    pub fn context(mut self, what: impl Into<String>) -> Self {
        let what = what.into();
        self.context = Some(match self.context.take() {
            Some(inner) => format!("{what}: {inner}"),
            None => what,
        });
        self
    }

    pub fn category(&self) -> Category {
        self.category
    }
    pub fn cause(&self) -> &Cause {
        &self.cause
    }
    /// The text records and reports show (without the category).
    pub fn message(&self) -> String {
        match &self.context {
            Some(c) => format!("{c}: {}", self.cause),
            None => self.cause.to_string(),
        }
    }

    pub fn fault(&self) -> Fault {
        match &self.cause {
            Cause::Smtp(e) => match &**e {
                SmtpError::Io { .. } => Fault::Network,
                e if e.fault() == smtp::Fault::Harness => Fault::Harness,
                _ => Fault::Server,
            },
            Cause::Imap(e) => match e.fault() {
                imap::Fault::Server => Fault::Server,
                imap::Fault::Network => Fault::Network,
                imap::Fault::Harness => Fault::Harness,
            },
            Cause::Probe(e) if e.fault() == smtp::Fault::Harness => Fault::Harness,
            Cause::Probe(_) | Cause::Unavailable(_) | Cause::Server(_) => Fault::Server,
            Cause::Net(e) => match &**e {
                NetError::Timeout { .. } => Fault::Network,
                NetError::Connect { .. } => Fault::Server,
            },
            Cause::Http(_) | Cause::Network(_) => Fault::Network,
            Cause::Profile(_) => Fault::Profile,
            Cause::Harness(_) => Fault::Harness,
        }
    }

    /// The fatal TLS alert the server ended the exchange with, if that is what happened: a step
    /// that accepts a refusal at the TLS level (`accept_tls_refusal`) judges it instead of erring.
    pub fn tls_alert(&self) -> Option<String> {
        match &self.cause {
            Cause::Smtp(e) => e.server_alert(),
            Cause::Imap(e) => e.server_alert(),
            _ => None,
        }
    }

    /// Why this error means "try later" (its message), if it does: the opening is tried again.
    pub fn busy(&self) -> Option<String> {
        let busy = match &self.cause {
            Cause::Smtp(e) => matches!(**e, SmtpError::Unavailable { .. }),
            Cause::Imap(e) => matches!(**e, ImapError::Unavailable(_)),
            Cause::Probe(e) => matches!(**e, ProbeError::Unavailable { .. }),
            Cause::Unavailable(_) => true,
            _ => false,
        };
        busy.then(|| self.message())
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.category.name())?;
        if let Some(c) = &self.context {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.cause)
    }
}

impl std::error::Error for ExecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// An error and its sources, `a: b: c` (reqwest's message omits its causes).
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// The category an I/O error on an established connection belongs to: a TLS error (a fatal
/// alert from the server, a record that does not decrypt) is `tls`, the peer going away is
/// `closed`; `None` for the rest.
pub fn io_category(e: &std::io::Error) -> Option<Category> {
    use std::io::ErrorKind::*;
    if e.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) {
        return Some(Category::Tls);
    }
    match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Some(Category::Closed),
        TimedOut => Some(Category::Timeout),
        _ => None,
    }
}

/// A secret the profile points at could not be read: an unset variable is the profile's fault,
/// a file that cannot be read (missing, open to others, too large) a harness error, as ever.
impl From<ReadError> for ExecError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Unset { .. } => ExecError::profile(e.to_string()),
            ReadError::File(m) => ExecError::harness(m),
        }
    }
}

impl From<NetError> for ExecError {
    fn from(e: NetError) -> Self {
        let category = match e {
            NetError::Timeout { .. } => Category::Timeout,
            NetError::Connect { .. } => Category::Connect,
        };
        Self::of(category, Cause::Net(Arc::new(e)))
    }
}

impl From<SmtpError> for ExecError {
    fn from(e: SmtpError) -> Self {
        use crate::exec::tls::TlsError;
        let category = match e {
            SmtpError::Connect(n) => return n.into(),
            SmtpError::Timeout { .. } => Category::Timeout,
            SmtpError::Closed { .. } => Category::Closed,
            // A server that never answers the ClientHello is silent, not a TLS failure.
            SmtpError::Tls { error: TlsError::Timeout(_), .. } => Category::Timeout,
            SmtpError::Tls { .. } => Category::Tls,
            SmtpError::Io { ref source, .. } => io_category(source).unwrap_or(Category::Protocol),
            SmtpError::Misuse(_) => Category::Harness,
            SmtpError::Unavailable { .. } => Category::Unavailable,
            _ => Category::Protocol,
        };
        Self::of(category, Cause::Smtp(Arc::new(e)))
    }
}

impl From<ImapError> for ExecError {
    fn from(e: ImapError) -> Self {
        use crate::exec::tls::TlsError;
        let category = match e {
            ImapError::Connect(n) => return n.into(),
            // A server that never answers the ClientHello is silent, not a TLS failure.
            ImapError::Tls { error: TlsError::Timeout(_), .. } => Category::Timeout,
            ImapError::Tls { .. } => Category::Tls,
            ImapError::Io(ref source) => io_category(source).unwrap_or(Category::Protocol),
            ImapError::Timeout { .. } => Category::Timeout,
            ImapError::Closed { .. } => Category::Closed,
            ImapError::Harness(_) => Category::Harness,
            ImapError::Unavailable(_) => Category::Unavailable,
            _ => Category::Protocol,
        };
        Self::of(category, Cause::Imap(Arc::new(e)))
    }
}

impl From<ProbeError> for ExecError {
    fn from(e: ProbeError) -> Self {
        let category = match e {
            ProbeError::Timeout { .. } => Category::Timeout,
            ProbeError::Closed { .. } => Category::Closed,
            ProbeError::Harness(_) => Category::Harness,
            ProbeError::Unavailable { during, reply } => return Self::unavailable(&format!("{reply}, during the {during}")),
            // The STARTTLS preamble's SMTP failure keeps its own category (timeout, closed…).
            ProbeError::Smtp(inner) => return ExecError::from(inner).context("SMTP STARTTLS preamble"),
            _ => Category::Protocol,
        };
        Self::of(category, Cause::Probe(Arc::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn io_errors_are_categorised() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::BadRecordMac);
        assert_eq!(io_category(&Error::new(ErrorKind::InvalidData, alert)), Some(Category::Tls));
        assert_eq!(io_category(&Error::new(ErrorKind::InvalidData, rustls::Error::DecryptError)), Some(Category::Tls));
        assert_eq!(io_category(&Error::from(ErrorKind::UnexpectedEof)), Some(Category::Closed));
        assert_eq!(io_category(&Error::from(ErrorKind::ConnectionReset)), Some(Category::Closed));
        assert_eq!(io_category(&Error::other("odd")), None);
    }

    /// The text records show is the one the flattened error had (`category: message`); the
    /// typed cause stays reachable, as `cause()` and as the error's source.
    #[test]
    fn protocol_errors_keep_their_text_and_their_type() {
        let net = NetError::Timeout { addr: "mx:587".into(), timeout: std::time::Duration::from_secs(2) };
        let e = ExecError::from(SmtpError::Connect(net));
        assert_eq!(e.to_string(), "timeout: connection to mx:587 timed out after 2s");
        assert!(matches!(e.cause(), Cause::Net(n) if matches!(**n, NetError::Timeout { .. })));
        assert_eq!(e.fault(), Fault::Network);
        let closed = SmtpError::Closed { during: crate::exec::smtp::Stage::Greeting, reset: None, partial: None };
        let e = ExecError::from(ProbeError::Smtp(closed));
        assert_eq!(e.to_string(), "closed: SMTP STARTTLS preamble: the server closed the connection while the harness waited for the greeting");
        let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<Cause>());
        assert!(matches!(source, Some(Cause::Smtp(s)) if matches!(**s, SmtpError::Closed { .. })), "{source:?}");
        let e = ExecError::from(ImapError::Harness("TLS is not up".into()));
        assert_eq!((e.category(), e.fault()), (Category::Harness, Fault::Harness));
        assert_eq!(e.message(), "harness error: TLS is not up");
        let e = ExecError::from(ProbeError::Unavailable { during: "ClientHello".into(), reply: "421 busy".into() });
        assert_eq!(e.to_string(), "unavailable: service temporarily unavailable (421 busy, during the ClientHello)");
        assert_eq!(ExecError::profile("the target declares no mailbox `x`").fault(), Fault::Profile);
    }

    /// A context said before the message (a token's mailbox) keeps the category and the cause:
    /// "try later" and the alert are still read from it.
    #[test]
    fn context_keeps_the_cause() {
        let busy = ExecError::from(ImapError::Unavailable("* BYE busy".into()));
        let e = busy.context("inner").context("outer");
        assert_eq!(e.to_string(), "unavailable: outer: inner: service temporarily unavailable (* BYE busy) as the IMAP session opened");
        assert_eq!(e.busy().as_deref(), Some("outer: inner: service temporarily unavailable (* BYE busy) as the IMAP session opened"));
        let alert = crate::exec::tls::TlsError::Alert("HandshakeFailure".into());
        let e = ExecError::from(ImapError::Tls { error: alert, facts: Box::default() }).context("x");
        assert_eq!((e.category(), e.tls_alert().as_deref()), (Category::Tls, Some("HandshakeFailure")));
        assert_eq!(ExecError::new(Category::Unavailable, "token endpoint answered 503").busy().as_deref(), Some("token endpoint answered 503"));
        assert_eq!(ExecError::timeout("service temporarily unavailable (421)").busy(), None);
    }
}

//! Why the harness could not observe something. Never a verdict: it ends a scenario as `error`.

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

#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", category.name())]
pub struct ExecError {
    pub category: Category,
    pub message: String,
    /// The fatal TLS alert the server sent, when that is what ended the exchange: a step that
    /// accepts a refusal at the TLS level (`accept_tls_refusal`) judges it instead of erring.
    pub tls_alert: Option<String>,
}

impl ExecError {
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        ExecError { category, message: message.into(), tls_alert: None }
    }
    pub fn with_tls_alert(mut self, alert: Option<String>) -> Self {
        self.tls_alert = alert;
        self
    }
    pub fn harness(m: impl Into<String>) -> Self {
        Self::new(Category::Harness, m)
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
}

impl From<super::net::NetError> for ExecError {
    fn from(e: super::net::NetError) -> Self {
        ExecError::from(&e)
    }
}

impl From<&super::net::NetError> for ExecError {
    fn from(e: &super::net::NetError) -> Self {
        match e {
            super::net::NetError::Timeout { .. } => ExecError::timeout(e.to_string()),
            super::net::NetError::Connect { .. } => ExecError::connect(e.to_string()),
        }
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
}

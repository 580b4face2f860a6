//! Opening TCP connections to a target endpoint, always with a timeout.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

/// How an endpoint starts TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text first, then STARTTLS (ports 587 / 143 semantics).
    Starttls,
    /// TLS from the first byte (ports 465 / 993 semantics).
    Implicit,
}

/// One network endpoint of the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("connection to {addr} refused or failed: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("connection to {addr} timed out after {timeout:?}")]
    Timeout { addr: String, timeout: Duration },
}

pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, NetError> {
    let addr = format!("{host}:{port}");
    match crate::exec::timing::server(tokio::time::timeout(timeout, TcpStream::connect((host, port)))).await {
        Err(_) => Err(NetError::Timeout { addr, timeout }),
        Ok(Err(source)) => Err(NetError::Connect { addr, source }),
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connection_is_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = connect("127.0.0.1", port, Duration::from_secs(2)).await.unwrap_err();
        assert!(matches!(err, NetError::Connect { .. }), "{err}");
    }
}

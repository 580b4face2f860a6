//! Opening TCP connections to a target endpoint, always with a timeout.

use std::time::Duration;

use tokio::net::TcpStream;

/// Endpoints are part of the target profile; named here too, where connections are opened.
pub use crate::target::model::{Endpoint, TlsMode};

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

//! Placeholder for the mock's IMAP server (built on another branch; replaced at merge): accepts
//! connections and closes them at once, so that the rest of the mock compiles and listens.

use tokio::net::TcpListener;

use crate::context::MockContext;

pub async fn serve(listener: TcpListener, ctx: MockContext, implicit_tls: bool) {
    let _ = (ctx, implicit_tls);
    loop {
        if let Ok((tcp, _)) = listener.accept().await {
            drop(tcp);
        }
    }
}

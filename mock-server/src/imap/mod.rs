//! The mock operator's IMAP service: a conformant MSSanté operator (STARTTLS or implicit TLS,
//! XOAUTH2/OAUTHBEARER with bearer tokens, PLAIN/EXTERNAL with client certificates, IDLE…),
//! which the faults of `MockContext::faults` bend one requirement at a time.
//!
//! Built on imap-next's sans-I/O `Server` (parsing, literals, AUTHENTICATE and IDLE flows);
//! `wire` does the I/O, `session` the protocol states, the other modules one concern each.

use std::time::Duration;

use tokio::net::TcpListener;

use crate::context::MockContext;

mod auth;
mod caps;
mod dispatch;
mod exchange;
mod fetch;
mod flags;
mod folders;
mod header;
mod idle;
mod login;
mod messages;
mod mime;
mod outcome;
mod sasl;
mod search;
mod session;
mod structure;
mod transport;
mod view;
mod wire;
mod wirelog;

/// Timing of IMAP sessions; the defaults are what an operator would use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapOptions {
    /// A session that sends nothing for this long is logged out (RFC 3501 §5.4: ≥ 30 min).
    pub read_timeout: Duration,
    /// IDLE ends with `* BYE` after this long (RFC 2177 asks clients to re-IDLE within 29 min).
    pub idle_timeout: Duration,
    /// Longest TLS handshake (implicit TLS and STARTTLS).
    pub handshake_timeout: Duration,
    /// Delay before every answer under the `slow` fault.
    pub slow_delay: Duration,
}

impl Default for ImapOptions {
    fn default() -> Self {
        ImapOptions {
            read_timeout: Duration::from_secs(30 * 60),
            idle_timeout: Duration::from_secs(30 * 60),
            handshake_timeout: Duration::from_secs(30),
            slow_delay: Duration::from_secs(3),
        }
    }
}

/// Accepts IMAP connections forever, one task per session. `implicit_tls`: TLS from the first
/// byte (port 993 semantics); otherwise clear text with STARTTLS (port 143 semantics).
pub async fn serve(listener: TcpListener, ctx: MockContext, implicit_tls: bool) {
    serve_with(listener, ctx, implicit_tls, ImapOptions::default()).await
}

/// `serve` with explicit timings (tests shorten them).
pub async fn serve_with(listener: TcpListener, ctx: MockContext, implicit_tls: bool, options: ImapOptions) {
    loop {
        match listener.accept().await {
            Ok((tcp, _peer)) => match ctx.connections.admit(&ctx.faults) {
                Ok(ticket) => {
                    let (ctx, options) = (ctx.clone(), options.clone());
                    tokio::spawn(async move {
                        session::run(tcp, ctx, options, implicit_tls).await;
                        drop(ticket);
                    });
                }
                Err(why) => {
                    tokio::spawn(crate::admission::refuse(tcp, format!("* BYE {why}, try again later"), ctx.log_wire));
                }
            },
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                if ctx.log_wire {
                    eprintln!("imap: accept failed: {e}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

//! The mock operator's SMTP submission service (RFC 6409): STARTTLS (587 semantics) and
//! implicit TLS (465 semantics) listeners, SASL XOAUTH2/OAUTHBEARER/PLAIN, sender and whitelist
//! checks, local delivery into the store, DSN (RFC 3461) and MDN (RFC 8098) generation.
//!
//! Requests are parsed with smtp-proto; everything else is here:
//! `session` (state machine) → `auth` (SASL decisions) / `envelope` (MAIL, RCPT) →
//! `delivery` (after DATA) → `dsn` / `mdn` (reports), over `io` (lines, DATA, TLS).

pub mod auth;
pub mod delivery;
pub mod dsn;
pub mod envelope;
pub mod headers;
pub mod io;
pub mod mdn;
pub mod reply;
pub mod session;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::context::MockContext;

/// Accepts submission connections forever, one task per session. Sessions end with this task
/// (they live in its `JoinSet`), so aborting it stops everything.
pub async fn serve(listener: TcpListener, ctx: MockContext, implicit_tls: bool) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    match ctx.connections.admit(&ctx.faults) {
                        Ok(ticket) => {
                            let ctx = ctx.clone();
                            sessions.spawn(async move {
                                session::run(tcp, ctx, implicit_tls).await;
                                drop(ticket);
                            });
                        }
                        Err(why) => {
                            sessions.spawn(crate::admission::refuse(tcp, format!("421 4.7.0 {why}, try again later"), ctx.log_wire));
                        }
                    }
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
            // Reap finished sessions so the set does not grow for the server's life.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

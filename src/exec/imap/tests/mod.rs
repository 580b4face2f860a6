//! Session tests against scripted servers on 127.0.0.1 (plain and TLS).

mod auth;
mod connection;
mod messages;
mod wait;

/// The session's futures can run on a multi-threaded runtime (spawned per scenario).
#[allow(dead_code)]
fn futures_are_send(s: &mut crate::exec::imap::ImapSession, c: &crate::exec::sasl::Credentials) {
    fn send<T: Send>(_: T) {}
    send(s.wait_for("INBOX", "ALL", std::time::Duration::ZERO));
    send(s.authenticate(crate::scenario::model::Mechanism::Xoauth2, c, true));
    send(s.append("INBOX", &[], b""));
}

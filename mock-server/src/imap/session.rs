//! One IMAP connection: greeting, the command loop, STARTTLS, and the per-session faults.

use imap_next::server::{Error as ServerError, Event, Options, Server};
use imap_types::command::CommandBody;
use imap_types::core::Tag;
use imap_types::response::{Data, Status};
use tokio::net::TcpStream;

use crate::context::MockContext;
use crate::faults::Fault;

use super::ImapOptions;
use super::caps::{self, Stage};
use super::exchange::AuthExchange;
use super::outcome::Outcome;
use super::transport::{TlsInfo, Transport, accept_tls};
use super::view::View;
use super::wire::{Input, Wire, WireError, discard_greeting};
use super::wirelog::WireLog;

/// The malformed line of the `garbage` fault: a control character and an unfinished literal.
const GARBAGE_LINE: &[u8] = b"* \x01GARBAGE {\r\n";

pub enum State {
    NotAuthenticated,
    Authenticated { mailbox: String },
    Selected { mailbox: String, view: View },
}

impl State {
    pub fn mailbox(&self) -> Option<&str> {
        match self {
            State::NotAuthenticated => None,
            State::Authenticated { mailbox } | State::Selected { mailbox, .. } => Some(mailbox),
        }
    }
}

/// What the connection does after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    StartTls,
    Close,
}

pub struct Session {
    pub ctx: MockContext,
    pub options: ImapOptions,
    pub wire: Wire,
    pub server: Server,
    /// `None` while the connection is in clear text.
    pub tls: Option<TlsInfo>,
    pub state: State,
    pub auth: Option<AuthExchange>,
    /// The `garbage` fault's line is sent once per connection.
    garbage_sent: bool,
}

/// Serves one accepted connection until it ends.
pub async fn run(tcp: TcpStream, ctx: MockContext, options: ImapOptions, implicit_tls: bool) {
    let log = WireLog::new(ctx.log_wire);
    if ctx.faults.is_on(Fault::Silent) {
        log.note("fault silent: no greeting, nothing ever sent");
        return crate::misbehave::stay_silent(tcp).await;
    }
    let (transport, tls) = if implicit_tls {
        match accept_tls(tcp, &ctx.tls, options.handshake_timeout).await {
            Ok((transport, info)) => (transport, Some(info)),
            Err(e) => return log.note(&format!("TLS handshake failed: {e}")),
        }
    } else {
        (Transport::Plain(tcp), None)
    };
    log.note(if implicit_tls { "connection (implicit TLS)" } else { "connection (clear text)" });
    let mut session = Session::new(ctx, options, Wire::new(transport, log), tls);
    while session.serve().await == Flow::StartTls {
        match session.start_tls().await {
            Some(next) => session = next,
            None => return,
        }
    }
}

impl Session {
    fn new(ctx: MockContext, options: ImapOptions, wire: Wire, tls: Option<TlsInfo>) -> Self {
        let stage = Stage { secure: tls.is_some(), authenticated: false };
        let server = Server::new(server_options(&ctx), caps::greeting(&ctx.faults, stage, &ctx.host_name));
        Session { ctx, options, wire, server, tls, state: State::NotAuthenticated, auth: None, garbage_sent: false }
    }

    pub fn secure(&self) -> bool {
        self.tls.is_some()
    }

    pub fn stage(&self) -> Stage {
        Stage { secure: self.secure(), authenticated: self.state.mailbox().is_some() }
    }

    /// The command loop; returns when the connection ends or asks for STARTTLS.
    async fn serve(&mut self) -> Flow {
        loop {
            let input = match self.wire.next_event(&mut self.server, self.options.read_timeout).await {
                Ok(input) => input,
                Err(WireError::Timeout(_)) => {
                    self.bye("Autologout: no command for too long").await;
                    return Flow::Close;
                }
                Err(e) => {
                    self.wire.log.note(&format!("session ends: {e}"));
                    return Flow::Close;
                }
            };
            if self.before_response().await.is_err() {
                return Flow::Close;
            }
            if let Input::Event(Event::CommandReceived { command }) = &input
                && let Some(flow) = self.misbehave_on(&command.body).await
            {
                return flow;
            }
            let flow = match input {
                Input::Malformed(error) => {
                    self.on_malformed(error);
                    Flow::Continue
                }
                Input::Event(Event::CommandReceived { command }) => self.on_command(command).await,
                Input::Event(Event::CommandAuthenticateReceived { command_authenticate }) => {
                    self.on_authenticate(command_authenticate);
                    Flow::Continue
                }
                Input::Event(Event::AuthenticateDataReceived { authenticate_data }) => {
                    self.on_authenticate_data(authenticate_data);
                    Flow::Continue
                }
                Input::Event(Event::IdleCommandReceived { tag }) => self.idle(tag).await,
                Input::Event(_) => Flow::Continue,
            };
            if flow != Flow::Continue {
                return flow;
            }
        }
    }

    /// The faults that answer a command by breaking the session: `tls-alert-mid-session` (once
    /// authenticated over TLS) and `eof-mid-literal` (on FETCH). `None`: answer normally.
    async fn misbehave_on(&mut self, body: &CommandBody<'_>) -> Option<Flow> {
        let faults = &self.ctx.faults;
        if faults.is_on(Fault::TlsAlertMidSession) && self.secure() && self.state.mailbox().is_some() {
            self.wire.log.note("fault tls-alert-mid-session: fatal TLS alert instead of an answer");
            let _ = self.wire.fatal_alert().await;
            return Some(Flow::Close);
        }
        if faults.is_on(Fault::EofMidLiteral) && matches!(body, CommandBody::Fetch { .. }) {
            self.wire.log.note("fault eof-mid-literal: FETCH literal cut short, connection closed");
            let _ = self.wire.send_raw(&crate::misbehave::truncated_fetch()).await;
            self.wire.shutdown().await;
            return Some(Flow::Close);
        }
        None
    }

    /// The faults that act before each answer: `slow` waits, `garbage` sends its line once,
    /// `oversized-line` sends a line that never ends (and the session is over).
    pub async fn before_response(&mut self) -> Result<(), WireError> {
        if self.ctx.faults.is_on(Fault::Slow) {
            tokio::time::sleep(self.options.slow_delay).await;
        }
        if self.ctx.faults.is_on(Fault::OversizedLine) {
            self.wire.log.note("fault oversized-line: a response line that never ends");
            self.wire.endless_line(b"* OK ").await?;
            return Err(WireError::Closed);
        }
        if self.ctx.faults.is_on(Fault::Garbage) && !self.garbage_sent {
            self.garbage_sent = true;
            self.wire.log.note("fault garbage: sending a malformed line");
            self.wire.send_raw(GARBAGE_LINE).await?;
        }
        Ok(())
    }

    /// Queues the untagged responses of `outcome`, then its tagged status.
    pub fn respond(&mut self, tag: Tag<'static>, outcome: Outcome) {
        let status = outcome.tagged(tag);
        for response in outcome.untagged {
            match response {
                imap_types::response::Response::Data(data) => {
                    self.server.enqueue_data(data);
                }
                imap_types::response::Response::Status(status) => {
                    self.server.enqueue_status(status);
                }
                imap_types::response::Response::CommandContinuationRequest(cont) => {
                    self.server.enqueue_continuation_request(cont);
                }
            }
        }
        self.server.enqueue_status(status);
    }

    pub fn capability_data(&self) -> Data<'static> {
        Data::Capability(caps::capabilities(&self.ctx.faults, self.stage()))
    }

    /// Sends `* BYE`, then closes.
    pub async fn bye(&mut self, text: &str) {
        let Ok(bye) = Status::bye(None, super::outcome::text_of(text));
        self.server.enqueue_status(bye);
        let _ = self.wire.flush_queued(&mut self.server).await;
        self.wire.shutdown().await;
    }

    fn on_malformed(&mut self, error: ServerError) {
        self.wire.log.client_line_refused();
        if let Some(exchange) = self.auth.take() {
            return self.finish_authenticate(exchange.tag, Outcome::bad("SASL response is not valid base64"));
        }
        let (discarded, what) = match &error {
            // The codec has already answered this one with a tagged BAD.
            ServerError::LiteralTooLong { .. } => return self.wire.log.note("literal refused: too long"),
            ServerError::ExpectedCrlfGotLf { discarded_bytes } => (discarded_bytes, "Lines must end with CRLF"),
            ServerError::MalformedMessage { discarded_bytes } => (discarded_bytes, "Malformed command"),
            ServerError::CommandTooLong { discarded_bytes } => (discarded_bytes, "Command too long"),
        };
        let tag = tag_of(discarded.declassify());
        let Ok(status) = Status::bad(tag, None, super::outcome::text_of(what));
        self.server.enqueue_status(status);
    }

    /// Upgrades to TLS after `OK Begin TLS`: a new codec state, so nothing the client pipelined
    /// in clear text survives, and no second greeting.
    async fn start_tls(mut self) -> Option<Session> {
        self.wire.flush_queued(&mut self.server).await.ok()?;
        let (transport, log) = self.wire.into_parts();
        let tcp = transport.into_plain()?;
        let (transport, info) = match accept_tls(tcp, &self.ctx.tls, self.options.handshake_timeout).await {
            Ok(done) => done,
            Err(e) => {
                log.note(&format!("STARTTLS handshake failed: {e}"));
                return None;
            }
        };
        log.note("TLS established (STARTTLS)");
        let garbage_sent = self.garbage_sent;
        let mut next = Session::new(self.ctx, self.options, Wire::new(transport, log), Some(info));
        discard_greeting(&mut next.server);
        next.garbage_sent = garbage_sent;
        Some(next)
    }
}

fn server_options(ctx: &MockContext) -> Options {
    let mut options = Options::default();
    if ctx.max_message_size > 0 {
        let max = u32::try_from(ctx.max_message_size).unwrap_or(u32::MAX - 65536).min(u32::MAX - 65536);
        options.max_literal_size = max;
        options.max_command_size = max + 64 * 1024;
    }
    let _ = options.set_literal_accept_text("Ready for literal data".to_string());
    let _ = options.set_literal_reject_text("Literal too large".to_string());
    options
}

/// The tag of a line the codec could not parse, when it has a valid one.
fn tag_of(bytes: &[u8]) -> Option<Tag<'static>> {
    let end = bytes.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n')?;
    Tag::try_from(bytes[..end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_of_malformed_lines() {
        assert_eq!(tag_of(b"a1 FOO\r\n").map(|t| t.as_ref().to_string()), Some("a1".to_string()));
        assert!(tag_of(b"\x01 x\r\n").is_none());
        assert!(tag_of(b"noend").is_none());
        assert!(tag_of(b"* x\r\n").is_none());
    }
}

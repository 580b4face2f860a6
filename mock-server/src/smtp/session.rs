//! One SMTP submission session: greeting, EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA, the
//! session-level faults (`auth-before-tls`, `no-dsn` in EHLO, `drop-mid-data`, `slow`,
//! `garbage`, `silent`, `oversized-line`, `tls-alert-mid-session`), and the behaviours of the
//! session (closing after a refused AUTH, a refusal at the end of DATA).

use std::net::IpAddr;

use chrono::Utc;
use smtp_proto::{AUTH_OAUTHBEARER, AUTH_PLAIN, AUTH_XOAUTH2, Request};
use tokio::net::TcpStream;

use super::auth::{self, Verdict};
use super::delivery::{self, Accepted};
use super::envelope::Envelope;
use super::io::{Conn, Data, Line, MAX_COMMAND_LINE, SmtpIo};
use super::reply::{self, Reply};
use crate::behaviours::{AuthFailure, RefusalStage};
use crate::context::MockContext;
use crate::faults::Fault;
use crate::wire::WireLog;

/// After this many refused commands the session is closed (421).
const MAX_ERRORS: u32 = 20;
/// Fault `drop-mid-data` closes the connection after this many bytes of DATA.
const DROP_AFTER_BYTES: usize = 64;
/// The malformed reply of fault `garbage`.
pub const GARBAGE_LINE: &[u8] = b"2x0 \x01garbage\r\n";

/// What the session does after a command.
enum Step {
    Continue,
    StartTls,
    Close,
}

pub struct Session {
    io: SmtpIo,
    ctx: MockContext,
    peer: IpAddr,
    helo: Option<String>,
    garbage_sent: bool,
    /// The mailbox the client authenticated as.
    mailbox: Option<String>,
    envelope: Option<Envelope>,
    errors: u32,
}

/// Runs one session on an accepted connection until the client quits, idles out or breaks.
pub async fn run(tcp: TcpStream, ctx: MockContext, implicit_tls: bool) {
    let peer = tcp.peer_addr().map(|a| a.ip()).unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let log = WireLog::new(ctx.log_wire, "smtp");
    log.note(&format!("connection from {peer}{}", if implicit_tls { " (implicit TLS)" } else { "" }));
    if ctx.faults.is_on(Fault::Silent) {
        log.note("fault silent: no greeting, nothing ever sent");
        return crate::misbehave::stay_silent(tcp).await;
    }
    let conn = if implicit_tls {
        match ctx.tls.accept(tcp).await {
            Ok(tls) => Conn::Tls(Box::new(tls)),
            Err(e) => return log.note(&e.to_string()),
        }
    } else {
        Conn::Plain(tcp)
    };
    let session = Session {
        io: SmtpIo::new(conn, log),
        ctx,
        peer,
        helo: None,
        garbage_sent: false,
        mailbox: None,
        envelope: None,
        errors: 0,
    };
    session.serve().await;
}

impl Session {
    async fn serve(mut self) {
        let greeting = Reply::new(220, format!("{} ESMTP mssconf-mock (fictitious MSSanté operator) ready", self.ctx.host_name));
        // The greeting is never delayed: `slow` is about replies.
        if self.io.write(&greeting.render()).await.is_err() {
            return;
        }
        loop {
            let line = match self.io.read_line(MAX_COMMAND_LINE).await {
                Ok(Line::Complete(line)) => line,
                Ok(Line::TooLong) => {
                    self.io.log.client(b"<line too long>");
                    match self.refuse(Reply::new(500, "5.5.6 Line too long")).await {
                        Ok(Step::Continue) => continue,
                        _ => return self.io.shutdown().await,
                    }
                }
                Err(e) => return self.io.log.note(&e.to_string()),
            };
            self.io.log.client(&line);
            if self.ctx.faults.is_on(Fault::TlsAlertMidSession) && self.mailbox.is_some() {
                self.io.log.note("fault tls-alert-mid-session: fatal TLS alert instead of a reply");
                return self.io.fatal_alert().await;
            }
            match self.command(&line).await {
                Ok(Step::Continue) => {}
                Ok(Step::StartTls) => match self.start_tls().await {
                    Some(secured) => self = secured,
                    None => return,
                },
                Ok(Step::Close) => return self.io.shutdown().await,
                Err(e) => return self.io.log.note(&format!("write failed: {e}")),
            }
        }
    }

    async fn command(&mut self, line: &[u8]) -> std::io::Result<Step> {
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request.into_owned(),
            Err(e) => return self.refuse(parse_error_reply(&e, line)).await,
        };
        match request {
            Request::Ehlo { host } => self.ehlo(host).await,
            Request::Helo { host } => {
                self.helo = Some(host);
                self.envelope = None;
                self.send(Reply::new(250, self.ctx.host_name.clone())).await
            }
            Request::StartTls => self.starttls().await,
            Request::Auth { mechanism, initial_response } => self.auth(mechanism, initial_response).await,
            Request::Mail { from } => {
                let reply = self.mail(&from);
                self.send_or_refuse(reply).await
            }
            Request::Rcpt { to } => {
                let reply = match self.envelope.as_mut() {
                    None => Err(reply::bad_sequence("Need MAIL command first")),
                    Some(envelope) => envelope.add_recipient(&self.ctx, &to),
                };
                self.send_or_refuse(reply).await
            }
            Request::Data => self.data().await,
            Request::Rset => {
                self.envelope = None;
                self.send(reply::ok("Reset")).await
            }
            Request::Noop { .. } => self.send(reply::ok("OK")).await,
            Request::Quit => {
                self.send(Reply::new(221, "2.0.0 Bye")).await?;
                Ok(Step::Close)
            }
            Request::Vrfy { .. } => self.send(Reply::new(252, "2.5.0 Cannot VRFY user")).await,
            Request::Help { .. } => self.send(Reply::new(214, "2.0.0 See RFC 5321")).await,
            _ => self.refuse(Reply::new(502, "5.5.1 Command not implemented")).await,
        }
    }

    async fn ehlo(&mut self, host: String) -> std::io::Result<Step> {
        self.helo = Some(host.clone());
        self.envelope = None;
        if self.ctx.faults.is_on(Fault::OversizedLine) {
            self.io.log.note("fault oversized-line: an EHLO reply line that never ends");
            self.io.endless_line(b"250-").await;
            return Ok(Step::Close);
        }
        if self.ctx.faults.is_on(Fault::Garbage) && !self.garbage_sent {
            self.garbage_sent = true;
            self.delay().await;
            self.io.log.server(&String::from_utf8_lossy(GARBAGE_LINE));
            self.io.write_raw(GARBAGE_LINE).await?;
            return Ok(Step::Continue);
        }
        if self.ctx.faults.is_on(Fault::FlakyOnce) && self.ctx.flaky_once.fire() {
            self.io.log.note("fault flaky-once: this instance's first EHLO is refused, the connection closed");
            self.send(Reply::new(421, "4.3.2 Service temporarily unavailable (fault flaky-once)")).await?;
            return Ok(Step::Close);
        }
        let lines = capabilities(&self.ctx, self.io.is_tls(), &host);
        self.send(Reply::multi(250, lines)).await
    }

    async fn starttls(&mut self) -> std::io::Result<Step> {
        if self.io.is_tls() {
            return self.refuse(reply::bad_sequence("TLS already active")).await;
        }
        self.send(Reply::new(220, "2.0.0 Ready to start TLS")).await?;
        Ok(Step::StartTls)
    }

    /// Replaces the plain session by a fresh one over TLS (RFC 3207: all state is forgotten).
    async fn start_tls(self) -> Option<Session> {
        let Session { io, ctx, peer, garbage_sent, .. } = self;
        let Ok((tcp, log, dropped)) = io.into_plain() else { return None };
        if dropped > 0 {
            log.note(&format!("dropped {dropped} bytes pipelined after STARTTLS"));
        }
        match ctx.tls.accept(tcp).await {
            Ok(tls) => {
                log.note("TLS established");
                let io = SmtpIo::new(Conn::Tls(Box::new(tls)), log);
                Some(Session { io, ctx, peer, helo: None, garbage_sent, mailbox: None, envelope: None, errors: 0 })
            }
            Err(e) => {
                log.note(&e.to_string());
                None
            }
        }
    }

    async fn auth(&mut self, mechanism: u64, initial_response: String) -> std::io::Result<Step> {
        if !self.io.is_tls() && !self.ctx.faults.is_on(Fault::AuthBeforeTls) {
            return self.refuse(reply::tls_required()).await;
        }
        if self.helo.is_none() {
            return self.refuse(reply::bad_sequence("Send EHLO first")).await;
        }
        if self.mailbox.is_some() {
            return self.refuse(reply::bad_sequence("Already authenticated")).await;
        }
        if self.envelope.is_some() {
            return self.refuse(reply::bad_sequence("AUTH not permitted during a mail transaction")).await;
        }
        if ![AUTH_XOAUTH2, AUTH_OAUTHBEARER, AUTH_PLAIN].contains(&mechanism) {
            return self.refuse(Reply::new(504, "5.5.4 Unrecognized authentication type")).await;
        }
        let Some(payload) = self.sasl_response(initial_response).await? else {
            return self.refuse(Reply::new(501, "5.7.0 Authentication cancelled or not base64")).await;
        };
        let verdict = match mechanism {
            AUTH_PLAIN => {
                let certs = self.io.peer_certificates();
                let cert_mailbox = crate::tls::client_cert_mailbox(certs.as_deref());
                auth::check_plain(&self.ctx, &payload, self.io.is_tls(), certs.is_some(), cert_mailbox.as_deref())
            }
            AUTH_XOAUTH2 => match auth::parse_xoauth2(&payload) {
                Some(response) => auth::check_bearer(&self.ctx, &response),
                None => Verdict::TokenRefused("malformed XOAUTH2 response".into()),
            },
            _ => match auth::parse_oauthbearer(&payload) {
                Some(response) => auth::check_bearer(&self.ctx, &response),
                None => Verdict::TokenRefused("malformed OAUTHBEARER response".into()),
            },
        };
        self.conclude_auth(verdict).await
    }

    /// The decoded SASL response: the initial response, or the line after an empty `334 `.
    /// `None` when cancelled (`*`) or not base64.
    async fn sasl_response(&mut self, initial_response: String) -> std::io::Result<Option<Vec<u8>>> {
        if !initial_response.is_empty() {
            return Ok(auth::decode_b64(&initial_response));
        }
        self.send(Reply::new(334, "")).await?;
        let Some(line) = self.read_sasl_line().await else { return Ok(None) };
        if line.trim() == "*" {
            return Ok(None);
        }
        Ok(auth::decode_b64(&line))
    }

    async fn read_sasl_line(&mut self) -> Option<String> {
        match self.io.read_line(MAX_COMMAND_LINE).await {
            Ok(Line::Complete(line)) => {
                self.io.log.client_secret();
                Some(String::from_utf8_lossy(&line).trim_end().to_string())
            }
            _ => None,
        }
    }

    async fn conclude_auth(&mut self, verdict: Verdict) -> std::io::Result<Step> {
        match verdict {
            Verdict::Accepted(mailbox) => {
                self.io.log.note(&format!("authenticated as {mailbox}"));
                self.mailbox = Some(mailbox);
                self.send(reply::auth_succeeded()).await
            }
            Verdict::Refused(why) => {
                self.io.log.note(&format!("authentication refused: {why}"));
                let step = self.refuse(reply::auth_invalid()).await?;
                Ok(self.after_auth_failure(step, AuthFailure::CloseAlways))
            }
            Verdict::TokenRefused(why) => {
                // RFC 7628 error challenge, wait for the client's (empty) answer, 535; then what
                // the auth-failure behaviour says (real operators differ: hang up or stay open).
                self.io.log.note(&format!("token refused: {why}"));
                self.send(Reply::new(334, auth::oauth_error_challenge())).await?;
                let _ = self.read_sasl_line().await;
                let step = self.refuse(reply::auth_invalid()).await?;
                Ok(self.after_auth_failure(step, AuthFailure::CloseAfterToken))
            }
            Verdict::Malformed(why) => self.refuse(Reply::new(501, format!("5.5.2 {why}"))).await,
        }
    }

    /// After a refused AUTH: close when the behaviour is on, or `also_closes_with` (the behaviour
    /// closing after this kind of refusal too); otherwise what the refusal itself asked for.
    fn after_auth_failure(&self, step: Step, also_closes_with: AuthFailure) -> Step {
        let chosen = self.ctx.behaviours.auth_failure;
        if chosen == AuthFailure::CloseAlways || chosen == also_closes_with {
            self.io.log.note("closing after the refused AUTH (auth-failure behaviour)");
            return Step::Close;
        }
        step
    }

    fn mail(&mut self, from: &smtp_proto::MailFrom<String>) -> Result<Reply, Reply> {
        if self.envelope.is_some() {
            return Err(reply::bad_sequence("Sender already specified"));
        }
        let envelope = Envelope::open(&self.ctx, self.mailbox.as_deref(), from)?;
        if let Some(refusal) = &envelope.refusal {
            self.io.log.note(&format!("{refusal:?}: refused later, as the refusal-stage behaviour says"));
        }
        self.envelope = Some(envelope);
        Ok(Reply::new(250, format!("2.1.0 Sender <{}> OK", from.address)))
    }

    /// The reply refusing the DATA command itself, if any (behaviour `refuse-at-data-command`
    /// ends the transaction here, without 354).
    fn data_command_refusal(&mut self) -> Option<Reply> {
        let Some(envelope) = &self.envelope else {
            return Some(match self.mailbox {
                None => reply::auth_required(),
                Some(_) => reply::bad_sequence("Need MAIL command first"),
            });
        };
        if envelope.recipients.is_empty() {
            return Some(reply::bad_sequence("Need RCPT command first"));
        }
        let refusal = envelope.refusal.as_ref().filter(|_| self.ctx.behaviours.refusal == RefusalStage::DataCommand)?;
        let reply = refusal.at_data();
        self.envelope = None;
        Some(reply)
    }

    async fn data(&mut self) -> std::io::Result<Step> {
        if let Some(refusal) = self.data_command_refusal() {
            return self.refuse(refusal).await;
        }
        self.send(Reply::new(354, "End data with <CR><LF>.<CR><LF>")).await?;
        let stop_after = self.ctx.faults.is_on(Fault::DropMidData).then_some(DROP_AFTER_BYTES);
        let data = match self.io.read_data(self.ctx.max_message_size, stop_after).await {
            Ok(data) => data,
            Err(e) => {
                self.io.log.note(&format!("during DATA: {e}"));
                return Ok(Step::Close);
            }
        };
        let envelope = self.envelope.take();
        let raw = match data {
            Data::Stopped(n) => {
                self.io.log.note(&format!("fault drop-mid-data: closing after {n} bytes of DATA"));
                return Ok(Step::Close);
            }
            Data::TooBig => return self.refuse(reply::too_big()).await,
            Data::Complete(raw) => raw,
        };
        let Some(envelope) = envelope else { return self.refuse(reply::bad_sequence("No transaction")).await };
        // Behaviour `refuse-at-data`: the message was read, now refused and discarded.
        if let Some(refusal) = &envelope.refusal {
            return self.refuse(refusal.at_data()).await;
        }
        let Some(mailbox) = self.mailbox.clone() else { return self.refuse(reply::auth_required()).await };
        if let Err(refusal) = delivery::check_from(&self.ctx, &mailbox, &raw) {
            return self.refuse(refusal).await;
        }
        let queue_id = queue_id();
        let accepted = Accepted {
            queue_id: &queue_id,
            envelope: &envelope,
            helo: self.helo.as_deref().unwrap_or("unknown"),
            peer: self.peer,
            tls: self.io.is_tls(),
            raw: &raw,
            arrival: Utc::now(),
        };
        let done = delivery::deliver(&self.ctx, &accepted);
        self.io.log.note(&format!(
            "message {queue_id}: stored for {:?}, {} DSN, {} MDN",
            done.stored, done.dsns, done.mdns
        ));
        self.send(reply::ok(&format!("Ok: queued as {queue_id}"))).await
    }

    async fn send_or_refuse(&mut self, reply: Result<Reply, Reply>) -> std::io::Result<Step> {
        match reply {
            Ok(r) => self.send(r).await,
            Err(r) => self.refuse(r).await,
        }
    }

    /// Sends a refusal and counts it; too many close the session.
    async fn refuse(&mut self, reply: Reply) -> std::io::Result<Step> {
        self.errors += 1;
        if self.errors > MAX_ERRORS {
            self.send(Reply::new(421, "4.7.0 Too many errors, closing connection")).await?;
            return Ok(Step::Close);
        }
        self.send(reply).await
    }

    async fn send(&mut self, reply: Reply) -> std::io::Result<Step> {
        self.delay().await;
        self.io.write(&reply.render()).await?;
        Ok(if reply.is_closing() { Step::Close } else { Step::Continue })
    }

    /// Fault `slow`: every reply after the greeting waits.
    async fn delay(&self) {
        if let Some(delay) = self.ctx.faults.reply_delay() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// EHLO keywords: before TLS only what is needed to start TLS (AUTH only with fault
/// `auth-before-tls`); after TLS the submission service.
pub fn capabilities(ctx: &MockContext, tls: bool, client: &str) -> Vec<String> {
    let size = format!("SIZE {}", ctx.max_message_size);
    let auth = "AUTH XOAUTH2 OAUTHBEARER PLAIN".to_string();
    let mut lines = vec![format!("{} greets {client}", ctx.host_name)];
    if tls {
        lines.push(auth);
        lines.push(size);
        if !ctx.faults.is_on(Fault::NoDsn) {
            lines.push("DSN".into());
        }
        lines.extend(["8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "PIPELINING"].map(String::from));
    } else {
        lines.push("STARTTLS".into());
        if ctx.faults.is_on(Fault::AuthBeforeTls) {
            lines.push(auth);
        }
        lines.push(size);
        lines.extend(["8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"].map(String::from));
    }
    lines
}

fn parse_error_reply(error: &smtp_proto::Error, line: &[u8]) -> Reply {
    use smtp_proto::Error as E;
    let is_auth = line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"AUTH ");
    match error {
        E::SyntaxError { .. } if is_auth => Reply::new(504, "5.5.4 Unrecognized authentication type"),
        E::UnknownCommand => Reply::new(500, "5.5.2 Syntax error, command unrecognized"),
        E::SyntaxError { syntax } => Reply::new(501, format!("5.5.4 Syntax: {syntax}")),
        E::InvalidSenderAddress => Reply::new(501, "5.1.7 Bad sender address syntax"),
        E::InvalidRecipientAddress => Reply::new(501, "5.1.3 Bad recipient address syntax"),
        E::InvalidParameter { param } => Reply::new(501, format!("5.5.4 Invalid parameter {param}")),
        E::UnsupportedParameter { param } => Reply::new(555, format!("5.5.4 Unsupported parameter {param}")),
        _ => Reply::new(500, "5.5.2 Syntax error"),
    }
}

/// A queue id unique within the process.
fn queue_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!("{:X}{:05X}", Utc::now().timestamp(), NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::context;

    #[test]
    fn capabilities_follow_tls_and_faults() {
        let ctx = context(&[]);
        let plain = capabilities(&ctx, false, "c");
        assert!(plain.contains(&"STARTTLS".to_string()));
        assert!(!plain.iter().any(|l| l.starts_with("AUTH")));
        let tls = capabilities(&ctx, true, "c");
        assert!(tls.contains(&"AUTH XOAUTH2 OAUTHBEARER PLAIN".to_string()) && tls.contains(&"DSN".to_string()));
        assert!(!tls.contains(&"STARTTLS".to_string()));
        let ctx = context(&[Fault::NoDsn, Fault::AuthBeforeTls]);
        assert!(!capabilities(&ctx, true, "c").contains(&"DSN".to_string()));
        assert!(capabilities(&ctx, false, "c").iter().any(|l| l.starts_with("AUTH")));
    }

    #[test]
    fn parse_errors_map_to_replies() {
        let reply = |line: &[u8]| match Request::parse(&mut line.iter()) {
            Err(e) => parse_error_reply(&e, line).code,
            Ok(_) => 0,
        };
        assert_eq!(reply(b"FOO bar\r\n"), 500);
        assert_eq!(reply(b"RCPT TO:<a@b> XYZ=1\r\n"), 555);
        assert_eq!(reply(b"\x01\x02\xff\r\n"), 500);
        assert_ne!(queue_id(), queue_id());
    }
}

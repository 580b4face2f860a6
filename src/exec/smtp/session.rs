//! One SMTP client connection to the target.
//!
//! Each method sends one command and returns the server's reply as an observation, whatever its
//! code. Misuse that is cheap to rule out (STARTTLS on a TLS session, a CR or LF inside an
//! address) is a harness error; everything else a negative test needs out of order goes through
//! the explicit raw escape hatch: [`SmtpSession::command`], [`SmtpSession::send_raw`],
//! [`SmtpSession::read_reply`]. The one exception: a 4xx to the greeting, EHLO or STARTTLS is the
//! server saying "try later" ([`SmtpError::Unavailable`]), which says nothing of conformance.

use std::time::Duration;

use tokio::net::TcpStream;
use zeroize::Zeroizing;

use super::auth::{self, AuthExchange, AuthRequest};
use super::capabilities::Capabilities;
use super::data::{CHUNK, DataBody, DataExchange, DotStuffer, SentBody, SliceBody};
use super::error::{SmtpError, Stage};
use super::reply::Reply;
use super::wire::Wire;
use crate::exec::net::{self, Endpoint, TlsMode};
use crate::exec::sasl::Credentials;
use crate::scenario::model::Mechanism;
use crate::exec::tls::{Conn, TlsFacts, TlsSettings};
use crate::exec::transcript::Transcript;

/// The bounds of every network wait of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpTimeouts {
    pub connect: Duration,
    /// For each complete reply (and each write).
    pub reply: Duration,
    /// How long to watch for the server hanging up after a refusal (e.g. a failed AUTH).
    pub close_grace: Duration,
}

impl SmtpTimeouts {
    pub fn new(connect: Duration, reply: Duration) -> Self {
        SmtpTimeouts { connect, reply, close_grace: Duration::from_millis(500) }
    }
}

impl Default for SmtpTimeouts {
    fn default() -> Self {
        SmtpTimeouts::new(Duration::from_secs(10), Duration::from_secs(30))
    }
}

pub struct SmtpSession {
    wire: Wire,
    host: String,
    port: u16,
    timeouts: SmtpTimeouts,
    tls_facts: Option<TlsFacts>,
    capabilities: Option<Capabilities>,
    /// Only the protocol unit tests (scripted plaintext servers) turn this on.
    plaintext_auth_for_tests: bool,
}

impl SmtpSession {
    /// Connects (TLS first when the endpoint is implicit TLS) and reads the greeting.
    pub async fn connect(
        endpoint: &Endpoint,
        tls: &TlsSettings,
        timeouts: SmtpTimeouts,
        transcript: Transcript,
    ) -> Result<(SmtpSession, Reply), SmtpError> {
        transcript.note(&format!("connecting to {endpoint} ({:?})", endpoint.tls));
        let tcp = net::connect(&endpoint.host, endpoint.port, timeouts.connect).await.inspect_err(|e| {
            transcript.note(&e.to_string());
        })?;
        let mut session = SmtpSession::new(tcp, &endpoint.host, endpoint.port, timeouts, transcript);
        if endpoint.tls == TlsMode::Implicit {
            let facts = session.handshake(tls, "implicit TLS handshake").await.map_err(plaintext_refusal)?;
            session.tls_facts = Some(facts);
        }
        let greeting = session.wire.read_reply(Stage::Greeting, timeouts.reply).await?;
        busy(Stage::Greeting, &greeting)?;
        Ok((session, greeting))
    }

    /// Starts a plaintext session on an already connected stream and reads the greeting.
    pub async fn from_tcp(
        tcp: TcpStream,
        host: &str,
        port: u16,
        timeouts: SmtpTimeouts,
        transcript: Transcript,
    ) -> Result<(SmtpSession, Reply), SmtpError> {
        let mut session = SmtpSession::new(tcp, host, port, timeouts, transcript);
        let greeting = session.wire.read_reply(Stage::Greeting, timeouts.reply).await?;
        busy(Stage::Greeting, &greeting)?;
        Ok((session, greeting))
    }

    fn new(tcp: TcpStream, host: &str, port: u16, timeouts: SmtpTimeouts, transcript: Transcript) -> Self {
        SmtpSession {
            wire: Wire::new(Conn::Plain(tcp), transcript),
            host: host.to_string(),
            port,
            timeouts,
            tls_facts: None,
            capabilities: None,
            plaintext_auth_for_tests: false,
        }
    }

    /// Lets the unit tests' scripted plaintext servers see AUTH (never compiled outside tests).
    #[cfg(test)]
    pub(crate) fn allow_plaintext_auth_for_tests(&mut self) {
        self.plaintext_auth_for_tests = true;
    }

    /// `EHLO name`; the capabilities are empty when the reply is not 250.
    pub async fn ehlo(&mut self, name: &str) -> Result<(Reply, Capabilities), SmtpError> {
        check_no_line_break("EHLO name", name)?;
        let reply = self.exchange(&format!("EHLO {name}"), "EHLO").await?;
        busy("EHLO".into(), &reply)?;
        let caps = Capabilities::from_ehlo(&reply);
        self.capabilities = Some(caps.clone());
        Ok((reply, caps))
    }

    /// `STARTTLS`, then the handshake if (and only if) the server answered 220.
    pub async fn starttls(&mut self, tls: &TlsSettings) -> Result<(Reply, Option<TlsFacts>), SmtpError> {
        if self.is_tls() {
            return Err(SmtpError::Misuse(
                "STARTTLS on a session that is already TLS; use command() to test that".into(),
            ));
        }
        let reply = self.exchange("STARTTLS", "STARTTLS").await?;
        busy("STARTTLS".into(), &reply)?;
        if reply.code != 220 {
            return Ok((reply, None));
        }
        let facts = self.handshake(tls, "STARTTLS handshake").await?;
        self.tls_facts = Some(facts.clone());
        // RFC 3207 §4.2: what the server said before TLS is forgotten.
        self.capabilities = None;
        Ok((reply, Some(facts)))
    }

    async fn handshake(&mut self, tls: &TlsSettings, during: &str) -> Result<TlsFacts, SmtpError> {
        match self.wire.upgrade(tls).await {
            Ok(facts) => {
                self.wire.transcript().note(&facts.summary());
                Ok(facts)
            }
            Err((error, facts)) => {
                let transcript = self.wire.transcript();
                transcript.note(&format!("TLS handshake failed: {error}"));
                transcript.note(&facts.summary());
                Err(SmtpError::Tls { during: during.into(), error, facts: Box::new(facts) })
            }
        }
    }

    /// `AUTH mechanism [initial-response]` and the whole SASL exchange that follows.
    pub async fn auth(
        &mut self,
        mechanism: Mechanism,
        credentials: &Credentials,
        initial_response: bool,
    ) -> Result<AuthExchange, SmtpError> {
        // Checked here, where the session knows whether TLS is up (a STARTTLS answered with a
        // non-220 leaves the session in clear).
        match crate::exec::sasl::clear_text_login(self.is_tls() || self.plaintext_auth_for_tests, credentials, "AUTH") {
            Ok(Some(note)) => self.wire.transcript().note(&note),
            Ok(None) => {}
            Err(refusal) => return Err(SmtpError::Misuse(refusal)),
        }
        let req = AuthRequest { mechanism, credentials, initial_response, host: &self.host, port: self.port };
        auth::authenticate(&mut self.wire, req, self.timeouts.reply, self.timeouts.close_grace).await
    }

    /// `MAIL FROM:<addr> params…`
    pub async fn mail_from(&mut self, addr: &str, params: &[String]) -> Result<Reply, SmtpError> {
        let line = path_command("MAIL FROM", addr, params);
        check_no_line_break("MAIL FROM address or parameter", &line)?;
        self.exchange(&line, "MAIL FROM").await
    }

    /// `RCPT TO:<addr> params…`
    pub async fn rcpt_to(&mut self, addr: &str, params: &[String]) -> Result<Reply, SmtpError> {
        let line = path_command("RCPT TO", addr, params);
        check_no_line_break("RCPT TO address or parameter", &line)?;
        self.exchange(&line, "RCPT TO").await
    }

    /// `DATA`, then, after a 354, the dot-stuffed body and the end-of-data marker. The body is
    /// sent as given (line ends are the caller's); the transcript gets a summary, not the body.
    pub async fn data(&mut self, message: &[u8]) -> Result<DataExchange, SmtpError> {
        self.data_from(&mut SliceBody::new(message)).await
    }

    /// [`Self::data`] with a body read chunk by chunk (a message that is never whole in memory):
    /// each chunk is dot-stuffed, hashed and written before the next is read.
    pub async fn data_from(&mut self, body: &mut dyn DataBody) -> Result<DataExchange, SmtpError> {
        let intermediate = self.exchange("DATA", "DATA").await?;
        if intermediate.code != 354 {
            return Ok(DataExchange { intermediate, final_reply: None });
        }
        let mut stuffer = DotStuffer::default();
        let mut sent = SentBody::default();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut out = Vec::with_capacity(CHUNK + CHUNK / 8);
        while body.next_chunk(&mut chunk) {
            sent.update(&chunk);
            out.clear();
            stuffer.stuff(&chunk, &mut out);
            if let Err(error) = self.wire.write(&out, "message body", self.timeouts.reply).await {
                let partial = format!("<partial message: {} bytes written when sending stopped>", sent.bytes);
                self.wire.transcript().sent(&partial);
                return self.early_data_reply(intermediate, error).await;
            }
        }
        self.wire.transcript().sent(&sent.summary(body.head()));
        if stuffer.stuffed_lines > 0 {
            self.wire.transcript().note(&format!("{} line(s) dot-stuffed", stuffer.stuffed_lines));
        }
        self.wire.transcript().sent(".");
        self.wire.write(stuffer.terminator(), "end of data", self.timeouts.reply).await?;
        let final_reply = self.wire.read_reply("reply to end of data", self.timeouts.reply).await?;
        Ok(DataExchange { intermediate, final_reply: Some(final_reply) })
    }

    /// The server hung up in the middle of the body; a server refusing a message as too big
    /// (552) may have said so first, and that reply is the observation.
    async fn early_data_reply(&mut self, intermediate: Reply, error: SmtpError) -> Result<DataExchange, SmtpError> {
        if !matches!(error, SmtpError::Closed { .. }) {
            return Err(error);
        }
        match self.wire.read_reply("reply during the message body", self.timeouts.close_grace).await {
            Ok(reply) => {
                self.wire.transcript().note("the server replied and closed before the end of the body");
                Ok(DataExchange { intermediate, final_reply: Some(reply) })
            }
            Err(_) => Err(error),
        }
    }

    /// Raw escape hatch: sends `raw_line` + CRLF exactly as given, returns the reply.
    pub async fn command(&mut self, raw_line: &str) -> Result<Reply, SmtpError> {
        let verb = raw_line.split_whitespace().next().unwrap_or("(empty line)").to_string();
        self.exchange(raw_line, &verb).await
    }

    /// Raw escape hatch for a line carrying a secret: the transcript gets `description`.
    pub async fn command_secret(&mut self, raw_line: Zeroizing<String>, description: &str) -> Result<Reply, SmtpError> {
        let t = self.timeouts.reply;
        self.wire.send_secret_line(raw_line, description, "raw command", t).await?;
        self.wire.read_reply("reply to raw command", t).await
    }

    /// Raw escape hatch: writes bytes as given (no CRLF added, no reply read), e.g. pipelining or
    /// bare-LF tests. The transcript records them as text.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), SmtpError> {
        self.wire.transcript().sent(&String::from_utf8_lossy(bytes));
        self.wire.write(bytes, "raw bytes", self.timeouts.reply).await
    }

    /// Raw escape hatch: reads the next reply.
    pub async fn read_reply(&mut self) -> Result<Reply, SmtpError> {
        self.wire.read_reply("reply", self.timeouts.reply).await
    }

    /// `QUIT`, its reply, then our side of the close.
    pub async fn quit(&mut self) -> Result<Reply, SmtpError> {
        let reply = self.exchange("QUIT", "QUIT").await?;
        self.wire.shutdown(self.timeouts.close_grace).await;
        Ok(reply)
    }

    /// True if the server closes the connection within `wait`.
    pub async fn is_closed_by_peer(&mut self, wait: Duration) -> bool {
        self.wire.closed_by_peer(wait).await
    }

    pub fn tls_facts(&self) -> Option<&TlsFacts> {
        self.tls_facts.as_ref()
    }

    /// The capabilities of the last EHLO (forgotten after STARTTLS).
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    pub fn is_tls(&self) -> bool {
        self.wire.is_tls()
    }

    pub fn transcript(&self) -> &Transcript {
        self.wire.transcript()
    }

    /// The plaintext TCP stream, for a raw TLS probe after a plaintext STARTTLS.
    pub(crate) fn into_tcp(self) -> Result<TcpStream, SmtpError> {
        self.wire.into_tcp()
    }

    async fn exchange(&mut self, line: &str, verb: &str) -> Result<Reply, SmtpError> {
        let t = self.timeouts.reply;
        self.wire.send_line(line, verb, t).await?;
        self.wire.read_reply(format!("reply to {verb}"), t).await
    }
}

/// A 4xx where the session opens (greeting, EHLO, STARTTLS) is the server saying "try later":
/// no observation, an error the caller may retry (RFC 5321 §3.8, §4.2.5).
fn busy(during: Stage, reply: &Reply) -> Result<(), SmtpError> {
    if (400..500).contains(&reply.code) {
        return Err(SmtpError::Unavailable { during, reply: reply.render() });
    }
    Ok(())
}

/// The implicit TLS handshake met a plaintext "try later" (`421 …`) instead of a TLS record.
fn plaintext_refusal(e: SmtpError) -> SmtpError {
    match &e {
        SmtpError::Tls { error, .. } => match error.plaintext_refusal() {
            Some(reply) => SmtpError::Unavailable { during: "implicit TLS handshake".into(), reply },
            None => e,
        },
        _ => e,
    }
}

/// `MAIL FROM:<addr> p1 p2` / `RCPT TO:<addr> …`
fn path_command(prefix: &str, addr: &str, params: &[String]) -> String {
    let mut line = format!("{prefix}:<{addr}>");
    for p in params {
        line.push(' ');
        line.push_str(p);
    }
    line
}

fn check_no_line_break(what: &str, value: &str) -> Result<(), SmtpError> {
    if value.contains(['\r', '\n']) {
        return Err(SmtpError::Misuse(format!("{what} contains a line break; use command() for injection tests")));
    }
    Ok(())
}

//! One IMAP connection: greeting, tagged commands and their responses, STARTTLS, LOGIN,
//! raw commands for negative tests, and close detection.

use std::time::Duration;

use tokio::time::Instant;
use zeroize::Zeroizing;

use super::error::{ImapError, Stage};
use super::quote::astring;
use super::response::{
    Greeting, Kind, Response, Status, StatusKind, classify, has_capability, untagged_capabilities, untagged_exists,
};
use super::wire::{Deadline, Received, Record, Wire, excerpt};
use crate::secret::Secret;
use crate::exec::net::{self, Endpoint, TlsMode};
use crate::exec::tls::{Conn, TlsFacts, TlsSettings};
use crate::exec::transcript::Transcript;

/// How long the harness waits. Every read is bounded by one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImapTimeouts {
    /// TCP connect (the TLS handshake has its own, in `TlsSettings`).
    pub connect: Duration,
    /// From sending a command to its tagged response (also: the greeting).
    pub response: Duration,
}

/// A command's outcome before it is shaped for the caller.
pub(crate) struct Exchange {
    pub untagged: Vec<Received>,
    pub status: Status,
}

impl Exchange {
    pub fn into_response(self) -> Response {
        Response {
            untagged: self.untagged.iter().map(Received::text).collect(),
            status: self.status,
        }
    }

    /// What follows the star of each untagged response's first line.
    pub fn untagged_heads(&self) -> impl Iterator<Item = String> + '_ {
        self.untagged.iter().map(|r| match classify(&r.head()) {
            Kind::Untagged(rest) => rest.to_string(),
            _ => String::new(),
        })
    }
}

/// The next server message while a command is in flight.
pub(crate) enum Next {
    Untagged(Received),
    /// A `+` request; the text after the plus.
    Continuation(String),
    Tagged(Status),
}

/// An IMAP session with one server.
pub struct ImapSession {
    pub(super) wire: Wire,
    pub(super) timeouts: ImapTimeouts,
    /// Numeric part of the next tag (`a1`, `a2`, …).
    next_tag: u32,
    /// What the server last advertised; `None` when unknown or stale (after STARTTLS / auth).
    pub(super) capabilities: Option<Vec<String>>,
    tls: Option<TlsFacts>,
    /// Only the protocol unit tests (scripted plaintext servers) turn this on.
    pub(super) plaintext_auth_for_tests: bool,
    pub(super) endpoint: Endpoint,
    /// The last `* n EXISTS` seen in the selected mailbox.
    pub(super) exists: Option<u32>,
    /// When that `* n EXISTS` came off the connection (delivery detection is timed from it).
    pub(super) exists_at: Option<Instant>,
}

impl ImapSession {
    /// Connects, runs the TLS handshake first when the endpoint is implicit TLS, and reads the
    /// greeting. The transcript handle should already be named for this connection (`imap#1`).
    pub async fn connect(
        endpoint: &Endpoint,
        tls: &TlsSettings,
        timeouts: ImapTimeouts,
        transcript: Transcript,
    ) -> Result<(ImapSession, Greeting), ImapError> {
        let tcp = net::connect(&endpoint.host, endpoint.port, timeouts.connect).await?;
        transcript.note(&format!("connected to {endpoint}"));
        let mut conn = Conn::Plain(tcp);
        let mut facts = None;
        if endpoint.tls == TlsMode::Implicit {
            let (c, f) = upgrade(conn, tls, &transcript).await?;
            conn = c;
            facts = Some(f);
        }
        let mut session = ImapSession {
            wire: Wire::new(conn, transcript),
            timeouts,
            next_tag: 1,
            capabilities: None,
            tls: facts,
            plaintext_auth_for_tests: false,
            endpoint: endpoint.clone(),
            exists: None,
            exists_at: None,
        };
        let greeting = session.read_greeting().await?;
        // RFC 9051 §7.1.5: a BYE greeting refuses the connection; for now, as far as a client knows.
        if greeting.status.kind == StatusKind::Bye {
            return Err(ImapError::Unavailable(format!("* BYE {}", greeting.status.text).trim_end().to_string()));
        }
        Ok((session, greeting))
    }

    async fn read_greeting(&mut self) -> Result<Greeting, ImapError> {
        let msg = self
            .wire
            .read(Deadline::after(self.timeouts.response), Stage::Greeting)
            .await?;
        let head = msg.head();
        let status = match classify(&head) {
            Kind::Untagged(rest) => Status::parse(rest),
            _ => None,
        };
        let Some(status) = status.filter(|s| matches!(s.kind, StatusKind::Ok | StatusKind::Preauth | StatusKind::Bye))
        else {
            return Err(self.malformed("expected a greeting (* OK, * PREAUTH or * BYE)", &head));
        };
        let capabilities = status.capabilities();
        self.capabilities.clone_from(&capabilities);
        Ok(Greeting { status, capabilities })
    }

    /// The transcript this session writes to.
    pub fn transcript(&self) -> &Transcript {
        self.wire.transcript()
    }

    /// The facts of the TLS session in use, if the connection is TLS.
    pub fn tls_facts(&self) -> Option<&TlsFacts> {
        self.tls.as_ref()
    }

    /// The capabilities last advertised, if still valid.
    pub fn capabilities(&self) -> Option<&[String]> {
        self.capabilities.as_deref()
    }

    /// `CAPABILITY`.
    pub async fn capability(&mut self) -> Result<(Vec<String>, Status), ImapError> {
        let ex = self.run("CAPABILITY").await?;
        let caps = ex
            .untagged_heads()
            .filter_map(|h| untagged_capabilities(&h))
            .flatten()
            .collect::<Vec<_>>();
        if !caps.is_empty() {
            self.capabilities = Some(caps.clone());
        }
        Ok((caps, ex.status))
    }

    /// The current capabilities, asking the server when they are unknown.
    pub(crate) async fn ensure_capabilities(&mut self) -> Result<Vec<String>, ImapError> {
        match &self.capabilities {
            Some(caps) => Ok(caps.clone()),
            None => Ok(self.capability().await?.0),
        }
    }

    pub(crate) async fn has_capability(&mut self, name: &str) -> Result<bool, ImapError> {
        Ok(has_capability(&self.ensure_capabilities().await?, name))
    }

    /// `STARTTLS`, then the handshake on OK. No greeting follows the handshake (RFC 3501
    /// §6.2.1); bytes the server sent between its OK and the handshake are discarded and noted.
    /// A refusal is `Ok((status, None))`; a failed handshake is `Err(ImapError::Tls)`.
    pub async fn starttls(&mut self, tls: &TlsSettings) -> Result<(Status, Option<TlsFacts>), ImapError> {
        if self.wire.is_tls() {
            return Err(ImapError::Harness(
                "STARTTLS asked on a connection already in TLS".into(),
            ));
        }
        let ex = self.run("STARTTLS").await?;
        if !ex.status.is_ok() {
            return Ok((ex.status, None));
        }
        let (conn, ahead) = self.wire.take_conn();
        if ahead > 0 {
            self.transcript().note(&format!(
                "{ahead} bytes received after the STARTTLS OK, before TLS: discarded"
            ));
        }
        let conn = conn.ok_or_else(|| ImapError::Closed {
            waiting_for: "the TLS handshake".into(),
        })?;
        let transcript = self.transcript().clone();
        let (conn, facts) = match upgrade(conn, tls, &transcript).await {
            Ok(ok) => ok,
            Err(e) => {
                self.wire.close().await;
                return Err(e);
            }
        };
        self.wire.put_conn(conn);
        self.tls = Some(facts.clone());
        // Capabilities learnt before TLS must not be trusted after it (RFC 3501 §6.2.1).
        self.capabilities = None;
        Ok((ex.status, Some(facts)))
    }

    /// `LOGIN user password`; the line is recorded without the password.
    /// Without TLS only the harness's made-up password goes (a negative test), and the
    /// transcript says so; any other password is refused before a byte is sent.
    pub async fn login(&mut self, user: &str, password: &Secret) -> Result<Status, ImapError> {
        let creds = crate::exec::sasl::Credentials { user: user.to_string(), secret: Some(password.clone()) };
        let tls = self.wire.is_tls() || self.plaintext_auth_for_tests;
        if let Some(note) = crate::exec::sasl::clear_text_login(tls, &creds, "LOGIN").map_err(ImapError::Harness)? {
            self.transcript().note(&note);
        }
        let tag = self.new_tag();
        let user = astring(user)?;
        let password = Zeroizing::new(
            astring(password.expose()).map_err(|_| ImapError::Harness("the password holds CR, LF or NUL".into()))?,
        );
        let line = Zeroizing::new(format!("{tag} LOGIN {user} {}\r\n", password.as_str()));
        let description = format!("{tag} LOGIN {user} <redacted password>");
        let deadline = Deadline::after(self.timeouts.response);
        self.wire
            .write(line.as_bytes(), Record::Secret(&description), deadline)
            .await?;
        let ex = self.finish(&tag, deadline, "the LOGIN response").await?;
        self.after_authentication(&ex.status);
        Ok(ex.status)
    }

    /// `NOOP`.
    pub async fn noop(&mut self) -> Result<Response, ImapError> {
        Ok(self.run("NOOP").await?.into_response())
    }

    /// `LOGOUT`, then the connection is closed.
    pub async fn logout(&mut self) -> Result<Response, ImapError> {
        let ex = self.run("LOGOUT").await;
        self.wire.close().await;
        Ok(ex?.into_response())
    }

    /// Any command, sent as given after a fresh tag (negative tests: `SELECT INBOX` before
    /// authentication, unknown commands…). `raw` is one line, without CRLF.
    pub async fn command(&mut self, raw: &str) -> Result<Response, ImapError> {
        Ok(self.run(raw).await?.into_response())
    }

    /// True when the server closes the connection (EOF or reset) within `wait`. Anything it sends
    /// meanwhile (`* BYE`…) goes to the transcript.
    pub async fn is_closed_by_peer(&mut self, wait: Duration) -> bool {
        let deadline = Deadline::after(wait);
        loop {
            match self.wire.read(deadline, "more data or a close").await {
                Ok(_) => continue,
                Err(ImapError::Closed { .. } | ImapError::Io(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Sends `line` under a fresh tag and reads up to its tagged response.
    pub(crate) async fn run(&mut self, line: &str) -> Result<Exchange, ImapError> {
        let (tag, deadline) = self.send(line).await?;
        let what = format!("the response to {}", command_name(line));
        self.finish(&tag, deadline, &what).await
    }

    /// Sends `line` under a fresh tag; returns the tag and the deadline of its response.
    pub(crate) async fn send(&mut self, line: &str) -> Result<(String, Deadline), ImapError> {
        // Every tagged command goes through here: a CR or LF inside would be a second command.
        if line.contains(['\r', '\n']) {
            return Err(ImapError::Harness(format!(
                "{}: the command line holds a line break (CR or LF); refused, nothing was sent",
                command_name(line)
            )));
        }
        let tag = self.new_tag();
        let deadline = Deadline::after(self.timeouts.response);
        self.wire
            .write(format!("{tag} {line}\r\n").as_bytes(), Record::Wire, deadline)
            .await?;
        Ok((tag, deadline))
    }

    /// Reads up to the tagged response of `tag`. A `* BYE` followed by a close without a tagged
    /// response gives a `BYE` status rather than an error: the server did answer.
    pub(crate) async fn finish(&mut self, tag: &str, deadline: Deadline, what: &str) -> Result<Exchange, ImapError> {
        let mut untagged = Vec::new();
        let mut bye: Option<Status> = None;
        let mut bound = UntaggedBound::default();
        loop {
            match self.next(tag, deadline, what).await {
                Ok(Next::Tagged(status)) => return Ok(Exchange { untagged, status }),
                Ok(Next::Untagged(msg)) => {
                    if let Kind::Untagged(rest) = classify(&msg.head()) {
                        bye = Status::parse(rest).filter(|s| s.kind == StatusKind::Bye).or(bye);
                    }
                    bound.add(&msg, self.transcript())?;
                    untagged.push(msg);
                }
                Ok(Next::Continuation(_)) => {
                    self.transcript().note("unexpected continuation request: ignored");
                }
                Err(ImapError::Closed { .. }) if bye.is_some() => {
                    let status = bye.unwrap_or_else(|| Status::bye(""));
                    return Ok(Exchange { untagged, status });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next message for the command tagged `tag`, skipping late responses to earlier
    /// commands (after a timeout) and noting capability and EXISTS updates.
    pub(crate) async fn next(&mut self, tag: &str, deadline: Deadline, what: &str) -> Result<Next, ImapError> {
        loop {
            let msg = self.wire.read(deadline, what).await?;
            let read_at = Instant::now();
            let head = msg.head();
            match classify(&head) {
                Kind::Untagged(rest) => {
                    self.observe_untagged(rest, read_at);
                    return Ok(Next::Untagged(msg));
                }
                Kind::Continuation(text) => return Ok(Next::Continuation(text.to_string())),
                Kind::Tagged { tag: t, rest } if t == tag => {
                    let Some(status) = Status::parse(rest) else {
                        return Err(self.malformed("tagged response without OK, NO or BAD", &head));
                    };
                    if let Some(caps) = status.capabilities() {
                        self.capabilities = Some(caps);
                    }
                    return Ok(Next::Tagged(status));
                }
                Kind::Tagged { tag: t, .. } if self.is_stale_tag(t) => {
                    self.transcript()
                        .note(&format!("late response to earlier command {t}: ignored"));
                }
                Kind::Tagged { .. } => {
                    return Err(self.malformed(&format!("expected a response to {tag}"), &head));
                }
            }
        }
    }

    fn observe_untagged(&mut self, rest: &str, read_at: Instant) {
        if let Some(caps) = untagged_capabilities(rest) {
            self.capabilities = Some(caps);
        } else if let Some(caps) = Status::parse(rest).and_then(|s| s.capabilities()) {
            self.capabilities = Some(caps);
        } else if let Some(n) = untagged_exists(rest) {
            self.exists = Some(n);
            self.exists_at = Some(read_at);
        }
    }

    /// After LOGIN / AUTHENTICATE: capabilities change unless the OK carried them.
    pub(crate) fn after_authentication(&mut self, status: &Status) {
        if status.is_ok() {
            self.capabilities = status.capabilities();
        }
    }

    pub(crate) fn new_tag(&mut self) -> String {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    fn is_stale_tag(&self, tag: &str) -> bool {
        tag.strip_prefix('a')
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n > 0 && n < self.next_tag)
    }

    pub(crate) fn malformed(&self, reason: &str, line: &str) -> ImapError {
        let excerpt = self.transcript().secrets().scrub(&excerpt(line.as_bytes()));
        self.transcript().note(&format!("malformed response ({reason})"));
        ImapError::Malformed {
            reason: reason.to_string(),
            excerpt,
        }
    }
}

/// The handshake on `conn`, noted in the transcript either way.
async fn upgrade(conn: Conn, tls: &TlsSettings, transcript: &Transcript) -> Result<(Conn, TlsFacts), ImapError> {
    match conn.upgrade(tls).await {
        Ok((conn, facts)) => {
            transcript.note(&facts.summary());
            Ok((conn, facts))
        }
        Err((error, facts)) => {
            transcript.note(&format!("TLS handshake failed: {error}; {}", facts.summary()));
            if let Some(line) = error.plaintext_refusal() {
                return Err(ImapError::Unavailable(line));
            }
            Err(ImapError::Tls {
                error,
                facts: Box::new(facts),
            })
        }
    }
}

/// The most untagged responses one command may collect.
const MAX_UNTAGGED: usize = 100_000;
/// The most bytes one command's untagged responses may hold (a fetched message included).
const MAX_RESPONSE_BYTES: usize = 320 << 20;

/// Counts one command's untagged responses (`finish`, `AUTHENTICATE`): a server streaming
/// untagged data cannot grow one response without end (a fetched message is one response,
/// within the literal cap).
#[derive(Default)]
pub(super) struct UntaggedBound {
    count: usize,
    bytes: usize,
}

impl UntaggedBound {
    /// Counts `msg`; past the bound, notes it and gives the error naming it.
    pub(super) fn add(&mut self, msg: &Received, transcript: &Transcript) -> Result<(), ImapError> {
        self.count += 1;
        self.bytes += msg.pieces.iter().map(|p| match p { super::wire::Piece::Line(l) | super::wire::Piece::Literal(l) => l.len() }).sum::<usize>();
        if self.count <= MAX_UNTAGGED && self.bytes <= MAX_RESPONSE_BYTES {
            return Ok(());
        }
        let reason = format!("more than {MAX_UNTAGGED} untagged responses or {} MiB before the tagged response", MAX_RESPONSE_BYTES >> 20);
        transcript.note(&format!("stopped reading: {reason}"));
        Err(ImapError::Malformed { reason, excerpt: msg.head().chars().take(80).collect() })
    }
}

/// `UID FETCH` for `UID FETCH 4 (FLAGS)`, for messages about what the harness waits for.

fn command_name(line: &str) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(first), Some(second)) if first.eq_ignore_ascii_case("UID") => format!("UID {second}"),
        (Some(first), _) => first.to_string(),
        _ => "an empty command".into(),
    }
}

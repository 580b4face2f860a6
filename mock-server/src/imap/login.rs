//! AUTHENTICATE (with or without SASL-IR) and LOGIN, as the session runs them.
//!
//! A refused bearer token gets the RFC 7628 error challenge (`+ ` and base64 JSON), the
//! client's (dummy) answer is read, then `NO [AUTHENTICATIONFAILED]`; the session stays
//! unauthenticated.

use std::borrow::Cow;

use imap_next::types::CommandAuthenticate;
use imap_types::auth::AuthenticateData;
use imap_types::core::Tag;
use imap_types::response::{Code, CommandContinuationRequest};

use crate::faults::Fault;

use super::auth;
use super::caps::{self, Stage};
use super::outcome::{Outcome, code};
use super::sasl::{self, BEARER_ERROR_CHALLENGE, Mechanism};
use super::exchange::{AuthExchange, Awaiting};
use super::session::{Session, State};

fn failed() -> Outcome {
    Outcome::no("Authentication failed").with_code(code("AUTHENTICATIONFAILED"))
}

impl Session {
    /// Whether credentials may be sent on this connection now.
    fn auth_allowed(&self) -> bool {
        self.secure() || self.ctx.faults.is_on(Fault::AuthBeforeTls)
    }

    pub fn on_authenticate(&mut self, command: CommandAuthenticate) {
        let CommandAuthenticate { tag, mechanism, initial_response } = command;
        if self.state.mailbox().is_some() {
            return self.finish_authenticate(tag, Outcome::bad("Already authenticated"));
        }
        if !self.auth_allowed() {
            let refusal = Outcome::no("AUTHENTICATE requires TLS: use STARTTLS first").with_code(code("PRIVACYREQUIRED"));
            return self.finish_authenticate(tag, refusal);
        }
        let Some(mechanism) = Mechanism::from_imap(&mechanism) else {
            return self.finish_authenticate(tag, Outcome::no(format!("Unsupported SASL mechanism {mechanism}")));
        };
        match initial_response {
            Some(payload) => self.check_credentials(tag, mechanism, payload.declassify()),
            None => {
                let empty = CommandContinuationRequest::Base64(Cow::Borrowed(&b""[..]));
                if self.server.authenticate_continue(empty).is_ok() {
                    self.wire.log.expect_secret_line();
                    self.auth = Some(AuthExchange { tag, mechanism, awaiting: Awaiting::Response });
                }
            }
        }
    }

    pub fn on_authenticate_data(&mut self, data: AuthenticateData<'static>) {
        let Some(exchange) = self.auth.take() else { return };
        match (data, exchange.awaiting) {
            (AuthenticateData::Cancel, _) => {
                self.finish_authenticate(exchange.tag, Outcome::bad("Authentication cancelled by the client"))
            }
            (AuthenticateData::Continue(_), Awaiting::ErrorAck) => self.finish_authenticate(exchange.tag, failed()),
            (AuthenticateData::Continue(payload), Awaiting::Response) => {
                self.check_credentials(exchange.tag, exchange.mechanism, payload.declassify())
            }
        }
    }

    fn check_credentials(&mut self, tag: Tag<'static>, mechanism: Mechanism, payload: &[u8]) {
        let decision = sasl::parse(mechanism, payload)
            .map_err(|e| e.to_string())
            .and_then(|credentials| auth::authorize(&self.ctx, self.tls.as_ref(), &credentials).map_err(|e| e.to_string()));
        match decision {
            Ok(mailbox) => {
                self.wire.log.note(&format!("authenticated as {mailbox} ({mechanism:?})"));
                self.state = State::Authenticated { mailbox };
                let caps = caps::capabilities(&self.ctx.faults, Stage { secure: self.secure(), authenticated: true });
                self.finish_authenticate(tag, Outcome::ok("Authenticated").with_code(Code::Capability(caps)));
            }
            Err(reason) => {
                self.wire.log.note(&format!("authentication refused ({mechanism:?}): {reason}"));
                let challenge = CommandContinuationRequest::Base64(Cow::Borrowed(BEARER_ERROR_CHALLENGE));
                if mechanism.is_bearer() && self.server.authenticate_continue(challenge).is_ok() {
                    self.auth = Some(AuthExchange { tag, mechanism, awaiting: Awaiting::ErrorAck });
                } else {
                    self.finish_authenticate(tag, failed());
                }
            }
        }
    }

    pub fn finish_authenticate(&mut self, tag: Tag<'static>, outcome: Outcome) {
        // Only fails when no AUTHENTICATE is in progress, which the callers rule out.
        let _ = self.server.authenticate_finish(outcome.tagged(tag));
    }

    /// LOGIN is never accepted: PER/ORG mailboxes use bearer tokens, APP mailboxes certificates.
    pub fn login_refusal(&self) -> Outcome {
        if self.state.mailbox().is_some() {
            Outcome::bad("Already authenticated")
        } else if !self.auth_allowed() {
            Outcome::no("LOGIN is disabled before STARTTLS").with_code(code("PRIVACYREQUIRED"))
        } else {
            Outcome::no("LOGIN is not accepted: use AUTHENTICATE XOAUTH2 or OAUTHBEARER with a Pro Sante Connect token, or a client certificate with PLAIN or EXTERNAL")
                .with_code(code("AUTHENTICATIONFAILED"))
        }
    }
}

//! The SASL exchange of `AUTH` (RFC 4954), recorded reply by reply.
//!
//! The client response carries the secret, so the `AUTH` line and the response line reach the
//! transcript only as `sasl::describe` text. Server challenges are recorded raw and decoded: a
//! failed XOAUTH2/OAUTHBEARER login is a `334` carrying base64 JSON (RFC 7628 §3.2.2), to which the
//! client answers with an empty line before the server sends the final `535`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::error::SmtpError;
use super::reply::Reply;
use super::wire::Wire;
use crate::exec::sasl::{self, Credentials};
use crate::scenario::model::Mechanism;

/// One server reply of the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthStep {
    pub reply: Reply,
    /// For a 334: the challenge decoded from base64 (empty for an empty challenge); `None` if it
    /// is not base64 UTF-8, or for a final reply.
    pub decoded_challenge: Option<String>,
}

/// Everything the server said during one `AUTH`, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthExchange {
    pub mechanism: Mechanism,
    /// True if the response was sent on the `AUTH` line (RFC 4954 initial response).
    pub initial_response: bool,
    pub steps: Vec<AuthStep>,
    /// True if the server closed the connection right after its last reply (or instead of one).
    pub closed_by_peer: bool,
}

impl AuthExchange {
    /// The reply that ended the exchange (the first non-334), if one came.
    pub fn final_reply(&self) -> Option<&Reply> {
        self.steps.last().map(|s| &s.reply).filter(|r| r.code != 334)
    }

    /// The 334 challenges, in order.
    pub fn challenges(&self) -> impl Iterator<Item = &AuthStep> {
        self.steps.iter().filter(|s| s.reply.code == 334)
    }
}

/// Challenges answered before the harness cancels the exchange with `*` (RFC 4954 §4): every
/// mechanism used here needs at most one response plus one error acknowledgement.
const MAX_CHALLENGES: usize = 3;
/// Replies read in total, so that a server answering `*` with yet another 334 cannot loop us.
const MAX_STEPS: usize = MAX_CHALLENGES + 2;

pub(crate) struct AuthRequest<'a> {
    pub mechanism: Mechanism,
    pub credentials: &'a Credentials,
    pub initial_response: bool,
    /// OAUTHBEARER's `host`/`port` fields.
    pub host: &'a str,
    pub port: u16,
}

pub(crate) async fn authenticate(
    wire: &mut Wire,
    req: AuthRequest<'_>,
    reply_timeout: Duration,
    close_grace: Duration,
) -> Result<AuthExchange, SmtpError> {
    let name = req.mechanism.name();
    let response = Zeroizing::new(sasl::client_response_b64(req.mechanism, req.credentials, req.host, req.port));
    let description = sasl::describe(req.mechanism, req.credentials);
    if req.initial_response {
        let line = Zeroizing::new(format!("AUTH {name} {}", response.as_str()));
        wire.send_secret_line(line, &format!("AUTH {name} {description}"), "AUTH", reply_timeout).await?;
    } else {
        wire.send_line(&format!("AUTH {name}"), "AUTH", reply_timeout).await?;
    }
    let mut exchange = AuthExchange {
        mechanism: req.mechanism,
        initial_response: req.initial_response,
        steps: Vec::new(),
        closed_by_peer: false,
    };
    let mut response_sent = req.initial_response;
    while exchange.steps.len() < MAX_STEPS {
        let reply = match wire.read_reply("reply to AUTH", reply_timeout).await {
            Ok(reply) => reply,
            // A server that hangs up after a challenge has answered, in its way.
            Err(SmtpError::Closed { .. }) if !exchange.steps.is_empty() => {
                wire.transcript().note("the server closed the connection during the SASL exchange");
                exchange.closed_by_peer = true;
                return Ok(exchange);
            }
            Err(e) => return Err(e),
        };
        if reply.code != 334 {
            exchange.steps.push(AuthStep { reply, decoded_challenge: None });
            break;
        }
        let decoded = sasl::decode_challenge(reply.first_line());
        note_challenge(wire, decoded.as_deref());
        exchange.steps.push(AuthStep { reply, decoded_challenge: decoded });
        let challenges = exchange.challenges().count();
        if challenges > MAX_CHALLENGES {
            wire.send_line("*", "AUTH cancellation", reply_timeout).await?;
        } else if !response_sent {
            let line = Zeroizing::new(response.to_string());
            wire.send_secret_line(line, &description, "AUTH response", reply_timeout).await?;
            response_sent = true;
        } else {
            // RFC 7628 §3.2.3 / XOAUTH2: acknowledge the error challenge with an empty response.
            wire.send_line("", "AUTH error acknowledgement", reply_timeout).await?;
        }
    }
    let refused = exchange.final_reply().is_none_or(|r| !r.is_positive());
    if refused && wire.closed_by_peer(close_grace).await {
        wire.transcript().note(&format!("the server closed the connection within {close_grace:?}"));
        exchange.closed_by_peer = true;
    }
    Ok(exchange)
}

fn note_challenge(wire: &Wire, decoded: Option<&str>) {
    let text = match decoded {
        Some("") => "SASL challenge: empty".to_string(),
        Some(text) => format!("SASL challenge decoded: {text}"),
        None => "SASL challenge is not base64 UTF-8".to_string(),
    };
    wire.transcript().note(&text);
}

//! What a step will do, as typed items: one description that both front ends render — the
//! audit screen in French (`fr`), the dry run in English with its totals (`en`, `totals`).
//! Built from the step model and the target profile, with `${…}` resolved by the caller's
//! `render`; secrets are never in it, only where they come from. No IO: what only the executor
//! knows (a message's built size, the key-exchange probe's offers) is given by the front end
//! through [`ExecFacts`].

pub mod en;
mod expect;
pub mod fr;
pub mod login;
pub mod totals;
mod walk;

use std::path::PathBuf;

use crate::cipher::families::FamilyOffer;
use crate::fixtures::guard::Guard;
use crate::scenario::model::{Alteration, ClientCert, Mechanism, MessageSpec, Step, TlsVersions};
use crate::target::allow::HostAllowList;
use crate::target::model::{Endpoint, Mailbox as MailboxSpec, Target};

pub use expect::Expect;
pub use login::Protocol;

/// Resolves `${…}` in a scenario text (the text itself when it cannot be resolved yet).
pub type Render<'a> = &'a dyn Fn(&str) -> String;

/// What the describer reads besides the step.
pub struct Context<'a> {
    pub target: &'a Target,
    pub render: Render<'a>,
    /// The run's send guard and host allow-list: when given, the description says what the
    /// harness would refuse (the dry run).
    pub checks: Option<Checks<'a>>,
    /// Facts only the executor knows; `None` leaves them out (the audit screen).
    pub exec: Option<&'a dyn ExecFacts>,
}

pub struct Checks<'a> {
    /// The run's send guard (declared recipients only); `Err` when the fixtures do not load.
    pub guard: &'a Result<Guard, String>,
    pub hosts: &'a HostAllowList,
}

/// What the executor decides and the plan stage cannot compute without it (no IO here).
pub trait ExecFacts {
    /// The message as the run would build it: its size in bytes, and whether every value was
    /// known (`${captured.…}` and missing fixtures make it approximate).
    fn message_size(&self, m: &MessageSpec) -> (usize, bool);
    /// Whether a raw SMTP command line opens a message (it takes a slot of the rate and cap).
    fn opens_a_message(&self, line: &str) -> bool;
    /// The key-exchange probe's connections, in order, each named in English.
    fn key_exchange_offers(&self) -> Vec<String>;
}

/// One step, described.
pub struct StepDescription<'a> {
    pub title: &'a str,
    /// The transaction whose acceptance the step waits for (`only_if_accepted`).
    pub only_if_accepted: Option<&'a str>,
    pub items: Vec<Item<'a>>,
}

/// One thing the step does, and what is expected of it.
pub struct Item<'a> {
    pub does: Does<'a>,
    pub expect: Expect<'a>,
}

pub enum Does<'a> {
    Connect(Connect<'a>),
    Ehlo { name: String },
    Starttls { server_name: &'a str },
    Login(Login<'a>),
    /// IMAP LOGIN in clear with a made-up password (a refusal test).
    PlainLogin { user: String },
    MailFrom { address: String, params: &'a [String] },
    RcptTo(Recipient<'a>),
    Message(Message<'a>),
    Transaction(Transaction<'a>),
    /// A raw command line; for SMTP, whether it opens a message (known with [`ExecFacts`]).
    RawCommand { line: String, opens_a_message: Option<bool> },
    ExpectClosed { within_ms: u64 },
    Quit,
    Capability,
    Folder { command: FolderCommand, folder: String },
    List { pattern: &'a str },
    WaitFor(WaitFor<'a>),
    Fetch { uid: String, capture: Option<&'a str> },
    Search { criteria: String },
    Store { uid: String, flags: &'a str },
    Append { message: &'a str, folder: String, flags: Option<&'a str> },
    Move { uid: String, folder: String },
    Logout,
    Tls(TlsProbe<'a>),
    Http(Http),
    Wait { ms: u64 },
    /// No protocol key, or several: the step ends in error.
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderCommand {
    Select,
    Examine,
    Create,
}

/// A named endpoint of the target, and where it is when the profile declares it.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub name: &'a str,
    pub endpoint: Option<&'a Endpoint>,
    /// The name the client sends (SNI) and checks in the certificate.
    pub server_name: &'a str,
}

pub struct Connect<'a> {
    pub protocol: Protocol,
    pub at: At<'a>,
    pub versions: Option<TlsVersions>,
    pub client_cert: Option<CertUse<'a>>,
}

/// The client certificate presented.
#[derive(Clone, Copy)]
pub enum CertUse<'a> {
    Mailbox(Mailbox<'a>),
    /// `negative.expired_client_cert`
    Expired,
    /// `negative.foreign_client_cert`
    Foreign,
    /// `negative.revoked_client_cert`
    Revoked,
}

/// A mailbox role, and its declaration in the profile.
#[derive(Clone, Copy)]
pub struct Mailbox<'a> {
    pub role: &'a str,
    pub declared: Option<&'a MailboxSpec>,
}

pub struct Login<'a> {
    pub protocol: Protocol,
    pub mailbox: Mailbox<'a>,
    pub form: LoginForm<'a>,
}

/// How the mailbox logs in, as the executor plays it (`login::form`).
pub enum LoginForm<'a> {
    /// The applicative form is the client certificate alone: no AUTH is sent.
    CertificateOnly,
    Sasl {
        mechanism: Mechanism,
        /// The mechanism written in the scenario, when the target's applicative form replaced it.
        instead_of: Option<Mechanism>,
        credential: CredentialUse<'a>,
        /// The answer goes with the command (SASL-IR), not after the server's challenge.
        initial_response: bool,
    },
}

/// Which credential is presented, and where its secret would come from (never the secret).
pub enum CredentialUse<'a> {
    Valid { token: Option<Source>, certificate: bool },
    Expired(Source),
    Revoked(Source),
    Malformed,
    TokenOf { mailbox: Mailbox<'a>, source: Source },
    Derived { from: Mailbox<'a>, source: Source, alteration: Alteration },
}

/// Where a token would come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    NotDeclared,
    Env(String),
    File(PathBuf),
    /// The helper program only: its arguments may name accounts the plan need not show.
    Command(String),
    Oauth2 { grant: &'static str, endpoint: String },
    /// The target's token issuer (`http.token_issuer`), when declared.
    Issuer(Option<String>),
}

/// An envelope recipient, and the send guard's refusal when the plan is checked.
pub struct Recipient<'a> {
    pub address: String,
    pub params: &'a [String],
    /// The reply code expected, which lets an undeclared address be tried (a refusal test).
    pub expecting: Option<&'a str>,
    pub refused: Option<String>,
}

pub struct Message<'a> {
    pub spec: &'a MessageSpec,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub disposition_notification_to: Option<String>,
    /// Built size and whether it is exact (known with [`ExecFacts`]).
    pub size: Option<(usize, bool)>,
}

/// A submission attempt judged as a whole.
pub struct Transaction<'a> {
    pub from: String,
    pub from_params: &'a [String],
    pub to: Vec<Recipient<'a>>,
    pub message: Option<Message<'a>>,
}

pub struct WaitFor<'a> {
    pub folder: String,
    pub message: Option<&'a str>,
    pub criteria: Option<String>,
    pub within_ms: u64,
    pub capture: Option<&'a str>,
}

pub struct TlsProbe<'a> {
    pub at: At<'a>,
    pub kind: TlsKind<'a>,
}

pub enum TlsKind<'a> {
    /// A full handshake; `crls` when revocation is checked (the CRLs the profile declares).
    Handshake { versions: Option<TlsVersions>, crls: Option<&'a [String]> },
    /// A ClientHello offering one version only.
    Version { version: &'a str, suites: &'a [String] },
    /// One ClientHello per family of suites outside the allow-list.
    Families(Result<Vec<FamilyOffer>, String>),
    /// Key-exchange probes; `offers` known with [`ExecFacts`].
    KeyExchange { min_dh_bits: u32, min_ecdh_bits: u32, offers: Option<Vec<String>> },
    /// Nothing to probe: the step ends in error.
    Nothing,
}

pub struct Http {
    pub method: String,
    pub url: String,
    pub has_body: bool,
    /// The host contacted, when the URL parses (and is allowed, when the plan is checked).
    pub host: Option<String>,
    pub refused: Option<String>,
}

/// Describes one step.
pub fn step<'a>(s: &'a Step, cx: &Context<'a>) -> StepDescription<'a> {
    walk::Walk { cx }.step(s)
}

impl Does<'_> {
    /// The endpoint this item connects to (mail sessions and TLS probes).
    pub fn connection(&self) -> Option<At<'_>> {
        match self {
            Does::Connect(c) => Some(c.at),
            Does::Tls(t) => Some(t.at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod same_facts;

//! How a mailbox logs in, described as the executor plays it: the mechanism comes from the one
//! decision `plan::login::mechanism`, which the runner and `mssconf load` also follow.

use super::{CredentialUse, LoginForm, Mailbox, Source};
use crate::scenario::model::{Credential, Mechanism};
use crate::target::model::{Target, TokenSource};

pub use crate::plan::login::{Protocol, mechanism};

pub(super) fn mailbox<'a>(target: &'a Target, role: &'a str) -> Mailbox<'a> {
    Mailbox { role, declared: target.mailboxes.get(role) }
}

/// The login of `role` with `credential`, as the executor plays it.
pub(super) fn form<'a>(
    target: &'a Target,
    protocol: Protocol,
    role: &'a str,
    written: Mechanism,
    credential: &'a Credential,
    initial_response: bool,
) -> LoginForm<'a> {
    let Some((mechanism, replaced)) = mechanism(target, protocol, role, written) else { return LoginForm::CertificateOnly };
    let token_of = |r: &str| source(target, target.mailboxes.get(r).and_then(|m| m.token.as_ref()));
    let credential = match credential {
        Credential::Malformed => CredentialUse::Malformed,
        Credential::Expired => CredentialUse::Expired(source(target, target.negative.expired_token.as_ref().map(TokenSource::from).as_ref())),
        Credential::Revoked => CredentialUse::Revoked(source(target, target.negative.revoked_token.as_ref().map(TokenSource::from).as_ref())),
        Credential::TokenOf(other) => CredentialUse::TokenOf { mailbox: mailbox(target, &other.value), source: token_of(&other.value) },
        Credential::Derived(d) => {
            let from = d.from.as_ref().map_or(role, |f| f.value.as_str());
            CredentialUse::Derived { from: mailbox(target, from), source: token_of(from), alteration: d.alter }
        }
        Credential::Valid => {
            let mb = target.mailboxes.get(role);
            let token = mb.and_then(|m| m.token.as_ref()).map(|t| source(target, Some(t)));
            CredentialUse::Valid { token, certificate: mb.is_some_and(|m| m.certificate.is_some()) }
        }
    };
    LoginForm::Sasl { mechanism, instead_of: replaced.then_some(written), credential, initial_response }
}

fn source(target: &Target, s: Option<&TokenSource>) -> Source {
    match s {
        None => Source::NotDeclared,
        Some(TokenSource::Env(var)) => Source::Env(var.clone()),
        Some(TokenSource::File(f)) => Source::File(f.clone()),
        Some(TokenSource::Command(argv)) => Source::Command(argv.first().cloned().unwrap_or_default()),
        Some(TokenSource::Oauth2(o)) => Source::Oauth2 { grant: o.grant.name(), endpoint: o.token_endpoint.clone() },
        Some(TokenSource::Issuer) => Source::Issuer(target.http.token_issuer.clone()),
    }
}

impl Source {
    /// The host a token request would contact (the issuer or OAuth 2.0 endpoint).
    pub fn host(&self) -> Option<String> {
        let url = match self {
            Source::Oauth2 { endpoint, .. } => endpoint,
            Source::Issuer(Some(url)) => url,
            _ => return None,
        };
        reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(String::from))
    }
}

impl CredentialUse<'_> {
    /// Where the secret comes from, when one is fetched.
    pub fn source(&self) -> Option<&Source> {
        match self {
            CredentialUse::Valid { token, .. } => token.as_ref(),
            CredentialUse::Expired(s) | CredentialUse::Revoked(s) => Some(s),
            CredentialUse::TokenOf { source, .. } | CredentialUse::Derived { source, .. } => Some(source),
            CredentialUse::Malformed => None,
        }
    }
}

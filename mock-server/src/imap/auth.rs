//! Who may open which mailbox: bearer tokens for PER/ORG mailboxes, client certificates for APP
//! mailboxes (PLAIN or EXTERNAL), as an MSSanté operator decides it.

use crate::accounts::MailboxKind;
use crate::context::MockContext;
use crate::faults::Fault;
use crate::tokens::TokenRefusal;

use super::sasl::Credentials;
use super::transport::TlsInfo;

/// Why a login was refused (logged; the client only sees AUTHENTICATIONFAILED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("bearer token refused: {0}")]
    Token(TokenRefusal),
    #[error("no mailbox `{0}` at this operator")]
    UnknownMailbox(String),
    #[error("mailbox `{0}` is not an applicative (APP) mailbox: certificate logins are for APP mailboxes")]
    NotApplicative(String),
    #[error("no client certificate was presented in the TLS handshake")]
    NoClientCertificate,
    #[error("the client certificate is bound to {bound:?}, not to `{requested}`")]
    CertificateNotBound { bound: Option<String>, requested: String },
    #[error("authorization identity `{authzid}` differs from `{authcid}`")]
    AuthzidMismatch { authzid: String, authcid: String },
}

/// The mailbox `credentials` open, given what TLS established (`None`: clear text).
pub fn authorize(ctx: &MockContext, tls: Option<&TlsInfo>, credentials: &Credentials) -> Result<String, Refusal> {
    match credentials {
        Credentials::Bearer { user, token } => bearer(ctx, user.as_deref(), token),
        Credentials::Plain { authzid, authcid } => {
            if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
                return Err(Refusal::AuthzidMismatch { authzid: authzid.clone(), authcid: authcid.clone() });
            }
            certificate(ctx, tls, authcid)
        }
        Credentials::External { authzid } => {
            let bound = tls.and_then(|t| t.cert_mailbox.clone());
            let requested = match (authzid.is_empty(), bound) {
                (false, _) => authzid.clone(),
                (true, Some(bound)) => bound,
                (true, None) => return Err(no_binding(tls)),
            };
            certificate(ctx, tls, &requested)
        }
    }
}

fn bearer(ctx: &MockContext, user: Option<&str>, token: &str) -> Result<String, Refusal> {
    // OAUTHBEARER may omit the authzid: the token then names the mailbox it was issued for.
    let mailbox = match user {
        Some(user) => user.trim().to_string(),
        None => ctx.tokens.claims(token).map(|c| c.mailbox).ok_or(Refusal::Token(TokenRefusal::Unknown))?,
    };
    ctx.tokens.validate(token, &mailbox).map_err(Refusal::Token)?;
    if !ctx.store.has_mailbox(&mailbox) {
        return Err(Refusal::UnknownMailbox(mailbox));
    }
    Ok(mailbox)
}

/// An APP mailbox opened by the TLS client certificate bound to it.
fn certificate(ctx: &MockContext, tls: Option<&TlsInfo>, requested: &str) -> Result<String, Refusal> {
    let account = ctx.accounts.get(requested).ok_or_else(|| Refusal::UnknownMailbox(requested.to_string()))?;
    if account.kind != MailboxKind::Applicative {
        return Err(Refusal::NotApplicative(account.address.clone()));
    }
    let tls = tls.filter(|t| t.has_client_cert).ok_or(Refusal::NoClientCertificate)?;
    let bound = tls.cert_mailbox.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(&account.address));
    if !bound && !ctx.faults.is_on(Fault::AcceptAnyClientCert) {
        return Err(Refusal::CertificateNotBound { bound: tls.cert_mailbox.clone(), requested: account.address.clone() });
    }
    Ok(account.address.clone())
}

fn no_binding(tls: Option<&TlsInfo>) -> Refusal {
    match tls {
        Some(t) if t.has_client_cert => Refusal::CertificateNotBound { bound: None, requested: String::new() },
        _ => Refusal::NoClientCertificate,
    }
}

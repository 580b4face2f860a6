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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Accounts;
    use crate::faults::FaultSet;
    use crate::store::Store;
    use crate::tls::ServerTls;
    use crate::tokens::TokenService;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    fn context(faults: &[Fault]) -> MockContext {
        let faults: FaultSet = faults.iter().copied().collect();
        let accounts = Accounts::standard("op.test");
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        MockContext {
            store: Store::new(accounts.all().iter().map(|a| a.address.as_str())),
            tokens: TokenService::new("mock", faults.clone()),
            faults,
            behaviours: Default::default(),
            accounts,
            tls: ServerTls::new(vec![cert.clone()], key, vec![cert]).unwrap(),
            host_name: "imap.op.test".into(),
            max_message_size: 0,
            whitelist: vec![],
            crl: None,
            log_wire: false,
            flaky_once: Default::default(),
            connections: Default::default(),
        }
    }

    fn tls_with(cert_mailbox: Option<&str>) -> TlsInfo {
        TlsInfo { has_client_cert: true, cert_mailbox: cert_mailbox.map(str::to_string) }
    }

    const PER1: &str = "dr.martin.fictif@op.test";
    const APP1: &str = "app.dpi.fictif@op.test";
    const APP2: &str = "app.labo.fictif@op.test";

    #[test]
    fn bearer_tokens() {
        let ctx = context(&[]);
        let token = ctx.tokens.issue(PER1, "1", 60);
        let by = |user: Option<&str>, token: &str| {
            authorize(&ctx, None, &Credentials::Bearer { user: user.map(str::to_string), token: token.to_string() })
        };
        assert_eq!(by(Some("DR.MARTIN.FICTIF@op.test"), &token).unwrap().to_lowercase(), PER1);
        assert_eq!(by(None, &token).unwrap(), PER1);
        assert_eq!(by(Some(APP1), &token), Err(Refusal::Token(TokenRefusal::OtherMailbox)));
        assert_eq!(by(None, "forged"), Err(Refusal::Token(TokenRefusal::Unknown)));
        // A token for a mailbox this operator does not have.
        let stray = ctx.tokens.issue("ghost@op.test", "1", 60);
        assert_eq!(by(Some("ghost@op.test"), &stray), Err(Refusal::UnknownMailbox("ghost@op.test".into())));
    }

    #[test]
    fn certificates_bind_app_mailboxes() {
        let ctx = context(&[]);
        let plain = |authzid: &str, authcid: &str| Credentials::Plain { authzid: authzid.into(), authcid: authcid.into() };
        assert_eq!(authorize(&ctx, Some(&tls_with(Some(APP1))), &plain("", APP1)).unwrap(), APP1);
        assert!(matches!(authorize(&ctx, Some(&tls_with(Some(APP2))), &plain("", APP1)), Err(Refusal::CertificateNotBound { .. })));
        assert_eq!(authorize(&ctx, Some(&TlsInfo::default()), &plain("", APP1)), Err(Refusal::NoClientCertificate));
        assert_eq!(authorize(&ctx, None, &plain("", APP1)), Err(Refusal::NoClientCertificate));
        assert!(matches!(authorize(&ctx, Some(&tls_with(Some(APP1))), &plain(APP2, APP1)), Err(Refusal::AuthzidMismatch { .. })));
        assert!(matches!(authorize(&ctx, Some(&tls_with(Some(PER1))), &plain("", PER1)), Err(Refusal::NotApplicative(_))));
        let external = |authzid: &str| Credentials::External { authzid: authzid.into() };
        assert_eq!(authorize(&ctx, Some(&tls_with(Some(APP2))), &external("")).unwrap(), APP2);
        assert!(authorize(&ctx, Some(&tls_with(Some(APP2))), &external(APP1)).is_err());
        assert!(authorize(&ctx, Some(&tls_with(None)), &external("")).is_err());
    }

    #[test]
    fn accept_any_client_cert_still_needs_a_certificate() {
        let ctx = context(&[Fault::AcceptAnyClientCert]);
        let plain = Credentials::Plain { authzid: String::new(), authcid: APP1.into() };
        assert_eq!(authorize(&ctx, Some(&tls_with(Some(APP2))), &plain).unwrap(), APP1);
        assert_eq!(authorize(&ctx, Some(&TlsInfo::default()), &plain), Err(Refusal::NoClientCertificate));
    }
}

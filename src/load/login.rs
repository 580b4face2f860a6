//! How a mailbox role logs in for the load run: the TLS settings (with its client certificate
//! for applicative mailboxes) and the SASL exchange, as the profile declares them.

use serde_saphyr::{Location, Spanned};

use crate::exec::env::RunEnv;
use crate::exec::sasl::Credentials;
use crate::scenario::model::Mechanism;
use crate::exec::tls::TlsSettings;
use crate::scenario::model::{ClientCert, Credential};
use crate::target::model::MailboxType;

pub use crate::plan::login::Protocol;

/// What a session sends after TLS to authenticate.
#[derive(Debug, Clone)]
pub enum Sasl {
    Auth { mechanism: Mechanism, credentials: Credentials },
    /// The certificate alone authenticates (Postfix `permit_tls_clientcerts`): no AUTH.
    CertificateOnly,
}

#[derive(Debug, Clone)]
pub struct Login {
    pub tls: TlsSettings,
    pub sasl: Sasl,
}

/// PER/ORG: XOAUTH2 with a token of the profile's source. APP: the mailbox's certificate, then
/// PLAIN, EXTERNAL or nothing, as `app_auth_form` says for `protocol`.
pub async fn login(env: &RunEnv, role: &str, protocol: Protocol) -> Result<Login, String> {
    let mailbox = env.target.mailboxes.get(role).ok_or_else(|| format!("the profile declares no mailbox `{role}`"))?;
    let user = mailbox.address.clone();
    if mailbox.kind != MailboxType::App {
        let token = env.token(role, &Credential::Valid).await.map_err(|e| format!("token of `{role}`: {e}"))?;
        let tls = env.tls_settings(None, None).map_err(|e| e.to_string())?;
        let credentials = Credentials { user, secret: token };
        return Ok(Login { tls, sasl: Sasl::Auth { mechanism: Mechanism::Xoauth2, credentials } });
    }
    let cert = ClientCert::Mailbox(Spanned::new(role.to_string(), Location::UNKNOWN, Location::UNKNOWN));
    let tls = env.tls_settings(None, Some(&cert)).map_err(|e| e.to_string())?;
    // The catalogue's applicative form is PLAIN; the target may declare another.
    let sasl = match crate::plan::login::mechanism(&env.target, protocol, role, Mechanism::Plain) {
        None => Sasl::CertificateOnly,
        Some((Mechanism::External, _)) => Sasl::Auth { mechanism: Mechanism::External, credentials: Credentials { user, secret: None } },
        Some(_) => {
            let secret = crate::target::secret_value::password(mailbox.password.as_ref()).map_err(|e| e.to_string())?;
            if let Some(s) = &secret {
                env.secrets.register(s);
            }
            Sasl::Auth { mechanism: Mechanism::Plain, credentials: Credentials { user, secret } }
        }
    };
    Ok(Login { tls, sasl })
}

//! Credentials for an `auth` / `authenticate` action, adapted to how the target's applicative
//! mailboxes log in (the profile's `app_auth_form`).

use crate::evidence::secret::Secret;
use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::sasl::{Credentials, Mechanism};
use crate::scenario::model::Credential;
use crate::target::model::{AppAuthForm, MailboxType, SecretSource};

/// Which protocol logs in (the target may declare one applicative form per protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Smtp,
    Imap,
}

/// What to send, or that nothing is sent (certificate-only submission).
pub enum Login {
    Sasl { mechanism: Mechanism, credentials: Credentials, note: Option<String> },
    CertificateOnly,
}

pub async fn login(
    env: &RunEnv,
    protocol: Protocol,
    role: &str,
    mechanism: Mechanism,
    credential: &Credential,
) -> Result<Login, ExecError> {
    let mailbox = env.target.mailboxes.get(role).ok_or_else(|| ExecError::harness(format!("no mailbox `{role}`")))?;
    let user = mailbox.address.clone();
    let is_app = mailbox.kind == MailboxType::App;
    // The catalogue writes the spec's form (PLAIN); operators declaring another form get it.
    let forms = env.target.app_auth_form;
    let form = match protocol {
        Protocol::Smtp => forms.smtp(),
        Protocol::Imap => forms.imap(),
    };
    let (mechanism, note) = match (is_app, mechanism, form) {
        (true, Mechanism::Plain, AppAuthForm::External) => {
            (Mechanism::External, Some("applicative form declared by the target: EXTERNAL instead of PLAIN".to_string()))
        }
        (true, Mechanism::Plain, AppAuthForm::CertificateOnly) => return Ok(Login::CertificateOnly),
        (_, m, _) => (m, None),
    };
    let secret = match mechanism {
        Mechanism::Xoauth2 | Mechanism::OAuthBearer => env.token(role, credential).await?,
        Mechanism::Plain => match &mailbox.password {
            Some(SecretSource::Env(var)) => Some(Secret::new(
                std::env::var(var).map_err(|_| ExecError::harness(format!("environment variable {var} (password) is not set")))?,
            )),
            Some(SecretSource::File(p)) => Some(Secret::new(
                crate::target::private_file::read_text(p).map_err(ExecError::harness)?.to_string(),
            )),
            _ => None,
        },
        Mechanism::External => None,
    };
    if let Some(s) = &secret {
        env.secrets.register(s);
    }
    Ok(Login::Sasl { mechanism, credentials: Credentials { user, secret }, note })
}

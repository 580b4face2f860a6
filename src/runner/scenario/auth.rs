//! Credentials for an `auth` / `authenticate` action, adapted to how the target's applicative
//! mailboxes log in (the profile's `app_auth_form`).

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::sasl::Credentials;
use crate::scenario::model::Mechanism;
use crate::scenario::model::Credential;
use crate::target::model::Target;

pub use crate::plan::login::Protocol;

/// What to send, or that nothing is sent (certificate-only submission).
pub enum Login {
    Sasl { mechanism: Mechanism, credentials: Credentials, note: Option<String> },
    CertificateOnly,
}

/// How a mailbox of the target logs in when a scenario asks for `mechanism`: the one decision
/// the executor, the dry run and the audit screen share, so what is announced is what is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Sasl { mechanism: Mechanism, note: Option<&'static str> },
    /// The applicative form is the client certificate alone: no AUTH is sent.
    CertificateOnly,
}

/// How `role` logs in on this target when a scenario writes `mechanism` ([`plan::login`]).
///
/// [`plan::login`]: crate::plan::login
pub fn resolve(target: &Target, protocol: Protocol, role: &str, mechanism: Mechanism) -> Form {
    match crate::plan::login::mechanism(target, protocol, role, mechanism) {
        None => Form::CertificateOnly,
        Some((m, replaced)) => Form::Sasl { mechanism: m, note: replaced.then_some("applicative form declared by the target: EXTERNAL instead of PLAIN") },
    }
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
    let (mechanism, mut note) = match resolve(&env.target, protocol, role, mechanism) {
        Form::CertificateOnly => return Ok(Login::CertificateOnly),
        Form::Sasl { mechanism, note } => (mechanism, note.map(str::to_string)),
    };
    let secret = match mechanism {
        Mechanism::Xoauth2 | Mechanism::OAuthBearer => {
            let (secret, renewed) = env.token_noting(role, credential).await?;
            note = note.or(renewed);
            secret
        }
        Mechanism::Plain => crate::target::secret_value::password(mailbox.password.as_ref())?,
        Mechanism::External => None,
    };
    if let Some(s) = &secret {
        env.secrets.register(s);
    }
    Ok(Login::Sasl { mechanism, credentials: Credentials { user, secret }, note })
}

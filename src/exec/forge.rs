//! The run's forged tokens (`credential: { derived: … }`): fetched valid tokens, altered by
//! [`crate::exec::derived_token`], registered as secrets before anything is sent.

use super::derived_token::Jwt;
use super::env::RunEnv;
use super::error::ExecError;
use crate::evidence::secret::Secret;
use crate::scenario::model::{Alteration, Credential, DerivedToken};

impl RunEnv {
    /// The forged token `role` presents, or `Ok(Err(reason))` when it cannot be forged here (a
    /// valid token that is not a JWT): the step is then not applicable, with that reason.
    pub async fn derived_token(&self, role: &str, d: &DerivedToken) -> Result<Result<Secret, String>, ExecError> {
        let from = d.from.as_ref().map_or(role, |f| f.value.as_str());
        let base = match self.jwt_of(from).await? {
            Ok(jwt) => jwt,
            Err(reason) => return Ok(Err(reason)),
        };
        let other = match d.alter {
            Alteration::Subject => match self.jwt_of(role).await? {
                Ok(jwt) => Some(jwt),
                Err(reason) => return Ok(Err(reason)),
            },
            _ => None,
        };
        Ok(match base.derive(d.alter, other.as_ref()) {
            Ok(token) => {
                let token = Secret::new(token);
                self.secrets.register(&token);
                Ok(token)
            }
            Err(why) => Err(format!("no forged token ({}) can be derived from the token of `{from}`: {why}", d.alter.describe())),
        })
    }

    async fn jwt_of(&self, role: &str) -> Result<Result<Jwt, String>, ExecError> {
        // Boxed: `token` itself calls back here for a derived credential.
        let token = Box::pin(self.token(role, &Credential::Valid))
            .await?
            .ok_or_else(|| ExecError::harness(format!("mailbox `{role}` has no token to derive a forged one from")))?;
        Ok(Jwt::parse(token.expose())
            .map_err(|why| format!("the valid token of `{role}` is not a JWT ({why}): an opaque token cannot be altered, not applicable")))
    }
}

/// `Some(reason)` when the credential is a derived token that cannot be forged on this target.
pub async fn not_applicable(env: &RunEnv, role: &str, credential: &Credential) -> Result<Option<String>, ExecError> {
    match credential {
        Credential::Derived(d) => Ok(env.derived_token(role, d).await?.err()),
        _ => Ok(None),
    }
}

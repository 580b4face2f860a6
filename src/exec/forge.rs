//! The run's forged tokens (`credential: { derived: … }`): fetched valid tokens, altered by
//! [`crate::exec::derived_token`], registered as secrets before anything is sent.

use super::derived_token::Jwt;
use super::env::RunEnv;
use super::error::ExecError;
use crate::secret::Secret;
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::target::model::Target;

    /// A run whose per1 and per2 tokens are read from owner-only files holding these values.
    fn env_with_tokens(dir: &Path, per1: &str, per2: &str) -> std::sync::Arc<RunEnv> {
        for (name, value) in [("per1", per1), ("per2", per2)] {
            let path = dir.join(name);
            std::fs::write(&path, value).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let yaml = format!(
            "name: t\noperator: o\nservice: s\nversion: '1'\nclaims: [general, per-org]\ndomain: op.test\nserver_name: mx.op.test\n\
             trust_anchors: []\nmailboxes:\n  per1: {{ address: a@op.test, type: PER, token: {{ file: {d}/per1 }} }}\n\
             \x20 per2: {{ address: b@op.test, type: PER, token: {{ file: {d}/per2 }} }}\nendpoints: {{}}\n",
            d = dir.display()
        );
        let target: Target = crate::yaml::read::parse_yaml(Path::new("t.yaml"), &yaml).unwrap();
        RunEnv::new(target, serde_json::Value::Null, "fixtures".into(), "run".into()).unwrap()
    }

    /// A JWT whose signature segment is `sig-<sub>`.
    fn jwt(sub: &str) -> String {
        let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
        let head = enc(serde_json::json!({"alg": "RS256"}));
        format!("{head}.{}.{}", enc(serde_json::json!({"sub": sub, "exp": 9})), URL_SAFE_NO_PAD.encode(format!("sig-{sub}")))
    }

    /// The credential as a scenario writes it.
    fn derived(from: Option<&str>, alter: Alteration) -> Credential {
        let alter = serde_json::to_value(alter).unwrap();
        let from = from.map(|f| format!("from: {f}, ")).unwrap_or_default();
        let yaml = format!("{{ derived: {{ {from}alter: {} }} }}", alter.as_str().unwrap());
        crate::yaml::read::parse_yaml(Path::new("c.yaml"), &yaml).unwrap()
    }

    /// An opaque token makes the step not applicable, with the reason named; a JWT gives a
    /// forged token, registered as a secret before anything is sent.
    #[tokio::test]
    async fn opaque_tokens_are_not_applicable_and_forgeries_are_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_with_tokens(dir.path(), "opaque-reference-token", &jwt("82"));
        let why = not_applicable(&env, "per1", &derived(None, Alteration::Signature)).await.unwrap().expect("not applicable");
        assert!(why.contains("`per1` is not a JWT") && why.contains("opaque"), "{why}");
        assert!(!why.contains("opaque-reference-token"), "the reason never quotes the token");
        assert!(env.token("per1", &derived(None, Alteration::Signature)).await.is_err());

        let env = env_with_tokens(dir.path(), &jwt("81"), &jwt("82"));
        assert_eq!(not_applicable(&env, "per2", &derived(Some("per1"), Alteration::Subject)).await.unwrap(), None);
        let forged = env.token("per2", &derived(Some("per1"), Alteration::Subject)).await.unwrap().unwrap();
        let per1_sig = jwt("81").rsplit('.').next().unwrap().to_string();
        assert!(forged.expose().ends_with(&format!(".{per1_sig}")), "per1's signature is kept");
        assert_eq!(forged.expose().rsplit_once('.').unwrap().0, jwt("82").rsplit_once('.').unwrap().0, "per2's claims");
        assert!(env.secrets.leaks(&format!("AUTH {}", forged.expose())), "the forged token is a registered secret");
        let none = env.token("per1", &derived(None, Alteration::AlgNone)).await.unwrap().unwrap();
        assert!(env.secrets.leaks(none.expose()));
    }
}

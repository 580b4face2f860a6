//! Test bearer tokens standing in for Pro Santé Connect access tokens.
//!
//! Tokens are JWT-shaped (`header.payload.signature`, base64url) with `exp`, `SubjectNameID`
//! ("8" + a fictitious RPPS) and the one mailbox they may open. The service remembers what it
//! issued: an unknown or malformed token is refused, as is an expired or revoked one or one
//! presented for another mailbox — unless a fault says otherwise.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::faults::{Fault, FaultSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub sub: String,
    #[serde(rename = "SubjectNameID")]
    pub subject_name_id: String,
    pub mailbox: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Why a token was refused (for logs; the wire answer is the same for all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("token is not a token this issuer delivered")]
    Unknown,
    #[error("token expired")]
    Expired,
    #[error("token was revoked")]
    Revoked,
    #[error("token was issued for another mailbox")]
    OtherMailbox,
}

#[derive(Clone)]
pub struct TokenService {
    issued: Arc<Mutex<HashMap<String, TokenClaims>>>,
    revoked: Arc<Mutex<HashSet<String>>>,
    key: [u8; 32],
    faults: FaultSet,
    issuer: String,
    /// OAuth 2.0 clients and refresh tokens (`/psc/token` with `grant_type`).
    pub grants: crate::grant_book::GrantBook,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl TokenService {
    pub fn new(issuer: impl Into<String>, faults: FaultSet) -> Self {
        TokenService {
            issued: Arc::default(),
            revoked: Arc::default(),
            key: random_key(),
            faults,
            issuer: issuer.into(),
            grants: crate::grant_book::GrantBook::new(random_key()),
        }
    }

    /// Issues a token for `mailbox`, valid `lifetime_secs` from now (negative: already expired).
    /// `rpps` is the fictitious RPPS of the professional it stands for.
    pub fn issue(&self, mailbox: &str, rpps: &str, lifetime_secs: i64) -> String {
        let now = Utc::now().timestamp();
        let mut issued = self.issued.lock().expect("token lock");
        let claims = TokenClaims {
            iss: self.issuer.clone(),
            sub: format!("8{rpps}"),
            subject_name_id: format!("8{rpps}"),
            mailbox: mailbox.to_ascii_lowercase(),
            scope: "openid scope_all mail".into(),
            iat: now,
            exp: now + lifetime_secs,
            jti: format!("jti-{}", issued.len() + 1),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let mut mac = Sha256::new();
        mac.update(self.key);
        mac.update(format!("{header}.{payload}"));
        let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize()));
        issued.insert(token.clone(), claims);
        token
    }

    /// Revokes a token this service issued (as an RFC 7009 revocation would); `false` when it
    /// did not issue it.
    pub fn revoke(&self, token: &str) -> bool {
        let known = self.issued.lock().expect("token lock").contains_key(token.trim());
        if known {
            self.revoked.lock().expect("token lock").insert(token.trim().to_string());
        }
        known
    }

    pub fn is_revoked(&self, token: &str) -> bool {
        self.revoked.lock().expect("token lock").contains(token.trim())
    }

    /// Every token issued so far, in no particular order (tests scan evidence files for them).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.issued.lock().expect("token lock").keys().cloned().collect()
    }

    /// Claims of a token this service issued, whatever its state (introspection).
    pub fn claims(&self, token: &str) -> Option<TokenClaims> {
        self.issued.lock().expect("token lock").get(token.trim()).cloned()
    }

    /// Decides whether `token` may open `mailbox` now.
    pub fn validate(&self, token: &str, mailbox: &str) -> Result<TokenClaims, TokenRefusal> {
        let claims = self.claims(token).ok_or(TokenRefusal::Unknown)?;
        if self.is_revoked(token) && !self.faults.is_on(Fault::AcceptRevokedToken) {
            return Err(TokenRefusal::Revoked);
        }
        if claims.exp <= Utc::now().timestamp() && !self.faults.is_on(Fault::AcceptExpiredToken) {
            return Err(TokenRefusal::Expired);
        }
        if !claims.mailbox.eq_ignore_ascii_case(mailbox.trim()) && !self.faults.is_on(Fault::AcceptForeignToken) {
            return Err(TokenRefusal::OtherMailbox);
        }
        Ok(claims)
    }
}

pub(crate) fn random_key() -> [u8; 32] {
    // RandomState is seeded from the OS: enough for a loopback test issuer.
    let mut key = [0u8; 32];
    for chunk in key.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expired_foreign_and_unknown() {
        let svc = TokenService::new("mock", FaultSet::none());
        let a = svc.issue("a@x.test", "00000000001", 300);
        assert_eq!(a.split('.').count(), 3);
        assert_eq!(svc.validate(&a, "A@x.test").unwrap().subject_name_id, "800000000001");
        assert_eq!(svc.validate(&a, "b@x.test"), Err(TokenRefusal::OtherMailbox));
        let old = svc.issue("a@x.test", "00000000001", -60);
        assert_eq!(svc.validate(&old, "a@x.test"), Err(TokenRefusal::Expired));
        assert_eq!(svc.validate("not-a-token", "a@x.test"), Err(TokenRefusal::Unknown));
    }

    #[test]
    fn revoked_tokens_are_refused_unless_the_fault_accepts_them() {
        let svc = TokenService::new("mock", FaultSet::none());
        let t = svc.issue("a@x.test", "1", 300);
        assert!(svc.validate(&t, "a@x.test").is_ok());
        assert!(svc.revoke(&t) && !svc.revoke("never-issued"));
        assert_eq!(svc.validate(&t, "a@x.test"), Err(TokenRefusal::Revoked));
        let faults: FaultSet = [Fault::AcceptRevokedToken].into_iter().collect();
        let lax = TokenService::new("mock", faults);
        let t = lax.issue("a@x.test", "1", 300);
        lax.revoke(&t);
        assert!(lax.validate(&t, "a@x.test").is_ok());
        let old = lax.issue("a@x.test", "1", -60);
        assert_eq!(lax.validate(&old, "a@x.test"), Err(TokenRefusal::Expired), "only revocation is relaxed");
    }

    #[test]
    fn faults_relax_exactly_their_check() {
        let faults: FaultSet = [Fault::AcceptExpiredToken].into_iter().collect();
        let svc = TokenService::new("mock", faults);
        let old = svc.issue("a@x.test", "1", -60);
        assert!(svc.validate(&old, "a@x.test").is_ok());
        assert_eq!(svc.validate(&old, "b@x.test"), Err(TokenRefusal::OtherMailbox));
    }
}

//! Test bearer tokens standing in for Pro Santé Connect access tokens.
//!
//! Tokens are JWS compact JWTs (`header.payload.signature`, base64url) signed HS256 (HMAC-SHA256
//! with a key drawn at start) with `iss`, `aud`, `exp`, `sub` / `SubjectNameID` ("8" + a
//! fictitious RPPS) and the one mailbox they may open. Validation is stateless, as a resource
//! server's is: the header's `alg`, the signature, then the issuer, audience, revocation,
//! expiry and the mailbox and subject bound to the login — each relaxed only by its fault.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::faults::{Fault, FaultSet};

/// The audience of the tokens the mock issues (the client id an LPS would register).
pub const AUDIENCE: &str = "mssconf-mock-lps";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub aud: String,
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
    #[error("token is not a JWT this issuer could have signed")]
    Unknown,
    #[error("token header names algorithm {0:?}, not HS256")]
    Algorithm(String),
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token issuer is not this issuer")]
    OtherIssuer,
    #[error("token audience is not this service")]
    OtherAudience,
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
    /// Revoked tokens, by `jti`.
    revoked: Arc<Mutex<HashSet<String>>>,
    /// The `sub` of each mailbox's owner, learnt when its tokens are issued.
    subjects: Arc<Mutex<HashMap<String, String>>>,
    key: hmac::Key,
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
            subjects: Arc::default(),
            key: hmac::Key::generate(hmac::HMAC_SHA256, &ring::rand::SystemRandom::new()).expect("system random"),
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
        let mailbox = mailbox.to_ascii_lowercase();
        let claims = TokenClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: format!("8{rpps}"),
            subject_name_id: format!("8{rpps}"),
            mailbox: mailbox.clone(),
            scope: "openid scope_all mail".into(),
            iat: now,
            exp: now + lifetime_secs,
            jti: format!("jti-{}", issued.len() + 1),
        };
        self.subjects.lock().expect("token lock").insert(mailbox, claims.sub.clone());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signature = hmac::sign(&self.key, format!("{header}.{payload}").as_bytes());
        let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
        issued.insert(token.clone(), claims);
        token
    }

    /// Revokes a token this service signed (as an RFC 7009 revocation would); `false` when the
    /// token does not verify.
    pub fn revoke(&self, token: &str) -> bool {
        match self.verified(token) {
            Ok(claims) => self.revoked.lock().expect("token lock").insert(claims.jti),
            Err(_) => false,
        }
    }

    pub fn is_revoked(&self, token: &str) -> bool {
        self.verified(token).is_ok_and(|c| self.revoked.lock().expect("token lock").contains(&c.jti))
    }

    /// Every token issued so far, in no particular order (tests scan evidence files for them).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.issued.lock().expect("token lock").keys().cloned().collect()
    }

    /// Claims of a token whose signature verifies, whatever its state (introspection).
    pub fn claims(&self, token: &str) -> Option<TokenClaims> {
        self.verified(token).ok()
    }

    /// Decides whether `token` may open `mailbox` now.
    pub fn validate(&self, token: &str, mailbox: &str) -> Result<TokenClaims, TokenRefusal> {
        let claims = self.verified(token)?;
        if claims.iss != self.issuer {
            return Err(TokenRefusal::OtherIssuer);
        }
        if claims.aud != AUDIENCE {
            return Err(TokenRefusal::OtherAudience);
        }
        if self.revoked.lock().expect("token lock").contains(&claims.jti) && !self.faults.is_on(Fault::AcceptRevokedToken) {
            return Err(TokenRefusal::Revoked);
        }
        if claims.exp <= Utc::now().timestamp() && !self.faults.is_on(Fault::AcceptExpiredToken) {
            return Err(TokenRefusal::Expired);
        }
        let owner = self.subjects.lock().expect("token lock").get(&mailbox.trim().to_ascii_lowercase()).cloned();
        let bound = claims.mailbox.eq_ignore_ascii_case(mailbox.trim()) && owner.is_none_or(|sub| sub == claims.sub);
        if !bound && !self.faults.is_on(Fault::AcceptForeignToken) {
            return Err(TokenRefusal::OtherMailbox);
        }
        Ok(claims)
    }

    /// The claims of `token` once its header and signature are checked (faults aside).
    fn verified(&self, token: &str) -> Result<TokenClaims, TokenRefusal> {
        let token = token.trim();
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts.as_slice() else { return Err(TokenRefusal::Unknown) };
        let alg = decode::<serde_json::Value>(header)?.get("alg").and_then(|a| a.as_str()).unwrap_or_default().to_string();
        let unsigned = alg.eq_ignore_ascii_case("none") && self.faults.is_on(Fault::TokenAlgNone);
        if alg != "HS256" && !unsigned {
            return Err(TokenRefusal::Algorithm(alg));
        }
        if !unsigned && !self.signature_accepted(header, payload, signature) {
            return Err(TokenRefusal::BadSignature);
        }
        decode(payload)
    }

    fn signature_accepted(&self, header: &str, payload: &str, signature: &str) -> bool {
        if self.faults.is_on(Fault::TokenAnySignature) || (signature.is_empty() && self.faults.is_on(Fault::TokenEmptySignature)) {
            return true;
        }
        if self.faults.is_on(Fault::TokenSignatureNotBound)
            && self.issued.lock().expect("token lock").keys().any(|t| t.rsplit('.').next() == Some(signature))
        {
            return true;
        }
        let Ok(sig) = URL_SAFE_NO_PAD.decode(signature) else { return false };
        hmac::verify(&self.key, format!("{header}.{payload}").as_bytes(), &sig).is_ok()
    }
}

fn decode<T: serde::de::DeserializeOwned>(segment: &str) -> Result<T, TokenRefusal> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| TokenRefusal::Unknown)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenRefusal::Unknown)
}

pub(crate) fn random_key() -> [u8; 32] {
    use ring::rand::SecureRandom;
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut key).expect("system random");
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

    /// Forgeries of a valid token, as the harness derives them (issue #21).
    mod forged {
        use super::*;
        use serde_json::{Value, json};

        fn seg(v: &Value) -> String {
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
        }

        fn parts(t: &str) -> (Value, Value, String) {
            let p: Vec<&str> = t.split('.').collect();
            let dec = |s: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap();
            (dec(p[0]), dec(p[1]), p[2].to_string())
        }

        /// `token` with its payload edited, header and signature kept.
        fn claims_edited(token: &str, edit: impl FnOnce(&mut Value)) -> String {
            let (h, mut p, s) = parts(token);
            edit(&mut p);
            format!("{}.{}.{s}", seg(&h), seg(&p))
        }

        struct Forgeries {
            flipped: String,
            stripped: String,
            later: String,
            audience: String,
            issuer: String,
            /// per1's token carrying b@x.test's identity, presented for b@x.test.
            subject: String,
            none: String,
        }

        fn forgeries(svc: &TokenService) -> Forgeries {
            let a = svc.issue("a@x.test", "1", 300);
            let b = svc.issue("b@x.test", "2", 300);
            let (head, body) = a.rsplit_once('.').map(|(hp, _)| hp.split_once('.').unwrap()).unwrap();
            let sig = a.rsplit('.').next().unwrap();
            let mut flipped = URL_SAFE_NO_PAD.decode(sig).unwrap();
            flipped[0] ^= 0xff;
            let (_, pb, _) = parts(&b);
            Forgeries {
                flipped: format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(flipped)),
                stripped: format!("{head}.{body}."),
                later: claims_edited(&a, |p| p["exp"] = json!(p["exp"].as_i64().unwrap() + 3600)),
                audience: claims_edited(&a, |p| p["aud"] = json!("someone-else")),
                issuer: claims_edited(&a, |p| p["iss"] = json!("https://forged.invalid")),
                subject: claims_edited(&a, |p| {
                    for k in ["sub", "SubjectNameID", "mailbox"] {
                        p[k] = pb[k].clone();
                    }
                }),
                none: format!("{}.{body}.", seg(&json!({"alg": "none", "typ": "JWT"}))),
            }
        }

        /// Which forgeries a service accepts, by name.
        fn accepted(faults: &[Fault]) -> Vec<&'static str> {
            let svc = TokenService::new("mock", faults.iter().copied().collect());
            let f = forgeries(&svc);
            let all = [
                ("flipped", &f.flipped, "a@x.test"),
                ("stripped", &f.stripped, "a@x.test"),
                ("later", &f.later, "a@x.test"),
                ("audience", &f.audience, "a@x.test"),
                ("issuer", &f.issuer, "a@x.test"),
                ("subject", &f.subject, "b@x.test"),
                ("none", &f.none, "a@x.test"),
            ];
            all.into_iter().filter(|(_, t, m)| svc.validate(t, m).is_ok()).map(|(n, ..)| n).collect()
        }

        #[test]
        fn every_forgery_is_refused_by_default() {
            assert_eq!(accepted(&[]), Vec::<&str>::new());
            let svc = TokenService::new("mock", FaultSet::none());
            let f = forgeries(&svc);
            assert_eq!(svc.validate(&f.flipped, "a@x.test"), Err(TokenRefusal::BadSignature));
            assert_eq!(svc.validate(&f.none, "a@x.test"), Err(TokenRefusal::Algorithm("none".into())));
        }

        #[test]
        fn each_fault_lets_through_exactly_its_forgeries() {
            assert_eq!(accepted(&[Fault::TokenAnySignature]), ["flipped", "stripped", "later", "subject"]);
            assert_eq!(accepted(&[Fault::TokenSignatureNotBound]), ["later", "subject"]);
            assert_eq!(accepted(&[Fault::TokenEmptySignature]), ["stripped"]);
            assert_eq!(accepted(&[Fault::TokenAlgNone]), ["none"]);
            // Audience and issuer are checked apart from the signature.
            assert!(!accepted(&[Fault::TokenAnySignature]).contains(&"audience"));
        }
    }
}

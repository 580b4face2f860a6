//! Forged variants of a valid bearer token (issue #21): the harness derives them from a token
//! the operator issued, so a server that checks only a JWT's shape, expiry and subject is told
//! apart from one that verifies the signature. Pure functions: no IO, nothing printed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::scenario::model::Alteration;

/// The claims an audience / issuer alteration sets: recognisably not any real client or issuer.
pub const FORGED_AUDIENCE: &str = "mssconf-forged-audience";
pub const FORGED_ISSUER: &str = "https://mssconf.invalid/forged-issuer";
/// How far a forged `exp` is pushed past the original one (one year).
pub const EXPIRY_PUSH_SECS: i64 = 365 * 24 * 3600;

/// Claims a subject alteration keeps from the original token: validity, issuer, audience and
/// identity of the token itself. Every other claim is taken from the other mailbox's token.
const KEPT_BY_SUBJECT: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// A token split into its JWS compact parts (RFC 7515 §7.1).
#[derive(Debug, Clone)]
pub struct Jwt {
    header: Map<String, Value>,
    payload: Map<String, Value>,
    /// The original encoded segments, kept byte for byte where an alteration leaves them.
    header_b64: String,
    payload_b64: String,
    signature_b64: String,
}

impl Jwt {
    /// Parses a JWS compact token; `Err` says why it is not one (an opaque token). The reason
    /// never quotes the token.
    pub fn parse(token: &str) -> Result<Jwt, String> {
        let parts: Vec<&str> = token.trim().split('.').collect();
        let [h, p, s] = parts.as_slice() else {
            return Err(format!("it has {} dot-separated part(s), a JWT has 3", parts.len()));
        };
        let header = object(h).map_err(|e| format!("its header is not base64url JSON ({e})"))?;
        let payload = object(p).map_err(|e| format!("its payload is not base64url JSON ({e})"))?;
        if !header.contains_key("alg") {
            return Err("its header has no `alg`".into());
        }
        if s.is_empty() {
            return Err("it carries no signature".into());
        }
        Ok(Jwt { header, payload, header_b64: h.to_string(), payload_b64: p.to_string(), signature_b64: s.to_string() })
    }

    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.payload.get(name)
    }

    /// The token altered as `alteration` says. `other` is the token of the mailbox whose
    /// identity a subject alteration borrows. `Err`: this alteration cannot be made from these
    /// tokens (the reason makes the step not applicable).
    pub fn derive(&self, alteration: Alteration, other: Option<&Jwt>) -> Result<String, String> {
        match alteration {
            Alteration::Signature => Ok(self.with_signature(&flip_signature(&self.signature_b64)?)),
            Alteration::NoSignature => Ok(self.with_signature("")),
            Alteration::AlgNone => {
                let mut header = self.header.clone();
                header.insert("alg".into(), Value::String("none".into()));
                Ok(format!("{}.{}.", encode(&header), self.payload_b64))
            }
            Alteration::Expiry => {
                let exp = self.claim("exp").and_then(Value::as_i64).ok_or("the token has no numeric `exp` claim")?;
                self.with_claims(|c| {
                    c.insert("exp".into(), Value::from(exp + EXPIRY_PUSH_SECS));
                })
            }
            Alteration::Audience => self.with_claims(|c| {
                c.insert("aud".into(), Value::String(FORGED_AUDIENCE.into()));
            }),
            Alteration::Issuer => self.with_claims(|c| {
                c.insert("iss".into(), Value::String(FORGED_ISSUER.into()));
            }),
            Alteration::Subject => {
                let other = other.ok_or("no token of the other mailbox to borrow its subject from")?;
                if other.claim("sub").is_none() || other.claim("sub") == self.claim("sub") {
                    return Err("the two mailboxes' tokens do not carry distinct `sub` claims".into());
                }
                self.with_claims(|c| {
                    for (k, v) in &other.payload {
                        if !KEPT_BY_SUBJECT.contains(&k.as_str()) {
                            c.insert(k.clone(), v.clone());
                        }
                    }
                })
            }
        }
    }

    fn with_signature(&self, signature_b64: &str) -> String {
        format!("{}.{}.{signature_b64}", self.header_b64, self.payload_b64)
    }

    /// The original header and signature over a payload changed by `edit`.
    fn with_claims(&self, edit: impl FnOnce(&mut Map<String, Value>)) -> Result<String, String> {
        let mut payload = self.payload.clone();
        edit(&mut payload);
        Ok(format!("{}.{}.{}", self.header_b64, encode(&payload), self.signature_b64))
    }
}

fn object(segment: &str) -> Result<Map<String, Value>, String> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).map_err(|e| e.to_string())?;
    match serde_json::from_slice(&bytes).map_err(|e| e.to_string())? {
        Value::Object(map) => Ok(map),
        _ => Err("not a JSON object".into()),
    }
}

fn encode(map: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(map).unwrap_or_default())
}

/// The signature with every bit of its first and last bytes flipped: same length, still
/// base64url, so only a verification tells it apart.
fn flip_signature(b64: &str) -> Result<String, String> {
    let mut bytes = URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).map_err(|_| "its signature is not base64url")?;
    let last = bytes.len().checked_sub(1).ok_or("its signature is empty")?;
    bytes[0] ^= 0xff;
    bytes[last] ^= 0xff;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(header: Value, payload: Value, sig: &[u8]) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        format!("{}.{}.{}", enc(&header), enc(&payload), URL_SAFE_NO_PAD.encode(sig))
    }

    fn per(sub: &str, mailbox: &str) -> Jwt {
        let claims = json!({"iss": "psc", "aud": "lps", "sub": sub, "mailbox": mailbox, "exp": 1000, "iat": 900, "jti": "j1"});
        Jwt::parse(&token(json!({"alg": "RS256", "typ": "JWT"}), claims, b"signature-bytes")).unwrap()
    }

    fn parts(t: &str) -> (Value, Value, String) {
        let p: Vec<&str> = t.split('.').collect();
        let dec = |s: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap();
        (dec(p[0]), dec(p[1]), p[2].to_string())
    }

    #[test]
    fn opaque_tokens_are_told_apart_with_the_reason() {
        assert!(Jwt::parse("mssconf-malformed-token-1").unwrap_err().contains("1 dot-separated"));
        assert!(Jwt::parse("a.b.c").unwrap_err().contains("header"));
        let unsigned = token(json!({"alg": "none"}), json!({"sub": "x"}), b"");
        assert!(Jwt::parse(&unsigned).unwrap_err().contains("no signature"));
    }

    #[test]
    fn signature_alterations_keep_header_and_payload() {
        let t = per("81", "a@x");
        let original = t.with_signature(&t.signature_b64);
        let flipped = t.derive(Alteration::Signature, None).unwrap();
        assert_ne!(flipped, original);
        assert_eq!(flipped.rsplit_once('.').unwrap().0, original.rsplit_once('.').unwrap().0);
        assert_eq!(parts(&flipped).2.len(), t.signature_b64.len());
        assert!(t.derive(Alteration::NoSignature, None).unwrap().ends_with('.'));
        let (h, p, s) = parts(&t.derive(Alteration::AlgNone, None).unwrap());
        assert_eq!((h["alg"].as_str(), h["typ"].as_str(), s.as_str()), (Some("none"), Some("JWT"), ""));
        assert_eq!(p, parts(&original).1);
    }

    #[test]
    fn claim_alterations_keep_the_original_signature() {
        let t = per("81", "a@x");
        for (alt, claim, want) in [
            (Alteration::Expiry, "exp", json!(1000 + EXPIRY_PUSH_SECS)),
            (Alteration::Audience, "aud", json!(FORGED_AUDIENCE)),
            (Alteration::Issuer, "iss", json!(FORGED_ISSUER)),
        ] {
            let (_, p, s) = parts(&t.derive(alt, None).unwrap());
            assert_eq!(p[claim], want, "{alt:?}");
            assert_eq!(s, t.signature_b64, "{alt:?}");
            assert_eq!(p["sub"], "81");
        }
    }

    #[test]
    fn a_subject_alteration_borrows_the_other_identity_only() {
        let (a, b) = (per("81", "a@x"), per("82", "b@x"));
        let (_, p, s) = parts(&a.derive(Alteration::Subject, Some(&b)).unwrap());
        assert_eq!((p["sub"].as_str(), p["mailbox"].as_str(), p["jti"].as_str()), (Some("82"), Some("b@x"), Some("j1")));
        assert_eq!(s, a.signature_b64);
        assert!(a.derive(Alteration::Subject, Some(&per("81", "b@x"))).unwrap_err().contains("distinct `sub`"));
        assert!(a.derive(Alteration::Subject, None).is_err());
    }
}

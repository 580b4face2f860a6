//! When a token must be renewed: from the `expires_in` of the answer that delivered it, else
//! from the `exp` claim when it is a JWT; a token of unknown lifetime is kept for the whole run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The longest head start a renewal takes on expiry.
const MAX_MARGIN: Duration = Duration::from_secs(60);

/// A token's life as the harness knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub obtained: SystemTime,
    /// `None`: unknown, never renewed.
    pub expires: Option<SystemTime>,
}

impl Lifetime {
    /// From an answer's `expires_in`, else the token's JWT `exp`.
    pub fn of(token: &str, expires_in: Option<u64>, now: SystemTime) -> Self {
        let expires = match expires_in {
            Some(secs) => Some(now + Duration::from_secs(secs)),
            None => jwt_exp(token).map(|exp| UNIX_EPOCH + Duration::from_secs(exp)),
        };
        Lifetime { obtained: now, expires }
    }

    /// True once the token is within its renewal margin of expiry: a quarter of its lifetime, at
    /// most a minute (a 2-minute token is renewed 30 s ahead, a 4-second one 1 s ahead), so a
    /// session opened with it still has time to authenticate.
    pub fn due(&self, now: SystemTime) -> bool {
        let Some(expires) = self.expires else { return false };
        let life = expires.duration_since(self.obtained).unwrap_or_default();
        let margin = (life / 4).min(MAX_MARGIN);
        now + margin >= expires
    }

    /// `HH:MM:SS UTC` of the expiry, for messages.
    pub fn expiry_text(&self) -> String {
        match self.expires {
            Some(t) => chrono::DateTime::<chrono::Utc>::from(t).format("%H:%M:%S UTC").to_string(),
            None => "unknown".into(),
        }
    }
}

/// The `exp` claim (seconds since the epoch) of a JWT-shaped token; `None` for anything else.
/// The signature is not checked: the harness only needs to know when to ask again.
pub fn jwt_exp(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    exp.as_u64().or_else(|| exp.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("{}.{}.sig", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn exp_is_read_from_jwts_only() {
        assert_eq!(jwt_exp(&jwt(r#"{"exp":1700000000,"sub":"x"}"#)), Some(1_700_000_000));
        assert_eq!(jwt_exp(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(jwt_exp("opaque-token-0123"), None);
        assert_eq!(jwt_exp("a.b.c.d"), None);
        assert_eq!(jwt_exp("a.!!!.c"), None);
    }

    #[test]
    fn expires_in_wins_over_exp_and_unknown_is_never_due() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let token = jwt(r#"{"exp":5000}"#);
        assert_eq!(Lifetime::of(&token, Some(120), now).expires, Some(now + Duration::from_secs(120)));
        assert_eq!(Lifetime::of(&token, None, now).expires, Some(UNIX_EPOCH + Duration::from_secs(5000)));
        let opaque = Lifetime::of("opaque", None, now);
        assert!(!opaque.due(now + Duration::from_secs(86_400 * 365)));
    }

    #[test]
    fn renewal_is_due_a_quarter_of_the_lifetime_ahead_at_most_a_minute() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let short = Lifetime::of("t", Some(4), now);
        assert!(!short.due(now + Duration::from_millis(2_900)));
        assert!(short.due(now + Duration::from_millis(3_000)));
        let two_minutes = Lifetime::of("t", Some(120), now);
        assert!(!two_minutes.due(now + Duration::from_secs(89)) && two_minutes.due(now + Duration::from_secs(90)));
        let hour = Lifetime::of("t", Some(3600), now);
        assert!(!hour.due(now + Duration::from_secs(3539)) && hour.due(now + Duration::from_secs(3540)));
        // Already expired when delivered: due at once.
        assert!(Lifetime::of("t", Some(0), now).due(now));
    }
}

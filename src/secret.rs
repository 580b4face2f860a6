//! Secrets (bearer tokens, passwords, key material) and the set of secrets a run knows about.
//!
//! A [`Secret`] never prints: `Debug` and `Display` show `<redacted>`, and its bytes are wiped on
//! drop. The [`SecretSet`] is the safety net behind the protocol layer's own marking: every line a
//! transcript records is scrubbed of every known secret and of its base64 forms, so a token echoed
//! back by a server in an error reply is redacted too.

use std::fmt;
use std::sync::{Arc, RwLock};

use base64::Engine;
use zeroize::Zeroizing;

/// A secret value: a bearer token, a password, a private key in PEM.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value, to put on the wire. Never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The marker written in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// Every secret the run has seen, with the encodings under which it may appear on the wire.
#[derive(Clone, Default)]
pub struct SecretSet {
    needles: Arc<RwLock<Vec<Zeroizing<String>>>>,
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.needles.read().map(|v| v.len()).unwrap_or(0);
        write!(f, "SecretSet({n} needles)")
    }
}

/// Secrets shorter than this are not scrubbed by string search (they would redact ordinary words);
/// the protocol layer's marking still keeps them out.
const MIN_NEEDLE: usize = 6;

impl SecretSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret and the base64 forms it can hide in. A base64 encoding of a string that
    /// contains the secret shifts with the offset, so the three alignments are registered
    /// (each minus the partial leading and trailing characters).
    pub fn register(&self, secret: &Secret) {
        let raw = secret.expose();
        if raw.len() < MIN_NEEDLE {
            return;
        }
        let mut forms = vec![raw.to_string()];
        for shift in 0..3usize {
            let padded = format!("{}{}", "\0".repeat(shift), raw);
            let enc = base64::engine::general_purpose::STANDARD.encode(padded.as_bytes());
            // Drop the characters that mix in bytes outside the secret.
            let lead = (shift * 4).div_ceil(3);
            let tail_bytes = (shift + raw.len()) % 3;
            let trail = if tail_bytes == 0 { 0 } else { 4 };
            if enc.len() > lead + trail + MIN_NEEDLE {
                let core = &enc[lead..enc.len() - trail];
                forms.push(core.to_string());
                forms.push(core.replace('+', "-").replace('/', "_"));
            }
        }
        let mut needles = self.needles.write().expect("secret set lock");
        for form in forms {
            if !needles.iter().any(|n| **n == form) {
                needles.push(Zeroizing::new(form));
            }
        }
        // Longest first, so a long form is replaced before a shorter form inside it.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// Returns `text` with every known secret replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let needles = self.needles.read().expect("secret set lock");
        let mut out = text.to_string();
        for needle in needles.iter() {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        out
    }

    /// True when `text` holds a known secret in any registered form.
    pub fn leaks(&self, text: &str) -> bool {
        let needles = self.needles.read().expect("secret set lock");
        needles.iter().any(|n| text.contains(n.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("eyJhbGciOi.canary-token-123");
        assert_eq!(format!("{s}"), "<redacted>");
        assert!(!format!("{s:?}").contains("canary"));
    }

    #[test]
    fn scrub_finds_plain_and_base64_forms_at_any_offset() {
        let set = SecretSet::new();
        let token = Secret::new("canary-token-0123456789");
        set.register(&token);
        for prefix in ["", "a", "ab", "user=x\x01auth=Bearer "] {
            let payload = format!("{prefix}{}\x01\x01", token.expose());
            let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
            let line = format!("AUTH XOAUTH2 {b64}");
            assert!(set.leaks(&line), "prefix {prefix:?} not found");
            let scrubbed = set.scrub(&line);
            assert!(!set.leaks(&scrubbed));
            assert!(scrubbed.contains(REDACTED));
        }
        assert_eq!(
            set.scrub("535 token canary-token-0123456789 refused"),
            "535 token <redacted> refused"
        );
    }

    #[test]
    fn short_secrets_are_not_searched() {
        let set = SecretSet::new();
        set.register(&Secret::new("abc"));
        assert_eq!(set.scrub("abc def"), "abc def");
    }
}

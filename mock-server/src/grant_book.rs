//! The registrations behind the mock's OAuth 2.0 grants ([`crate::grants`]): per mailbox, a
//! client secret and a refresh token derived from a per-instance key; the lifetime of granted
//! tokens; a test switch refusing every grant; how many tokens were granted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// Token lifetime when neither the request nor the configuration gives one (seconds).
pub const DEFAULT_LIFETIME: i64 = 300;

#[derive(Clone)]
pub struct GrantBook {
    inner: Arc<Mutex<Book>>,
}

struct Book {
    key: [u8; 32],
    /// `None`: grants give [`DEFAULT_LIFETIME`] and the issuer is not capped.
    lifetime: Option<i64>,
    /// Test switch: every grant is refused with `invalid_grant` (a revoked refresh token).
    refusing: bool,
    /// Grants answered with a token, per mailbox.
    granted: HashMap<String, u32>,
}

impl GrantBook {
    pub fn new(key: [u8; 32]) -> Self {
        GrantBook { inner: Arc::new(Mutex::new(Book { key, lifetime: None, refusing: false, granted: HashMap::new() })) }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.inner.lock().expect("grant book lock")
    }

    /// Tokens handed out by a grant live `secs`; the issuer's (`lifetime=`) at most that long.
    pub fn set_lifetime(&self, secs: i64) {
        self.book().lifetime = Some(secs);
    }

    /// The lifetime of a granted token.
    pub fn lifetime(&self) -> i64 {
        self.book().lifetime.unwrap_or(DEFAULT_LIFETIME)
    }

    /// A positive lifetime asked of the issuer, capped at the configured one.
    pub fn cap(&self, asked: i64) -> i64 {
        match self.book().lifetime {
            Some(max) if asked > max => max,
            _ => asked,
        }
    }

    /// From now on every grant is refused (`true`) or answered again (`false`).
    pub fn refuse(&self, refusing: bool) {
        self.book().refusing = refusing;
    }

    pub(crate) fn refusing(&self) -> bool {
        self.book().refusing
    }

    pub(crate) fn count_grant(&self, address: &str) {
        *self.book().granted.entry(address.to_ascii_lowercase()).or_default() += 1;
    }

    /// How many tokens grants handed out for `address`.
    pub fn granted(&self, address: &str) -> u32 {
        self.book().granted.get(&address.to_ascii_lowercase()).copied().unwrap_or(0)
    }

    pub fn client_secret(&self, address: &str) -> String {
        format!("mock-cs-{}", self.derive("client-secret", address))
    }

    pub fn refresh_token(&self, address: &str) -> String {
        format!("mock-rt-{}", self.derive("refresh-token", address))
    }

    fn derive(&self, what: &str, address: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.book().key);
        h.update(what.as_bytes());
        h.update(address.to_ascii_lowercase().as_bytes());
        hex::encode(&h.finalize()[..20])
    }
}

//! Bearer tokens for a run: obtained once per mailbox, renewed before they expire, and at most
//! one renewal of a token at a time across parallel scenarios (the others wait for it and share
//! its result, a failure included: a hanging helper is waited for once, not once per scenario).
//! Every token obtained joins the run's redaction set. A token that cannot be
//! obtained or renewed ends the asking step as an error naming the cause: it says nothing of the
//! operator's conformance.

pub mod answer;
pub mod command;
pub mod expiry;
pub mod oauth2;
pub mod provider;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::secret::Secret;
use crate::exec::error::ExecError;
use expiry::Lifetime;

/// Which token of a mailbox: its own, or the profile's negative material (never renewed: it is
/// meant to be refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Valid,
    Expired,
    Revoked,
}

/// A token held for the run.
pub struct Held {
    pub secret: Secret,
    pub life: Lifetime,
}

/// One token's state. `finished` counts the fetches that ended, so that a caller that waited
/// for the lock while a fetch was under way gets its failure instead of trying again at once.
#[derive(Default)]
struct SlotInner {
    finished: AtomicU64,
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    held: Option<Held>,
    /// The last fetch's failure, with the `finished` count it ended at.
    failure: Option<(u64, ExecError)>,
}

type Slot = Arc<SlotInner>;

/// The run's tokens, one slot per (mailbox, kind).
#[derive(Default)]
pub struct TokenCache {
    slots: std::sync::Mutex<HashMap<(String, TokenKind), Slot>>,
    /// Refresh tokens an endpoint rotated to, per mailbox (RFC 6749 §6).
    refresh: std::sync::Mutex<HashMap<String, Secret>>,
}

impl TokenCache {
    /// The held token of `role`, or a new one from `fetch` when there is none yet or (for a
    /// valid token) it is due for renewal. Callers of one slot queue behind its lock, so a
    /// renewal happens once and the others get its result. `fetch` is told whether it renews.
    pub async fn get<F, Fut>(&self, role: &str, kind: TokenKind, fetch: F) -> Result<Secret, ExecError>
    where
        F: FnOnce(bool) -> Fut,
        Fut: Future<Output = Result<Held, ExecError>>,
    {
        self.get_noting(role, kind, fetch).await.map(|(secret, _)| secret)
    }

    /// [`TokenCache::get`], with a note for the transcript when this call renewed the token.
    pub async fn get_noting<F, Fut>(&self, role: &str, kind: TokenKind, fetch: F) -> Result<(Secret, Option<String>), ExecError>
    where
        F: FnOnce(bool) -> Fut,
        Fut: Future<Output = Result<Held, ExecError>>,
    {
        let slot = self.slot(role, kind);
        let before = slot.finished.load(Ordering::SeqCst);
        let mut st = slot.state.lock().await;
        let expiry = match st.held.as_ref() {
            Some(h) if kind != TokenKind::Valid || !h.life.due(SystemTime::now()) => return Ok((h.secret.clone(), None)),
            Some(h) => Some(h.life.expiry_text()),
            None => None,
        };
        if let Some((n, e)) = &st.failure
            && *n > before
        {
            return Err(e.clone());
        }
        let result = fetch(expiry.is_some()).await;
        let ended = slot.finished.fetch_add(1, Ordering::SeqCst) + 1;
        match result {
            Ok(fresh) => {
                let secret = fresh.secret.clone();
                let note = expiry.map(|at| {
                    format!("token of mailbox `{role}` renewed (the previous one expires at {at}; the new one at {})", fresh.life.expiry_text())
                });
                *st = SlotState { held: Some(fresh), failure: None };
                Ok((secret, note))
            }
            Err(e) => {
                let e = match &expiry {
                    Some(at) => e.context(format!("renewal of the token of mailbox `{role}` (expiring at {at}) failed")),
                    None => e.context(format!("the token of mailbox `{role}` could not be obtained")),
                };
                st.failure = Some((ended, e.clone()));
                Err(e)
            }
        }
    }

    fn slot(&self, role: &str, kind: TokenKind) -> Slot {
        let mut slots = self.slots.lock().expect("token slots lock");
        slots.entry((role.to_string(), kind)).or_default().clone()
    }

    /// The refresh token last rotated to for `role`, if any.
    pub fn rotated_refresh(&self, role: &str) -> Option<Secret> {
        self.refresh.lock().expect("refresh lock").get(role).cloned()
    }

    pub fn set_rotated_refresh(&self, role: &str, token: Secret) {
        self.refresh.lock().expect("refresh lock").insert(role.to_string(), token);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    fn held(n: u32, lifetime: Option<u64>) -> Held {
        let token = format!("token-{n}");
        let life = Lifetime::of(&token, lifetime, SystemTime::now());
        Held { secret: Secret::new(token), life }
    }

    /// Eight askers at once for the token of per1, fetched with `lifetime`: the tokens they got
    /// and how many fetches ran.
    async fn eight_askers(lifetime: u64) -> (Vec<String>, u32) {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicU32::new(0));
        let ask = |cache: Arc<TokenCache>, fetches: Arc<AtomicU32>| async move {
            cache
                .get("per1", TokenKind::Valid, |_| async {
                    let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(held(n, Some(lifetime)))
                })
                .await
                .unwrap()
                .expose()
                .to_string()
        };
        let got = futures_util::future::join_all((0..8).map(|_| ask(cache.clone(), fetches.clone()))).await;
        (got, fetches.load(Ordering::SeqCst))
    }

    /// Eight scenarios asking at once for a token that is due: one fetch, and all get its token.
    #[tokio::test]
    async fn a_renewal_happens_once_for_parallel_askers() {
        // A lifetime of 0 is due at once: each queued asker renews in turn…
        let (first, fetches) = eight_askers(0).await;
        assert_eq!(fetches, 8, "{first:?}");
        // …while a token with life left is fetched once and shared.
        let (got, fetches) = eight_askers(600).await;
        assert_eq!(fetches, 1);
        assert!(got.iter().all(|t| t == "token-1"), "{got:?}");
    }

    /// A fetch that fails after a long wait (a helper at its timeout) is waited for once: the
    /// scenarios queued behind it get its failure; a later asker tries again.
    #[tokio::test]
    async fn a_failed_fetch_is_shared_with_those_who_waited_for_it() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicU32::new(0));
        let ask = |cache: Arc<TokenCache>, fetches: Arc<AtomicU32>| async move {
            cache
                .get("per1", TokenKind::Valid, |_| async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err::<Held, _>(ExecError::timeout("token helper `h` did not answer within 100 ms (stopped)"))
                })
                .await
                .unwrap_err()
                .message()
        };
        let errors = futures_util::future::join_all((0..6).map(|_| ask(cache.clone(), fetches.clone()))).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "{errors:?}");
        assert!(errors.iter().all(|e| e.contains("did not answer within 100 ms")), "{errors:?}");
        ask(cache.clone(), fetches.clone()).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "a later asker tries again");
    }

    #[tokio::test]
    async fn a_due_token_is_renewed_and_a_failed_renewal_names_its_cause() {
        let cache = TokenCache::default();
        let t = cache.get("per1", TokenKind::Valid, |renewing| async move { Ok(held(u32::from(renewing), Some(0))) }).await.unwrap();
        assert_eq!(t.expose(), "token-0");
        let (t, note) = cache.get_noting("per1", TokenKind::Valid, |renewing| async move { Ok(held(u32::from(renewing), Some(600))) }).await.unwrap();
        assert_eq!(t.expose(), "token-1", "renewed");
        let note = note.expect("a renewal is noted");
        assert!(note.starts_with("token of mailbox `per1` renewed (the previous one expires at ") && !note.contains("token-"), "{note}");
        let (_, note) = cache.get_noting("per1", TokenKind::Valid, |_| async { Ok(held(9, Some(600))) }).await.unwrap();
        assert!(note.is_none(), "a held token is not noted");
        // Negative material is never renewed.
        cache.get("per1", TokenKind::Expired, |_| async { Ok(held(7, Some(0))) }).await.unwrap();
        let t = cache.get("per1", TokenKind::Expired, |_| async { Ok(held(8, Some(0))) }).await.unwrap();
        assert_eq!(t.expose(), "token-7");
        let cache = TokenCache::default();
        cache.get("per2", TokenKind::Valid, |_| async { Ok(held(1, Some(0))) }).await.unwrap();
        let e = cache
            .get("per2", TokenKind::Valid, |_| async { Err(ExecError::harness("token endpoint answered 400: invalid_grant")) })
            .await
            .unwrap_err();
        assert!(e.message().starts_with("renewal of the token of mailbox `per2` (expiring at ") && e.message().ends_with("failed: token endpoint answered 400: invalid_grant"), "{e}");
        let e = TokenCache::default().get("org1", TokenKind::Valid, |_| async { Err(ExecError::harness("helper failed")) }).await.unwrap_err();
        assert_eq!(e.message(), "the token of mailbox `org1` could not be obtained: helper failed");
    }
}

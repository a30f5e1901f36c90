//! The bounded cache behind `CloudClients`: least recently used eviction, an idle TTL, and never
//! two live clients for one account.
//!
//! A client carries its account's token cache, project id, rate limiter and auth breaker, so
//! losing it costs an IAM login and lookup, and two live clients of one account would each allow
//! the full request rate. Hence: accounts in steady use stay at the front of the LRU order; an
//! entry unused for the idle TTL is dropped (old credentials do not linger in memory); and an
//! entry dropped while a reconcile still holds its client is remembered weakly, so the next
//! lookup of that account gets the same client back instead of a fresh one. A client whose
//! breaker is open is never dropped while it is open: a fresh client would know nothing of the
//! refusal and send the refused credentials again at once (the cloud locks a key after 5 in a row).
//!
//! `lru` was chosen over `moka` and `quick_cache`: it is small (already-present `hashbrown` is
//! its only dependency) and its eviction is exactly least-recently-used, so an account in use is
//! never refused admission by a frequency sketch; the idle TTL is a few lines on top because the
//! LRU order is also the idle order (the least recently used entry is the longest idle).

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use lru::LruCache;

/// Size and idle lifetime of the client cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Most clients kept (least recently used dropped first).
    pub capacity: NonZeroUsize,
    /// A client unused this long is dropped.
    pub idle_ttl: Duration,
}

/// 1,024 accounts: installations with a Secret per team namespace (hundreds) do not thrash, and a
/// client without a token is a few hundred bytes; 30 minutes idle:
/// longer than any poll interval (capped at `--poll-max-interval`), so an account with work in
/// flight never expires.
pub const DEFAULT_CAPACITY: NonZeroUsize = NonZeroUsize::new(1024).expect("non-zero");
pub const DEFAULT_IDLE_TTL: Duration = Duration::from_secs(30 * 60);

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            idle_ttl: DEFAULT_IDLE_TTL,
        }
    }
}

/// Whether a value must outlive eviction and expiry (an account whose breaker is open).
pub(crate) trait Keep {
    fn keep(&self) -> bool;
}

struct Entry<V> {
    value: Arc<V>,
    used: Instant,
}

/// The cache; callers lock it (the critical sections are short and never await).
pub(crate) struct ClientCache<K: Hash + Eq, V> {
    limits: CacheLimits,
    recent: LruCache<K, Entry<V>>,
    /// Dropped from `recent` while a caller still held them.
    lent: HashMap<K, Weak<V>>,
    /// Dropped from `recent` while they asked to be kept; released once they no longer do.
    kept: HashMap<K, Arc<V>>,
}

impl<K: Hash + Eq + Clone, V: Keep> ClientCache<K, V> {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        Self {
            limits,
            recent: LruCache::new(limits.capacity),
            lent: HashMap::new(),
            kept: HashMap::new(),
        }
    }

    /// The value of `key`, marked used at `now`; made by `make` when none is alive.
    pub(crate) fn get_or_insert_with(
        &mut self,
        key: &K,
        now: Instant,
        make: impl FnOnce() -> V,
    ) -> Arc<V> {
        self.expire(now);
        if let Some(entry) = self.recent.get_mut(key) {
            entry.used = now;
            return entry.value.clone();
        }
        let value = self
            .kept
            .remove(key)
            .or_else(|| self.lent.remove(key).and_then(|held| held.upgrade()))
            .unwrap_or_else(|| Arc::new(make()));
        let entry = Entry {
            value: value.clone(),
            used: now,
        };
        if let Some((evicted, old)) = self.recent.push(key.clone(), entry) {
            self.lend(evicted, old.value);
        }
        value
    }

    /// Entries kept (alive clients still held by callers after eviction are not counted).
    pub(crate) fn len(&self) -> usize {
        self.recent.len()
    }

    /// Drops every entry idle for the TTL; they sit at the LRU end.
    fn expire(&mut self, now: Instant) {
        loop {
            let idle = self.recent.peek_lru().is_some_and(|(_, e)| {
                now.saturating_duration_since(e.used) >= self.limits.idle_ttl
            });
            if !idle {
                break;
            }
            if let Some((key, old)) = self.recent.pop_lru() {
                self.lend(key, old.value);
            }
        }
    }

    /// Keeps a dropped value that asks for it, else remembers it weakly while someone still holds
    /// it; forgets dead ones and releases kept ones that no longer ask.
    fn lend(&mut self, key: K, value: Arc<V>) {
        self.lent.retain(|_, held| held.strong_count() > 0);
        self.kept.retain(|_, v| v.keep());
        if value.keep() {
            self.kept.insert(key, value);
        } else if Arc::strong_count(&value) > 1 {
            self.lent.insert(key, Arc::downgrade(&value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Keep for String {
        fn keep(&self) -> bool {
            self.starts_with("refused")
        }
    }

    fn cache(capacity: usize, idle_ms: u64) -> ClientCache<u32, String> {
        ClientCache::new(CacheLimits {
            capacity: NonZeroUsize::new(capacity).unwrap(),
            idle_ttl: Duration::from_millis(idle_ms),
        })
    }

    #[test]
    fn least_recently_used_goes_first_and_the_size_is_bounded() {
        let mut c = cache(2, 60_000);
        let t = Instant::now();
        let one = c.get_or_insert_with(&1, t, || "one".into());
        drop(one);
        c.get_or_insert_with(&2, t, || "two".into());
        c.get_or_insert_with(&1, t, || unreachable!("cached"));
        c.get_or_insert_with(&3, t, || "three".into());
        assert_eq!(c.len(), 2);
        let mut made = false;
        c.get_or_insert_with(&2, t, || {
            made = true;
            "two again".into()
        });
        assert!(made, "2 was the least recently used");
    }

    #[test]
    fn idle_entries_expire() {
        let mut c = cache(10, 100);
        let t = Instant::now();
        c.get_or_insert_with(&1, t, || "one".into());
        c.get_or_insert_with(&2, t + Duration::from_millis(80), || "two".into());
        c.get_or_insert_with(&3, t + Duration::from_millis(150), || "three".into());
        assert_eq!(c.len(), 2, "1 was idle for 150 ms");
        let mut made = false;
        c.get_or_insert_with(&1, t + Duration::from_millis(160), || {
            made = true;
            "new one".into()
        });
        assert!(made);
    }

    #[test]
    fn a_value_still_held_is_handed_back_after_eviction_or_expiry() {
        let mut c = cache(1, 100);
        let t = Instant::now();
        let held = c.get_or_insert_with(&1, t, || "one".into());
        c.get_or_insert_with(&2, t, || "two".into());
        let again = c.get_or_insert_with(&1, t, || unreachable!("still held"));
        assert!(Arc::ptr_eq(&held, &again));
        drop(again);
        let later = t + Duration::from_secs(1);
        c.get_or_insert_with(&2, later, || "two".into());
        let again = c.get_or_insert_with(&1, later, || unreachable!("still held"));
        assert!(Arc::ptr_eq(&held, &again));
        drop((held, again));
        c.get_or_insert_with(&2, later, || "two".into());
        let mut made = false;
        c.get_or_insert_with(&1, later, || {
            made = true;
            "fresh".into()
        });
        assert!(made, "no longer held: gone");
        assert!(c.lent.len() <= 1, "dead entries are forgotten");
    }

    #[test]
    fn a_value_that_asks_to_be_kept_survives_eviction_and_expiry_until_it_no_longer_asks() {
        let mut c = cache(1, 100);
        let t = Instant::now();
        let refused = c.get_or_insert_with(&1, t, || "refused account".into());
        drop(refused);
        c.get_or_insert_with(&2, t, || "two".into());
        let later = t + Duration::from_secs(1);
        c.get_or_insert_with(&3, later, || "three".into());
        let again = c.get_or_insert_with(&1, later, || unreachable!("kept while refused"));
        assert_eq!(again.as_str(), "refused account");
        assert_eq!(c.kept.len(), 0, "back in the LRU order");
    }
}

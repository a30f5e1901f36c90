//! Coalesced list calls: one DCS list per instance per poll tick serves every resource of it.
//!
//! DCS has no get-by-id, so each poll is a paged list of the instance's records. Concurrent and
//! closely spaced polls of the same instance share one fetch: the first caller fetches while the
//! others wait on the same per-key lock, and a fetch younger than `fresh_for` is reused. A caller
//! that needs data newer than some moment (e.g. its own create call) passes `not_before`.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Slot<V> = Arc<tokio::sync::Mutex<Option<(Instant, Arc<V>)>>>;

/// A per-key single-flight cache of list results.
pub struct ListCache<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
    fresh_for: Duration,
}

impl<K: Eq + Hash + Clone, V> ListCache<K, V> {
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            slots: Mutex::default(),
            fresh_for,
        }
    }

    /// Returns a cached value fetched after `not_before` and within `fresh_for`, or fetches one.
    pub async fn get_or_fetch<E, F, Fut>(
        &self,
        key: &K,
        not_before: Option<Instant>,
        fetch: F,
    ) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(key.clone()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some((at, value)) = guard.as_ref() {
            let fresh = at.elapsed() < self.fresh_for;
            let new_enough = not_before.is_none_or(|nb| *at >= nb);
            if fresh && new_enough {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(fetch().await?);
        *guard = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    /// Forgets a key (e.g. after a create, so the next poll cannot see a list from before it).
    pub fn invalidate(&self, key: &K) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.remove(key);
    }

    /// Drops every entry older than the freshness window (it would be fetched again anyway), so that
    /// instances no longer polled do not keep their last list forever. Returns how many went.
    pub fn evict_stale(&self) -> usize {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let before = slots.len();
        slots.retain(|_, slot| {
            // Held elsewhere: a caller is about to fetch into it or read it. An empty slot is a
            // fetch that failed; its next caller fetches again either way.
            if Arc::strong_count(slot) > 1 {
                return true;
            }
            match slot.try_lock() {
                Ok(guard) => guard
                    .as_ref()
                    .is_some_and(|(at, _)| at.elapsed() < self.fresh_for),
                Err(_) => true,
            }
        });
        before - slots.len()
    }

    /// Entries held (fresh or not).
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache: Arc<ListCache<String, Vec<u32>>> =
            Arc::new(ListCache::new(Duration::from_secs(5)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(&"i1".to_string(), None, || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(vec![1, 2, 3])
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(*t.await.unwrap().unwrap(), vec![1, 2, 3]);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn stale_or_too_old_entries_refetch_and_errors_are_not_cached() {
        let cache: ListCache<&str, u32> = ListCache::new(Duration::from_millis(30));
        assert_eq!(
            *cache
                .get_or_fetch(&"k", None, || async { Ok::<_, ()>(1) })
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            *cache
                .get_or_fetch(&"k", None, || async { Ok::<_, ()>(2) })
                .await
                .unwrap(),
            1
        );
        let after = Instant::now();
        assert_eq!(
            *cache
                .get_or_fetch(&"k", Some(after), || async { Ok::<_, ()>(3) })
                .await
                .unwrap(),
            3
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            cache
                .get_or_fetch(&"k", None, || async { Err::<u32, _>("boom") })
                .await,
            Err("boom")
        );
        assert_eq!(
            *cache
                .get_or_fetch(&"k", None, || async { Ok::<_, ()>(4) })
                .await
                .unwrap(),
            4
        );
        cache.invalidate(&"k");
        assert!(cache.is_empty());
        assert_eq!(
            *cache
                .get_or_fetch(&"k", None, || async { Ok::<_, ()>(5) })
                .await
                .unwrap(),
            5
        );
    }

    #[tokio::test]
    async fn stale_entries_are_evicted() {
        let cache: ListCache<&str, u32> = ListCache::new(Duration::from_millis(30));
        let ok = |v| move || async move { Ok::<_, ()>(v) };
        cache.get_or_fetch(&"old", None, ok(1)).await.unwrap();
        let failed = cache.get_or_fetch(&"failed", None, || async { Err::<u32, _>(()) });
        assert!(failed.await.is_err());
        tokio::time::sleep(Duration::from_millis(40)).await;
        cache.get_or_fetch(&"new", None, ok(2)).await.unwrap();
        assert_eq!(cache.len(), 3);
        assert_eq!(
            cache.evict_stale(),
            2,
            "the old entry and the failed fetch's empty slot"
        );
        assert_eq!(cache.len(), 1);
        assert_eq!(
            *cache.get_or_fetch(&"new", None, ok(3)).await.unwrap(),
            2,
            "fresh entry kept"
        );
    }
}

//! One cloud operation per database instance at a time, across all four kinds.
//!
//! The clouds reject a second backup or restore on a busy instance, so the operator queues its own
//! work instead of provoking busy errors. A claim is held from just before the create call until the
//! operation is terminal; the holder refreshes it on every poll, so a claim whose holder vanished
//! (deleted without a finalizer, or an operator restart) goes stale and is taken over.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Claim {
    owner: String,
    refreshed: Instant,
}

/// Per-instance claims, keyed by instance id.
#[derive(Debug)]
pub struct InstanceLocks {
    claims: Mutex<HashMap<String, Claim>>,
    stale_after: Duration,
}

impl InstanceLocks {
    /// `stale_after` must exceed the longest poll interval, or live holders would be overtaken.
    pub fn new(stale_after: Duration) -> Self {
        Self {
            claims: Mutex::default(),
            stale_after,
        }
    }

    /// Claims `instance` for `owner` (a stable id such as `DcsBackup/ns/name`), or returns the holder.
    ///
    /// Succeeds when the instance is free, already held by `owner`, or held by a stale claim.
    pub fn try_claim(&self, instance: &str, owner: &str) -> Result<(), String> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match claims.get(instance) {
            Some(c) if c.owner != owner && now.duration_since(c.refreshed) < self.stale_after => {
                Err(c.owner.clone())
            }
            _ => {
                claims.insert(
                    instance.to_string(),
                    Claim {
                        owner: owner.to_string(),
                        refreshed: now,
                    },
                );
                Ok(())
            }
        }
    }

    /// Re-asserts a running operation's claim (after a restart the map starts empty; the cloud
    /// already runs the operation, so this always wins).
    pub fn hold(&self, instance: &str, owner: &str) {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        claims.insert(
            instance.to_string(),
            Claim {
                owner: owner.to_string(),
                refreshed: Instant::now(),
            },
        );
    }

    /// Releases the claim if `owner` holds it.
    pub fn release(&self, instance: &str, owner: &str) {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        if claims.get(instance).is_some_and(|c| c.owner == owner) {
            claims.remove(instance);
        }
    }

    /// Releases claims of owners starting with `prefix` that are not in `present`: a resource deleted
    /// without a finalizer is never reconciled again, so its claim is collected here instead of
    /// blocking its instance until the claim goes stale.
    pub fn release_absent(
        &self,
        prefix: &str,
        present: &std::collections::HashSet<String>,
    ) -> usize {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        let before = claims.len();
        claims.retain(|_, c| !c.owner.starts_with(prefix) || present.contains(&c.owner));
        before - claims.len()
    }

    /// Claims held (live or stale).
    pub fn len(&self) -> usize {
        self.claims.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current live holder of `instance`, if any.
    pub fn holder(&self, instance: &str) -> Option<String> {
        let claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        claims
            .get(instance)
            .filter(|c| c.refreshed.elapsed() < self.stale_after)
            .map(|c| c.owner.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_owner_waits_until_release() {
        let l = InstanceLocks::new(Duration::from_secs(60));
        assert_eq!(l.try_claim("i1", "a"), Ok(()));
        assert_eq!(l.try_claim("i1", "a"), Ok(()), "re-entrant for the holder");
        assert_eq!(l.try_claim("i1", "b"), Err("a".to_string()));
        assert_eq!(
            l.try_claim("i2", "b"),
            Ok(()),
            "other instances are independent"
        );
        l.release("i1", "b");
        assert_eq!(
            l.holder("i1").as_deref(),
            Some("a"),
            "only the holder releases"
        );
        l.release("i1", "a");
        assert_eq!(l.try_claim("i1", "b"), Ok(()));
    }

    #[test]
    fn stale_claims_are_taken_over() {
        let l = InstanceLocks::new(Duration::from_millis(20));
        l.try_claim("i1", "a").unwrap();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(l.holder("i1"), None);
        assert_eq!(l.try_claim("i1", "b"), Ok(()));
    }

    #[test]
    fn claims_of_vanished_owners_are_collected() {
        let l = InstanceLocks::new(Duration::from_secs(60));
        l.try_claim("i1", "DcsBackup/ns/a").unwrap();
        l.try_claim("i2", "DcsBackup/ns/b").unwrap();
        l.try_claim("i3", "DdsBackup/ns/a").unwrap();
        let present = ["DcsBackup/ns/b".to_string()].into_iter().collect();
        assert_eq!(l.release_absent("DcsBackup/", &present), 1);
        assert_eq!(l.holder("i1"), None);
        assert_eq!(l.holder("i2").as_deref(), Some("DcsBackup/ns/b"));
        assert_eq!(
            l.holder("i3").as_deref(),
            Some("DdsBackup/ns/a"),
            "other kinds are not this store's business"
        );
    }

    #[test]
    fn hold_refreshes_and_overrides() {
        let l = InstanceLocks::new(Duration::from_secs(60));
        l.try_claim("i1", "a").unwrap();
        l.hold("i1", "b");
        assert_eq!(l.holder("i1").as_deref(), Some("b"));
    }
}

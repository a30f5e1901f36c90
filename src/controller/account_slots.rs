//! How many reconciles of one account talk to the cloud at once: at most half of a controller's
//! reconcile slots, so that an account whose calls are slow (a distant region, a struggling
//! endpoint) cannot hold every slot for the length of its calls while the other accounts'
//! resources wait. A reconcile that finds its account's share taken returns at once, without a
//! cloud call or a status write, and comes back shortly.
//!
//! An account is named by the Secret that holds it (namespace and name): known before the Secret
//! is read, and one Secret per account is how accounts are given. Entries exist only while a
//! reconcile holds them, so the map stays as small as the work in flight.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The reconciles in flight per account, and how many one account may have.
#[derive(Debug)]
pub struct AccountSlots {
    limit: AtomicUsize,
    busy: Mutex<HashMap<String, usize>>,
}

impl Default for AccountSlots {
    /// Half of the default concurrency (8).
    fn default() -> Self {
        Self::new(4)
    }
}

/// One reconcile's place in its account's share; freed when dropped.
#[derive(Debug)]
pub struct Slot<'a> {
    slots: &'a AccountSlots,
    key: String,
}

impl AccountSlots {
    pub fn new(limit: usize) -> Self {
        Self {
            limit: AtomicUsize::new(limit.max(1)),
            busy: Mutex::default(),
        }
    }

    /// Sets the share to half of `concurrency` reconciles per controller (at least one).
    pub fn share_of(&self, concurrency: u16) {
        let limit = (usize::from(concurrency) / 2).max(1);
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// A place for a reconcile of the account `key`, or `None` when its share is taken.
    pub fn enter(&self, key: &str) -> Option<Slot<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let n = busy.entry(key.to_string()).or_default();
        if *n >= self.limit.load(Ordering::Relaxed) {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self,
            key: key.to_string(),
        })
    }

    /// Accounts with a reconcile in flight.
    pub fn len(&self) -> usize {
        let busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.values().filter(|n| **n > 0).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut busy = self.slots.busy.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = busy.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_gets_its_share_and_others_are_not_counted_against_it() {
        let s = AccountSlots::new(2);
        let a1 = s.enter("ns/a").expect("first");
        let _a2 = s.enter("ns/a").expect("second");
        assert!(s.enter("ns/a").is_none(), "share taken");
        let _b = s.enter("ns/b").expect("another account");
        drop(a1);
        assert!(s.enter("ns/a").is_some(), "a place came free");
    }

    #[test]
    fn the_map_holds_only_accounts_with_work_in_flight() {
        let s = AccountSlots::new(1);
        drop(s.enter("ns/a"));
        assert!(s.is_empty());
        assert!(s.busy.lock().unwrap().is_empty());
        s.share_of(9);
        let held: Vec<_> = (0..4).map(|_| s.enter("ns/a").expect("a place")).collect();
        assert!(s.enter("ns/a").is_none(), "half of 9 is 4");
        drop(held);
    }
}

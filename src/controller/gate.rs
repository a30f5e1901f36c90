//! The per-resource "not before" gate: no change of a resource, the operator's own status writes
//! included, can bring its next cloud call forward.
//!
//! kube-runtime reconciles again on every change of a watched object, whatever requeue the last
//! reconcile asked for. A failure that changes the status (a new reason, a new count) therefore
//! came straight back as a reconcile, and a backoff held only as long as nothing was written. So
//! every requeue the driver asks for is also recorded here, keyed by UID, and a reconcile that
//! arrives early returns the time left without touching the cloud. Deletion is handled before the
//! gate is consulted, so it stays prompt.
//!
//! The gate also counts each resource's transient failures in a row: like controller-runtime's
//! per-item rate limiter, their retry wait doubles from the base to a cap, and any other outcome
//! resets it. The state is in memory: a new process (or leader) starts every resource afresh.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Entry {
    due: Instant,
    /// Transient failures in a row.
    failures: u32,
}

/// When each resource may next call the cloud, and how often it failed in a row.
#[derive(Debug, Default)]
pub struct Gate {
    entries: Mutex<HashMap<String, Entry>>,
}

/// A reconcile this close to its due time counts as due (timers fire a little early or late).
const SLACK: Duration = Duration::from_millis(10);

impl Gate {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut entries)
    }

    /// Holds the resource `uid` for `wait` from now.
    pub fn hold(&self, uid: &str, wait: Duration) {
        let due = Instant::now() + wait;
        self.with(|e| {
            e.entry(uid.to_string())
                .and_modify(|x| x.due = due)
                .or_insert(Entry { due, failures: 0 });
        });
    }

    /// The time left before the resource may call the cloud again, or `None` when it may now.
    pub fn wait_left(&self, uid: &str) -> Option<Duration> {
        let left = self.with(|e| {
            e.get(uid)
                .map(|x| x.due.saturating_duration_since(Instant::now()))
        })?;
        (left > SLACK).then_some(left)
    }

    /// Counts a transient failure and returns the wait before the next try: `base` doubled for
    /// every earlier failure in a row, at most `cap` (and never below `base`).
    pub fn failed(&self, uid: &str, base: Duration, cap: Duration) -> Duration {
        let failures = self.with(|e| {
            let x = e.entry(uid.to_string()).or_insert(Entry {
                due: Instant::now(),
                failures: 0,
            });
            x.failures = x.failures.saturating_add(1);
            x.failures
        });
        backoff(base, cap, failures)
    }

    /// Any outcome that is not a transient failure ends the run of failures.
    pub fn succeeded(&self, uid: &str) {
        self.with(|e| {
            if let Some(x) = e.get_mut(uid) {
                x.failures = 0;
            }
        });
    }

    /// Lets the resource call the cloud at once (its wait is void, e.g. a status write failed).
    pub fn release(&self, uid: &str) {
        self.with(|e| {
            if let Some(x) = e.get_mut(uid) {
                x.due = Instant::now();
            }
        });
    }

    /// Whether this process has held the resource before (a new process or term starts empty).
    pub fn contains(&self, uid: &str) -> bool {
        self.with(|e| e.contains_key(uid))
    }

    /// Forgets the resource (terminal or deleted).
    pub fn forget(&self, uid: &str) {
        self.with(|e| e.remove(uid));
    }

    /// Keeps only the resources for which `keep` holds (housekeeping of resources deleted
    /// without a finalizer, which are never reconciled again).
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) {
        self.with(|e| e.retain(|uid, _| keep(uid)));
    }

    pub fn len(&self) -> usize {
        self.with(|e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The wait after the `failures`-th transient failure in a row (1-based): `base * 2^(failures-1)`,
/// capped at `cap`, never below `base`.
pub fn backoff(base: Duration, cap: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    base.saturating_mul(1u32 << doublings).min(cap.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_gate_holds_until_due() {
        let g = Gate::default();
        assert_eq!(g.wait_left("u"), None, "unknown resources may go");
        g.hold("u", S(30));
        let left = g.wait_left("u").unwrap();
        assert!(left > S(29) && left <= S(30), "{left:?}");
        g.hold("u", Duration::ZERO);
        assert_eq!(g.wait_left("u"), None, "due");
        g.hold("u", S(30));
        g.release("u");
        assert_eq!(g.wait_left("u"), None, "released");
        g.hold("u", S(30));
        g.forget("u");
        assert_eq!(g.wait_left("u"), None);
        assert!(g.is_empty());
    }

    #[test]
    fn failures_in_a_row_double_the_wait_up_to_the_cap_and_reset_on_success() {
        let g = Gate::default();
        let waits: Vec<u64> = (0..7)
            .map(|_| g.failed("u", S(15), S(300)).as_secs())
            .collect();
        assert_eq!(waits, vec![15, 30, 60, 120, 240, 300, 300]);
        assert_eq!(g.failed("v", S(15), S(300)), S(15), "per resource");
        g.succeeded("u");
        assert_eq!(g.failed("u", S(15), S(300)), S(15), "reset by a success");
    }

    #[test]
    fn backoff_never_overflows_or_undercuts_the_base() {
        assert_eq!(backoff(S(15), S(300), u32::MAX), S(300));
        assert_eq!(backoff(S(15), S(10), 1), S(15), "a cap below the base");
        assert_eq!(backoff(S(15), S(300), 0), S(15));
    }

    #[test]
    fn retain_drops_resources_that_are_gone() {
        let g = Gate::default();
        g.hold("a", S(1));
        g.hold("b", S(1));
        g.retain(|uid| uid == "b");
        assert_eq!(g.len(), 1);
        assert_eq!(g.wait_left("a"), None);
    }
}

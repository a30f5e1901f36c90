//! Fencing: a replica starts a cloud create only while it holds the leader lease *and* renewed it
//! recently enough that no other replica can have taken it over.
//!
//! Holding the lease is not proof by itself: a leader whose renewals hang still believes it leads
//! while the lease expires and a standby takes it. The election (`leader.rs`) records when each
//! successful renewal was sent; the fence lets a create through only within `window` of that, a
//! window that ends before the lease could expire on any other replica's clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// Why this replica may not start a create now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fenced {
    #[error("this replica does not hold the leader lease")]
    NotLeader,
    #[error("the leader lease was last renewed {0:?} ago; another replica may have taken it over")]
    Stale(Duration),
    #[error("the leader lease was never renewed")]
    NeverRenewed,
}

/// When the latest successful lease renewal was sent (shared by the election and the fence).
#[derive(Debug, Clone, Default)]
pub struct Renewals(Arc<Mutex<Option<Instant>>>);

impl Renewals {
    /// Records a renewal that succeeded; `sent` is when it was sent (the lease counts from then).
    pub fn record(&self, sent: Instant) {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(last.map_or(sent, |l| l.max(sent)));
    }

    pub fn last(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone)]
struct Lease {
    leading: watch::Receiver<bool>,
    renewals: Renewals,
    window: Duration,
}

/// The check the driver makes before the create marker is written and before every create.
#[derive(Debug, Clone, Default)]
pub struct Fence {
    lease: Option<Lease>,
}

impl Fence {
    /// Always passes: leader election is off, so this is the only replica.
    pub fn open() -> Self {
        Self::default()
    }

    /// Passes while `leading` is true and the latest of `renewals` is younger than `window`.
    pub fn lease(leading: watch::Receiver<bool>, renewals: Renewals, window: Duration) -> Self {
        Self {
            lease: Some(Lease {
                leading,
                renewals,
                window,
            }),
        }
    }

    /// `Ok` when this replica may start a create now. Reads the live election state, so a replica
    /// that loses the lease stops at once, even in reconciles that are already running.
    pub fn check(&self) -> Result<(), Fenced> {
        let Some(lease) = &self.lease else {
            return Ok(());
        };
        if !*lease.leading.borrow() {
            return Err(Fenced::NotLeader);
        }
        let age = lease.renewals.last().ok_or(Fenced::NeverRenewed)?.elapsed();
        if age >= lease.window {
            return Err(Fenced::Stale(age));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_leader_election_the_fence_is_open() {
        assert_eq!(Fence::open().check(), Ok(()));
    }

    #[test]
    fn a_leader_that_stopped_renewing_is_fenced_after_the_window() {
        let (tx, rx) = watch::channel(true);
        let renewals = Renewals::default();
        let fence = Fence::lease(rx, renewals.clone(), Duration::from_millis(50));
        assert_eq!(fence.check(), Err(Fenced::NeverRenewed));
        renewals.record(Instant::now());
        assert_eq!(fence.check(), Ok(()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(matches!(fence.check(), Err(Fenced::Stale(_))));
        renewals.record(Instant::now());
        assert_eq!(fence.check(), Ok(()));
        // An older renewal answered late does not move the clock back.
        renewals.record(Instant::now() - Duration::from_secs(1));
        assert_eq!(fence.check(), Ok(()));
        tx.send_replace(false);
        assert_eq!(fence.check(), Err(Fenced::NotLeader), "lost at once");
    }
}

//! The per-account client-side rate limiter (`--cloud-rate-per-second`), which never holds a
//! reconcile slot for long.
//!
//! The controllers run a fixed number of reconciles at once. A reconcile that waited inside the
//! limiter until its account had a free slot kept one of them busy meanwhile, so one account with
//! many resources took every slot and starved all the others. Now a call waits at most a small
//! bound (contention of a few milliseconds is cheaper than a requeue); when the account's next
//! slot is further away, the call fails at once with the wait the limiter suggests, and the
//! resource requeues like any throttled one.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::transport::TransportConfig;

/// A GCRA limiter with the clock it reads, shared by every call of one account.
pub(crate) struct Limiter {
    cells: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

/// A limiter for `cfg`, or `None` when limiting is off.
pub(crate) fn limiter(cfg: &TransportConfig) -> Option<Limiter> {
    let rate = NonZeroU32::new(cfg.rate_per_second)?;
    let burst = NonZeroU32::new(cfg.burst).unwrap_or(rate);
    let clock = DefaultClock::default();
    let quota = Quota::per_second(rate).allow_burst(burst);
    Some(Limiter {
        cells: RateLimiter::direct_with_clock(quota, clock.clone()),
        clock,
    })
}

impl Limiter {
    /// Takes a slot, waiting for it only when it comes within `max_wait`; otherwise `Err` with
    /// the time until the next slot. Never loops: one short wait, then a verdict.
    pub(crate) async fn acquire(&self, max_wait: Duration) -> Result<(), Duration> {
        let wait = match self.cells.check() {
            Ok(()) => return Ok(()),
            Err(not_until) => not_until.wait_time_from(self.clock.now()),
        };
        if wait > max_wait {
            return Err(wait);
        }
        if tokio::time::timeout(max_wait, self.cells.until_ready())
            .await
            .is_ok()
        {
            return Ok(());
        }
        // Other calls of the account took the slots meanwhile.
        match self.cells.check() {
            Ok(()) => Ok(()),
            Err(not_until) => Err(not_until.wait_time_from(self.clock.now())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn one_per_second() -> Limiter {
        limiter(&TransportConfig {
            rate_per_second: 1,
            burst: 1,
            ..TransportConfig::default()
        })
        .expect("limiting on")
    }

    #[tokio::test]
    async fn a_distant_slot_fails_at_once_with_the_wait() {
        let l = one_per_second();
        assert_eq!(l.acquire(Duration::from_millis(100)).await, Ok(()));
        let started = Instant::now();
        let wait = l.acquire(Duration::from_millis(100)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(50), "no waiting");
        assert!(
            wait > Duration::from_millis(800) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }

    #[tokio::test]
    async fn a_near_slot_is_waited_for() {
        let l = limiter(&TransportConfig {
            rate_per_second: 20,
            burst: 1,
            ..TransportConfig::default()
        })
        .expect("limiting on");
        for _ in 0..5 {
            assert_eq!(l.acquire(Duration::from_millis(100)).await, Ok(()));
        }
    }

    #[test]
    fn zero_rate_means_no_limiter() {
        let cfg = TransportConfig {
            rate_per_second: 0,
            ..TransportConfig::default()
        };
        assert!(limiter(&cfg).is_none());
    }
}

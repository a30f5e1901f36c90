//! The first poll of a running operation this process has not polled yet (after a restart or at
//! the start of a leadership term): placed on the operation's schedule and spread, not at once.
//!
//! A new process knows every resource from its first list at the same moment, so without this
//! every running operation would be polled in the first second: a burst the per-account rate
//! limit turns into throttled calls and retries. Instead the first poll lands where the schedule
//! would put it (the expected finish, when the learned or seeded duration says it is more than an
//! interval away), and otherwise at a point of the interval fixed by the resource's UID, so that a
//! thousand operations resume evenly over one interval, each always at the same offset.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use jiff::Timestamp;

use crate::controller::context::Context;
use crate::controller::decide::TIME_PRECISION;
use crate::controller::operation::Operation;
use crate::crd::OperationStatus;

/// The wait before the first poll of `obj` by this process, or `None` when this process has
/// polled or scheduled it before (its schedule holds) or the wait is negligible. Re-asserts the
/// instance claim at once, so that a queued resource does not start on the instance meanwhile.
pub fn first_poll<K: Operation>(
    obj: &K,
    ctx: &Context,
    uid: &str,
    owner: &str,
    status: &OperationStatus,
) -> Option<Duration> {
    if ctx.gate.contains(uid) {
        return None;
    }
    ctx.locks.hold(obj.instance_id(), owner);
    let elapsed = status
        .started_at
        .as_ref()
        .and_then(|s| Duration::try_from(Timestamp::now().duration_since(s.0)).ok())
        .unwrap_or_default()
        .saturating_sub(TIME_PRECISION / 2);
    let planned =
        ctx.scheduler
            .next_poll(K::KIND_LABEL, obj.instance_id(), elapsed, status.progress);
    let wait = spread(uid, planned, ctx.scheduler.policy().interval);
    ctx.gate.hold(uid, wait);
    (!wait.is_zero()).then_some(wait)
}

/// `planned` when it is more than an `interval` away, else a point of `[0, planned)` fixed by
/// `uid`: evenly spread over many UIDs, always the same for one.
pub fn spread(uid: &str, planned: Duration, interval: Duration) -> Duration {
    if planned > interval {
        return planned;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    uid.hash(&mut h);
    let fraction = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    planned.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn first_polls_spread_evenly_over_the_interval_and_stay_put_per_uid() {
        let uids: Vec<String> = (0..1000)
            .map(|i| format!("0d9c5f3e-1111-4a2b-9c3d-{i:012}"))
            .collect();
        let mut tenths = [0usize; 10];
        for uid in &uids {
            let wait = spread(uid, S(10), S(10));
            assert!(wait < S(10));
            assert_eq!(wait, spread(uid, S(10), S(10)), "deterministic");
            tenths[(wait.as_secs_f64()) as usize] += 1;
        }
        for (i, n) in tenths.iter().enumerate() {
            assert!(
                (60..=140).contains(n),
                "tenth {i} of the interval has {n} of 1000: {tenths:?}"
            );
        }
    }

    #[test]
    fn an_expected_finish_beyond_the_interval_is_kept() {
        assert_eq!(spread("u", S(120), S(10)), S(120));
        assert!(
            spread("u", S(4), S(10)) < S(4),
            "nearly done: within what is left"
        );
    }
}

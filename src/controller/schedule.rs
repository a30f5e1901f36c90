//! Poll schedule that learns how long operations take, so a backup costs a create and about one poll.
//!
//! Every finished operation records its duration per (kind, instance). The next poll of a running
//! operation is placed just after its expected finish (from that history, or from the cloud's progress
//! figure), and once an operation is overdue it is polled at the short interval so that completion
//! shows up in status within about one interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Knobs of the poll schedule (from the operator's configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// First poll after a create when nothing is known, and the interval once an operation is overdue.
    pub interval: Duration,
    /// Upper bound of any single wait.
    pub max_interval: Duration,
    /// Lower bound of any single wait (protects the cloud from tight loops).
    pub min_interval: Duration,
    /// Slack added after the expected finish, so the poll lands after it rather than just before.
    pub margin: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            max_interval: Duration::from_secs(300),
            min_interval: Duration::from_secs(2),
            margin: Duration::from_secs(1),
        }
    }
}

impl PollPolicy {
    /// The same policy scaled down, for tests and benchmarks against a fast simulator.
    pub fn scaled(interval: Duration, max_interval: Duration) -> Self {
        Self {
            interval,
            max_interval,
            min_interval: interval / 5,
            margin: interval / 10,
        }
    }
}

/// Weight of the newest sample in the moving average.
const EWMA_WEIGHT: f64 = 0.3;

/// How much shorter than the estimate to probe after a poll found an operation done on time.
const PROBE_SHORTER: f64 = 0.99;

/// Learned durations, shared by all controllers.
#[derive(Debug, Default)]
pub struct Scheduler {
    policy: PollPolicy,
    history: Mutex<HashMap<(&'static str, String), f64>>,
}

impl Scheduler {
    pub fn new(policy: PollPolicy) -> Self {
        Self {
            policy,
            history: Mutex::default(),
        }
    }

    pub fn policy(&self) -> PollPolicy {
        self.policy
    }

    /// Records how long a finished operation took, as seen by the poll that found it done.
    ///
    /// When that poll was the one placed just after the learned estimate, `took` is only an upper
    /// bound (the operation ended somewhere before the poll); averaging it in would add the poll's
    /// lateness every time and the estimate would creep later with every backup. Then the estimate
    /// is nudged slightly shorter instead, so it settles just around the real duration.
    pub fn record(&self, kind: &'static str, instance: &str, took: Duration) {
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let key = (kind, instance.to_string());
        let tolerance = (self.policy.margin * 2 + Duration::from_secs(1)).as_secs_f64();
        let sample = match h.get(&key) {
            Some(avg) if took.as_secs_f64() <= avg + tolerance => avg * PROBE_SHORTER,
            _ => took.as_secs_f64(),
        };
        h.entry(key)
            .and_modify(|avg| *avg = EWMA_WEIGHT * sample + (1.0 - EWMA_WEIGHT) * *avg)
            .or_insert(sample);
    }

    /// The learned duration of operations of `kind` on `instance`, if any finished before.
    pub fn expected(&self, kind: &'static str, instance: &str) -> Option<Duration> {
        let h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        h.get(&(kind, instance.to_string()))
            .map(|s| Duration::from_secs_f64(*s))
    }

    /// Wait before the next poll of an operation running for `elapsed`, before jitter.
    pub fn next_poll(
        &self,
        kind: &'static str,
        instance: &str,
        elapsed: Duration,
        progress: Option<f64>,
    ) -> Duration {
        next_delay(
            &self.policy,
            self.expected(kind, instance),
            elapsed,
            progress,
        )
    }
}

/// Pure schedule: where to place the next poll given what is known.
pub fn next_delay(
    p: &PollPolicy,
    expected: Option<Duration>,
    elapsed: Duration,
    progress: Option<f64>,
) -> Duration {
    // The cloud's own figure is the best estimate of what remains, when it has made some progress.
    let from_progress = progress
        .filter(|pct| *pct > 1.0 && *pct < 100.0)
        .map(|pct| elapsed.mul_f64((100.0 - pct) / pct));
    let from_history = expected.map(|e| e.saturating_sub(elapsed));
    let remaining = match (from_progress, from_history) {
        (Some(a), _) => Some(a),
        (None, Some(h)) if !h.is_zero() => Some(h),
        _ => None,
    };
    let wait = match remaining {
        Some(r) => r + p.margin,
        // Nothing known, or overdue: the short interval keeps completion-to-status latency low.
        None => p.interval,
    };
    wait.clamp(p.min_interval, p.max_interval)
}

/// Largest delay [`jitter`] adds: a learned poll placed one margin after the expected finish must
/// not land many seconds later (10% of a 2-minute wait would be 12 s).
pub const MAX_JITTER: Duration = Duration::from_secs(2);

/// Spreads requeues by up to +10% (at most +2 s) so resources created together do not poll together
/// forever. Only ever later: a poll placed just after an expected finish must not land before it.
pub fn jitter(d: Duration) -> Duration {
    use rand::Rng;
    let spread = (d / 10).min(MAX_JITTER).as_secs_f64();
    if spread <= 0.0 {
        return d;
    }
    d + Duration::from_secs_f64(rand::rng().random_range(0.0..spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn unknown_operation_polls_at_the_interval() {
        let p = PollPolicy::default();
        assert_eq!(next_delay(&p, None, S(0), None), S(10));
        assert_eq!(next_delay(&p, None, S(500), None), S(10));
    }

    #[test]
    fn learned_duration_places_the_poll_just_after_the_expected_finish() {
        let p = PollPolicy::default();
        assert_eq!(next_delay(&p, Some(S(120)), S(0), None), S(121));
        assert_eq!(next_delay(&p, Some(S(120)), S(100), None), S(21));
        // Overdue: back to the short interval.
        assert_eq!(next_delay(&p, Some(S(120)), S(130), None), S(10));
        // Never beyond the cap.
        assert_eq!(next_delay(&p, Some(S(3600)), S(0), None), S(300));
    }

    #[test]
    fn progress_figure_beats_history() {
        let p = PollPolicy::default();
        // 25% after 60 s: about 180 s remain.
        assert_eq!(next_delay(&p, Some(S(30)), S(60), Some(25.0)), S(181));
        // 0% or 100% tell nothing about the rate.
        assert_eq!(next_delay(&p, None, S(60), Some(0.0)), S(10));
        assert_eq!(next_delay(&p, None, S(60), Some(100.0)), S(10));
    }

    #[test]
    fn never_below_the_floor() {
        let p = PollPolicy::default();
        assert_eq!(
            next_delay(&p, Some(S(10)), Duration::from_millis(9_900), None),
            S(2)
        );
    }

    #[test]
    fn scheduler_learns_a_moving_average_per_kind_and_instance() {
        let s = Scheduler::new(PollPolicy::default());
        assert_eq!(s.expected("dcsbackup", "i1"), None);
        s.record("dcsbackup", "i1", S(100));
        assert_eq!(s.expected("dcsbackup", "i1"), Some(S(100)));
        s.record("dcsbackup", "i1", S(200));
        assert_eq!(s.expected("dcsbackup", "i1"), Some(S(130)));
        assert_eq!(s.expected("dcsbackup", "i2"), None);
        assert_eq!(s.expected("ddsbackup", "i1"), None);
        assert_eq!(s.next_poll("dcsbackup", "i1", S(0), None), S(131));
    }

    #[test]
    fn completions_seen_on_the_learned_poll_do_not_creep_later() {
        let s = Scheduler::new(PollPolicy::default());
        s.record("dcsbackup", "i1", S(120));
        // Each backup really takes 120 s; the learned poll lands one margin later and sees it done.
        for _ in 0..1000 {
            let e = s.expected("dcsbackup", "i1").unwrap();
            let seen_at = if e + S(1) >= S(120) {
                e + S(1)
            } else {
                e + S(1) + S(10)
            };
            s.record("dcsbackup", "i1", seen_at);
        }
        let e = s.expected("dcsbackup", "i1").unwrap();
        assert!(
            e >= S(115) && e <= S(125),
            "settles around the real duration: {e:?}"
        );
    }

    #[test]
    fn jitter_is_later_by_at_most_ten_percent_and_two_seconds() {
        for _ in 0..1000 {
            let j = jitter(S(10));
            assert!(j >= S(10) && j <= S(11), "{j:?}");
            let j = jitter(S(120));
            assert!(j >= S(120) && j <= S(122), "{j:?}");
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}

//! Poll schedule that learns how long operations take, so a backup costs a create and about one poll.
//!
//! Every finished operation records its duration per (kind, instance). The next poll of a running
//! operation is placed just after its expected finish (from that history, or from the cloud's progress
//! figure), and once an operation is overdue it is polled at the short interval so that completion
//! shows up in status within about one interval.
//!
//! An instance this process has not seen finish anything yet can be seeded once from the durations
//! of the finished operations the cloud lists for it ([`Scheduler::seed`], `controller::seed`), so
//! that its first backup is placed like a later one.

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
    /// Per (kind, instance): the expected duration in seconds, or `None` once seeding was tried
    /// and found nothing usable (it is tried once per process).
    history: Mutex<HashMap<(&'static str, String), Option<f64>>>,
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
        let mut h = self.lock();
        let tolerance = (self.policy.margin * 2 + Duration::from_secs(1)).as_secs_f64();
        let slot = h.entry((kind, instance.to_string())).or_insert(None);
        let took = took.as_secs_f64();
        *slot = Some(match *slot {
            Some(avg) if took <= avg + tolerance => {
                EWMA_WEIGHT * avg * PROBE_SHORTER + (1.0 - EWMA_WEIGHT) * avg
            }
            Some(avg) => EWMA_WEIGHT * took + (1.0 - EWMA_WEIGHT) * avg,
            None => took,
        });
    }

    /// The learned (or seeded) duration of operations of `kind` on `instance`, if any.
    pub fn expected(&self, kind: &'static str, instance: &str) -> Option<Duration> {
        let h = self.lock();
        h.get(&(kind, instance.to_string()))
            .copied()
            .flatten()
            .map(Duration::from_secs_f64)
    }

    /// Whether seeding (kind, instance) from the cloud's history is still to be tried: nothing was
    /// learned for it and no seeding was tried before, in this process.
    pub fn needs_seed(&self, kind: &'static str, instance: &str) -> bool {
        !self.lock().contains_key(&(kind, instance.to_string()))
    }

    /// Seeds (kind, instance) with `estimate`, the duration its finished operations took as the
    /// cloud lists them; `None` records that seeding was tried and found nothing. Never overrides
    /// what was learned or seeded before, so an instance is seeded at most once per process.
    pub fn seed(&self, kind: &'static str, instance: &str, estimate: Option<Duration>) {
        self.lock()
            .entry((kind, instance.to_string()))
            .or_insert(estimate.map(|e| e.as_secs_f64()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(&'static str, String), Option<f64>>> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
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
    // The cloud's own figure tells what remains once it has made some progress; history tells
    // what remains until the expected finish, while that is still ahead.
    let pct = progress.filter(|pct| *pct > 1.0 && *pct < 100.0);
    let from_progress = pct.map(|pct| elapsed.mul_f64((100.0 - pct) / pct));
    let from_history = expected
        .map(|e| e.saturating_sub(elapsed))
        .filter(|h| !h.is_zero());
    let remaining = match (from_progress, from_history, pct) {
        // Both: the figure is trusted in proportion to how far the operation is. An early figure
        // multiplies every error of the elapsed time (16% seen half a second late is 2.5 s off
        // the finish); the instance's history does not, and a late figure knows this run best.
        (Some(p), Some(h), Some(pct)) => {
            let w = pct / 100.0;
            Some(p.mul_f64(w) + h.mul_f64(1.0 - w))
        }
        (Some(p), _, _) => Some(p),
        (None, Some(h), _) => Some(h),
        (None, None, _) => None,
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
    fn progress_figure_beats_overdue_history() {
        let p = PollPolicy::default();
        // 25% after 60 s: about 180 s remain.
        assert_eq!(next_delay(&p, Some(S(30)), S(60), Some(25.0)), S(181));
        // 0% or 100% tell nothing about the rate.
        assert_eq!(next_delay(&p, None, S(60), Some(0.0)), S(10));
        assert_eq!(next_delay(&p, None, S(60), Some(100.0)), S(10));
    }

    #[test]
    fn an_early_progress_figure_counts_little_against_history() {
        let p = PollPolicy::default();
        // 60 s expected, 10 s in: history says 50 s remain. A figure of 20% says 40 s: it is
        // weighted by how far the operation is (20%), history by the rest.
        assert_eq!(next_delay(&p, Some(S(60)), S(10), Some(20.0)), S(49));
        // Late in the run the figure decides: 90% after 54 s says 6 s; history says 6 s too here.
        assert_eq!(next_delay(&p, Some(S(60)), S(54), Some(90.0)), S(7));
        // 90% after 90 s says 10 s remain; history (expected 100 s) also 10 s; a bigger run than
        // usual: 50% after 60 s says 60 s, history 40 s: 50 s in between.
        assert_eq!(next_delay(&p, Some(S(100)), S(60), Some(50.0)), S(51));
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
    fn seeding_happens_once_and_never_overrides_what_was_learned() {
        let s = Scheduler::new(PollPolicy::default());
        assert!(s.needs_seed("dcsbackup", "i1"));
        s.seed("dcsbackup", "i1", Some(S(60)));
        assert_eq!(s.expected("dcsbackup", "i1"), Some(S(60)));
        assert!(!s.needs_seed("dcsbackup", "i1"), "once per process");
        s.seed("dcsbackup", "i1", Some(S(500)));
        assert_eq!(
            s.expected("dcsbackup", "i1"),
            Some(S(60)),
            "first seed stays"
        );
        assert_eq!(s.next_poll("dcsbackup", "i1", S(0), None), S(61));

        // Tried, nothing usable: not tried again, and nothing is expected until a backup finishes.
        s.seed("dcsbackup", "i2", None);
        assert!(!s.needs_seed("dcsbackup", "i2"));
        assert_eq!(s.expected("dcsbackup", "i2"), None);
        s.record("dcsbackup", "i2", S(40));
        assert_eq!(s.expected("dcsbackup", "i2"), Some(S(40)));

        // Learned before any seeding: no seeding wanted, and a late seed changes nothing.
        s.record("ddsbackup", "i3", S(90));
        assert!(!s.needs_seed("ddsbackup", "i3"));
        s.seed("ddsbackup", "i3", Some(S(10)));
        assert_eq!(s.expected("ddsbackup", "i3"), Some(S(90)));
        assert!(s.needs_seed("taurusdbbackup", "i3"), "per kind");
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

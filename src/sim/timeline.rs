//! When an operation started and how long it takes; its phase is a pure function of the clock.

use std::time::{Duration, Instant};

use jiff::Timestamp;

/// When an operation started (monotonic and wall clock) and how long it takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeline {
    pub started: Instant,
    pub started_at: Timestamp,
    pub duration: Duration,
}

/// Where an operation stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    /// The first tenth of the duration: accepted, not yet running.
    Queued,
    /// Running, with percent complete.
    Running(f64),
    Done,
}

impl Timeline {
    pub fn start(duration: Duration) -> Self {
        Self {
            started: Instant::now(),
            started_at: Timestamp::now(),
            duration,
        }
    }

    pub fn phase(&self, now: Instant) -> Phase {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed >= self.duration {
            return Phase::Done;
        }
        let fraction = elapsed.as_secs_f64() / self.duration.as_secs_f64();
        if fraction < 0.1 {
            Phase::Queued
        } else {
            Phase::Running(fraction * 100.0)
        }
    }

    pub fn done(&self, now: Instant) -> bool {
        self.phase(now) == Phase::Done
    }

    pub fn ended(&self) -> Instant {
        self.started + self.duration
    }

    /// Wall-clock end time (start time if the duration cannot be represented).
    pub fn ended_at(&self) -> Timestamp {
        self.started_at
            .checked_add(self.duration)
            .unwrap_or(self.started_at)
    }

    pub fn completed_at(&self, now: Instant) -> Option<Instant> {
        self.done(now).then(|| self.ended())
    }
}

/// A timeline that started `ago` before the `Instant` returned with it (for tests of what the
/// simulator reports at a given point of an operation).
#[cfg(test)]
pub(crate) fn timeline(ago: Duration, duration: Duration) -> (Timeline, Instant) {
    let now = Instant::now();
    let t = Timeline {
        started: now - ago,
        started_at: Timestamp::now(),
        duration,
    };
    (t, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_clock() {
        let d = Duration::from_secs(10);
        let (t, now) = timeline(Duration::ZERO, d);
        assert_eq!(t.phase(now), Phase::Queued);
        let (t, now) = timeline(Duration::from_secs(4), d);
        match t.phase(now) {
            Phase::Running(p) => assert!((p - 40.0).abs() < 1.0, "{p}"),
            other => panic!("{other:?}"),
        }
        let (t, now) = timeline(Duration::from_secs(10), d);
        assert_eq!(t.phase(now), Phase::Done);
        assert_eq!(t.completed_at(now), Some(t.started + d));
        let (t, now) = timeline(Duration::ZERO, Duration::ZERO);
        assert_eq!(t.phase(now), Phase::Done, "zero duration is done at once");
    }
}

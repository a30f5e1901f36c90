//! The clock schedules run on: the system clock, or (in tests) a clock that runs faster than real
//! time, so that a day of every-minute runs passes in seconds through the real controllers.
//!
//! The scaled clock counts tokio's time, so a test that pauses tokio's clock moves schedule time
//! with the timers of the controllers (a day of idle schedules passes in a moment, every timer
//! firing on the way).

use std::time::Duration;

use tokio::time::Instant;

use jiff::{SignedDuration, Timestamp};

/// Where a schedule's "now" comes from.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// Wall-clock time (production).
    #[default]
    System,
    /// Starts at `origin` when created and runs `factor` times faster than real time.
    Scaled {
        started: Instant,
        origin: Timestamp,
        factor: u32,
    },
}

impl Clock {
    /// A clock that reads `origin` now and advances `factor` seconds per real second.
    pub fn scaled(origin: Timestamp, factor: u32) -> Self {
        Self::Scaled {
            started: Instant::now(),
            origin,
            factor: factor.max(1),
        }
    }

    pub fn now(&self) -> Timestamp {
        match *self {
            Self::System => Timestamp::now(),
            Self::Scaled {
                started,
                origin,
                factor,
            } => {
                let elapsed = started.elapsed().saturating_mul(factor);
                let elapsed = SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::MAX);
                origin.saturating_add(elapsed).unwrap_or(origin)
            }
        }
    }

    /// The real time to wait until this clock has advanced by `wait`.
    pub fn real(&self, wait: Duration) -> Duration {
        match *self {
            Self::System => wait,
            Self::Scaled { factor, .. } => wait / factor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_clock_runs_faster_and_scales_waits_down() {
        let origin: Timestamp = "2026-11-28T00:00:00Z".parse().unwrap();
        let c = Clock::scaled(origin, 60);
        std::thread::sleep(Duration::from_millis(50));
        let ran = c.now().duration_since(origin);
        assert!(
            ran >= SignedDuration::from_secs(3) && ran < SignedDuration::from_secs(60),
            "{ran:?}"
        );
        assert_eq!(c.real(Duration::from_secs(60)), Duration::from_secs(1));
        assert_eq!(
            Clock::System.real(Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }
}

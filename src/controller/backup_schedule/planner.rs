//! What a schedule does now: a pure function of the parsed schedule, what its status says is settled,
//! its running children, and the time.
//!
//! Every run time after `settled_until` (the latest run time that ran or was skipped, or the
//! schedule's creation) and not after `now` is *due*. Of the due times only the most recent can run,
//! and only within `startingDeadline`; the older ones are reported as missed. So an operator that
//! restarts at the tick still runs that tick (the tick is due when it comes back), and one that was
//! down for days runs once, not once per day it missed.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::crd::cron::CronSchedule;

/// At most this many due times are counted one by one (an every-minute schedule down for days).
pub const COUNT_CAP: usize = 1000;

/// The planner's inputs.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    pub cron: &'a CronSchedule,
    /// `spec.suspend`.
    pub suspend: bool,
    /// The stored status says the schedule was suspended: this is its first plan since the resume.
    pub resuming: bool,
    pub starting_deadline: Duration,
    /// Run times up to and including this one are settled (ran or skipped).
    pub settled_until: Timestamp,
    /// Run times of the schedule's children that are not final yet.
    pub active: &'a [Timestamp],
    pub now: Timestamp,
}

/// The run times that are due: how many, the oldest and the most recent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// How many run times are due (at least this many when `capped`).
    pub count: usize,
    pub capped: bool,
    pub oldest: Timestamp,
    pub latest: Timestamp,
}

/// Why a due run time does not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A previous child is not final yet: the cloud runs one operation per instance anyway.
    Busy,
    /// It is older than `startingDeadline` (the operator was not running, or the spec was invalid).
    PastDeadline,
    /// It fell while the schedule was suspended.
    WhileSuspended,
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `spec.suspend`: nothing runs and nothing is due.
    Suspended,
    /// Nothing is due.
    Wait,
    /// Create the child for this run time (or record it, when it already exists).
    Run(Timestamp),
    /// Settle this run time (the most recent due one) without running it.
    Skip(Timestamp, SkipReason),
}

/// The plan: the action, the due run times it settles, and the next run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub action: Action,
    /// Every due run time, the one acted on included; `None` when nothing is due.
    pub due: Option<Due>,
    /// The next run time after the due ones; `None` while suspended or when none follows.
    pub next: Option<Timestamp>,
}

impl Plan {
    /// Due run times other than the one acted on: missed, and skipped without running.
    pub fn missed_before(&self) -> usize {
        self.due.map_or(0, |d| d.count.saturating_sub(1))
    }
}

/// Decides what the schedule does now.
pub fn plan(i: &PlanInput<'_>) -> Plan {
    if i.suspend {
        return Plan {
            action: Action::Suspended,
            due: None,
            next: None,
        };
    }
    let Some(due) = due_times(i.cron, i.settled_until, i.now) else {
        return Plan {
            action: Action::Wait,
            due: None,
            // Nothing due means the first run time after `settled_until` is still ahead. Searching from
            // that exact instant (not from `now`) keeps a fall-back overlap from being walked twice.
            next: i.cron.next_after(i.settled_until),
        };
    };
    // From the exact instant returned, for the same reason.
    let next = i.cron.next_after(due.latest);
    let deadline = SignedDuration::try_from(i.starting_deadline).unwrap_or(SignedDuration::MAX);
    let action = if i.resuming {
        Action::Skip(due.latest, SkipReason::WhileSuspended)
    } else if i.now.duration_since(due.latest) > deadline {
        Action::Skip(due.latest, SkipReason::PastDeadline)
    } else if i.active.iter().any(|t| *t != due.latest) {
        Action::Skip(due.latest, SkipReason::Busy)
    } else {
        Action::Run(due.latest)
    };
    Plan {
        action,
        due: Some(due),
        next,
    }
}

/// The run times after `after` and not after `now`, if any.
pub fn due_times(cron: &CronSchedule, after: Timestamp, now: Timestamp) -> Option<Due> {
    let oldest = cron.next_after(after).filter(|t| *t <= now)?;
    let mut latest = oldest;
    let mut count = 1;
    while count < COUNT_CAP {
        match cron.next_after(latest) {
            Some(t) if t <= now => {
                latest = t;
                count += 1;
            }
            _ => {
                return Some(Due {
                    count,
                    capped: false,
                    oldest,
                    latest,
                });
            }
        }
    }
    // Too many to walk: jump to the most recent one.
    let latest = cron
        .latest_at_or_before(now)
        .filter(|t| *t >= latest)
        .unwrap_or(latest);
    Some(Due {
        count,
        capped: true,
        oldest,
        latest,
    })
}

//! A schedule's next status and the events that go with it, computed from what the reconcile did.
//! Pure: the reconcile writes the result only when it differs from the stored status.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::children::ChildView;
use super::planner::{Action, Plan, SkipReason};
use super::retention::Verdict;
use crate::controller::decide::EventNote;
use crate::crd::cron::CronSchedule;
use crate::crd::{ActiveChild, BackupScheduleStatus};

/// Condition types.
pub const READY: &str = "Ready";
pub const WARNING: &str = "Warning";

/// Condition reasons.
pub mod reason {
    pub const SCHEDULED: &str = "Scheduled";
    pub const SUSPENDED: &str = "Suspended";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const DCS_BACKUP_CAP: &str = "DcsBackupCap";
}

/// Event reasons.
pub mod event {
    pub const BACKUP_SCHEDULED: &str = "BackupScheduled";
    pub const RUN_SKIPPED: &str = "RunSkipped";
    pub const MISSED_RUNS_SKIPPED: &str = "MissedRunsSkipped";
    pub const RETENTION_DELETED: &str = "RetentionDeleted";
    /// The child's name is taken by an object that is not this schedule's.
    pub const NAME_TAKEN: &str = "NameTaken";
    pub const INVALID_SPEC: &str = "InvalidSpec";
}

/// What the reconcile settled this time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    /// The run time recorded as run (its child exists).
    pub ran: Option<Timestamp>,
    /// The run time recorded as skipped.
    pub skipped: Option<Timestamp>,
}

/// The run times before which everything is settled: the latest run or skip, else the creation.
pub fn settled_until(s: &BackupScheduleStatus, created: Timestamp) -> Timestamp {
    [&s.last_schedule_time, &s.last_skipped_time]
        .into_iter()
        .flatten()
        .map(|t| t.0)
        .fold(created, Timestamp::max)
}

/// Whether the stored status says the schedule was suspended.
pub fn was_suspended(s: &BackupScheduleStatus) -> bool {
    ready_reason(s) == Some(reason::SUSPENDED)
}

pub fn ready_reason(s: &BackupScheduleStatus) -> Option<&str> {
    s.conditions
        .iter()
        .find(|c| c.type_ == READY)
        .map(|c| c.reason.as_str())
}

/// Everything the next status is made of.
pub struct Inputs<'a> {
    pub before: &'a BackupScheduleStatus,
    pub generation: Option<i64>,
    pub now: Timestamp,
    pub cron: &'a CronSchedule,
    pub plan: &'a Plan,
    pub settled: &'a Settled,
    /// Children after this reconcile's create and deletions.
    pub children: &'a [ChildView],
    pub verdict: &'a Verdict,
    pub warning: Option<String>,
}

/// The status after a reconcile of a valid schedule.
pub fn next(i: &Inputs<'_>) -> BackupScheduleStatus {
    let mut s = i.before.clone();
    if let Some(t) = i.settled.ran {
        s.last_schedule_time = Some(Time(t));
    }
    if let Some(t) = i.settled.skipped {
        s.last_skipped_time = Some(Time(t));
    }
    let newest_success = i
        .children
        .iter()
        .filter(|c| c.phase == Some(crate::crd::Phase::Succeeded))
        .filter_map(|c| c.completed)
        .max();
    // Only forward: retention or a user may delete the child that set it.
    s.last_successful_time = match (s.last_successful_time.take(), newest_success) {
        (Some(Time(old)), Some(new)) => Some(Time(old.max(new))),
        (old, new) => old.or(new.map(Time)),
    };
    s.next_schedule_time = i.plan.next.map(Time);
    let mut active: Vec<String> = i
        .children
        .iter()
        .filter(|c| !c.is_final() && !c.deleting)
        .map(|c| c.name.clone())
        .collect();
    active.sort();
    s.active = active
        .into_iter()
        .map(|name| ActiveChild { name })
        .collect();
    s.kept_succeeded = Some(count(i.verdict.kept_succeeded));
    s.kept_failed = Some(count(i.verdict.kept_failed));
    let (ready, why, message) = match (i.plan.action, i.plan.next) {
        (Action::Suspended, _) => (
            false,
            reason::SUSPENDED,
            "suspended: nothing runs until spec.suspend is false".to_string(),
        ),
        (_, Some(next)) => (
            true,
            reason::SCHEDULED,
            format!("next run at {}", i.cron.wall_clock(next)),
        ),
        (_, None) => (
            true,
            reason::SCHEDULED,
            "the schedule has no further run time".to_string(),
        ),
    };
    set_condition(&mut s, READY, ready, why, &message, i);
    match &i.warning {
        Some(w) => set_condition(&mut s, WARNING, true, reason::DCS_BACKUP_CAP, w, i),
        None => s.conditions.retain(|c| c.type_ != WARNING),
    }
    s.observed_generation = i.generation;
    s
}

/// The status of a schedule whose spec cannot be used: nothing runs, nothing is announced.
pub fn invalid(
    before: &BackupScheduleStatus,
    generation: Option<i64>,
    now: Timestamp,
    message: &str,
) -> BackupScheduleStatus {
    let mut s = before.clone();
    s.next_schedule_time = None;
    s.conditions.retain(|c| c.type_ != WARNING);
    let last = transition_time(&s, READY, "False", now);
    s.conditions.retain(|c| c.type_ != READY);
    s.conditions.push(condition(
        READY,
        false,
        reason::INVALID_SPEC,
        message,
        last,
        generation,
    ));
    s.observed_generation = generation;
    s
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Sets a condition; its transition time moves only when its truth value changes.
fn set_condition(
    s: &mut BackupScheduleStatus,
    type_: &str,
    ok: bool,
    why: &str,
    message: &str,
    i: &Inputs<'_>,
) {
    let status = if ok { "True" } else { "False" };
    let last = transition_time(s, type_, status, i.now);
    s.conditions.retain(|c| c.type_ != type_);
    s.conditions
        .push(condition(type_, ok, why, message, last, i.generation));
    s.conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
}

fn transition_time(s: &BackupScheduleStatus, type_: &str, status: &str, now: Timestamp) -> Time {
    s.conditions
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or(Time(now))
}

fn condition(
    type_: &str,
    ok: bool,
    why: &str,
    message: &str,
    last: Time,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: why.into(),
        message: message.into(),
        last_transition_time: last,
        observed_generation: generation,
    }
}

/// The events for a plan this reconcile settled (none when it only re-recorded a run).
pub fn plan_events(
    plan: &Plan,
    cron: &CronSchedule,
    busy_with: &[String],
    deadline: &str,
) -> Vec<EventNote> {
    let warn = |reason: &str, note: String| EventNote {
        warning: true,
        reason: reason.into(),
        note,
    };
    let mut events = Vec::new();
    let missed = plan.missed_before();
    if let (Some(due), true) = (plan.due, missed > 0)
        && !matches!(plan.action, Action::Skip(_, SkipReason::WhileSuspended))
    {
        let more = if due.capped { "at least " } else { "" };
        events.push(warn(
            event::MISSED_RUNS_SKIPPED,
            format!(
                "{more}{missed} earlier run time(s) from {} were missed and are skipped; only the \
                 most recent is considered",
                cron.wall_clock(due.oldest)
            ),
        ));
    }
    match plan.action {
        Action::Skip(at, SkipReason::Busy) => events.push(warn(
            event::RUN_SKIPPED,
            format!(
                "run at {} skipped: {} still running",
                cron.wall_clock(at),
                busy_with.join(", ")
            ),
        )),
        Action::Skip(at, SkipReason::PastDeadline) => events.push(warn(
            event::MISSED_RUNS_SKIPPED,
            format!(
                "run at {} skipped: it was missed by more than startingDeadline ({deadline})",
                cron.wall_clock(at)
            ),
        )),
        _ => {}
    }
    events
}

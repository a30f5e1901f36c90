//! The planner, case by case: on time, catch-up after downtime (minutes, hours past the deadline,
//! days), overlap, suspend and resume, both DST transitions in two zones, month ends, leap days.

use std::time::Duration;

use jiff::Timestamp;

use super::planner::{Action, COUNT_CAP, Plan, PlanInput, SkipReason, plan};
use crate::crd::cron::CronSchedule;

const HOUR: Duration = Duration::from_secs(3600);

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A schedule that ran (or was created) at `settled`, planned at `now`, with the default deadline.
struct Case {
    cron: CronSchedule,
    suspend: bool,
    resuming: bool,
    deadline: Duration,
    settled: Timestamp,
    active: Vec<Timestamp>,
}

fn case(schedule: &str, zone: &str, settled: &str) -> Case {
    Case {
        cron: CronSchedule::parse(schedule, zone).unwrap(),
        suspend: false,
        resuming: false,
        deadline: HOUR,
        settled: ts(settled),
        active: Vec::new(),
    }
}

impl Case {
    fn at(&self, now: &str) -> Plan {
        plan(&PlanInput {
            cron: &self.cron,
            suspend: self.suspend,
            resuming: self.resuming,
            starting_deadline: self.deadline,
            settled_until: self.settled,
            active: &self.active,
            now: ts(now),
        })
    }

    /// Runs every due time as the controller would (settling it), from `settled` to `until`, and
    /// returns the run times, checking each one against the `next` the plan before announced.
    fn runs_until(&mut self, until: &str) -> Vec<Timestamp> {
        let until = ts(until);
        let mut runs = Vec::new();
        let mut announced = self.at(&self.settled.to_string()).next;
        while let Some(t) = announced.filter(|t| *t <= until) {
            let p = self.at(&t.to_string());
            assert_eq!(p.action, Action::Run(t), "at its announced time");
            runs.push(t);
            self.settled = t;
            announced = p.next;
        }
        runs
    }
}

fn times(list: &[&str]) -> Vec<Timestamp> {
    list.iter().map(|s| ts(s)).collect()
}

#[test]
fn nothing_due_waits_for_the_next_run_time() {
    let c = case("0 2 * * *", "UTC", "2026-11-27T02:00:00Z");
    let p = c.at("2026-11-27T13:00:00Z");
    assert_eq!(p.action, Action::Wait);
    assert_eq!(p.due, None);
    assert_eq!(p.next, Some(ts("2026-11-28T02:00:00Z")));
}

#[test]
fn a_run_time_that_just_passed_runs_and_announces_the_next() {
    let c = case("0 2 * * *", "UTC", "2026-11-27T02:00:00Z");
    let p = c.at("2026-11-28T02:00:00.300Z");
    assert_eq!(p.action, Action::Run(ts("2026-11-28T02:00:00Z")));
    assert_eq!(p.missed_before(), 0);
    assert_eq!(p.next, Some(ts("2026-11-29T02:00:00Z")));
}

#[test]
fn a_restart_at_the_tick_still_runs_the_tick() {
    // Percona and K8up lose this run: their in-memory cron does not fire ticks that passed while the
    // process restarted. Here the tick is simply due when the operator is back.
    let c = case("0 2 * * *", "UTC", "2026-11-27T02:00:00Z");
    for back in ["2026-11-28T02:00:30Z", "2026-11-28T02:59:59Z"] {
        assert_eq!(
            c.at(back).action,
            Action::Run(ts("2026-11-28T02:00:00Z")),
            "{back}"
        );
    }
}

#[test]
fn down_for_minutes_runs_the_missed_time_late() {
    let c = case("0 2 * * *", "UTC", "2026-11-27T02:00:00Z");
    let p = c.at("2026-11-28T02:07:00Z");
    assert_eq!(p.action, Action::Run(ts("2026-11-28T02:00:00Z")));
    assert_eq!(p.missed_before(), 0);
}

#[test]
fn down_for_hours_past_the_deadline_skips_the_run_and_waits_for_the_next() {
    let c = case("0 2 * * *", "UTC", "2026-11-27T02:00:00Z");
    let p = c.at("2026-11-28T05:00:00Z");
    assert_eq!(
        p.action,
        Action::Skip(ts("2026-11-28T02:00:00Z"), SkipReason::PastDeadline)
    );
    assert_eq!(p.next, Some(ts("2026-11-29T02:00:00Z")));
    // Exactly at the deadline it still runs; a second later it does not.
    assert_eq!(
        c.at("2026-11-28T03:00:00Z").action,
        Action::Run(ts("2026-11-28T02:00:00Z"))
    );
    assert!(matches!(
        c.at("2026-11-28T03:00:01Z").action,
        Action::Skip(_, SkipReason::PastDeadline)
    ));
}

#[test]
fn a_longer_deadline_still_catches_up() {
    let mut c = case("0 2 * * *", "UTC", "2026-11-27T02:00:00Z");
    c.deadline = 6 * HOUR;
    assert_eq!(
        c.at("2026-11-28T05:00:00Z").action,
        Action::Run(ts("2026-11-28T02:00:00Z"))
    );
}

#[test]
fn down_for_days_runs_once_named_after_the_most_recent_time() {
    let c = case("0 2 * * *", "UTC", "2026-11-24T02:00:00Z");
    let p = c.at("2026-11-28T02:20:00Z");
    assert_eq!(p.action, Action::Run(ts("2026-11-28T02:00:00Z")));
    let due = p.due.unwrap();
    assert_eq!(
        (due.count, due.oldest),
        (4, ts("2026-11-25T02:00:00Z")),
        "{due:?}"
    );
    assert_eq!(p.missed_before(), 3, "three older runs are reported missed");
    assert_eq!(p.next, Some(ts("2026-11-29T02:00:00Z")));
}

#[test]
fn down_for_days_and_past_the_deadline_runs_nothing() {
    let c = case("0 2 * * *", "UTC", "2026-11-24T02:00:00Z");
    let p = c.at("2026-11-28T10:00:00Z");
    assert_eq!(
        p.action,
        Action::Skip(ts("2026-11-28T02:00:00Z"), SkipReason::PastDeadline)
    );
    assert_eq!(p.due.unwrap().count, 4);
}

#[test]
fn an_every_minute_schedule_down_for_days_counts_up_to_the_cap_and_runs_the_latest() {
    let c = case("* * * * *", "UTC", "2026-11-25T00:00:00Z");
    let p = c.at("2026-11-28T10:15:30Z");
    assert_eq!(p.action, Action::Run(ts("2026-11-28T10:15:00Z")));
    let due = p.due.unwrap();
    assert!(due.capped && due.count == COUNT_CAP, "{due:?}");
    assert_eq!(p.next, Some(ts("2026-11-28T10:16:00Z")));
}

#[test]
fn a_new_schedule_runs_the_first_time_after_its_creation_only() {
    let created_before = case("0 2 * * *", "UTC", "2026-11-28T01:59:59Z");
    assert_eq!(
        created_before.at("2026-11-28T02:00:01Z").action,
        Action::Run(ts("2026-11-28T02:00:00Z"))
    );
    // Created a second after the tick: no immediate backup (Velero's complaint), the next is tomorrow.
    let created_after = case("0 2 * * *", "UTC", "2026-11-28T02:00:01Z");
    let p = created_after.at("2026-11-28T02:00:02Z");
    assert_eq!(p.action, Action::Wait);
    assert_eq!(p.next, Some(ts("2026-11-29T02:00:00Z")));
}

#[test]
fn a_running_previous_backup_skips_the_run() {
    let mut c = case("0 * * * *", "UTC", "2026-11-28T01:00:00Z");
    c.active = times(&["2026-11-28T01:00:00Z"]);
    let p = c.at("2026-11-28T02:00:01Z");
    assert_eq!(
        p.action,
        Action::Skip(ts("2026-11-28T02:00:00Z"), SkipReason::Busy)
    );
    assert_eq!(p.next, Some(ts("2026-11-28T03:00:00Z")));
}

#[test]
fn a_running_child_for_the_due_time_itself_is_this_run_not_an_overlap() {
    // A crash after creating the child and before recording it: the run is recorded, not skipped.
    let mut c = case("0 * * * *", "UTC", "2026-11-28T01:00:00Z");
    c.active = times(&["2026-11-28T02:00:00Z"]);
    assert_eq!(
        c.at("2026-11-28T02:00:05Z").action,
        Action::Run(ts("2026-11-28T02:00:00Z"))
    );
}

#[test]
fn suspended_runs_nothing_and_announces_nothing() {
    let mut c = case("0 2 * * *", "UTC", "2026-11-20T02:00:00Z");
    c.suspend = true;
    let p = c.at("2026-11-28T02:00:10Z");
    assert_eq!(
        p,
        Plan {
            action: Action::Suspended,
            due: None,
            next: None
        }
    );
}

#[test]
fn resuming_skips_the_runs_that_fell_while_suspended_then_runs_normally() {
    let mut c = case("0 2 * * *", "UTC", "2026-11-20T02:00:00Z");
    c.resuming = true;
    let p = c.at("2026-11-28T02:00:10Z");
    assert_eq!(
        p.action,
        Action::Skip(ts("2026-11-28T02:00:00Z"), SkipReason::WhileSuspended),
        "no backup fires on resume (Velero's complaint)"
    );
    assert_eq!(p.next, Some(ts("2026-11-29T02:00:00Z")));
    // Once settled (lastSkippedTime), the next time runs as usual.
    c.resuming = false;
    c.settled = ts("2026-11-28T02:00:00Z");
    assert_eq!(
        c.at("2026-11-29T02:00:01Z").action,
        Action::Run(ts("2026-11-29T02:00:00Z"))
    );
}

#[test]
fn resuming_with_nothing_missed_just_waits() {
    let mut c = case("0 2 * * *", "UTC", "2026-11-28T02:00:00Z");
    c.resuming = true;
    let p = c.at("2026-11-28T09:00:00Z");
    assert_eq!(p.action, Action::Wait);
    assert_eq!(p.next, Some(ts("2026-11-29T02:00:00Z")));
}

#[test]
fn berlin_spring_forward_runs_a_time_in_the_gap_once_right_after_it() {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    let mut c = case("30 2 * * *", "Europe/Berlin", "2026-03-27T01:30:00Z");
    let runs = c.runs_until("2026-03-31T00:00:00Z");
    assert_eq!(
        runs,
        times(&[
            "2026-03-28T01:30:00Z", // 02:30 CET
            "2026-03-29T01:00:00Z", // 03:00 CEST, the first minute after the gap
            "2026-03-30T00:30:00Z", // 02:30 CEST
        ])
    );
}

#[test]
fn berlin_fall_back_runs_a_time_in_the_overlap_once() {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice on the wall clock.
    let mut c = case("30 2 * * *", "Europe/Berlin", "2026-10-23T00:30:00Z");
    let runs = c.runs_until("2026-10-27T00:00:00Z");
    assert_eq!(
        runs,
        times(&[
            "2026-10-24T00:30:00Z", // 02:30 CEST
            "2026-10-25T00:30:00Z", // 02:30 CEST, the first pass only
            "2026-10-26T01:30:00Z", // 02:30 CET
        ])
    );
}

#[test]
fn a_restart_during_the_second_pass_of_an_overlap_does_not_run_again() {
    // The 02:30 CEST run happened; the operator comes back at 02:40 CET (after the second 02:30).
    let c = case("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z");
    let p = c.at("2026-10-25T01:40:00Z");
    assert_eq!(p.action, Action::Wait);
    assert_eq!(p.next, Some(ts("2026-10-26T01:30:00Z")));
}

#[test]
fn new_york_spring_forward_runs_a_time_in_the_gap_once_right_after_it() {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT.
    let mut c = case("30 2 * * *", "America/New_York", "2026-03-06T07:30:00Z");
    let runs = c.runs_until("2026-03-10T00:00:00Z");
    assert_eq!(
        runs,
        times(&[
            "2026-03-07T07:30:00Z", // 02:30 EST
            "2026-03-08T07:00:00Z", // 03:00 EDT
            "2026-03-09T06:30:00Z", // 02:30 EDT
        ])
    );
}

#[test]
fn new_york_fall_back_runs_a_time_in_the_overlap_once() {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 happens twice on the wall clock.
    let mut c = case("30 1 * * *", "America/New_York", "2026-10-30T05:30:00Z");
    let runs = c.runs_until("2026-11-03T00:00:00Z");
    assert_eq!(
        runs,
        times(&[
            "2026-10-31T05:30:00Z", // 01:30 EDT
            "2026-11-01T05:30:00Z", // 01:30 EDT, the first pass only
            "2026-11-02T06:30:00Z", // 01:30 EST
        ])
    );
}

#[test]
fn an_hourly_schedule_runs_both_real_hours_of_an_overlap() {
    // Two different instants, so two runs, named apart by their UTC times.
    let mut c = case("0 * * * *", "America/New_York", "2026-11-01T04:00:00Z");
    let runs = c.runs_until("2026-11-01T07:00:00Z");
    assert_eq!(
        runs,
        times(&[
            "2026-11-01T05:00:00Z", // 01:00 EDT
            "2026-11-01T06:00:00Z", // 01:00 EST
            "2026-11-01T07:00:00Z", // 02:00 EST
        ])
    );
}

#[test]
fn the_31st_runs_only_in_months_that_have_one() {
    let mut c = case("0 2 31 * *", "UTC", "2026-01-01T00:00:00Z");
    let runs = c.runs_until("2026-09-01T00:00:00Z");
    assert_eq!(
        runs,
        times(&[
            "2026-01-31T02:00:00Z",
            "2026-03-31T02:00:00Z",
            "2026-05-31T02:00:00Z",
            "2026-07-31T02:00:00Z",
            "2026-08-31T02:00:00Z",
        ])
    );
}

#[test]
fn monthly_after_the_31st_is_the_first_of_the_next_month() {
    let c = case("@monthly", "Europe/Berlin", "2026-01-31T22:00:00Z");
    // Midnight of 1 February in Berlin is 23:00 UTC on 31 January.
    assert_eq!(
        c.at("2026-01-31T22:30:00Z").next,
        Some(ts("2026-01-31T23:00:00Z"))
    );
    let c = case("@monthly", "UTC", "2026-01-31T02:00:00Z");
    assert_eq!(
        c.at("2026-02-01T00:00:01Z").action,
        Action::Run(ts("2026-02-01T00:00:00Z"))
    );
}

#[test]
fn a_leap_day_schedule_waits_for_the_next_leap_year() {
    let c = case("0 2 29 2 *", "UTC", "2026-01-01T00:00:00Z");
    let p = c.at("2026-06-01T00:00:00Z");
    assert_eq!(p.action, Action::Wait);
    assert_eq!(p.next, Some(ts("2028-02-29T02:00:00Z")));
    // Down over the leap day and back within the deadline: it runs.
    let c = case("0 2 29 2 *", "UTC", "2024-02-29T02:00:00Z");
    assert_eq!(
        c.at("2028-02-29T02:30:00Z").action,
        Action::Run(ts("2028-02-29T02:00:00Z"))
    );
}

#[test]
fn a_six_field_expression_is_refused_with_the_reason() {
    // CloudNativePG reads "0 7 * * * *" seconds-first; users lost daily backups to hourly ones.
    for six in ["0 0 7 * * *", "0 7 * * * *", "*/30 * * * * *"] {
        let err = CronSchedule::parse(six, "UTC").unwrap_err();
        assert!(
            err.starts_with("spec.schedule: has more than 5 fields: a seconds (or year) field"),
            "{six}: {err}"
        );
    }
}

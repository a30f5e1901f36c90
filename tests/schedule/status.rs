//! What a schedule reports about its backups: `status.lastSuccessfulTime` (the completion of the
//! newest `Succeeded` child, forward only) and the per-schedule gauges an alert reads.

use serde_json::{Value, json};

use crate::harness::Harness;
use crate::rig::*;

/// Stores an hourly DCS child of `schedule` for run time `at`, in `phase`, completed at `completed`.
fn finished_child(h: &Harness, schedule: &str, at: &str, phase: &str, completed: &str) -> String {
    let path = put_child(h, "DcsBackup", "dcsbackups", schedule, at, Some(phase));
    put_status(h, &path, json!({"phase": phase, "completedAt": completed}));
    path
}

fn last_success(h: &Harness, path: &str) -> Option<jiff::Timestamp> {
    schedule_status(h, path).last_successful_time.map(|t| t.0)
}

fn hourly(retention: Value) -> Value {
    let mut spec = dcs_schedule("0 * * * *", "redis-1");
    if !retention.is_null() {
        spec["retention"] = retention;
    }
    spec
}

#[tokio::test]
async fn last_successful_time_is_the_completion_of_the_newest_succeeded_child_and_only_moves_forward()
 {
    let mut h = Harness::new().await;
    let path = put_schedule(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly(Value::Null),
        json!({}),
    );
    put_status(
        &h,
        &path,
        json!({"lastScheduleTime": "2026-11-28T03:00:00Z"}),
    );
    finished_child(
        &h,
        "hourly",
        "2026-11-28T01:00:00Z",
        "Succeeded",
        "2026-11-28T01:10:00Z",
    );
    let newest = finished_child(
        &h,
        "hourly",
        "2026-11-28T02:00:00Z",
        "Succeeded",
        "2026-11-28T02:20:00Z",
    );
    // A later failure is no success.
    finished_child(
        &h,
        "hourly",
        "2026-11-28T03:00:00Z",
        "Failed",
        "2026-11-28T03:05:00Z",
    );
    set_now(&mut h, "2026-11-28T03:30:00Z");
    step(&h, &path).await;
    assert_eq!(
        last_success(&h, &path),
        Some(ts("2026-11-28T02:20:00Z")),
        "the completion of the newest Succeeded child, not its run time nor the Failed one's"
    );

    // The child that set it is deleted by hand: the time stays (the success happened).
    h.api.delete(&newest);
    assert!(h.api.get(&newest).is_none());
    step(&h, &path).await;
    assert_eq!(
        last_success(&h, &path),
        Some(ts("2026-11-28T02:20:00Z")),
        "never back to the older child's completion"
    );

    // The next success moves it forward.
    finished_child(
        &h,
        "hourly",
        "2026-11-28T04:00:00Z",
        "Succeeded",
        "2026-11-28T04:07:30Z",
    );
    set_now(&mut h, "2026-11-28T04:30:00Z");
    step(&h, &path).await;
    assert_eq!(last_success(&h, &path), Some(ts("2026-11-28T04:07:30Z")));
}

#[tokio::test]
async fn a_schedule_without_a_succeeded_child_has_no_last_successful_time() {
    let mut h = Harness::new().await;
    let path = put_schedule(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly(Value::Null),
        json!({}),
    );
    put_status(
        &h,
        &path,
        json!({"lastScheduleTime": "2026-11-28T01:00:00Z"}),
    );
    finished_child(
        &h,
        "hourly",
        "2026-11-28T01:00:00Z",
        "Failed",
        "2026-11-28T01:05:00Z",
    );
    set_now(&mut h, "2026-11-28T01:30:00Z");
    step(&h, &path).await;
    let st = schedule_status(&h, &path);
    assert_eq!(st.last_successful_time, None);
    assert_eq!((st.kept_succeeded, st.kept_failed), (Some(0), Some(1)));
}

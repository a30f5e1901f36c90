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
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly(Value::Null),
        "2026-11-28T03:00:00Z",
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
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly(Value::Null),
        "2026-11-28T01:00:00Z",
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

/// The value of the series whose line starts with `series` in the scrape `text`, if any.
pub fn gauge(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

pub fn series(metric: &str, schedule: &str) -> String {
    format!(r#"hwcloud_backup_{metric}{{namespace="team-a",schedule="{schedule}"}}"#)
}

pub fn kept_series(schedule: &str, phase: &str) -> String {
    format!(
        r#"hwcloud_backup_schedule_kept_backups{{namespace="team-a",schedule="{schedule}",phase="{phase}"}}"#
    )
}

fn unix(s: &str) -> f64 {
    ts(s).as_second() as f64
}

#[tokio::test]
async fn a_schedule_reconcile_publishes_its_next_run_last_success_and_kept_backups() {
    let mut h = Harness::new().await;
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly(json!({"keepLast": 1, "keepFailed": 2})),
        "2026-11-28T03:00:00Z",
    );
    for (at, phase, done) in [
        ("01:00", "Succeeded", "01:06:00"),
        ("02:00", "Succeeded", "02:09:00"),
        ("03:00", "Failed", "03:01:00"),
    ] {
        finished_child(
            &h,
            "hourly",
            &format!("2026-11-28T{at}:00Z"),
            phase,
            &format!("2026-11-28T{done}Z"),
        );
    }
    set_now(&mut h, "2026-11-28T03:30:00Z");
    step(&h, &path).await;
    let text = h.metrics.encode();
    let value = |s: &str| gauge(&text, s);
    assert_eq!(
        value(&series("schedule_next_run_timestamp_seconds", "hourly")),
        Some(unix("2026-11-28T04:00:00Z")),
        "{text}"
    );
    assert_eq!(
        value(&series("schedule_last_run_timestamp_seconds", "hourly")),
        Some(unix("2026-11-28T03:00:00Z"))
    );
    assert_eq!(
        value(&series("schedule_last_success_timestamp_seconds", "hourly")),
        Some(unix("2026-11-28T02:09:00Z"))
    );
    // After retention: keepLast 1 deleted the 01:00 backup.
    assert_eq!(value(&kept_series("hourly", "Succeeded")), Some(1.0));
    assert_eq!(value(&kept_series("hourly", "Failed")), Some(1.0));

    // Suspended: no next run, so nothing an alert could compare against; the rest stays.
    edit_spec(&h, &path, |s| s["suspend"] = json!(true));
    step(&h, &path).await;
    let text = h.metrics.encode();
    assert_eq!(
        gauge(
            &text,
            &series("schedule_next_run_timestamp_seconds", "hourly")
        ),
        None,
        "{text}"
    );
    assert!(
        gauge(
            &text,
            &series("schedule_last_success_timestamp_seconds", "hourly")
        )
        .is_some()
    );

    // A spec the operator cannot use: the schedule has no figures at all.
    edit_spec(&h, &path, |s| {
        s["suspend"] = json!(false);
        s["timeZone"] = json!("Mars/Olympus");
    });
    step(&h, &path).await;
    let text = h.metrics.encode();
    assert!(!text.contains(r#"schedule="hourly""#), "{text}");
}

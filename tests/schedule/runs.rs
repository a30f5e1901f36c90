//! Runs of a schedule, one reconcile at a time: the child a run creates, crashes between its create
//! and the status write, name clashes, overlap, a lagging cache, and a replica that lost the lease.

use std::time::Duration;

use hwcloud_backup_operator::crd::backup_schedule::{SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION};
use serde_json::json;

use crate::harness::Harness;
use crate::rig::*;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn dcs_children(h: &Harness) -> Vec<String> {
    names(h, "dcsbackups")
}

#[tokio::test]
async fn a_due_run_creates_one_labelled_child_named_after_its_utc_run_time() {
    let mut h = Harness::new().await;
    // 03:00 in Berlin is 02:00 UTC in November: the name carries the UTC time.
    let mut spec = dcs_schedule("0 3 * * *", "redis-1");
    spec["timeZone"] = json!("Europe/Berlin");
    let path = put_schedule(
        &h,
        "nightly",
        "2026-11-27T12:00:00Z",
        spec,
        json!({"backup.hwcloud.dev/shard": "s2", "team": "a"}),
    );
    set_now(&mut h, "2026-11-28T02:00:05Z");
    let requeue = step(&h, &path).await.expect("requeued for the next run");

    assert_eq!(dcs_children(&h), ["nightly-202611280200"]);
    let child = h
        .api
        .get(&child_path("dcsbackups", "nightly-202611280200"))
        .unwrap();
    assert_eq!(
        child["metadata"]["labels"],
        json!({SCHEDULE_LABEL: "nightly", "backup.hwcloud.dev/shard": "s2"}),
        "the schedule label and the shard label, nothing else"
    );
    assert_eq!(
        child["metadata"]["annotations"][SCHEDULED_TIME_ANNOTATION],
        "2026-11-28T02:00:00Z"
    );
    assert!(
        child["metadata"]["ownerReferences"].is_null(),
        "no owner: deleting the schedule keeps its backups"
    );
    assert_eq!(
        child["spec"],
        json!({"instanceId": "redis-1", "deletionPolicy": "Delete"})
    );

    let st = schedule_status(&h, &path);
    assert_eq!(
        st.last_schedule_time.clone().unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
    assert_eq!(
        st.next_schedule_time.clone().unwrap().0,
        ts("2026-11-29T02:00:00Z")
    );
    assert_eq!(active(&st), ["nightly-202611280200"]);
    assert_eq!(
        condition(&st, "Ready"),
        Some(("True".into(), "Scheduled".into()))
    );
    assert_eq!(st.conditions[0].message, "next run at 2026-11-29 03:00 CET");
    assert_eq!(events_for(&h, "nightly"), ["BackupScheduled"]);
    // Exactly until the next run time (a day minus the 5 s that passed), never a polling interval.
    let left = DAY - Duration::from_secs(5);
    assert!(
        requeue <= left && requeue > left - Duration::from_secs(2),
        "{requeue:?}"
    );

    // Reconciling again (a watch event, the operator's own status write) changes nothing.
    let writes = h.status_patches(&path).len();
    step(&h, &path).await;
    assert_eq!(dcs_children(&h).len(), 1);
    assert_eq!(h.status_patches(&path).len(), writes, "no rewrite");
    assert_eq!(events_for(&h, "nightly"), ["BackupScheduled"]);
}

#[tokio::test]
async fn a_dds_template_backup_name_becomes_a_prefix_per_run() {
    let mut h = Harness::new().await;
    let spec = json!({"schedule": "0 2 * * *",
        "template": {"ddsBackup": {"instanceId": "mongo-1", "backupName": "orders"}}});
    let path = put_schedule(&h, "orders", "2026-11-27T12:00:00Z", spec, json!({}));
    set_now(&mut h, "2026-11-28T02:00:05Z");
    step(&h, &path).await;
    let child = h
        .api
        .get(&child_path("ddsbackups", "orders-202611280200"))
        .expect("a DdsBackup child");
    assert_eq!(child["spec"]["backupName"], "orders-202611280200");
    assert_eq!(child["spec"]["deletionPolicy"], "Delete");
}

#[tokio::test]
async fn a_crash_between_the_child_create_and_the_status_write_leaves_exactly_one_child() {
    let mut h = Harness::new().await;
    let path = put_schedule(
        &h,
        "nightly",
        "2026-11-27T12:00:00Z",
        dcs_schedule("0 2 * * *", "redis-1"),
        json!({}),
    );
    set_now(&mut h, "2026-11-28T02:00:05Z");
    h.api.fail_status_writes(0, 1);
    assert!(try_step(&h, &path).await.is_err(), "the status write fails");
    assert_eq!(dcs_children(&h), ["nightly-202611280200"]);
    assert_eq!(schedule_status(&h, &path).last_schedule_time, None);

    // The restarted operator plans the same run, finds its child, and only records it.
    let stale = h.api.get(&path).unwrap();
    step(&h, &path).await;
    assert_eq!(dcs_children(&h), ["nightly-202611280200"]);
    assert_eq!(
        schedule_status(&h, &path).last_schedule_time.unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
    // A reconcile that still sees the schedule as it was before the write (a lagging cache).
    h.api.put(&path, stale);
    step(&h, &path).await;
    assert_eq!(dcs_children(&h).len(), 1, "never a second child");
    assert_eq!(
        events_for(&h, "nightly"),
        ["BackupScheduled"],
        "announced once, when it was created"
    );
}

#[tokio::test]
async fn a_crash_after_the_child_finished_still_records_the_run_without_a_second_child() {
    let mut h = Harness::new().await;
    let path = put_schedule(
        &h,
        "nightly",
        "2026-11-27T12:00:00Z",
        dcs_schedule("0 2 * * *", "redis-1"),
        json!({}),
    );
    put_child(
        &h,
        "DcsBackup",
        "dcsbackups",
        "nightly",
        "2026-11-28T02:00:00Z",
        Some("Succeeded"),
    );
    set_now(&mut h, "2026-11-28T02:40:00Z");
    step(&h, &path).await;
    assert_eq!(dcs_children(&h).len(), 1);
    let st = schedule_status(&h, &path);
    assert_eq!(
        st.last_schedule_time.clone().unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
    assert_eq!(st.kept_succeeded, Some(1));
    assert!(st.active.is_empty());
}

#[tokio::test]
async fn a_name_taken_by_another_object_is_skipped_never_adopted() {
    let mut h = Harness::new().await;
    let path = put_schedule(
        &h,
        "nightly",
        "2026-11-27T12:00:00Z",
        dcs_schedule("0 2 * * *", "redis-1"),
        json!({}),
    );
    let foreign = child_path("dcsbackups", "nightly-202611280200");
    h.create(
        "DcsBackup",
        "dcsbackups",
        "nightly-202611280200",
        json!({"instanceId": "other"}),
    );
    let before = h.api.get(&foreign).unwrap();
    set_now(&mut h, "2026-11-28T02:00:05Z");
    step(&h, &path).await;
    assert_eq!(h.api.get(&foreign).unwrap(), before, "left alone");
    assert_eq!(events_for(&h, "nightly"), ["NameTaken"]);
    let st = schedule_status(&h, &path);
    assert_eq!(st.last_schedule_time, None);
    assert_eq!(
        st.last_skipped_time.clone().unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
}

#[tokio::test]
async fn a_run_is_skipped_while_the_previous_backup_is_not_final() {
    let mut h = Harness::new().await;
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        dcs_schedule("0 * * * *", "redis-1"),
        "2026-11-28T01:00:00Z",
    );
    put_child(
        &h,
        "DcsBackup",
        "dcsbackups",
        "hourly",
        "2026-11-28T01:00:00Z",
        Some("Running"),
    );
    set_now(&mut h, "2026-11-28T02:00:05Z");
    step(&h, &path).await;
    assert_eq!(dcs_children(&h), ["hourly-202611280100"], "no second child");
    let st = schedule_status(&h, &path);
    assert_eq!(
        st.last_skipped_time.clone().unwrap().0,
        ts("2026-11-28T02:00:00Z")
    );
    assert_eq!(
        st.last_schedule_time.clone().unwrap().0,
        ts("2026-11-28T01:00:00Z")
    );
    assert_eq!(active(&st), ["hourly-202611280100"]);
    assert_eq!(events_for(&h, "hourly"), ["RunSkipped"]);
    let note = event_note(&h, "hourly", "RunSkipped");
    assert!(note.contains("hourly-202611280100 still running"), "{note}");
}

#[tokio::test]
async fn a_lagging_cache_does_not_settle_a_run_twice_nor_repeat_its_events() {
    use hwcloud_backup_operator::controller::backup_schedule::reconcile::ScheduleContext;
    let mut h = Harness::new().await;
    let path = nightly_last_run(&h, "2026-11-24T02:00:00Z");
    set_now(&mut h, "2026-11-28T02:20:00Z");
    let sctx = ScheduleContext::new(h.ctx.clone());
    let stale = h.api.get(&path).unwrap();
    step_as(&sctx, &stale).await;
    let events = publications(&h);
    assert_eq!(events, 2, "BackupScheduled and MissedRunsSkipped");
    // Woken by the child's creation, the controller still holds the schedule as it was before its
    // own status write.
    step_as(&sctx, &stale).await;
    assert_eq!(
        publications(&h),
        events,
        "no event again, not even as a series"
    );
    assert_eq!(dcs_children(&h).len(), 1);
}

#[tokio::test]
async fn a_replica_that_lost_the_lease_creates_and_deletes_nothing() {
    use hwcloud_backup_operator::fence::{Fence, Renewals};
    use std::sync::Arc;
    let mut h = Harness::new().await;
    let mut spec = dcs_schedule("0 * * * *", "redis-1");
    spec["retention"] = json!({"keepLast": 1});
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        spec,
        "2026-11-28T02:00:00Z",
    );
    put_child(
        &h,
        "DcsBackup",
        "dcsbackups",
        "hourly",
        "2026-11-28T01:00:00Z",
        Some("Succeeded"),
    );
    put_child(
        &h,
        "DcsBackup",
        "dcsbackups",
        "hourly",
        "2026-11-28T02:00:00Z",
        Some("Succeeded"),
    );
    let (leading, rx) = tokio::sync::watch::channel(false);
    let fence = Fence::lease(rx, Renewals::default(), Duration::from_secs(60));
    Arc::get_mut(&mut h.ctx).unwrap().fence = fence.clone();
    // Nothing due, but retention would delete the 01:00 child.
    set_now(&mut h, "2026-11-28T02:30:00Z");
    let err = try_step(&h, &path).await.unwrap_err();
    assert_eq!(err.reason(), "Fenced", "{err}");
    // A run is due.
    set_now(&mut h, "2026-11-28T03:00:05Z");
    Arc::get_mut(&mut h.ctx).unwrap().fence = fence;
    let err = try_step(&h, &path).await.unwrap_err();
    assert_eq!(err.reason(), "Fenced", "{err}");
    assert_eq!(
        dcs_children(&h),
        ["hourly-202611280100", "hourly-202611280200"],
        "no run, no retention"
    );
    drop(leading);
    Arc::get_mut(&mut h.ctx).unwrap().fence = Fence::open();
    step(&h, &path).await;
    assert_eq!(
        dcs_children(&h),
        ["hourly-202611280200", "hourly-202611280300"]
    );
}

#[tokio::test]
async fn a_run_years_away_still_wakes_daily_and_a_daily_wake_changes_nothing() {
    use hwcloud_backup_operator::controller::backup_schedule::reconcile::MAX_WAIT;
    let mut h = Harness::new().await;
    // Only on leap days: the next run is 2028-02-29, fifteen months away.
    let path = put_schedule(
        &h,
        "leap",
        "2026-11-27T12:00:00Z",
        dcs_schedule("0 2 29 2 *", "redis-1"),
        json!({}),
    );
    set_now(&mut h, "2026-11-28T02:00:00Z");
    let requeue = step(&h, &path).await.expect("requeued");
    assert_eq!(requeue, MAX_WAIT, "at most a day");
    assert_eq!(MAX_WAIT, DAY);
    let st = schedule_status(&h, &path);
    assert_eq!(
        st.next_schedule_time.clone().unwrap().0,
        ts("2028-02-29T02:00:00Z")
    );

    // The daily wake-up: nothing runs, nothing is written or announced, and it waits again.
    let (writes, events) = (h.status_patches(&path).len(), publications(&h));
    set_now(&mut h, "2026-11-29T02:00:01Z");
    assert_eq!(step(&h, &path).await, Some(MAX_WAIT));
    assert!(dcs_children(&h).is_empty());
    assert_eq!(h.status_patches(&path).len(), writes, "no rewrite");
    assert_eq!(publications(&h), events, "no event");

    // A day before the run the wait is what is left, not the cap.
    set_now(&mut h, "2028-02-28T14:00:00Z");
    let left = step(&h, &path).await.expect("requeued");
    let expected = Duration::from_secs(12 * 3600);
    assert!(
        left <= expected && left > expected - Duration::from_secs(2),
        "{left:?}"
    );
}

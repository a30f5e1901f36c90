//! Retention on the API server: exactly the right children go, never a running one, never the newest
//! `Succeeded` one, failed ones counted apart; and a child whose cloud backup is already gone is
//! deleted (by its own cleanup) without an error, for each backup kind.

use std::sync::Arc;

use hwcloud_backup_operator::cloud::client::{CloudClient, CloudClients};
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::operation::Operation;
use hwcloud_backup_operator::crd::{DcsBackup, DdsBackup, Phase, TaurusDbBackup};
use serde_json::{Value, json};

use crate::harness::{Harness, fast_transport};
use crate::rig::*;

fn hourly_with(retention: Value) -> Value {
    let mut spec = dcs_schedule("0 * * * *", "redis-1");
    spec["retention"] = retention;
    spec
}

/// Hourly children of `schedule` from 01:00, oldest first, with these phases.
fn children(h: &Harness, schedule: &str, phases: &[Option<&str>]) {
    for (i, phase) in phases.iter().enumerate() {
        let at = format!("2026-11-28T{:02}:00:00Z", i + 1);
        put_child(h, "DcsBackup", "dcsbackups", schedule, &at, *phase);
    }
}

#[tokio::test]
async fn retention_deletes_exactly_the_right_children_never_a_running_one() {
    let mut h = Harness::new().await;
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly_with(json!({"keepLast": 2, "keepFailed": 1})),
        "2026-11-28T08:00:00Z",
    );
    let (s, f) = (Some("Succeeded"), Some("Failed"));
    children(&h, "hourly", &[s, f, s, f, s, f, s, Some("Running")]);
    set_now(&mut h, "2026-11-28T08:30:00Z");
    step(&h, &path).await;

    assert_eq!(
        names(&h, "dcsbackups"),
        [
            "hourly-202611280500", // Succeeded, second newest (keepLast 2)
            "hourly-202611280600", // Failed, newest (keepFailed 1)
            "hourly-202611280700", // Succeeded, newest
            "hourly-202611280800", // Running: never touched
        ]
    );
    let st = schedule_status(&h, &path);
    assert_eq!((st.kept_succeeded, st.kept_failed), (Some(2), Some(1)));
    assert_eq!(active(&st), ["hourly-202611280800"]);
    let note = event_note(&h, "hourly", "RetentionDeleted");
    assert_eq!(
        note,
        "deleted dcsbackups hourly-202611280300, hourly-202611280100, hourly-202611280400, \
         hourly-202611280200; keeping 2 Succeeded and 1 Failed"
    );
    // Nothing left to do: the next reconcile deletes nothing more.
    let events = h.api.events().len();
    step(&h, &path).await;
    assert_eq!(names(&h, "dcsbackups").len(), 4);
    assert_eq!(h.api.events().len(), events);
}

#[tokio::test]
async fn failures_never_push_good_backups_out() {
    let mut h = Harness::new().await;
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly_with(json!({"keepLast": 2})),
        "2026-11-28T06:00:00Z",
    );
    let (s, f) = (Some("Succeeded"), Some("Failed"));
    // Two good backups, then four failures in a row: both good ones stay; the default keepFailed is 3.
    children(&h, "hourly", &[s, s, f, f, f, f]);
    set_now(&mut h, "2026-11-28T06:30:00Z");
    step(&h, &path).await;
    assert_eq!(
        names(&h, "dcsbackups"),
        [
            "hourly-202611280100",
            "hourly-202611280200",
            "hourly-202611280400",
            "hourly-202611280500",
            "hourly-202611280600",
        ]
    );
}

#[tokio::test]
async fn the_newest_succeeded_child_stays_even_when_everything_is_past_max_age() {
    let mut h = Harness::new().await;
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        hourly_with(json!({"maxAge": "1h"})),
        "2026-11-28T03:00:00Z",
    );
    let (s, f) = (Some("Succeeded"), Some("Failed"));
    children(&h, "hourly", &[s, s, f]);
    set_now(&mut h, "2026-11-28T03:30:00Z");
    step(&h, &path).await;
    assert_eq!(
        names(&h, "dcsbackups"),
        ["hourly-202611280200", "hourly-202611280300"],
        "the older Succeeded goes; the newest stays; the failed one is not subject to maxAge"
    );
}

#[tokio::test]
async fn without_retention_nothing_is_deleted() {
    let mut h = Harness::new().await;
    let path = schedule_last_run(
        &h,
        "hourly",
        "2026-11-28T00:30:00Z",
        dcs_schedule("0 * * * *", "redis-1"),
        "2026-11-28T05:00:00Z",
    );
    let (s, f) = (Some("Succeeded"), Some("Failed"));
    children(&h, "hourly", &[s, f, s, f, s]);
    set_now(&mut h, "2026-11-28T05:30:00Z");
    step(&h, &path).await;
    assert_eq!(names(&h, "dcsbackups").len(), 5);
    let st = schedule_status(&h, &path);
    assert_eq!((st.kept_succeeded, st.kept_failed), (Some(3), Some(2)));
}

fn direct(h: &Harness) -> Arc<CloudClient> {
    CloudClients::new(fast_transport(), None).client(&h.sim.account())
}

/// One run at `now` through the real backup controller's reconcile, to `Succeeded`; returns the child's path.
async fn run_to_success<K: Operation>(
    h: &mut Harness,
    schedule: &str,
    plural: &str,
    now: &str,
) -> String {
    set_now(h, now);
    step(h, &schedule_path(schedule)).await;
    let stamp = ts(now).strftime("%Y%m%d%H00").to_string();
    let child = child_path(plural, &format!("{schedule}-{stamp}"));
    h.drive::<K>(&child, 50).await;
    assert_eq!(h.status(&child).phase, Some(Phase::Succeeded));
    child
}

/// Reconciles a deleted child (its cleanup finalizer) until it is gone.
async fn finish_deletion<K: Operation>(h: &Harness, path: &str) {
    for _ in 0..10 {
        let Some(obj) = h.api.get(path) else {
            return;
        };
        let obj: K = serde_json::from_value(obj).unwrap();
        reconcile_once(&obj, &h.ctx)
            .await
            .expect("the cleanup succeeds");
    }
    panic!("{path} still there: {:?}", h.api.get(path));
}

#[tokio::test]
async fn a_dcs_child_whose_cloud_backup_is_gone_is_deleted_without_error() {
    let mut h = Harness::new().await;
    let spec = hourly_with(json!({"keepLast": 1}));
    let path = put_schedule(&h, "cache", "2026-11-28T00:30:00Z", spec, json!({}));
    let first =
        run_to_success::<DcsBackup>(&mut h, "cache", "dcsbackups", "2026-11-28T01:00:01Z").await;
    // The DCS cap (or the console) removed the first backup behind the operator's back.
    let id = h.status(&first).backup_id.unwrap();
    direct(&h)
        .dcs()
        .delete_backup("redis-1", &id)
        .await
        .unwrap();
    run_to_success::<DcsBackup>(&mut h, "cache", "dcsbackups", "2026-11-28T02:00:01Z").await;
    step(&h, &path).await;
    assert!(
        !h.api.get(&first).unwrap()["metadata"]["deletionTimestamp"].is_null(),
        "retention deleted the older child; its finalizer holds it until the cleanup ran"
    );
    finish_deletion::<DcsBackup>(&h, &first).await;
    assert_eq!(
        events_for(&h, "cache-202611280100"),
        ["BackupStarted", "BackupSucceeded", "CloudBackupGone"],
        "no CleanupFailed: the cleanup took the gone backup as deleted"
    );
    assert_eq!(names(&h, "dcsbackups"), ["cache-202611280200"]);
    assert_eq!(events_for(&h, "cache").last().unwrap(), "RetentionDeleted");
}

#[tokio::test]
async fn a_dds_child_whose_cloud_backup_is_gone_is_deleted_without_error() {
    let mut h = Harness::new().await;
    let spec = json!({"schedule": "0 * * * *", "retention": {"keepLast": 1},
        "template": {"ddsBackup": {"instanceId": "mongo-1"}}});
    let path = put_schedule(&h, "docs", "2026-11-28T00:30:00Z", spec, json!({}));
    let first =
        run_to_success::<DdsBackup>(&mut h, "docs", "ddsbackups", "2026-11-28T01:00:01Z").await;
    let id = h.status(&first).backup_id.unwrap();
    direct(&h).dds().delete_backup(&id).await.unwrap();
    let second =
        run_to_success::<DdsBackup>(&mut h, "docs", "ddsbackups", "2026-11-28T02:00:01Z").await;
    // The kept child's cloud backup goes too: it is retained (the newest Succeeded) without an error.
    let kept_id = h.status(&second).backup_id.unwrap();
    direct(&h).dds().delete_backup(&kept_id).await.unwrap();
    step(&h, &path).await;
    step(&h, &path).await;
    finish_deletion::<DdsBackup>(&h, &first).await;
    assert_eq!(names(&h, "ddsbackups"), ["docs-202611280200"]);
    assert!(!events_for(&h, "docs-202611280100").contains(&"CleanupFailed".to_string()));
    let st = schedule_status(&h, &path);
    assert_eq!(st.kept_succeeded, Some(1));
}

#[tokio::test]
async fn a_taurusdb_child_whose_cloud_backup_is_gone_is_deleted_without_error() {
    let mut h = Harness::new().await;
    let spec = json!({"schedule": "0 * * * *", "retention": {"keepLast": 1},
        "template": {"taurusDbBackup": {"instanceId": "taurus-1", "backupName": "orders"}}});
    let path = put_schedule(&h, "orders", "2026-11-28T00:30:00Z", spec, json!({}));
    let first = run_to_success::<TaurusDbBackup>(
        &mut h,
        "orders",
        "taurusdbbackups",
        "2026-11-28T01:00:01Z",
    )
    .await;
    let id = h.status(&first).backup_id.unwrap();
    direct(&h).taurus().delete_backup(&id).await.unwrap();
    let second = run_to_success::<TaurusDbBackup>(
        &mut h,
        "orders",
        "taurusdbbackups",
        "2026-11-28T02:00:01Z",
    )
    .await;
    // The kept child's cloud backup goes too: it is retained (the newest Succeeded) without an error.
    let kept_id = h.status(&second).backup_id.unwrap();
    direct(&h).taurus().delete_backup(&kept_id).await.unwrap();
    step(&h, &path).await;
    assert!(
        !h.api.get(&first).unwrap()["metadata"]["deletionTimestamp"].is_null(),
        "retention deleted the older child; its finalizer holds it until the cleanup ran"
    );
    step(&h, &path).await;
    finish_deletion::<TaurusDbBackup>(&h, &first).await;
    assert_eq!(names(&h, "taurusdbbackups"), ["orders-202611280200"]);
    assert_eq!(
        events_for(&h, "orders-202611280100"),
        ["BackupStarted", "BackupSucceeded", "CloudBackupGone"],
        "no CleanupFailed: the cleanup took the gone backup as deleted"
    );
    assert_eq!(events_for(&h, "orders").last().unwrap(), "RetentionDeleted");
    let st = schedule_status(&h, &path);
    assert_eq!(st.kept_succeeded, Some(1));
    assert_eq!(h.status(&second).phase, Some(Phase::Succeeded));
    // The two deletes behind the operator's back, then the cleanup's, answered "does not exist"
    // (404 DBS.201010) and taken as done.
    let deletes: Vec<u16> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.operation == "delete_backup")
        .map(|c| c.status)
        .collect();
    assert_eq!(deletes, [200, 200, 404]);
}

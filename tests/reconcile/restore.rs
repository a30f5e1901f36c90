//! `DcsRestore` preconditions: it waits for its backup, and refuses a backup of another instance
//! (by reference or by id) without ever calling the cloud's restore API.

use std::time::Duration;

use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore, Phase};
use hwcloud_backup_operator::sim::SimConfig;
use jiff::Timestamp;
use serde_json::json;

use crate::common::{assert_quiet, assert_state, create_with, events_for, time_value};
use crate::harness::{Harness, fast_settings};
use crate::kinds::{Kind, direct, finished_dcs_backup};

const INSTANCE: &str = "redis-1";
const OTHER: &str = "redis-2";

#[tokio::test]
async fn waits_for_a_referenced_backup_to_exist_and_succeed() {
    let h = Harness::new().await;
    let spec = json!({"instanceId": INSTANCE, "backupRef": {"name": "later"}});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    h.step::<DcsRestore>(&restore).await;
    assert_state(&h.status(&restore), Phase::Pending, "WaitingForBackup");
    assert_eq!(h.sim.calls(), vec![], "nothing to ask the cloud yet");

    let backup = h.create(
        "DcsBackup",
        "dcsbackups",
        "later",
        json!({"instanceId": INSTANCE}),
    );
    h.step::<DcsBackup>(&backup).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Running));
    h.step::<DcsRestore>(&restore).await;
    assert_state(&h.status(&restore), Phase::Pending, "WaitingForBackup");
    assert_eq!(h.cloud_calls("create_restore"), 0);

    h.drive::<DcsBackup>(&backup, 50).await;
    h.drive::<DcsRestore>(&restore, 50).await;
    let st = h.status(&restore);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(st.backup_id, h.status(&backup).backup_id);
    assert_eq!(h.cloud_calls("create_restore"), 1);
    assert_eq!(
        events_for(&h, "r"),
        vec!["WaitingForBackup", "RestoreStarted", "RestoreSucceeded"]
    );
}

#[tokio::test]
async fn waits_for_a_backup_id_still_in_progress() {
    let h = Harness::new().await;
    let id = direct(&h)
        .dcs()
        .create_backup(INSTANCE, "by hand", None)
        .await
        .unwrap();
    let spec = json!({"instanceId": INSTANCE, "backupId": id});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    h.step::<DcsRestore>(&restore).await;
    let st = h.status(&restore);
    assert_state(&st, Phase::Pending, "WaitingForBackup");
    assert!(st.message.unwrap_or_default().contains(&id));
    assert_eq!(h.cloud_calls("create_restore"), 0);

    h.drive::<DcsRestore>(&restore, 50).await;
    let st = h.status(&restore);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(st.backup_id, Some(id));
    assert_eq!(h.cloud_calls("create_restore"), 1);
}

/// Failed with `BackupUnusable`, no restore call, and quiet afterwards.
async fn assert_refused(h: &Harness, path: &str) {
    let st = h.status(path);
    assert_state(&st, Phase::Failed, "BackupUnusable");
    assert!(st.message.unwrap_or_default().contains(INSTANCE));
    assert_eq!(h.cloud_calls("create_restore"), 0);
    assert!(DcsRestore::made(h, INSTANCE).is_empty());
    assert!(DcsRestore::made(h, OTHER).is_empty());
    assert_eq!(events_for(h, "r"), vec!["RestoreFailed"]);
    assert_quiet::<DcsRestore>(h, path).await;
}

#[tokio::test]
async fn refuses_a_backup_ref_of_another_instance() {
    let h = Harness::new().await;
    let backup = h.create(
        "DcsBackup",
        "dcsbackups",
        "theirs",
        json!({"instanceId": OTHER}),
    );
    h.drive::<DcsBackup>(&backup, 50).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Succeeded));
    h.sim.reset_calls();
    let spec = json!({"instanceId": INSTANCE, "backupRef": {"name": "theirs"}});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    assert_eq!(h.step::<DcsRestore>(&restore).await, None);
    assert_eq!(
        h.sim.calls(),
        vec![],
        "refused from the DcsBackup's spec alone"
    );
    assert_refused(&h, &restore).await;
}

/// The cloud does not list the backup for this instance; that is final once the cloud had the
/// grace period to list it (a list may be seconds old).
#[tokio::test]
async fn refuses_a_backup_id_of_another_instance() {
    let grace = Duration::from_secs(1);
    let h = harness_with_grace(grace).await;
    let theirs = finished_dcs_backup(&h, OTHER).await;
    h.sim.reset_calls();
    let spec = json!({"instanceId": INSTANCE, "backupId": theirs});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    assert!(h.step::<DcsRestore>(&restore).await.is_some());
    assert_state(&h.status(&restore), Phase::Pending, "WaitingForBackup");
    tokio::time::sleep(grace + Duration::from_millis(200)).await;
    assert_eq!(h.step::<DcsRestore>(&restore).await, None);
    let st = h.status(&restore);
    assert_state(&st, Phase::Failed, "BackupUnusable");
    assert!(st.message.unwrap_or_default().contains(INSTANCE));
    assert_eq!(h.cloud_calls("create_restore"), 0);
    assert!(DcsRestore::made(&h, INSTANCE).is_empty());
    assert_eq!(
        events_for(&h, "r"),
        vec!["WaitingForBackup", "RestoreFailed"]
    );
    assert_quiet::<DcsRestore>(&h, &restore).await;
}

#[tokio::test]
async fn refuses_a_failed_backup_ref() {
    let h = Harness::new().await;
    let failing = h.sim.config().failing_instances[0].clone();
    let backup = h.create(
        "DcsBackup",
        "dcsbackups",
        "broken",
        json!({"instanceId": failing}),
    );
    h.drive::<DcsBackup>(&backup, 50).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Failed));
    let spec = json!({"instanceId": failing, "backupRef": {"name": "broken"}});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    assert_eq!(h.step::<DcsRestore>(&restore).await, None);
    let st = h.status(&restore);
    assert_state(&st, Phase::Failed, "BackupUnusable");
    assert_eq!(h.cloud_calls("create_restore"), 0);
}

/// A short grace for tests: how long a backup may be missing from the cloud's list.
async fn harness_with_grace(grace: Duration) -> Harness {
    let settings = Settings {
        visibility_grace: grace,
        ..fast_settings()
    };
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(400),
        ..SimConfig::default()
    };
    Harness::with(cfg, settings).await
}

#[tokio::test]
async fn restore_of_a_backup_the_cloud_does_not_list_fails_only_after_the_grace_period() {
    let grace = Duration::from_secs(2);
    let h = harness_with_grace(grace).await;
    let missing = "0b5e2f6a-0000-4000-8000-00000000dead";
    let spec = json!({"instanceId": INSTANCE, "backupId": missing});
    let meta = json!({"creationTimestamp": time_value(Timestamp::now())});
    let restore = create_with::<DcsRestore>(&h, "r", spec, meta, json!({}));
    assert!(
        h.step::<DcsRestore>(&restore).await.is_some(),
        "looks again"
    );
    let st = h.status(&restore);
    assert_state(&st, Phase::Pending, "WaitingForBackup");
    assert!(st.message.unwrap_or_default().contains(missing));

    tokio::time::sleep(grace + Duration::from_millis(200)).await;
    assert_eq!(h.step::<DcsRestore>(&restore).await, None);
    let st = h.status(&restore);
    assert_state(&st, Phase::Failed, "BackupUnusable");
    assert!(st.message.unwrap_or_default().contains(INSTANCE));
    assert_eq!(h.cloud_calls("create_restore"), 0);
}

/// The restore's backup just succeeded, but the list other polls of the instance shared a moment
/// ago predates it: that list proves nothing, the restore asks again and starts.
#[tokio::test]
async fn restore_of_a_just_succeeded_backup_is_not_failed_by_an_older_list() {
    let settings = Settings {
        // Lists stay shared for 5 s.
        poll: PollPolicy::scaled(Duration::from_secs(10), Duration::from_secs(20)),
        ..fast_settings()
    };
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(400),
        ..SimConfig::default()
    };
    let h = Harness::with(cfg, settings).await;
    let earlier =
        json!({"instanceId": INSTANCE, "backupId": "0b5e2f6a-0000-4000-8000-000000000001"});
    let earlier = h.create("DcsRestore", "dcsrestores", "earlier", earlier);
    h.step::<DcsRestore>(&earlier).await;

    let id = finished_dcs_backup(&h, INSTANCE).await;
    let done =
        json!({"phase": "Succeeded", "backupId": id, "completedAt": time_value(Timestamp::now())});
    create_with::<DcsBackup>(
        &h,
        "fresh",
        json!({"instanceId": INSTANCE}),
        json!({}),
        done,
    );
    let spec = json!({"instanceId": INSTANCE, "backupRef": {"name": "fresh"}});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    h.sim.reset_calls();
    h.step::<DcsRestore>(&restore).await;
    assert_eq!(
        h.cloud_calls("list_backups"),
        1,
        "the shared list lacked the backup; one fresh list"
    );
    let st = h.status(&restore);
    assert_state(&st, Phase::Running, "InProgress");
    assert_eq!(st.backup_id, Some(id));
    assert_eq!(h.cloud_calls("create_restore"), 1);
}

/// A backup the cloud lists `deleted` (deleted in the console, rotated out) is gone for good: the
/// list is the cloud's own word, so no grace period applies.
#[tokio::test]
async fn refuses_a_backup_listed_as_deleted() {
    let h = Harness::new().await;
    let id = finished_dcs_backup(&h, INSTANCE).await;
    direct(&h)
        .dcs()
        .delete_backup(INSTANCE, &id)
        .await
        .expect("deleted in the console");
    let spec = json!({"instanceId": INSTANCE, "backupId": id});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    assert_eq!(h.step::<DcsRestore>(&restore).await, None);
    let st = h.status(&restore);
    assert_state(&st, Phase::Failed, "BackupUnusable");
    assert!(st.message.unwrap_or_default().contains("deleted"));
    assert_eq!(h.cloud_calls("create_restore"), 0);
}

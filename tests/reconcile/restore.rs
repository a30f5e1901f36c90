//! `DcsRestore` preconditions: it waits for its backup, and refuses a backup of another instance
//! (by reference or by id) without ever calling the cloud's restore API.

use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore, Phase};
use serde_json::json;

use crate::common::{assert_quiet, assert_state, events_for};
use crate::harness::Harness;
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

#[tokio::test]
async fn refuses_a_backup_id_of_another_instance() {
    let h = Harness::new().await;
    let theirs = finished_dcs_backup(&h, OTHER).await;
    h.sim.reset_calls();
    let spec = json!({"instanceId": INSTANCE, "backupId": theirs});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    assert_eq!(h.step::<DcsRestore>(&restore).await, None);
    assert_refused(&h, &restore).await;
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

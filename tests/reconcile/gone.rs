//! A cloud backup that is already gone (deleted in the console, rotated out by DCS's cap of 24
//! backups per instance, expired) does not hold its resource `Terminating`: the cleanup counts it
//! as deleted, releases the finalizer and says that it was already gone.

use std::time::Duration;

use hwcloud_backup_operator::crd::{DcsBackup, Phase};
use serde_json::json;

use crate::common::{events_for, wait_until};
use crate::harness::{Harness, SECRET};
use crate::kinds::Kind;

fn with_delete_policy(mut spec: serde_json::Value) -> serde_json::Value {
    spec["deletionPolicy"] = json!("Delete");
    spec
}

/// `(reason, note)` of the last event about `name`.
fn last_event(h: &Harness, name: &str) -> (String, String) {
    h.api
        .events()
        .iter()
        .rev()
        .find(|e| e["regarding"]["name"] == name)
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("reason"), s("note"))
        })
        .unwrap_or_default()
}

/// Runs a `Delete` backup to `Succeeded`, deletes its cloud backup behind the operator's back,
/// then deletes the resource: one reconcile releases it and says the backup was already gone.
async fn vanished_backup_is_released<K: Kind>(h: &Harness) {
    let spec = with_delete_policy(K::spec(h, K::INSTANCE).await);
    let path = h.create(K::KIND, K::PLURAL, "vanished", spec);
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    let id = h.status(&path).backup_id.expect("backup id");
    K::delete_in_console(h, K::INSTANCE, &id).await;

    h.api.delete(&path);
    assert_eq!(h.step::<K>(&path).await, None, "nothing left to retry");
    assert!(h.api.get(&path).is_none(), "finalizer removed, object gone");
    let events = events_for(h, "vanished");
    assert!(!events.contains(&"CleanupFailed".into()), "{events:?}");
    let (reason, note) = last_event(h, "vanished");
    assert_eq!(reason, "CloudBackupGone", "{note}");
    assert!(
        note.contains(&id) && note.contains("already gone"),
        "{note}"
    );
}

each_backup_kind!(deleting_a_backup_deleted_in_the_console_releases_the_finalizer);
async fn deleting_a_backup_deleted_in_the_console_releases_the_finalizer<K: Kind>() {
    let h = Harness::new().await;
    vanished_backup_is_released::<K>(&h).await;
}

/// DCS API v1.0 answers the same refusal with its numeric code (`111400031`).
#[tokio::test]
async fn deleting_a_dcs_v1_backup_deleted_in_the_console_releases_the_finalizer() {
    let h = Harness::new().await;
    let mut data = h.secret_data();
    data["dcsApiVersion"] = json!("v1.0");
    h.put_secret(SECRET, data);
    vanished_backup_is_released::<DcsBackup>(&h).await;
}

/// A backup the cloud no longer lists at all (rotated out, or deleted long ago): the DELETE is
/// answered 400 `DCS.4031` (v1.0 `111400031`), which means gone for this call only.
async fn unlisted_backup_is_released(h: &Harness) {
    let spec = with_delete_policy(json!({"instanceId": DcsBackup::INSTANCE}));
    let id = "0b5e2f6a-0000-4000-8000-0000000000aa";
    let status = json!({"phase": "Succeeded", "backupId": id});
    let meta = json!({"finalizers": [hwcloud_backup_operator::controller::context::FINALIZER]});
    let path = crate::common::create_with::<DcsBackup>(h, "rotated", spec, meta, status);
    h.api.delete(&path);
    h.sim.reset_calls();
    assert_eq!(
        h.step::<DcsBackup>(&path).await,
        None,
        "nothing left to retry"
    );
    assert!(h.api.get(&path).is_none(), "finalizer removed");
    let refused = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.operation == "delete_backup")
        .map(|c| c.status)
        .collect::<Vec<_>>();
    assert_eq!(
        refused,
        vec![400],
        "the cloud's answer to a DELETE of a gone backup"
    );
    let (reason, note) = last_event(h, "rotated");
    assert_eq!(reason, "CloudBackupGone", "{note}");
    assert!(note.contains(id), "{note}");
}

#[tokio::test]
async fn deleting_a_dcs_backup_the_cloud_no_longer_lists_releases_the_finalizer() {
    let h = Harness::new().await;
    unlisted_backup_is_released(&h).await;
}

#[tokio::test]
async fn deleting_a_dcs_v1_backup_the_cloud_no_longer_lists_releases_the_finalizer() {
    let h = Harness::new().await;
    let mut data = h.secret_data();
    data["dcsApiVersion"] = json!("v1.0");
    h.put_secret(SECRET, data);
    unlisted_backup_is_released(&h).await;
}

/// After a crash between the create and the ids write, the backup is found by its marker; DCS
/// lists it `deleted` once deleted in the console. That is gone: no DELETE is sent for it.
#[tokio::test]
async fn deleting_after_a_crash_skips_a_backup_listed_as_deleted() {
    let h = Harness::new().await;
    let spec = with_delete_policy(DcsBackup::spec(&h, DcsBackup::INSTANCE).await);
    let path = h.create(DcsBackup::KIND, DcsBackup::PLURAL, "crashed", spec);
    h.api.fail_status_writes(1, 1);
    let obj: DcsBackup = h.load(&path);
    let failed = hwcloud_backup_operator::controller::driver::reconcile_once(&obj, &h.ctx).await;
    assert!(failed.is_err(), "the ids write fails");
    assert_eq!(h.status(&path).backup_id, None);
    let made = DcsBackup::made(&h, DcsBackup::INSTANCE);
    assert_eq!(made.len(), 1);
    wait_until("the backup finished", || {
        DcsBackup::made(&h, DcsBackup::INSTANCE)[0].status == DcsBackup::DONE
    })
    .await;
    DcsBackup::delete_in_console(&h, DcsBackup::INSTANCE, &made[0].id).await;

    h.api.delete(&path);
    h.sim.reset_calls();
    assert_eq!(h.step::<DcsBackup>(&path).await, None);
    assert!(h.api.get(&path).is_none(), "finalizer removed");
    assert_eq!(h.cloud_calls("delete_backup"), 0, "nothing to delete");
    let (reason, note) = last_event(&h, "crashed");
    assert_eq!(reason, "CloudBackupGone", "{note}");
    assert!(note.contains(&made[0].id), "{note}");
}

/// Under the real controllers: a `Delete` backup whose cloud backup was deleted in the console is
/// released by the first reconcile after its deletion; DCS lists the backup `deleted`, so no
/// DELETE is sent, and no `CleanupFailed` is reported.
#[tokio::test]
async fn controllers_release_a_backup_deleted_in_the_console() {
    let h = Harness::new().await;
    let running = h.run_controllers(2);
    let spec = with_delete_policy(json!({"instanceId": DcsBackup::INSTANCE}));
    let path = h.create(DcsBackup::KIND, DcsBackup::PLURAL, "console", spec);
    h.wait_until(Duration::from_secs(20), "Succeeded", |h| {
        h.status(&path).phase == Some(Phase::Succeeded)
    })
    .await;
    let id = h.status(&path).backup_id.expect("backup id");
    DcsBackup::delete_in_console(&h, DcsBackup::INSTANCE, &id).await;
    h.sim.reset_calls();
    h.api.delete(&path);
    h.wait_until(Duration::from_secs(10), "the resource released", |h| {
        h.api.get(&path).is_none()
    })
    .await;
    running.stop().await;
    assert_eq!(h.cloud_calls("delete_backup"), 0);
    let events = events_for(&h, "console");
    assert!(!events.contains(&"CleanupFailed".into()), "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("CloudBackupGone"));
}

//! Deleting resources: `Delete` removes the cloud backup before the finalizer, `Retain` never
//! holds the object back, and deleting a `DcsRestore` never touches the cloud.

use hwcloud_backup_operator::controller::context::FINALIZER;
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::crd::{DcsRestore, Phase};
use serde_json::json;

use crate::common::{
    assert_state, create_with, drive_phases, events_for, has_finalizer, wait_until,
};
use crate::harness::Harness;
use crate::kinds::{Kind, Made};

fn with_policy(mut spec: serde_json::Value, policy: &str) -> serde_json::Value {
    spec["deletionPolicy"] = json!(policy);
    spec
}

/// Whether the backup `id` is gone from the cloud (DCS lists deleted records as `deleted`; a DDS
/// backup is `DISABLED` while its deletion job runs).
fn deleted_in_cloud<K: Kind>(h: &Harness, id: &str) -> bool {
    K::made(h, K::INSTANCE)
        .iter()
        .filter(|m| m.id == id)
        .all(|m| m.status == "deleted" || m.status == "DISABLED")
}

each_backup_kind!(delete_policy_deletes_the_cloud_backup_first);
async fn delete_policy_deletes_the_cloud_backup_first<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_policy(K::spec(&h, K::INSTANCE).await, "Delete");
    let path = h.create(K::KIND, K::PLURAL, "tidy", spec);
    h.step::<K>(&path).await;
    assert!(has_finalizer(&h, &path));
    let writes: Vec<_> = h
        .api
        .calls()
        .into_iter()
        .filter(|c| c.method == "PATCH" && c.path.starts_with(&path))
        .collect();
    assert_eq!(writes[0].path, path, "the finalizer is the first write");
    assert_eq!(writes[0].body["metadata"]["finalizers"], json!([FINALIZER]));
    assert!(writes[1].path.ends_with("/status"));

    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    let id = h.status(&path).backup_id.unwrap();
    h.api.delete(&path);
    assert!(h.api.get(&path).is_some(), "held by the finalizer");
    h.sim.reset_calls();
    assert_eq!(h.step::<K>(&path).await, None);

    assert!(h.api.get(&path).is_none(), "finalizer removed, object gone");
    assert_eq!(h.cloud_calls("delete_backup"), 1);
    assert!(
        deleted_in_cloud::<K>(&h, &id),
        "{:?}",
        K::made(&h, K::INSTANCE)
    );
    assert_eq!(events_for(&h, "tidy").last().unwrap(), "CloudBackupDeleted");
}

each_backup_kind!(delete_after_a_crash_finds_the_backup_by_marker);
/// The create happened but its id never reached status: the backup is found by its marker.
async fn delete_after_a_crash_finds_the_backup_by_marker<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_policy(K::spec(&h, K::INSTANCE).await, "Delete");
    let path = h.create(K::KIND, K::PLURAL, "orphan", spec);
    h.api.fail_status_writes(1, 1);
    let obj: K = h.load(&path);
    assert!(reconcile_once(&obj, &h.ctx).await.is_err());
    let made: Vec<Made> = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1);
    wait_until("the backup finished", || {
        K::made(&h, K::INSTANCE)[0].status == K::DONE
    })
    .await;

    h.api.delete(&path);
    assert_eq!(h.step::<K>(&path).await, None);
    assert!(h.api.get(&path).is_none());
    assert_eq!(h.cloud_calls("delete_backup"), 1);
    assert!(deleted_in_cloud::<K>(&h, &made[0].id));
}

each_backup_kind!(delete_before_any_create_makes_no_cloud_call);
async fn delete_before_any_create_makes_no_cloud_call<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_policy(K::spec(&h, K::INSTANCE).await, "Delete");
    let first = h.create(K::KIND, K::PLURAL, "first", spec.clone());
    let queued = h.create(K::KIND, K::PLURAL, "queued", spec);
    h.step::<K>(&first).await;
    h.step::<K>(&queued).await;
    assert_state(&h.status(&queued), Phase::Pending, "InstanceBusy");
    assert!(has_finalizer(&h, &queued));

    h.api.delete(&queued);
    h.sim.reset_calls();
    assert_eq!(h.step::<K>(&queued).await, None);
    assert!(h.api.get(&queued).is_none());
    assert_eq!(
        h.sim.calls(),
        vec![],
        "nothing was created, nothing to delete"
    );
    assert!(!events_for(&h, "queued").contains(&"CloudBackupDeleted".to_string()));
}

each_backup_kind!(retain_policy_keeps_the_cloud_backup);
async fn retain_policy_keeps_the_cloud_backup<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_policy(K::spec(&h, K::INSTANCE).await, "Retain");
    let path = h.create(K::KIND, K::PLURAL, "keeper", spec);
    for _ in 0..100 {
        let next = h.step::<K>(&path).await;
        assert!(!has_finalizer(&h, &path), "Retain never adds the finalizer");
        if h.status(&path).is_terminal() {
            break;
        }
        crate::common::requeue(next).await;
    }
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    let id = h.status(&path).backup_id.unwrap();
    let finalizer_writes = h
        .api
        .calls()
        .iter()
        .filter(|c| c.method == "PATCH" && c.path == path)
        .count();
    assert_eq!(finalizer_writes, 0);

    h.sim.reset_calls();
    h.api.delete(&path);
    assert!(h.api.get(&path).is_none(), "nothing holds the object");
    assert_eq!(h.sim.calls(), vec![]);
    let made = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1);
    assert_eq!(
        (made[0].id.as_str(), made[0].status.as_str()),
        (id.as_str(), K::DONE)
    );
}

#[tokio::test]
async fn dcs_restore_never_gets_a_finalizer() {
    let h = Harness::new().await;
    let spec = DcsRestore::spec(&h, DcsRestore::INSTANCE).await;
    let path = h.create(DcsRestore::KIND, DcsRestore::PLURAL, "plain", spec);
    let phases = drive_phases::<DcsRestore>(&h, &path).await;
    assert_eq!(phases.last(), Some(&Phase::Succeeded));
    assert!(!has_finalizer(&h, &path));
    h.sim.reset_calls();
    h.api.delete(&path);
    assert!(h.api.get(&path).is_none());
    assert_eq!(h.sim.calls(), vec![]);
}

#[tokio::test]
async fn dcs_restore_deletion_releases_a_finalizer_without_cloud_calls() {
    let h = Harness::new().await;
    let spec = DcsRestore::spec(&h, DcsRestore::INSTANCE).await;
    // A finalizer someone else (or an older operator) put on a running restore.
    let meta = json!({ "finalizers": [FINALIZER] });
    let path = create_with::<DcsRestore>(&h, "held", spec, meta, json!({}));
    h.step::<DcsRestore>(&path).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Running));

    h.api.delete(&path);
    h.sim.reset_calls();
    assert_eq!(h.step::<DcsRestore>(&path).await, None);
    assert!(h.api.get(&path).is_none(), "finalizer removed, object gone");
    assert_eq!(
        h.sim.calls(),
        vec![],
        "a restore's deletion never calls the cloud"
    );
    assert_eq!(DcsRestore::made(&h, DcsRestore::INSTANCE).len(), 1);
}

each_backup_kind!(delete_while_running_retries_until_the_cloud_allows_it);
/// The cloud refuses to delete a backup that is still being made: the finalizer stays (never an
/// orphaned backup), a warning says why, and the deletion goes through once the backup is done.
async fn delete_while_running_retries_until_the_cloud_allows_it<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_policy(K::spec(&h, K::INSTANCE).await, "Delete");
    let path = h.create(K::KIND, K::PLURAL, "hasty", spec);
    h.step::<K>(&path).await;
    let id = h.status(&path).backup_id.unwrap();
    h.api.delete(&path);

    assert!(h.step::<K>(&path).await.is_some(), "retried");
    assert!(has_finalizer(&h, &path), "kept while the backup exists");
    assert_eq!(events_for(&h, "hasty").last().unwrap(), "CleanupFailed");
    assert_eq!(h.cloud_calls("delete_backup"), 1);
    assert!(!deleted_in_cloud::<K>(&h, &id));

    wait_until("the backup finished", || {
        K::made(&h, K::INSTANCE)[0].status == K::DONE
    })
    .await;
    assert_eq!(h.step::<K>(&path).await, None);
    assert!(h.api.get(&path).is_none());
    assert!(deleted_in_cloud::<K>(&h, &id));
    assert_eq!(
        events_for(&h, "hasty").last().unwrap(),
        "CloudBackupDeleted"
    );
}

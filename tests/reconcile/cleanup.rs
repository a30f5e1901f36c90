//! What `deletionPolicy: Delete` deletes: the backup the operator knows of even when the cache
//! copy is stale, a backup an interrupted create may still make, and every backup that carries
//! the resource's marker, duplicates included.

use hwcloud_backup_operator::controller::context::FINALIZER;
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::operation::marker;
use std::time::Duration;

use hwcloud_backup_operator::crd::Phase;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::common::{create_with, events_for, has_finalizer, time_value, wait_until};
use crate::harness::Harness;
use crate::kinds::Kind;

fn with_delete_policy(mut spec: Value) -> Value {
    spec["deletionPolicy"] = json!("Delete");
    spec
}

/// Whether the cloud no longer has backup `id` (DCS lists it `deleted`; DDS `DISABLED` while its
/// deletion job runs; TaurusDB drops it).
fn gone_in_cloud<K: Kind>(h: &Harness, id: &str) -> bool {
    K::made(h, K::INSTANCE)
        .iter()
        .filter(|m| m.id == id)
        .all(|m| m.status == "deleted" || m.status == "DISABLED")
}

fn uid(h: &Harness, path: &str) -> String {
    h.api.get(path).expect("object")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string()
}

each_backup_kind!(deleting_with_a_stale_cache_copy_deletes_the_backup_the_operator_wrote);
/// The user deletes the resource while its create runs; the reconcile that sees the deletion gets
/// a cache copy from before the operator's status writes (no marker, no ids). The operator still
/// knows what it wrote, and deletes that backup instead of orphaning it.
async fn deleting_with_a_stale_cache_copy_deletes_the_backup_the_operator_wrote<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_delete_policy(K::spec(&h, K::INSTANCE).await);
    let path = h.create(K::KIND, K::PLURAL, "hurried", spec);
    h.step::<K>(&path).await;
    let id = h.status(&path).backup_id.expect("the create answered");
    wait_until("the backup finished", || {
        K::made(&h, K::INSTANCE)[0].status == K::DONE
    })
    .await;

    h.api.delete(&path);
    let mut stale = h.api.get(&path).expect("held by the finalizer");
    stale["status"] = json!({});
    let stale: K = serde_json::from_value(stale).expect("deserialises");
    assert_eq!(
        reconcile_once(&stale, &h.ctx).await.expect("reconcile"),
        None
    );
    assert!(h.api.get(&path).is_none(), "finalizer removed");
    assert_eq!(h.cloud_calls("delete_backup"), 1);
    assert!(
        gone_in_cloud::<K>(&h, &id),
        "{:?}",
        K::made(&h, K::INSTANCE)
    );
}

each_backup_kind!(deleting_during_an_interrupted_create_waits_out_the_adoption_window);
/// Only the marker is known (the create's answer was lost): a lookup that finds nothing yet proves
/// nothing until the adoption window has passed, so the finalizer stays; the backup the create
/// makes a moment later is then found and deleted.
async fn deleting_during_an_interrupted_create_waits_out_the_adoption_window<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_delete_policy(K::spec(&h, K::INSTANCE).await);
    let status = json!({"phase": "Pending", "createRequestedAt": time_value(Timestamp::now())});
    let meta = json!({"finalizers": [FINALIZER]});
    let path = create_with::<K>(&h, "interrupted", spec, meta, status);
    h.api.delete(&path);

    assert!(h.step::<K>(&path).await.is_some(), "looks again later");
    assert!(has_finalizer(&h, &path), "kept within the adoption window");
    assert_eq!(h.cloud_calls("delete_backup"), 0);

    let id = K::land_create(&h, K::INSTANCE, &marker(&uid(&h, &path))).await;
    wait_until("the landed backup finished", || {
        K::made(&h, K::INSTANCE)
            .iter()
            .any(|m| m.id == id && m.status == K::DONE)
    })
    .await;
    assert_eq!(h.step::<K>(&path).await, None);
    assert!(h.api.get(&path).is_none(), "finalizer removed");
    assert!(
        gone_in_cloud::<K>(&h, &id),
        "{:?}",
        K::made(&h, K::INSTANCE)
    );
    assert_eq!(
        events_for(&h, "interrupted").last().map(String::as_str),
        Some("CloudBackupDeleted")
    );
}

each_backup_kind!(deleting_deletes_every_backup_that_carries_the_marker);
/// A duplicate an earlier crash made carries the same marker as the backup in status: both go.
async fn deleting_deletes_every_backup_that_carries_the_marker<K: Kind>() {
    let h = Harness::new().await;
    let spec = with_delete_policy(K::spec(&h, K::INSTANCE).await);
    let path = h.create(K::KIND, K::PLURAL, "twice", spec);
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    let id = h.status(&path).backup_id.expect("backup id");
    let duplicate = K::land_create(&h, K::INSTANCE, &marker(&uid(&h, &path))).await;
    wait_until("the duplicate finished", || {
        K::made(&h, K::INSTANCE).iter().all(|m| m.status == K::DONE)
    })
    .await;

    h.api.delete(&path);
    h.sim.reset_calls();
    assert_eq!(h.step::<K>(&path).await, None);
    assert!(h.api.get(&path).is_none(), "finalizer removed");
    assert_eq!(h.cloud_calls("delete_backup"), 2);
    for b in [&id, &duplicate] {
        assert!(
            gone_in_cloud::<K>(&h, b),
            "{b}: {:?}",
            K::made(&h, K::INSTANCE)
        );
    }
    let note = h.api.events().last().expect("an event")["note"].clone();
    let note = note.as_str().unwrap_or_default();
    assert!(note.contains(&id) && note.contains(&duplicate), "{note}");
}

/// The same wait under the real controllers (reconciles on every watch event): the finalizer stays
/// through the adoption window, the cloud is asked once at the start and once at the end, not in
/// a loop, and the resource is released once nothing has landed.
#[tokio::test]
async fn controllers_keep_a_marker_only_resource_through_the_adoption_window() {
    use hwcloud_backup_operator::crd::DcsBackup;
    let h = Harness::new().await;
    let spec = with_delete_policy(DcsBackup::spec(&h, DcsBackup::INSTANCE).await);
    let status = json!({"phase": "Pending", "createRequestedAt": time_value(Timestamp::now())});
    let meta = json!({"finalizers": [FINALIZER]});
    let path = create_with::<DcsBackup>(&h, "lost-answer", spec, meta, status);
    h.api.delete(&path);
    let running = h.run_controllers(2);
    h.wait_until(Duration::from_secs(5), "a first look", |h| {
        h.cloud_calls("list_backups") > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(has_finalizer(&h, &path), "kept within the window");
    h.wait_until(Duration::from_secs(10), "the resource released", |h| {
        h.api.get(&path).is_none()
    })
    .await;
    running.stop().await;
    let lists = h.cloud_calls("list_backups");
    assert!((2..=3).contains(&lists), "{lists} list calls");
    assert_eq!(h.cloud_calls("delete_backup"), 0, "nothing was made");
}

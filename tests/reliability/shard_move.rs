//! Moving a resource between shards (relabelling `backup.hwcloud.dev/shard`) while its operation
//! runs: the old replica stops seeing it, the new one takes over from status. Here the two replicas
//! are driven reconcile by reconcile, so the interleavings that matter happen every time: a reconcile
//! of the old replica still in flight with its copy from before the move.

use std::time::Duration;

use hwcloud_backup_operator::controller::context::Context;
use hwcloud_backup_operator::shard::SHARD_LABEL;
use serde_json::{Value, json};

use crate::fake_api::FakeApi;
use crate::rig::{self, Kind, Snapshot};

/// Sets (or with `None` removes) the resource's shard label, as `kubectl label` does.
pub fn relabel(api: &FakeApi, path: &str, shard: Option<&str>) {
    let mut obj = api.get(path).expect("object exists");
    let labels = obj["metadata"]["labels"].take();
    let mut labels = labels.as_object().cloned().unwrap_or_default();
    match shard {
        Some(s) => labels.insert(SHARD_LABEL.into(), json!(s)),
        None => labels.remove(SHARD_LABEL),
    };
    obj["metadata"]["labels"] = Value::Object(labels);
    api.put(path, obj);
}

/// Reconciles the stored object with `ctx` until its status names a cloud id.
async fn until_running(api: &FakeApi, ctx: &Context, kind: Kind, path: &str) {
    for _ in 0..50 {
        let obj = api.get(path).expect("object exists");
        let _ = kind.reconcile(ctx, obj).await;
        if kind.id_of(&rig::status(api, path)).is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never got an id: {:?}", rig::status(api, path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_replica_cannot_create_after_the_move() {
    let h = rig::fast_harness().await;
    let path = rig::resource(&h, Kind::Dds, "moving", "dds-move-1").await;
    // What the old replica's cache holds: the resource before the move, nothing started yet.
    let stale = h.api.get(&path).unwrap();
    let old = rig::restart(&h.api, rig::settings(), None);
    relabel(&h.api, &path, Some("a"));
    let new = rig::restart(&h.api, rig::settings(), None);
    until_running(&h.api, &new, Kind::Dds, &path).await;

    // The old replica's reconcile of its copy: the create marker is written on condition that the
    // object is unchanged, and the move changed it, so it stops before the cloud.
    let err = Kind::Dds.reconcile(&old, stale).await;
    assert!(err.is_err(), "the stale copy was acted on: {err:?}");
    rig::run_to_terminal(&h.api, &new, Kind::Dds, &path, Duration::from_secs(20))
        .await
        .unwrap();
    let snap = Snapshot::take(&h.api, &h.sim);
    rig::assert_one_and_succeeded(&h.api, &snap, Kind::Dds, &path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_replica_cannot_erase_what_the_new_owner_wrote() {
    let h = rig::fast_harness().await;
    let path = rig::resource(&h, Kind::DcsBackup, "moving", "dcs-move-1").await;
    let stale = h.api.get(&path).unwrap();
    let old = rig::restart(&h.api, rig::settings(), None);
    // On the old replica the resource waits for another of its operations on the same instance.
    old.locks
        .try_claim("dcs-move-1", "DcsBackup/team-a/earlier")
        .unwrap();
    relabel(&h.api, &path, Some("a"));
    let new = rig::restart(&h.api, rig::settings(), None);
    until_running(&h.api, &new, Kind::DcsBackup, &path).await;
    let owned = rig::status(&h.api, &path);

    // The old replica's reconcile that was in flight at the move ends with "instance busy, waiting":
    // written over the new owner's status, it would drop the backup id, and the next owner to read
    // the resource from the API (a restart, a new leader) would create the backup a second time.
    let _ = Kind::DcsBackup.reconcile(&old, stale).await;
    assert_eq!(
        rig::status(&h.api, &path).backup_id,
        owned.backup_id,
        "the stale replica's write erased the new owner's backup id"
    );

    let restarted = rig::restart(&h.api, rig::settings(), None);
    rig::run_to_terminal(
        &h.api,
        &restarted,
        Kind::DcsBackup,
        &path,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let snap = Snapshot::take(&h.api, &h.sim);
    rig::assert_one_and_succeeded(&h.api, &snap, Kind::DcsBackup, &path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_while_the_create_is_in_flight_adopts_instead_of_creating_again() {
    let h = rig::fast_harness().await;
    let path = rig::resource(&h, Kind::Taurus, "moving", "tdb-move-1").await;
    let old = rig::restart(&h.api, rig::settings(), None);
    // The old replica writes the marker and makes the create; the write of its ids is lost (the
    // move happens while the create is on the wire, and the old replica is done with the resource).
    h.api.fail_status_writes(1, 1);
    let obj = h.api.get(&path).unwrap();
    let _ = Kind::Taurus.reconcile(&old, obj).await;
    assert_eq!(
        rig::cloud_ids(&h.sim, Kind::Taurus, &rig::marker(&h.api, &path)).len(),
        1
    );
    relabel(&h.api, &path, Some("a"));

    let new = rig::restart(&h.api, rig::settings(), None);
    rig::run_to_terminal(&h.api, &new, Kind::Taurus, &path, Duration::from_secs(20))
        .await
        .unwrap();
    let snap = Snapshot::take(&h.api, &h.sim);
    rig::assert_one_and_succeeded(&h.api, &snap, Kind::Taurus, &path);
    assert!(
        h.api.event_reasons().iter().any(|r| r == "Adopted"),
        "the new owner adopted the old replica's backup: {:?}",
        h.api.event_reasons()
    );
}

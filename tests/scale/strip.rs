//! The controllers' caches hold objects without managedFields, annotations and labels, final
//! statuses without what only people read, and everything the reconcilers read; final resources
//! cached so are reconciled as if cached whole.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hwcloud_backup_operator::controller::operation::Operation;
use hwcloud_backup_operator::controller::strip;
use hwcloud_backup_operator::crd::{
    DcsBackup, DcsRestore, DdsBackup, OperationStatus, Phase, TaurusDbBackup,
};
use kube::ResourceExt;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::fake_api::object_path;
use crate::harness::{Harness, NS};
use crate::served::{self, API_VERSION, KINDS, LAST_APPLIED};

const PER_KIND: usize = 25;

/// `obj` as the cache should hold it: the served object without managedFields, the
/// last-applied annotation and the labels, and a final status without message, conditions,
/// cloudStatus and size.
fn expected(mut obj: Value) -> Value {
    let meta = obj["metadata"].as_object_mut().expect("metadata");
    meta.remove("managedFields");
    meta.remove("annotations");
    meta.remove("labels");
    if matches!(
        obj["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    ) {
        let status = obj["status"].as_object_mut().expect("status");
        for display in ["message", "conditions", "cloudStatus", "size"] {
            status.remove(display);
        }
    }
    obj
}

/// Runs the controller the runner builds for `K` (trimmed) until its cache is filled and every
/// object was reconciled once; returns what the cache held and what the reconciler was given.
async fn cached<K>(h: &Harness) -> (Vec<Arc<DeserializeGuard<K>>>, Vec<Value>)
where
    K: Operation + HasStatus<Status = OperationStatus>,
{
    let api: Api<DeserializeGuard<K>> = Api::all(h.ctx.client.clone());
    let ctrl = strip::controller(api, watcher::Config::default().any_semantic(), true);
    let store = ctrl.store();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let reconciled = seen.clone();
    let run = ctrl.run(
        move |obj: Arc<DeserializeGuard<K>>, _: Arc<()>| {
            let seen = reconciled.clone();
            async move {
                let v = serde_json::to_value(obj.0.as_ref().expect("valid")).expect("serialises");
                seen.lock().unwrap().push(v);
                Ok::<_, kube::Error>(Action::await_change())
            }
        },
        |_, _, _| Action::await_change(),
        Arc::new(()),
    );
    let task = tokio::spawn(run.for_each(|_| async {}));
    // Polled, not awaited: kube-runtime's `Store::wait_until_ready` wakes only the last task that
    // waited (one oneshot waker), and the controller's own runner waits on the same store.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.state().len() < PER_KIND || seen.lock().unwrap().len() < PER_KIND {
        assert!(
            tokio::time::Instant::now() < deadline,
            "cache filled and every object reconciled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    let reconciled = seen.lock().unwrap().clone();
    (store.state(), reconciled)
}

/// Compares what the cache held with the served objects, field for field.
fn check<K: Operation>(
    h: &Harness,
    plural: &str,
    (state, reconciled): (Vec<Arc<DeserializeGuard<K>>>, Vec<Value>),
) {
    assert_eq!(state.len(), PER_KIND);
    for obj in &state {
        let obj = obj.0.as_ref().expect("valid");
        assert!(
            obj.managed_fields().is_empty(),
            "managedFields cached: {}",
            obj.name_any()
        );
        assert!(
            !obj.annotations().contains_key(LAST_APPLIED),
            "last-applied cached"
        );
        let stored = h
            .api
            .get(&object_path(API_VERSION, plural, NS, &obj.name_any()))
            .expect("stored");
        // Both through the typed object, so that only what was dropped can differ.
        let want: K = serde_json::from_value(expected(stored)).expect("deserialises");
        assert_eq!(
            serde_json::to_value(obj).unwrap(),
            serde_json::to_value(&want).unwrap()
        );
    }
    for v in reconciled {
        assert!(
            v["metadata"]["managedFields"].is_null(),
            "the reconciler got managedFields"
        );
        assert!(
            v["metadata"]["annotations"].is_null(),
            "the reconciler got the annotation"
        );
        assert!(!v["metadata"]["uid"].is_null() && !v["status"].is_null() && !v["spec"].is_null());
        assert!(
            !v["status"]["backupId"].is_null() && !v["status"]["completedAt"].is_null(),
            "the reconciler got the ids and the completion time"
        );
    }
}

#[tokio::test]
async fn stores_hold_no_managed_fields_and_no_last_applied_annotation() {
    let h = Harness::new().await;
    for (kind, plural) in KINDS {
        for i in 0..PER_KIND {
            let name = format!("nightly-{i:03}");
            let spec = served::spec(kind, &format!("instance-{i}"), i);
            let obj = served::served(kind, NS, &name, spec, Some(served::succeeded(kind, i)));
            h.api.put(&object_path(API_VERSION, plural, NS, &name), obj);
        }
    }
    check::<DcsBackup>(&h, "dcsbackups", cached::<DcsBackup>(&h).await);
    check::<DcsRestore>(&h, "dcsrestores", cached::<DcsRestore>(&h).await);
    check::<DdsBackup>(&h, "ddsbackups", cached::<DdsBackup>(&h).await);
    check::<TaurusDbBackup>(&h, "taurusdbbackups", cached::<TaurusDbBackup>(&h).await);
}

/// A backup with `deletionPolicy: Delete` and a restore waiting for it, applied with kubectl
/// (managedFields, last-applied annotation, labels), go through every step under the real runner:
/// finalizer (resourceVersion precondition), create marker, create, poll, restore after the backup
/// (creation time), deletion with cleanup of the cloud backup.
#[tokio::test]
async fn stripped_objects_go_through_every_step_of_the_real_controllers() {
    let h = Harness::new().await;
    let running = h.run_controllers(2);
    let backup = object_path(API_VERSION, "dcsbackups", NS, "applied");
    let spec = json!({"instanceId": "dcs-strip", "deletionPolicy": "Delete"});
    h.api.put(
        &backup,
        served::served("DcsBackup", NS, "applied", spec, None),
    );
    let restore = object_path(API_VERSION, "dcsrestores", NS, "applied-restore");
    let spec = json!({"instanceId": "dcs-strip", "backupRef": {"name": "applied"}});
    h.api.put(
        &restore,
        served::served("DcsRestore", NS, "applied-restore", spec, None),
    );
    h.wait_until(
        Duration::from_secs(30),
        "backup and restore Succeeded",
        |h| {
            [&backup, &restore]
                .iter()
                .all(|p| h.status(p).phase == Some(Phase::Succeeded))
        },
    )
    .await;
    let stored = h.api.get(&backup).expect("stored");
    assert_eq!(
        stored["metadata"]["finalizers"],
        json!(["backup.hwcloud.dev/cleanup"])
    );
    assert!(
        !stored["metadata"]["annotations"][LAST_APPLIED].is_null(),
        "the server's copy is untouched"
    );
    h.api.delete(&backup);
    h.wait_until(Duration::from_secs(30), "the backup resource gone", |h| {
        h.api.get(&backup).is_none()
    })
    .await;
    running.stop().await;
    assert_eq!(h.cloud_calls("create_backup"), 1);
    assert_eq!(
        h.cloud_calls("delete_backup"),
        1,
        "cleanup deleted the cloud backup"
    );
}

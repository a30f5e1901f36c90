//! The stripped object is the served one minus managedFields, labels and annotations, field for
//! field; an object that does not deserialise is stripped too.

use kube::core::DeserializeGuard;
use serde_json::{Value, json};

use kube::ResourceExt;

use super::*;
use crate::crd::{DcsBackup, DcsRestore};

/// A DcsBackup as the API server serves it after `kubectl apply`, a schedule's labels, the
/// cleanup finalizer, a deletion and the operator's status writes.
fn served() -> Value {
    let spec = json!({"instanceId": "3d7a1c0e-5b8f-4d2a-9c61-000000000001", "remark": "nightly",
        "deletionPolicy": "Delete"});
    json!({
        "apiVersion": "backup.hwcloud.dev/v1alpha1", "kind": "DcsBackup",
        "metadata": {
            "name": "nightly-1", "namespace": "team-a", "uid": "0d9c5f3e-1111-4a2b-9c3d-000000000001",
            "resourceVersion": "1000001", "generation": 2,
            "creationTimestamp": "2026-01-02T03:00:00Z", "deletionTimestamp": "2026-01-03T03:00:00Z",
            "deletionGracePeriodSeconds": 0,
            "finalizers": ["backup.hwcloud.dev/cleanup"],
            "labels": {"app.kubernetes.io/part-of": "orders", "backup.hwcloud.dev/schedule": "nightly",
                "backup.hwcloud.dev/shard": "a"},
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json!({"spec": spec}).to_string(),
                "backup.hwcloud.dev/scheduled-time": "2026-01-02T03:00:00Z",
                "argocd.argoproj.io/tracking-id": "orders:backup.hwcloud.dev/DcsBackup:team-a/nightly-1",
            },
            "managedFields": [
                {"manager": "kubectl-client-side-apply", "operation": "Update",
                 "apiVersion": "backup.hwcloud.dev/v1alpha1", "time": "2026-01-02T03:00:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:instanceId": {}, "f:remark": {}}}},
                {"manager": "hwcloud-backup-operator", "operation": "Apply", "subresource": "status",
                 "apiVersion": "backup.hwcloud.dev/v1alpha1", "time": "2026-01-02T03:02:07Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:phase": {}}}},
            ],
        },
        "spec": spec,
        "status": {"phase": "Succeeded", "backupId": "9a0e1b2c-3d4e-4f60-8a7b-000000000001",
            "cloudStatus": "succeed", "startedAt": "2026-01-02T03:00:01Z",
            "completedAt": "2026-01-02T03:02:07Z", "sizeBytes": 5242880, "observedGeneration": 2,
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "done",
                "lastTransitionTime": "2026-01-02T03:02:07Z", "observedGeneration": 2}]},
    })
}

fn stripped<K: Resource + serde::de::DeserializeOwned>(v: Value) -> K {
    let mut obj: K = serde_json::from_value(v).expect("deserialises");
    strip(&mut obj);
    obj
}

#[test]
fn the_stripped_object_is_the_served_one_without_what_no_controller_reads() {
    let obj: DeserializeGuard<DcsBackup> = stripped(served());
    let mut expected = served();
    let meta = expected["metadata"].as_object_mut().unwrap();
    meta.remove("managedFields");
    meta.remove("labels");
    meta.remove("annotations");
    let expected: DcsBackup = serde_json::from_value(expected).unwrap();
    let got = obj.0.as_ref().expect("a valid object");
    assert_eq!(
        serde_json::to_value(got).unwrap(),
        serde_json::to_value(&expected).unwrap(),
        "everything else is kept as served"
    );
    assert!(is_stripped(got));
}

#[test]
fn what_the_reconcilers_read_survives_stripping() {
    let obj: DcsBackup = stripped(served());
    assert_eq!(obj.name_any(), "nightly-1");
    assert_eq!(obj.namespace().as_deref(), Some("team-a"));
    assert_eq!(
        obj.uid().as_deref(),
        Some("0d9c5f3e-1111-4a2b-9c3d-000000000001")
    );
    assert_eq!(obj.resource_version().as_deref(), Some("1000001"));
    assert_eq!(obj.meta().generation, Some(2));
    assert_eq!(obj.finalizers(), ["backup.hwcloud.dev/cleanup"]);
    assert!(obj.meta().deletion_timestamp.is_some());
    assert!(obj.meta().creation_timestamp.is_some());
    assert_eq!(obj.spec.instance_id, "3d7a1c0e-5b8f-4d2a-9c61-000000000001");
    let status = obj.status.as_ref().expect("status kept");
    assert_eq!(
        status.backup_id.as_deref(),
        Some("9a0e1b2c-3d4e-4f60-8a7b-000000000001")
    );
    assert_eq!(status.conditions.len(), 1);
    assert!(obj.managed_fields().is_empty());
    assert!(
        !obj.annotations()
            .contains_key("kubectl.kubernetes.io/last-applied-configuration")
    );
}

#[test]
fn an_object_that_does_not_deserialise_is_stripped_too() {
    let mut v = served();
    v["kind"] = json!("DcsRestore");
    v["spec"] = json!({"instanceId": 42});
    let obj: DeserializeGuard<DcsRestore> = stripped(v);
    let invalid = obj.0.as_ref().expect_err("invalid spec");
    assert_eq!(invalid.metadata.name.as_deref(), Some("nightly-1"));
    assert_eq!(invalid.metadata.managed_fields, None);
    assert!(is_stripped(&obj));
}

#[test]
fn a_final_status_is_cached_without_what_only_people_read() {
    for phase in ["Succeeded", "Failed"] {
        let mut v = served();
        v["status"]["phase"] = json!(phase);
        v["status"]["message"] = json!("backup 9a0e1b2c completed");
        v["status"]["size"] = json!("5.0 MiB");
        v["status"]["progress"] = json!(100.0);
        v["status"]["jobId"] = json!("7c8d9e0f-1a2b-4c3d-8e4f-000000000001");
        v["status"]["restoreId"] = json!("5e6f7a8b-9c0d-4e1f-a2b3-000000000001");
        v["status"]["createRequestedAt"] = json!("2026-01-02T03:00:00Z");
        v["status"]["notListed"] = json!({"since": "2026-01-02T03:01:00Z", "count": 1});
        let mut obj: DeserializeGuard<DcsBackup> = stripped(v.clone());
        trim_final_status(&mut obj);
        let got = obj.0.as_ref().expect("a valid object");
        // Everything but the four fields people read, as served.
        let mut want = v.clone();
        let status = want["status"].as_object_mut().unwrap();
        for dropped in ["message", "conditions", "cloudStatus", "size"] {
            assert!(status.remove(dropped).is_some(), "{dropped} was served");
        }
        let want: DcsBackup = stripped(want);
        assert_eq!(got.status, want.status, "{phase}");
        assert_eq!(got.spec, want.spec);
        assert_eq!(got.metadata, want.metadata);
    }
}

#[test]
fn what_the_reconcilers_read_of_a_final_resource_survives_trimming() {
    let mut obj: DeserializeGuard<DcsBackup> = stripped(served());
    trim_final_status(&mut obj);
    let got = obj.0.as_ref().expect("a valid object");
    let s = got.status.as_ref().expect("status kept");
    let whole: DcsBackup = serde_json::from_value(served()).unwrap();
    let w = whole.status.as_ref().unwrap();
    // The plan (phase, ids, create marker), cleanup (ids, marker), housekeeping (phase, completion).
    assert!(s.is_terminal());
    assert_eq!(s.phase, w.phase);
    assert_eq!(s.backup_id, w.backup_id);
    assert_eq!(s.restore_id, w.restore_id);
    assert_eq!(s.job_id, w.job_id);
    assert_eq!(s.create_requested_at, w.create_requested_at);
    assert_eq!(s.completed_at, w.completed_at);
    assert_eq!(s.started_at, w.started_at);
    assert_eq!(s.size_bytes, w.size_bytes);
    assert_eq!(s.observed_generation, w.observed_generation);
    assert_eq!(got.spec, whole.spec);
}

#[test]
fn a_status_in_progress_is_cached_whole() {
    for phase in [None, Some("Pending"), Some("Running")] {
        let mut v = served();
        match phase {
            Some(p) => v["status"]["phase"] = json!(p),
            None => {
                v["status"].as_object_mut().unwrap().remove("phase");
            }
        }
        v["status"]["message"] = json!("waiting for the cloud to list the new operation");
        v["status"]["createRequestedAt"] = json!("2026-01-02T03:00:00Z");
        let mut obj: DeserializeGuard<DcsBackup> = stripped(v.clone());
        trim_final_status(&mut obj);
        let want: DcsBackup = stripped(v);
        assert_eq!(
            obj.0.as_ref().unwrap().status,
            want.status,
            "phase {phase:?}"
        );
    }
}

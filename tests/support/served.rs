//! Objects as a real API server serves them after `kubectl apply` and the operator's status writes:
//! two managedFields entries (kubectl's, and the operator's status apply), the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, two labels and a finished status.
//! Tests of the trimmed caches and the footprint benchmark store these in the fake API server.
#![allow(dead_code)]

use serde_json::{Map, Value, json};

pub const API_VERSION: &str = "backup.hwcloud.dev/v1alpha1";
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// A label of the operator's own domain (a schedule's child carries it) and a foreign one.
pub const OWN_LABEL: (&str, &str) = ("backup.hwcloud.dev/schedule", "nightly");
pub const FOREIGN_LABEL: (&str, &str) = ("app.kubernetes.io/part-of", "orders");

/// `kind`/`name` in `ns` with `spec` (and `status` when given), as served.
pub fn served(kind: &str, ns: &str, name: &str, spec: Value, status: Option<Value>) -> Value {
    let labels = json!({FOREIGN_LABEL.0: FOREIGN_LABEL.1, OWN_LABEL.0: OWN_LABEL.1});
    let applied = json!({"apiVersion": API_VERSION, "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": spec});
    let mut managed = vec![json!({
        "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": API_VERSION,
        "time": "2026-01-02T03:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {
            "f:annotations": {".": {}, format!("f:{LAST_APPLIED}"): {}},
            "f:labels": {".": {}, format!("f:{}", FOREIGN_LABEL.0): {}, format!("f:{}", OWN_LABEL.0): {}}},
            "f:spec": fields(&spec)}})];
    if let Some(status) = &status {
        managed.push(json!({
            "manager": "hwcloud-backup-operator", "operation": "Apply", "apiVersion": API_VERSION,
            "time": "2026-01-02T03:02:07Z", "fieldsType": "FieldsV1", "subresource": "status",
            "fieldsV1": {"f:status": fields(status)}}));
    }
    let mut obj = json!({
        "apiVersion": API_VERSION, "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels,
            "annotations": {LAST_APPLIED: applied.to_string()}, "managedFields": managed},
        "spec": spec,
    });
    if let Some(status) = status {
        obj["status"] = status;
    }
    obj
}

/// `{"f:key": {}}` for every key of `v`, as managedFields record them.
fn fields(v: &Value) -> Value {
    let m: Map<String, Value> = v
        .as_object()
        .map(|m| m.keys().map(|k| (format!("f:{k}"), json!({}))).collect())
        .unwrap_or_default();
    Value::Object(m)
}

/// The status the operator writes when a backup or restore of `kind` succeeded (ids from `i`).
pub fn succeeded(kind: &str, i: usize) -> Value {
    let backup_id = format!("9a0e1b2c-3d4e-4f60-8a7b-{i:012}");
    let message = format!("backup {backup_id} completed");
    let mut status = json!({
        "phase": "Succeeded", "backupId": backup_id, "cloudStatus": "succeed", "progress": 100.0,
        "startedAt": "2026-01-02T03:00:01Z", "completedAt": "2026-01-02T03:02:07Z",
        "sizeBytes": 5_242_880, "size": "5.0 MiB", "message": message, "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": message,
            "lastTransitionTime": "2026-01-02T03:02:07Z", "observedGeneration": 1}],
    });
    match kind {
        "DcsRestore" => status["restoreId"] = json!(format!("5e6f7a8b-9c0d-4e1f-a2b3-{i:012}")),
        "DdsBackup" | "TaurusDbBackup" => {
            status["jobId"] = json!(format!("7c8d9e0f-1a2b-4c3d-8e4f-{i:012}"));
            status["cloudStatus"] = json!("Completed");
        }
        _ => {}
    }
    status
}

/// A spec of `kind` on `instance` like the ones teams apply (a remark, a timeout).
pub fn spec(kind: &str, instance: &str, i: usize) -> Value {
    match kind {
        "DcsBackup" => json!({"instanceId": instance, "remark": "nightly backup",
            "backupFormat": "rdb", "timeout": "30m"}),
        "DcsRestore" => json!({"instanceId": instance,
            "backupId": format!("9a0e1b2c-3d4e-4f60-8a7b-{i:012}")}),
        _ => json!({"instanceId": instance, "description": "nightly backup", "timeout": "1h"}),
    }
}

/// The four kinds with their plurals.
pub const KINDS: [(&str, &str); 4] = [
    ("DcsBackup", "dcsbackups"),
    ("DcsRestore", "dcsrestores"),
    ("DdsBackup", "ddsbackups"),
    ("TaurusDbBackup", "taurusdbbackups"),
];

//! Scenario 3a: resident memory of what the operator keeps per tracked resource.
//!
//! Each size runs in a fresh child process (so memory freed by an earlier step cannot hide growth).
//! The child builds a context and warms it up with one backup per kind against the simulator (HTTP
//! clients, project lookup, token), then reads VmRSS before and after each step:
//! - the controller store: N objects per kind held as `Vec<Arc<K>>`, deserialised from JSON as the
//!   API server serves them after `kubectl apply` and the operator's status writes (a Succeeded
//!   status, the `last-applied-configuration` annotation, two managedFields entries), and once more
//!   for DcsBackup without managedFields and that annotation;
//! - the operator's own state: a learned duration per (kind, instance) for N instances, N instance
//!   claims, and coalesced DCS list results of N/10 instances with 10 records each.
//!
//! Not included: kube-runtime's scheduler and runner entries (a few words per object), the watch
//! connections' buffers, and the simulator and fake API server (in this process, but unchanged
//! between the readings).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::dcs::DcsBackupRecord;
use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore, DdsBackup, TaurusDbBackup};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::report::{Table, rss_kib};
use crate::runtime::{Mode, New, drive_all};
use crate::world::{Kind, Timing, world};

/// Runs one child per size and prints their rows as one table.
pub fn run(sizes: &[usize]) {
    let mut t = Table::new(
        "Resident memory (VmRSS delta; each size in a fresh process)",
        &["N", "what", "delta KiB", "KiB per 1,000"],
    );
    let exe = std::env::current_exe().expect("own path");
    for n in sizes {
        let out = Command::new(&exe)
            .args(["__footprint", &n.to_string()])
            .output()
            .expect("child runs");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(row) = line.strip_prefix("ROW|") {
                t.row(row.split('|').map(String::from).collect());
            }
        }
        if !out.status.success() {
            eprintln!(
                "footprint child for {n} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    t.print();
}

/// The child: measures one size and prints `ROW|...` lines.
pub async fn child(n: usize) {
    let h = world(Timing {
        backup: Duration::from_millis(200),
    })
    .await;
    for k in Kind::ALL {
        let new = New {
            kind: k.name(),
            plural: k.plural(),
            name: "warm-up".into(),
            spec: k.spec(&k.instance(0)),
            at: Instant::now(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        match k {
            Kind::Dcs => drive_all::<DcsBackup>(&h, vec![new], Mode::Requeue, deadline).await,
            Kind::Dds => drive_all::<DdsBackup>(&h, vec![new], Mode::Requeue, deadline).await,
        };
    }
    let mut last = rss_kib();
    let mut report = |what: &str, count: usize| {
        let now = rss_kib();
        let delta = now.saturating_sub(last);
        println!(
            "ROW|{n}|{what}|{delta}|{:.0}",
            delta as f64 * 1000.0 / count.max(1) as f64
        );
        last = now;
    };
    let dcs: Vec<Arc<DcsBackup>> = objects(n, "DcsBackup", "dcsbackups", true);
    report("store: DcsBackup", n);
    let restores: Vec<Arc<DcsRestore>> = objects(n, "DcsRestore", "dcsrestores", true);
    report("store: DcsRestore", n);
    let dds: Vec<Arc<DdsBackup>> = objects(n, "DdsBackup", "ddsbackups", true);
    report("store: DdsBackup", n);
    let taurus: Vec<Arc<TaurusDbBackup>> = objects(n, "TaurusDbBackup", "taurusdbbackups", true);
    report("store: TaurusDbBackup", n);
    let bare: Vec<Arc<DcsBackup>> = objects(n, "DcsBackup", "dcsbackups", false);
    report("store: DcsBackup without managedFields", n);
    for i in 0..n {
        let took = Duration::from_millis(120_000 + i as u64);
        h.ctx.scheduler.record("dcsbackup", &instance(i), took);
    }
    report("scheduler: learned durations", n);
    for i in 0..n {
        let owner = format!("DcsBackup/team-a/nightly-{i:06}");
        let _ = h.ctx.locks.try_claim(&instance(i), &owner);
    }
    report("instance claims", n);
    for i in 0..n / 10 {
        let records: Vec<DcsBackupRecord> = (0..10).map(|j| record(i, j)).collect();
        let key = (0x5eed_u64, instance(i));
        let _ = h
            .ctx
            .dcs_backups
            .get_or_fetch(&key, None, || async { Ok::<_, ()>(records) })
            .await;
    }
    report("DCS list cache (records)", n);
    std::hint::black_box((dcs, restores, dds, taurus, bare));
}

fn instance(i: usize) -> String {
    format!("3d7a1c0e-5b8f-4d2a-9c61-{i:012}")
}

fn record(i: usize, j: usize) -> DcsBackupRecord {
    DcsBackupRecord {
        backup_id: format!("9a0e1b2c-3d4e-4f60-8a7b-{:012}", i * 10 + j),
        instance_id: Some(instance(i)),
        status: "succeed".into(),
        progress: Some(100.0),
        size_bytes: Some(5 << 20),
        remark: Some(format!("nightly backup [k8s:0d9c5f3e11114a2b9c3d{i:012}]")),
        error_code: None,
        created_at: Some("2026-01-02T03:04:05Z".into()),
        updated_at: Some("2026-01-02T03:06:07Z".into()),
    }
}

/// N objects deserialised from what the API server would serve for them.
fn objects<K: DeserializeOwned>(n: usize, kind: &str, plural: &str, served: bool) -> Vec<Arc<K>> {
    (0..n)
        .map(|i| {
            let v = object_json(kind, plural, i, served);
            Arc::new(serde_json::from_value(v).expect("object deserialises"))
        })
        .collect()
}

fn object_json(kind: &str, plural: &str, i: usize, served: bool) -> Value {
    let name = format!("nightly-{}-{i:06}", plural.trim_end_matches('s'));
    let (spec, status) = spec_and_status(kind, i);
    let api_version = "backup.hwcloud.dev/v1alpha1";
    let mut meta = json!({
        "name": name, "namespace": "team-a",
        "uid": format!("0d9c5f3e-1111-4a2b-9c3d-{i:012}"),
        "resourceVersion": (1_000_000 + i).to_string(), "generation": 1,
        "creationTimestamp": "2026-01-02T03:00:00Z",
        "labels": {"app.kubernetes.io/part-of": "orders", "backup.hwcloud.dev/schedule": "nightly"},
    });
    if served {
        let applied = json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": "team-a"}, "spec": spec});
        meta["annotations"] =
            json!({"kubectl.kubernetes.io/last-applied-configuration": applied.to_string()});
        let spec_fields: serde_json::Map<String, Value> = spec
            .as_object()
            .map(|m| m.keys().map(|k| (format!("f:{k}"), json!({}))).collect())
            .unwrap_or_default();
        let status_fields: serde_json::Map<String, Value> = status
            .as_object()
            .map(|m| m.keys().map(|k| (format!("f:{k}"), json!({}))).collect())
            .unwrap_or_default();
        meta["managedFields"] = json!([
            {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": api_version,
             "time": "2026-01-02T03:00:00Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:annotations": {".": {},
                 "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                 "f:labels": {".": {}, "f:app.kubernetes.io/part-of": {}, "f:backup.hwcloud.dev/schedule": {}}},
                 "f:spec": spec_fields}},
            {"manager": "hwcloud-backup-operator", "operation": "Apply", "apiVersion": api_version,
             "time": "2026-01-02T03:02:07Z", "fieldsType": "FieldsV1", "subresource": "status",
             "fieldsV1": {"f:status": status_fields}},
        ]);
    }
    json!({"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec, "status": status})
}

fn spec_and_status(kind: &str, i: usize) -> (Value, Value) {
    let backup_id = format!("9a0e1b2c-3d4e-4f60-8a7b-{i:012}");
    let ready = json!([{"type": "Ready", "status": "True", "reason": "Succeeded",
        "message": format!("backup {backup_id} completed"),
        "lastTransitionTime": "2026-01-02T03:02:07Z", "observedGeneration": 1}]);
    let mut status = json!({
        "phase": "Succeeded", "backupId": backup_id, "cloudStatus": "succeed", "progress": 100.0,
        "startedAt": "2026-01-02T03:00:01Z", "completedAt": "2026-01-02T03:02:07Z",
        "sizeBytes": 5_242_880, "message": format!("backup {backup_id} completed"),
        "conditions": ready, "observedGeneration": 1,
    });
    let instance = instance(i);
    let spec = match kind {
        "DcsBackup" => json!({"instanceId": instance, "remark": "nightly backup",
            "backupFormat": "rdb", "timeout": "30m"}),
        "DcsRestore" => {
            status["restoreId"] = json!(format!("5e6f7a8b-9c0d-4e1f-a2b3-{i:012}"));
            json!({"instanceId": instance, "backupRef": {"name": format!("nightly-dcsbackup-{i:06}")}})
        }
        _ => {
            status["jobId"] = json!(format!("7c8d9e0f-1a2b-4c3d-8e4f-{i:012}"));
            status["cloudStatus"] = json!("Completed");
            json!({"instanceId": instance, "description": "nightly backup", "timeout": "1h"})
        }
    };
    (spec, status)
}

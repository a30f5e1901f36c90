//! The schedule tests' rig: the shared harness (fake API server + cloud simulator) with the
//! schedule clock set to a chosen time, schedules and children stored directly, and one reconcile
//! of a schedule at a time, each from a fresh controller context (as after a restart).

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::controller::backup_schedule::clock::Clock;
use hwcloud_backup_operator::controller::backup_schedule::reconcile::{
    ScheduleContext, reconcile_once,
};
use hwcloud_backup_operator::crd::backup_schedule::{SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION};
use hwcloud_backup_operator::crd::{BackupSchedule, BackupScheduleStatus};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::fake_api::object_path;
use crate::harness::{API_VERSION, Harness, NS};

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub fn schedule_path(name: &str) -> String {
    object_path(API_VERSION, "backupschedules", NS, name)
}

pub fn child_path(plural: &str, name: &str) -> String {
    object_path(API_VERSION, plural, NS, name)
}

/// Points the schedule clock at `now` (it then runs at real speed).
pub fn set_now(h: &mut Harness, now: &str) {
    Arc::get_mut(&mut h.ctx)
        .expect("no controller holds the context")
        .schedule_clock = Clock::scaled(ts(now), 1);
}

/// Stores a schedule created at `created` with `spec` (and `labels`); returns its path.
pub fn put_schedule(h: &Harness, name: &str, created: &str, spec: Value, labels: Value) -> String {
    let path = schedule_path(name);
    h.api.put(
        &path,
        json!({
            "apiVersion": API_VERSION, "kind": "BackupSchedule",
            "metadata": {"name": name, "namespace": NS, "creationTimestamp": created, "labels": labels},
            "spec": spec,
        }),
    );
    path
}

/// Stores a child of `schedule` for run time `at` with `phase` (`None`: no status yet).
pub fn put_child(
    h: &Harness,
    kind: &str,
    plural: &str,
    schedule: &str,
    at: &str,
    phase: Option<&str>,
) -> String {
    let stamp = ts(at).strftime("%Y%m%d%H%M").to_string();
    let name = format!("{schedule}-{stamp}");
    let path = child_path(plural, &name);
    let mut obj = json!({
        "apiVersion": API_VERSION, "kind": kind,
        "metadata": {
            "name": name, "namespace": NS,
            "labels": {SCHEDULE_LABEL: schedule},
            "annotations": {SCHEDULED_TIME_ANNOTATION: at},
        },
        "spec": {"instanceId": "redis-1", "deletionPolicy": "Delete"},
    });
    if let Some(p) = phase {
        obj["status"] = json!({"phase": p});
    }
    h.api.put(&path, obj);
    path
}

/// One reconcile of the stored schedule; panics on an error.
pub async fn step(h: &Harness, path: &str) -> Option<Duration> {
    try_step(h, path).await.expect("reconcile succeeds")
}

/// One reconcile of `obj` (as the cache holds it, maybe stale) with a controller context that lives
/// across reconciles.
pub async fn step_as(sctx: &ScheduleContext, obj: &Value) -> Option<Duration> {
    let obj: BackupSchedule = serde_json::from_value(obj.clone()).expect("deserialises");
    reconcile_once(&obj, sctx)
        .await
        .expect("reconcile succeeds")
}

/// Events published (created, or repeated as a series) so far.
pub fn publications(h: &Harness) -> usize {
    h.api
        .calls()
        .iter()
        .filter(|c| c.path.contains("/events"))
        .count()
}

pub async fn try_step(
    h: &Harness,
    path: &str,
) -> Result<Option<Duration>, hwcloud_backup_operator::controller::error::Error> {
    let obj: BackupSchedule =
        serde_json::from_value(h.api.get(path).expect("schedule exists")).expect("deserialises");
    reconcile_once(&obj, &ScheduleContext::new(h.ctx.clone())).await
}

pub fn schedule_status(h: &Harness, path: &str) -> BackupScheduleStatus {
    h.api
        .get(path)
        .and_then(|o| serde_json::from_value(o["status"].clone()).ok())
        .unwrap_or_default()
}

/// `(status, reason)` of condition `type_`.
pub fn condition(st: &BackupScheduleStatus, type_: &str) -> Option<(String, String)> {
    st.conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

/// Names of the stored objects of `plural` in the test namespace.
pub fn names(h: &Harness, plural: &str) -> Vec<String> {
    let prefix = child_path(plural, "");
    h.api
        .paths(&prefix)
        .into_iter()
        .map(|p| p[prefix.len()..].to_string())
        .collect()
}

/// Reasons of the events about `name`, in order.
pub fn events_for(h: &Harness, name: &str) -> Vec<String> {
    h.api
        .events()
        .iter()
        .filter(|e| e["regarding"]["name"] == name)
        .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The note of the first event about `name` with `reason`.
pub fn event_note(h: &Harness, name: &str, reason: &str) -> String {
    h.api
        .events()
        .iter()
        .find(|e| e["regarding"]["name"] == name && e["reason"] == reason)
        .and_then(|e| e["note"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no {reason} event for {name}: {:?}", events_for(h, name)))
}

/// Replaces the stored object's status (a previous operator's leftovers).
pub fn put_status(h: &Harness, path: &str, status: Value) {
    let mut obj = h.api.get(path).expect("object exists");
    obj["status"] = status;
    h.api.put(path, obj);
}

/// Edits the stored schedule's spec (as `kubectl apply` would: the generation moves).
pub fn edit_spec(h: &Harness, path: &str, edit: impl FnOnce(&mut Value)) {
    let mut obj = h.api.get(path).expect("object exists");
    edit(&mut obj["spec"]);
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    obj["metadata"]["generation"] = json!(generation + 1);
    h.api.put(path, obj);
}

/// A DCS template spec on `instance` (and the rest of a schedule spec).
pub fn dcs_schedule(schedule: &str, instance: &str) -> Value {
    json!({"schedule": schedule, "template": {"dcsBackup": {"instanceId": instance}}})
}

/// A schedule (no labels) whose last run was at `last`, as a previous operator left it; returns
/// its path.
pub fn schedule_last_run(
    h: &Harness,
    name: &str,
    created: &str,
    spec: Value,
    last: &str,
) -> String {
    let path = put_schedule(h, name, created, spec, json!({}));
    put_status(h, &path, json!({"lastScheduleTime": last}));
    path
}

/// The DCS schedule `nightly` (02:00 UTC on `redis-1`, created on 1 November) whose last run was
/// at `last`; returns its path.
pub fn nightly_last_run(h: &Harness, last: &str) -> String {
    let spec = dcs_schedule("0 2 * * *", "redis-1");
    schedule_last_run(h, "nightly", "2026-11-01T12:00:00Z", spec, last)
}

/// Names in `status.active`.
pub fn active(st: &BackupScheduleStatus) -> Vec<String> {
    st.active.iter().map(|r| r.name.clone()).collect()
}

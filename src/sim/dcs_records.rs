//! DCS backup and restore records as the list APIs render them, quirks included.

use std::time::Instant;

use serde_json::{Value, json};

use super::reply::{DCS_TIME, fmt_time};
use super::state::{DcsBackup, DcsRestore};
use super::timeline::Phase;

/// Size reported for every finished backup (5 MiB), in bytes as DCS reports it.
pub(crate) const BACKUP_SIZE_BYTES: i64 = 5 * 1024 * 1024;

fn progress(phase: Phase) -> String {
    match phase {
        Phase::Queued => "0.00".into(),
        Phase::Running(p) => format!("{p:.2}"),
        Phase::Done => "100.00".into(),
    }
}

/// A documented quirk: empty `error_code` and `period` come back as `{}`.
fn error_code(failed: bool, code: &str) -> Value {
    if failed { json!(code) } else { json!({}) }
}

/// A backup record with every documented field.
pub(crate) fn backup_json(b: &DcsBackup, now: Instant) -> Value {
    let status = b.status(now);
    let phase = b.timeline.phase(now);
    let created = fmt_time(b.timeline.started_at, DCS_TIME);
    let updated = match (b.deleted_at, phase) {
        (Some(t), _) => fmt_time(t, DCS_TIME),
        (None, Phase::Done) => fmt_time(b.timeline.ended_at(), DCS_TIME),
        (None, _) => created.clone(),
    };
    let finished_ok = phase == Phase::Done && !b.fails;
    json!({
        "backup_id": b.id,
        "period": {},
        "backup_name": b.name,
        "instance_id": b.instance_id,
        "size": if finished_ok { BACKUP_SIZE_BYTES } else { 0 },
        "backup_type": if b.auto { "auto" } else { "manual" },
        "created_at": created,
        "updated_at": updated,
        "progress": progress(phase),
        "error_code": error_code(status == "failed", "dcs.08.0002"),
        "remark": b.remark,
        "status": status,
        "is_support_restore": if status == "succeed" { "TRUE" } else { "FALSE" },
        "backup_format": b.format,
        "execution_at": created,
    })
}

/// A restore record; v1.0 adds the source instance fields its docs list.
pub(crate) fn restore_json(r: &DcsRestore, now: Instant, v1: bool) -> Value {
    let status = r.status(now);
    let phase = r.timeline.phase(now);
    let created = fmt_time(r.timeline.started_at, DCS_TIME);
    let updated = if phase == Phase::Done {
        fmt_time(r.timeline.ended_at(), DCS_TIME)
    } else {
        created.clone()
    };
    let mut v = json!({
        "backup_id": r.backup_id,
        "restore_id": r.id,
        "backup_name": r.backup_name,
        "updated_at": updated,
        "restore_remark": r.remark,
        "created_at": created,
        "progress": progress(phase),
        "error_code": error_code(status == "failed", "dcs.08.0007"),
        "restore_name": format!("restore_{}", fmt_time(r.timeline.started_at, "%Y%m%d%H%M%S")),
        "backup_remark": r.backup_remark,
        "status": status,
    });
    if v1 {
        v["sourceInstanceID"] = json!(r.instance_id);
        v["sourceInstanceName"] = json!(format!("dcs-{}", short(&r.instance_id)));
    }
    v
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

//! Simulated in-place restores of DDS and TaurusDB: the restore call (DDS `{source, target}`, 200;
//! TaurusDB flat, 202) and the restorable windows of a day (DDS key `restore_time`, TaurusDB
//! `restore_times`). A restore runs as a job and keeps its instance busy, as a backup does.
//!
//! The simulator's choices where the documents are silent:
//! - Without windows set by the test, an instance is restorable to any time of the last 7 days.
//! - A time outside every window, a backup that is not `COMPLETED` (`DBS.201208`), missing
//!   (`DBS.201214`) or of another instance than `source` (`DBS.280124`) answer 400.
//! - DDS takes `restore_time` as a string of milliseconds (its SDK and the OTC table), TaurusDB as
//!   an integer (its SDK); the other type is refused with `DBS.200001`.
//! - With `SimConfig::otc`, the TaurusDB calls answer 404 `APIGW.0101` (OTC documents neither).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::{Map, Value, json};

use super::dbs::{Answer, Fail, busy, fail, invalid};
use super::reply::{json_object, json_response, no_such_api};
use super::state::{DbRestore, DbService, Job, JobKind, Shared};
use super::timeline::Timeline;

/// How far back an instance without windows set is restorable.
const DEFAULT_DAYS: i64 = 7;

/// A restore request, read from either body.
struct Ask {
    target: String,
    source: String,
    backup_id: Option<String>,
    at_ms: Option<i64>,
}

/// `POST /v3/{pid}/instances/recovery`: `{source: {instance_id, type?, backup_id | restore_time},
/// target: {instance_id}}` -> 200 `{job_id}`.
pub(crate) async fn dds_recovery(State(sh): State<Arc<Shared>>, body: Bytes) -> Answer {
    let obj = json_object(&body).map_err(invalid)?;
    let part = |k: &str| match obj.get(k) {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(invalid(format!("{k} is required"))),
    };
    let (source, target) = (part("source")?, part("target")?);
    let ask = Ask {
        target: text(&target, "instance_id")?
            .ok_or_else(|| invalid("target.instance_id is required"))?,
        source: text(&source, "instance_id")?
            .ok_or_else(|| invalid("source.instance_id is required"))?,
        backup_id: text(&source, "backup_id")?,
        at_ms: match source.get("restore_time") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                s.parse()
                    .map_err(|_| invalid("restore_time must hold milliseconds"))?,
            ),
            Some(_) => return Err(invalid("restore_time must be a string")),
        },
    };
    // `type` may be omitted: then it is `backup`.
    let kind = text(&source, "type")?.unwrap_or_else(|| "backup".into());
    let job = start(&sh, DbService::Dds, &kind, ask)?;
    Ok(json_response(StatusCode::OK, json!({ "job_id": job })))
}

/// `POST /v3/{pid}/instances/restore`: `{source_instance_id, target_instance_id, type, backup_id |
/// restore_time}` -> 202 `{job_id}` (Huawei Cloud; the code is undocumented, any 2xx is success).
pub(crate) async fn taurus_restore(State(sh): State<Arc<Shared>>, body: Bytes) -> Answer {
    if sh.cfg.otc {
        return Ok(no_such_api());
    }
    let obj = json_object(&body).map_err(invalid)?;
    let required = |k: &str| text(&obj, k)?.ok_or_else(|| invalid(format!("{k} is required")));
    let ask = Ask {
        target: required("target_instance_id")?,
        source: required("source_instance_id")?,
        backup_id: text(&obj, "backup_id")?,
        at_ms: match obj.get("restore_time") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_i64()
                    .ok_or_else(|| invalid("restore_time must be an integer"))?,
            ),
            Some(_) => return Err(invalid("restore_time must be an integer")),
        },
    };
    let kind = required("type")?;
    let job = start(&sh, DbService::Taurus, &kind, ask)?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        json!({ "job_id": job }),
    ))
}

/// A string field; another type is a malformed request.
fn text(obj: &Map<String, Value>, k: &str) -> Result<Option<String>, Fail> {
    match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a non-empty string"))),
    }
}

/// Validates the request against the store and starts the restore job; its id.
fn start(sh: &Shared, service: DbService, kind: &str, ask: Ask) -> Result<String, Fail> {
    let now = Instant::now();
    let mut store = sh.lock();
    let pitr = match kind {
        "backup" => {
            let id = ask
                .backup_id
                .as_deref()
                .ok_or_else(|| invalid("backup_id is required"))?;
            let backup = store
                .db_backups
                .iter()
                .find(|b| {
                    b.service == service && b.id == id && b.listed(now) && b.deletion.is_none()
                })
                .ok_or_else(|| {
                    fail(
                        StatusCode::BAD_REQUEST,
                        "DBS.201214",
                        "The backup does not exist.",
                    )
                })?;
            if backup.instance_id != ask.source {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    "DBS.280124",
                    "Invalid backup: it is not a backup of the source instance.",
                ));
            }
            if backup.status(now) != "COMPLETED" {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    "DBS.201208",
                    "The operation is not allowed in the current backup status.",
                ));
            }
            false
        }
        "timestamp" => {
            let at = ask
                .at_ms
                .ok_or_else(|| invalid("restore_time is required"))?;
            let windows = windows_of(&store.restore_windows, &ask.source, Timestamp::now());
            if !windows.iter().any(|(a, b)| *a <= at && at <= *b) {
                return Err(invalid("restore_time is not in a restorable time range"));
            }
            true
        }
        other => return Err(invalid(format!("unknown type {other:?}"))),
    };
    if let Some(what) = store.db_busy(service, &ask.target, now) {
        return Err(busy(service, what));
    }
    let job = Job {
        service,
        id: uuid::Uuid::new_v4().to_string(),
        kind: JobKind::Restore { pitr },
        instance_id: ask.target.clone(),
        timeline: Timeline::start(store.backup_duration),
        fails: sh.is_failing(&ask.target),
    };
    let id = job.id.clone();
    store.jobs.push(job);
    store.db_restores.push(DbRestore {
        service,
        job_id: id.clone(),
        target: ask.target,
        source_instance: ask.source,
        backup_id: ask.backup_id.filter(|_| !pitr),
        restore_time_ms: ask.at_ms.filter(|_| pitr),
    });
    Ok(id)
}

/// The instance's windows (ms): those set by the test, else the last [`DEFAULT_DAYS`] up to `now`.
fn windows_of(
    set: &HashMap<String, Vec<(i64, i64)>>,
    instance: &str,
    now: Timestamp,
) -> Vec<(i64, i64)> {
    set.get(instance).cloned().unwrap_or_else(|| {
        let from = now - (DEFAULT_DAYS * 24).hours();
        vec![(from.as_millisecond(), now.as_millisecond())]
    })
}

/// `GET /v3/{pid}/instances/{iid}/restore-time?date=yyyy-mm-dd` on DDS: `{"restore_time": [...]}`.
/// `date` is mandatory (as OTC documents it).
pub(crate) async fn dds_windows(
    State(sh): State<Arc<Shared>>,
    Path((_pid, iid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let list = day_windows(&sh, &iid, &q)?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "restore_time": list }),
    ))
}

/// The same on TaurusDB: `{"restore_times": [...]}`; 404 `APIGW.0101` on OTC.
pub(crate) async fn taurus_windows(
    State(sh): State<Arc<Shared>>,
    Path((_pid, iid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    if sh.cfg.otc {
        return Ok(no_such_api());
    }
    let list = day_windows(&sh, &iid, &q)?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "restore_times": list }),
    ))
}

/// The windows of `iid` cut to the UTC day `date`, as `{start_time, end_time}` in ms.
fn day_windows(sh: &Shared, iid: &str, q: &HashMap<String, String>) -> Result<Vec<Value>, Fail> {
    let date: jiff::civil::Date = q
        .get("date")
        .ok_or_else(|| invalid("date is required"))?
        .parse()
        .map_err(|_| invalid("date must be yyyy-mm-dd"))?;
    let start = date
        .to_zoned(TimeZone::UTC)
        .map_err(|_| invalid("date out of range"))?
        .timestamp()
        .as_millisecond();
    let end = start + 24 * 3600 * 1000 - 1;
    let store = sh.lock();
    Ok(windows_of(&store.restore_windows, iid, Timestamp::now())
        .into_iter()
        .filter(|(a, b)| *a <= end && *b >= start)
        .map(|(a, b)| json!({ "start_time": a.max(start), "end_time": b.min(end) }))
        .collect())
}

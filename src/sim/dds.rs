//! Simulated DDS (MongoDB) APIs under `/dds`: backups (create, job status, list, delete), in-place
//! restores and their windows ([`restore`]), and the job list ([`job_list`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::auth;
use super::dbs::{self, Answer, NewBackup, fail, invalid};
use super::reply::{DDS_TIME, fmt_time, json_object, json_response, no_such_api};
use super::state::{DbBackup, DbService, Job, JobKind, Shared};
use super::timeline::Timeline;
use super::{job_list, restore};

/// Size reported for every finished backup: 5 MiB, in KB as DDS reports it.
const BACKUP_SIZE_KB: f64 = 5.0 * 1024.0;

const SVC: DbService = DbService::Dds;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v3/{pid}/backups", post(create_backup).get(list_backups))
        .route("/v3/{pid}/backups/{bid}", delete(delete_backup))
        .route("/v3/{pid}/jobs", get(get_job))
        .route("/v3/{pid}/instances/recovery", post(restore::dds_recovery))
        .route(
            "/v3/{pid}/instances/{iid}/restore-time",
            get(restore::dds_windows),
        )
        .route("/v3.1/{pid}/jobs", get(job_list::list_jobs))
        .fallback(|| async { no_such_api() })
        .layer(from_fn_with_state(shared.clone(), auth::require_project))
        .with_state(shared)
}

/// `{"backup": {"instance_id", "name", "description"}}` -> 200 `{job_id, backup_id}`.
async fn create_backup(State(sh): State<Arc<Shared>>, body: Bytes) -> Answer {
    let obj = json_object(&body).map_err(invalid)?;
    let Some(Value::Object(backup)) = obj.get("backup") else {
        return Err(invalid("backup is required"));
    };
    let field = |k: &str| backup.get(k).and_then(Value::as_str).unwrap_or_default();
    let created = dbs::create(
        &sh,
        SVC,
        NewBackup {
            instance_id: field("instance_id"),
            name: field("name"),
            description: field("description"),
        },
    )?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "job_id": created.job_id, "backup_id": created.id }),
    ))
}

async fn get_job(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    dbs::get_job(&sh, SVC, &q)
}

fn backup_json(b: &DbBackup, now: Instant) -> Value {
    let status = b.status(now);
    let done = b.timeline.done(now);
    json!({
        "id": b.id,
        "name": b.name,
        "instance_id": b.instance_id,
        "instance_name": dbs::instance_name(SVC, &b.instance_id),
        "datastore": { "type": "DDS-Community", "version": "4.0" },
        "type": if b.auto { "Auto" } else { "Manual" },
        "begin_time": fmt_time(b.timeline.started_at, DDS_TIME),
        "end_time": if done { json!(fmt_time(b.timeline.ended_at(), DDS_TIME)) } else { Value::Null },
        "status": status,
        "size": if done && !b.fails { BACKUP_SIZE_KB } else { 0.0 },
        "description": b.description,
    })
}

/// Filters `instance_id`, `backup_id`, `backup_name`; paging `offset` / `limit` (1-100).
async fn list_backups(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let (items, total) = dbs::list(&sh, SVC, &q, "backup_name")?;
    let now = Instant::now();
    let backups: Vec<Value> = items.iter().map(|b| backup_json(b, now)).collect();
    Ok(json_response(
        StatusCode::OK,
        json!({ "backups": backups, "total_count": total }),
    ))
}

/// Deletion runs as a job; meanwhile the backup is listed `DISABLED`, then it disappears.
async fn delete_backup(
    State(sh): State<Arc<Shared>>,
    Path((_pid, bid)): Path<(String, String)>,
) -> Answer {
    let now = Instant::now();
    let mut store = sh.lock();
    let duration = store.backup_duration / 2;
    let b = dbs::find_for_delete(&mut store.db_backups, SVC, &bid, now).ok_or_else(|| {
        fail(
            StatusCode::BAD_REQUEST,
            "DBS.201502",
            "The backup does not exist.",
        )
    })?;
    if !b.timeline.done(now) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "DBS.200019",
            "The backup is being created; try again later.",
        ));
    }
    let timeline = Timeline::start(duration);
    b.deletion = Some(timeline);
    let job = Job {
        service: SVC,
        id: uuid::Uuid::new_v4().to_string(),
        kind: JobKind::DeleteBackup,
        instance_id: b.instance_id.clone(),
        timeline,
        fails: false,
    };
    let job_id = job.id.clone();
    store.jobs.push(job);
    Ok(json_response(StatusCode::OK, json!({ "job_id": job_id })))
}

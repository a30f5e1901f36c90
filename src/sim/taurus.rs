//! Simulated TaurusDB (GaussDB for MySQL) APIs under `/taurus`: backups (create, job status, list,
//! delete) and in-place restores with their windows ([`restore`](super::restore)). Same model as DDS with its own shapes: 201 on create, `process` in jobs, sizes in MB,
//! synchronous delete.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::auth;
use super::dbs::{self, Answer, NewBackup, fail, invalid};
use super::reply::{OFFSET_TIME, fmt_time, json_object, json_response, no_such_api, str_field};
use super::restore;
use super::state::{DbBackup, DbService, Shared};
use super::timeline::Timeline;

/// Size reported for every finished backup: 5 MiB, in MB as TaurusDB reports it.
const BACKUP_SIZE_MB: f64 = 5.0;

const SVC: DbService = DbService::Taurus;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v3/{pid}/backups/create", post(create_backup))
        .route("/v3/{pid}/backups", get(list_backups))
        .route("/v3/{pid}/backups/{bid}", delete(delete_backup))
        .route("/v3/{pid}/jobs", get(get_job))
        .route("/v3/{pid}/instances/restore", post(restore::taurus_restore))
        .route(
            "/v3/{pid}/instances/{iid}/restore-time",
            get(restore::taurus_windows),
        )
        .fallback(|| async { no_such_api() })
        .layer(from_fn_with_state(shared.clone(), auth::require_project))
        .with_state(shared)
}

/// `{instance_id, name, description}` -> **201** `{backup: {...}, job_id}`.
async fn create_backup(State(sh): State<Arc<Shared>>, body: Bytes) -> Answer {
    let obj = json_object(&body).map_err(invalid)?;
    let field = |k: &str| str_field(&obj, k).map(Option::unwrap_or_default);
    let created = dbs::create(
        &sh,
        SVC,
        NewBackup {
            instance_id: field("instance_id").map_err(invalid)?,
            name: field("name").map_err(invalid)?,
            description: field("description").map_err(invalid)?,
        },
    )?;
    Ok(json_response(
        StatusCode::CREATED,
        json!({
            "backup": {
                "id": created.id,
                "name": created.name,
                "description": created.description,
                "begin_time": fmt_time(created.timeline.started_at, OFFSET_TIME),
                "status": "BUILDING",
                "type": "manual",
                "instance_id": created.instance_id,
            },
            "job_id": created.job_id,
        }),
    ))
}

async fn get_job(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    dbs::get_job(&sh, SVC, &q)
}

fn backup_json(b: &DbBackup, now: Instant) -> Value {
    let done = b.timeline.done(now);
    let minutes = b.timeline.duration.as_secs().div_ceil(60);
    json!({
        "id": b.id,
        "name": b.name,
        "begin_time": fmt_time(b.timeline.started_at, OFFSET_TIME),
        "end_time": if done { json!(fmt_time(b.timeline.ended_at(), OFFSET_TIME)) } else { Value::Null },
        "status": b.status(now),
        "take_up_time": if done { minutes } else { 0 },
        "type": if b.auto { "auto" } else { "manual" },
        "size": if done && !b.fails { BACKUP_SIZE_MB } else { 0.0 },
        "datastore": { "type": "gaussdb-mysql", "version": "8.0" },
        "instance_id": b.instance_id,
        "description": b.description,
    })
}

/// Filters `instance_id`, `backup_id`, `name`; paging `offset` / `limit` (1-100).
async fn list_backups(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let (items, total) = dbs::list(&sh, SVC, &q, "name")?;
    let now = Instant::now();
    let backups: Vec<Value> = items.iter().map(|b| backup_json(b, now)).collect();
    Ok(json_response(
        StatusCode::OK,
        json!({ "backups": backups, "total_count": total }),
    ))
}

/// Synchronous: the backup is gone at once. Backups still being made cannot be deleted.
async fn delete_backup(
    State(sh): State<Arc<Shared>>,
    Path((_pid, bid)): Path<(String, String)>,
) -> Answer {
    let now = Instant::now();
    let mut store = sh.lock();
    let b = dbs::find_for_delete(&mut store.db_backups, SVC, &bid, now).ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            "DBS.201010",
            "The backup does not exist.",
        )
    })?;
    if !b.timeline.done(now) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "DBS.201208",
            "The operation is not allowed in the current backup status.",
        ));
    }
    b.deletion = Some(Timeline::start(Duration::ZERO));
    Ok(json_response(
        StatusCode::OK,
        json!({ "backup_id": b.id, "backup_name": b.name }),
    ))
}

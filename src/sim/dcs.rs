//! Simulated DCS (Redis) backup and restore APIs, v2 and v1.0, under `/dcs`.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use serde_json::{Value, json};

use super::auth;
use super::dcs_records::{backup_json, restore_json};
use super::reply::{
    api_error, fmt_time, json_object, json_response, no_such_api, page, query_int, str_field,
};
use super::state::{Busy, DcsBackup, DcsRestore, Shared};
use super::timeline::Timeline;

type Params = Path<(String, String, String)>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/{ver}/{pid}/instances/{iid}/backups",
            post(create_backup).get(list_backups),
        )
        .route(
            "/{ver}/{pid}/instances/{iid}/backups/{bid}",
            delete(delete_backup),
        )
        .route(
            "/{ver}/{pid}/instances/{iid}/restores",
            post(create_restore).get(list_restores),
        )
        .fallback(|| async { no_such_api() })
        .layer(from_fn_with_state(shared.clone(), auth::require_project))
        .with_state(shared)
}

/// The two API generations differ in error shapes, paging and a few status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ver {
    V2,
    V1,
}

impl Ver {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "v2" => Some(Self::V2),
            "v1.0" => Some(Self::V1),
            _ => None,
        }
    }
}

/// v1.0 numeric code for a v2 code: `DCS.4086` -> `111400086`.
fn v1_code(code: &str) -> String {
    let n: u32 = code
        .strip_prefix("DCS.")
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    let n = if (4000..5000).contains(&n) {
        n - 4000
    } else {
        n
    };
    format!("1114{n:05}")
}

/// A DCS error answer, in the v2 or the v1.0 shape.
#[derive(Debug)]
enum Fail {
    Api {
        ver: Ver,
        status: StatusCode,
        code: &'static str,
        msg: String,
    },
    /// Neither `v2` nor `v1.0`: the gateway does not know the route.
    NoRoute,
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        match self {
            Self::NoRoute => no_such_api(),
            Self::Api {
                ver: Ver::V2,
                status,
                code,
                msg,
            } => api_error(status, code, &msg),
            Self::Api {
                ver: Ver::V1,
                status,
                code,
                msg,
            } => json_response(
                status,
                json!({ "error": { "code": v1_code(code), "message": msg } }),
            ),
        }
    }
}

type Answer = Result<Response, Fail>;

fn fail(ver: Ver, status: StatusCode, code: &'static str, msg: impl Into<String>) -> Fail {
    Fail::Api {
        ver,
        status,
        code,
        msg: msg.into(),
    }
}

fn invalid(ver: Ver, msg: impl Into<String>) -> Fail {
    fail(ver, StatusCode::BAD_REQUEST, "DCS.4000", msg)
}

fn busy(ver: Ver, b: Busy) -> Fail {
    let (code, msg) = match b {
        Busy::BackingUp => ("DCS.4096", "The instance is being backed up."),
        Busy::Restoring => ("DCS.4097", "The instance is being restored."),
    };
    fail(ver, StatusCode::BAD_REQUEST, code, msg)
}

fn single_node(ver: Ver) -> Fail {
    fail(
        ver,
        StatusCode::BAD_REQUEST,
        "DCS.4086",
        "only master standby instance is support this action",
    )
}

fn version(ver: &str) -> Result<Ver, Fail> {
    Ver::parse(ver).ok_or(Fail::NoRoute)
}

/// An optional string field of the body, `""` when absent.
fn opt_str(ver: Ver, obj: &serde_json::Map<String, Value>, name: &str) -> Result<String, Fail> {
    Ok(str_field(obj, name)
        .map_err(|m| invalid(ver, m))?
        .unwrap_or_default()
        .to_string())
}

async fn create_backup(
    State(sh): State<Arc<Shared>>,
    Path((ver, _pid, iid)): Params,
    body: Bytes,
) -> Answer {
    let ver = version(&ver)?;
    let obj = json_object(&body).map_err(|m| invalid(ver, m))?;
    let remark = opt_str(ver, &obj, "remark")?;
    // v1.0 has no format choice; v2 defaults to rdb.
    let format = match (ver, opt_str(ver, &obj, "backup_format")?.as_str()) {
        (Ver::V1, _) | (Ver::V2, "") => "rdb".to_string(),
        (Ver::V2, f @ ("rdb" | "aof")) => f.to_string(),
        (Ver::V2, _) => return Err(invalid(ver, "backup_format must be rdb or aof")),
    };
    if sh.cfg.single_node_instances.contains(&iid) {
        return Err(single_node(ver));
    }
    let fails = sh.is_failing(&iid);
    let mut store = sh.lock();
    if let Some(b) = store.dcs_busy(&iid, Instant::now()) {
        return Err(busy(ver, b));
    }
    let timeline = Timeline::start(store.backup_duration);
    let id = uuid::Uuid::new_v4().to_string();
    store.dcs_backups.push(DcsBackup {
        id: id.clone(),
        instance_id: iid,
        name: format!("backup_{}", fmt_time(timeline.started_at, "%Y%m%d%H%M%S")),
        remark,
        format,
        timeline,
        fails,
        deleted_at: None,
        auto: false,
    });
    Ok(json_response(StatusCode::OK, json!({ "backup_id": id })))
}

/// `(offset, limit)` from v2 `offset`/`limit` or v1.0 `start` (1-based)/`limit`.
fn paging(ver: Ver, q: &HashMap<String, String>) -> Result<(i64, i64), Fail> {
    let limit = query_int(q, "limit", 10, 1, 1000).map_err(|m| invalid(ver, m))?;
    let offset = match ver {
        Ver::V2 => query_int(q, "offset", 0, 0, i64::MAX).map_err(|m| invalid(ver, m))?,
        Ver::V1 => query_int(q, "start", 1, 1, i64::MAX).map_err(|m| invalid(ver, m))? - 1,
    };
    Ok((offset, limit))
}

/// Shared list logic: newest first, one page; v2 answers 204 with no body when nothing exists.
fn list_page(ver: Ver, total: usize, page: Vec<Value>, key: &str) -> Response {
    if total == 0 && ver == Ver::V2 {
        return StatusCode::NO_CONTENT.into_response();
    }
    json_response(StatusCode::OK, json!({ "total_num": total, key: page }))
}

async fn list_backups(
    State(sh): State<Arc<Shared>>,
    Path((ver, _pid, iid)): Params,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let ver = version(&ver)?;
    let (offset, limit) = paging(ver, &q)?;
    let now = Instant::now();
    let store = sh.lock();
    let mut all: Vec<&DcsBackup> = store
        .dcs_backups
        .iter()
        .filter(|b| b.instance_id == iid)
        .collect();
    all.sort_by_key(|b| Reverse(b.timeline.started));
    let items: Vec<Value> = page(&all, offset, limit)
        .into_iter()
        .map(|b| backup_json(b, now))
        .collect();
    Ok(list_page(ver, all.len(), items, "backup_record_response"))
}

async fn delete_backup(
    State(sh): State<Arc<Shared>>,
    Path((ver, _pid, iid, bid)): Path<(String, String, String, String)>,
) -> Answer {
    let ver = version(&ver)?;
    let now = Instant::now();
    let mut store = sh.lock();
    // The real DCS answers a DELETE of a backup it does not have (never made, or deleted already,
    // e.g. in the console or by the 24-backup rotation) with 400 `DCS.4031`, as observed against
    // the cloud (issue 8) and as TFHW treats it; the message is the simulator's own wording.
    let b = store
        .dcs_backups
        .iter_mut()
        .find(|b| b.id == bid && b.instance_id == iid && b.deleted_at.is_none())
        .ok_or_else(|| {
            fail(
                ver,
                StatusCode::BAD_REQUEST,
                "DCS.4031",
                "The backup does not exist or has been deleted.",
            )
        })?;
    if b.in_progress(now) {
        return Err(busy(ver, Busy::BackingUp));
    }
    b.deleted_at = Some(jiff::Timestamp::now());
    Ok(match ver {
        Ver::V2 => StatusCode::NO_CONTENT.into_response(),
        Ver::V1 => json_response(StatusCode::OK, json!({ "message": "" })),
    })
}

async fn create_restore(
    State(sh): State<Arc<Shared>>,
    Path((ver, _pid, iid)): Params,
    body: Bytes,
) -> Answer {
    let ver = version(&ver)?;
    let obj = json_object(&body).map_err(|m| invalid(ver, m))?;
    let backup_id = opt_str(ver, &obj, "backup_id")?;
    if backup_id.is_empty() {
        return Err(invalid(ver, "backup_id is required"));
    }
    let remark = opt_str(ver, &obj, "remark")?;
    if sh.cfg.single_node_instances.contains(&iid) {
        return Err(single_node(ver));
    }
    let fails = sh.is_failing(&iid);
    let now = Instant::now();
    let mut store = sh.lock();
    if let Some(b) = store.dcs_busy(&iid, now) {
        return Err(busy(ver, b));
    }
    let backup = store
        .dcs_backups
        .iter()
        .find(|b| b.id == backup_id && b.instance_id == iid && b.status(now) == "succeed")
        .ok_or_else(|| {
            fail(
                ver,
                StatusCode::BAD_REQUEST,
                "DCS.4087",
                "The backup is not in the succeed state and cannot be restored.",
            )
        })?;
    let restore = DcsRestore {
        id: uuid::Uuid::new_v4().to_string(),
        instance_id: iid,
        backup_id,
        backup_name: backup.name.clone(),
        backup_remark: backup.remark.clone(),
        remark,
        timeline: Timeline::start(store.backup_duration),
        fails,
    };
    let id = restore.id.clone();
    store.dcs_restores.push(restore);
    Ok(json_response(StatusCode::OK, json!({ "restore_id": id })))
}

async fn list_restores(
    State(sh): State<Arc<Shared>>,
    Path((ver, _pid, iid)): Params,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let ver = version(&ver)?;
    let (offset, limit) = paging(ver, &q)?;
    let now = Instant::now();
    let store = sh.lock();
    let mut all: Vec<&DcsRestore> = store
        .dcs_restores
        .iter()
        .filter(|r| r.instance_id == iid)
        .collect();
    all.sort_by_key(|r| Reverse(r.timeline.started));
    let items: Vec<Value> = page(&all, offset, limit)
        .into_iter()
        .map(|r| restore_json(r, now, ver == Ver::V1))
        .collect();
    Ok(list_page(ver, all.len(), items, "restore_record_response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_codes_follow_the_documented_pattern() {
        assert_eq!(v1_code("DCS.4086"), "111400086");
        assert_eq!(v1_code("DCS.4096"), "111400096");
        assert_eq!(v1_code("DCS.4031"), "111400031");
    }
}

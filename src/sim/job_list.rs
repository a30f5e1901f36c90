//! Simulated DDS job list, `GET /v3.1/{pid}/jobs` (Huawei Cloud documents it, OTC does not: with
//! `SimConfig::otc` it answers 404 `APIGW.0101`).
//!
//! Filters `name`, `status`, `id` and a creation window `start_time` / `end_time`
//! (`yyyy-mm-ddThh:mm:ss+0000`, each requiring the other, at most 30 days apart); paging `offset` /
//! `limit` (1-100). Newest first. Times are whole seconds, and jobs younger than the job
//! visibility delay are not listed yet, as with `GET /v3/{pid}/jobs?id=`.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::dbs::{Answer, Fail, instance_name, invalid};
use super::reply::{OFFSET_TIME, fmt_time, json_response, no_such_api, page, query_int};
use super::state::{DbService, Job, Shared};

/// The longest creation window one call may ask for.
const MAX_SPAN_SECS: i64 = 30 * 24 * 3600;

pub(crate) async fn list_jobs(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    if sh.cfg.otc {
        return Ok(no_such_api());
    }
    let offset = query_int(&q, "offset", 0, 0, i64::MAX).map_err(invalid)?;
    let limit = query_int(&q, "limit", 100, 1, 100).map_err(invalid)?;
    let window = creation_window(&q)?;
    let matches = |key: &str, value: &str| q.get(key).is_none_or(|want| want == value);
    let now = Instant::now();
    let store = sh.lock();
    let mut all: Vec<&Job> = store
        .jobs
        .iter()
        .filter(|j| j.service == DbService::Dds)
        .filter(|j| {
            now.saturating_duration_since(j.timeline.started) >= sh.cfg.job_visibility_delay
        })
        .filter(|j| matches("name", j.name()) && matches("id", &j.id))
        .filter(|j| matches("status", j.status(now)))
        .filter(|j| {
            let created = j.timeline.started_at.as_second();
            window.is_none_or(|(from, to)| from <= created && created <= to)
        })
        .collect();
    all.sort_by_key(|j| Reverse(j.timeline.started));
    let total = all.len();
    let jobs: Vec<Value> = page(&all, offset, limit)
        .into_iter()
        .map(|j| job_json(j, now))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({ "jobs": jobs, "total_count": total }),
    ))
}

/// `start_time` and `end_time` as Unix seconds, both or neither.
fn creation_window(q: &HashMap<String, String>) -> Result<Option<(i64, i64)>, Fail> {
    let parse = |k: &str| {
        q.get(k)
            .map(|raw| {
                jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", raw)
                    .and_then(|t| t.to_timestamp())
                    .map(Timestamp::as_second)
                    .map_err(|_| invalid(format!("{k} must be yyyy-mm-ddThh:mm:ssZ, e.g. +0000")))
            })
            .transpose()
    };
    match (parse("start_time")?, parse("end_time")?) {
        (None, None) => Ok(None),
        (Some(from), Some(to)) if from <= to && to - from <= MAX_SPAN_SECS => Ok(Some((from, to))),
        (Some(_), Some(_)) => Err(invalid("end_time must follow start_time within 30 days")),
        _ => Err(invalid("start_time and end_time must be given together")),
    }
}

fn job_json(j: &Job, now: Instant) -> Value {
    let status = j.status(now);
    let done = j.timeline.done(now);
    let progress = match j.timeline.phase(now) {
        super::timeline::Phase::Running(p) if !done => format!("{}%", p.floor()),
        _ => String::new(),
    };
    json!({
        "id": j.id,
        "name": j.name(),
        "instance_id": j.instance_id,
        "instance_name": instance_name(DbService::Dds, &j.instance_id),
        "status": status,
        "progress": progress,
        "fail_reason": if status == "Failed" { json!("Simulated failure.") } else { Value::Null },
        "created_at": fmt_time(j.timeline.started_at, OFFSET_TIME),
        "ended_at": if done { json!(fmt_time(j.timeline.ended_at(), OFFSET_TIME)) } else { json!("") },
    })
}

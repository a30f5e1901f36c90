//! Mechanics shared by the simulated DDS and TaurusDB APIs: validation, backup jobs, job lookup,
//! filtered listing. Each service renders its own JSON shapes around these.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::reply::{OFFSET_TIME, api_error, fmt_time, page, query_int};
use super::state::{Busy, DbBackup, DbService, Job, JobKind, Shared};
use super::timeline::{Phase, Timeline};

/// An error answer in the `{"error_code","error_msg"}` shape both services use.
#[derive(Debug)]
pub(crate) struct Fail {
    pub status: StatusCode,
    pub code: &'static str,
    pub msg: String,
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        api_error(self.status, self.code, &self.msg)
    }
}

pub(crate) type Answer = Result<Response, Fail>;

pub(crate) fn fail(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Fail {
    Fail {
        status,
        code,
        msg: msg.into(),
    }
}

/// Malformed requests (missing fields, bad paging).
pub(crate) fn invalid(msg: impl Into<String>) -> Fail {
    fail(StatusCode::BAD_REQUEST, "DBS.200001", msg)
}

/// 4 to 64 characters, starting with a letter; letters, digits, `-` and `_` only.
fn valid_name(name: &str) -> bool {
    let len = name.chars().count();
    (4..=64).contains(&len)
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// At most 256 characters, none of `>!<"&'=`.
fn valid_description(desc: &str) -> bool {
    desc.chars().count() <= 256 && !desc.chars().any(|c| ">!<\"&'=".contains(c))
}

/// What a create request asks for.
pub(crate) struct NewBackup<'a> {
    pub instance_id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
}

/// The instance runs another operation: DDS 403 `DBS.200019`; TaurusDB 409 `DBS.201205` for a
/// backup, 409 `DBS.200019` for anything else (a restore).
pub(crate) fn busy(service: DbService, what: Busy) -> Fail {
    match (service, what) {
        (DbService::Dds, _) => fail(
            StatusCode::FORBIDDEN,
            "DBS.200019",
            "Another operation is being performed on the instance.",
        ),
        (DbService::Taurus, Busy::BackingUp) => fail(
            StatusCode::CONFLICT,
            "DBS.201205",
            "A backup is being created for the instance.",
        ),
        (DbService::Taurus, Busy::Restoring) => fail(
            StatusCode::CONFLICT,
            "DBS.200019",
            "Another operation is being performed on the instance.",
        ),
    }
}

/// Validates and records a backup and the job that makes it; returns the new backup.
pub(crate) fn create(
    sh: &Shared,
    service: DbService,
    req: NewBackup<'_>,
) -> Result<DbBackup, Fail> {
    if req.instance_id.is_empty() {
        return Err(invalid("instance_id is required"));
    }
    if !valid_name(req.name) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "DBS.280277",
            "Invalid backup name: 4 to 64 characters, starting with a letter; letters, digits, hyphens and underscores only.",
        ));
    }
    if !valid_description(req.description) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "DBS.280127",
            "Invalid backup description: at most 256 characters and none of >!<\"&'=.",
        ));
    }
    let now = Instant::now();
    let fails = sh.is_failing(req.instance_id);
    let mut store = sh.lock();
    let taken = store
        .db_backups
        .iter()
        .any(|b| b.service == service && b.name == req.name && b.listed(now));
    if taken {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "DBS.201201",
            "The backup already exists.",
        ));
    }
    if let Some(what) = store.db_busy(service, req.instance_id, now) {
        return Err(busy(service, what));
    }
    let timeline = Timeline::start(store.backup_duration);
    let job = Job {
        service,
        id: uuid::Uuid::new_v4().to_string(),
        kind: JobKind::CreateBackup,
        instance_id: req.instance_id.to_string(),
        timeline,
        fails,
    };
    let backup = DbBackup {
        service,
        id: backup_id(service),
        instance_id: req.instance_id.to_string(),
        name: req.name.to_string(),
        description: req.description.to_string(),
        job_id: job.id.clone(),
        timeline,
        fails,
        deletion: None,
        auto: false,
    };
    store.jobs.push(job);
    store.db_backups.push(backup.clone());
    Ok(backup)
}

/// Backup ids carry the service's suffix, as real ones do (`...br02`, `...br07`).
pub(crate) fn backup_id(service: DbService) -> String {
    let suffix = match service {
        DbService::Dds => "br02",
        DbService::Taurus => "br07",
    };
    format!("{}{suffix}", uuid::Uuid::new_v4().simple())
}

/// Display name of an instance, derived from its id.
pub(crate) fn instance_name(service: DbService, instance_id: &str) -> String {
    let short = instance_id.get(..8).unwrap_or(instance_id);
    format!("{}-{short}", service.as_str())
}

/// A job's `progress` (DDS) / `process` (TaurusDB) figure: `"37%"` while running, else `""`.
fn job_progress(job: &Job, now: Instant) -> String {
    match (job.timeline.phase(now), job.status(now)) {
        (_, "Pending") | (Phase::Done, _) => String::new(),
        (Phase::Queued, _) => "0%".into(),
        (Phase::Running(p), _) => format!("{}%", p.floor()),
    }
}

/// `GET /v3/{pid}/jobs?id=`: unknown jobs answer 400 `DBS.200543`; jobs younger than the
/// visibility delay answer 404 with the same code, as new jobs lag behind in the real API.
pub(crate) fn get_job(sh: &Shared, service: DbService, q: &HashMap<String, String>) -> Answer {
    let id = q
        .get("id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid("id is required"))?;
    let now = Instant::now();
    let store = sh.lock();
    let not_found = |status| fail(status, "DBS.200543", "The job does not exist.");
    let job = store
        .jobs
        .iter()
        .find(|j| j.service == service && &j.id == id)
        .ok_or_else(|| not_found(StatusCode::BAD_REQUEST))?;
    if now.saturating_duration_since(job.timeline.started) < sh.cfg.job_visibility_delay {
        return Err(not_found(StatusCode::NOT_FOUND));
    }
    let status = job.status(now);
    let done = job.timeline.done(now);
    let name = job.name();
    let progress_key = match service {
        DbService::Dds => "progress",
        DbService::Taurus => "process",
    };
    let mut v = json!({
        "id": job.id,
        "name": name,
        "status": status,
        "created": fmt_time(job.timeline.started_at, OFFSET_TIME),
        "ended": if done { json!(fmt_time(job.timeline.ended_at(), OFFSET_TIME)) } else { Value::Null },
        progress_key: job_progress(job, now),
        "instance": { "id": job.instance_id, "name": instance_name(service, &job.instance_id) },
        "fail_reason": if status == "Failed" { json!("Simulated failure.") } else { Value::Null },
    });
    if service == DbService::Taurus {
        v["entities"] = json!({});
    }
    Ok(super::reply::json_response(
        StatusCode::OK,
        json!({ "job": v }),
    ))
}

/// Backups of one service matching the documented filters, newest first, one page; and the total.
/// `name_key` is the name filter (`backup_name` on DDS, `name` on TaurusDB).
pub(crate) fn list(
    sh: &Shared,
    service: DbService,
    q: &HashMap<String, String>,
    name_key: &str,
) -> Result<(Vec<DbBackup>, usize), Fail> {
    let offset = query_int(q, "offset", 0, 0, i64::MAX).map_err(invalid)?;
    let limit = query_int(q, "limit", 100, 1, 100).map_err(invalid)?;
    let matches = |key: &str, value: &str| q.get(key).is_none_or(|want| want == value);
    let now = Instant::now();
    let store = sh.lock();
    let mut all: Vec<&DbBackup> = store
        .db_backups
        .iter()
        .filter(|b| b.service == service && b.listed(now))
        .filter(|b| matches("instance_id", &b.instance_id))
        .filter(|b| matches("backup_id", &b.id))
        .filter(|b| matches(name_key, &b.name))
        .collect();
    all.sort_by_key(|b| Reverse(b.timeline.started));
    let items = page(&all, offset, limit).into_iter().cloned().collect();
    Ok((items, all.len()))
}

/// Finds a listed backup of this service for deletion.
pub(crate) fn find_for_delete<'a>(
    backups: &'a mut [DbBackup],
    service: DbService,
    id: &str,
    now: Instant,
) -> Option<&'a mut DbBackup> {
    backups
        .iter_mut()
        .find(|b| b.service == service && b.id == id && b.deletion.is_none() && b.listed(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        for ok in ["abcd", "a-b_c9", &"a".repeat(64)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["abc", "1abc", "-abc", "ab cd", "abcé", &"a".repeat(65), ""] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn description_rules() {
        assert!(valid_description(""));
        assert!(valid_description("nightly backup, before upgrade (v2)"));
        assert!(valid_description(&"x".repeat(256)));
        assert!(!valid_description(&"x".repeat(257)));
        for c in [">", "!", "<", "\"", "&", "'", "="] {
            assert!(!valid_description(&format!("a{c}b")), "{c}");
        }
    }
}

//! The DDS and TaurusDB restore shapes: what a restore is made from, the restorable windows of a
//! day, the created job, and the (DDS) job list entries.

use jiff::Timestamp;
use serde::Deserialize;

use super::error::Error;
use super::types::{OpView, job_state};
use super::wire::{Loose, Page, decode, missing};

/// What an in-place restore restores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreFrom {
    /// A backup of the target instance.
    Backup(String),
    /// The state of `source_instance` at `at` (point-in-time recovery).
    Time {
        source_instance: String,
        at: Timestamp,
    },
}

impl RestoreFrom {
    /// The `source.type` / `type` value of the restore bodies.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Backup(_) => "backup",
            Self::Time { .. } => "timestamp",
        }
    }
}

/// One restorable range of a day, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl RestoreWindow {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at <= self.end
    }
}

/// A job as the DDS job list (`GET /v3.1/{pid}/jobs`) reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedJob {
    pub id: String,
    pub name: String,
    pub instance_id: Option<String>,
    pub status: String,
    pub progress: Option<f64>,
    pub fail_reason: Option<String>,
    /// `created_at` (whole seconds, with an offset such as `+0800`); `None` when unreadable.
    pub created: Option<Timestamp>,
}

impl ListedJob {
    pub fn view(&self) -> OpView {
        OpView {
            state: job_state(&self.status),
            raw_status: self.status.clone(),
            progress: self.progress,
            size_bytes: None,
            message: self.fail_reason.clone(),
        }
    }
}

/// Job times are `yyyy-mm-ddThh:mm:ss` plus an offset written `+0800` (the list's filters take the
/// same form); an RFC 3339 offset (`+08:00`, `Z`) is read too.
pub(crate) fn parse_job_time(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t);
    }
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", raw)
        .ok()?
        .to_timestamp()
        .ok()
}

/// A time as the job list's `start_time` / `end_time` filters want it.
pub(crate) fn job_time(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S%z")
        .to_string()
}

#[derive(Deserialize)]
struct WireJobId {
    #[serde(default)]
    job_id: Loose,
}

/// `{job_id}` of a restore call.
pub(crate) fn parse_restore_job(
    service: &'static str,
    operation: &'static str,
    body: &[u8],
) -> Result<String, Error> {
    decode::<WireJobId>(service, operation, body)?
        .job_id
        .id()
        .ok_or_else(|| missing(service, operation, "job_id"))
}

#[derive(Deserialize)]
struct WireWindow {
    #[serde(default)]
    start_time: Loose,
    #[serde(default)]
    end_time: Loose,
}

#[derive(Deserialize)]
struct WireWindows {
    /// DDS.
    #[serde(default)]
    restore_time: Option<Vec<WireWindow>>,
    /// TaurusDB.
    #[serde(default)]
    restore_times: Option<Vec<WireWindow>>,
}

/// The windows under `key`: `restore_time` (DDS) or `restore_times` (TaurusDB). Each end is a Unix
/// time in milliseconds (a number, or a string holding one); a window without both is dropped.
pub(crate) fn parse_windows(
    service: &'static str,
    operation: &'static str,
    key: &str,
    body: &[u8],
) -> Result<Vec<RestoreWindow>, Error> {
    let w: WireWindows = decode(service, operation, body)?;
    let list = if key == "restore_times" {
        w.restore_times
    } else {
        w.restore_time
    };
    let ms = |v: &Loose| {
        v.number()
            .filter(|n| n.fract() == 0.0 && n.abs() < 1e15)
            .and_then(|n| Timestamp::from_millisecond(n as i64).ok())
    };
    Ok(list
        .unwrap_or_default()
        .iter()
        .filter_map(|w| {
            let (start, end) = (ms(&w.start_time)?, ms(&w.end_time)?);
            (start <= end).then_some(RestoreWindow { start, end })
        })
        .collect())
}

#[derive(Deserialize)]
struct WireJobList {
    #[serde(default)]
    jobs: Option<Vec<WireListedJob>>,
    #[serde(default)]
    total_count: Loose,
}

#[derive(Deserialize)]
struct WireListedJob {
    #[serde(default)]
    id: Loose,
    #[serde(default)]
    name: Loose,
    #[serde(default)]
    instance_id: Loose,
    #[serde(default)]
    status: Loose,
    #[serde(default)]
    progress: Loose,
    #[serde(default)]
    fail_reason: Loose,
    #[serde(default)]
    created_at: Loose,
}

/// `{jobs: [...], total_count}` of `GET /v3.1/{pid}/jobs`.
pub(crate) fn parse_job_list(
    service: &'static str,
    operation: &'static str,
    body: &[u8],
) -> Result<Page<ListedJob>, Error> {
    let list: WireJobList = decode(service, operation, body)?;
    let raw = list.jobs.unwrap_or_default();
    let raw_len = raw.len();
    let records = raw
        .into_iter()
        .filter_map(|j| {
            Some(ListedJob {
                id: j.id.id()?,
                name: j.name.text().unwrap_or_default(),
                instance_id: j.instance_id.text(),
                status: j.status.text().unwrap_or_default(),
                progress: j.progress.progress(),
                fail_reason: j.fail_reason.text(),
                created: j.created_at.text().and_then(|t| parse_job_time(&t)),
            })
        })
        .collect();
    Ok(Page {
        records,
        raw_len,
        total: list.total_count.count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::types::OpState;

    #[test]
    fn windows_under_each_services_key() {
        let dds = br#"{"restore_time":[{"start_time":1607731200000,"end_time":1607756414000},
            {"start_time":"1607760000000","end_time":"1607761000000"},{"start_time":5}]}"#;
        let w = parse_windows("dds", "restore_windows", "restore_time", dds).unwrap();
        assert_eq!(w.len(), 2, "a window without an end is dropped");
        assert_eq!(w[0].start.as_millisecond(), 1_607_731_200_000);
        assert!(w[0].contains(Timestamp::from_millisecond(1_607_756_414_000).unwrap()));
        assert!(!w[0].contains(Timestamp::from_millisecond(1_607_756_414_001).unwrap()));
        let taurus =
            br#"{"restore_times":[{"start_time":1672502400000,"end_time":1672506000000}]}"#;
        let t = parse_windows("taurus", "restore_windows", "restore_times", taurus).unwrap();
        assert_eq!(t.len(), 1);
        assert!(
            parse_windows("taurus", "restore_windows", "restore_times", dds)
                .unwrap()
                .is_empty(),
            "the DDS key is not TaurusDB's"
        );
        assert!(parse_windows("dds", "restore_windows", "restore_time", b"[]").is_err());
    }

    #[test]
    fn restore_answers_a_job_id() {
        let id = parse_restore_job("dds", "create_restore", br#"{"job_id":"j-1"}"#);
        assert_eq!(id.unwrap(), "j-1");
        assert!(parse_restore_job("dds", "create_restore", b"{}").is_err());
    }

    #[test]
    fn job_list_entries_and_times() {
        let body = br#"{"jobs":[{"id":"j1","name":"MongodbRestoreData2CurrentInstance",
            "instance_id":"i1","instance_name":"n","status":"Running","progress":"40%",
            "fail_reason":"","created_at":"2026-01-02T03:04:05+0800","ended_at":""}],"total_count":1}"#;
        let page = parse_job_list("dds", "list_jobs", body).unwrap();
        assert_eq!(page.total, Some(1));
        let j = &page.records[0];
        assert_eq!(j.progress, Some(40.0));
        assert_eq!(j.fail_reason, None);
        assert_eq!(j.view().state, OpState::InProgress);
        assert_eq!(
            j.created,
            Some("2026-01-01T19:04:05Z".parse().unwrap()),
            "the offset is honoured"
        );
        assert_eq!(
            job_time("2026-01-01T19:04:05.9Z".parse().unwrap()),
            "2026-01-01T19:04:05+0000"
        );
        assert_eq!(parse_job_time("garbage"), None);
    }
}

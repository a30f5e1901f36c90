//! The DDS and TaurusDB shapes they share: created backup ids, jobs and backup list entries.

use serde::Deserialize;

use super::error::Error;
use super::types::{OpView, db_backup_state, job_state};
use super::wire::{Loose, Page, decode, missing};

/// What a create-backup call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedBackup {
    pub backup_id: String,
    pub job_id: String,
}

/// A DDS/TaurusDB job (`Pending`, `Running`, `Completed`, `Failed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub status: String,
    pub progress: Option<f64>,
    pub fail_reason: Option<String>,
}

impl Job {
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

/// A DDS/TaurusDB backup list entry, size normalised to bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct DbBackup {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub instance_id: Option<String>,
    /// `BUILDING`, `COMPLETED`, `AVAILABLE`, `FAILED`, `DISABLED`.
    pub status: String,
    /// The list's `type`: `manual` / `auto` (full backups; DDS spells them `Manual` / `Auto`) or
    /// DDS `Incremental`.
    pub backup_type: Option<String>,
    pub size_bytes: Option<i64>,
    pub begin_time: Option<String>,
    pub end_time: Option<String>,
}

impl DbBackup {
    /// Listed `DISABLED`: being deleted (DDS runs the deletion as a job), so nothing is left to
    /// delete. A deleted backup is no longer listed at all.
    pub fn is_gone(&self) -> bool {
        self.status.eq_ignore_ascii_case("DISABLED")
    }

    pub fn view(&self) -> OpView {
        OpView {
            state: db_backup_state(&self.status),
            raw_status: self.status.clone(),
            progress: None,
            size_bytes: self.size_bytes,
            message: None,
        }
    }
}

#[derive(Deserialize)]
struct WireCreated {
    #[serde(default)]
    job_id: Loose,
    #[serde(default)]
    backup_id: Loose,
    #[serde(default)]
    backup: Option<WireId>,
}

#[derive(Deserialize)]
struct WireId {
    #[serde(default)]
    id: Loose,
}

/// DDS answers `{job_id, backup_id}`, TaurusDB `{backup: {id, ...}, job_id}`; either is read.
pub(crate) fn parse_created(
    service: &'static str,
    operation: &'static str,
    body: &[u8],
) -> Result<CreatedBackup, Error> {
    let w: WireCreated = decode(service, operation, body)?;
    let backup_id = w
        .backup_id
        .id()
        .or_else(|| w.backup.and_then(|b| b.id.id()))
        .ok_or_else(|| missing(service, operation, "backup id"))?;
    let job_id = w
        .job_id
        .id()
        .ok_or_else(|| missing(service, operation, "job_id"))?;
    Ok(CreatedBackup { backup_id, job_id })
}

#[derive(Deserialize)]
struct WireJobBody {
    #[serde(default)]
    job: Option<WireJob>,
}

#[derive(Deserialize)]
struct WireJob {
    #[serde(default)]
    id: Loose,
    #[serde(default)]
    status: Loose,
    /// DDS spells it `progress`, TaurusDB `process`.
    #[serde(default)]
    progress: Loose,
    #[serde(default)]
    process: Loose,
    #[serde(default)]
    fail_reason: Loose,
}

/// `{job: {...}}` of `GET /v3/{pid}/jobs?id=`.
pub(crate) fn parse_job(
    service: &'static str,
    operation: &'static str,
    job_id: &str,
    body: &[u8],
) -> Result<Job, Error> {
    let job = decode::<WireJobBody>(service, operation, body)?
        .job
        .ok_or_else(|| missing(service, operation, "job"))?;
    Ok(Job {
        id: job.id.id().unwrap_or_else(|| job_id.to_string()),
        status: job.status.text().unwrap_or_default(),
        progress: job.progress.progress().or_else(|| job.process.progress()),
        fail_reason: job.fail_reason.text(),
    })
}

#[derive(Deserialize)]
struct WireBackupList {
    #[serde(default)]
    backups: Option<Vec<WireBackup>>,
    #[serde(default)]
    total_count: Loose,
}

#[derive(Deserialize)]
struct WireBackup {
    #[serde(default)]
    id: Loose,
    #[serde(default)]
    name: Loose,
    #[serde(default)]
    description: Loose,
    #[serde(default)]
    instance_id: Loose,
    #[serde(default)]
    status: Loose,
    #[serde(default, rename = "type")]
    backup_type: Loose,
    #[serde(default)]
    size: Loose,
    #[serde(default)]
    begin_time: Loose,
    #[serde(default)]
    end_time: Loose,
}

/// `{backups: [...], total_count}`; `unit_bytes` is 1024 for DDS (KB) and 1024² for TaurusDB (MB).
pub(crate) fn parse_backup_list(
    service: &'static str,
    operation: &'static str,
    unit_bytes: i64,
    body: &[u8],
) -> Result<Page<DbBackup>, Error> {
    let list: WireBackupList = decode(service, operation, body)?;
    let raw = list.backups.unwrap_or_default();
    let raw_len = raw.len();
    let records = raw
        .into_iter()
        .filter_map(|b| {
            Some(DbBackup {
                id: b.id.id()?,
                name: b.name.text().unwrap_or_default(),
                description: b.description.text(),
                instance_id: b.instance_id.text(),
                status: b.status.text().unwrap_or_default(),
                backup_type: b.backup_type.text(),
                size_bytes: b.size.size_bytes(unit_bytes),
                begin_time: b.begin_time.text(),
                end_time: b.end_time.text(),
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
    use crate::cloud::wire::{KB, MB};

    #[test]
    fn created_backup_both_shapes() {
        let dds = parse_created(
            "dds",
            "create_backup",
            br#"{"job_id":"j1","backup_id":"b1"}"#,
        );
        assert_eq!(
            dds.unwrap(),
            CreatedBackup {
                backup_id: "b1".into(),
                job_id: "j1".into()
            }
        );
        let taurus = br#"{"backup":{"id":"b2","name":"n","description":"d","begin_time":"t",
            "status":"BUILDING","type":"manual","instance_id":"i"},"job_id":"j2"}"#;
        let t = parse_created("taurus", "create_backup", taurus).unwrap();
        assert_eq!((t.backup_id.as_str(), t.job_id.as_str()), ("b2", "j2"));
        for bad in [
            &br#"{"job_id":"j"}"#[..],
            br#"{"backup_id":"b"}"#,
            b"",
            b"[]",
        ] {
            assert!(matches!(
                parse_created("dds", "create_backup", bad),
                Err(Error::Decode { .. })
            ));
        }
    }

    #[test]
    fn dds_job_with_percent_progress() {
        let body = br#"{"job":{"id":"j1","name":"Create backup","status":"Running",
            "created":"2026-01-01T00:00:00+0000","ended":"","progress":"9%",
            "instance":{"id":"i","name":"n"},"fail_reason":""}}"#;
        let job = parse_job("dds", "get_job", "j1", body).unwrap();
        assert_eq!(job.progress, Some(9.0));
        assert_eq!(job.fail_reason, None);
        assert_eq!(job.view().state, OpState::InProgress);
        let failed = parse_job(
            "dds",
            "get_job",
            "j1",
            br#"{"job":{"id":"j1","status":"Failed","progress":"","fail_reason":"disk full"}}"#,
        )
        .unwrap();
        assert_eq!(failed.view().state, OpState::Failed);
        assert_eq!(failed.view().message.as_deref(), Some("disk full"));
        assert_eq!(failed.progress, None);
    }

    #[test]
    fn taurus_job_with_process_and_pending() {
        let body = br#"{"job":{"id":"j2","name":"CreateBackup","status":"Pending","created":"c",
            "ended":"","process":"30","instance":{"id":"i"},"entities":{},"fail_reason":null}}"#;
        let job = parse_job("taurus", "get_job", "j2", body).unwrap();
        assert_eq!(job.progress, Some(30.0));
        assert_eq!(job.view().state, OpState::InProgress);
        let done = parse_job(
            "taurus",
            "get_job",
            "j2",
            br#"{"job":{"status":"Completed"}}"#,
        )
        .unwrap();
        assert_eq!(done.id, "j2", "id defaults to the one asked for");
        assert_eq!(done.view().state, OpState::Succeeded);
        assert!(matches!(
            parse_job("taurus", "get_job", "j", b"{}"),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn backup_lists_normalise_sizes() {
        let dds = br#"{"backups":[{"id":"b1","name":"n1","instance_id":"i","instance_name":"x",
            "datastore":{"type":"DDS-Community","version":"4.0"},"type":"Manual",
            "begin_time":"2026-01-01 00:00:00","end_time":"2026-01-01 00:10:00",
            "status":"COMPLETED","size":2048,"description":"d"}],"total_count":1}"#;
        let page = parse_backup_list("dds", "list_backups", KB, dds).unwrap();
        assert_eq!(page.total, Some(1));
        let b = &page.records[0];
        assert_eq!(b.size_bytes, Some(2 * 1024 * 1024));
        assert_eq!(b.description.as_deref(), Some("d"));
        assert_eq!(b.backup_type.as_deref(), Some("Manual"));
        assert_eq!(b.begin_time.as_deref(), Some("2026-01-01 00:00:00"));
        assert_eq!(b.end_time.as_deref(), Some("2026-01-01 00:10:00"));
        assert_eq!(b.view().state, OpState::Succeeded);
        assert_eq!(b.view().size_bytes, Some(2_097_152));
        assert!(!b.is_gone());
        let disabled = DbBackup {
            status: "DISABLED".into(),
            ..b.clone()
        };
        assert!(disabled.is_gone(), "being deleted");

        let taurus = br#"{"backups":[{"id":"b2","name":"n2","status":"BUILDING","size":"1.5",
            "take_up_time":3,"type":"manual","datastore":{"type":"gaussdb-mysql"},
            "instance_id":"i"}],"total_count":"1"}"#;
        let page = parse_backup_list("taurus", "list_backups", MB, taurus).unwrap();
        assert_eq!(page.records[0].size_bytes, Some(1_572_864));
        assert_eq!(page.records[0].view().state, OpState::InProgress);
        assert_eq!(page.total, Some(1));

        let empty = parse_backup_list("dds", "list_backups", KB, br#"{"total_count":0}"#).unwrap();
        assert!(empty.records.is_empty());
        assert!(matches!(
            parse_backup_list("dds", "list_backups", KB, br#"{"backups":"x"}"#),
            Err(Error::Decode { .. })
        ));
    }
}

//! Operations that exist before a test starts: backups a cloud already made (history, as the list
//! APIs show it with their start and end times) or ones still running when the operator starts.
//! They are stored as if created `ago` with the given duration, so their times and status follow
//! the clock like any other.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::SimHandle;
use super::dbs::backup_id;
use super::state::{DbBackup, DbService, DcsBackup, Job, JobKind};
use super::timeline::Timeline;

/// Which DB service a seeded DDS or TaurusDB backup belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedService {
    Dds,
    Taurus,
}

fn timeline(ago: Duration, took: Duration) -> Timeline {
    let now = Instant::now();
    Timeline {
        started: now.checked_sub(ago).unwrap_or(now),
        started_at: Timestamp::now()
            .checked_sub(ago)
            .unwrap_or(Timestamp::UNIX_EPOCH),
        duration: took,
    }
}

impl SimHandle {
    /// A DCS backup of `instance` started `ago` that takes `took`; returns its id.
    pub fn seed_dcs_backup(
        &self,
        instance: &str,
        remark: &str,
        ago: Duration,
        took: Duration,
    ) -> String {
        let t = timeline(ago, took);
        let id = uuid::Uuid::new_v4().to_string();
        self.shared.lock().dcs_backups.push(DcsBackup {
            id: id.clone(),
            instance_id: instance.into(),
            name: format!("backup_{}", t.started_at.as_second()),
            remark: remark.into(),
            format: "rdb".into(),
            timeline: t,
            fails: false,
            deleted_at: None,
        });
        id
    }

    /// A DDS or TaurusDB backup of `instance` started `ago` that takes `took`, with its job;
    /// returns (backup id, job id).
    pub fn seed_db_backup(
        &self,
        service: SeedService,
        instance: &str,
        name: &str,
        ago: Duration,
        took: Duration,
    ) -> (String, String) {
        let service = match service {
            SeedService::Dds => DbService::Dds,
            SeedService::Taurus => DbService::Taurus,
        };
        let t = timeline(ago, took);
        let job = Job {
            service,
            id: uuid::Uuid::new_v4().to_string(),
            kind: JobKind::CreateBackup,
            instance_id: instance.into(),
            timeline: t,
            fails: false,
        };
        let backup = DbBackup {
            service,
            id: backup_id(service),
            instance_id: instance.into(),
            name: name.into(),
            description: String::new(),
            job_id: job.id.clone(),
            timeline: t,
            fails: false,
            deletion: None,
        };
        let ids = (backup.id.clone(), job.id.clone());
        let mut store = self.shared.lock();
        store.jobs.push(job);
        store.db_backups.push(backup);
        ids
    }
}

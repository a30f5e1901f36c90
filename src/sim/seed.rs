//! Operations that exist before a test starts: backups a cloud already made (history, as the list
//! APIs show it with its start and end times, manual or from the daily automatic backup) or ones
//! still running when the operator starts. They are stored as if created `ago` with the given
//! duration, so their times and status follow the clock like any other.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::SimHandle;
use super::dbs::backup_id;
use super::state::{DbBackup, DbService, DcsBackup};
use super::timeline::Timeline;

/// Which DB service a seeded DDS or TaurusDB backup belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedService {
    Dds,
    Taurus,
}

/// A day: the automatic backups' period.
const DAY: Duration = Duration::from_secs(24 * 3600);

fn timeline(ago: Duration, took: Duration) -> Timeline {
    let now = Instant::now();
    // The monotonic clock starts at boot: a start before it (a backup of last week on a machine
    // up for a day) is placed as far back as needed for the backup to have ended, which is all
    // its status depends on. The wall-clock times the lists show are exact either way.
    let started = now
        .checked_sub(ago)
        .or_else(|| now.checked_sub(took.min(ago)))
        .unwrap_or(now);
    Timeline {
        started,
        started_at: Timestamp::now()
            .checked_sub(ago)
            .unwrap_or(Timestamp::UNIX_EPOCH),
        duration: took,
    }
}

impl SimHandle {
    /// A manual DCS backup of `instance` started `ago` that takes `took`; returns its id.
    pub fn seed_dcs_backup(
        &self,
        instance: &str,
        remark: &str,
        ago: Duration,
        took: Duration,
    ) -> String {
        self.push_dcs(instance, remark, timeline(ago, took), false)
    }

    /// The automatic DCS backups of the last `days` days, one a day, each taking `took`, finished.
    pub fn seed_dcs_history(&self, instance: &str, days: u32, took: Duration) -> Vec<String> {
        (1..=days)
            .map(|d| self.push_dcs(instance, "", timeline(DAY * d, took), true))
            .collect()
    }

    fn push_dcs(&self, instance: &str, remark: &str, t: Timeline, auto: bool) -> String {
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
            auto,
        });
        id
    }

    /// The automatic DDS or TaurusDB backups of the last `days` days, one a day, each taking
    /// `took`, finished (the cloud runs them without a job the user could query).
    pub fn seed_db_history(
        &self,
        service: SeedService,
        instance: &str,
        days: u32,
        took: Duration,
    ) -> Vec<String> {
        let service = db_service(service);
        (1..=days)
            .map(|d| self.push_db_auto(service, instance, timeline(DAY * d, took)))
            .collect()
    }

    fn push_db_auto(&self, service: DbService, instance: &str, t: Timeline) -> String {
        let name = format!("{instance}-auto-{}", t.started_at.as_second());
        let backup = DbBackup {
            service,
            id: backup_id(service),
            instance_id: instance.into(),
            name,
            description: String::new(),
            job_id: String::new(),
            timeline: t,
            fails: false,
            deletion: None,
            auto: true,
        };
        let id = backup.id.clone();
        self.shared.lock().db_backups.push(backup);
        id
    }
}

fn db_service(s: SeedService) -> DbService {
    match s {
        SeedService::Dds => DbService::Dds,
        SeedService::Taurus => DbService::Taurus,
    }
}

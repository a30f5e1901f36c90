//! DDS and TaurusDB jobs as the simulator keeps them: backups, deletions and restores, each with its
//! name and status over time, and what a restore restores.

use std::time::Instant;

use super::state::{Busy, DbService};
use super::timeline::Phase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    CreateBackup,
    DeleteBackup,
    /// An in-place restore; `pitr` for a point in time, else from a backup.
    Restore {
        pitr: bool,
    },
}

/// A DDS or TaurusDB job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub service: DbService,
    pub id: String,
    pub kind: JobKind,
    pub instance_id: String,
    pub timeline: super::timeline::Timeline,
    pub fails: bool,
}

impl Job {
    /// The job's `name`. DDS restore names are documented (restore-and-schedule.md A.4); the
    /// backup names and the TaurusDB restore name (undocumented) are the simulator's own.
    pub fn name(&self) -> &'static str {
        match (self.kind, self.service) {
            (JobKind::CreateBackup, _) => "Create backup",
            (JobKind::DeleteBackup, _) => "Delete backup",
            (JobKind::Restore { pitr: false }, DbService::Dds) => {
                "MongodbRestoreData2CurrentInstance"
            }
            (JobKind::Restore { pitr: true }, DbService::Dds) => "MongodbPitr2CurrentInstance",
            (JobKind::Restore { .. }, DbService::Taurus) => "RestoreGaussDBforMySQLInstance",
        }
    }

    /// Whether it occupies its instance now (a backup or a restore still running).
    pub fn occupies(&self, now: Instant) -> Option<Busy> {
        if self.timeline.done(now) {
            return None;
        }
        match self.kind {
            JobKind::CreateBackup => Some(Busy::BackingUp),
            JobKind::Restore { .. } => Some(Busy::Restoring),
            JobKind::DeleteBackup => None,
        }
    }

    /// `Pending` is a TaurusDB-only state (a delayed task); DDS jobs start `Running`.
    pub fn status(&self, now: Instant) -> &'static str {
        match self.timeline.phase(now) {
            Phase::Queued if self.service == DbService::Taurus => "Pending",
            Phase::Queued | Phase::Running(_) => "Running",
            Phase::Done if self.fails => "Failed",
            Phase::Done => "Completed",
        }
    }
}

/// What a DDS/TaurusDB restore restores (its job is in `Store::jobs`).
#[derive(Debug, Clone)]
pub(crate) struct DbRestore {
    pub service: DbService,
    pub job_id: String,
    pub target: String,
    pub source_instance: String,
    pub backup_id: Option<String>,
    pub restore_time_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::timeline::timeline;
    use std::time::Duration;

    #[test]
    fn job_status_differs_per_service_only_while_queued() {
        let (t, now) = timeline(Duration::ZERO, Duration::from_secs(10));
        let job = |service| Job {
            service,
            id: "j".into(),
            kind: JobKind::CreateBackup,
            instance_id: "i".into(),
            timeline: t,
            fails: false,
        };
        assert_eq!(job(DbService::Taurus).status(now), "Pending");
        assert_eq!(job(DbService::Dds).status(now), "Running");
        let later = now + Duration::from_secs(11);
        assert_eq!(job(DbService::Taurus).status(later), "Completed");
        let failing = Job {
            fails: true,
            ..job(DbService::Dds)
        };
        assert_eq!(failing.status(later), "Failed");
    }
}

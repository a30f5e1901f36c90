//! The simulator's in-memory store: records, tokens, AK lock, call log.
//!
//! Every operation remembers when it started and how long it takes; its status is derived from
//! the clock whenever it is read, so there is no background task and tests only need to wait.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::timeline::{Phase, Timeline};

pub(crate) use super::jobs::{DbRestore, Job, JobKind};
use super::{Faults, SimBackup, SimCall, SimConfig, SimRestore};

/// Config (fixed) plus the mutable store behind one lock; no lock is held across an await.
pub(crate) struct Shared {
    pub cfg: SimConfig,
    store: Mutex<Store>,
}

impl Shared {
    pub fn new(cfg: SimConfig) -> Self {
        let store = Store {
            faults: Faults::default(),
            injected: 0,
            backup_duration: cfg.backup_duration,
            tokens: HashMap::new(),
            ak: AkGuard::default(),
            dcs_backups: Vec::new(),
            dcs_restores: Vec::new(),
            db_backups: Vec::new(),
            jobs: Vec::new(),
            db_restores: Vec::new(),
            restore_windows: HashMap::new(),
            calls: Vec::new(),
        };
        Self {
            cfg,
            store: Mutex::new(store),
        }
    }

    /// The store; a panic elsewhere cannot leave it half-written, so a poisoned lock is still usable.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn is_failing(&self, instance_id: &str) -> bool {
        self.cfg.failing_instances.iter().any(|i| i == instance_id)
    }
}

/// A DCS backup record. It stays listed after deletion, with status `deleted`.
#[derive(Debug, Clone)]
pub(crate) struct DcsBackup {
    pub id: String,
    pub instance_id: String,
    pub name: String,
    pub remark: String,
    pub format: String,
    pub timeline: Timeline,
    pub fails: bool,
    pub deleted_at: Option<Timestamp>,
    /// Made by the instance's automatic backup policy (`backup_type: auto`), not by a call.
    pub auto: bool,
}

impl DcsBackup {
    pub fn status(&self, now: Instant) -> &'static str {
        if self.deleted_at.is_some() {
            return "deleted";
        }
        match self.timeline.phase(now) {
            Phase::Queued => "waiting",
            Phase::Running(_) => "backuping",
            Phase::Done if self.fails => "failed",
            Phase::Done => "succeed",
        }
    }

    pub fn in_progress(&self, now: Instant) -> bool {
        self.deleted_at.is_none() && !self.timeline.done(now)
    }
}

/// A DCS restore record.
#[derive(Debug, Clone)]
pub(crate) struct DcsRestore {
    pub id: String,
    pub instance_id: String,
    pub backup_id: String,
    pub backup_name: String,
    pub backup_remark: String,
    pub remark: String,
    pub timeline: Timeline,
    pub fails: bool,
}

impl DcsRestore {
    pub fn status(&self, now: Instant) -> &'static str {
        match self.timeline.phase(now) {
            Phase::Queued => "waiting",
            Phase::Running(_) => "restoring",
            Phase::Done if self.fails => "failed",
            Phase::Done => "succeed",
        }
    }
}

/// DDS and TaurusDB share the backup/job model; only shapes and codes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbService {
    Dds,
    Taurus,
}

impl DbService {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dds => "dds",
            Self::Taurus => "taurus",
        }
    }
}

/// A DDS or TaurusDB backup. A DDS deletion runs as a job (status `DISABLED` meanwhile); a TaurusDB
/// deletion is immediate.
#[derive(Debug, Clone)]
pub(crate) struct DbBackup {
    pub service: DbService,
    pub id: String,
    pub instance_id: String,
    pub name: String,
    pub description: String,
    pub job_id: String,
    pub timeline: Timeline,
    pub fails: bool,
    pub deletion: Option<Timeline>,
    /// Made by the instance's automatic backup policy (type `Auto` / `auto`), not by a call.
    pub auto: bool,
}

impl DbBackup {
    pub fn status(&self, now: Instant) -> &'static str {
        if self.deletion.is_some() {
            return "DISABLED";
        }
        match self.timeline.phase(now) {
            Phase::Queued | Phase::Running(_) => "BUILDING",
            Phase::Done if self.fails => "FAILED",
            Phase::Done => "COMPLETED",
        }
    }

    /// Still listed: not deleted, or its deletion job still runs.
    pub fn listed(&self, now: Instant) -> bool {
        self.deletion.is_none_or(|d| !d.done(now))
    }
}

/// An issued IAM token; `project_id` is `None` for unscoped (domain) tokens.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub project_id: Option<String>,
    pub expires: Instant,
}

/// Consecutive signature failures of the one AK the simulator knows, and its lock.
#[derive(Debug, Clone, Default)]
pub(crate) struct AkGuard {
    pub failures: u32,
    pub locked_until: Option<Instant>,
}

/// Failures in a row that lock the AK (the real gateway's limit).
pub(crate) const AK_FAILURE_LIMIT: u32 = 5;

impl AkGuard {
    pub fn locked(&mut self, now: Instant) -> bool {
        match self.locked_until {
            Some(until) if now < until => true,
            Some(_) => {
                self.locked_until = None;
                false
            }
            None => false,
        }
    }

    pub fn fail(&mut self, now: Instant, lock_for: Duration) {
        self.failures += 1;
        if self.failures >= AK_FAILURE_LIMIT {
            self.failures = 0;
            self.locked_until = Some(now + lock_for);
        }
    }

    pub fn succeed(&mut self) {
        self.failures = 0;
    }
}

/// Why an instance refuses a new operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Busy {
    BackingUp,
    Restoring,
}

pub(crate) struct Store {
    pub faults: Faults,
    /// Errors injected so far (the turn of [`Faults::in_turn_with_bad_gateway`]).
    pub injected: u64,
    pub backup_duration: Duration,
    pub tokens: HashMap<String, Token>,
    pub ak: AkGuard,
    pub dcs_backups: Vec<DcsBackup>,
    pub dcs_restores: Vec<DcsRestore>,
    pub db_backups: Vec<DbBackup>,
    pub jobs: Vec<Job>,
    pub db_restores: Vec<DbRestore>,
    /// Restorable windows set for an instance (ms since the epoch); others get the default.
    pub restore_windows: HashMap<String, Vec<(i64, i64)>>,
    pub calls: Vec<SimCall>,
}

impl Store {
    /// One operation per DCS instance: a running backup or restore blocks the next.
    pub fn dcs_busy(&self, instance_id: &str, now: Instant) -> Option<Busy> {
        if self
            .dcs_backups
            .iter()
            .any(|b| b.instance_id == instance_id && b.in_progress(now))
        {
            Some(Busy::BackingUp)
        } else if self
            .dcs_restores
            .iter()
            .any(|r| r.instance_id == instance_id && !r.timeline.done(now))
        {
            Some(Busy::Restoring)
        } else {
            None
        }
    }

    /// One backup or restore per DDS/TaurusDB instance at a time: what runs on it, if anything.
    pub fn db_busy(&self, service: DbService, instance_id: &str, now: Instant) -> Option<Busy> {
        self.jobs
            .iter()
            .filter(|j| j.service == service && j.instance_id == instance_id)
            .find_map(|j| j.occupies(now))
    }

    pub fn sim_backups(&self, now: Instant) -> Vec<SimBackup> {
        let dcs = self.dcs_backups.iter().map(|b| SimBackup {
            service: "dcs",
            instance_id: b.instance_id.clone(),
            backup_id: b.id.clone(),
            job_id: None,
            name: b.name.clone(),
            description_or_remark: b.remark.clone(),
            status: b.status(now).into(),
            created_at: b.timeline.started,
            completed_at: b.timeline.completed_at(now),
        });
        let db = self
            .db_backups
            .iter()
            .filter(|b| b.listed(now))
            .map(|b| SimBackup {
                service: b.service.as_str(),
                instance_id: b.instance_id.clone(),
                backup_id: b.id.clone(),
                // The daily automatic backups run without a job.
                job_id: (!b.job_id.is_empty()).then(|| b.job_id.clone()),
                name: b.name.clone(),
                description_or_remark: b.description.clone(),
                status: b.status(now).into(),
                created_at: b.timeline.started,
                completed_at: b.timeline.completed_at(now),
            });
        dcs.chain(db).collect()
    }

    pub fn sim_restores(&self, now: Instant) -> Vec<SimRestore> {
        let dcs = self.dcs_restores.iter().map(|r| SimRestore {
            service: "dcs",
            instance_id: r.instance_id.clone(),
            restore_id: r.id.clone(),
            backup_id: r.backup_id.clone(),
            remark: r.remark.clone(),
            status: r.status(now).into(),
            created_at: r.timeline.started,
            completed_at: r.timeline.completed_at(now),
            source_instance_id: r.instance_id.clone(),
            restore_time_ms: None,
        });
        let db = self.db_restores.iter().filter_map(|r| {
            let job = self.jobs.iter().find(|j| j.id == r.job_id)?;
            Some(SimRestore {
                service: r.service.as_str(),
                instance_id: r.target.clone(),
                restore_id: r.job_id.clone(),
                backup_id: r.backup_id.clone().unwrap_or_default(),
                remark: String::new(),
                status: job.status(now).into(),
                created_at: job.timeline.started,
                completed_at: job.timeline.completed_at(now),
                source_instance_id: r.source_instance.clone(),
                restore_time_ms: r.restore_time_ms,
            })
        });
        dcs.chain(db).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ak_locks_after_five_failures_and_unlocks_later() {
        let mut g = AkGuard::default();
        let now = Instant::now();
        let lock = Duration::from_secs(60);
        for _ in 0..4 {
            g.fail(now, lock);
            assert!(!g.locked(now));
        }
        g.succeed();
        for _ in 0..4 {
            g.fail(now, lock);
        }
        assert!(!g.locked(now), "a success in between resets the count");
        g.fail(now, lock);
        assert!(g.locked(now));
        assert!(!g.locked(now + lock));
    }
}

//! Operations that exist before a test starts: DCS backups a cloud already made (history, as the
//! list API shows it with its start and end times) or ones still running when the operator starts.
//! They are stored as if created `ago` with the given duration, so their times and status follow
//! the clock like any other.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::SimHandle;
use super::state::DcsBackup;
use super::timeline::Timeline;

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
}

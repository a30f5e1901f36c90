//! Read-your-writes for schedule status (as [`crate::controller::recent`] for backups): a reconcile
//! woken by a child's change may see the schedule as cached before this process's last status write,
//! and would settle the same run time again and repeat its events.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::Timestamp;

use super::status::settled_until;
use crate::crd::BackupScheduleStatus;

/// The last status written per schedule UID.
#[derive(Debug, Default)]
pub struct RecentSchedules {
    written: Mutex<HashMap<String, BackupScheduleStatus>>,
}

impl RecentSchedules {
    pub fn remember(&self, uid: &str, status: &BackupScheduleStatus) {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        w.insert(uid.to_string(), status.clone());
    }

    /// The observed status, unless this process wrote one that settled later run times (settling
    /// only moves forward). Once the cache has caught up the entry is dropped.
    pub fn freshest(&self, uid: &str, observed: BackupScheduleStatus) -> BackupScheduleStatus {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = Timestamp::UNIX_EPOCH;
        match w.get(uid) {
            Some(written) if settled_until(written, epoch) > settled_until(&observed, epoch) => {
                written.clone()
            }
            Some(_) => {
                w.remove(uid);
                observed
            }
            None => observed,
        }
    }

    /// Drops the entries of schedules that no longer exist (UIDs not in `present`).
    pub fn retain(&self, present: &std::collections::HashSet<String>) {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        w.retain(|uid, _| present.contains(uid));
    }

    pub fn len(&self) -> usize {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ran(at: &str) -> BackupScheduleStatus {
        BackupScheduleStatus {
            last_schedule_time: Some(Time(at.parse().unwrap())),
            ..Default::default()
        }
    }

    #[test]
    fn a_stale_copy_does_not_hide_a_settled_run() {
        let r = RecentSchedules::default();
        r.remember("u", &ran("2026-11-28T02:00:00Z"));
        let seen = r.freshest("u", ran("2026-11-27T02:00:00Z"));
        assert_eq!(seen, ran("2026-11-28T02:00:00Z"));
        assert_eq!(r.len(), 1);
        let caught_up = ran("2026-11-28T02:00:00Z");
        assert_eq!(r.freshest("u", caught_up.clone()), caught_up);
        assert!(r.is_empty());
    }

    #[test]
    fn deleted_schedules_are_forgotten() {
        let r = RecentSchedules::default();
        r.remember("gone", &ran("2026-11-28T02:00:00Z"));
        r.remember("here", &ran("2026-11-28T02:00:00Z"));
        r.retain(&["here".to_string()].into());
        assert_eq!(r.len(), 1);
    }
}

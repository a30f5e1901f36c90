//! Read-your-writes for status: the controller's cache can lag behind a status this process has
//! just written, and a reconcile that saw the older copy would redo work (look its own backup up
//! again and announce an adoption, or poll an operation it already finished).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::crd::OperationStatus;

/// The last status written per resource UID.
#[derive(Debug, Default)]
pub struct RecentStatus {
    written: Mutex<HashMap<String, OperationStatus>>,
}

/// How far along a status is. Phases never move back, so a higher stage is always the newer one.
///
/// A create marker is a stage of its own: a copy with neither marker nor ids may be one from
/// before the marker write (a late watch event), and acting on it would create again, where the
/// marker says to look the interrupted create up first. (A marker this process dropped after a
/// refusal is remembered as such and replaces the marker entry.)
fn stage(s: &OperationStatus) -> u8 {
    if s.is_terminal() {
        3
    } else if s.backup_id.is_some() || s.restore_id.is_some() {
        2
    } else if s.create_requested_at.is_some() {
        1
    } else {
        0
    }
}

impl RecentStatus {
    pub fn remember(&self, uid: &str, status: &OperationStatus) {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        w.insert(uid.to_string(), status.clone());
    }

    /// The status to act on: what was observed, unless this process wrote a later stage that the
    /// cache has not caught up with yet. Once the cache has caught up the entry is dropped.
    pub fn freshest(&self, uid: &str, observed: OperationStatus) -> OperationStatus {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        match w.get(uid) {
            Some(written) if stage(written) > stage(&observed) => written.clone(),
            Some(_) => {
                w.remove(uid);
                observed
            }
            None => observed,
        }
    }

    pub fn forget(&self, uid: &str) {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        w.remove(uid);
    }

    /// Keeps only the resources `keep` accepts (housekeeping drops those deleted without a
    /// finalizer, which are never reconciled again). `keep` runs under the map's lock.
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) {
        let mut w = self.written.lock().unwrap_or_else(|p| p.into_inner());
        w.retain(|uid, _| keep(uid));
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
    use crate::crd::Phase;

    fn st(phase: Phase, id: Option<&str>) -> OperationStatus {
        OperationStatus {
            phase: Some(phase),
            backup_id: id.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn a_stale_cache_does_not_hide_written_ids() {
        let r = RecentStatus::default();
        r.remember("u1", &st(Phase::Running, Some("b1")));
        let seen = r.freshest("u1", st(Phase::Pending, None));
        assert_eq!(seen.backup_id.as_deref(), Some("b1"));
        assert_eq!(r.len(), 1, "kept until the cache catches up");
        let caught_up = st(Phase::Running, Some("b1"));
        assert_eq!(r.freshest("u1", caught_up.clone()), caught_up);
        assert!(r.is_empty());
    }

    #[test]
    fn a_written_terminal_phase_wins_over_a_running_copy() {
        let r = RecentStatus::default();
        r.remember("u1", &st(Phase::Succeeded, Some("b1")));
        assert_eq!(
            r.freshest("u1", st(Phase::Running, Some("b1"))).phase,
            Some(Phase::Succeeded)
        );
        assert_eq!(
            r.freshest("u2", st(Phase::Running, Some("b2"))).phase,
            Some(Phase::Running),
            "other resources untouched"
        );
    }

    #[test]
    fn a_remembered_marker_beats_a_copy_with_neither_marker_nor_ids() {
        use jiff::Timestamp;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        let r = RecentStatus::default();
        let mut marked = st(Phase::Pending, None);
        marked.create_requested_at = Some(Time(Timestamp::now()));
        r.remember("u1", &marked);
        let stale = OperationStatus::default();
        assert_eq!(r.freshest("u1", stale), marked, "the marker survives");
        assert_eq!(
            r.freshest("u1", st(Phase::Running, Some("b1")))
                .backup_id
                .as_deref(),
            Some("b1"),
            "ids beat the marker"
        );
        assert!(r.is_empty(), "caught up");
    }

    #[test]
    fn same_stage_prefers_the_observed_status() {
        let r = RecentStatus::default();
        let mut written = st(Phase::Pending, None);
        written.message = Some("ours".into());
        r.remember("u1", &written);
        let mut observed = st(Phase::Pending, None);
        observed.message = Some("theirs".into());
        assert_eq!(
            r.freshest("u1", observed).message.as_deref(),
            Some("theirs")
        );
    }
}

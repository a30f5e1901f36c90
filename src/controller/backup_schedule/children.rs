//! A schedule's children: their deterministic names, how one is made from the template, and the
//! little the schedule needs to know about each (run time, phase, whether it is being deleted).

use std::collections::BTreeMap;

use jiff::Timestamp;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::controller::operation::Operation;
use crate::crd::backup_schedule::{SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION, SHARD_LABEL};
use crate::crd::{
    BackupSchedule, DcsBackup, DcsBackupSpec, DdsBackup, DdsBackupSpec, Phase, TaurusDbBackup,
    TaurusDbBackupSpec,
};

/// Longest child name: short enough to be a label value too.
const MAX_NAME: usize = 63;
/// `yyyymmddhhmm` of the run time in UTC.
const STAMP_LEN: usize = 12;
/// Longest DDS/TaurusDB backup name.
const MAX_BACKUP_NAME: usize = 64;

/// `yyyymmddhhmm` of `at` in UTC: UTC, so the two 01:30s of a fall-back night get different names.
pub fn stamp(at: Timestamp) -> String {
    at.strftime("%Y%m%d%H%M").to_string()
}

/// The child for run time `at`: `<schedule>-<yyyymmddhhmm>`. A name too long for 63 characters is
/// cut and gets 8 hex digits of a hash of the whole name, so two long names stay apart.
pub fn child_name(schedule: &str, at: Timestamp) -> String {
    let stamp = stamp(at);
    if schedule.len() + 1 + STAMP_LEN <= MAX_NAME {
        return format!("{schedule}-{stamp}");
    }
    let hash = hex::encode(Sha256::digest(schedule.as_bytes()));
    let room = MAX_NAME - 1 - 8 - 1 - STAMP_LEN;
    // Object names are ASCII; a cut must not end a DNS label with '-' or '.'.
    let head = schedule[..room].trim_end_matches(['-', '.']);
    format!("{head}-{}-{stamp}", &hash[..8])
}

/// A DDS/TaurusDB template's `backupName` is a prefix: each run appends `-<yyyymmddhhmm>`, cutting the
/// prefix to fit 64 characters (the cloud refuses a second backup of the same name).
pub fn run_backup_name(prefix: &str, at: Timestamp) -> String {
    let room = MAX_BACKUP_NAME - 1 - STAMP_LEN;
    let head: String = prefix.chars().take(room).collect();
    format!("{head}-{}", stamp(at))
}

/// What the schedule knows about one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildView {
    pub name: String,
    /// The run time it stands for (its annotation, else its creation time).
    pub scheduled: Timestamp,
    pub phase: Option<Phase>,
    /// When it reached `Succeeded` or `Failed`.
    pub completed: Option<Timestamp>,
    /// It has a deletion timestamp (its cleanup is deleting the cloud backup).
    pub deleting: bool,
}

impl ChildView {
    pub fn is_final(&self) -> bool {
        self.phase.is_some_and(Phase::is_terminal)
    }
}

/// One of the three backup kinds, as a schedule's child.
pub trait Child: Operation {
    type Spec: Clone;
    /// Lowercase plural, for messages.
    const PLURAL: &'static str;
    /// The spec for run time `at`: the template, with a per-run backup name where one is set.
    fn spec_for_run(template: &Self::Spec, at: Timestamp) -> Self::Spec;
    fn from_spec(name: &str, spec: Self::Spec) -> Self;
}

impl Child for DcsBackup {
    type Spec = DcsBackupSpec;
    const PLURAL: &'static str = "dcsbackups";
    fn spec_for_run(template: &DcsBackupSpec, _: Timestamp) -> DcsBackupSpec {
        template.clone()
    }
    fn from_spec(name: &str, spec: DcsBackupSpec) -> Self {
        Self::new(name, spec)
    }
}

impl Child for DdsBackup {
    type Spec = DdsBackupSpec;
    const PLURAL: &'static str = "ddsbackups";
    fn spec_for_run(template: &DdsBackupSpec, at: Timestamp) -> DdsBackupSpec {
        let mut spec = template.clone();
        spec.backup_name = spec.backup_name.map(|p| run_backup_name(&p, at));
        spec
    }
    fn from_spec(name: &str, spec: DdsBackupSpec) -> Self {
        Self::new(name, spec)
    }
}

impl Child for TaurusDbBackup {
    type Spec = TaurusDbBackupSpec;
    const PLURAL: &'static str = "taurusdbbackups";
    fn spec_for_run(template: &TaurusDbBackupSpec, at: Timestamp) -> TaurusDbBackupSpec {
        let mut spec = template.clone();
        spec.backup_name = spec.backup_name.map(|p| run_backup_name(&p, at));
        spec
    }
    fn from_spec(name: &str, spec: TaurusDbBackupSpec) -> Self {
        Self::new(name, spec)
    }
}

/// The child of `schedule` for run time `at`: labelled with the schedule's name (and its shard),
/// annotated with the run time, and without an owner reference, so that deleting the schedule
/// keeps its backups.
pub fn make<K: Child>(schedule: &BackupSchedule, template: &K::Spec, at: Timestamp) -> K {
    let mut child = K::from_spec(
        &child_name(&schedule.name_any(), at),
        K::spec_for_run(template, at),
    );
    let mut labels = BTreeMap::from([(SCHEDULE_LABEL.to_string(), schedule.name_any())]);
    if let Some(shard) = schedule.labels().get(SHARD_LABEL) {
        labels.insert(SHARD_LABEL.to_string(), shard.clone());
    }
    let meta = child.meta_mut();
    meta.namespace = schedule.namespace();
    meta.labels = Some(labels);
    meta.annotations = Some(BTreeMap::from([(
        SCHEDULED_TIME_ANNOTATION.to_string(),
        at.to_string(),
    )]));
    child
}

/// The schedule's view of a child.
pub fn view<K: Child>(child: &K) -> ChildView {
    let meta = child.meta();
    let scheduled = child
        .annotations()
        .get(SCHEDULED_TIME_ANNOTATION)
        .and_then(|a| a.parse::<Timestamp>().ok())
        .or_else(|| meta.creation_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let status = child.status();
    ChildView {
        name: child.name_any(),
        scheduled,
        phase: status.and_then(|s| s.phase),
        completed: status.and_then(|s| s.completed_at.as_ref()).map(|t| t.0),
        deleting: meta.deletion_timestamp.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::rules::{is_backup_name, is_object_name};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn names_carry_the_utc_run_time() {
        assert_eq!(
            child_name("nightly", ts("2026-11-28T02:00:00Z")),
            "nightly-202611280200"
        );
        // The two 01:30s of New York's fall-back night are different instants and names.
        let first = child_name("ny", ts("2026-11-01T05:30:00Z"));
        let second = child_name("ny", ts("2026-11-01T06:30:00Z"));
        assert_ne!(first, second);
    }

    #[test]
    fn long_names_are_shortened_valid_and_distinct() {
        let at = ts("2026-11-28T02:00:00Z");
        let a = child_name(&format!("{}a", "x".repeat(62)), at);
        let b = child_name(&format!("{}b", "x".repeat(62)), at);
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= 63 && is_object_name(n), "{n}");
            assert!(n.ends_with("-202611280200"), "{n}");
        }
        let dotted = child_name(&format!("{}.{}", "a".repeat(40), "b".repeat(22)), at);
        assert!(is_object_name(&dotted), "{dotted}");
        // Exactly at the limit the name is kept whole.
        let fifty = "n".repeat(50);
        assert_eq!(child_name(&fifty, at), format!("{fifty}-202611280200"));
    }

    #[test]
    fn per_run_backup_names_stay_valid() {
        let at = ts("2026-11-28T02:00:00Z");
        assert_eq!(run_backup_name("orders", at), "orders-202611280200");
        let long = run_backup_name(&format!("o{}", "x".repeat(63)), at);
        assert_eq!(long.len(), 64);
        assert!(is_backup_name(&long), "{long}");
    }
}

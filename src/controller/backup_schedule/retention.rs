//! Which children retention deletes: a pure function of the children, the policy and the time.
//!
//! Only final children are ever deleted, and never the newest `Succeeded` one (whatever `maxAge`
//! says), so a schedule whose runs keep failing still has its last good backup. `Succeeded` and
//! `Failed` children are counted apart: failures never push good backups out (the complaint
//! against tools whose "keep last N" counted failed backups).

use std::cmp::Reverse;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::children::ChildView;
use crate::crd::Phase;

/// Retention as the schedule's spec states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub keep_last: Option<usize>,
    pub max_age: Option<Duration>,
    pub keep_failed: usize,
}

/// The outcome: names to delete, and what stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub delete: Vec<String>,
    pub kept_succeeded: usize,
    pub kept_failed: usize,
}

/// Applies `policy` (none: delete nothing) to `children` at `now`.
pub fn apply(children: &[ChildView], policy: Option<&Policy>, now: Timestamp) -> Verdict {
    let newest_first = |phase: Phase| {
        let mut v: Vec<&ChildView> = children
            .iter()
            .filter(|c| !c.deleting && c.phase == Some(phase))
            .collect();
        v.sort_by_key(|c| (Reverse(c.scheduled), Reverse(c.name.clone())));
        v
    };
    let succeeded = newest_first(Phase::Succeeded);
    let failed = newest_first(Phase::Failed);
    let Some(p) = policy else {
        return Verdict {
            delete: Vec::new(),
            kept_succeeded: succeeded.len(),
            kept_failed: failed.len(),
        };
    };
    let too_old = |c: &ChildView| {
        p.max_age.is_some_and(|age| {
            let age = SignedDuration::try_from(age).unwrap_or(SignedDuration::MAX);
            now.duration_since(c.scheduled) > age
        })
    };
    let mut delete = Vec::new();
    // Index 0 is the newest Succeeded child: always kept.
    for (i, c) in succeeded.iter().enumerate().skip(1) {
        if p.keep_last.is_some_and(|k| i >= k) || too_old(c) {
            delete.push(c.name.clone());
        }
    }
    let kept_succeeded = succeeded.len() - delete.len();
    let failed_deleted: Vec<String> = failed
        .iter()
        .skip(p.keep_failed)
        .map(|c| c.name.clone())
        .collect();
    let kept_failed = failed.len() - failed_deleted.len();
    delete.extend(failed_deleted);
    Verdict {
        delete,
        kept_succeeded,
        kept_failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(hour: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + hour * 3600).unwrap()
    }

    fn child(name: &str, hour: i64, phase: Option<Phase>) -> ChildView {
        ChildView {
            name: name.into(),
            scheduled: at(hour),
            phase,
            completed: None,
            deleting: false,
        }
    }

    fn policy(keep_last: Option<usize>, max_age: Option<Duration>, keep_failed: usize) -> Policy {
        Policy {
            keep_last,
            max_age,
            keep_failed,
        }
    }

    const S: Option<Phase> = Some(Phase::Succeeded);
    const F: Option<Phase> = Some(Phase::Failed);

    #[test]
    fn keep_last_counts_succeeded_only_and_failed_are_kept_apart() {
        // Oldest first: s1 f2 s3 f4 f5 s6 f7 f8 (running: r9).
        let kids = [
            child("s1", 1, S),
            child("f2", 2, F),
            child("s3", 3, S),
            child("f4", 4, F),
            child("f5", 5, F),
            child("s6", 6, S),
            child("f7", 7, F),
            child("f8", 8, F),
            child("r9", 9, Some(Phase::Running)),
        ];
        let v = apply(&kids, Some(&policy(Some(2), None, 3)), at(10));
        assert_eq!(v.delete, ["s1", "f4", "f2"]);
        assert_eq!((v.kept_succeeded, v.kept_failed), (2, 3));
    }

    #[test]
    fn never_a_child_that_is_not_final_nor_the_newest_succeeded() {
        let kids = [
            child("s1", 1, S),
            child("p2", 2, None),
            child("r3", 3, Some(Phase::Running)),
            child("pending4", 4, Some(Phase::Pending)),
        ];
        // maxAge of one hour makes everything "too old"; keepLast 1 too.
        let v = apply(&kids, Some(&policy(Some(1), Some(HOUR), 0)), at(100));
        assert_eq!(v.delete, Vec::<String>::new());
        assert_eq!(v.kept_succeeded, 1);
    }

    #[test]
    fn max_age_deletes_old_succeeded_but_keeps_the_newest() {
        let kids = [
            child("s1", 1, S),
            child("s2", 2, S),
            child("s9", 9, S),
            child("f1", 1, F),
        ];
        let v = apply(&kids, Some(&policy(None, Some(3 * HOUR), 3)), at(10));
        assert_eq!(v.delete, ["s2", "s1"], "failed children ignore maxAge");
        let v = apply(&kids, Some(&policy(None, Some(HOUR), 3)), at(100));
        assert_eq!(v.delete, ["s2", "s1"], "s9 is the newest Succeeded: kept");
    }

    #[test]
    fn children_being_deleted_are_neither_counted_nor_deleted_again() {
        let mut gone = child("s3", 3, S);
        gone.deleting = true;
        let kids = [child("s1", 1, S), child("s2", 2, S), gone];
        let v = apply(&kids, Some(&policy(Some(1), None, 3)), at(10));
        assert_eq!(v.delete, ["s1"]);
        assert_eq!(v.kept_succeeded, 1);
    }

    #[test]
    fn without_retention_nothing_is_deleted() {
        let kids = [child("s1", 1, S), child("s2", 2, S), child("f3", 3, F)];
        let v = apply(&kids, None, at(10));
        assert_eq!(
            v,
            Verdict {
                delete: vec![],
                kept_succeeded: 2,
                kept_failed: 1
            }
        );
    }
}

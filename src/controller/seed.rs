//! Seeding the learned schedule from the cloud's history, so that the first backup of an instance
//! is polled like a later one.
//!
//! The cloud already knows how long an instance's operations take: DCS records carry `created_at`
//! and `updated_at` (completion), DDS and TaurusDB backups `begin_time` and `end_time`, and
//! automatic backups run daily. The first time this process deals with a (kind, instance) that it
//! has learned nothing about, the durations of the finished, successful operations the cloud lists
//! for it seed the [`Scheduler`]:
//!
//! - DCS (`DcsBackup`, `DcsRestore`): from any list the operator makes anyway. DCS has no get-by-id,
//!   so every poll, adoption lookup and restore precheck lists the instance's records, history
//!   included: the first poll (at the short interval) seeds the estimate that places the next one.
//!   No call is added.
//! - DDS and TaurusDB backups: their polls read a job, which carries no history, so one list call
//!   (the first page of the instance's backups) follows the create, unless an adoption lookup,
//!   which lists them all, seeded the instance already. That is one call per instance per process,
//!   made only while nothing is learned or seeded. (Their restores are not seeded: no list the
//!   operator reads shows how long they took.)
//!
//! Without usable history nothing changes: the first poll comes at the interval, as before.
//!
//! Manual and automatic full backups of an instance are assumed to take comparable time (same
//! engine, same data); incremental DDS backups are not comparable and are left out. Records whose
//! times are missing, unreadable, reversed or longer than the kind's default timeout are ignored,
//! and the estimate is the median of the most recent usable ones, so one odd backup cannot move it.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::timeout;

use crate::cloud::client::CloudClient;
use crate::cloud::dcs::{DcsBackupRecord, DcsRestoreRecord};
use crate::cloud::job::DbBackup;
use crate::cloud::times::parse_cloud_time;
use crate::cloud::types::{OpState, dcs_state};
use crate::controller::context::Context;
use crate::controller::db_backup::{DbKind, DbService};
use crate::controller::schedule::Scheduler;
use crate::crd::BackupResource;

/// How many of the most recent usable durations the estimate takes the median of.
pub const RECENT: usize = 5;

/// How long the ids of a new DDS/TaurusDB backup wait for its seeding list at most; a slower list
/// is dropped and the first poll is placed as without history.
pub const SEED_WAIT: Duration = Duration::from_secs(5);

/// One finished, successful operation as the cloud lists it: its start and end, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Past<'a> {
    pub began: Option<&'a str>,
    pub ended: Option<&'a str>,
}

/// The duration to expect from `past`: the median of the [`RECENT`] most recent (by end time)
/// usable durations. Unusable: a missing or unreadable time, an end not after the start, or a
/// duration above `bound` (the kind's timeout: an operation that long would have timed out, so the
/// record is wrong or nothing like what this backup will take). `None` when none is usable.
pub fn estimate<'a>(past: impl IntoIterator<Item = Past<'a>>, bound: Duration) -> Option<Duration> {
    let mut usable: Vec<(Timestamp, Duration)> = past
        .into_iter()
        .filter_map(|p| {
            let began = parse_cloud_time(p.began?)?;
            let ended = parse_cloud_time(p.ended?)?;
            // Negative spans do not convert.
            let took = Duration::try_from(ended.duration_since(began)).ok()?;
            (!took.is_zero() && took <= bound).then_some((ended, took))
        })
        .collect();
    usable.sort_by_key(|(ended, _)| std::cmp::Reverse(*ended));
    usable.truncate(RECENT);
    let mut recent: Vec<Duration> = usable.into_iter().map(|(_, took)| took).collect();
    recent.sort();
    let mid = recent.len() / 2;
    match recent.len() {
        0 => None,
        n if n % 2 == 1 => Some(recent[mid]),
        _ => Some((recent[mid - 1] + recent[mid]) / 2),
    }
}

/// Seeds the schedule of kind `K` on `instance` from `past` unless this process learned or tried
/// it before; `past` is only looked at when seeding is wanted (it runs on every DCS list).
pub fn offer<'a, K, I>(scheduler: &Scheduler, instance: &str, past: impl FnOnce() -> I)
where
    K: BackupResource,
    I: IntoIterator<Item = Past<'a>>,
{
    if !scheduler.needs_seed(K::KIND_LABEL, instance) {
        return;
    }
    let expected = estimate(past(), K::DEFAULT_TIMEOUT);
    tracing::debug!(
        kind = K::KIND_LABEL,
        instance,
        ?expected,
        "schedule seeded from the cloud's history"
    );
    scheduler.seed(K::KIND_LABEL, instance, expected);
}

/// Finished DCS backups: `succeed` records (a `deleted` or `expired` one's `updated_at` is when it
/// went, not when it was made).
pub fn dcs_backups(records: &[DcsBackupRecord]) -> impl Iterator<Item = Past<'_>> {
    records
        .iter()
        .filter_map(|r| dcs_finished(&r.status, &r.created_at, &r.updated_at))
}

/// Finished DCS restores: `succeed` records.
pub fn dcs_restores(records: &[DcsRestoreRecord]) -> impl Iterator<Item = Past<'_>> {
    records
        .iter()
        .filter_map(|r| dcs_finished(&r.status, &r.created_at, &r.updated_at))
}

/// A DCS record's span (`updated_at` is its completion) when it succeeded.
fn dcs_finished<'a>(
    status: &str,
    created: &'a Option<String>,
    updated: &'a Option<String>,
) -> Option<Past<'a>> {
    (dcs_state(status) == OpState::Succeeded).then_some(Past {
        began: created.as_deref(),
        ended: updated.as_deref(),
    })
}

/// Finished full DDS/TaurusDB backups: `COMPLETED` or `AVAILABLE`, of type manual or automatic
/// (or untyped); incremental ones take a fraction of a full backup.
pub fn db_backups(backups: &[DbBackup]) -> impl Iterator<Item = Past<'_>> {
    backups
        .iter()
        .filter(|b| b.view().state == OpState::Succeeded)
        .filter(|b| {
            b.backup_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("manual") || t.eq_ignore_ascii_case("auto"))
        })
        .map(|b| Past {
            began: b.begin_time.as_deref(),
            ended: b.end_time.as_deref(),
        })
}

/// After the create of a DDS/TaurusDB backup on an instance nothing is learned or seeded for: one
/// list of its recent backups seeds the schedule before the first poll is placed.
///
/// After the create, not before: with the account's request rate nearly used up, the list would
/// otherwise take the slot the create needs, and the resource would wait to be created for an
/// estimate. The list's failure (or an answer slower than [`SEED_WAIT`], which would hold back the
/// status write that records the new ids) only means no seed: the backup runs either way, and the
/// attempt is not repeated in this process.
pub async fn after_db_create<K: DbKind>(ctx: &Context, cloud: &CloudClient, instance: &str) {
    if !ctx.scheduler.needs_seed(K::KIND_LABEL, instance) {
        return;
    }
    let listed = match K::SERVICE {
        DbService::Dds => timeout(SEED_WAIT, cloud.dds().recent_backups(instance)).await,
        DbService::Taurus => timeout(SEED_WAIT, cloud.taurus().recent_backups(instance)).await,
    };
    match listed {
        Ok(Ok(backups)) => offer::<K, _>(&ctx.scheduler, instance, || db_backups(&backups)),
        Ok(Err(e)) => no_seed::<K>(ctx, instance, &e.summary()),
        Err(_) => no_seed::<K>(ctx, instance, "no answer in time"),
    }
}

fn no_seed<K: BackupResource>(ctx: &Context, instance: &str, why: &str) {
    tracing::debug!(
        kind = K::KIND_LABEL,
        instance,
        why,
        "no seed from the cloud's history"
    );
    ctx.scheduler.seed(K::KIND_LABEL, instance, None);
}

#[cfg(test)]
#[path = "seed_tests.rs"]
mod tests;

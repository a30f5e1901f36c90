//! What a `DdsRestore` / `TaurusDbRestore` restores, checked against the cloud before the request:
//! a succeeded backup of the target instance, or a point in time inside a restorable window the cloud
//! reports for that UTC day. A refusal the cloud will not change its mind about fails the resource
//! (naming the OTC limitation for TaurusDB); anything else is retried.

use jiff::{Timestamp, tz::TimeZone};

use crate::cloud::account::CloudKind;
use crate::cloud::client::CloudClient;
use crate::cloud::error::{Error as CloudError, ErrorClass};
use crate::cloud::restore_wire::RestoreWindow;
use crate::cloud::types::OpState;
use crate::controller::context::Context;
use crate::controller::db_backup::DbService;
use crate::controller::db_restore::RestoreKind;
use crate::controller::decide::{Failure, Observation, reason};
use crate::controller::error::{Error, Result};
use crate::controller::operation::Prepared;
use crate::controller::restore_backup::{self, Wanted};
use crate::crd::restore_rules::parse_restore_time;

/// What a restore restores, checked against the cloud: a succeeded backup of the target instance,
/// or a point in time inside a restorable window.
pub async fn precheck<K: RestoreKind>(
    obj: &K,
    ctx: &Context,
    cloud: &CloudClient,
) -> Result<Result<Prepared, Observation>> {
    let source = obj.restore_source();
    if let Some(raw) = source.restore_time {
        let Some(at) = parse_restore_time(raw) else {
            return Err(Error::Internal(
                "restoreTime passed validation unparsed".into(),
            ));
        };
        return Ok(check_time(obj, cloud, at).await);
    }
    let target = obj.instance_id();
    let wanted = match (source.backup_id, source.backup_ref) {
        (Some(id), _) => restore_backup::by_id(obj, id),
        (None, Some(name)) => {
            match restore_backup::by_ref::<K::Backup, _>(ctx, obj, target, name).await? {
                Ok(wanted) => wanted,
                Err(obs) => return Ok(Err(obs)),
            }
        }
        (None, None) => return Err(Error::Internal("restore without a source".into())),
    };
    Ok(check_backup::<K>(obj, ctx, cloud, wanted).await)
}

/// The backup must be listed for the target instance and complete.
async fn check_backup<K: RestoreKind>(
    obj: &K,
    ctx: &Context,
    cloud: &CloudClient,
    wanted: Wanted,
) -> Result<Prepared, Observation> {
    let target = obj.instance_id();
    let record = match K::SERVICE.get(cloud, &wanted.id).await {
        Ok(record) => record,
        Err(e) => return Err(Observation::LookupFailed(Failure::of(&e))),
    };
    let Some(record) = record else {
        let grace = ctx.settings.visibility_grace;
        return Err(restore_backup::not_listed(target, &wanted, grace));
    };
    if let Some(other) = record.instance_id.as_deref().filter(|i| *i != target) {
        return Err(restore_backup::unusable(format!(
            "backup {} belongs to instance {other}, not {target}: a restore only takes backups of \
             its own instance",
            wanted.id
        )));
    }
    let (id, status) = (wanted.id, &record.status);
    match record.view().state {
        OpState::Succeeded => Ok(Prepared::backup(id)),
        OpState::InProgress | OpState::Unknown => Err(restore_backup::waiting(format!(
            "waiting for backup {id} to finish (cloud status {status})"
        ))),
        OpState::Failed => Err(restore_backup::unusable(format!(
            "backup {id} cannot be restored: its cloud status is {status}"
        ))),
    }
}

/// The point in time must lie in a window the cloud reports for its UTC day.
async fn check_time<K: RestoreKind>(
    obj: &K,
    cloud: &CloudClient,
    at: Timestamp,
) -> Result<Prepared, Observation> {
    let source = obj.source_instance();
    let day = at.to_zoned(TimeZone::UTC).date();
    let windows = match K::SERVICE.restore_windows(cloud, source, day).await {
        Ok(windows) => windows,
        Err(e) => {
            return Err(refusal::<K>(
                cloud,
                &e,
                "cannot check restoreTime against the cloud's restorable windows",
            ));
        }
    };
    if windows.iter().any(|w| w.contains(at)) {
        return Ok(Prepared {
            backup_id: None,
            restore_time: Some(at),
        });
    }
    Err(Observation::Invalid {
        reason: reason::INVALID_RESTORE_TIME,
        message: outside_windows(at, source, day, &windows),
    })
}

/// Why `at` cannot be restored, with the windows of that day nearest to it.
pub fn outside_windows(
    at: Timestamp,
    instance: &str,
    day: jiff::civil::Date,
    windows: &[RestoreWindow],
) -> String {
    let at_text = crate::controller::decide::restore_time_text(at);
    if windows.is_empty() {
        return format!(
            "restoreTime {at_text} cannot be restored: the cloud reports no restorable window for \
             instance {instance} on {day} (UTC)"
        );
    }
    let distance = |w: &RestoreWindow| {
        let ms = at.as_millisecond();
        (w.start.as_millisecond() - ms)
            .max(ms - w.end.as_millisecond())
            .max(0)
    };
    let mut nearest: Vec<&RestoreWindow> = windows.iter().collect();
    nearest.sort_by_key(|w| distance(w));
    nearest.truncate(3);
    nearest.sort_by_key(|w| w.start);
    let listed: Vec<String> = nearest
        .iter()
        .map(|w| format!("{} to {}", w.start, w.end))
        .collect();
    format!(
        "restoreTime {at_text} lies outside every restorable window the cloud reports for instance \
         {instance} on {day} (UTC); nearest: {}",
        listed.join(", ")
    )
}

/// What a failed call means for a restore that has not started: the cloud's refusal of the call
/// fails it (with a note on OTC, where TaurusDB does not document these calls), anything else is
/// retried.
fn refusal<K: RestoreKind>(cloud: &CloudClient, e: &CloudError, what: &str) -> Observation {
    if !is_refusal(e) {
        return Observation::LookupFailed(Failure::of(e));
    }
    Observation::Invalid {
        reason: reason::CLOUD_ERROR,
        message: format!("{what}: {}{}", e.summary(), otc_note::<K>(cloud)),
    }
}

/// The cloud answered that it will not do this (4xx, neither busy, throttled nor credentials).
pub(crate) fn is_refusal(e: &CloudError) -> bool {
    matches!(
        e,
        CloudError::Api {
            status: 400..=499,
            ..
        }
    ) && matches!(e.class(), ErrorClass::NotFound | ErrorClass::Terminal)
}

/// Where the cloud is OTC and the service TaurusDB: the documented limitation.
pub(crate) fn otc_note<K: RestoreKind>(cloud: &CloudClient) -> &'static str {
    if K::SERVICE == DbService::Taurus && cloud.account().cloud == CloudKind::Otc {
        ". Open Telekom Cloud does not document TaurusDB restores into an existing instance \
         (Huawei Cloud only); restore to a new instance in the OTC console instead"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_for_a_time_outside_the_windows_lists_the_nearest() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let w = |a: &str, b: &str| RestoreWindow {
            start: t(a),
            end: t(b),
        };
        let day = jiff::civil::date(2026, 1, 2);
        let windows = [
            w("2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z"),
            w("2026-01-02T02:00:00Z", "2026-01-02T03:00:00Z"),
            w("2026-01-02T05:00:00Z", "2026-01-02T06:00:00Z"),
            w("2026-01-02T20:00:00Z", "2026-01-02T21:00:00Z"),
        ];
        let msg = outside_windows(t("2026-01-02T04:00:00.5Z"), "i1", day, &windows);
        assert!(
            msg.starts_with("restoreTime 2026-01-02T04:00:00.5Z lies outside"),
            "{msg}"
        );
        assert!(
            msg.ends_with(
                "nearest: 2026-01-02T00:00:00Z to 2026-01-02T01:00:00Z, \
                 2026-01-02T02:00:00Z to 2026-01-02T03:00:00Z, 2026-01-02T05:00:00Z to \
                 2026-01-02T06:00:00Z"
            ),
            "the three nearest, in order: {msg}"
        );
        let none = outside_windows(t("2026-01-02T04:00:00Z"), "i1", day, &[]);
        assert!(
            none.contains("no restorable window for instance i1 on 2026-01-02"),
            "{none}"
        );
    }
}

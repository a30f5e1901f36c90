//! DCS specifics shared by `DcsBackup` and `DcsRestore`: coalesced list polling and remark markers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::cloud::client::CloudClient;
use crate::cloud::dcs::{DcsBackupRecord, DcsRestoreRecord};
use crate::cloud::error::Error as CloudError;
use crate::controller::context::{Context, ListKey};
use crate::controller::seed;
use crate::crd::{DcsBackup, DcsRestore, OperationStatus};

/// Key of an instance's coalesced list: the account (hashed, never stored) and the instance id.
pub fn list_key(cloud: &CloudClient, instance_id: &str) -> ListKey {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cloud.account().hash(&mut h);
    (h.finish(), instance_id.to_string())
}

/// The instance's backup records, shared with every other poll of the same instance this tick;
/// `not_before` rejects a shared list fetched before that moment.
///
/// The list holds the instance's history too: the first one this process reads seeds the
/// schedule of its backups, at no extra call (`controller::seed`).
pub async fn backups(
    ctx: &Context,
    cloud: &CloudClient,
    instance_id: &str,
    not_before: Option<Instant>,
) -> Result<Arc<Vec<DcsBackupRecord>>, CloudError> {
    let key = list_key(cloud, instance_id);
    let records = ctx
        .dcs_backups
        .get_or_fetch(&key, not_before, || async move {
            cloud.dcs().list_backups(instance_id).await
        })
        .await?;
    seed::offer::<DcsBackup, _>(&ctx.scheduler, instance_id, || seed::dcs_backups(&records));
    Ok(records)
}

/// The instance's restore records, coalesced like [`backups`], and seeding restores like it.
pub async fn restores(
    ctx: &Context,
    cloud: &CloudClient,
    instance_id: &str,
    not_before: Option<Instant>,
) -> Result<Arc<Vec<DcsRestoreRecord>>, CloudError> {
    let key = list_key(cloud, instance_id);
    let records = ctx
        .dcs_restores
        .get_or_fetch(&key, not_before, || async move {
            cloud.dcs().list_restores(instance_id).await
        })
        .await?;
    seed::offer::<DcsRestore, _>(&ctx.scheduler, instance_id, || seed::dcs_restores(&records));
    Ok(records)
}

/// How new a list must be to answer a poll of an operation started per `status` with `timeout`.
///
/// Past the deadline a poll may decide the timeout, and that decision must rest on an answer the
/// cloud gave after the deadline ("ask the cloud once more"), not on a list another poll shared
/// from just before it. Before the deadline any fresh list will do.
pub fn not_before_deadline(status: &OperationStatus, timeout: Duration) -> Option<Instant> {
    let started = status.started_at.as_ref()?.0;
    let running: Duration = Timestamp::now().duration_since(started).try_into().ok()?;
    let overdue = running.checked_sub(timeout)?;
    // The monotonic clock may not reach back that far (short uptime): then only a new list will do.
    Some(
        Instant::now()
            .checked_sub(overdue)
            .unwrap_or_else(Instant::now),
    )
}

/// The user's remark with the resource marker appended (the marker is how a crashed create is found).
pub fn remark_with_marker(remark: Option<&str>, marker: &str) -> String {
    match remark.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => format!("{r} [{marker}]"),
        None => format!("[{marker}]"),
    }
}

/// Whether a record's remark carries `marker`.
pub fn has_marker(remark: Option<&str>, marker: &str) -> bool {
    remark.is_some_and(|r| r.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_from_before_the_deadline_cannot_decide_a_timeout() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        let started = |secs_ago: i64| OperationStatus {
            started_at: Some(Time(
                Timestamp::now() - jiff::SignedDuration::from_secs(secs_ago),
            )),
            ..OperationStatus::default()
        };
        let timeout = Duration::from_secs(60);
        assert_eq!(
            not_before_deadline(&OperationStatus::default(), timeout),
            None
        );
        assert_eq!(
            not_before_deadline(&started(30), timeout),
            None,
            "before the deadline"
        );
        let nb = not_before_deadline(&started(70), timeout).expect("past the deadline");
        let since_deadline = nb.elapsed();
        assert!(
            since_deadline >= Duration::from_secs(9) && since_deadline <= Duration::from_secs(11),
            "the deadline, on the monotonic clock: {since_deadline:?} ago"
        );
    }

    #[test]
    fn remarks_carry_the_marker() {
        assert_eq!(
            remark_with_marker(Some("nightly"), "k8s:abc"),
            "nightly [k8s:abc]"
        );
        assert_eq!(remark_with_marker(Some("  "), "k8s:abc"), "[k8s:abc]");
        assert_eq!(remark_with_marker(None, "k8s:abc"), "[k8s:abc]");
        assert!(has_marker(Some("nightly [k8s:abc]"), "k8s:abc"));
        assert!(!has_marker(Some("nightly"), "k8s:abc"));
        assert!(!has_marker(None, "k8s:abc"));
    }
}

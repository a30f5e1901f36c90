//! DCS specifics shared by `DcsBackup` and `DcsRestore`: coalesced list polling and remark markers.

use std::sync::Arc;

use crate::cloud::client::CloudClient;
use crate::cloud::dcs::{DcsBackupRecord, DcsRestoreRecord};
use crate::cloud::error::Error as CloudError;
use crate::controller::context::{Context, ListKey};

/// Key of an instance's coalesced list: the account (hashed, never stored) and the instance id.
pub fn list_key(cloud: &CloudClient, instance_id: &str) -> ListKey {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cloud.account().hash(&mut h);
    (h.finish(), instance_id.to_string())
}

/// The instance's backup records, shared with every other poll of the same instance this tick.
pub async fn backups(
    ctx: &Context,
    cloud: &CloudClient,
    instance_id: &str,
) -> Result<Arc<Vec<DcsBackupRecord>>, CloudError> {
    let key = list_key(cloud, instance_id);
    ctx.dcs_backups
        .get_or_fetch(&key, None, || async move {
            cloud.dcs().list_backups(instance_id).await
        })
        .await
}

/// The instance's restore records, coalesced like [`backups`].
pub async fn restores(
    ctx: &Context,
    cloud: &CloudClient,
    instance_id: &str,
) -> Result<Arc<Vec<DcsRestoreRecord>>, CloudError> {
    let key = list_key(cloud, instance_id);
    ctx.dcs_restores
        .get_or_fetch(&key, None, || async move {
            cloud.dcs().list_restores(instance_id).await
        })
        .await
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

//! The real controllers against the fake API server: watch-triggered reconciles end to end.

use std::time::Duration;

use hwcloud_backup_operator::crd::Phase;
use serde_json::json;

use crate::harness::Harness;

/// Every kind reaches `Succeeded` through kube-runtime's watch, reflector and scheduler, as deployed.
#[tokio::test]
async fn controllers_drive_every_kind_to_success_through_watches() {
    let h = Harness::new().await;
    let running = h.run_controllers(4);
    let paths = [
        h.create(
            "DcsBackup",
            "dcsbackups",
            "w-dcs",
            json!({"instanceId": "dcs-w1"}),
        ),
        h.create(
            "DdsBackup",
            "ddsbackups",
            "w-dds",
            json!({"instanceId": "dds-w1"}),
        ),
        h.create(
            "TaurusDbBackup",
            "taurusdbbackups",
            "w-tdb",
            json!({"instanceId": "tdb-w1"}),
        ),
    ];
    h.wait_until(Duration::from_secs(20), "all three Succeeded", |h| {
        paths
            .iter()
            .all(|p| h.status(p).phase == Some(Phase::Succeeded))
    })
    .await;
    assert!(running.synced(), "caches report synced");
    running.stop().await;
    assert_eq!(h.cloud_calls("create_backup"), 3, "one create per resource");
}

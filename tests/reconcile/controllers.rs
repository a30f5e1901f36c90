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

/// The restore kinds through the real controllers: a `DdsRestore` waits for the `DdsBackup` it
/// names (created at the same moment) and restores it; a `TaurusDbRestore` restores a point in
/// time. Every watch event (the operator's own status writes included) sends no second restore.
#[tokio::test]
async fn controllers_drive_both_restore_kinds_through_watches_with_one_restore_each() {
    let h = Harness::new().await;
    let running = h.run_controllers(4);
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let backup = h.create(
        "DdsBackup",
        "ddsbackups",
        "w-base",
        json!({"instanceId": "dds-w2"}),
    );
    let paths = [
        h.create(
            "DdsRestore",
            "ddsrestores",
            "w-ddsr",
            json!({"instanceId": "dds-w2", "backupRef": {"name": "w-base"}}),
        ),
        h.create(
            "TaurusDbRestore",
            "taurusdbrestores",
            "w-tdbr",
            json!({"instanceId": "tdb-w2", "restoreTime": at.to_string()}),
        ),
    ];
    h.wait_until(Duration::from_secs(30), "both restores Succeeded", |h| {
        paths
            .iter()
            .all(|p| h.status(p).phase == Some(Phase::Succeeded))
    })
    .await;
    running.stop().await;
    assert_eq!(
        h.cloud_calls("create_restore"),
        2,
        "one restore per resource"
    );
    let restored = h.status(&paths[0]).backup_id;
    assert_eq!(restored, h.status(&backup).backup_id);
    assert_eq!(h.sim.restores().len(), 2);
}

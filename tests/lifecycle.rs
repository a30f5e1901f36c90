//! Whole lifecycles of every kind, driven through the real reconcilers against the cloud simulator
//! (over HTTP) and the in-memory API server.

#[path = "support/fake_api.rs"]
mod fake_api;
#[path = "support/harness.rs"]
mod harness;

use harness::Harness;
use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore, Phase};
use serde_json::json;

#[tokio::test]
async fn dcs_backup_runs_to_succeeded_with_one_cloud_backup() {
    let h = Harness::new().await;
    let path = h.create(
        "DcsBackup",
        "dcsbackups",
        "nightly",
        json!({"instanceId": "redis-1", "remark": "nightly"}),
    );
    h.drive::<DcsBackup>(&path, 50).await;
    let st = h.status(&path);
    assert_eq!(st.phase, Some(Phase::Succeeded));
    let id = st.backup_id.clone().expect("backup id");
    assert!(st.size_bytes.is_some_and(|s| s > 0), "{st:?}");
    assert!(st.started_at.is_some() && st.completed_at.is_some());
    assert_eq!(
        st.conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.status.as_str()),
        Some("True")
    );
    let backups = h.sim.backups();
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0].backup_id, id);
    let uid = h.api.get(&path).unwrap()["metadata"]["uid"]
        .as_str()
        .unwrap()
        .replace('-', "");
    assert!(
        backups[0]
            .description_or_remark
            .starts_with("nightly [k8s:"),
        "{}",
        backups[0].description_or_remark
    );
    assert!(backups[0].description_or_remark.contains(&uid));
    assert_eq!(
        h.api.event_reasons(),
        vec!["BackupStarted", "BackupSucceeded"]
    );
    assert_eq!(h.cloud_calls("create_backup"), 1);
}

#[tokio::test]
async fn dcs_restore_waits_for_its_backup_then_restores() {
    let h = Harness::new().await;
    let backup = h.create(
        "DcsBackup",
        "dcsbackups",
        "b1",
        json!({"instanceId": "redis-1"}),
    );
    let restore = h.create(
        "DcsRestore",
        "dcsrestores",
        "r1",
        json!({"instanceId": "redis-1", "backupRef": {"name": "b1"}}),
    );
    // The restore comes first and must wait, without touching the cloud's restore API.
    h.step::<DcsRestore>(&restore).await;
    let st = h.status(&restore);
    assert_eq!(st.phase, Some(Phase::Pending));
    assert_eq!(st.conditions[0].reason, "WaitingForBackup");
    h.drive::<DcsBackup>(&backup, 50).await;
    h.drive::<DcsRestore>(&restore, 50).await;
    let st = h.status(&restore);
    assert_eq!(st.phase, Some(Phase::Succeeded), "{st:?}");
    assert_eq!(st.backup_id, h.status(&backup).backup_id);
    assert!(st.restore_id.is_some());
    assert_eq!(h.cloud_calls("create_restore"), 1);
    assert_eq!(h.sim.restores().len(), 1);
}

#[tokio::test]
async fn dds_backup_runs_to_succeeded_with_job_and_size() {
    let h = Harness::new().await;
    let path = h.create(
        "DdsBackup",
        "ddsbackups",
        "mongo-daily",
        json!({"instanceId": "mongo-1", "description": "daily"}),
    );
    h.drive::<hwcloud_backup_operator::crd::DdsBackup>(&path, 50)
        .await;
    let st = h.status(&path);
    assert_eq!(st.phase, Some(Phase::Succeeded), "{st:?}");
    assert!(st.job_id.is_some() && st.backup_id.is_some());
    assert!(
        st.size_bytes.is_some_and(|s| s > 0 && s % 1024 == 0),
        "DDS reports KB: {st:?}"
    );
    let backups = h.sim.backups();
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0].service, "dds");
    assert!(
        backups[0].name.starts_with("k8s-team-a-mongo-daily-"),
        "{}",
        backups[0].name
    );
    assert!(backups[0].description_or_remark.starts_with("daily k8s:"));
    assert_eq!(h.cloud_calls("create_backup"), 1);
}

#[tokio::test]
async fn taurusdb_backup_runs_to_succeeded_with_a_chosen_name() {
    let h = Harness::new().await;
    let spec = json!({"instanceId": "taurus-1", "backupName": "before-upgrade"});
    let path = h.create("TaurusDbBackup", "taurusdbbackups", "pre-upgrade", spec);
    h.drive::<hwcloud_backup_operator::crd::TaurusDbBackup>(&path, 50)
        .await;
    let st = h.status(&path);
    assert_eq!(st.phase, Some(Phase::Succeeded), "{st:?}");
    assert!(
        st.size_bytes
            .is_some_and(|s| s > 0 && s % (1024 * 1024) == 0),
        "TaurusDB reports MB: {st:?}"
    );
    let backups = h.sim.backups();
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0].service, "taurus");
    assert_eq!(backups[0].name, "before-upgrade");
}

/// The fake API server's version log, which the benchmark's watch model reads: every write is kept
/// with its time, and a reader lagging behind sees the create marker without the cloud id.
#[tokio::test]
async fn fake_api_keeps_every_version_for_lagging_readers() {
    let h = Harness::new().await;
    h.api.track_versions();
    h.api.log_reads(false);
    let path = h.create(
        "DcsBackup",
        "dcsbackups",
        "versioned",
        json!({"instanceId": "redis-1"}),
    );
    let reads = h.api.reads();
    h.step::<DcsBackup>(&path).await;
    assert!(h.api.reads() > reads, "the Secret GET is counted");
    assert!(
        h.api.calls().iter().all(|c| c.method != http::Method::GET),
        "reads are not logged"
    );
    let times = h.api.versions_since(&path, 0);
    // The create, the marker write, the write with the cloud id.
    assert_eq!(times.len(), 3, "{times:?}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let marker_only = h.api.get_as_of(&path, times[1]).unwrap();
    assert!(marker_only["status"]["createRequestedAt"].is_string());
    assert!(marker_only["status"]["backupId"].is_null());
    let latest = h.api.get_as_of(&path, times[2]).unwrap();
    assert!(latest["status"]["backupId"].is_string());
    assert_eq!(h.api.versions_since(&path, 2).len(), 1);
    let writes = h.api.take_calls();
    assert!(writes.iter().any(|c| c.path.ends_with("/status")));
    assert!(h.api.calls().is_empty(), "take_calls drains the log");
}

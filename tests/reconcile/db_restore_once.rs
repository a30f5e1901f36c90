//! A DDS or TaurusDB restore is never sent twice: after a request whose fate is unknown, its job
//! is looked for (DDS job list) and adopted, or the resource ends `RestoreOutcomeUnknown`. And
//! Open Telekom Cloud, which documents neither the TaurusDB in-place restore nor the DDS job list.

use std::time::Duration;

use hwcloud_backup_operator::cloud::restore_wire::RestoreFrom;
use hwcloud_backup_operator::crd::{DdsBackup, DdsRestore, Phase, TaurusDbRestore};
use hwcloud_backup_operator::sim::SimConfig;
use jiff::{Timestamp, ToSpan};
use serde_json::json;

use crate::common::{assert_quiet, assert_state, create_with, events_for, time_value};
use crate::harness::{Harness, fast_settings};
use crate::kinds::{Kind, direct, finished_db_backup};

/// A restore whose request was recorded `ago` (marker set, no job id): what a crash between the
/// request and the status write leaves.
fn interrupted<K: Kind>(h: &Harness, name: &str, backup: &str, ago: Duration) -> String {
    let at = Timestamp::now() - jiff::SignedDuration::try_from(ago).unwrap();
    let spec = json!({"instanceId": K::INSTANCE, "backupId": backup});
    let status =
        json!({"phase": "Pending", "backupId": backup, "createRequestedAt": time_value(at)});
    create_with::<K>(h, name, spec, json!({}), status)
}

/// Failed with `RestoreOutcomeUnknown`, a message that sends the user to the console, no restore
/// call, and quiet afterwards.
async fn assert_unknown<K: Kind>(h: &Harness, path: &str, needle: &str) {
    let st = h.status(path);
    assert_state(&st, Phase::Failed, "RestoreOutcomeUnknown");
    let message = st.message.clone().unwrap_or_default();
    assert!(
        message.contains("cloud console") && message.contains(needle),
        "{message}"
    );
    assert_eq!(h.cloud_calls("create_restore"), 0, "never sent again");
    assert_quiet::<K>(h, path).await;
}

#[tokio::test]
async fn an_old_marker_with_no_job_listed_ends_outcome_unknown_and_never_restores_again() {
    let h = Harness::new().await;
    let backup = finished_db_backup(&h, "dds", DdsRestore::INSTANCE).await;
    h.sim.reset_calls();
    let path = interrupted::<DdsRestore>(&h, "lost", &backup, Duration::from_secs(5));
    assert_eq!(h.step::<DdsRestore>(&path).await, None);
    assert_eq!(h.cloud_calls("list_jobs"), 1, "looked in the job list once");
    assert_unknown::<DdsRestore>(&h, &path, "nothing it started on instance mongo-1").await;
    assert_eq!(events_for(&h, "lost"), vec!["RestoreOutcomeUnknown"]);
}

#[tokio::test]
async fn a_young_marker_waits_for_the_job_to_show_up_and_adopts_it() {
    let h = Harness::new().await;
    let backup = finished_db_backup(&h, "dds", DdsRestore::INSTANCE).await;
    let path = interrupted::<DdsRestore>(&h, "late", &backup, Duration::ZERO);
    h.step::<DdsRestore>(&path).await;
    assert_state(&h.status(&path), Phase::Pending, "Creating");
    // The request lands now, as a late one would.
    let job = direct(&h)
        .dds()
        .restore(DdsRestore::INSTANCE, &RestoreFrom::Backup(backup.clone()))
        .await
        .unwrap();
    h.sim.reset_calls();
    h.drive::<DdsRestore>(&path, 50).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(st.job_id.as_deref(), Some(job.as_str()));
    assert_eq!(
        st.backup_id.as_deref(),
        Some(backup.as_str()),
        "kept from the marker"
    );
    assert_eq!(h.cloud_calls("create_restore"), 0);
    assert_eq!(events_for(&h, "late")[..2], ["Creating", "Adopted"]);
}

#[tokio::test]
async fn two_restore_jobs_since_the_request_cannot_be_told_apart() {
    let h = Harness::new().await;
    let backup = finished_db_backup(&h, "dds", DdsRestore::INSTANCE).await;
    let path = interrupted::<DdsRestore>(&h, "twice", &backup, Duration::ZERO);
    let from = RestoreFrom::Backup(backup.clone());
    for _ in 0..2 {
        direct(&h)
            .dds()
            .restore(DdsRestore::INSTANCE, &from)
            .await
            .unwrap();
        tokio::time::sleep(h.sim.config().backup_duration + Duration::from_millis(50)).await;
    }
    h.sim.reset_calls();
    assert_eq!(h.step::<DdsRestore>(&path).await, None);
    assert_unknown::<DdsRestore>(&h, &path, "cannot be told").await;
}

#[tokio::test]
async fn an_interrupted_taurusdb_restore_is_reported_unknown_at_once() {
    let h = Harness::new().await;
    let backup = finished_db_backup(&h, "taurus", TaurusDbRestore::INSTANCE).await;
    h.sim.reset_calls();
    let path = interrupted::<TaurusDbRestore>(&h, "lost", &backup, Duration::ZERO);
    assert_eq!(h.step::<TaurusDbRestore>(&path).await, None);
    assert_eq!(h.sim.calls(), vec![], "TaurusDB has no job list to search");
    assert_unknown::<TaurusDbRestore>(&h, &path, "TaurusDB documents no job name").await;
}

/// A simulator that behaves as OTC does, and a Secret that says the account is OTC.
async fn otc() -> Harness {
    let cfg = SimConfig {
        otc: true,
        backup_duration: Duration::from_millis(400),
        ..SimConfig::default()
    };
    let h = Harness::with(cfg, fast_settings()).await;
    let mut data = h.secret_data();
    data["cloud"] = json!("otc");
    h.put_secret(crate::harness::SECRET, data);
    h
}

#[tokio::test]
async fn on_otc_an_interrupted_dds_restore_is_reported_unknown_as_jobs_cannot_be_listed() {
    let h = otc().await;
    let backup = finished_db_backup(&h, "dds", DdsRestore::INSTANCE).await;
    h.sim.reset_calls();
    let path = interrupted::<DdsRestore>(&h, "lost", &backup, Duration::ZERO);
    assert_eq!(h.step::<DdsRestore>(&path).await, None);
    assert_unknown::<DdsRestore>(&h, &path, "does not list its jobs").await;
}

#[tokio::test]
async fn on_otc_a_dds_restore_runs() {
    let h = otc().await;
    let spec = DdsRestore::spec(&h, DdsRestore::INSTANCE).await;
    let path = h.create(DdsRestore::KIND, DdsRestore::PLURAL, "r", spec);
    h.drive::<DdsRestore>(&path, 50).await;
    assert_state(&h.status(&path), Phase::Succeeded, "Succeeded");
}

#[tokio::test]
async fn on_otc_a_taurusdb_restore_is_tried_once_and_fails_naming_the_limitation() {
    let h = otc().await;
    let spec = TaurusDbRestore::spec(&h, TaurusDbRestore::INSTANCE).await;
    let path = h.create(TaurusDbRestore::KIND, TaurusDbRestore::PLURAL, "r", spec);
    assert_eq!(h.step::<TaurusDbRestore>(&path).await, None);
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "CloudError");
    let message = st.message.unwrap_or_default();
    assert!(
        message.contains("APIGW.0101") && message.contains("Open Telekom Cloud does not document"),
        "{message}"
    );
    assert_eq!(h.cloud_calls("create_restore"), 1);
    assert_quiet::<TaurusDbRestore>(&h, &path).await;
    // The refusal says nothing about the credentials: the account keeps working.
    let backup = h.create(
        "DdsBackup",
        "ddsbackups",
        "b",
        json!({"instanceId": "mongo-2"}),
    );
    h.drive::<DdsBackup>(&backup, 50).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Succeeded));
}

#[tokio::test]
async fn on_otc_a_taurusdb_point_in_time_restore_fails_before_any_restore_call() {
    let h = otc().await;
    let at = Timestamp::now() - 1.hour();
    let spec = json!({"instanceId": TaurusDbRestore::INSTANCE, "restoreTime": at.to_string()});
    let path = h.create(TaurusDbRestore::KIND, TaurusDbRestore::PLURAL, "pitr", spec);
    assert_eq!(h.step::<TaurusDbRestore>(&path).await, None);
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "CloudError");
    assert!(
        st.message
            .unwrap_or_default()
            .contains("Open Telekom Cloud does not document")
    );
    assert_eq!(h.cloud_calls("create_restore"), 0);
}

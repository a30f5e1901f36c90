//! Specs that slipped past the CRD schema (written before it existed, or with validation off):
//! the controller fails them with `InvalidSpec` before any cloud call, and never retries.

use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore, DdsBackup, Phase, TaurusDbBackup};
use serde_json::{Value, json};

use crate::common::{assert_quiet, assert_state, events_for};
use crate::harness::Harness;
use crate::kinds::Kind;

/// Creates `spec`, reconciles once, and checks the resource failed on `field` without cloud calls.
async fn assert_invalid<K: Kind>(spec: Value, field: &str) {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "bad", spec);
    assert_eq!(h.step::<K>(&path).await, None, "never retried");
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "InvalidSpec");
    let message = st.message.clone().unwrap_or_default();
    assert!(message.contains(field), "names the field: {message}");
    assert!(st.create_requested_at.is_none() && K::op_id(&st).is_none());
    assert_eq!(h.sim.calls(), vec![], "no cloud call for an invalid spec");
    assert_eq!(events_for(&h, "bad"), vec![format!("{}Failed", K::NOUN)]);
    assert_quiet::<K>(&h, &path).await;
}

each_kind!(empty_instance_id);
async fn empty_instance_id<K: Kind>() {
    assert_invalid::<K>(K::plain_spec(""), "spec.instanceId").await;
}

each_kind!(bad_credentials_secret_name);
async fn bad_credentials_secret_name<K: Kind>() {
    let mut spec = K::plain_spec(K::INSTANCE);
    spec["credentialsSecretRef"] = json!({"name": "Not_A_Name"});
    assert_invalid::<K>(spec, "spec.credentialsSecretRef.name").await;
}

#[tokio::test]
async fn dcs_backup_timeout_out_of_range() {
    let spec = json!({"instanceId": DcsBackup::INSTANCE, "timeout": "0s"});
    assert_invalid::<DcsBackup>(spec, "spec.timeout").await;
}

#[tokio::test]
async fn dds_backup_bad_backup_name() {
    let spec = json!({"instanceId": DdsBackup::INSTANCE, "backupName": "1st backup"});
    assert_invalid::<DdsBackup>(spec, "spec.backupName").await;
}

#[tokio::test]
async fn taurusdb_backup_bad_backup_name() {
    let spec = json!({"instanceId": TaurusDbBackup::INSTANCE, "backupName": "ab"});
    assert_invalid::<TaurusDbBackup>(spec, "spec.backupName").await;
}

#[tokio::test]
async fn taurusdb_backup_bad_description() {
    let spec = json!({"instanceId": TaurusDbBackup::INSTANCE, "description": "a<b"});
    assert_invalid::<TaurusDbBackup>(spec, "spec.description").await;
}

#[tokio::test]
async fn dcs_restore_without_a_backup() {
    let spec = json!({"instanceId": DcsRestore::INSTANCE});
    assert_invalid::<DcsRestore>(spec, "backup").await;
}

#[tokio::test]
async fn dcs_restore_with_both_ref_and_id() {
    let spec = json!({"instanceId": DcsRestore::INSTANCE, "backupRef": {"name": "b"},
        "backupId": "0b5e2f6a-0000-4000-8000-000000000000"});
    assert_invalid::<DcsRestore>(spec, "backup").await;
}

//! The uniform [`BackupResource`] view and the derived DDS/TaurusDB backup names.

mod support;

use std::time::Duration;

use hwcloud_backup_operator::crd::{
    BackupResource, DcsBackup, DcsRestore, DdsBackup, DeletionPolicy, OperationStatus, Phase,
    TaurusDbBackup, rules,
};
use serde_json::{Value, json};
use support::{apiserver_errors, object, schema_of};

fn typed<K: BackupResource>(kind: &str, spec: Value) -> K {
    serde_json::from_value(object(kind, spec)).unwrap()
}

#[test]
fn kind_labels_and_default_timeouts() {
    assert_eq!(DcsBackup::KIND_LABEL, "dcsbackup");
    assert_eq!(DcsRestore::KIND_LABEL, "dcsrestore");
    assert_eq!(DdsBackup::KIND_LABEL, "ddsbackup");
    assert_eq!(TaurusDbBackup::KIND_LABEL, "taurusdbbackup");

    let minutes = |m: u64| Ok(Duration::from_secs(m * 60));
    let spec = json!({"instanceId": "i-1", "backupId": "b-1"});
    assert_eq!(
        typed::<DcsBackup>("DcsBackup", spec.clone()).effective_timeout(),
        minutes(30)
    );
    assert_eq!(
        typed::<DcsRestore>("DcsRestore", spec.clone()).effective_timeout(),
        minutes(30)
    );
    assert_eq!(
        typed::<DdsBackup>("DdsBackup", json!({"instanceId": "i-1"})).effective_timeout(),
        minutes(60)
    );
    assert_eq!(
        typed::<TaurusDbBackup>("TaurusDbBackup", json!({"instanceId": "i-1"})).effective_timeout(),
        minutes(60)
    );
    let with_timeout = typed::<DdsBackup>(
        "DdsBackup",
        json!({"instanceId": "i-1", "timeout": "1h30m"}),
    );
    assert_eq!(with_timeout.effective_timeout(), minutes(90));
}

#[test]
fn accessors_read_spec_and_status() {
    let mut b: DdsBackup = typed(
        "DdsBackup",
        json!({"instanceId": "i-1", "credentialsSecretRef": {"name": "creds"}, "timeout": "2h", "deletionPolicy": "Delete"}),
    );
    assert_eq!(b.instance_id(), "i-1");
    assert_eq!(b.credentials_secret(), Some("creds"));
    assert_eq!(b.timeout(), Some("2h"));
    assert_eq!(b.deletion_policy(), DeletionPolicy::Delete);
    assert_eq!(b.status(), None);
    b.status = Some(OperationStatus {
        phase: Some(Phase::Succeeded),
        ..Default::default()
    });
    assert!(b.status().unwrap().is_terminal());

    let plain: DcsBackup = typed("DcsBackup", json!({"instanceId": "i-1"}));
    assert_eq!(plain.credentials_secret(), None);
    assert_eq!(
        plain.deletion_policy(),
        DeletionPolicy::Retain,
        "deletionPolicy defaults to Retain"
    );
}

#[test]
fn restores_never_delete_in_the_cloud() {
    let r: DcsRestore = typed(
        "DcsRestore",
        json!({"instanceId": "i-1", "backupRef": {"name": "nightly"}}),
    );
    assert_eq!(r.deletion_policy(), DeletionPolicy::Retain);
}

#[test]
fn default_backup_names_are_derived_and_pass_the_crd_rule() {
    let dds: DdsBackup = typed("DdsBackup", json!({"instanceId": "i-1"}));
    assert_eq!(dds.default_backup_name(), "k8s-prod-nightly-0f9e8d7c");
    assert_eq!(dds.effective_backup_name(), "k8s-prod-nightly-0f9e8d7c");
    let named: TaurusDbBackup = typed(
        "TaurusDbBackup",
        json!({"instanceId": "i-1", "backupName": "mine"}),
    );
    assert_eq!(named.effective_backup_name(), "mine");
    assert_eq!(named.default_backup_name(), "k8s-prod-nightly-0f9e8d7c");

    // A long, dotted name still gives something the CRD itself would accept as backupName.
    let mut long = object("DdsBackup", json!({"instanceId": "i-1"}));
    long["metadata"]["name"] = json!(format!("{}.example.com", "a".repeat(200)));
    long["metadata"]["namespace"] = json!("n".repeat(63));
    let long: DdsBackup = serde_json::from_value(long).unwrap();
    let name = long.default_backup_name();
    assert_eq!(name.len(), 64);
    assert!(name.ends_with("-0f9e8d7c"));
    let spec = json!({"instanceId": "i-1", "backupName": name});
    assert_eq!(
        apiserver_errors(&schema_of("DdsBackup"), &object("DdsBackup", spec), None),
        Vec::<String>::new()
    );
    assert!(rules::is_backup_name(&name));
}

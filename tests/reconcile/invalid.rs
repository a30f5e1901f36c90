//! Specs that slipped past the CRD schema (written before it existed, or with validation off):
//! the controller fails them with `InvalidSpec` before any cloud call, and never retries. The spec
//! is checked before a create only: an upgrade that tightens a rule never fails a resource whose
//! cloud operation runs, or may have started (a marker: the adoption still happens).

use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore, DdsBackup, Phase, TaurusDbBackup};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::common::{
    assert_quiet, assert_state, create_with, events_for, fresh_context, requeue, time_value,
};
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

/// What an operator upgrade that tightens a rule does to a stored spec: the resource at `path` now
/// has a `timeout` over the current limit (168 h).
fn tighten(h: &Harness, path: &str) {
    let mut obj = h.api.get(path).expect("stored");
    obj["spec"]["timeout"] = json!("200h");
    h.api.put(path, obj);
}

/// Reconciles with `ctx` (a new operator process) until terminal, at most `steps` times.
async fn run_with<K: Kind>(
    h: &Harness,
    ctx: &hwcloud_backup_operator::controller::context::Context,
    path: &str,
    steps: usize,
) {
    for _ in 0..steps {
        let obj: K = h.load(path);
        let next = reconcile_once(&obj, ctx).await.expect("reconcile");
        if h.status(path).is_terminal() {
            return;
        }
        requeue(next).await;
    }
    panic!("{path} not terminal: {:?}", h.status(path));
}

each_kind!(an_upgrade_that_tightens_a_rule_does_not_fail_a_running_resource);
/// The spec is validated before the create only: a running operation is followed to its end.
async fn an_upgrade_that_tightens_a_rule_does_not_fail_a_running_resource<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "older", K::spec(&h, K::INSTANCE).await);
    h.step::<K>(&path).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Running));
    tighten(&h, &path);
    let upgraded = fresh_context(&h);
    run_with::<K>(&h, &upgraded, &path, 50).await;
    assert_state(&h.status(&path), Phase::Succeeded, "Succeeded");
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
}

each_findable_kind!(an_upgrade_that_tightens_a_rule_still_adopts_an_interrupted_create);
/// The operator stopped between the create and the ids write; the new version has a tighter rule.
/// The object the create made is adopted all the same (it exists, whatever the spec says now).
async fn an_upgrade_that_tightens_a_rule_still_adopts_an_interrupted_create<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "older", K::spec(&h, K::INSTANCE).await);
    h.step::<K>(&path).await;
    let made = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1);
    let mut obj = h.api.get(&path).expect("stored");
    obj["status"] = json!({"phase": "Pending", "createRequestedAt": time_value(Timestamp::now())});
    h.api.put(&path, obj);
    tighten(&h, &path);
    let upgraded = fresh_context(&h);
    run_with::<K>(&h, &upgraded, &path, 50).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(K::op_id(&st), Some(made[0].id.clone()), "adopted");
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
    assert!(events_for(&h, "older").contains(&"Adopted".to_string()));
}

each_recreating_kind!(an_old_marker_with_nothing_found_is_validated_before_creating_again);
/// Before a second create, the spec is checked again: the rule holds for what is created now.
async fn an_old_marker_with_nothing_found_is_validated_before_creating_again<K: Kind>() {
    let h = Harness::new().await;
    let mut spec = K::spec(&h, K::INSTANCE).await;
    spec["timeout"] = json!("200h");
    let at = Timestamp::now() - SignedDuration::from_hours(1);
    let status = json!({"phase": "Pending", "createRequestedAt": time_value(at)});
    let path = create_with::<K>(&h, "older", spec, json!({}), status);
    assert_eq!(h.step::<K>(&path).await, None);
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "InvalidSpec");
    assert_eq!(h.cloud_calls(K::CREATE), 0, "no second create");
    assert!(
        h.sim.calls().iter().all(|c| c.operation != K::CREATE),
        "{:?}",
        h.sim.calls()
    );
}

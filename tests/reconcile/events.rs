//! Event types: a wait the operator expects (its own queue, a restore's backup still running) is a
//! Normal event; what someone may have to act on (the cloud busy with another operation, a
//! failure) stays a Warning.

use hwcloud_backup_operator::crd::DcsRestore;
use serde_json::json;

use crate::harness::Harness;
use crate::kinds::Kind;

/// `(reason, type)` of the events about `name`, in order.
fn typed_events(h: &Harness, name: &str) -> Vec<(String, String)> {
    h.api
        .events()
        .iter()
        .filter(|e| e["regarding"]["name"] == name)
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("reason"), s("type"))
        })
        .collect()
}

fn pair(reason: &str, type_: &str) -> (String, String) {
    (reason.to_string(), type_.to_string())
}

each_kind!(the_operators_own_queue_is_a_normal_event);
async fn the_operators_own_queue_is_a_normal_event<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let first = h.create(K::KIND, K::PLURAL, "first", spec.clone());
    let second = h.create(K::KIND, K::PLURAL, "second", spec);
    h.step::<K>(&first).await;
    h.step::<K>(&second).await;
    assert_eq!(
        typed_events(&h, "second"),
        vec![pair("InstanceBusy", "Normal")]
    );
}

each_backup_kind!(a_cloud_busy_with_another_operation_stays_a_warning);
async fn a_cloud_busy_with_another_operation_stays_a_warning<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    K::occupy(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "patient", spec);
    h.step::<K>(&path).await;
    assert_eq!(
        typed_events(&h, "patient"),
        vec![pair("InstanceBusy", "Warning")]
    );
}

#[tokio::test]
async fn a_restore_waiting_for_its_backup_is_a_normal_event() {
    let h = Harness::new().await;
    let spec = json!({"instanceId": "redis-1", "backupRef": {"name": "later"}});
    let restore = h.create("DcsRestore", "dcsrestores", "r", spec);
    h.step::<DcsRestore>(&restore).await;
    assert_eq!(
        typed_events(&h, "r"),
        vec![pair("WaitingForBackup", "Normal")]
    );
}

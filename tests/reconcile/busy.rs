//! One operation per instance: the operator queues its own resources, and a busy answer from the
//! cloud (someone else's operation) is waited out, never a failure.

use hwcloud_backup_operator::crd::Phase;

use crate::common::{assert_state, events_for, requeue};
use crate::harness::Harness;
use crate::kinds::Kind;

each_kind!(second_resource_on_an_instance_waits_for_the_first);
async fn second_resource_on_an_instance_waits_for_the_first<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let first = h.create(K::KIND, K::PLURAL, "first", spec.clone());
    let second = h.create(K::KIND, K::PLURAL, "second", spec);
    h.step::<K>(&first).await;
    assert_eq!(h.status(&first).phase, Some(Phase::Running));

    let mut waits = 0;
    while !h.status(&first).is_terminal() {
        let next = h.step::<K>(&second).await;
        let st = h.status(&second);
        assert_state(&st, Phase::Pending, "InstanceBusy");
        assert!(st.create_requested_at.is_none(), "no marker while queued");
        assert_eq!(h.cloud_calls(K::CREATE), 1, "the second never calls create");
        waits += 1;
        requeue(next).await;
        h.step::<K>(&first).await;
    }
    assert!(waits > 0);
    assert_eq!(h.status(&first).phase, Some(Phase::Succeeded));

    h.drive::<K>(&second, 50).await;
    assert_eq!(h.status(&second).phase, Some(Phase::Succeeded));
    assert_eq!(h.cloud_calls(K::CREATE), 2);
    assert_eq!(K::made(&h, K::INSTANCE).len(), 2);
    let events = events_for(&h, "second");
    assert_eq!(events[0], "InstanceBusy", "{events:?}");
    assert_eq!(
        events.iter().filter(|e| *e == "InstanceBusy").count(),
        1,
        "announced once, not on every retry: {events:?}"
    );
}

each_kind!(cloud_busy_instance_is_waited_out);
/// Someone started an operation on the instance outside the operator: the cloud answers with its
/// busy code, the resource stays Pending without a marker and succeeds later.
async fn cloud_busy_instance_is_waited_out<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    K::occupy(&h, K::INSTANCE).await;
    h.sim.reset_calls();
    let path = h.create(K::KIND, K::PLURAL, "patient", spec);
    h.step::<K>(&path).await;

    let st = h.status(&path);
    assert_state(&st, Phase::Pending, "InstanceBusy");
    assert_eq!(
        st.create_requested_at, None,
        "the cloud refused: nothing to adopt"
    );
    assert_eq!(K::op_id(&st), None);
    let message = st.message.clone().unwrap_or_default();
    assert!(message.contains(K::BUSY_CODE), "{message}");
    let creates: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.operation == K::CREATE)
        .collect();
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert!((400..500).contains(&creates[0].status), "{creates:?}");
    assert_eq!(events_for(&h, "patient"), vec!["InstanceBusy"]);

    h.drive::<K>(&path, 50).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
}

/// The claim is per instance across kinds: a restore waits for a backup of its instance.
#[tokio::test]
async fn restore_waits_for_a_backup_running_on_its_instance() {
    use hwcloud_backup_operator::crd::{DcsBackup, DcsRestore};
    let h = Harness::new().await;
    let spec = DcsRestore::spec(&h, DcsRestore::INSTANCE).await;
    let backup = h.create(
        DcsBackup::KIND,
        DcsBackup::PLURAL,
        "backup",
        DcsBackup::plain_spec(DcsRestore::INSTANCE),
    );
    let restore = h.create(DcsRestore::KIND, DcsRestore::PLURAL, "restore", spec);
    h.step::<DcsBackup>(&backup).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Running));
    h.step::<DcsRestore>(&restore).await;
    assert_state(&h.status(&restore), Phase::Pending, "InstanceBusy");
    let message = h.status(&restore).message.unwrap_or_default();
    assert!(
        message.contains(DcsRestore::INSTANCE) && !message.contains("DcsBackup/"),
        "names the instance, not the holder (waiters would rewrite status on every handover): {message}"
    );
    assert_eq!(h.cloud_calls("create_restore"), 0);

    h.drive::<DcsBackup>(&backup, 50).await;
    h.drive::<DcsRestore>(&restore, 50).await;
    assert_state(&h.status(&restore), Phase::Succeeded, "Succeeded");
    assert_eq!(h.cloud_calls("create_restore"), 1);
}

//! A stale cache must not drop the create marker.
//!
//! The first reconcile writes the marker, and the create's answer is lost although the cloud made
//! the backup. The next reconcile is handed a copy from before the marker write (a watch event of an
//! earlier write, such as the finalizer, delivered late). If that copy won, the operator would plan
//! a fresh create, the cloud would refuse it as busy (its first backup runs), the refusal would
//! clear the marker, the first backup would never be adopted and a second one would be made later.

use std::time::Duration;

use crate::harness::SECRET;
use crate::proxy::LossyProxy;
use crate::rig::{self, Kind};

async fn stale_copy_after_a_lost_create_answer(kind: Kind) {
    let h = rig::fast_harness().await;
    let proxy = LossyProxy::start(h.sim.base_url()).await;
    h.put_secret(SECRET, proxy.secret_data(h.secret_data()));
    let instance = format!("stale-{}", kind.service());
    let path = rig::resource(&h, kind, "stale-marker", &instance).await;
    // Long enough that the instance is still busy with the first backup at the second reconcile.
    h.sim.set_backup_duration(Duration::from_secs(2));
    let stale = h.api.get(&path).expect("stored");

    proxy.lose_next_creates(1);
    let ctx = rig::restart(&h.api, rig::settings(), None);
    let _ = kind.reconcile(&ctx, stale.clone()).await;
    let st = rig::status(&h.api, &path);
    let marker = rig::marker(&h.api, &path);
    assert!(st.create_requested_at.is_some(), "{kind:?}: {st:?}");
    assert_eq!(
        rig::cloud_ids(&h.sim, kind, &marker).len(),
        1,
        "made, answer lost"
    );
    assert_eq!(proxy.lost(), 1);

    // The same process, after its retry wait, is handed the copy from before the marker write.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = kind.reconcile(&ctx, stale).await;
    let st = rig::status(&h.api, &path);
    assert!(
        st.create_requested_at.is_some() || kind.id_of(&st).is_some(),
        "{kind:?}: the marker was dropped: {st:?}"
    );

    rig::run_to_terminal(&h.api, &ctx, kind, &path, Duration::from_secs(20))
        .await
        .unwrap();
    rig::assert_one_and_succeeded(&h.api, &rig::Snapshot::take(&h.api, &h.sim), kind, &path);
}

#[tokio::test]
async fn a_stale_copy_after_a_lost_create_answer_keeps_the_marker_dcs_backup() {
    stale_copy_after_a_lost_create_answer(Kind::DcsBackup).await;
}

#[tokio::test]
async fn a_stale_copy_after_a_lost_create_answer_keeps_the_marker_dcs_restore() {
    stale_copy_after_a_lost_create_answer(Kind::DcsRestore).await;
}

#[tokio::test]
async fn a_stale_copy_after_a_lost_create_answer_keeps_the_marker_dds_backup() {
    stale_copy_after_a_lost_create_answer(Kind::Dds).await;
}

#[tokio::test]
async fn a_stale_copy_after_a_lost_create_answer_keeps_the_marker_taurusdb_backup() {
    stale_copy_after_a_lost_create_answer(Kind::Taurus).await;
}

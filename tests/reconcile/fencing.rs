//! A replica that may not lead writes no create marker and starts no create: one that lost the
//! lease (or could not renew it) is fenced, also when it loses the lease between the marker write
//! and the create, and one acting on an outdated copy of the object loses the marker write to the
//! resourceVersion precondition.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::controller::context::Context;
use hwcloud_backup_operator::controller::driver::{error_policy, reconcile_once};
use hwcloud_backup_operator::controller::error::Error;
use hwcloud_backup_operator::crd::{OperationStatus, Phase};
use hwcloud_backup_operator::fence::{Fence, Renewals};
use hwcloud_backup_operator::metrics::Metrics;
use kube::runtime::events::Reporter;
use serde_json::json;

use crate::harness::{Harness, fast_settings, fast_transport};
use crate::kinds::Kind;

fn fenced_context(h: &Harness, fence: Fence) -> Context {
    let reporter = Reporter {
        controller: "hwcloud-backup-operator".into(),
        instance: Some("stale-replica".into()),
    };
    Context::new(
        h.api.client(),
        CloudClients::new(fast_transport(), None),
        fast_settings(),
        Arc::new(Metrics::new()),
        reporter,
    )
    .with_fence(fence)
}

each_kind!(a_replica_that_lost_the_lease_writes_no_marker_and_creates_nothing);
async fn a_replica_that_lost_the_lease_writes_no_marker_and_creates_nothing<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "fenced", spec);
    let (leading, rx) = tokio::sync::watch::channel(true);
    let renewals = Renewals::default();
    renewals.record(Instant::now());
    let ctx = fenced_context(&h, Fence::lease(rx, renewals, Duration::from_secs(60)));
    leading.send_replace(false);

    let err = reconcile_once(&h.load::<K>(&path), &ctx).await.unwrap_err();
    assert_eq!(err.reason(), "Fenced", "{err}");
    assert_eq!(h.status(&path), OperationStatus::default(), "no marker");
    assert_eq!(h.cloud_calls(K::CREATE), 0);
}

each_kind!(a_replica_whose_renewal_is_overdue_writes_no_marker_and_creates_nothing);
async fn a_replica_whose_renewal_is_overdue_writes_no_marker_and_creates_nothing<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "overdue", spec);
    let (_leading, rx) = tokio::sync::watch::channel(true);
    let renewals = Renewals::default();
    renewals.record(Instant::now() - Duration::from_secs(20));
    let ctx = fenced_context(&h, Fence::lease(rx, renewals, Duration::from_secs(13)));

    let err = reconcile_once(&h.load::<K>(&path), &ctx).await.unwrap_err();
    assert_eq!(err.reason(), "Fenced", "{err}");
    assert_eq!(h.status(&path), OperationStatus::default(), "no marker");
    assert_eq!(h.cloud_calls(K::CREATE), 0);
}

each_kind!(a_stale_copy_loses_the_marker_write_and_creates_nothing);
/// Another writer changed the object after this copy was read (another replica wrote its marker,
/// or the cache lags): the marker write carries the copy's resourceVersion and is refused.
async fn a_stale_copy_loses_the_marker_write_and_creates_nothing<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "stale", spec);
    let stale: K = h.load(&path);
    let mut newer = h.api.get(&path).unwrap();
    newer["metadata"]["labels"] = json!({"touched": "yes"});
    h.api.put(&path, newer);

    let err = reconcile_once(&stale, &h.ctx).await.unwrap_err();
    assert!(
        matches!(&err, Error::Kube(kube::Error::Api(s)) if s.code == 409),
        "{err}"
    );
    assert_eq!(h.status(&path), OperationStatus::default(), "no marker");
    assert_eq!(h.cloud_calls(K::CREATE), 0);

    // The current copy goes ahead.
    assert!(h.step::<K>(&path).await.is_some());
    assert_eq!(h.cloud_calls(K::CREATE), 1);
}

each_recreating_kind!(a_lease_lost_while_the_marker_write_is_in_flight_sends_no_create);
/// The lease is lost inside one reconcile: after the fence let the marker write go and before the
/// create call (the election flips while the write is on its way to the API server). The marker
/// lands, no create is sent, the reconcile fails `Fenced` and is requeued; the replica that leads
/// next waits out the adoption window for that marker and makes exactly one cloud object.
async fn a_lease_lost_while_the_marker_write_is_in_flight_sends_no_create<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "handover", spec);
    let (leading, rx) = tokio::sync::watch::channel(true);
    let renewals = Renewals::default();
    renewals.record(Instant::now());
    let marker_write = format!("{path}/status");
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hook = {
        let lost = lost.clone();
        move |method: &http::Method, p: &str, body: &serde_json::Value| {
            if method == http::Method::PATCH
                && p == marker_write
                && !body["status"]["createRequestedAt"].is_null()
            {
                leading.send_replace(false);
                lost.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    };
    let mut old_leader = fenced_context(&h, Fence::lease(rx, renewals, Duration::from_secs(60)));
    old_leader.client = h.api.client_with_hook(Arc::new(hook));
    let old_leader = Arc::new(old_leader);

    // The old leader reconciles as the runtime would (a finalizer write may come first) until the
    // reconcile that writes the marker.
    let mut outcome = None;
    for _ in 0..5 {
        outcome = Some(reconcile_once(&h.load::<K>(&path), &old_leader).await);
        if lost.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
    }
    assert!(
        lost.load(std::sync::atomic::Ordering::SeqCst),
        "the marker was written"
    );
    assert_eq!(h.cloud_calls(K::CREATE), 0, "no create after the marker");
    assert!(
        h.status(&path).create_requested_at.is_some(),
        "the marker write was let through before the lease was lost"
    );
    let err = outcome.expect("reconciled").unwrap_err();
    assert_eq!(err.reason(), "Fenced", "{err}");
    let action = error_policy(Arc::new(h.load::<K>(&path)), &err, old_leader.clone());
    assert!(
        format!("{action:?}").contains("requeue_after: Some"),
        "{action:?}"
    );
    // Requeued, it looks for what its marker made, and where it would create again it is fenced.
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let again = reconcile_once(&h.load::<K>(&path), &old_leader).await;
        outcomes.push(again.map_err(|e| e.reason()));
    }
    assert_eq!(h.cloud_calls(K::CREATE), 0, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(Some(_)) | Err("Fenced"))),
        "requeued or fenced, nothing else: {outcomes:?}"
    );

    // The new leader finds the marker, waits out the adoption window, and creates once.
    h.drive::<K>(&path, 100).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    assert_eq!(h.cloud_calls(K::CREATE), 1);
    assert_eq!(
        K::made(&h, K::INSTANCE).len(),
        1,
        "exactly one cloud object"
    );
}

//! A replica that may not lead writes no create marker and starts no create: one that lost the
//! lease (or could not renew it) is fenced, and one acting on an outdated copy of the object loses
//! the marker write to the resourceVersion precondition.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::controller::context::Context;
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::error::Error;
use hwcloud_backup_operator::crd::OperationStatus;
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

//! A running operation the cloud does not list: one missing answer (an empty list, a 204, a 404 of
//! a job) never fails it. Only several answers in a row, spread over `not_listed_for` (a minute in
//! production), do, and the count lives in status, so it survives restarts.

use std::time::Duration;

use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::crd::Phase;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::common::{assert_state, create_with, fresh_context, time_value};
use crate::harness::Harness;
use crate::kinds::Kind;

each_kind!(a_running_operation_the_cloud_stops_listing_fails_only_after_several_answers);
/// Each observation is made by a new operator process, as after restarts.
async fn a_running_operation_the_cloud_stops_listing_fails_only_after_several_answers<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let mut status = json!({
        "phase": "Running",
        "startedAt": time_value(Timestamp::now() - SignedDuration::from_hours(1)),
    });
    for id in K::ID_FIELDS {
        status[*id] = json!("not-listed-anywhere");
    }
    let path = create_with::<K>(&h, "vanished", spec, json!({}), status);
    let observe = || async {
        let ctx = fresh_context(&h);
        let before = h.status(&path);
        let obj: K = h.load(&path);
        let wait = reconcile_once(&obj, &ctx).await.expect("reconcile");
        // A new process places its first poll of a running operation somewhere in the interval
        // (spread over its resources): when this one was placed later, it polls then.
        if let (Some(wait), true) = (wait, h.status(&path) == before) {
            tokio::time::sleep(wait).await;
            let obj: K = h.load(&path);
            reconcile_once(&obj, &ctx).await.expect("reconcile");
        }
        h.status(&path)
    };
    for n in 1..=3 {
        let st = observe().await;
        assert_state(&st, Phase::Running, "InProgress");
        let gap = st.not_listed.clone().expect("counted in status");
        assert_eq!(gap.count, n, "{st:?}");
    }
    // Three answers in a row, but not yet over `not_listed_for` (600 ms here, and `since` is stored
    // in whole seconds).
    let span = h.ctx.settings.not_listed_for + Duration::from_secs(1);
    tokio::time::sleep(span + Duration::from_millis(100)).await;
    let st = observe().await;
    assert_state(&st, Phase::Failed, "CloudError");
    assert!(
        st.message
            .clone()
            .unwrap_or_default()
            .contains("not-listed-anywhere"),
        "{st:?}"
    );
}

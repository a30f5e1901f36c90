//! A running resource whose polls keep failing: it still times out (a grace period after its
//! `timeout`), and its instance claim lapses, so it does not block the instance for everyone else.

use std::time::Duration;

use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use crate::common::{assert_state, harness_on};
use crate::harness::{Harness, fast_settings, fast_transport};
use crate::kinds::Kind;

/// A Secret named `name` for the simulator's account, with its project id (so the service call is
/// the first signed call).
fn good_secret(h: &Harness, name: &str) {
    let mut data = h.secret_data();
    data["projectId"] = json!(h.sim.config().project_id);
    h.put_secret(name, data);
}

/// The same Secret with a wrong secret key: every call the resource makes from now on is refused.
fn break_secret(h: &Harness, name: &str) {
    let mut data = h.secret_data();
    data["projectId"] = json!(h.sim.config().project_id);
    data["secretKey"] = json!("not-the-secret-key");
    h.put_secret(name, data);
}

fn spec_with(mut spec: serde_json::Value, secret: &str, timeout: &str) -> serde_json::Value {
    spec["credentialsSecretRef"] = json!({ "name": secret });
    spec["timeout"] = json!(timeout);
    spec
}

each_backup_kind!(a_running_resource_whose_polls_keep_failing_times_out);
/// The credentials break while the backup runs (the cloud backup never finishes in time): every
/// poll fails with `Auth`. The resource fails with reason `Timeout` once its timeout and the grace
/// period after it have passed, instead of polling forever.
async fn a_running_resource_whose_polls_keep_failing_times_out<K: Kind>() {
    let cfg = SimConfig {
        backup_duration: Duration::from_secs(60),
        ..SimConfig::default()
    };
    let h = harness_on(cfg, fast_settings(), fast_transport()).await;
    good_secret(&h, "flaky");
    let spec = spec_with(K::spec(&h, K::INSTANCE).await, "flaky", "2s");
    let path = h.create(K::KIND, K::PLURAL, "stuck", spec);
    let running = h.run_controllers(2);
    h.wait_until(Duration::from_secs(10), "Running", |h| {
        h.status(&path).phase == Some(Phase::Running)
    })
    .await;
    break_secret(&h, "flaky");
    h.wait_until(Duration::from_secs(15), "Failed", |h| {
        h.status(&path).phase == Some(Phase::Failed)
    })
    .await;
    running.stop().await;
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "Timeout");
    let message = st.message.clone().unwrap_or_default();
    assert!(message.contains("timed out"), "{message}");
    assert!(
        message.contains("APIGW.0301"),
        "says why the polls failed: {message}"
    );
    let took = st
        .completed_at
        .unwrap()
        .0
        .duration_since(st.started_at.unwrap().0);
    let at_least = Duration::from_secs(2) + fast_settings().timeout_grace;
    assert!(
        took.unsigned_abs() + Duration::from_secs(1) >= at_least,
        "not before the timeout and the grace: {took:?}"
    );
}

/// Only a successful poll refreshes a running resource's claim of its instance: a resource whose
/// polls keep failing lets the instance go once its claim is stale, and the next resource on that
/// instance runs (after the cloud's own operation ends) instead of queueing forever.
#[tokio::test]
async fn a_running_resource_whose_polls_fail_does_not_block_its_instance() {
    let cfg = SimConfig {
        backup_duration: Duration::from_secs(2),
        ..SimConfig::default()
    };
    // Claims go stale after three poll caps: 1.5 s.
    let settings = Settings {
        poll: PollPolicy::scaled(Duration::from_millis(100), Duration::from_millis(500)),
        ..fast_settings()
    };
    let h = harness_on(cfg, settings, fast_transport()).await;
    good_secret(&h, "flaky");
    let broken = h.create(
        "DcsBackup",
        "dcsbackups",
        "broken",
        spec_with(json!({"instanceId": "redis-x"}), "flaky", "1h"),
    );
    let running = h.run_controllers(2);
    h.wait_until(Duration::from_secs(10), "Running", |h| {
        h.status(&broken).phase == Some(Phase::Running)
    })
    .await;
    break_secret(&h, "flaky");
    let next = h.create(
        "DcsBackup",
        "dcsbackups",
        "next",
        json!({"instanceId": "redis-x"}),
    );
    h.wait_until(Duration::from_secs(15), "the next backup Succeeded", |h| {
        h.status(&next).phase == Some(Phase::Succeeded)
    })
    .await;
    running.stop().await;
    assert_eq!(
        h.status(&broken).phase,
        Some(Phase::Running),
        "the broken one still waits for its timeout"
    );
}

//! Small helpers shared by the scenarios: reading conditions and events, timed steps, waiting.

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::cloud::breaker::BreakerPolicy;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::transport::TransportConfig;
use hwcloud_backup_operator::controller::context::{Context, FINALIZER, Settings};
use hwcloud_backup_operator::crd::{OperationStatus, Phase};
use hwcloud_backup_operator::sim::SimConfig;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::events::Reporter;
use serde_json::{Value, json};

use crate::fake_api::object_path;
use crate::harness::{API_VERSION, Harness, NS};
use crate::kinds::Kind;

/// Cloud calls that observe a running operation (DCS lists, DDS/TaurusDB jobs and records).
pub const POLL_OPS: &[&str] = &["list_backups", "list_restores", "get_job"];

/// `(status, reason)` of the `Ready` condition.
pub fn ready(st: &OperationStatus) -> (String, String) {
    st.conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone()))
        .unwrap_or_default()
}

/// The `Ready` reason, or `""`.
pub fn reason(st: &OperationStatus) -> String {
    ready(st).1
}

/// `(status, reason)` of the `Ready` condition in a raw status patch.
pub fn ready_in(patch: &Value) -> (String, String) {
    patch["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("status"), s("reason"))
        })
        .unwrap_or_default()
}

/// Asserts phase and `Ready` reason together (the pair every scenario checks).
#[track_caller]
pub fn assert_state(st: &OperationStatus, phase: Phase, reason: &str) {
    assert_eq!(
        (st.phase, ready(st).1.as_str()),
        (Some(phase), reason),
        "{st:#?}"
    );
}

/// Reasons of the events published about the object named `name`, in order.
pub fn events_for(h: &Harness, name: &str) -> Vec<String> {
    h.api
        .events()
        .iter()
        .filter(|e| e["regarding"]["name"] == name)
        .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Cloud calls of `operation` that the simulator answered with a 2xx.
pub fn accepted_calls(h: &Harness, operation: &str) -> usize {
    h.sim
        .calls()
        .iter()
        .filter(|c| c.operation == operation && (200..300).contains(&c.status))
        .count()
}

/// Cloud calls that poll an operation.
pub fn poll_calls(h: &Harness) -> usize {
    h.sim
        .calls()
        .iter()
        .filter(|c| POLL_OPS.contains(&c.operation))
        .count()
}

/// Whether the stored object carries the cleanup finalizer.
pub fn has_finalizer(h: &Harness, path: &str) -> bool {
    h.api.get(path).is_some_and(|o| {
        o["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == FINALIZER))
    })
}

/// Creates a resource with `metadata` merged in (finalizers) and a status (a crashed operator's
/// leftovers); returns its path.
pub fn create_with<K: Kind>(
    h: &Harness,
    name: &str,
    spec: Value,
    metadata: Value,
    status: Value,
) -> String {
    let path = object_path(API_VERSION, K::PLURAL, NS, name);
    let mut meta = json!({"name": name, "namespace": NS});
    if let (Some(m), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
        m.extend(extra.clone());
    }
    h.api.put(
        &path,
        json!({"apiVersion": API_VERSION, "kind": K::KIND, "metadata": meta, "spec": spec, "status": status}),
    );
    path
}

/// A timestamp as the API server stores it (whole seconds).
pub fn time_value(t: Timestamp) -> Value {
    serde_json::to_value(Time(t)).expect("time serialises")
}

/// Sleeps until `t` (no-op when it has passed).
pub async fn sleep_until(t: Timestamp) {
    if let Ok(left) = Duration::try_from(t.duration_since(Timestamp::now())) {
        tokio::time::sleep(left).await;
    }
}

/// Polls `cond` every 20 ms for up to 10 s.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Waits for the operator's requeue, capped so tests stay fast.
pub async fn requeue(next: Option<Duration>) {
    let wait = next
        .unwrap_or(Duration::from_millis(50))
        .min(Duration::from_millis(200));
    tokio::time::sleep(wait).await;
}

/// Reconciles until terminal, honouring requeues; returns every phase seen after each step.
pub async fn drive_phases<K: Kind>(h: &Harness, path: &str) -> Vec<Phase> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        let next = h.step::<K>(path).await;
        let st = h.status(path);
        seen.extend(st.phase);
        if st.is_terminal() {
            return seen;
        }
        requeue(next).await;
    }
    panic!("{path} not terminal: {:#?}", h.status(path));
}

/// A terminal resource: further reconciles make no cloud call, write nothing and say nothing.
pub async fn assert_quiet<K: Kind>(h: &Harness, path: &str) {
    h.sim.reset_calls();
    let patches = h.status_patches(path).len();
    let events = h.api.events().len();
    for _ in 0..3 {
        assert_eq!(
            h.step::<K>(path).await,
            None,
            "a terminal resource waits for changes"
        );
    }
    assert_eq!(
        h.sim.calls(),
        vec![],
        "terminal resources make no cloud calls"
    );
    assert_eq!(h.status_patches(path).len(), patches);
    assert_eq!(h.api.events().len(), events);
}

/// The breaker of the test accounts: the auth backoff, doubling up to 15 times it (as in production,
/// where that is a minute up to 15 minutes).
pub fn breaker(settings: &Settings) -> BreakerPolicy {
    BreakerPolicy {
        base: settings.auth_backoff,
        max: settings.auth_backoff * 15,
    }
}

/// A harness whose operator context uses `transport` (the simulator and API server as usual).
pub async fn harness_with(settings: Settings, transport: TransportConfig) -> Harness {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(400),
        ..SimConfig::default()
    };
    harness_on(cfg, settings, transport).await
}

/// A new operator process over the harness's API server and simulator: no gate, no remembered
/// status, no claims (what a restart or a leader change leaves).
pub fn fresh_context(h: &Harness) -> Arc<Context> {
    let reporter = Reporter {
        controller: "hwcloud-backup-operator".into(),
        instance: Some("restarted".into()),
    };
    let settings = h.ctx.settings.clone();
    Arc::new(Context::new(
        h.api.client(),
        CloudClients::new(crate::harness::fast_transport(), None).with_breaker(breaker(&settings)),
        settings,
        h.metrics.clone(),
        reporter,
    ))
}

/// [`harness_with`] on a simulator configured by `cfg`.
pub async fn harness_on(cfg: SimConfig, settings: Settings, transport: TransportConfig) -> Harness {
    let h = Harness::with(cfg, settings.clone()).await;
    let reporter = Reporter {
        controller: "hwcloud-backup-operator".into(),
        instance: Some("backoff".into()),
    };
    let ctx = Arc::new(Context::new(
        h.api.client(),
        CloudClients::new(transport, None).with_breaker(breaker(&settings)),
        settings,
        h.metrics.clone(),
        reporter,
    ));
    Harness { ctx, ..h }
}

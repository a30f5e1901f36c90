//! Housekeeping over hand-fed reflector stores: nothing is published or released before the caches
//! are synced, the newest success is seeded from them, and deleted resources are forgotten.
use super::*;

use futures::FutureExt;
use http::{Request, Response};
use kube::client::Body;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher::Event;
use serde_json::{Value, json};

use crate::cloud::client::CloudClients;
use crate::cloud::transport::TransportConfig;
use crate::controller::context::Settings;
use crate::controller::schedule::PollPolicy;
use crate::crd::{DcsBackup, OperationStatus};
use crate::metrics::Metrics;

type Guarded = DeserializeGuard<DcsBackup>;

const TICK: Duration = Duration::from_millis(10);

fn context() -> Arc<Context> {
    // Housekeeping makes no API calls: a client nobody answers will do.
    let (svc, _handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(svc, "default");
    let settings = Settings {
        poll: PollPolicy::scaled(Duration::from_millis(40), Duration::from_secs(1)),
        ..Settings::default()
    };
    let reporter = Reporter {
        controller: "test".into(),
        instance: None,
    };
    Arc::new(Context::new(
        client,
        CloudClients::new(TransportConfig::default(), None),
        settings,
        Arc::new(Metrics::new()),
        reporter,
    ))
}

fn backup(name: &str, status: Value) -> Guarded {
    let v = json!({
        "apiVersion": "backup.hwcloud.dev/v1alpha1", "kind": "DcsBackup",
        "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}")},
        "spec": {"instanceId": "redis-1"}, "status": status,
    });
    DeserializeGuard(Ok(serde_json::from_value(v).unwrap()))
}

fn start(ctx: &Arc<Context>, writer: &Writer<Guarded>) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let caches = vec![Caches::of(vec![(writer.as_reader(), "DcsBackup/".into())])];
    let shutdown = stopped.map(|_| ()).boxed().shared();
    tokio::spawn(run(caches, ctx.clone(), shutdown, TICK));
    stop
}

fn gauge(ctx: &Context, series: &str) -> Option<f64> {
    ctx.metrics
        .encode()
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn ticks(n: u32) {
    tokio::time::sleep(TICK * n).await;
}

/// Waits until `cond` holds (a loaded machine may delay ticks); panics with `what` after 5 s.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(TICK).await;
    }
}

#[tokio::test]
async fn nothing_is_published_or_released_before_the_caches_are_synced() {
    let ctx = context();
    ctx.locks.hold("redis-1", "DcsBackup/ns/a");
    let mut writer = Writer::<Guarded>::default();
    let _stop = start(&ctx, &writer);
    ticks(5).await;
    assert_eq!(
        ctx.locks.holder("redis-1").as_deref(),
        Some("DcsBackup/ns/a"),
        "a claim released because the cache was still empty"
    );
    assert!(
        !ctx.metrics.encode().contains("hwcloud_backup_resources{"),
        "phase gauges published from an empty cache:\n{}",
        ctx.metrics.encode()
    );

    writer.apply_watcher_event(&Event::Init);
    writer.apply_watcher_event(&Event::InitApply(backup("a", json!({"phase": "Running"}))));
    writer.apply_watcher_event(&Event::InitDone);
    let running = r#"hwcloud_backup_resources{kind="dcsbackup",phase="Running"}"#;
    eventually("gauges once synced", || gauge(&ctx, running) == Some(1.0)).await;
    assert_eq!(
        ctx.locks.holder("redis-1").as_deref(),
        Some("DcsBackup/ns/a")
    );
}

#[tokio::test]
async fn last_success_is_seeded_from_the_store_at_start() {
    let ctx = context();
    let mut writer = Writer::<Guarded>::default();
    writer.apply_watcher_event(&Event::Init);
    for (name, done) in [
        ("old", "2024-01-01T00:00:00Z"),
        ("new", "2024-03-01T00:00:00Z"),
    ] {
        let status = json!({"phase": "Succeeded", "completedAt": done});
        writer.apply_watcher_event(&Event::InitApply(backup(name, status)));
    }
    let failed = json!({"phase": "Failed", "completedAt": "2024-06-01T00:00:00Z"});
    writer.apply_watcher_event(&Event::InitApply(backup("failed", failed)));
    writer.apply_watcher_event(&Event::InitDone);
    let _stop = start(&ctx, &writer);
    let series = r#"hwcloud_backup_last_success_timestamp_seconds{kind="dcsbackup"}"#;
    let march = jiff::Timestamp::from_second(1_709_251_200).unwrap();
    assert_eq!(march.to_string(), "2024-03-01T00:00:00Z");
    eventually("the gauge seeded", || gauge(&ctx, series).is_some()).await;
    assert_eq!(
        gauge(&ctx, series),
        Some(1_709_251_200.0),
        "the newest success"
    );
}

#[tokio::test]
async fn resources_deleted_without_a_finalizer_are_forgotten() {
    let ctx = context();
    let mut writer = Writer::<Guarded>::default();
    writer.apply_watcher_event(&Event::Init);
    let (a, b) = (
        backup("a", json!({"phase": "Running"})),
        backup("b", json!({"phase": "Running"})),
    );
    writer.apply_watcher_event(&Event::InitApply(a.clone()));
    writer.apply_watcher_event(&Event::InitApply(b));
    writer.apply_watcher_event(&Event::InitDone);
    let running = OperationStatus {
        phase: Some(Phase::Running),
        ..Default::default()
    };
    for uid in ["uid-a", "uid-b"] {
        ctx.gate.hold(uid, Duration::from_secs(3600));
        ctx.recent.remember(uid, &running);
    }
    let _stop = start(&ctx, &writer);
    ticks(3).await;
    assert!(
        ctx.gate.wait_left("uid-a").is_some(),
        "forgot a live resource"
    );
    assert_eq!(ctx.recent.len(), 2, "forgot a live resource");

    writer.apply_watcher_event(&Event::Delete(a));
    ticks(5).await;
    assert_eq!(
        ctx.gate.wait_left("uid-a"),
        None,
        "the gate kept a deleted resource"
    );
    assert!(ctx.gate.wait_left("uid-b").is_some());
    assert_eq!(
        ctx.recent.len(),
        1,
        "recent statuses kept a deleted resource"
    );
}

#[tokio::test]
async fn stale_list_cache_entries_are_evicted() {
    let ctx = context();
    let mut writer = Writer::<Guarded>::default();
    writer.apply_watcher_event(&Event::Init);
    writer.apply_watcher_event(&Event::InitDone);
    for instance in ["redis-1", "redis-2"] {
        let key = (1, instance.to_string());
        let fetched = ctx
            .dcs_backups
            .get_or_fetch(&key, None, || async { Ok::<_, ()>(Vec::new()) })
            .await;
        assert!(fetched.is_ok());
    }
    assert_eq!(ctx.dcs_backups.len(), 2);
    let _stop = start(&ctx, &writer);
    // Fresh for half the 40 ms poll interval.
    eventually("list cache evicts stale entries", || {
        ctx.dcs_backups.is_empty()
    })
    .await;
}

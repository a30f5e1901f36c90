//! A restart: finished resources cost nothing, running ones resume on their schedule, spread.

use std::time::{Duration, Instant};

use http::Method;
use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use crate::fake_api::object_path;
use crate::harness::{Harness, NS, fast_settings};
use crate::served::{self, API_VERSION, KINDS};

/// Reconciles started so far, from the operator's own counters.
fn reconciles(h: &Harness) -> u64 {
    h.metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with("hwcloud_backup_reconcile_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_over_10000_finished_resources_makes_no_cloud_call_and_no_status_write() {
    const N: usize = 10_000;
    let h = Harness::new().await;
    h.api.log_reads(false);
    for i in 0..N {
        let (kind, plural) = KINDS[i % 4];
        let name = format!("nightly-{i:05}");
        let spec = served::spec(kind, &format!("instance-{}", i / 80), i);
        let obj = served::served(kind, NS, &name, spec, Some(served::succeeded(kind, i)));
        h.api.put(&object_path(API_VERSION, plural, NS, &name), obj);
    }
    let running = h.run_controllers(8);
    h.wait_until(Duration::from_secs(120), "every resource reconciled", |h| {
        running.synced() && reconciles(h) >= N as u64
    })
    .await;
    // Anything a reconcile started (a write, an event, a requeue) would land now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.stop().await;
    assert!(
        h.sim.calls().is_empty(),
        "cloud calls: {:?}",
        h.sim.calls().len()
    );
    let writes: Vec<String> = h
        .api
        .calls()
        .into_iter()
        .filter(|c| c.method != Method::GET)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert!(
        writes.is_empty(),
        "{} writes, e.g. {:?}",
        writes.len(),
        writes.first()
    );
    assert_eq!(reconciles(&h), N as u64, "one reconcile each, no requeue");
}

/// 200 DCS backups running on 200 instances when the operator starts, with nothing learned
/// about their durations: the first polls spread over one poll interval instead of all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_polls_after_a_restart_spread_over_the_interval() {
    const N: usize = 200;
    let interval = Duration::from_secs(2);
    let settings = Settings {
        poll: PollPolicy::scaled(interval, Duration::from_secs(10)),
        ..fast_settings()
    };
    let sim = SimConfig {
        backup_duration: Duration::from_secs(120),
        ..SimConfig::default()
    };
    let h = Harness::with(sim, settings).await;
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(5);
    for i in 0..N {
        let instance = format!("redis-{i:03}");
        let marker = "";
        let id = h.sim.seed_dcs_backup(
            &instance,
            marker,
            Duration::from_secs(5),
            Duration::from_secs(120),
        );
        let status = json!({"phase": "Running", "backupId": id, "cloudStatus": "backuping",
            "startedAt": started.round(jiff::Unit::Second).unwrap().to_string()});
        let name = format!("running-{i:03}");
        let obj = json!({"apiVersion": API_VERSION, "kind": "DcsBackup",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"instanceId": instance}, "status": status});
        h.api
            .put(&object_path(API_VERSION, "dcsbackups", NS, &name), obj);
    }
    let polls = |h: &Harness| {
        h.sim
            .calls()
            .iter()
            .filter(|c| c.operation == "list_backups")
            .count()
    };
    let running = h.run_controllers(8);
    h.wait_until(Duration::from_secs(30), "caches synced", |_| {
        running.synced()
    })
    .await;
    let t0 = Instant::now();
    // How many instances were polled by each tenth of the interval.
    let mut by_tenth = Vec::new();
    for tenth in 1..=12u32 {
        tokio::time::sleep_until((t0 + interval * tenth / 10).into()).await;
        by_tenth.push(polls(&h));
    }
    running.stop().await;
    assert!(
        by_tenth[0] <= N / 5,
        "at once after the start: {by_tenth:?}"
    );
    assert!(
        by_tenth[4] <= N * 7 / 10,
        "within half the interval: {by_tenth:?}"
    );
    assert!(
        by_tenth[4] >= N * 3 / 10,
        "within half the interval: {by_tenth:?}"
    );
    assert!(
        by_tenth[11] >= N,
        "all within the interval (and a little): {by_tenth:?}"
    );
}

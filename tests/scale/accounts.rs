//! Many accounts: one slow and one throttled account delay only their own resources.

use std::time::{Duration, Instant};

use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::{Faults, SimConfig, SimHandle, Simulator};
use serde_json::json;

use crate::harness::{Harness, secret_for};

/// Accounts with one resource each, besides the slow and the throttled one.
const QUIET: usize = 38;
/// Resources of the slow or throttled account: more than the controller's reconcile slots.
const BUSY: usize = 12;

async fn account(h: &Harness, ns: &str, faults: Faults) -> SimHandle {
    let sim = Simulator::start(SimConfig {
        backup_duration: Duration::from_millis(400),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    sim.set_faults(faults);
    h.put_secret_in(ns, "hwcloud-credentials", secret_for(&sim));
    sim
}

fn create(h: &Harness, ns: &str, name: &str) -> String {
    let path = crate::fake_api::object_path(crate::harness::API_VERSION, "dcsbackups", ns, name);
    h.api.put(
        &path,
        json!({"apiVersion": crate::harness::API_VERSION, "kind": "DcsBackup",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"instanceId": format!("redis-{name}")}}),
    );
    path
}

/// `busy` resources on an account with `faults`, and one resource on each of `QUIET` healthy
/// accounts: every healthy account's backup must succeed within 8 s.
async fn only_its_own_resources_wait(faults: Faults) {
    let h = Harness::new().await;
    let mut sims = vec![account(&h, "busy", faults).await];
    let busy: Vec<String> = (0..BUSY)
        .map(|i| create(&h, "busy", &format!("busy-{i:02}")))
        .collect();
    let mut quiet = Vec::new();
    for i in 0..QUIET {
        let ns = format!("team-{i:02}");
        sims.push(account(&h, &ns, Faults::default()).await);
        quiet.push(create(&h, &ns, &format!("quiet-{i:02}")));
    }
    let t0 = Instant::now();
    let running = h.run_controllers(4);
    h.wait_until(
        Duration::from_secs(15),
        "every quiet account's backup Succeeded",
        |h| {
            quiet
                .iter()
                .all(|p| h.status(p).phase == Some(Phase::Succeeded))
        },
    )
    .await;
    let took = t0.elapsed();
    let busy_done = busy
        .iter()
        .filter(|p| h.status(p).phase == Some(Phase::Succeeded))
        .count();
    running.stop().await;
    assert!(
        took < Duration::from_secs(8),
        "the quiet accounts took {took:?} ({busy_done} busy done)"
    );
}

/// Every call of one account answered 429 or 500 (its resources retry with backoff).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_account_delays_only_its_own_resources() {
    only_its_own_resources_wait(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .await;
}

/// Every call of one account takes 3 s. Before each account got at most half of the reconcile
/// slots, its reconciles held every slot for the length of their calls, and the quiet accounts'
/// backups were still not done after 15 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_account_delays_only_its_own_resources() {
    only_its_own_resources_wait(Faults {
        latency: Duration::from_secs(3),
        ..Faults::default()
    })
    .await;
}

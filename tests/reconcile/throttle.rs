//! Client-side throttling never holds a reconcile slot: with the controllers' concurrency limited,
//! an account flooded far beyond its request rate cannot starve another account's resource.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::transport::TransportConfig;
use hwcloud_backup_operator::controller::context::{Context, Settings};
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::crd::{DcsBackup, Phase};
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::sim::{SimConfig, Simulator};
use kube::runtime::events::Reporter;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::common::reason;
use crate::harness::{Harness, fast_settings, fast_transport};

/// Reconciles running at once, as `--concurrency=2` allows per controller.
const CONCURRENCY: usize = 2;
/// Resources of the flooded account, each on its own instance (no instance queue holds them back).
const FLOOD: usize = 20;

/// A context whose cloud clients allow each account one request per second.
fn one_per_second(h: &Harness, settings: Settings) -> Arc<Context> {
    let transport = TransportConfig {
        rate_per_second: 1,
        burst: 1,
        ..fast_transport()
    };
    let reporter = Reporter {
        controller: "hwcloud-backup-operator".into(),
        instance: Some("throttle-test".into()),
    };
    Arc::new(Context::new(
        h.api.client(),
        CloudClients::new(transport, None),
        settings,
        Arc::new(Metrics::new()),
        reporter,
    ))
}

/// Runs the resource at `path` the way kube-runtime does with a fixed concurrency: each reconcile
/// takes one of `slots` for as long as it runs (FIFO, like the runner's queue), and the next one
/// comes after the requeue. Watch-triggered reruns are left out on purpose: honouring every
/// requeue against the operator's own status writes is the per-resource gate of issue 8 item 0;
/// without it, `Harness::run_controllers` reruns a throttled create on each of its own writes.
fn run(
    h: &Harness,
    ctx: Arc<Context>,
    slots: Arc<Semaphore>,
    stop: Arc<AtomicBool>,
    path: String,
) -> tokio::task::JoinHandle<()> {
    let api = h.api.clone();
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            let permit = slots.acquire().await.expect("semaphore open");
            let obj: DcsBackup =
                serde_json::from_value(api.get(&path).expect("exists")).expect("decodes");
            let next = reconcile_once(&obj, &ctx).await.unwrap_or(None);
            drop(permit);
            let terminal = api
                .get(&path)
                .and_then(|o| o["status"]["phase"].as_str().map(str::to_string))
                .is_some_and(|p| p == "Succeeded" || p == "Failed");
            if terminal {
                return;
            }
            let wait = next.unwrap_or(Duration::from_millis(100));
            tokio::time::sleep(wait.min(Duration::from_secs(2))).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_account_does_not_starve_another() {
    let settings = Settings {
        retry_after: Duration::from_millis(300),
        ..fast_settings()
    };
    let h = Harness::with(
        SimConfig {
            backup_duration: Duration::from_millis(300),
            ..SimConfig::default()
        },
        settings.clone(),
    )
    .await;
    // Account B lives at a simulator of its own, so the harness simulator sees only account A.
    let sim_b = Simulator::start(SimConfig {
        backup_duration: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let project = h.sim.config().project_id.clone();
    let mut a = h.secret_data();
    a["projectId"] = json!(project);
    h.put_secret("account-a", a);
    let endpoints = sim_b.account().endpoints;
    h.put_secret(
        "account-b",
        json!({
            "accessKey": sim_b.config().access_key, "secretKey": sim_b.config().secret_key,
            "region": sim_b.config().region, "projectId": project,
            "iamEndpoint": endpoints.iam, "dcsEndpoint": endpoints.dcs,
            "ddsEndpoint": endpoints.dds, "taurusEndpoint": endpoints.taurus,
        }),
    );
    let ctx = one_per_second(&h, settings);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let stop = Arc::new(AtomicBool::new(false));

    let flood: Vec<String> = (0..FLOOD)
        .map(|i| {
            let spec = json!({"instanceId": format!("flood-{i}"), "credentialsSecretRef": {"name": "account-a"}});
            h.create("DcsBackup", "dcsbackups", &format!("flood-{i}"), spec)
        })
        .collect();
    let mut tasks: Vec<_> = flood
        .iter()
        .map(|p| run(&h, ctx.clone(), slots.clone(), stop.clone(), p.clone()))
        .collect();
    // The flood is queued first; B arrives behind it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let spec = json!({"instanceId": "quiet-1", "credentialsSecretRef": {"name": "account-b"}});
    let b = h.create("DcsBackup", "dcsbackups", "quiet", spec);
    tasks.push(run(&h, ctx.clone(), slots.clone(), stop.clone(), b.clone()));

    // Account A's requests as the simulator saw them, sampled over time.
    let mut samples = vec![(Instant::now(), h.sim.calls().len())];
    let mut done_after = None;
    while started.elapsed() < Duration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        samples.push((Instant::now(), h.sim.calls().len()));
        if done_after.is_none() && h.status(&b).phase == Some(Phase::Succeeded) {
            done_after = Some(started.elapsed());
        }
        if done_after.is_some_and(|d| started.elapsed() > d + Duration::from_secs(2)) {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.abort();
    }

    let done_after = done_after.unwrap_or_else(|| {
        panic!(
            "B not Succeeded after 6 s behind the flood: {:?}",
            h.status(&b)
        )
    });
    eprintln!(
        "B succeeded after {done_after:?}; A: {} requests in {:?}",
        samples.last().map_or(0, |s| s.1),
        samples.last().map(|s| s.0.duration_since(samples[0].0))
    );
    assert!(done_after < Duration::from_secs(3), "B took {done_after:?}");
    // A never beats its rate: at most the burst plus one request per second in any window
    // (one more for the sampling edges).
    for (i, (t0, c0)) in samples.iter().enumerate() {
        for (t1, c1) in &samples[i + 1..] {
            let allowed = 2.0 + t1.duration_since(*t0).as_secs_f64();
            assert!(
                (c1 - c0) as f64 <= allowed,
                "{} calls of A in {:?}",
                c1 - c0,
                t1.duration_since(*t0)
            );
        }
    }
    assert!(
        h.sim.calls().len() >= 3,
        "A made progress too: {:?}",
        h.sim.calls()
    );
    // The flooded resources wait as Throttled, saying the limit is the operator's own.
    let throttled: Vec<_> = flood
        .iter()
        .map(|p| h.status(p))
        .filter(|st| reason(st) == "Throttled")
        .collect();
    assert!(!throttled.is_empty(), "some flooded resource is Throttled");
    let message = throttled[0].message.clone().unwrap_or_default();
    assert!(message.contains("--cloud-rate-per-second"), "{message}");
}

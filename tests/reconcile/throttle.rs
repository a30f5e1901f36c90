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
use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};
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
/// comes after the requeue: the transport's behaviour alone, without watch-triggered reruns (the
/// test below runs the real controllers, where the per-resource gate holds those back).
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

/// Account A (the harness simulator) with [`FLOOD`] resources, account B (a simulator of its own,
/// so the harness simulator sees only A's requests) with none yet, and a context that allows each
/// account one request per second.
async fn flooded() -> (Harness, SimHandle, Vec<String>) {
    let settings = Settings {
        retry_after: Duration::from_millis(300),
        ..fast_settings()
    };
    let sim = SimConfig {
        backup_duration: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let mut h = Harness::with(sim.clone(), settings.clone()).await;
    let sim_b = Simulator::start(sim).await.expect("simulator starts");
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
    h.ctx = one_per_second(&h, settings);
    let flood = (0..FLOOD)
        .map(|i| {
            let spec = json!({"instanceId": format!("flood-{i}"), "credentialsSecretRef": {"name": "account-a"}});
            h.create("DcsBackup", "dcsbackups", &format!("flood-{i}"), spec)
        })
        .collect();
    (h, sim_b, flood)
}

/// Creates B's single resource.
fn quiet(h: &Harness) -> String {
    let spec = json!({"instanceId": "quiet-1", "credentialsSecretRef": {"name": "account-b"}});
    h.create("DcsBackup", "dcsbackups", "quiet", spec)
}

/// Watches until B succeeded (and 2 s more) or 6 s passed; returns when B succeeded and A's
/// request count at the simulator over time.
async fn watch(h: &Harness, b: &str) -> (Option<Duration>, Vec<(Instant, usize)>) {
    let started = Instant::now();
    let mut samples = vec![(Instant::now(), h.sim.calls().len())];
    let mut done_after = None;
    while started.elapsed() < Duration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        samples.push((Instant::now(), h.sim.calls().len()));
        if done_after.is_none() && h.status(b).phase == Some(Phase::Succeeded) {
            done_after = Some(started.elapsed());
        }
        if done_after.is_some_and(|d| started.elapsed() > d + Duration::from_secs(2)) {
            break;
        }
    }
    (done_after, samples)
}

/// B succeeded promptly, A stayed within its rate and made progress, and A's resources wait as
/// Throttled with a message that names the operator's own limit.
fn assert_not_starved(
    h: &Harness,
    flood: &[String],
    b: &str,
    done_after: Option<Duration>,
    samples: &[(Instant, usize)],
) {
    let done_after = done_after.unwrap_or_else(|| {
        panic!(
            "B not Succeeded after 6 s behind the flood: {:?}",
            h.status(b)
        )
    });
    eprintln!(
        "B succeeded after {done_after:?}; A: {} requests in {:?}",
        samples.last().map_or(0, |s| s.1),
        samples.last().map(|s| s.0.duration_since(samples[0].0))
    );
    assert!(done_after < Duration::from_secs(3), "B took {done_after:?}");
    // At most the burst plus one request per second in any window (one more for the sampling edges).
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
    let throttled: Vec<_> = flood
        .iter()
        .map(|p| h.status(p))
        .filter(|st| reason(st) == "Throttled")
        .collect();
    assert!(!throttled.is_empty(), "some flooded resource is Throttled");
    let message = throttled[0].message.clone().unwrap_or_default();
    assert!(message.contains("--cloud-rate-per-second"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_account_does_not_starve_another() {
    let (h, _sim_b, flood) = flooded().await;
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks: Vec<_> = flood
        .iter()
        .map(|p| run(&h, h.ctx.clone(), slots.clone(), stop.clone(), p.clone()))
        .collect();
    // The flood is queued first; B arrives behind it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b = quiet(&h);
    tasks.push(run(
        &h,
        h.ctx.clone(),
        slots.clone(),
        stop.clone(),
        b.clone(),
    ));
    let (done_after, samples) = watch(&h, &b).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.abort();
    }
    assert_not_starved(&h, &flood, &b, done_after, &samples);
}

/// The same through kube-runtime's own watches, scheduler and concurrency limit, where every
/// status write of the flood also triggers a reconcile (the per-resource gate holds those back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_account_does_not_starve_another_under_the_real_controllers() {
    let (h, _sim_b, flood) = flooded().await;
    let running = h.run_controllers(CONCURRENCY as u16);
    h.wait_until(Duration::from_secs(5), "the flood is reconciled", |h| {
        h.cloud_calls("create_backup") > 0
    })
    .await;
    let b = quiet(&h);
    let (done_after, samples) = watch(&h, &b).await;
    running.stop().await;
    assert_not_starved(&h, &flood, &b, done_after, &samples);
}

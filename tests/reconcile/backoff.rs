//! Backoffs that hold, run the way kube-runtime runs reconciles: the operator's real controllers
//! watch the fake API server, so every status write the operator makes comes back as a watch event
//! and a reconcile. None of those may shorten a backoff.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Method;

use hwcloud_backup_operator::cloud::transport::TransportConfig;
use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::Faults;
use serde_json::json;

use crate::common::{breaker, harness_with};
use crate::harness::{fast_settings, fast_transport};
use crate::hook_proxy::{self, Hook};

/// How many tries a schedule that waits `base`, doubling up to `cap`, makes within `window`
/// (the first try at 0 included).
fn tries_within(base: Duration, cap: Duration, window: Duration) -> usize {
    let (mut at, mut wait, mut tries) = (Duration::ZERO, base, 0);
    while at <= window {
        tries += 1;
        at += wait;
        wait = (wait * 2).min(cap);
    }
    tries
}

/// Ten `DcsBackup`s share a Secret whose secret key is wrong. The cloud locks a key after five
/// refused signatures in a row, so the account's breaker lets one request out per backoff period
/// (the auth backoff, doubling), however many resources use the Secret. Once the Secret is fixed
/// (a new account) they all proceed at once, and the key was never locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_resources_sharing_a_bad_secret_refuse_one_signature_per_backoff_period() {
    let settings = fast_settings();
    let h = harness_with(settings.clone(), fast_transport()).await;
    let mut bad = h.secret_data();
    bad["secretKey"] = json!("not-the-secret-key");
    bad["projectId"] = json!(h.sim.config().project_id);
    h.put_secret("shared", bad);
    let paths: Vec<String> = (0..10)
        .map(|i| {
            let spec = json!({"instanceId": format!("redis-{i}"), "credentialsSecretRef": {"name": "shared"}});
            h.create("DcsBackup", "dcsbackups", &format!("shared-{i}"), spec)
        })
        .collect();
    let running = h.run_controllers(10);
    let window = Duration::from_secs(3);
    let started = Instant::now();
    tokio::time::sleep(window).await;
    let refused = h.sim.calls().iter().filter(|c| c.status == 401).count();
    let policy = breaker(&settings);
    let allowed = tries_within(policy.base, policy.max, window);
    eprintln!(
        "refused signatures in {:?}: {refused} (schedule allows {allowed})",
        started.elapsed()
    );
    assert!(refused >= 1, "the first try reaches the cloud");
    assert!(
        refused <= allowed,
        "{refused} refused signatures in {window:?}; the backoff allows {allowed}"
    );
    for p in &paths {
        let st = h.status(p);
        assert_eq!(st.phase, Some(Phase::Pending), "{st:?}");
    }

    // The fixed Secret is another account: tried at once, and the key was never locked.
    h.put_secret("shared", h.secret_data());
    h.wait_until(Duration::from_secs(10), "all ten Succeeded", |h| {
        paths
            .iter()
            .all(|p| h.status(p).phase == Some(Phase::Succeeded))
    })
    .await;
    running.stop().await;
}

/// One `DcsBackup` against a cloud that answers every call in turn 429, 500 and 502 (a gateway's
/// HTML page): each failure changes the status (Throttled or CloudError), and each status write
/// comes back as a reconcile. The cloud must still see one call per try of the documented schedule:
/// `retry_after`, doubling per failure in a row, capped at the poll cap, each wait up to 10% later
/// (jitter), never earlier. (One attempt per call, so calls count tries; a proxy in front of the
/// simulator times them.) The request id of each failed call goes to events, never to status.
#[tokio::test]
async fn a_cloud_failing_every_call_is_retried_on_the_documented_backoff() {
    let settings = fast_settings();
    let transport = TransportConfig {
        max_attempts: 1,
        ..fast_transport()
    };
    let h = harness_with(settings.clone(), transport).await;
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let hook: Arc<Hook> = {
        let sent = sent.clone();
        Arc::new(move |_: &Method, _: &str, _: &Bytes| {
            sent.lock().unwrap().push(Instant::now());
            Box::pin(async {})
        })
    };
    let proxy = hook_proxy::start(h.sim.base_url(), hook).await;
    let mut data = hook_proxy::secret_data(h.secret_data(), &proxy);
    data["projectId"] = json!(h.sim.config().project_id);
    h.put_secret("direct", data);
    h.sim.set_faults(Faults {
        error_rate: 1.0,
        in_turn_with_bad_gateway: true,
        ..Faults::default()
    });
    let path = h.create(
        "DcsBackup",
        "dcsbackups",
        "unlucky",
        json!({"instanceId": "redis-1", "credentialsSecretRef": {"name": "direct"}}),
    );
    let running = h.run_controllers(2);
    let window = Duration::from_secs(6);
    tokio::time::sleep(window).await;
    let calls = h.sim.calls();
    let sent = sent.lock().unwrap().clone();
    let count = |op: &str| calls.iter().filter(|c| c.operation == op).count();
    let (creates, lists) = (count("create_backup"), count("list_backups"));
    let schedule = tries_within(settings.retry_after, settings.poll.max_interval, window);
    let gaps: Vec<Duration> = sent.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!(
        "calls in {window:?}: {} ({creates} creates, {lists} lists); schedule: {schedule}; gaps {gaps:?}",
        calls.len()
    );
    assert_eq!(calls.len(), creates + lists, "{calls:?}");
    let statuses: BTreeSet<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, BTreeSet::from([429, 500, 502]), "{calls:?}");
    assert!(
        calls.len() <= schedule,
        "{} calls in {window:?}; the backoff allows {schedule}",
        calls.len()
    );
    assert!(
        calls.len() + 2 >= schedule,
        "still retrying: {} calls, schedule {schedule}",
        calls.len()
    );
    // Each wait is the documented one: never shorter (a status write or a watch event cut it),
    // and not much longer (jitter adds at most 10%; a loaded machine a little more).
    let mut wait = settings.retry_after;
    for (i, gap) in gaps.iter().enumerate() {
        assert!(
            *gap + Duration::from_millis(5) >= wait,
            "try {} came {gap:?} after the one before; the backoff is {wait:?}: {gaps:?}",
            i + 2
        );
        assert!(
            *gap <= wait + wait / 10 + Duration::from_millis(500),
            "try {} came {gap:?} after the one before; the backoff is {wait:?}: {gaps:?}",
            i + 2
        );
        wait = (wait * 2).min(settings.poll.max_interval);
    }
    assert_ne!(h.status(&path).phase, Some(Phase::Failed));
    // The request id is new on every attempt: events may name it, status must not.
    let patches = h.status_patches(&path);
    assert!(
        patches
            .iter()
            .all(|p| !p.to_string().contains("request id")),
        "{patches:#?}"
    );
    let notes: Vec<String> = h
        .api
        .events()
        .iter()
        .map(|e| e["note"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("(request id ")),
        "{notes:#?}"
    );
    // The gateway's page is described, never copied.
    assert!(
        notes.iter().all(|n| !n.contains("<html"))
            && patches.iter().all(|p| !p.to_string().contains("<html")),
        "{notes:#?}"
    );

    h.sim.set_faults(Faults::default());
    h.wait_until(
        Duration::from_secs(10),
        "Succeeded once the cloud recovers",
        |h| h.status(&path).phase == Some(Phase::Succeeded),
    )
    .await;
    running.stop().await;
}

/// Deletion is not held by the gate: a resource backed off for a long while after failures is
/// still cleaned up and released as soon as it is deleted.
#[tokio::test]
async fn a_backed_off_resource_is_deleted_at_once() {
    let settings = Settings {
        retry_after: Duration::from_secs(30),
        ..fast_settings()
    };
    let h = harness_with(settings, fast_transport()).await;
    h.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let path = h.create(
        "DcsBackup",
        "dcsbackups",
        "doomed",
        json!({"instanceId": "redis-1", "deletionPolicy": "Delete"}),
    );
    let running = h.run_controllers(2);
    h.wait_until(Duration::from_secs(10), "the first failure", |h| {
        ["Throttled", "CloudError"].contains(&crate::common::reason(&h.status(&path)).as_str())
    })
    .await;
    h.sim.set_faults(Faults::default());
    let deleted = Instant::now();
    h.api.delete(&path);
    h.wait_until(Duration::from_secs(5), "the resource is gone", |h| {
        h.api.get(&path).is_none()
    })
    .await;
    assert!(deleted.elapsed() < Duration::from_secs(5));
    assert!(h.cloud_calls("create_backup") <= 1, "no second create");
    running.stop().await;
}

//! Two replicas under leader election on one API server and one cloud: a leader whose lease
//! renewals hang hands over without a duplicate, and every leadership term starts afresh.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use http::Request;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::controller::context::Context;
use hwcloud_backup_operator::controller::runner::{RunOptions, Shutdown};
use hwcloud_backup_operator::http::Readiness;
use hwcloud_backup_operator::leader::{self, LeaderConfig, Leadership, LeaseTiming};
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::operator;
use kube::client::Body;
use kube::runtime::events::Reporter;
use tokio::sync::watch;

use crate::fake_api::FakeApi;
use crate::harness::{Harness, NS, fast_transport};
use crate::rig::{self, Kind};

/// A lease that lasts 4 s and is renewed 2 s before it expires.
const TIMING: LeaseTiming = LeaseTiming {
    duration_secs: 4,
    grace_secs: 2,
};

/// A client of `api` whose lease requests are never answered while `hang` is set (the API server
/// stops answering this replica's renewals; everything else still works).
fn client_with_hanging_leases(api: &FakeApi, hang: Arc<AtomicBool>) -> kube::Client {
    let inner = api.client();
    let svc = tower::service_fn(move |req: Request<Body>| {
        let (inner, hang) = (inner.clone(), hang.clone());
        async move {
            if hang.load(Ordering::SeqCst) && req.uri().path().contains("/leases/") {
                futures::future::pending::<()>().await;
            }
            inner.send(req).await
        }
    });
    kube::Client::new(svc, "default")
}

fn shutdown() -> (tokio::sync::oneshot::Sender<()>, Shutdown) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    (stop, stopped.map(|_| ()).boxed().shared())
}

fn options() -> RunOptions {
    RunOptions {
        namespaces: Vec::new(),
        concurrency: 4,
        strip: true,
        label_selector: None,
    }
}

/// A context as `run` makes one for a term: the replica's own client, metrics and fence.
fn term_context(client: &kube::Client, metrics: &Arc<Metrics>, name: &str) -> Context {
    let reporter = Reporter {
        controller: "hwcloud-backup-operator".into(),
        instance: Some(name.into()),
    };
    Context::new(
        client.clone(),
        CloudClients::new(fast_transport(), None),
        rig::settings(),
        metrics.clone(),
        reporter,
    )
}

/// One operator replica: leader election plus the controllers of every term it leads.
struct Replica {
    leadership: Leadership,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Replica {
    async fn start(client: kube::Client, name: &str) -> Self {
        let cfg = LeaderConfig {
            lease_name: "hwcloud-backup-operator".into(),
            lease_namespace: NS.into(),
            identity: name.into(),
            timing: TIMING,
        };
        let leadership = leader::start(client.clone(), &cfg).await.unwrap();
        let fence = leadership.fence();
        let metrics = Arc::new(Metrics::new());
        let name = name.to_string();
        let new_context =
            move || Arc::new(term_context(&client, &metrics, &name).with_fence(fence.clone()));
        let (stop, stopped) = shutdown();
        let leading = leadership.receiver();
        tokio::spawn(async move {
            let readiness = Arc::new(Readiness::new());
            operator::lead(leading, new_context, options(), stopped, readiness).await;
        });
        Self {
            leadership,
            _stop: stop,
        }
    }

    async fn wait_leading(&self, want: bool, limit: Duration) {
        let mut rx = self.leadership.receiver();
        tokio::time::timeout(limit, rx.wait_for(|l| *l == want))
            .await
            .unwrap_or_else(|_| panic!("leading never became {want} within {limit:?}"))
            .unwrap();
    }
}

fn all_terminal(h: &Harness, paths: &[(Kind, String)]) -> bool {
    paths
        .iter()
        .all(|(_, p)| rig::status(&h.api, p).is_terminal())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_renewal_hangs_hands_over_without_a_duplicate() {
    let h = rig::fast_harness().await;
    let hang = Arc::new(AtomicBool::new(false));
    let a = Replica::start(client_with_hanging_leases(&h.api, hang.clone()), "op-a").await;
    a.wait_leading(true, Duration::from_secs(10)).await;
    let b = Replica::start(h.api.client(), "op-b").await;

    let kinds = [Kind::DcsBackup, Kind::Dds, Kind::Taurus, Kind::DcsRestore];
    let mut paths = Vec::new();
    for (i, kind) in kinds.into_iter().cycle().take(8).enumerate() {
        let path = rig::resource(&h, kind, &format!("before-{i}"), &format!("inst-b{i}")).await;
        paths.push((kind, path));
    }
    // The API server stops answering the leader's renewals while its controllers keep working.
    hang.store(true, Ordering::SeqCst);
    b.wait_leading(true, Duration::from_secs(15)).await;
    // Resources the old leader would also see, if it still believed it led.
    for (i, kind) in kinds.into_iter().cycle().take(8).enumerate() {
        let path = rig::resource(&h, kind, &format!("after-{i}"), &format!("inst-a{i}")).await;
        paths.push((kind, path));
    }
    h.wait_until(Duration::from_secs(60), "every resource terminal", |h| {
        all_terminal(h, &paths)
    })
    .await;
    // Let any create that was still on its way land before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let snap = rig::Snapshot::take(&h.api, &h.sim);
    for (kind, path) in &paths {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }
    assert!(
        !*a.leadership.receiver().borrow(),
        "the old leader stepped down"
    );
}

#[tokio::test]
async fn losing_leadership_clears_the_leader_gauges_and_the_next_term_starts_fresh() {
    let h = rig::fast_harness().await;
    let path = rig::resource(&h, Kind::DcsBackup, "done", "redis-1").await;
    rig::run_to_terminal(
        &h.api,
        &h.ctx,
        Kind::DcsBackup,
        &path,
        Duration::from_secs(20),
    )
    .await
    .unwrap();

    let metrics = Arc::new(Metrics::new());
    let contexts: Arc<Mutex<Vec<Arc<Context>>>> = Arc::default();
    let new_context = {
        let (client, metrics, contexts) = (h.api.client(), metrics.clone(), contexts.clone());
        move || {
            let ctx = Arc::new(term_context(&client, &metrics, "op"));
            contexts.lock().unwrap().push(ctx.clone());
            ctx
        }
    };
    let (leading, rx) = watch::channel(false);
    let (_stop, stopped) = shutdown();
    tokio::spawn(operator::lead(
        rx,
        new_context,
        options(),
        stopped,
        Arc::new(Readiness::new()),
    ));
    let exported = |series: &str| metrics.encode().contains(series);
    let succeeded = r#"hwcloud_backup_resources{kind="dcsbackup",phase="Succeeded"} 1"#;
    let last_success = "hwcloud_backup_last_success_timestamp_seconds{";

    leading.send_replace(true);
    h.wait_until(Duration::from_secs(10), "the first term's gauges", |_| {
        exported(succeeded) && exported(last_success)
    })
    .await;
    let first = contexts.lock().unwrap()[0].clone();
    first.locks.hold("redis-9", "DcsBackup/team-a/ghost");

    leading.send_replace(false);
    h.wait_until(Duration::from_secs(10), "the gauges cleared", |_| {
        exported("hwcloud_backup_leader 0")
            && !exported("hwcloud_backup_resources{")
            && !exported(last_success)
    })
    .await;

    leading.send_replace(true);
    h.wait_until(Duration::from_secs(10), "a second term", |_| {
        contexts.lock().unwrap().len() == 2
    })
    .await;
    let second = contexts.lock().unwrap()[1].clone();
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(
        second.locks.holder("redis-9"),
        None,
        "a claim of the last term"
    );
    h.wait_until(Duration::from_secs(10), "the gauges again", |_| {
        exported(succeeded) && exported(last_success) && exported("hwcloud_backup_leader 1")
    })
    .await;
}

//! Shards: two replicas with different `--watch-label-selector`s run their real controllers against
//! one API server and one cloud. Each lists, watches, reconciles and counts only its own resources;
//! resources of both shards on one database instance all succeed (the cloud's busy answers to the
//! other shard's operations are retried); a resource moved between shards mid-operation ends with
//! exactly one cloud object.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Method, Request};
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::controller::backup_schedule::clock::Clock;
use hwcloud_backup_operator::controller::context::Context;
use hwcloud_backup_operator::controller::runner::RunOptions;
use hwcloud_backup_operator::crd::backup_schedule::SCHEDULE_LABEL;
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::shard::{SHARD_LABEL, WatchSelector};
use hwcloud_backup_operator::sim::SimConfig;
use kube::client::Body;
use kube::runtime::events::Reporter;
use serde_json::json;

use crate::fake_api::{FakeApi, object_path};
use crate::harness::{API_VERSION, Harness, NS, Running, fast_transport};
use crate::rig::{self, Kind, Snapshot};
use crate::shard_move::relabel;

/// The main replica's selector in a sharded install, and shard `a`'s.
const MAIN: &str = "!backup.hwcloud.dev/shard";
const SHARD_A: &str = "backup.hwcloud.dev/shard=a";

/// One replica: its own client (every request it sends is logged), context and controllers.
struct Replica {
    name: &'static str,
    ctx: Arc<Context>,
    log: Arc<Mutex<Vec<(Instant, Method, String)>>>,
    _running: Running,
}

impl Replica {
    fn start(api: &FakeApi, name: &'static str, selector: &str) -> Self {
        Self::start_with(api, name, selector, |_| {})
    }

    /// [`Replica::start`] with its context adjusted first (e.g. a faster schedule clock).
    fn start_with(
        api: &FakeApi,
        name: &'static str,
        selector: &str,
        adjust: impl FnOnce(&mut Context),
    ) -> Self {
        let log: Arc<Mutex<Vec<(Instant, Method, String)>>> = Arc::default();
        let inner = api.client();
        let seen = log.clone();
        let svc = tower::service_fn(move |req: Request<Body>| {
            seen.lock().unwrap().push((
                Instant::now(),
                req.method().clone(),
                req.uri().to_string(),
            ));
            let inner = inner.clone();
            async move { inner.send(req).await }
        });
        let client = kube::Client::new(svc, "default");
        let metrics = Arc::new(Metrics::for_shard(Some(selector)));
        let reporter = Reporter {
            controller: "hwcloud-backup-operator".into(),
            instance: Some(name.into()),
        };
        let mut ctx = Context::new(
            client,
            CloudClients::new(fast_transport(), None),
            rig::settings(),
            metrics,
            reporter,
        );
        adjust(&mut ctx);
        let ctx = Arc::new(ctx);
        let opts = RunOptions {
            namespaces: Vec::new(),
            concurrency: 4,
            strip: true,
            label_selector: Some(WatchSelector::parse(selector).unwrap()),
        };
        Self {
            name,
            _running: Running::start(ctx.clone(), opts),
            ctx,
            log,
        }
    }

    /// Requests on one named resource (the object, its status), as `(when, method, uri)`.
    fn requests_on(&self, path: &str) -> Vec<(Instant, Method, String)> {
        let status = format!("{path}/status");
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, uri)| uri.split('?').next() == Some(path) || uri.starts_with(&status))
            .cloned()
            .collect()
    }

    /// The sum of its `hwcloud_backup_resources` gauge over every kind and phase, once published.
    fn counted(&self) -> Option<f64> {
        let text = self.ctx.metrics.encode();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("hwcloud_backup_resources{"))
            .collect();
        (!lines.is_empty()).then(|| {
            lines
                .iter()
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        })
    }
}

/// A resource of `kind` on `instance`, in shard `shard` (`None`: the main replica's).
async fn resource(
    h: &Harness,
    kind: Kind,
    name: &str,
    instance: &str,
    shard: Option<&str>,
) -> String {
    let path = rig::resource(h, kind, name, instance).await;
    if shard.is_some() {
        relabel(&h.api, &path, shard);
    }
    path
}

fn all_terminal(h: &Harness, paths: &[(Kind, String)]) -> bool {
    paths
        .iter()
        .all(|(_, p)| rig::status(&h.api, p).is_terminal())
}

async fn harness(backup: Duration) -> Harness {
    let cfg = SimConfig {
        backup_duration: backup,
        ..SimConfig::default()
    };
    Harness::with(cfg, rig::settings()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_never_touches_a_resource_outside_its_selector() {
    let h = harness(Duration::from_millis(100)).await;
    let kinds = [Kind::DcsBackup, Kind::DcsRestore, Kind::Dds, Kind::Taurus];
    let (mut main_set, mut a_set) = (Vec::new(), Vec::new());
    for (i, kind) in kinds.iter().enumerate() {
        let main = resource(&h, *kind, &format!("main-{i}"), &format!("m-{i}"), None).await;
        main_set.push((*kind, main));
        let a = resource(&h, *kind, &format!("a-{i}"), &format!("a-{i}"), Some("a")).await;
        a_set.push((*kind, a));
    }
    let main = Replica::start(&h.api, "main", MAIN);
    let a = Replica::start(&h.api, "shard-a", SHARD_A);
    let everything: Vec<(Kind, String)> = main_set.iter().chain(&a_set).cloned().collect();
    h.wait_until(Duration::from_secs(30), "every resource final", |h| {
        all_terminal(h, &everything)
    })
    .await;
    h.wait_until(Duration::from_secs(10), "both replicas counted", |_| {
        main.counted().is_some() && a.counted().is_some()
    })
    .await;

    let snap = Snapshot::take(&h.api, &h.sim);
    for (kind, path) in &everything {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }
    for (me, mine, theirs) in [(&main, &main_set, &a_set), (&a, &a_set, &main_set)] {
        for (_, path) in mine {
            assert!(
                !me.requests_on(path).is_empty(),
                "{}: never reconciled {path}",
                me.name
            );
        }
        for (_, path) in theirs {
            let touched = me.requests_on(path);
            assert!(
                touched.is_empty(),
                "{} touched {path}: {touched:?}",
                me.name
            );
        }
        // Every list and watch asks the API server for the replica's selector only.
        let selector = if me.name == "main" { MAIN } else { SHARD_A };
        let log = me.log.lock().unwrap();
        let watches: Vec<&String> = log
            .iter()
            .filter(|(_, m, uri)| {
                *m == Method::GET
                    && uri.contains("/backup.hwcloud.dev/")
                    && !uri.contains("/namespaces/")
            })
            .map(|(_, _, uri)| uri)
            .collect();
        assert!(
            watches.len() >= 8,
            "{}: lists and watches {watches:?}",
            me.name
        );
        for uri in watches {
            assert!(asks_for(uri, selector), "{}: {uri}", me.name);
        }
        // Its events are about its own resources, and its gauges count only those.
        let names: BTreeSet<String> = mine
            .iter()
            .map(|(_, p)| p.rsplit('/').next().unwrap().to_string())
            .collect();
        for event in h.api.events() {
            if event["reportingInstance"] == me.name {
                let about = event["regarding"]["name"].as_str().unwrap_or_default();
                assert!(names.contains(about), "{}: event about {about}", me.name);
            }
        }
        assert_eq!(
            me.counted(),
            Some(mine.len() as f64),
            "{}: {}",
            me.name,
            me.ctx.metrics.encode()
        );
    }
}

/// Whether a list or watch `uri` asks for objects matching `selector` (alone, or with more terms).
fn asks_for(uri: &str, selector: &str) -> bool {
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "labelSelector")
        .is_some_and(|(_, v)| v.split(',').any(|term| term == selector))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_on_one_instance_retry_the_clouds_busy_answers_and_all_succeed() {
    let h = harness(Duration::from_millis(250)).await;
    let mut paths = Vec::new();
    for (kind, instance) in [
        (Kind::DcsBackup, "shared-dcs"),
        (Kind::Dds, "shared-dds"),
        (Kind::Taurus, "shared-tdb"),
    ] {
        for j in 0..3 {
            paths.push((
                kind,
                resource(&h, kind, &format!("{instance}-main-{j}"), instance, None).await,
            ));
            paths.push((
                kind,
                resource(&h, kind, &format!("{instance}-a-{j}"), instance, Some("a")).await,
            ));
        }
    }
    let _main = Replica::start(&h.api, "main", MAIN);
    let _a = Replica::start(&h.api, "shard-a", SHARD_A);
    h.wait_until(Duration::from_secs(60), "every resource final", |h| {
        all_terminal(h, &paths)
    })
    .await;

    let snap = Snapshot::take(&h.api, &h.sim);
    for (kind, path) in &paths {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }
    // Claims are per replica, so the two shards did collide on the instances, and the cloud said so.
    let refused = h
        .sim
        .calls()
        .iter()
        .filter(|c| c.operation == "create_backup" && c.status >= 400)
        .count();
    assert!(
        refused > 0,
        "no busy answer: the shards never met on an instance"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_resource_between_shards_mid_operation_ends_with_one_cloud_object() {
    let h = harness(Duration::from_millis(1500)).await;
    // On one DDS instance: `running` is in flight and `queued` waits behind it on the main replica;
    // `stays` is a third resource of the instance that stays in the main shard.
    let running = resource(&h, Kind::Dds, "running", "move-dds", None).await;
    let queued = resource(&h, Kind::Dds, "queued", "move-dds", None).await;
    let main = Replica::start(&h.api, "main", MAIN);
    let a = Replica::start(&h.api, "shard-a", SHARD_A);
    h.wait_until(Duration::from_secs(10), "one of them running", |h| {
        [&running, &queued]
            .iter()
            .any(|p| rig::status(&h.api, p).backup_id.is_some())
    })
    .await;
    let stays = resource(&h, Kind::Dds, "stays", "move-dds", None).await;
    // Whichever runs, move both: the running one and the one queued behind it.
    relabel(&h.api, &running, Some("a"));
    relabel(&h.api, &queued, Some("a"));
    let moved_at = Instant::now();

    let paths = [
        (Kind::Dds, running.clone()),
        (Kind::Dds, queued.clone()),
        (Kind::Dds, stays.clone()),
    ];
    // `stays` waits on the main replica until the moved resource's claim goes (its housekeeping
    // drops claims of resources its watch no longer holds, and an unpolled claim lapses), then for
    // the cloud while shard a still runs the instance.
    h.wait_until(Duration::from_secs(40), "every resource final", |h| {
        all_terminal(h, &paths)
    })
    .await;
    let snap = Snapshot::take(&h.api, &h.sim);
    for (kind, path) in &paths {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }
    for path in [&running, &queued] {
        // The new owner finished them; the old one let go once its watch dropped them (a reconcile
        // in flight at the move may still end).
        assert!(
            a.requests_on(path)
                .iter()
                .any(|(_, m, _)| *m == Method::PATCH),
            "{path}: shard a never wrote it"
        );
        let late: Vec<_> = main
            .requests_on(path)
            .into_iter()
            .filter(|(at, _, _)| *at > moved_at + Duration::from_millis(500))
            .collect();
        assert!(
            late.is_empty(),
            "{path}: the main replica still acts on it: {late:?}"
        );
    }
    assert!(
        a.requests_on(&stays).is_empty(),
        "shard a touched the main shard's resource"
    );
}

/// A `BackupSchedule` running every minute on `instance`, in shard `shard`; returns its path.
fn schedule(h: &Harness, name: &str, instance: &str, shard: Option<&str>) -> String {
    let path = object_path(API_VERSION, "backupschedules", NS, name);
    let labels = match shard {
        Some(s) => json!({SHARD_LABEL: s}),
        None => json!({}),
    };
    h.api.put(
        &path,
        json!({
            "apiVersion": API_VERSION, "kind": "BackupSchedule",
            "metadata": {"name": name, "namespace": NS, "labels": labels,
                "creationTimestamp": "2026-11-28T01:59:00Z"},
            "spec": {"schedule": "* * * * *", "retention": {"keepLast": 5},
                "template": {"dcsBackup": {"instanceId": instance}}},
        }),
    );
    path
}

/// The children of schedule `name` (DcsBackups labelled with it), as stored.
fn children(h: &Harness, name: &str) -> Vec<serde_json::Value> {
    h.api
        .paths(&object_path(API_VERSION, "dcsbackups", NS, ""))
        .into_iter()
        .filter_map(|p| h.api.get(&p))
        .filter(|c| c["metadata"]["labels"][SCHEDULE_LABEL] == name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_schedule_and_its_children_stay_in_their_shard() {
    let h = harness(Duration::from_millis(100)).await;
    let in_a = schedule(&h, "nightly-a", "redis-a", Some("a"));
    let in_main = schedule(&h, "nightly-main", "redis-main", None);
    // 20 s of schedule time per real second: the first run (02:00) is due a second after the start.
    let fast = |ctx: &mut Context| {
        ctx.schedule_clock = Clock::scaled("2026-11-28T01:59:40Z".parse().unwrap(), 20)
    };
    let main = Replica::start_with(&h.api, "main", MAIN, fast);
    let a = Replica::start_with(&h.api, "shard-a", SHARD_A, fast);
    h.wait_until(
        Duration::from_secs(30),
        "a succeeded child of each schedule",
        |h| {
            ["nightly-a", "nightly-main"].iter().all(|s| {
                children(h, s)
                    .iter()
                    .any(|c| c["status"]["phase"] == "Succeeded")
            })
        },
    )
    .await;

    // The schedule passes its shard label on, so its children are reconciled in its shard.
    for child in children(&h, "nightly-a") {
        assert_eq!(child["metadata"]["labels"][SHARD_LABEL], "a", "{child}");
    }
    for child in children(&h, "nightly-main") {
        assert!(
            child["metadata"]["labels"][SHARD_LABEL].is_null(),
            "{child}"
        );
    }
    let name = |c: &serde_json::Value| c["metadata"]["name"].as_str().unwrap().to_string();
    let paths = |s: &str, sched: &str| -> Vec<String> {
        let mut p: Vec<String> = children(&h, sched)
            .iter()
            .map(|c| object_path(API_VERSION, "dcsbackups", NS, &name(c)))
            .collect();
        p.push(s.to_string());
        p
    };
    for (me, mine, theirs) in [
        (
            &main,
            paths(&in_main, "nightly-main"),
            paths(&in_a, "nightly-a"),
        ),
        (
            &a,
            paths(&in_a, "nightly-a"),
            paths(&in_main, "nightly-main"),
        ),
    ] {
        for path in &mine {
            assert!(
                !me.requests_on(path).is_empty(),
                "{}: never reconciled {path}",
                me.name
            );
        }
        for path in &theirs {
            let touched = me.requests_on(path);
            assert!(
                touched.is_empty(),
                "{} touched {path}: {touched:?}",
                me.name
            );
        }
        // The schedules' watch and the watches of their children ask for the replica's shard only.
        let selector = if me.name == "main" { MAIN } else { SHARD_A };
        let log = me.log.lock().unwrap();
        let watches: Vec<&String> = log
            .iter()
            .map(|(_, _, uri)| uri)
            .filter(|uri| uri.contains("watch=true") && !uri.contains("/namespaces/"))
            .collect();
        assert!(
            watches.iter().any(|u| u.contains("/backupschedules?")),
            "{}: {watches:?}",
            me.name
        );
        for uri in watches {
            assert!(asks_for(uri, selector), "{}: {uri}", me.name);
        }
    }
}

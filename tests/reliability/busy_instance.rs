//! Busy instances: many resources on one database instance run one at a time, none fails, and the
//! operator queues its own work instead of provoking the cloud's "instance busy" refusals.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::sim::SimConfig;
use serde_json::json;

use crate::harness::Harness;
use crate::rig::{self, Kind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_resources_per_instance_run_one_at_a_time() {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(200),
        ..SimConfig::default()
    };
    let h = Harness::with(cfg, rig::settings()).await;
    let mut resources = Vec::new();
    // One DCS instance: 7 backups and 3 restores of the first three of them.
    for j in 0..7 {
        let spec = json!({"instanceId": "busy-dcs", "remark": format!("b{j}")});
        resources.push((
            Kind::DcsBackup,
            rig::create(&h.api, Kind::DcsBackup, &format!("b-{j}"), spec),
        ));
    }
    for j in 0..3 {
        let spec = json!({"instanceId": "busy-dcs", "backupRef": {"name": format!("b-{j}")}});
        resources.push((
            Kind::DcsRestore,
            rig::create(&h.api, Kind::DcsRestore, &format!("r-{j}"), spec),
        ));
    }
    // One DDS and one TaurusDB instance with 10 backups each.
    for (kind, instance) in [(Kind::Dds, "busy-dds"), (Kind::Taurus, "busy-taurus")] {
        for j in 0..10 {
            let spec = json!({"instanceId": instance});
            resources.push((
                kind,
                rig::create(&h.api, kind, &format!("{instance}-{j}"), spec),
            ));
        }
    }

    let ctx = rig::restart(&h.api, rig::settings(), None);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, path) in resources.clone() {
        let (api, ctx) = (h.api.clone(), Arc::clone(&ctx));
        tasks.spawn(async move {
            rig::run_to_terminal(&api, &ctx, kind, &path, Duration::from_secs(30)).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("no reconcile panics").unwrap();
    }

    let snap = rig::Snapshot::take(&h.api, &h.sim);
    for (kind, path) in &resources {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }
    assert_one_at_a_time(&h, 30, "27 backups and 3 restores");
    // Users were told why their resources waited.
    assert!(h.api.event_reasons().iter().any(|r| r == "InstanceBusy"));
}

/// DDS and TaurusDB instances with backups, restores of those backups and a point-in-time restore
/// at once: they run one at a time (a restore never overlaps a backup), none fails, and the
/// operator's own queue keeps the cloud from ever refusing one as busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_restores_of_one_database_instance_run_one_at_a_time() {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(150),
        ..SimConfig::default()
    };
    let h = Harness::with(cfg, rig::settings()).await;
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let mut resources = Vec::new();
    for (backup, restore, instance) in [
        (Kind::Dds, Kind::DdsRestore, "busy-dds-r"),
        (Kind::Taurus, Kind::TaurusRestore, "busy-tdb-r"),
    ] {
        for j in 0..3 {
            let name = format!("{instance}-b{j}");
            let spec = json!({"instanceId": instance});
            resources.push((backup, rig::create(&h.api, backup, &name, spec)));
            let spec = json!({"instanceId": instance, "backupRef": {"name": name}});
            let name = format!("{instance}-r{j}");
            resources.push((restore, rig::create(&h.api, restore, &name, spec)));
        }
        let spec = json!({"instanceId": instance, "restoreTime": at.to_string()});
        let name = format!("{instance}-pitr");
        resources.push((restore, rig::create(&h.api, restore, &name, spec)));
    }
    let ctx = rig::restart(&h.api, rig::settings(), None);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, path) in resources.clone() {
        let (api, ctx) = (h.api.clone(), Arc::clone(&ctx));
        tasks.spawn(async move {
            rig::run_to_terminal(&api, &ctx, kind, &path, Duration::from_secs(40)).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("no reconcile panics").unwrap();
    }
    for (kind, path) in &resources {
        let st = rig::status(&h.api, path);
        assert_eq!(
            st.phase,
            Some(hwcloud_backup_operator::crd::Phase::Succeeded),
            "{kind:?} {path}: {st:?}"
        );
    }
    assert_one_at_a_time(&h, 14, "6 backups and 8 restores");
}

/// The cloud's own record: `count` operations, and those on one instance never overlapped. Not even
/// one busy refusal was provoked: every create the cloud saw was accepted.
fn assert_one_at_a_time(h: &Harness, count: usize, what: &str) {
    let mut spans: Vec<(String, Instant, Instant)> = Vec::new();
    for b in h.sim.backups() {
        let done = b.completed_at.expect("backup done");
        spans.push((b.instance_id, b.created_at, done));
    }
    for r in h.sim.restores() {
        let done = r.completed_at.expect("restore done");
        spans.push((r.instance_id, r.created_at, done));
    }
    assert_eq!(spans.len(), count, "{what}");
    spans.sort_by_key(|s| (s.0.clone(), s.1));
    for pair in spans.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.0 == b.0 {
            assert!(
                b.1 >= a.2,
                "operations overlap on {}: {:?} started before {:?} ended",
                a.0,
                b.1,
                a.2
            );
        }
    }
    let refused: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.operation.starts_with("create_") && c.status >= 400)
        .collect();
    assert!(refused.is_empty(), "creates refused: {refused:?}");
}

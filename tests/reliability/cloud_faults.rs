//! Cloud faults at scale: 200 resources of all kinds on 20 instances, driven concurrently like the
//! controller runtime would, against a cloud that throttles, fails, drops connections and loses
//! answers after acting. All must succeed, none duplicated.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::sim::{Faults, SimConfig};
use serde_json::json;

use crate::fake_api::FakeApi;
use crate::harness::{Harness, SECRET};
use crate::proxy::LossyProxy;
use crate::rig::{self, Kind};

/// Every resource of the population: (kind, path).
fn populate(api: &FakeApi) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    // 8 DCS instances: 7 backups and 3 restores of the first three backups each.
    for i in 0..8 {
        let instance = format!("dcs-{i}");
        for j in 0..7 {
            let spec = json!({"instanceId": instance, "remark": format!("b{j}")});
            out.push((
                Kind::DcsBackup,
                rig::create(api, Kind::DcsBackup, &format!("b-{i}-{j}"), spec),
            ));
        }
        for j in 0..3 {
            let spec = json!({"instanceId": instance, "backupRef": {"name": format!("b-{i}-{j}")}});
            out.push((
                Kind::DcsRestore,
                rig::create(api, Kind::DcsRestore, &format!("r-{i}-{j}"), spec),
            ));
        }
    }
    // 6 DDS and 6 TaurusDB instances with 10 backups each.
    for (kind, svc) in [(Kind::Dds, "dds"), (Kind::Taurus, "taurus")] {
        for i in 0..6 {
            for j in 0..10 {
                let spec =
                    json!({"instanceId": format!("{svc}-{i}"), "description": format!("n{j}")});
                out.push((
                    kind,
                    rig::create(api, kind, &format!("{svc}-{i}-{j}"), spec),
                ));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_resources_succeed_once_each_through_cloud_faults() {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(200),
        ..SimConfig::default()
    };
    let settings = rig::settings();
    let h = Harness::with(cfg, settings.clone()).await;
    // Answers lost after the cloud acted are what could duplicate a backup: 5% of creates.
    let proxy = LossyProxy::start(h.sim.base_url()).await;
    proxy.set_lose_rate(0.05);
    h.put_secret(SECRET, proxy.secret_data(h.secret_data()));
    h.sim.set_faults(Faults {
        error_rate: 0.2,
        drop_rate: 0.05,
        ..Faults::default()
    });
    let resources = populate(&h.api);
    assert_eq!(resources.len(), 200);

    let started = Instant::now();
    // One operator process: one context shared by a task per resource.
    let ctx = rig::restart(&h.api, settings, None);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, path) in resources.clone() {
        let (api, ctx) = (h.api.clone(), Arc::clone(&ctx));
        tasks.spawn(async move {
            rig::run_to_terminal(&api, &ctx, kind, &path, Duration::from_secs(50)).await
        });
    }
    let mut stuck = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.expect("no reconcile panics") {
            stuck.push(e);
        }
    }
    assert!(
        stuck.is_empty(),
        "{} stuck: {:#?}",
        stuck.len(),
        &stuck[..stuck.len().min(3)]
    );
    let took = started.elapsed();

    let snap = rig::Snapshot::take(&h.api, &h.sim);
    for (kind, path) in &resources {
        rig::assert_one_and_succeeded(&h.api, &snap, *kind, path);
    }
    // Nothing else was created: one cloud object per resource, no strays without a marker.
    let dcs_backups = resources
        .iter()
        .filter(|(k, _)| *k != Kind::DcsRestore)
        .count();
    assert_eq!(h.sim.backups().len(), dcs_backups);
    assert_eq!(h.sim.restores().len(), 24);

    // The faults really happened, or this test proves nothing.
    let calls = h.sim.calls();
    let count = |status: u16| calls.iter().filter(|c| c.status == status).count();
    let (throttled, failed, dropped) = (count(429), count(500), count(0));
    assert!(
        throttled > 20 && failed > 20 && dropped > 5,
        "{throttled} 429s, {failed} 500s, {dropped} drops"
    );
    assert!(proxy.lost() > 0, "no create answer was lost");
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

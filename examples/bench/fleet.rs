//! The footprint benchmark's world: N resources of the four kinds in the fake API server, served
//! over HTTP, as `kubectl apply` and the operator's status writes leave them (managedFields, the
//! last-applied annotation, two labels, a remark), 20 per instance over 10 namespaces.
//!
//! All but about 1% have finished (`Succeeded`): they are what a restart finds. Their Secret points
//! at one simulator, so any cloud call a finished resource causes shows there. The other 1% are new
//! (a DcsBackup, a DcsRestore of it, a DdsBackup and a TaurusDbBackup per group, each group on its
//! own instances) and run to `Succeeded` against a second simulator, so every kind is also
//! reconciled through create, poll and finish, with claims, schedules and list caches in use.

use std::time::Duration;

use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};
use serde_json::json;

use crate::fake_api::object_path;
use crate::fake_http::{Served, serve};
use crate::harness::{Harness, SECRET, fast_settings, secret_for};
use crate::served::{self, API_VERSION, KINDS};

/// Namespaces the resources are spread over, each with both Secrets.
pub const NAMESPACES: usize = 10;
/// Resources per instance, as in the measurement.
const PER_INSTANCE: usize = 20;
/// The Secret of the new resources (second simulator).
const FRESH_SECRET: &str = "hwcloud-fresh";
/// One group of four new resources per this many resources.
const FRESH_EVERY: usize = 400;

pub struct Fleet {
    /// Simulator of the finished resources (expects no call) and the fake API server.
    pub h: Harness,
    /// Simulator of the new resources (kept running).
    pub _fresh: SimHandle,
    pub served: Served,
    /// Paths of the new resources.
    pub fresh_paths: Vec<String>,
    /// Number of resources in all.
    pub total: usize,
}

fn namespace(i: usize) -> String {
    format!("team-{:02}", i % NAMESPACES)
}

fn sim_config() -> SimConfig {
    SimConfig {
        backup_duration: Duration::from_millis(500),
        ..SimConfig::default()
    }
}

/// Builds the world of `n` resources and serves its API server.
pub async fn fleet(n: usize) -> Fleet {
    let h = Harness::with(sim_config(), fast_settings()).await;
    let fresh = Simulator::start(sim_config()).await.expect("simulator");
    h.api.log_reads(false);
    for i in 0..NAMESPACES {
        h.put_secret_in(&namespace(i), SECRET, h.secret_data());
        h.put_secret_in(&namespace(i), FRESH_SECRET, secret_for(&fresh));
    }
    let groups = n / FRESH_EVERY;
    let finals = n - groups * 4;
    for i in 0..finals {
        let (kind, plural) = KINDS[i % 4];
        let nth = i / 4;
        let instance = format!("{}-{:05}", service(kind), nth / PER_INSTANCE);
        let name = format!("nightly-{nth:06}");
        let ns = namespace(nth);
        let spec = served::spec(kind, &instance, i);
        let obj = served::served(kind, &ns, &name, spec, Some(served::succeeded(kind, i)));
        h.api
            .put(&object_path(API_VERSION, plural, &ns, &name), obj);
    }
    let mut fresh_paths = Vec::new();
    for g in 0..groups {
        let ns = namespace(g);
        for (kind, plural) in KINDS {
            let name = format!("fresh-{}-{g:04}", service(kind));
            let instance = format!("fresh-{}-{g:04}", service(kind));
            let mut spec = json!({"instanceId": instance,
                "credentialsSecretRef": {"name": FRESH_SECRET}});
            if kind == "DcsRestore" {
                spec["instanceId"] = json!(format!("fresh-redis-{g:04}"));
                spec["backupRef"] = json!({"name": format!("fresh-redis-{g:04}")});
            }
            let path = object_path(API_VERSION, plural, &ns, &name);
            h.api
                .put(&path, served::served(kind, &ns, &name, spec, None));
            fresh_paths.push(path);
        }
    }
    let served = serve(h.api.clone()).await;
    Fleet {
        h,
        _fresh: fresh,
        served,
        fresh_paths,
        total: n,
    }
}

/// The service an instance of `kind` belongs to, as an instance-name prefix.
fn service(kind: &str) -> &'static str {
    match kind {
        "DcsBackup" => "redis",
        "DcsRestore" => "restore",
        "DdsBackup" => "mongo",
        _ => "taurus",
    }
}

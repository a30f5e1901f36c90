//! Periodic bookkeeping over the controllers' caches (no API calls): the phase gauges, the newest
//! success, instance claims of resources deleted without a finalizer, and the per-resource memory
//! (poll gate, recent statuses, DCS list cache) that would otherwise only grow.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use kube::ResourceExt;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;

use crate::controller::context::Context;
use crate::controller::driver::owner;
use crate::controller::operation::Operation;
use crate::controller::runner::Shutdown;
use crate::crd::Phase;

/// How often the caches are looked at (the claim of a resource deleted without a finalizer lasts
/// at most this long).
pub const PERIOD: Duration = Duration::from_secs(15);

/// What one kind's caches hold right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Census {
    pub kind: &'static str,
    /// Resources per phase, every phase listed (0 where there are none).
    pub counts: [(&'static str, i64); 4],
    /// For each watched store: its claim-owner prefix and the owners it holds.
    pub owners: Vec<(String, HashSet<String>)>,
    /// UIDs of the resources the caches hold.
    pub uids: HashSet<String>,
    /// Unix seconds of the newest `completedAt` of a `Succeeded` resource.
    pub last_success: Option<i64>,
}

/// One kind's caches, type-erased so that one task looks after every kind (the poll gate and the
/// recent statuses are shared by all kinds and keyed by UID alone).
pub struct Caches {
    census: Box<dyn Fn() -> Census + Send + Sync>,
    ready: BoxFuture<'static, ()>,
}

impl Caches {
    /// The stores of kind `K`, each with the claim-owner prefix of the objects it holds.
    pub fn of<K: Operation>(stores: Vec<(Store<DeserializeGuard<K>>, String)>) -> Self {
        let waits = stores.iter().map(|(store, _)| {
            let store = store.clone();
            // A dropped writer means the controller stopped; nothing to wait for then.
            async move { store.wait_until_ready().await.unwrap_or(()) }
        });
        let ready = join_all(waits).map(|_| ()).boxed();
        Self {
            census: Box::new(move || census::<K>(&stores)),
            ready,
        }
    }
}

fn census<K: Operation>(stores: &[(Store<DeserializeGuard<K>>, String)]) -> Census {
    let mut c = Census {
        kind: K::KIND_LABEL,
        counts: [
            ("Pending", 0),
            ("Running", 0),
            ("Succeeded", 0),
            ("Failed", 0),
        ],
        owners: Vec::new(),
        uids: HashSet::new(),
        last_success: None,
    };
    for (store, prefix) in stores {
        let mut owners = HashSet::new();
        for obj in store.state() {
            let Ok(k) = &obj.0 else { continue };
            let status = k.status();
            let phase = status.and_then(|s| s.phase).unwrap_or(Phase::Pending);
            if let Some(slot) = c.counts.iter_mut().find(|(p, _)| *p == phase.as_str()) {
                slot.1 += 1;
            }
            if phase == Phase::Succeeded
                && let Some(done) = status.and_then(|s| s.completed_at.as_ref())
            {
                let at = done.0.as_second();
                c.last_success = Some(c.last_success.map_or(at, |t| t.max(at)));
            }
            owners.insert(owner::<K>(k));
            if let Some(uid) = k.uid() {
                c.uids.insert(uid);
            }
        }
        c.owners.push((prefix.clone(), owners));
    }
    c
}

type CensusFn = Box<dyn Fn() -> Census + Send + Sync>;

/// Runs until `shutdown`: once every cache has its first full list, then every `period`.
pub async fn run(caches: Vec<Caches>, ctx: Arc<Context>, shutdown: Shutdown, period: Duration) {
    let (censuses, ready): (Vec<CensusFn>, Vec<_>) =
        caches.into_iter().map(|c| (c.census, c.ready)).unzip();
    let mut shutdown = std::pin::pin!(shutdown);
    // Before its first full list a cache is empty, which would read as "everything was deleted":
    // zeroed gauges (a false alert when they jump back) and released claims of running operations.
    tokio::select! {
        _ = join_all(ready) => {}
        _ = &mut shutdown => return,
    }
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut shutdown => return,
        }
        for census in &censuses {
            publish(&ctx, &census());
        }
        forget_deleted(&ctx, &censuses);
        ctx.dcs_backups.evict_stale();
        ctx.dcs_restores.evict_stale();
    }
}

/// Gauges, the newest success and claims from one kind's census.
fn publish(ctx: &Context, c: &Census) {
    ctx.metrics.set_phase_counts(c.kind, &c.counts);
    if let Some(at) = c.last_success {
        // Moves forward only, so this seeds the gauge after a start and never undoes a newer success.
        ctx.metrics.backup_succeeded(c.kind, at);
    }
    for (prefix, present) in &c.owners {
        let released = ctx.locks.release_absent(prefix, present);
        if released > 0 {
            tracing::debug!(
                kind = c.kind,
                released,
                "released claims of deleted resources"
            );
        }
    }
}

/// Drops the gate entry and the remembered status of resources deleted without a finalizer:
/// they are never reconciled again, so nothing else would.
fn forget_deleted(ctx: &Context, censuses: &[CensusFn]) {
    let present = || -> HashSet<String> { censuses.iter().flat_map(|c| c().uids).collect() };
    // The UIDs are read while the map is locked: every entry in it was made by a reconcile of an
    // object the caches already held, so a UID missing from them was deleted, not just created.
    let mut seen = None;
    ctx.gate
        .retain(|uid| seen.get_or_insert_with(present).contains(uid));
    let mut seen = None;
    ctx.recent
        .retain(|uid| seen.get_or_insert_with(present).contains(uid));
    let mut seen = None;
    ctx.journal
        .retain(|uid| seen.get_or_insert_with(present).contains(uid));
}

#[cfg(test)]
#[path = "housekeeping_tests.rs"]
mod tests;

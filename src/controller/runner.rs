//! Starts one kube-runtime Controller per kind (and per watched namespace) over the shared context.

use std::sync::Arc;

use futures::future::{BoxFuture, join_all};
use futures::{FutureExt, StreamExt};
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use crate::controller::context::Context;
use crate::controller::driver::{error_policy, reconcile};
use crate::controller::error::Error;
use crate::controller::housekeeping::{self, Caches};
use crate::controller::operation::Operation;
use crate::controller::strip;
use crate::crd::{DcsBackup, DcsRestore, DdsBackup, DdsRestore, TaurusDbBackup, TaurusDbRestore};
use crate::shard::WatchSelector;

/// What to watch and how hard to work.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    /// Reconciles running at once per controller.
    pub concurrency: u16,
    /// Cache objects without what no controller reads ([`strip`]); off only to measure the difference.
    pub strip: bool,
    /// Only resources whose labels match (a shard); `None` watches every resource.
    pub label_selector: Option<WatchSelector>,
}

impl RunOptions {
    /// How every watch of the controllers lists and follows its objects: only those the selector
    /// matches, so a replica never sees, reconciles or counts another shard's resources.
    pub fn watcher_config(&self) -> watcher::Config {
        let config = watcher::Config::default().any_semantic();
        match &self.label_selector {
            Some(selector) => config.labels(selector.as_str()),
            None => config,
        }
    }

    /// [`RunOptions::watcher_config`] narrowed further by `labels` (a watch of labelled children).
    pub fn watcher_config_with(&self, labels: &str) -> watcher::Config {
        let selector = match &self.label_selector {
            Some(selector) => format!("{labels},{selector}"),
            None => labels.to_string(),
        };
        watcher::Config::default().any_semantic().labels(&selector)
    }
}

/// A future that completes when the controllers should stop (signal, or leadership lost).
pub type Shutdown = futures::future::Shared<BoxFuture<'static, ()>>;

/// Runs every controller until `shutdown`; `on_synced` fires once all caches are filled.
pub async fn run(
    ctx: Arc<Context>,
    opts: RunOptions,
    shutdown: Shutdown,
    on_synced: impl FnOnce() + Send,
) {
    ctx.accounts.share_of(opts.concurrency);
    let mut runs: Vec<BoxFuture<'static, ()>> = Vec::new();
    let mut stores: Vec<BoxFuture<'static, ()>> = Vec::new();
    let mut caches = Vec::new();
    add::<DcsBackup>(&ctx, &opts, &shutdown, &mut runs, &mut stores, &mut caches);
    add::<DcsRestore>(&ctx, &opts, &shutdown, &mut runs, &mut stores, &mut caches);
    add::<DdsBackup>(&ctx, &opts, &shutdown, &mut runs, &mut stores, &mut caches);
    add::<TaurusDbBackup>(&ctx, &opts, &shutdown, &mut runs, &mut stores, &mut caches);
    add::<DdsRestore>(&ctx, &opts, &shutdown, &mut runs, &mut stores, &mut caches);
    add::<TaurusDbRestore>(&ctx, &opts, &shutdown, &mut runs, &mut stores, &mut caches);
    runs.push(
        housekeeping::run(caches, ctx.clone(), shutdown.clone(), housekeeping::PERIOD).boxed(),
    );
    crate::controller::backup_schedule::run::add(&ctx, &opts, &shutdown, &mut runs, &mut stores);
    let synced = async move {
        join_all(stores).await;
        on_synced();
    };
    futures::join!(join_all(runs), synced);
}

/// The Apis to watch for `K`, each with the claim-owner prefix of the objects it sees.
fn apis<K: Operation>(ctx: &Context, opts: &RunOptions) -> Vec<(Api<DeserializeGuard<K>>, String)> {
    let kind = K::kind(&());
    if opts.namespaces.is_empty() {
        vec![(Api::all(ctx.client.clone()), format!("{kind}/"))]
    } else {
        opts.namespaces
            .iter()
            .map(|ns| {
                (
                    Api::namespaced(ctx.client.clone(), ns),
                    format!("{kind}/{ns}/"),
                )
            })
            .collect()
    }
}

fn add<K: Operation>(
    ctx: &Arc<Context>,
    opts: &RunOptions,
    shutdown: &Shutdown,
    runs: &mut Vec<BoxFuture<'static, ()>>,
    stores: &mut Vec<BoxFuture<'static, ()>>,
    caches: &mut Vec<Caches>,
) {
    let mut kind_stores = Vec::new();
    for (api, prefix) in apis::<K>(ctx, opts) {
        let ctrl = strip::controller(api, opts.watcher_config(), opts.strip)
            .with_config(controller::Config::default().concurrency(opts.concurrency))
            .graceful_shutdown_on(shutdown.clone());
        let store: Store<DeserializeGuard<K>> = ctrl.store();
        kind_stores.push((store.clone(), prefix));
        stores.push(async move { store.wait_until_ready().await.unwrap_or(()) }.boxed());
        let ctx = ctx.clone();
        runs.push(
            ctrl.run(guarded_reconcile::<K>, guarded_error_policy::<K>, ctx)
                .for_each(|res| async move {
                    match res {
                        Ok((obj, _)) => {
                            tracing::trace!(kind = K::KIND_LABEL, name = %obj.name, "reconciled")
                        }
                        Err(e) => {
                            tracing::debug!(kind = K::KIND_LABEL, error = %e, "controller event")
                        }
                    }
                })
                .boxed(),
        );
    }
    caches.push(Caches::of(kind_stores));
}

/// An object that does not deserialise (e.g. written past the schema) is reported, never retried in a loop.
async fn guarded_reconcile<K: Operation>(
    obj: Arc<DeserializeGuard<K>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    match &obj.0 {
        Ok(k) => reconcile(Arc::new(k.clone()), ctx).await,
        Err(invalid) => {
            ctx.metrics.reconcile_error(K::KIND_LABEL, "InvalidObject");
            tracing::warn!(
                kind = K::KIND_LABEL,
                ns = invalid.metadata.namespace.as_deref().unwrap_or_default(),
                name = invalid.metadata.name.as_deref().unwrap_or_default(),
                error = %invalid.error,
                "object does not match the schema; fix or delete it"
            );
            Ok(Action::await_change())
        }
    }
}

fn guarded_error_policy<K: Operation>(
    obj: Arc<DeserializeGuard<K>>,
    err: &Error,
    ctx: Arc<Context>,
) -> Action {
    match &obj.0 {
        Ok(k) => error_policy(Arc::new(k.clone()), err, ctx),
        Err(_) => Action::await_change(),
    }
}

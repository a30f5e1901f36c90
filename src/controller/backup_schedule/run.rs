//! Starts the schedule controller next to the backup controllers: one kube-runtime Controller per
//! watched namespace (or one for all), watching the schedules and, through the schedule label, their
//! children of the three backup kinds, so a child's phase change wakes its schedule.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};

use super::reconcile::{CONTROLLER, ScheduleContext, error_policy, reconcile};
use crate::controller::context::Context;
use crate::controller::error::Error;
use crate::controller::housekeeping;
use crate::controller::runner::{RunOptions, Shutdown};
use crate::crd::backup_schedule::SCHEDULE_LABEL;
use crate::crd::{BackupSchedule, DcsBackup, DdsBackup, TaurusDbBackup};

type Guarded = DeserializeGuard<BackupSchedule>;

/// Adds the schedule controller(s) to `runs`, and their cache readiness to `stores`.
pub fn add(
    ctx: &Arc<Context>,
    opts: &RunOptions,
    shutdown: &Shutdown,
    runs: &mut Vec<BoxFuture<'static, ()>>,
    stores: &mut Vec<BoxFuture<'static, ()>>,
) {
    let sctx = Arc::new(ScheduleContext::new(ctx.clone()));
    let scopes: Vec<Option<&str>> = if opts.namespaces.is_empty() {
        vec![None]
    } else {
        opts.namespaces.iter().map(|ns| Some(ns.as_str())).collect()
    };
    let mut schedule_stores = Vec::new();
    for scope in scopes {
        let client = &ctx.client;
        // Only labelled children: a backup made by hand never wakes a schedule. Both watches take
        // the replica's shard selector; a schedule passes its shard label on to its children.
        let children = || opts.watcher_config_with(SCHEDULE_LABEL);
        // Children are watched by their metadata alone: the schedule label is all that maps a
        // child to its schedule, and thousands of children's specs and statuses would otherwise
        // be read and decoded a second time (the backup controllers already do).
        let ctrl = Controller::new(api::<Guarded>(client, scope), opts.watcher_config())
            .watches(
                api::<PartialObjectMeta<DcsBackup>>(client, scope),
                children(),
                parent,
            )
            .watches(
                api::<PartialObjectMeta<DdsBackup>>(client, scope),
                children(),
                parent,
            )
            .watches(
                api::<PartialObjectMeta<TaurusDbBackup>>(client, scope),
                children(),
                parent,
            )
            .with_config(controller::Config::default().concurrency(opts.concurrency))
            .graceful_shutdown_on(shutdown.clone());
        let store = ctrl.store();
        schedule_stores.push(store.clone());
        stores.push(async move { store.wait_until_ready().await.unwrap_or(()) }.boxed());
        runs.push(
            ctrl.run(guarded_reconcile, guarded_error_policy, sctx.clone())
                .for_each(|res| async move {
                    if let Err(e) = res {
                        tracing::debug!(kind = CONTROLLER, error = %e, "controller event");
                    }
                })
                .boxed(),
        );
    }
    runs.push(forget_deleted(schedule_stores, sctx, shutdown.clone()).boxed());
}

fn api<K>(client: &kube::Client, scope: Option<&str>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
{
    match scope {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The schedule a child belongs to, by its label.
fn parent<C: Resource>(child: PartialObjectMeta<C>) -> Option<ObjectRef<Guarded>> {
    let name = child.labels().get(SCHEDULE_LABEL)?;
    let ns = child.namespace()?;
    Some(ObjectRef::new(name).within(&ns))
}

/// Forgets deleted schedules (from the caches: no API calls). Every [`housekeeping::PERIOD`] of
/// schedule time: real time in production; a compressed test sees a deleted schedule go as soon.
async fn forget_deleted(
    stores: Vec<Store<Guarded>>,
    sctx: Arc<ScheduleContext>,
    shutdown: Shutdown,
) {
    let period = sctx.ctx.schedule_clock.real(housekeeping::PERIOD);
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut shutdown => return,
        }
        retain_present(&stores, &sctx);
    }
}

/// Forgets the series and remembered statuses of schedules that are gone.
fn retain_present(stores: &[Store<Guarded>], sctx: &ScheduleContext) {
    let schedules: Vec<Arc<Guarded>> = stores.iter().flat_map(|s| s.state()).collect();
    let names: HashSet<(String, String)> = schedules
        .iter()
        .map(|g| (g.namespace().unwrap_or_default(), g.name_any()))
        .collect();
    sctx.ctx.metrics.retain_schedules(&names);
    let uids: HashSet<String> = schedules.iter().filter_map(|g| g.uid()).collect();
    sctx.recent.retain(&uids);
}

/// An object that does not deserialise (e.g. written past the schema) is reported, never retried in a loop.
async fn guarded_reconcile(obj: Arc<Guarded>, sctx: Arc<ScheduleContext>) -> Result<Action, Error> {
    match &obj.0 {
        Ok(s) => reconcile(Arc::new(s.clone()), sctx).await,
        Err(invalid) => {
            sctx.ctx
                .metrics
                .reconcile_error(CONTROLLER, "InvalidObject");
            tracing::warn!(
                kind = CONTROLLER,
                ns = invalid.metadata.namespace.as_deref().unwrap_or_default(),
                name = invalid.metadata.name.as_deref().unwrap_or_default(),
                error = %invalid.error,
                "object does not match the schema; fix or delete it"
            );
            Ok(Action::await_change())
        }
    }
}

fn guarded_error_policy(obj: Arc<Guarded>, err: &Error, sctx: Arc<ScheduleContext>) -> Action {
    match &obj.0 {
        Ok(s) => error_policy(Arc::new(s.clone()), err, sctx),
        Err(_) => Action::await_change(),
    }
}

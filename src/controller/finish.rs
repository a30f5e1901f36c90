//! The end of a reconcile: write the decided status, publish its events, update claims, the
//! learned schedule and metrics, and pick when to come back.

use std::time::Duration;

use jiff::Timestamp;

use crate::controller::bounded;
use crate::controller::decide::{Decision, Requeue, TIME_PRECISION};
use crate::controller::driver::Reconciling;
use crate::controller::error::Result;
use crate::controller::kube_io::{apply_status, apply_status_if_unchanged, publish};
use crate::controller::operation::Operation;
use crate::controller::schedule::jitter;
use crate::crd::{OperationStatus, Phase};

/// Writes the decision, publishes its events, updates claims/schedule/metrics, and picks the requeue.
pub(crate) async fn finish<K: Operation>(
    r: &Reconciling<'_, K>,
    before: &OperationStatus,
    d: Decision,
) -> Result<Option<Duration>> {
    let (obj, ctx) = (r.obj, r.ctx);
    // Bounded before the comparison, so an unchanged (already bounded) status is not rewritten.
    let d = bounded::decision(d);
    // The wait is chosen, and the gate closed, before the status write whose watch event would
    // otherwise bring the next reconcile forward.
    let next = requeue(r, &d);
    if d.status != *before
        && let Err(e) = write_status(r, before, &d.status).await
    {
        // Nothing was written: the error policy's retry decides, not this wait.
        ctx.gate.release(&r.uid);
        return Err(e);
    }
    for note in &d.events {
        publish(ctx, obj, note, "Reconcile").await;
    }
    if d.status.is_terminal() {
        ctx.locks.release(obj.instance_id(), &r.owner);
    }
    if let (Some(Phase::Succeeded), Some(s), Some(c)) =
        (d.status.phase, &d.status.started_at, &d.status.completed_at)
    {
        let took: Duration = c.0.duration_since(s.0).try_into().unwrap_or_default();
        ctx.scheduler.record(K::KIND_LABEL, obj.instance_id(), took);
        ctx.metrics.backup_succeeded(K::KIND_LABEL, c.0.as_second());
    }
    tracing::debug!(phase = ?d.status.phase, requeue = ?next, "reconciled");
    Ok(next)
}

/// When to come back, recorded in the resource's gate: a transient failure backs off
/// exponentially (per resource, reset by any other outcome), a poll follows the learned schedule.
fn requeue<K: Operation>(r: &Reconciling<'_, K>, d: &Decision) -> Option<Duration> {
    let gate = &r.ctx.gate;
    let wait = match d.requeue {
        Requeue::Never => {
            gate.forget(&r.uid);
            return None;
        }
        Requeue::Retry(base) => gate.failed(&r.uid, base, r.ctx.settings.poll.max_interval),
        Requeue::After(wait) => {
            gate.succeeded(&r.uid);
            wait
        }
        Requeue::Poll { deadline_in } => {
            gate.succeeded(&r.uid);
            next_poll(r, &d.status, deadline_in)
        }
    };
    let wait = jitter(wait);
    gate.hold(&r.uid, wait);
    Some(wait)
}

/// When to poll a running operation next, before jitter: from the learned schedule, landing the
/// last poll on the deadline so that a timeout is decided on a fresh answer.
fn next_poll<K: Operation>(
    r: &Reconciling<'_, K>,
    status: &OperationStatus,
    deadline_in: Option<Duration>,
) -> Duration {
    // Stored times are whole seconds (truncated): on average the start was half a second later.
    let elapsed = status
        .started_at
        .as_ref()
        .and_then(|s| Duration::try_from(Timestamp::now().duration_since(s.0)).ok())
        .unwrap_or_default()
        .saturating_sub(TIME_PRECISION / 2);
    let wait =
        r.ctx
            .scheduler
            .next_poll(K::KIND_LABEL, r.obj.instance_id(), elapsed, status.progress);
    match deadline_in {
        Some(left) => wait.min(left + r.ctx.settings.poll.margin),
        None => wait,
    }
}

/// Writes the status and remembers it, so a lagging cache cannot make the next reconcile redo work.
///
/// A status that names no cloud object, decided from one that named none either (no ids, no create
/// marker: a wait, or a failure before any create), is written on condition that the object is
/// unchanged since it was read. Such a decision learned nothing a newer state could lack, while
/// written over a newer state it would erase what another writer recorded since: after a move
/// between shards, the new owner's ids, which a later owner reading them from the API server
/// would then miss and create the backup again.
pub(crate) async fn write_status<K: Operation>(
    r: &Reconciling<'_, K>,
    before: &OperationStatus,
    status: &OperationStatus,
) -> Result<()> {
    let names_nothing = |s: &OperationStatus| !K::has_ids(s) && s.create_requested_at.is_none();
    if names_nothing(before) && names_nothing(status) {
        apply_status_if_unchanged(&r.api, r.obj, status).await?;
    } else {
        apply_status(&r.api, r.obj, status).await?;
    }
    r.ctx.recent.remember(&r.uid, status);
    Ok(())
}

//! The shared reconcile: plan from status, do the cloud I/O, decide, write status, publish events.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;

use crate::cloud::error::Error as CloudError;
use crate::controller::bounded;
use crate::controller::cleanup::cleanup;
use crate::controller::context::{Context, FINALIZER};
use crate::controller::decide::{
    self, Decision, Failure, Frame, Observation, Plan, Requeue, TIME_PRECISION, reason,
};
use crate::controller::error::{Error, Result};
use crate::controller::journal;
use crate::controller::kube_io::{
    add_finalizer, apply_marker, apply_status, load_account, publish,
};
use crate::controller::operation::{Created, Operation, marker, timeout_of};
use crate::controller::resume;
use crate::controller::schedule::jitter;
use crate::crd::{DeletionPolicy, OperationStatus, Phase};

/// Reconciles one resource of kind `K` (the function handed to kube-runtime's Controller).
pub async fn reconcile<K: Operation>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    Ok(match reconcile_once(&*obj, &ctx).await? {
        Some(wait) => Action::requeue(wait),
        None => Action::await_change(),
    })
}

/// One reconcile; returns when to come back (`None`: only on a change). Tests drive this directly.
#[tracing::instrument(skip_all, fields(kind = K::KIND_LABEL, ns = obj.namespace(), name = %obj.name_any(), instance = obj.instance_id()))]
pub async fn reconcile_once<K: Operation>(obj: &K, ctx: &Context) -> Result<Option<Duration>> {
    let _timer = ctx.metrics.reconcile_timer(K::KIND_LABEL);
    let ns = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
    let owner = owner(obj);
    let uid = obj.uid().ok_or(Error::MissingField("uid"))?;
    if obj.meta().deletion_timestamp.is_some() {
        ctx.locks.release(obj.instance_id(), &owner);
        ctx.polls.clear(&uid);
        // Cleanup reads the remembered status (the cache may lag) and forgets it when done.
        return cleanup(obj, ctx, &api).await;
    }
    let with_finalizer;
    let obj = if obj.deletion_policy() == DeletionPolicy::Delete
        && !obj.finalizers().iter().any(|f| f == FINALIZER)
    {
        // Before any cloud object exists, so a delete can never orphan one.
        with_finalizer = add_finalizer(&api, obj).await?;
        &with_finalizer
    } else {
        obj
    };
    let status = ctx
        .recent
        .freshest(&uid, obj.status().cloned().unwrap_or_default());
    let frame = frame::<K>(obj, ctx);
    let step = decide::plan(
        &status,
        K::has_ids(&status),
        frame.now,
        ctx.settings.adopt_window,
    );
    if step == Plan::Done {
        ctx.locks.release(obj.instance_id(), &owner);
        ctx.polls.clear(&uid);
        return Ok(None);
    }
    if step == Plan::Poll {
        // Reconciles also run on watch events (including this operator's own status writes);
        // the cloud is asked only when the schedule says so.
        if let Some(wait) = ctx.polls.wait_left(&uid) {
            return Ok(Some(wait));
        }
        if let Some(wait) = resume::first_poll(obj, ctx, &uid, &owner, &status) {
            return Ok(Some(wait));
        }
    }
    let (status, obs) = observe(obj, ctx, &api, &owner, status, step, &frame).await?;
    let story = journal::Story::of(&obs);
    let decision = decide::decide(&status, obs, &frame);
    let after = decision.status.clone();
    let next = finish(obj, ctx, &api, &owner, &status, decision).await?;
    story.tell(obj, &status, &after);
    Ok(next)
}

/// Who holds an instance claim: `Kind/namespace/name` (the housekeeping task matches on it).
pub fn owner<K: Operation>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::kind(&()),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

fn frame<'a, K: Operation>(obj: &K, ctx: &Context) -> Frame<'a> {
    let timeout = timeout_of(obj);
    Frame {
        now: Timestamp::now(),
        generation: obj.meta().generation,
        timeout,
        visibility_grace: ctx.settings.visibility_grace,
        retry_after: ctx.settings.retry_after,
        auth_backoff: ctx.settings.auth_backoff,
        noun: K::NOUN,
    }
}

/// Performs this reconcile's cloud I/O and says what it learned. May write the create marker.
async fn observe<K: Operation>(
    obj: &K,
    ctx: &Context,
    api: &Api<K>,
    owner: &str,
    status: OperationStatus,
    step: Plan,
    frame: &Frame<'_>,
) -> Result<(OperationStatus, Observation)> {
    if let Err(message) = obj.validate() {
        let obs = Observation::Invalid {
            reason: reason::INVALID_SPEC,
            message,
        };
        return Ok((status, obs));
    }
    // Queued behind another operation: no Secret read, no cloud call until it is our turn.
    if step == Plan::Create
        && !K::PRECHECKS
        && let Some(obs) = busy(obj, ctx, owner)
    {
        return Ok((status, obs));
    }
    let secret = obj
        .credentials_secret()
        .unwrap_or(&ctx.settings.default_credentials_secret)
        .to_string();
    let ns = obj.namespace().unwrap_or_default();
    let account = match load_account(ctx, &ns, &secret).await {
        Ok(a) => a,
        Err(Error::Credentials(message)) => {
            let obs = Observation::Waiting {
                reason: reason::CREDENTIALS_ERROR,
                message,
            };
            return Ok((status, obs));
        }
        Err(e) => return Err(e),
    };
    let cloud = ctx.clouds.client(&account);
    let uid = obj.uid().ok_or(Error::MissingField("uid"))?;
    let marker = marker(&uid);
    match step {
        Plan::Done => {
            return Err(Error::Internal(
                "terminal resource reached the cloud step".into(),
            ));
        }
        Plan::Poll => {
            ctx.locks.hold(obj.instance_id(), owner);
            let obs = match obj.poll(ctx, &cloud, &status).await {
                Ok(Some(view)) => Observation::Progress(view),
                Ok(None) => Observation::NotVisible,
                Err(e) if e.is_not_found() => Observation::NotVisible,
                Err(e) => Observation::PollFailed(failure(&e)),
            };
            return Ok((status, obs));
        }
        Plan::Adopt { may_recreate } => match obj.find(ctx, &cloud, &marker).await {
            Ok(found) if !found.is_empty() => {
                ctx.locks.hold(obj.instance_id(), owner);
                let mut found = found.into_iter();
                let first = found
                    .next()
                    .ok_or_else(|| Error::Internal("empty match".into()))?;
                let duplicates = found
                    .filter_map(|f| f.ids.backup_id.or(f.ids.restore_id))
                    .collect();
                let obs = Observation::Adopted {
                    ids: first.ids,
                    view: first.view,
                    duplicates,
                };
                return Ok((status, obs));
            }
            Ok(_) if may_recreate => {}
            Ok(_) => {
                let message =
                    "confirming that an interrupted create did not reach the cloud".to_string();
                return Ok((
                    status,
                    Observation::Waiting {
                        reason: reason::CREATING,
                        message,
                    },
                ));
            }
            Err(e) => return Ok((status, Observation::LookupFailed(failure(&e)))),
        },
        Plan::Create => {}
    }
    let prepared = match obj.precheck(ctx, &cloud).await? {
        Ok(prepared) => prepared,
        Err(obs) => return Ok((status, obs)),
    };
    if let Err(holder) = ctx.locks.try_claim(obj.instance_id(), owner) {
        return Ok((status, waiting_for(obj, &holder)));
    }
    // Persist the marker BEFORE the cloud call: after a crash the next reconcile looks the object up.
    let pending = decide::mark_create_pending(&status, frame);
    ctx.fence.check()?;
    apply_marker(ctx, api, obj, &pending).await?;
    ctx.fence.check()?;
    let obs = match obj.create(ctx, &cloud, &marker, &prepared).await? {
        Ok(Created::New(ids)) => Observation::Created(ids),
        Ok(Created::Existing(found)) => Observation::Adopted {
            ids: found.ids,
            view: found.view,
            duplicates: Vec::new(),
        },
        Err(e) if is_definite(&e) => {
            ctx.locks.release(obj.instance_id(), owner);
            Observation::CreateRejected(failure(&e))
        }
        Err(e) => Observation::CreateIndeterminate(failure(&e)),
    };
    Ok((pending, obs))
}

/// `Some(waiting)` when another resource holds the instance.
fn busy<K: Operation>(obj: &K, ctx: &Context, owner: &str) -> Option<Observation> {
    ctx.locks
        .holder(obj.instance_id())
        .filter(|h| h != owner)
        .map(|holder| waiting_for(obj, &holder))
}

/// The message names the instance, not the holder: every waiter would otherwise rewrite its status
/// each time the holder changes.
fn waiting_for<K: Operation>(obj: &K, holder: &str) -> Observation {
    tracing::debug!(
        holder,
        instance = obj.instance_id(),
        "instance busy; queued"
    );
    Observation::Waiting {
        reason: reason::INSTANCE_BUSY,
        message: format!(
            "waiting for another operation on instance {} to finish",
            obj.instance_id()
        ),
    }
}

/// Whether a failed create certainly created nothing (the cloud answered with a refusal).
fn is_definite(e: &CloudError) -> bool {
    match e {
        CloudError::Api { status, .. } => *status < 500,
        CloudError::Auth(_) | CloudError::Config(_) => true,
        CloudError::Network { .. } | CloudError::Timeout { .. } | CloudError::Decode { .. } => {
            false
        }
    }
}

fn failure(e: &CloudError) -> Failure {
    Failure {
        class: e.class(),
        message: e.to_string(),
        code: e.code().map(str::to_string),
        request_id: e.request_id().map(str::to_string),
    }
}

/// Writes the decision, publishes its event, updates claims/schedule/metrics, and picks the requeue.
async fn finish<K: Operation>(
    obj: &K,
    ctx: &Context,
    api: &Api<K>,
    owner: &str,
    before: &OperationStatus,
    d: Decision,
) -> Result<Option<Duration>> {
    // Bounded before the comparison, so an unchanged (already bounded) status is not rewritten.
    let d = bounded::decision(d);
    if d.status != *before {
        write_status(ctx, api, obj, &d.status).await?;
    }
    for note in &d.events {
        publish(ctx, obj, note, "Reconcile").await;
    }
    let terminal = d.status.is_terminal();
    if terminal {
        ctx.locks.release(obj.instance_id(), owner);
    }
    if let (Some(Phase::Succeeded), Some(s), Some(c)) =
        (d.status.phase, &d.status.started_at, &d.status.completed_at)
    {
        let took: Duration = c.0.duration_since(s.0).try_into().unwrap_or_default();
        ctx.scheduler.record(K::KIND_LABEL, obj.instance_id(), took);
        ctx.metrics.backup_succeeded(K::KIND_LABEL, c.0.as_second());
    }
    tracing::debug!(phase = ?d.status.phase, requeue = ?d.requeue, "reconciled");
    Ok(match d.requeue {
        Requeue::Never => None,
        Requeue::After(wait) => Some(jitter(wait)),
        Requeue::Poll { deadline_in } => {
            // Stored times are whole seconds (truncated): on average the start was half a second later.
            let elapsed = d
                .status
                .started_at
                .as_ref()
                .and_then(|s| Duration::try_from(Timestamp::now().duration_since(s.0)).ok())
                .unwrap_or_default()
                .saturating_sub(TIME_PRECISION / 2);
            let mut wait = ctx.scheduler.next_poll(
                K::KIND_LABEL,
                obj.instance_id(),
                elapsed,
                d.status.progress,
            );
            // Land the last poll on the deadline so a timeout is decided on a fresh answer.
            if let Some(left) = deadline_in {
                wait = wait.min(left + ctx.settings.poll.margin);
            }
            let wait = jitter(wait);
            if let Some(uid) = obj.uid() {
                ctx.polls.schedule(&uid, wait);
            }
            Some(wait)
        }
    })
}

/// Writes the status and remembers it, so a lagging cache cannot make the next reconcile redo work.
async fn write_status<K: Operation>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    status: &OperationStatus,
) -> Result<()> {
    apply_status(api, obj, status).await?;
    if let Some(uid) = obj.uid() {
        ctx.recent.remember(&uid, status);
    }
    Ok(())
}

/// Error policy of every controller: count, log, and retry with jitter (conflicts quickly).
pub fn error_policy<K: Operation>(obj: Arc<K>, err: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.reconcile_error(K::KIND_LABEL, err.reason());
    tracing::warn!(kind = K::KIND_LABEL, name = %obj.name_any(), reason = err.reason(), error = %err, "reconcile failed");
    let wait = match err {
        Error::Kube(kube::Error::Api(s)) if s.code == 409 => Duration::from_secs(1),
        _ => ctx.settings.retry_after,
    };
    Action::requeue(jitter(wait))
}

//! The shared reconcile: plan from status, do the cloud I/O ([`observe`](super::observe)), decide,
//! then write status and publish events ([`finish`](super::finish)).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;

use crate::controller::cleanup::cleanup;
use crate::controller::context::{Context, FINALIZER};
use crate::controller::decide::{self, Frame, Plan};
use crate::controller::error::{Error, Result};
use crate::controller::finish::finish;
use crate::controller::journal;
use crate::controller::kube_io::add_finalizer;
use crate::controller::observe::observe;
use crate::controller::operation::{Operation, timeout_of};
use crate::controller::resume;
use crate::controller::schedule::jitter;
use crate::crd::DeletionPolicy;

/// Reconciles one resource of kind `K` (the function handed to kube-runtime's Controller).
pub async fn reconcile<K: Operation>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    Ok(match reconcile_once(&*obj, &ctx).await? {
        Some(wait) => Action::requeue(wait),
        None => Action::await_change(),
    })
}

/// What one reconcile works on: the object, the shared context, and what is derived from them once.
pub(crate) struct Reconciling<'a, K: Operation> {
    pub obj: &'a K,
    pub ctx: &'a Context,
    pub api: Api<K>,
    /// Who holds instance claims for this resource (see [`owner`]).
    pub owner: String,
    pub uid: String,
}

/// One reconcile; returns when to come back (`None`: only on a change). Tests drive this directly.
#[tracing::instrument(skip_all, fields(kind = K::KIND_LABEL, ns = obj.namespace(), name = %obj.name_any(), instance = obj.instance_id()))]
pub async fn reconcile_once<K: Operation>(obj: &K, ctx: &Context) -> Result<Option<Duration>> {
    let _timer = ctx.metrics.reconcile_timer(K::KIND_LABEL);
    let ns = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
    let uid = obj.uid().ok_or(Error::MissingField("uid"))?;
    if obj.meta().deletion_timestamp.is_some() {
        ctx.locks.release(obj.instance_id(), &owner(obj));
        ctx.gate.forget(&uid);
        // Cleanup reads the remembered status (the cache may lag) and forgets it when done.
        return cleanup(obj, ctx, &api).await;
    }
    let with_finalizer;
    let obj = if obj.deletion_policy() == DeletionPolicy::Delete
        && !obj.finalizers().iter().any(|f| f == FINALIZER)
    {
        // Before any cloud object exists, so a delete can never orphan one. The object as stored
        // now is the one later (conditional) writes build on.
        with_finalizer = add_finalizer(&api, obj).await?;
        &with_finalizer
    } else {
        obj
    };
    // Reconciles also run on watch events, this operator's own status writes among them: the
    // cloud is asked only once the wait the last reconcile chose has passed.
    if let Some(wait) = ctx.gate.wait_left(&uid) {
        return Ok(Some(wait));
    }
    let r = Reconciling {
        obj,
        ctx,
        api,
        owner: owner(obj),
        uid,
    };
    let status = ctx
        .recent
        .freshest(&r.uid, obj.status().cloned().unwrap_or_default());
    let frame = frame::<K>(obj, ctx);
    let step = decide::plan(
        &status,
        K::has_ids(&status),
        frame.now,
        ctx.settings.adopt_window,
    );
    if step == Plan::Done {
        ctx.locks.release(obj.instance_id(), &r.owner);
        ctx.gate.forget(&r.uid);
        return Ok(None);
    }
    if step == Plan::Poll
        && let Some(wait) = resume::first_poll(obj, ctx, &r.uid, &r.owner, &status)
    {
        return Ok(Some(wait));
    }
    let secret = obj
        .credentials_secret()
        .unwrap_or(&ctx.settings.default_credentials_secret);
    let Some(_slot) = ctx.accounts.enter(&format!("{ns}/{secret}")) else {
        // The account's share of reconciles is busy with the cloud: no call, back shortly.
        return Ok(Some(jitter(ctx.settings.poll.min_interval)));
    };
    let (status, obs) = observe(&r, status, step, &frame).await?;
    let story = journal::Story::of(&obs);
    let decision = decide::decide(&status, obs, &frame);
    let after = decision.status.clone();
    let next = finish(&r, &status, decision).await?;
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
        timeout_grace: ctx.settings.timeout_grace,
        not_listed_for: ctx.settings.not_listed_for,
        noun: K::NOUN,
    }
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

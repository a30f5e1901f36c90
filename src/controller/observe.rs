//! The cloud I/O of one reconcile, in named steps: before a create, validate and queue for the
//! instance; load the account; then poll, adopt, or claim the instance, write the create marker
//! and create.
//!
//! Each step either lets the reconcile go on or ends it with the [`Observation`] it made; the pure
//! state machine in `decide.rs` turns that into the next status.

use std::sync::Arc;

use kube::ResourceExt;

use crate::cloud::client::CloudClient;
use crate::cloud::error::Error as CloudError;
use crate::controller::decide::{self, Failure, Frame, Observation, Plan, Unfound, reason};
use crate::controller::driver::Reconciling;
use crate::controller::error::{Error, Result};
use crate::controller::kube_io::{apply_marker, load_account};
use crate::controller::operation::{Created, Operation, Prepared, Search, Trace, marker};
use crate::crd::OperationStatus;

/// Performs this reconcile's cloud I/O and says what it learned, with the status the observation
/// applies to (the create marker's status once it was written).
pub(crate) async fn observe<K: Operation>(
    r: &Reconciling<'_, K>,
    status: OperationStatus,
    step: Plan,
    frame: &Frame<'_>,
) -> Result<(OperationStatus, Observation)> {
    if step == Plan::Create
        && let Some(obs) = validate(r).or_else(|| queue(r))
    {
        return Ok((status, obs));
    }
    let cloud = match account(r).await? {
        Ok(cloud) => cloud,
        Err(obs) => return Ok((status, obs)),
    };
    match step {
        Plan::Done => Err(Error::Internal(
            "terminal resource reached the cloud step".into(),
        )),
        Plan::Poll => {
            let obs = poll(r, &cloud, &status).await;
            Ok((status, obs))
        }
        Plan::Adopt { may_recreate } => match adopt(r, &cloud, &status, may_recreate).await? {
            Some(obs) => Ok((status, obs)),
            // Nothing was made: this is a create like any other, and the spec is checked first.
            None => match validate(r) {
                Some(obs) => Ok((status, obs)),
                None => create(r, &cloud, status, frame).await,
            },
        },
        Plan::Create => create(r, &cloud, status, frame).await,
    }
}

/// A spec the operator cannot use fails the resource before it creates anything. Only then: an
/// operator upgrade that tightens a rule must not fail an operation that runs already, or that
/// may have started (a marker: its object is still adopted).
fn validate<K: Operation>(r: &Reconciling<'_, K>) -> Option<Observation> {
    let message = r.obj.validate().err()?;
    Some(Observation::Invalid {
        reason: reason::INVALID_SPEC,
        message,
    })
}

/// Queued behind another operation on the instance: no Secret read, no cloud call until it is
/// this resource's turn. Kinds with prechecks report what they wait for first, so they queue later.
fn queue<K: Operation>(r: &Reconciling<'_, K>) -> Option<Observation> {
    if K::PRECHECKS {
        return None;
    }
    r.ctx
        .locks
        .holder(r.obj.instance_id())
        .filter(|h| *h != r.owner)
        .map(|holder| waiting_for(r.obj, &holder))
}

/// The cloud client of the resource's account, or why the resource waits for its credentials.
async fn account<K: Operation>(
    r: &Reconciling<'_, K>,
) -> Result<Result<Arc<CloudClient>, Observation>> {
    let secret = r
        .obj
        .credentials_secret()
        .unwrap_or(&r.ctx.settings.default_credentials_secret);
    let ns = r.obj.namespace().unwrap_or_default();
    match load_account(r.ctx, &ns, secret).await {
        Ok(account) => Ok(Ok(r.ctx.clouds.client(&account))),
        Err(Error::Credentials(message)) => Ok(Err(Observation::Waiting {
            reason: reason::CREDENTIALS_ERROR,
            message,
        })),
        Err(e) => Err(e),
    }
}

/// Asks the cloud how the running operation stands. Only an answer refreshes the resource's claim
/// of its instance: a resource whose polls keep failing lets the claim go stale, so it cannot
/// block every other operation on the instance until it times out.
async fn poll<K: Operation>(
    r: &Reconciling<'_, K>,
    cloud: &CloudClient,
    status: &OperationStatus,
) -> Observation {
    let obs = match r.obj.poll(r.ctx, cloud, status).await {
        Ok(Some(view)) => Observation::Progress(view),
        Ok(None) => Observation::NotVisible,
        Err(e) if e.is_not_found() => Observation::NotVisible,
        Err(e) => return Observation::PollFailed(failure(&e)),
    };
    r.ctx.locks.hold(r.obj.instance_id(), &r.owner);
    obs
}

/// Looks for the object an interrupted create may have made. `None`: nothing found, and the
/// marker is old enough that the resource may create again (never for a kind that creates once).
async fn adopt<K: Operation>(
    r: &Reconciling<'_, K>,
    cloud: &CloudClient,
    status: &OperationStatus,
    may_recreate: bool,
) -> Result<Option<Observation>> {
    let marker = marker(&r.uid);
    let trace = Trace {
        marker: &marker,
        requested_at: status.create_requested_at.as_ref().map(|t| t.0),
    };
    let obs = match r.obj.search(r.ctx, cloud, &trace).await {
        Ok(Search::Listed(found)) if !found.is_empty() => {
            r.ctx.locks.hold(r.obj.instance_id(), &r.owner);
            let mut found = found.into_iter();
            let first = found
                .next()
                .ok_or_else(|| Error::Internal("empty match".into()))?;
            let duplicates = found
                .filter_map(|f| f.ids.backup_id.or(f.ids.restore_id))
                .collect();
            Observation::Adopted {
                ids: first.ids,
                view: first.view,
                duplicates,
            }
        }
        Ok(Search::Listed(_)) if may_recreate && !K::NEVER_TWICE => return Ok(None),
        Ok(Search::Listed(_)) => Observation::Unfound(Unfound::NotListed {
            window_passed: may_recreate,
            detail: format!(
                "nothing it started on instance {} is listed",
                r.obj.instance_id()
            ),
        }),
        Ok(Search::Impossible(why)) => Observation::Unfound(Unfound::Impossible(why)),
        Err(e) => Observation::LookupFailed(failure(&e)),
    };
    Ok(Some(obs))
}

/// Prechecks, then claims the instance, persists the marker, and makes the create call.
async fn create<K: Operation>(
    r: &Reconciling<'_, K>,
    cloud: &CloudClient,
    status: OperationStatus,
    frame: &Frame<'_>,
) -> Result<(OperationStatus, Observation)> {
    let prepared = match r.obj.precheck(r.ctx, cloud).await? {
        Ok(prepared) => prepared,
        Err(obs) => return Ok((status, obs)),
    };
    // Set when an earlier create's fate is unknown and nothing was found by its marker.
    let recreate = status.create_requested_at.is_some();
    let pending = match claim_and_mark(r, &status, frame, &prepared).await? {
        Ok(pending) => pending,
        Err(obs) => return Ok((status, obs)),
    };
    let obs = match call_create(r, cloud, &prepared).await? {
        Ok(obs) => obs,
        Err(e) if is_definite(&e) => {
            r.ctx.locks.release(r.obj.instance_id(), &r.owner);
            if recreate {
                Observation::RecreateRejected(failure(&e))
            } else {
                Observation::CreateRejected(failure(&e))
            }
        }
        Err(e) => Observation::CreateIndeterminate(failure(&e)),
    };
    Ok((pending, obs))
}

/// Claims the instance and writes the crash-safe "create pending" marker; the status written, or
/// the observation that the instance is taken.
async fn claim_and_mark<K: Operation>(
    r: &Reconciling<'_, K>,
    status: &OperationStatus,
    frame: &Frame<'_>,
    prepared: &Prepared,
) -> Result<Result<OperationStatus, Observation>> {
    if let Err(holder) = r.ctx.locks.try_claim(r.obj.instance_id(), &r.owner) {
        return Ok(Err(waiting_for(r.obj, &holder)));
    }
    // Persist the marker BEFORE the cloud call: after a crash the next reconcile looks the object up.
    // Only while this replica holds the lease, and only on the resourceVersion the decision was
    // made from (a stale writer gets a conflict instead of a marker).
    let pending = decide::mark_create_pending(status, frame, prepared);
    r.ctx.fence.check()?;
    apply_marker(r.ctx, &r.api, r.obj, &pending).await?;
    r.ctx.fence.check()?;
    Ok(Ok(pending))
}

/// The create call itself: the ids, or the cloud's error.
async fn call_create<K: Operation>(
    r: &Reconciling<'_, K>,
    cloud: &CloudClient,
    prepared: &Prepared,
) -> Result<Result<Observation, CloudError>> {
    let created = r
        .obj
        .create(r.ctx, cloud, &marker(&r.uid), prepared)
        .await?;
    Ok(created.map(|c| match c {
        Created::New(ids) => Observation::Created(ids),
        // The cloud refused the name, which the resource's own earlier create already took.
        Created::Existing(found) => Observation::Adopted {
            ids: found.ids,
            view: found.view,
            duplicates: Vec::new(),
        },
    }))
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
        // Refused before anything was sent: a disallowed endpoint or the account's own rate limit.
        CloudError::Auth(_)
        | CloudError::Config(_)
        | CloudError::EndpointRefused { .. }
        | CloudError::RateLimited { .. } => true,
        CloudError::Network { .. } | CloudError::Timeout { .. } | CloudError::Decode { .. } => {
            false
        }
    }
}

fn failure(e: &CloudError) -> Failure {
    Failure::of(e)
}

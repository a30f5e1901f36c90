//! The create → poll → finish state machine as pure functions of (status, observation, time).
//!
//! The driver asks [`plan`] what to do, performs the cloud I/O, turns the result into an
//! [`Observation`] and asks [`decide`] for the next status, events and requeue. Nothing here does
//! I/O, so every transition is unit-tested.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::error::ErrorClass;
use crate::controller::operation::Prepared;
use crate::controller::running;
use crate::crd::{OperationStatus, Phase};

pub use crate::controller::state::*;

/// Chooses the step from the persisted status alone (so a restart resumes exactly).
pub fn plan(
    status: &OperationStatus,
    has_ids: bool,
    now: Timestamp,
    adopt_window: Duration,
) -> Plan {
    if status.is_terminal() {
        return Plan::Done;
    }
    if has_ids {
        return Plan::Poll;
    }
    match &status.create_requested_at {
        // The marker was read back from the API server, which keeps whole seconds only: it may
        // look up to a second older than it is, and the window must not end early.
        Some(Time(at)) => Plan::Adopt {
            may_recreate: age(*at, now) >= adopt_window + TIME_PRECISION,
        },
        None => Plan::Create,
    }
}

/// A point in time as status shows it: UTC, to the millisecond the cloud takes.
pub fn restore_time_text(at: Timestamp) -> String {
    Timestamp::from_millisecond(at.as_millisecond())
        .unwrap_or(at)
        .to_string()
}

pub(super) fn age(at: Timestamp, now: Timestamp) -> Duration {
    now.duration_since(at).try_into().unwrap_or(Duration::ZERO)
}

/// Status before the create call: the crash-safe "create pending" marker, with what a restore
/// restores (so that a restore adopted after a crash still says it).
pub fn mark_create_pending(
    status: &OperationStatus,
    f: &Frame<'_>,
    prepared: &Prepared,
) -> OperationStatus {
    let mut s = status.clone();
    s.phase = Some(Phase::Pending);
    s.create_requested_at = Some(Time(f.now));
    if let Some(id) = &prepared.backup_id {
        s.backup_id = Some(id.clone());
    }
    if let Some(at) = prepared.restore_time {
        s.restore_time = Some(restore_time_text(at));
    }
    set_ready(
        &mut s,
        f,
        false,
        reason::CREATING,
        "creating the cloud operation",
    );
    s
}

/// Applies an observation to the status.
pub fn decide(status: &OperationStatus, obs: Observation, f: &Frame<'_>) -> Decision {
    let request_id = obs.failure().and_then(|f| f.request_id.clone());
    let mut d = transition(status, obs, f);
    // The request id names the failed call for a support ticket. Events may carry it; status must
    // not, since it is new on every attempt.
    if let Some(id) = request_id {
        for e in &mut d.events {
            e.note = format!("{} (request id {id})", e.note);
        }
    }
    d
}

fn transition(status: &OperationStatus, obs: Observation, f: &Frame<'_>) -> Decision {
    let mut s = status.clone();
    let before = current_reason(status);
    let (reason, requeue, event) = match obs {
        Observation::Created(ids) => {
            start_running(&mut s, ids, f);
            let note = format!("started {} {}", f.noun.to_lowercase(), id_text(&s, f.noun));
            (
                reason::IN_PROGRESS,
                Requeue::Poll {
                    deadline_in: deadline_in(&s, f),
                },
                Some(normal(format!("{}Started", f.noun), note)),
            )
        }
        Observation::Adopted {
            ids,
            view,
            duplicates,
        } => {
            start_running(&mut s, ids, f);
            let mut note = format!(
                "adopted {} {} created before a restart",
                f.noun.to_lowercase(),
                id_text(&s, f.noun)
            );
            if !duplicates.is_empty() {
                note.push_str(&format!(
                    "; other cloud objects carry the same marker: {}",
                    duplicates.join(", ")
                ));
            }
            let ev = EventNote {
                warning: !duplicates.is_empty(),
                reason: reason::ADOPTED.into(),
                note,
            };
            return match view {
                Some(v) => {
                    // The adoption is news even when the operation finished meanwhile.
                    let mut d = transition(&s, Observation::Progress(v), f);
                    d.events.insert(0, ev);
                    d
                }
                None => {
                    set_ready(
                        &mut s,
                        f,
                        false,
                        reason::IN_PROGRESS,
                        "running in the cloud",
                    );
                    Decision {
                        status: s.clone(),
                        events: vec![ev],
                        requeue: Requeue::Poll {
                            deadline_in: deadline_in(&s, f),
                        },
                    }
                }
            };
        }
        Observation::CreateRejected(fail) => {
            // The cloud answered, so nothing exists: drop the marker and create afresh next time.
            s.create_requested_at = None;
            refused(&mut s, fail, f)
        }
        // Keep the marker, whatever the refusal: a busy instance may be busy with the earlier
        // create's own backup, and a failed resource still finds that backup by its marker when
        // it is deleted.
        Observation::RecreateRejected(fail) => refused(&mut s, fail, f),
        Observation::CreateIndeterminate(fail) | Observation::LookupFailed(fail) => {
            // Keep the marker: the next reconcile looks the object up before creating again.
            s.phase = Some(Phase::Pending);
            s.message = Some(fail.message.clone());
            retry(&fail, f)
        }
        Observation::Unfound(Unfound::NotListed {
            window_passed: false,
            ..
        }) => {
            let message = "confirming that an interrupted create did not reach the cloud".into();
            let waiting = Observation::Waiting {
                reason: reason::CREATING,
                message,
            };
            return transition(status, waiting, f);
        }
        Observation::Unfound(Unfound::NotListed { detail, .. } | Unfound::Impossible(detail)) => {
            outcome_unknown(&mut s, f, &detail)
        }
        Observation::Progress(view) => return running::progress(s, view, f),
        Observation::NotVisible => running::not_listed(&mut s, f),
        Observation::PollFailed(fail) => running::poll_failed(&mut s, &fail, f),
        Observation::Waiting { reason, message } => {
            if s.phase.is_none() {
                s.phase = Some(Phase::Pending);
            }
            s.message = Some(message.clone());
            let wait = if reason == reason::CREDENTIALS_ERROR {
                f.auth_backoff
            } else {
                f.retry_after
            };
            // Only missing credentials need someone to act; the queue and a restore's backup are expected.
            let ev = (before.as_deref() != Some(reason)).then(|| EventNote {
                warning: reason == reason::CREDENTIALS_ERROR,
                reason: reason.to_string(),
                note: message,
            });
            (reason, Requeue::After(wait), ev)
        }
        Observation::Invalid { reason, message } => {
            s.create_requested_at = None;
            finish(&mut s, f, Phase::Failed, &message);
            (
                reason,
                Requeue::Never,
                Some(warning(format!("{}Failed", f.noun), message)),
            )
        }
    };
    let msg = s.message.clone().unwrap_or_default();
    let ready = s.phase == Some(Phase::Succeeded);
    set_ready(&mut s, f, ready, reason, &msg);
    // Repeated retries of the same kind are not news; transitions are.
    let event = event.or_else(|| match reason {
        reason::THROTTLED
        | reason::INSTANCE_BUSY
        | reason::CLOUD_ERROR
        | reason::CREDENTIALS_ERROR
            if before.as_deref() != Some(reason) =>
        {
            Some(warning(reason.to_string(), msg.clone()))
        }
        _ => None,
    });
    Decision {
        status: s,
        events: event.into_iter().collect(),
        requeue,
    }
}

fn start_running(s: &mut OperationStatus, ids: OpIds, f: &Frame<'_>) {
    s.phase = Some(Phase::Running);
    s.backup_id = ids.backup_id.or(s.backup_id.take());
    s.restore_id = ids.restore_id.or(s.restore_id.take());
    s.job_id = ids.job_id.or(s.job_id.take());
    s.create_requested_at = None;
    s.not_listed = None;
    if s.started_at.is_none() {
        s.started_at = Some(Time(f.now));
    }
    s.message = Some("running in the cloud".into());
}

pub(super) fn finish(s: &mut OperationStatus, f: &Frame<'_>, phase: Phase, msg: &str) {
    s.phase = Some(phase);
    s.completed_at = Some(Time(f.now));
    s.message = Some(msg.to_string());
}

/// A create whose fate is unknown and whose object cannot be found, of a kind that never creates
/// twice: it fails, and says where to look. The marker stays, as a record of when it was asked.
fn outcome_unknown(s: &mut OperationStatus, f: &Frame<'_>, detail: &str) -> Step {
    let noun = f.noun.to_lowercase();
    let at = s
        .create_requested_at
        .as_ref()
        .map_or_else(|| "earlier".to_string(), |t| format!("at {}", t.0));
    let msg = format!(
        "the {noun} requested {at} may or may not have reached the cloud, and {detail}: check the \
         instance in the cloud console. No second {noun} is ever sent; create a new resource to \
         try again"
    );
    finish(s, f, Phase::Failed, &msg);
    (
        reason::OUTCOME_UNKNOWN,
        Requeue::Never,
        Some(warning(reason::OUTCOME_UNKNOWN.into(), msg)),
    )
}

/// A create the cloud refused: a terminal refusal fails the resource, any other is retried.
fn refused(s: &mut OperationStatus, fail: Failure, f: &Frame<'_>) -> Step {
    match fail.class {
        ErrorClass::Terminal | ErrorClass::NotFound => {
            finish(s, f, Phase::Failed, &fail.message);
            (
                reason::CLOUD_ERROR,
                Requeue::Never,
                Some(warning(format!("{}Failed", f.noun), fail.message)),
            )
        }
        _ => {
            s.phase = Some(Phase::Pending);
            s.message = Some(fail.message.clone());
            retry(&fail, f)
        }
    }
}

/// A transition's Ready reason, requeue, and event (if it is news of its own).
pub(super) type Step = (&'static str, Requeue, Option<EventNote>);

pub(super) fn retry(fail: &Failure, f: &Frame<'_>) -> Step {
    match fail.class {
        // The account's own rate limit held the call back: come back when it has a free slot,
        // without counting a failure (nothing reached the cloud, so there is nothing to back off).
        ErrorClass::Throttled if fail.retry_in.is_some() => (
            reason::THROTTLED,
            Requeue::After(fail.retry_in.unwrap_or(f.retry_after)),
            None,
        ),
        ErrorClass::Throttled => (reason::THROTTLED, Requeue::Retry(f.retry_after), None),
        ErrorClass::Busy => (reason::INSTANCE_BUSY, Requeue::Retry(f.retry_after), None),
        // Not doubled per resource: the account's circuit breaker backs off the cloud calls, and
        // a fixed Secret must be picked up within the auth backoff.
        ErrorClass::Auth => (
            reason::CREDENTIALS_ERROR,
            Requeue::After(f.auth_backoff),
            None,
        ),
        _ => (reason::CLOUD_ERROR, Requeue::Retry(f.retry_after), None),
    }
}

pub(super) fn deadline_in(s: &OperationStatus, f: &Frame<'_>) -> Option<Duration> {
    let started = s.started_at.as_ref()?;
    Some(f.timeout.saturating_sub(age(started.0, f.now)))
}

/// The id that names the operation in messages: a restore's record or job (not the backup it
/// restores), a backup's id.
pub(super) fn id_text(s: &OperationStatus, noun: &str) -> String {
    let restore = noun.eq_ignore_ascii_case("restore");
    let ids = if restore {
        [&s.restore_id, &s.job_id, &s.backup_id]
    } else {
        [&s.restore_id, &s.backup_id, &s.job_id]
    };
    ids.into_iter()
        .flatten()
        .next()
        .cloned()
        .unwrap_or_default()
}

pub(super) fn normal(reason: String, note: String) -> EventNote {
    EventNote {
        warning: false,
        reason,
        note,
    }
}

pub(super) fn warning(reason: String, note: String) -> EventNote {
    EventNote {
        warning: true,
        reason,
        note,
    }
}

fn current_reason(s: &OperationStatus) -> Option<String> {
    s.conditions
        .iter()
        .find(|c| c.type_ == READY)
        .map(|c| c.reason.clone())
}

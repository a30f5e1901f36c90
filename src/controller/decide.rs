//! The create → poll → finish state machine as pure functions of (status, observation, time).
//!
//! The driver asks [`plan`] what to do, performs the cloud I/O, turns the result into an
//! [`Observation`] and asks [`decide`] for the next status, events and requeue. Nothing here does
//! I/O, so every transition is unit-tested.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::error::ErrorClass;
use crate::cloud::types::{OpState, OpView};
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

fn age(at: Timestamp, now: Timestamp) -> Duration {
    now.duration_since(at).try_into().unwrap_or(Duration::ZERO)
}

/// Status before the create call: the crash-safe "create pending" marker.
pub fn mark_create_pending(status: &OperationStatus, f: &Frame<'_>) -> OperationStatus {
    let mut s = status.clone();
    s.phase = Some(Phase::Pending);
    s.create_requested_at = Some(Time(f.now));
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
    let mut s = status.clone();
    let before = current_reason(status);
    let (reason, requeue, event) = match obs {
        Observation::Created(ids) => {
            start_running(&mut s, ids, f);
            let note = format!("started {} {}", f.noun.to_lowercase(), id_text(&s));
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
                id_text(&s)
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
                    let mut d = decide(&s, Observation::Progress(v), f);
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
            match fail.class {
                ErrorClass::Terminal | ErrorClass::NotFound => {
                    finish(&mut s, f, Phase::Failed, &fail.message);
                    (
                        reason::CLOUD_ERROR,
                        Requeue::Never,
                        Some(warning(format!("{}Failed", f.noun), fail.message.clone())),
                    )
                }
                class => {
                    s.phase = Some(Phase::Pending);
                    s.message = Some(fail.message.clone());
                    retry(class, f)
                }
            }
        }
        Observation::CreateIndeterminate(fail) | Observation::LookupFailed(fail) => {
            // Keep the marker: the next reconcile looks the object up before creating again.
            s.phase = Some(Phase::Pending);
            s.message = Some(fail.message.clone());
            retry(fail.class, f)
        }
        Observation::Progress(view) => return progress(s, view, f, &before),
        Observation::NotVisible => {
            let since = s
                .started_at
                .as_ref()
                .map(|t| age(t.0, f.now))
                .unwrap_or_default();
            if since < f.visibility_grace {
                s.message = Some("waiting for the cloud to list the new operation".into());
                (reason::IN_PROGRESS, Requeue::After(f.retry_after), None)
            } else {
                let msg = format!(
                    "the cloud no longer knows {} {}",
                    f.noun.to_lowercase(),
                    id_text(&s)
                );
                finish(&mut s, f, Phase::Failed, &msg);
                (
                    reason::CLOUD_ERROR,
                    Requeue::Never,
                    Some(warning(format!("{}Failed", f.noun), msg)),
                )
            }
        }
        Observation::PollFailed(fail) => {
            // Poll errors never fail a running operation; only the cloud's answer or the timeout does.
            s.message = Some(fail.message.clone());
            retry(fail.class, f)
        }
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

fn progress(
    mut s: OperationStatus,
    view: OpView,
    f: &Frame<'_>,
    before: &Option<String>,
) -> Decision {
    s.cloud_status = Some(view.raw_status.clone());
    if view.progress.is_some() {
        s.progress = view.progress;
    }
    s.set_size(view.size_bytes);
    match view.state {
        OpState::Succeeded => {
            s.progress = Some(100.0);
            let msg = format!("{} {} completed", f.noun.to_lowercase(), id_text(&s));
            finish(&mut s, f, Phase::Succeeded, &msg);
            set_ready(&mut s, f, true, reason::SUCCEEDED, &msg);
            Decision {
                status: s,
                events: vec![normal(format!("{}Succeeded", f.noun), msg)],
                requeue: Requeue::Never,
            }
        }
        OpState::Failed => {
            let msg = match &view.message {
                Some(m) => format!("the cloud reports {}: {m}", view.raw_status),
                None => format!("the cloud reports {}", view.raw_status),
            };
            finish(&mut s, f, Phase::Failed, &msg);
            set_ready(&mut s, f, false, reason::CLOUD_ERROR, &msg);
            Decision {
                status: s,
                events: vec![warning(format!("{}Failed", f.noun), msg)],
                requeue: Requeue::Never,
            }
        }
        OpState::InProgress | OpState::Unknown => {
            let running_for = s
                .started_at
                .as_ref()
                .map(|t| age(t.0, f.now))
                .unwrap_or_default();
            if running_for >= f.timeout {
                // This poll was the last look at the cloud, and it still says running.
                let msg = format!(
                    "timed out after {}s; the cloud still reports {}",
                    f.timeout.as_secs(),
                    view.raw_status
                );
                finish(&mut s, f, Phase::Failed, &msg);
                set_ready(&mut s, f, false, reason::TIMEOUT, &msg);
                return Decision {
                    status: s,
                    events: vec![warning(reason::TIMEOUT.into(), msg)],
                    requeue: Requeue::Never,
                };
            }
            s.phase = Some(Phase::Running);
            let msg = match view.state {
                OpState::Unknown => format!(
                    "the cloud reports an undocumented status {:?}; still polling",
                    view.raw_status
                ),
                _ => format!("the cloud reports {}", view.raw_status),
            };
            s.message = Some(msg.clone());
            set_ready(&mut s, f, false, reason::IN_PROGRESS, &msg);
            let _ = before;
            let requeue = Requeue::Poll {
                deadline_in: deadline_in(&s, f),
            };
            Decision {
                status: s,
                events: Vec::new(),
                requeue,
            }
        }
    }
}

fn start_running(s: &mut OperationStatus, ids: OpIds, f: &Frame<'_>) {
    s.phase = Some(Phase::Running);
    s.backup_id = ids.backup_id.or(s.backup_id.take());
    s.restore_id = ids.restore_id.or(s.restore_id.take());
    s.job_id = ids.job_id.or(s.job_id.take());
    s.create_requested_at = None;
    if s.started_at.is_none() {
        s.started_at = Some(Time(f.now));
    }
    s.message = Some("running in the cloud".into());
}

fn finish(s: &mut OperationStatus, f: &Frame<'_>, phase: Phase, msg: &str) {
    s.phase = Some(phase);
    s.completed_at = Some(Time(f.now));
    s.message = Some(msg.to_string());
}

fn retry(class: ErrorClass, f: &Frame<'_>) -> (&'static str, Requeue, Option<EventNote>) {
    match class {
        ErrorClass::Throttled => (reason::THROTTLED, Requeue::After(f.retry_after), None),
        ErrorClass::Busy => (reason::INSTANCE_BUSY, Requeue::After(f.retry_after), None),
        ErrorClass::Auth => (
            reason::CREDENTIALS_ERROR,
            Requeue::After(f.auth_backoff),
            None,
        ),
        _ => (reason::CLOUD_ERROR, Requeue::After(f.retry_after), None),
    }
}

fn deadline_in(s: &OperationStatus, f: &Frame<'_>) -> Option<Duration> {
    let started = s.started_at.as_ref()?;
    Some(f.timeout.saturating_sub(age(started.0, f.now)))
}

fn id_text(s: &OperationStatus) -> String {
    s.restore_id
        .clone()
        .or_else(|| s.backup_id.clone())
        .or_else(|| s.job_id.clone())
        .unwrap_or_default()
}

fn normal(reason: String, note: String) -> EventNote {
    EventNote {
        warning: false,
        reason,
        note,
    }
}

fn warning(reason: String, note: String) -> EventNote {
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

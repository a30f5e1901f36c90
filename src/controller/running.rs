//! Transitions of a running operation: the cloud's answer, an answer that does not list it, and a
//! poll that failed. Pure, like the rest of the state machine (`decide.rs`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::cloud::types::{OpState, OpView};
use crate::controller::decide::{Step, age, deadline_in, finish, id_text, normal, retry, warning};
use crate::controller::state::{
    Decision, Failure, Frame, NOT_LISTED_ANSWERS, Requeue, TIME_PRECISION, reason, set_ready,
};
use crate::crd::{NotListed, OperationStatus, Phase};

/// The cloud's answer about the running operation: done, failed, or still running (and timed
/// out once `timeout` has passed on this fresh answer).
pub(super) fn progress(mut s: OperationStatus, view: OpView, f: &Frame<'_>) -> Decision {
    s.cloud_status = Some(view.raw_status.clone());
    s.not_listed = None;
    if view.progress.is_some() {
        s.progress = view.progress;
    }
    s.set_size(view.size_bytes);
    match view.state {
        OpState::Succeeded => {
            s.progress = Some(100.0);
            let msg = format!(
                "{} {} completed",
                f.noun.to_lowercase(),
                id_text(&s, f.noun)
            );
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

/// An answer that does not list the operation. A new operation may take the visibility grace to
/// show up; after that, one empty list or one 204 is still no proof (the cloud's lists lag and
/// page): only [`NOT_LISTED_ANSWERS`] answers in a row spanning `not_listed_for` are. The count
/// is kept in status, so it survives restarts.
pub(super) fn not_listed(s: &mut OperationStatus, f: &Frame<'_>) -> Step {
    let running_for = s
        .started_at
        .as_ref()
        .map(|t| age(t.0, f.now))
        .unwrap_or_default();
    let gap = s.not_listed.get_or_insert(NotListed {
        since: Time(f.now),
        count: 0,
    });
    gap.count = gap.count.saturating_add(1);
    let (count, missing_for) = (gap.count, age(gap.since.0, f.now));
    let what = format!("{} {}", f.noun.to_lowercase(), id_text(s, f.noun));
    if running_for < f.visibility_grace {
        s.message = Some("waiting for the cloud to list the new operation".into());
        return (reason::IN_PROGRESS, Requeue::After(f.retry_after), None);
    }
    // The stored `since` is whole seconds, so it may look up to a second older than it is.
    if count < NOT_LISTED_ANSWERS || missing_for < f.not_listed_for + TIME_PRECISION {
        s.message = Some(format!(
            "{count} answer(s) in a row did not list {what}; it counts as gone after \
             {NOT_LISTED_ANSWERS} over {}s",
            f.not_listed_for.as_secs()
        ));
        return (reason::IN_PROGRESS, Requeue::After(f.retry_after), None);
    }
    let msg = format!(
        "the cloud no longer knows {what}: not listed in {count} answers over {}s",
        missing_for.as_secs()
    );
    finish(s, f, Phase::Failed, &msg);
    (
        reason::CLOUD_ERROR,
        Requeue::Never,
        Some(warning(format!("{}Failed", f.noun), msg)),
    )
}

/// A failed poll says nothing about the operation: it is retried, but not forever. Once the
/// timeout and a grace period after it have passed, the resource times out with the poll's error.
pub(super) fn poll_failed(s: &mut OperationStatus, fail: &Failure, f: &Frame<'_>) -> Step {
    let running_for = s.started_at.as_ref().map(|t| age(t.0, f.now));
    if running_for.is_none_or(|r| r < f.timeout + f.timeout_grace) {
        s.message = Some(fail.message.clone());
        return retry(fail, f);
    }
    let msg = format!(
        "timed out after {}s (and a grace period of {}s); the last poll failed: {}",
        f.timeout.as_secs(),
        f.timeout_grace.as_secs(),
        fail.message
    );
    finish(s, f, Phase::Failed, &msg);
    (
        reason::TIMEOUT,
        Requeue::Never,
        Some(warning(reason::TIMEOUT.into(), msg)),
    )
}

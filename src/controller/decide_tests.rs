//! Transition tests of the pure state machine in `decide.rs`.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::decide::*;
use crate::cloud::error::ErrorClass;
use crate::cloud::types::{OpState, OpView};
use crate::controller::operation::Prepared;
use crate::crd::{OperationStatus, Phase};

pub(super) fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

pub(super) fn frame(now: i64) -> Frame<'static> {
    Frame {
        now: ts(now),
        generation: Some(1),
        timeout: Duration::from_secs(1800),
        visibility_grace: Duration::from_secs(120),
        retry_after: Duration::from_secs(15),
        auth_backoff: Duration::from_secs(60),
        timeout_grace: Duration::from_secs(600),
        not_listed_for: Duration::from_secs(60),
        noun: "Backup",
    }
}

pub(super) fn view(state: OpState, raw: &str) -> OpView {
    OpView {
        state,
        raw_status: raw.into(),
        progress: None,
        size_bytes: None,
        message: None,
    }
}

pub(super) fn running(started: i64) -> OperationStatus {
    OperationStatus {
        phase: Some(Phase::Running),
        backup_id: Some("b1".into()),
        started_at: Some(Time(ts(started))),
        ..Default::default()
    }
}

pub(super) fn ready(s: &OperationStatus) -> (String, String) {
    let c = s
        .conditions
        .iter()
        .find(|c| c.type_ == READY)
        .expect("Ready condition");
    (c.status.clone(), c.reason.clone())
}

pub(super) fn fail(class: ErrorClass) -> Failure {
    Failure {
        class,
        message: format!("{class:?} happened"),
        code: None,
        request_id: None,
        retry_in: None,
    }
}

#[test]
fn a_call_held_back_by_the_accounts_own_rate_limit_comes_back_when_a_slot_is_free() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    let held_back = Failure {
        retry_in: Some(Duration::from_millis(700)),
        ..fail(ErrorClass::Throttled)
    };
    let d = decide(&pending, Observation::CreateRejected(held_back), &frame(1));
    assert_eq!(ready(&d.status).1, "Throttled");
    assert_eq!(
        d.requeue,
        Requeue::After(Duration::from_millis(700)),
        "not a cloud failure: no backoff, back when the account has a slot"
    );
}

#[test]
fn plan_follows_persisted_status() {
    let window = Duration::from_secs(60);
    assert_eq!(
        plan(&OperationStatus::default(), false, ts(0), window),
        Plan::Create
    );
    assert_eq!(plan(&running(0), true, ts(10), window), Plan::Poll);
    let pending = OperationStatus {
        create_requested_at: Some(Time(ts(0))),
        ..Default::default()
    };
    assert_eq!(
        plan(&pending, false, ts(10), window),
        Plan::Adopt {
            may_recreate: false
        }
    );
    assert_eq!(
        plan(&pending, false, ts(61), window),
        Plan::Adopt { may_recreate: true }
    );
    // Stored at whole seconds: a marker written at 0.9 s reads back as 0 s, so at 60.5 s it is
    // only 59.6 s old and the window is still open.
    let at = |ms: i64| Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap();
    let stored: OperationStatus = serde_json::from_value(serde_json::json!({
        "createRequestedAt": Time(at(900))
    }))
    .unwrap();
    assert_eq!(
        stored.create_requested_at,
        Some(Time(ts(0))),
        "whole seconds"
    );
    assert_eq!(
        plan(&stored, false, at(60_500), window),
        Plan::Adopt {
            may_recreate: false
        }
    );
    for phase in [Phase::Succeeded, Phase::Failed] {
        let done = OperationStatus {
            phase: Some(phase),
            ..running(0)
        };
        assert_eq!(
            plan(&done, true, ts(10), window),
            Plan::Done,
            "terminal phases make no cloud calls"
        );
    }
}

#[test]
fn marker_is_written_before_create_and_cleared_with_ids() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    assert_eq!(pending.phase, Some(Phase::Pending));
    assert_eq!(pending.create_requested_at, Some(Time(ts(0))));
    assert_eq!(ready(&pending), ("False".into(), "Creating".into()));
    let ids = OpIds {
        backup_id: Some("b1".into()),
        job_id: Some("j1".into()),
        restore_id: None,
    };
    let d = decide(&pending, Observation::Created(ids), &frame(1));
    assert_eq!(d.status.phase, Some(Phase::Running));
    assert_eq!(d.status.backup_id.as_deref(), Some("b1"));
    assert_eq!(d.status.job_id.as_deref(), Some("j1"));
    assert_eq!(
        d.status.create_requested_at, None,
        "ids and the cleared marker land in one write"
    );
    assert_eq!(d.status.started_at, Some(Time(ts(1))));
    assert_eq!(
        d.events
            .iter()
            .map(|e| e.reason.as_str())
            .collect::<Vec<_>>(),
        vec!["BackupStarted"]
    );
    assert!(matches!(
        d.requeue,
        Requeue::Poll {
            deadline_in: Some(_)
        }
    ));
    assert_eq!(d.status.observed_generation, Some(1));
}

#[test]
fn busy_and_throttled_creates_requeue_without_failing_and_drop_the_marker() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    for (class, reason) in [
        (ErrorClass::Busy, "InstanceBusy"),
        (ErrorClass::Throttled, "Throttled"),
    ] {
        let d = decide(
            &pending,
            Observation::CreateRejected(fail(class)),
            &frame(1),
        );
        assert_eq!(d.status.phase, Some(Phase::Pending));
        assert_eq!(
            d.status.create_requested_at, None,
            "a refused create created nothing"
        );
        assert_eq!(ready(&d.status).1, reason);
        assert_eq!(d.requeue, Requeue::Retry(Duration::from_secs(15)));
        assert_eq!(d.events.len(), 1, "first {reason} is announced");
        let again = decide(
            &d.status,
            Observation::CreateRejected(fail(class)),
            &frame(20),
        );
        assert_eq!(again.events, vec![], "repeats are not");
    }
}

#[test]
fn terminal_create_errors_fail_the_resource() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    let d = decide(
        &pending,
        Observation::CreateRejected(fail(ErrorClass::Terminal)),
        &frame(1),
    );
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert_eq!(ready(&d.status).1, "CloudError");
    assert_eq!(d.requeue, Requeue::Never);
}

#[test]
fn auth_errors_back_off_long() {
    let d = decide(
        &OperationStatus::default(),
        Observation::CreateRejected(fail(ErrorClass::Auth)),
        &frame(0),
    );
    assert_eq!(ready(&d.status).1, "CredentialsError");
    assert_eq!(d.requeue, Requeue::After(Duration::from_secs(60)));
    let w = Observation::Waiting {
        reason: reason::CREDENTIALS_ERROR,
        message: "Secret ns/x not found".into(),
    };
    let d = decide(&OperationStatus::default(), w, &frame(0));
    assert_eq!(d.status.phase, Some(Phase::Pending));
    assert_eq!(d.status.message.as_deref(), Some("Secret ns/x not found"));
    assert_eq!(d.requeue, Requeue::After(Duration::from_secs(60)));
}

#[test]
fn indeterminate_create_keeps_the_marker_for_adoption() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    let d = decide(
        &pending,
        Observation::CreateIndeterminate(fail(ErrorClass::Retryable)),
        &frame(1),
    );
    assert_eq!(d.status.create_requested_at, Some(Time(ts(0))));
    assert_eq!(d.status.phase, Some(Phase::Pending));
    assert_eq!(
        plan(&d.status, false, ts(2), Duration::from_secs(60)),
        Plan::Adopt {
            may_recreate: false
        }
    );
}

#[test]
fn adoption_resumes_running_or_finishes_at_once() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    let ids = OpIds {
        backup_id: Some("b9".into()),
        ..Default::default()
    };
    let d = decide(
        &pending,
        Observation::Adopted {
            ids: ids.clone(),
            view: None,
            duplicates: vec![],
        },
        &frame(5),
    );
    assert_eq!(d.status.phase, Some(Phase::Running));
    assert_eq!(d.status.backup_id.as_deref(), Some("b9"));
    assert_eq!(d.status.create_requested_at, None);
    let reasons = |d: &Decision| {
        d.events
            .iter()
            .map(|e| e.reason.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(reasons(&d), vec!["Adopted"]);
    let done = Observation::Adopted {
        ids,
        view: Some(view(OpState::Succeeded, "succeed")),
        duplicates: vec!["b10".into()],
    };
    let d = decide(&pending, done, &frame(5));
    assert_eq!(d.status.phase, Some(Phase::Succeeded));
    // Finishing at once must not swallow the adoption, nor its warning about the duplicate.
    assert_eq!(reasons(&d), vec!["Adopted", "BackupSucceeded"]);
    assert!(d.events[0].warning && d.events[0].note.contains("b10"));
}

#[test]
fn invalid_spec_fails_without_retry() {
    let obs = Observation::Invalid {
        reason: reason::INVALID_SPEC,
        message: "spec.instanceId: must not be empty".into(),
    };
    let d = decide(&OperationStatus::default(), obs, &frame(0));
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert_eq!(ready(&d.status).1, "InvalidSpec");
    assert_eq!(d.requeue, Requeue::Never);
}

#[test]
fn ready_transition_time_moves_only_when_truth_changes() {
    let d1 = decide(
        &running(0),
        Observation::Progress(view(OpState::InProgress, "backuping")),
        &frame(10),
    );
    let d2 = decide(
        &d1.status,
        Observation::Progress(view(OpState::InProgress, "backuping")),
        &frame(20),
    );
    let t = |s: &OperationStatus| s.conditions[0].last_transition_time.clone();
    assert_eq!(t(&d1.status), t(&d2.status));
    let d3 = decide(
        &d2.status,
        Observation::Progress(view(OpState::Succeeded, "succeed")),
        &frame(30),
    );
    assert_eq!(t(&d3.status), Time(ts(30)));
    assert_eq!(d3.status.conditions.len(), 1);
}

#[test]
fn a_failure_names_its_request_id_in_the_event_never_in_status() {
    let pending = mark_create_pending(&OperationStatus::default(), &frame(0), &Prepared::default());
    let failure = |id: &str| Failure {
        class: ErrorClass::Retryable,
        message: "dcs create_backup failed: HTTP 500 SYS.0500: internal error".into(),
        code: Some("SYS.0500".into()),
        request_id: Some(id.into()),
        retry_in: None,
    };
    let d = decide(
        &pending,
        Observation::CreateIndeterminate(failure("req-1")),
        &frame(1),
    );
    assert_eq!(d.events.len(), 1);
    assert!(
        d.events[0].note.ends_with("(request id req-1)"),
        "{:?}",
        d.events
    );
    let text = serde_json::to_string(&d.status).unwrap();
    assert!(!text.contains("req-1"), "{text}");
    assert_eq!(d.requeue, Requeue::Retry(Duration::from_secs(15)));
    // The next attempt fails with another request id: the status does not change at all.
    let again = decide(
        &d.status,
        Observation::LookupFailed(failure("req-2")),
        &frame(1),
    );
    assert_eq!(again.status, d.status, "a retry is not a status change");
    assert_eq!(again.events, vec![]);
}

#[test]
fn a_refused_recreate_keeps_the_marker_of_the_earlier_create() {
    // An earlier create's fate is unknown (its marker is set, nothing was found by it after the
    // adoption window), so the operator creates again. A busy or throttled refusal of that create
    // proves nothing about the earlier one: the marker stays, and the next reconcile looks it up
    // again before it creates.
    let earlier = OperationStatus {
        phase: Some(Phase::Pending),
        create_requested_at: Some(Time(ts(0))),
        ..Default::default()
    };
    let pending = mark_create_pending(&earlier, &frame(100), &Prepared::default());
    for (class, reason) in [
        (ErrorClass::Busy, "InstanceBusy"),
        (ErrorClass::Throttled, "Throttled"),
    ] {
        let d = decide(
            &pending,
            Observation::RecreateRejected(fail(class)),
            &frame(101),
        );
        assert_eq!(d.status.phase, Some(Phase::Pending));
        assert_eq!(
            d.status.create_requested_at,
            Some(Time(ts(100))),
            "{reason}: the marker stays"
        );
        assert_eq!(ready(&d.status).1, reason);
        assert_eq!(d.requeue, Requeue::Retry(Duration::from_secs(15)));
    }
}

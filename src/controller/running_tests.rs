//! Transition tests of a running operation (`running.rs`): answers, timeouts, answers that do not
//! list it, failed polls.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::decide::*;
use super::decide_tests::{fail, frame, ready, running, ts, view};
use crate::cloud::error::ErrorClass;
use crate::cloud::types::OpState;
use crate::crd::Phase;

#[test]
fn running_to_succeeded_records_size_and_completion() {
    let mut v = view(OpState::Succeeded, "succeed");
    v.size_bytes = Some(4096);
    let d = decide(&running(0), Observation::Progress(v), &frame(100));
    assert_eq!(d.status.phase, Some(Phase::Succeeded));
    assert_eq!(d.status.size_bytes, Some(4096));
    assert_eq!(d.status.progress, Some(100.0));
    assert_eq!(d.status.completed_at, Some(Time(ts(100))));
    assert_eq!(d.status.cloud_status.as_deref(), Some("succeed"));
    assert_eq!(ready(&d.status), ("True".into(), "Succeeded".into()));
    assert_eq!(d.requeue, Requeue::Never);
    assert_eq!(
        d.events
            .into_iter()
            .map(|e| (e.warning, e.reason))
            .collect::<Vec<_>>(),
        vec![(false, "BackupSucceeded".into())]
    );
}

#[test]
fn running_to_failed_carries_the_cloud_reason() {
    let mut v = view(OpState::Failed, "failed");
    v.message = Some("dcs.08.0002".into());
    let d = decide(&running(0), Observation::Progress(v), &frame(100));
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert!(d.status.message.as_deref().unwrap().contains("dcs.08.0002"));
    assert_eq!(ready(&d.status), ("False".into(), "CloudError".into()));
    assert_eq!(
        d.events
            .into_iter()
            .map(|e| (e.warning, e.reason))
            .collect::<Vec<_>>(),
        vec![(true, "BackupFailed".into())]
    );
}

#[test]
fn in_progress_keeps_polling_with_progress() {
    let mut v = view(OpState::InProgress, "backuping");
    v.progress = Some(40.0);
    let d = decide(&running(0), Observation::Progress(v), &frame(60));
    assert_eq!(d.status.phase, Some(Phase::Running));
    assert_eq!(d.status.progress, Some(40.0));
    assert_eq!(
        d.requeue,
        Requeue::Poll {
            deadline_in: Some(Duration::from_secs(1740))
        }
    );
    assert_eq!(d.events, vec![], "polls are not news");
    let unknown = decide(
        &running(0),
        Observation::Progress(view(OpState::Unknown, "mystery")),
        &frame(60),
    );
    assert_eq!(unknown.status.phase, Some(Phase::Running));
    assert!(unknown.status.message.unwrap().contains("mystery"));
}

#[test]
fn timeout_fails_only_on_a_fresh_in_progress_answer() {
    let d = decide(
        &running(0),
        Observation::Progress(view(OpState::InProgress, "backuping")),
        &frame(1800),
    );
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert_eq!(ready(&d.status).1, "Timeout");
    // A success seen after the deadline still counts: the cloud's answer beats the local clock.
    let d = decide(
        &running(0),
        Observation::Progress(view(OpState::Succeeded, "succeed")),
        &frame(5000),
    );
    assert_eq!(d.status.phase, Some(Phase::Succeeded));
    // A failed poll just after the deadline does not fail the resource (within the grace).
    let d = decide(
        &running(0),
        Observation::PollFailed(fail(ErrorClass::Retryable)),
        &frame(2000),
    );
    assert_eq!(d.status.phase, Some(Phase::Running));
}

#[test]
fn new_job_invisible_is_pending_then_lost() {
    let d = decide(&running(0), Observation::NotVisible, &frame(5));
    assert_eq!(d.status.phase, Some(Phase::Running));
    // Long after the visibility grace, the cloud stops listing it for good.
    let mut s = running(0);
    for at in [500, 515, 530, 545, 560, 575] {
        s = decide(&s, Observation::NotVisible, &frame(at)).status;
    }
    assert_eq!(s.phase, Some(Phase::Failed));
    assert_eq!(ready(&s).1, "CloudError");
}

#[test]
fn one_missing_answer_never_fails_a_running_operation() {
    // Long after the visibility grace: one empty list (or a 204) keeps it running.
    let d = decide(&running(0), Observation::NotVisible, &frame(500));
    assert_eq!(d.status.phase, Some(Phase::Running), "{:?}", d.status);
    assert_eq!(ready(&d.status).1, "InProgress");
    assert_eq!(d.requeue, Requeue::After(Duration::from_secs(15)));
    let gap = d.status.not_listed.clone().expect("recorded in status");
    assert_eq!((gap.since, gap.count), (Time(ts(500)), 1));
    // The next answer lists it again: the count starts over.
    let listed = decide(
        &d.status,
        Observation::Progress(view(OpState::InProgress, "backuping")),
        &frame(515),
    );
    assert_eq!(listed.status.not_listed, None);
}

#[test]
fn missing_answers_fail_only_when_several_span_the_minute() {
    // Three answers in a row, but within 30 s: not yet.
    let mut s = running(0);
    for at in [500, 515, 530] {
        s = decide(&s, Observation::NotVisible, &frame(at)).status;
    }
    assert_eq!(s.phase, Some(Phase::Running));
    // Two answers a minute apart (a restart between them): not yet either.
    let mut t = running(0);
    for at in [500, 600] {
        t = decide(&t, Observation::NotVisible, &frame(at)).status;
    }
    assert_eq!(t.phase, Some(Phase::Running));
    // A third answer, a minute after the first: gone.
    let d = decide(&t, Observation::NotVisible, &frame(601));
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert!(d.status.message.unwrap().contains("b1"));
    assert_eq!(d.events[0].reason, "BackupFailed");
}

#[test]
fn failing_polls_time_out_after_the_timeout_and_its_grace() {
    for class in [
        ErrorClass::Terminal,
        ErrorClass::Auth,
        ErrorClass::Retryable,
    ] {
        // 1800 s timeout, 600 s grace: still retried at 2399 s.
        let d = decide(
            &running(0),
            Observation::PollFailed(fail(class)),
            &frame(2399),
        );
        assert_eq!(d.status.phase, Some(Phase::Running), "{class:?}");
        let d = decide(
            &running(0),
            Observation::PollFailed(fail(class)),
            &frame(2400),
        );
        assert_eq!(d.status.phase, Some(Phase::Failed), "{class:?}");
        assert_eq!(ready(&d.status).1, "Timeout");
        let msg = d.status.message.clone().unwrap();
        assert!(msg.contains(&format!("{class:?} happened")), "{msg}");
        assert_eq!(d.requeue, Requeue::Never);
        assert_eq!(d.events[0].reason, "Timeout");
    }
}

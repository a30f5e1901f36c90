//! The state machine's restore transitions: what a restore's marker records, and a restore whose
//! request may have reached the cloud but whose job cannot be found (`RestoreOutcomeUnknown`).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::decide::*;
use super::decide_tests::{frame, ready, ts};
use crate::controller::operation::Prepared;
use crate::crd::{OperationStatus, Phase};

fn restore_frame(now: i64) -> Frame<'static> {
    Frame {
        noun: "Restore",
        ..frame(now)
    }
}

fn requested(at: i64) -> OperationStatus {
    OperationStatus {
        phase: Some(Phase::Pending),
        create_requested_at: Some(Time(ts(at))),
        ..Default::default()
    }
}

#[test]
fn the_marker_records_what_a_restore_restores() {
    let at: Timestamp = "2026-01-02T03:04:05.250999Z".parse().unwrap();
    let pitr = Prepared {
        backup_id: None,
        restore_time: Some(at),
    };
    let s = mark_create_pending(&OperationStatus::default(), &restore_frame(0), &pitr);
    assert_eq!(
        s.restore_time.as_deref(),
        Some("2026-01-02T03:04:05.25Z"),
        "to the ms"
    );
    assert_eq!(s.backup_id, None);
    let s = mark_create_pending(
        &OperationStatus::default(),
        &restore_frame(0),
        &Prepared::backup("b1".into()),
    );
    assert_eq!(s.backup_id.as_deref(), Some("b1"));
    assert_eq!(s.create_requested_at, Some(Time(ts(0))));
}

#[test]
fn nothing_listed_within_the_window_waits() {
    let obs = Observation::Unfound(Unfound::NotListed {
        window_passed: false,
        detail: "nothing listed".into(),
    });
    let d = decide(&requested(0), obs, &restore_frame(10));
    assert_eq!(d.status.phase, Some(Phase::Pending));
    assert_eq!(ready(&d.status).1, reason::CREATING);
    assert!(d.status.create_requested_at.is_some(), "the marker stays");
    assert!(matches!(d.requeue, Requeue::After(_)));
}

#[test]
fn a_restore_that_cannot_be_found_ends_outcome_unknown_and_never_again() {
    for unfound in [
        Unfound::NotListed {
            window_passed: true,
            detail: "nothing it started on instance i1 is listed".into(),
        },
        Unfound::Impossible("the cloud does not list its jobs".into()),
    ] {
        let d = decide(
            &requested(0),
            Observation::Unfound(unfound.clone()),
            &restore_frame(90),
        );
        let st = &d.status;
        assert_eq!(st.phase, Some(Phase::Failed), "{unfound:?}");
        assert_eq!(ready(st).1, reason::OUTCOME_UNKNOWN);
        assert_eq!(d.requeue, Requeue::Never);
        let msg = st.message.clone().unwrap_or_default();
        assert!(
            msg.contains("cloud console") && msg.contains("No second restore"),
            "{msg}"
        );
        assert!(
            msg.contains(&ts(0).to_string()),
            "names when it was asked: {msg}"
        );
        assert_eq!(d.events.len(), 1);
        assert!(d.events[0].warning && d.events[0].reason == reason::OUTCOME_UNKNOWN);
        // Terminal: the next plan makes no cloud call, so nothing is ever sent again.
        let window = std::time::Duration::from_secs(60);
        assert_eq!(plan(st, false, ts(1000), window), Plan::Done);
    }
}

#[test]
fn a_restore_is_named_by_its_job_not_the_backup_it_restores() {
    let ids = OpIds {
        backup_id: Some("b1".into()),
        job_id: Some("j1".into()),
        restore_id: None,
    };
    let d = decide(
        &requested(0),
        Observation::Created(ids.clone()),
        &restore_frame(1),
    );
    assert_eq!(d.events[0].note, "started restore j1");
    let d = decide(&requested(0), Observation::Created(ids), &frame(1));
    assert_eq!(d.events[0].note, "started backup b1");
}

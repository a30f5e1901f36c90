//! The journal's lines as they reach the log at the default level (captured as JSON).
use super::*;

use std::sync::{Arc, Mutex as StdMutex};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

use crate::cloud::error::ErrorClass;
use crate::config::LogFormat;
use crate::crd::DcsBackup;

#[derive(Clone, Default)]
struct Buf(Arc<StdMutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The JSON lines `f` logs at `info` and above.
fn logged(f: impl FnOnce()) -> Vec<Value> {
    let buf = Buf::default();
    let sub = crate::telemetry::subscriber(LogFormat::Json, "info", buf.clone(), false).unwrap();
    // A second dispatcher keeps tracing from caching "disabled" for these call sites when another
    // test's thread (with no subscriber) hits them first.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::callsite::rebuild_interest_cache();
    tracing::subscriber::with_default(sub, f);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn backup() -> DcsBackup {
    serde_json::from_value(json!({
        "apiVersion": "backup.hwcloud.dev/v1alpha1", "kind": "DcsBackup",
        "metadata": {"name": "nightly", "namespace": "team-a", "uid": "u-1"},
        "spec": {"instanceId": "redis-1"},
    }))
    .unwrap()
}

fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(1_700_000_000 + secs).unwrap())
}

fn status(phase: Phase, reason: &str) -> OperationStatus {
    OperationStatus {
        phase: Some(phase),
        conditions: vec![Condition {
            type_: READY.into(),
            status: "False".into(),
            reason: reason.into(),
            message: String::new(),
            last_transition_time: at(0),
            observed_generation: None,
        }],
        ..Default::default()
    }
}

fn running(reason: &str) -> OperationStatus {
    OperationStatus {
        backup_id: Some("b-42".into()),
        started_at: Some(at(0)),
        ..status(Phase::Running, reason)
    }
}

fn throttled() -> Failure {
    Failure {
        class: ErrorClass::Throttled,
        message: "dcs list_backups failed: HTTP 429 APIGW.0308: slow down".into(),
        code: Some("APIGW.0308".into()),
        request_id: Some("req-7".into()),
        retry_in: None,
    }
}

#[test]
fn a_phase_change_is_one_info_line_with_ids_reason_and_duration() {
    let obj = backup();
    let mut done = running(reason::SUCCEEDED);
    done.phase = Some(Phase::Succeeded);
    done.completed_at = Some(at(90));
    let lines = logged(|| {
        let progress = Observation::Progress(crate::cloud::types::OpView {
            state: crate::cloud::types::OpState::Succeeded,
            raw_status: "succeed".into(),
            progress: None,
            size_bytes: None,
            message: None,
        });
        Story::of(&progress).tell(&obj, &running(reason::IN_PROGRESS), &done);
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let l = &lines[0];
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["message"], "phase changed");
    for (field, want) in [
        ("kind", json!("DcsBackup")),
        ("namespace", json!("team-a")),
        ("name", json!("nightly")),
        ("instance", json!("redis-1")),
        ("backup_id", json!("b-42")),
        ("phase", json!("Succeeded")),
        ("reason", json!("Succeeded")),
        ("duration_secs", json!(90)),
    ] {
        assert_eq!(l[field], want, "{field}: {l:#}");
    }
}

#[test]
fn a_new_resource_starts_its_story_when_it_runs() {
    let obj = backup();
    let pending = status(Phase::Pending, reason::CREATING);
    let lines = logged(|| {
        Story::default().tell(&obj, &OperationStatus::default(), &pending);
        Story::default().tell(&obj, &pending, &running(reason::IN_PROGRESS));
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["phase"], "Running");
    assert!(lines[0].get("duration_secs").is_none(), "{:#}", lines[0]);
}

#[test]
fn a_cloud_error_retry_is_one_warn_line_per_reason_with_code_and_request_id() {
    let obj = backup();
    let story = Story::of(&Observation::PollFailed(throttled()));
    let lines = logged(|| {
        story.tell(
            &obj,
            &running(reason::IN_PROGRESS),
            &running(reason::THROTTLED),
        );
        // The next attempts fail for the same reason: nothing new to say.
        story.tell(
            &obj,
            &running(reason::THROTTLED),
            &running(reason::THROTTLED),
        );
        story.tell(
            &obj,
            &running(reason::THROTTLED),
            &running(reason::THROTTLED),
        );
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let l = &lines[0];
    assert_eq!(l["level"], "WARN");
    assert_eq!(l["message"], "retrying after a cloud error");
    assert_eq!(l["reason"], "Throttled");
    assert_eq!(l["code"], "APIGW.0308");
    assert_eq!(l["request_id"], "req-7");
    assert_eq!(l["name"], "nightly");
}

#[test]
fn expected_waits_are_not_warnings_but_missing_credentials_are() {
    let obj = backup();
    let pending = status(Phase::Pending, reason::CREATING);
    let lines = logged(|| {
        let queued = status(Phase::Pending, reason::INSTANCE_BUSY);
        Story::default().tell(&obj, &pending, &queued);
        let creds = status(Phase::Pending, reason::CREDENTIALS_ERROR);
        Story::default().tell(&obj, &pending, &creds);
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["reason"], "CredentialsError");
}

#[test]
fn an_adoption_and_its_duplicates_are_warnings() {
    let obj = backup();
    let adopted = Observation::Adopted {
        ids: Default::default(),
        view: None,
        duplicates: vec!["b-43".into()],
    };
    let lines = logged(|| {
        Story::of(&adopted).tell(
            &obj,
            &status(Phase::Pending, reason::CREATING),
            &running(reason::IN_PROGRESS),
        );
    });
    let warns: Vec<_> = lines.iter().filter(|l| l["level"] == "WARN").collect();
    assert_eq!(warns.len(), 2, "{lines:#?}");
    assert_eq!(warns[0]["backup_id"], "b-42");
    assert_eq!(warns[1]["duplicates"], "b-43");
    assert!(lines.iter().any(|l| l["phase"] == "Running"));
}

#[test]
fn a_failing_cleanup_warns_once_per_cause() {
    let obj = backup();
    let journal = Journal::default();
    let lines = logged(|| {
        journal.cleanup_failed(
            &obj,
            "cannot delete cloud backup b-42: HTTP 500 (request id r1)",
        );
        journal.cleanup_failed(
            &obj,
            "cannot delete cloud backup b-42: HTTP 500 (request id r2)",
        );
        journal.cleanup_failed(
            &obj,
            "cannot delete the cloud backup: Secret team-a/x not found",
        );
    });
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines.iter().all(|l| l["level"] == "WARN"));
    journal.retain(|_| false);
    let again = logged(|| {
        journal.cleanup_failed(
            &obj,
            "cannot delete cloud backup b-42: HTTP 500 (request id r3)",
        );
    });
    assert_eq!(again.len(), 1, "forgotten once the resource is gone");
}

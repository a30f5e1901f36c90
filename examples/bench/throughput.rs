//! Scenario 3b: decisions per second of the pure state machine (`decide::plan` + `decide::decide`)
//! over a fixed mix of statuses and observations, on one thread, with no I/O.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::error::ErrorClass;
use hwcloud_backup_operator::cloud::types::{OpState, OpView};
use hwcloud_backup_operator::controller::decide::{
    self, Failure, Frame, Observation, OpIds, Plan, reason,
};
use hwcloud_backup_operator::controller::operation::Prepared;
use hwcloud_backup_operator::crd::{OperationStatus, Phase};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::report::Table;

fn frame(now: Timestamp) -> Frame<'static> {
    Frame {
        now,
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

fn view(state: OpState, raw: &str, progress: f64) -> OpView {
    OpView {
        state,
        raw_status: raw.into(),
        progress: Some(progress),
        size_bytes: Some(5 << 20),
        message: None,
    }
}

/// The mix, in ten slots: 6 running polls, 1 completion, 1 create, 1 busy wait, 1 failed poll.
fn mix(now: Timestamp) -> Vec<(OperationStatus, Observation)> {
    let f = frame(now);
    let pending =
        decide::mark_create_pending(&OperationStatus::default(), &f, &Prepared::default());
    let ids = OpIds {
        backup_id: Some("4f1c9a2e-7b1d-4c55-9a0e-1b2c3d4e5f60".into()),
        job_id: None,
        restore_id: None,
    };
    let running = decide::decide(&pending, Observation::Created(ids.clone()), &f).status;
    let mut out = Vec::new();
    for p in [12.0, 25.0, 37.5, 50.0, 62.5, 75.0] {
        let obs = Observation::Progress(view(OpState::InProgress, "backuping", p));
        out.push((running.clone(), obs));
    }
    let done = Observation::Progress(view(OpState::Succeeded, "succeed", 100.0));
    out.push((running.clone(), done));
    out.push((pending.clone(), Observation::Created(ids)));
    let busy = Observation::Waiting {
        reason: reason::INSTANCE_BUSY,
        message: "waiting for DcsBackup/team-a/nightly to finish on instance redis-1".into(),
    };
    out.push((
        OperationStatus {
            phase: Some(Phase::Pending),
            ..OperationStatus::default()
        },
        busy,
    ));
    let throttled = Observation::PollFailed(Failure {
        class: ErrorClass::Throttled,
        message: "dcs list_backups: HTTP 429 APIGW.0308 throttled".into(),
        code: Some("APIGW.0308".into()),
        request_id: Some("0123456789abcdef0123456789abcdef".into()),
        retry_in: None,
    });
    out.push((running, throttled));
    // The plan of a pending status must see its marker as recent, like a live create.
    out.iter_mut().for_each(|(s, _)| {
        if s.create_requested_at.is_some() {
            s.create_requested_at = Some(Time(now));
        }
    });
    out
}

/// Runs `iterations` plan+decide pairs and prints the rate.
pub fn run(iterations: usize) {
    let now = Timestamp::now();
    let f = frame(now);
    let inputs = mix(now);
    let adopt_window = Duration::from_secs(60);
    let mut t = Table::new(
        "Pure state machine throughput (one thread; plan + decide, observation cloned per call)",
        &["iterations", "seconds", "decisions/s", "ns/decision"],
    );
    // Warm up caches and the branch predictor, then measure.
    for (s, o) in inputs.iter().cycle().take(10_000) {
        black_box(decide::decide(s, o.clone(), &f));
    }
    let start = Instant::now();
    let mut polls = 0usize;
    for (s, o) in inputs.iter().cycle().take(iterations) {
        let has_ids = s.backup_id.is_some();
        if decide::plan(black_box(s), has_ids, now, adopt_window) == Plan::Poll {
            polls += 1;
        }
        black_box(decide::decide(black_box(s), o.clone(), &f));
    }
    let took = start.elapsed();
    black_box(polls);
    let rate = iterations as f64 / took.as_secs_f64();
    t.row(vec![
        iterations.to_string(),
        format!("{:.3}", took.as_secs_f64()),
        format!("{rate:.0}"),
        format!("{:.0}", 1e9 / rate),
    ]);
    t.print();
}

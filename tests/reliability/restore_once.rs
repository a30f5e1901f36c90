//! A DDS or TaurusDB restore reaches the cloud at most once, whatever crashes: the operator dies
//! at any await point of a reconcile (once, or twice in a row), a new process takes over, and the
//! instance has seen at most one restore. The restore's job is adopted where the cloud lists jobs
//! (DDS on Huawei Cloud); where it does not (TaurusDB, DDS on OTC) a restore whose fate is unknown
//! ends `RestoreOutcomeUnknown`. It never ends `Succeeded` without a restore, and never fails for
//! another reason.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::join_all;
use hwcloud_backup_operator::controller::decide::TIME_PRECISION;
use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::SimConfig;

use crate::crash_window::crash_after;
use crate::fake_api::object_path;
use crate::harness::{API_VERSION, Harness, NS, SECRET};
use crate::proxy::LossyProxy;
use crate::rig::{self, Kind};

/// A restore kind on a cloud that lists its jobs or not.
#[derive(Debug, Clone, Copy)]
struct Setup {
    kind: Kind,
    otc: bool,
}

impl Setup {
    /// Whether the restore's job can be found after an interrupted request.
    fn listable(self) -> bool {
        self.kind == Kind::DdsRestore && !self.otc
    }
}

async fn harness(setup: Setup) -> Harness {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(100),
        otc: setup.otc,
        ..SimConfig::default()
    };
    let h = Harness::with(cfg, rig::settings()).await;
    if setup.otc {
        let mut data = h.secret_data();
        data["cloud"] = serde_json::json!("otc");
        h.put_secret(SECRET, data);
    }
    h
}

/// What a crash left: nothing, the marker, the marker and a restore, or the job id in status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Window {
    BeforeMarker,
    MarkerOnly,
    RestoredNoId,
    IdWritten,
    Completed,
}

fn window(h: &Harness, path: &str, instance: &str, completed: bool) -> Window {
    let st = rig::status(&h.api, path);
    let restores = rig::restores_on(&h.sim, instance).len();
    match (
        completed,
        st.job_id.is_some(),
        restores,
        st.create_requested_at.is_some(),
    ) {
        (true, ..) => Window::Completed,
        (false, true, ..) => Window::IdWritten,
        (false, false, 0, false) => Window::BeforeMarker,
        (false, false, 0, true) => Window::MarkerOnly,
        (false, false, _, _) => Window::RestoredNoId,
    }
}

/// One process per entry of `crashes`, each dropped at that many polls of its first reconcile,
/// restarted `gap` later; then one that runs to the end. Checks the end and returns the windows.
async fn crash_at(
    h: &Harness,
    setup: Setup,
    round: usize,
    crashes: Vec<usize>,
    gap: Duration,
) -> Vec<Window> {
    let points: Vec<String> = crashes.iter().map(usize::to_string).collect();
    let id = format!("{round}-{}", points.join("-"));
    let instance = format!("once-{}-{id}", setup.kind.service());
    let name = format!("{}-{id}", setup.kind.plural());
    let path = rig::resource(h, setup.kind, &name, &instance).await;
    let mut windows = Vec::new();
    for n in crashes {
        let process = rig::restart(&h.api, rig::settings(), None);
        let obj = h.api.get(&path).unwrap();
        let (out, _) = crash_after(setup.kind.reconcile(&process, obj), n).await;
        drop(process);
        // A request the dying process sent lands, as it would in the real cloud.
        tokio::time::sleep(gap).await;
        windows.push(window(h, &path, &instance, out.is_some()));
    }
    let last = rig::restart(&h.api, rig::settings(), None);
    rig::run_to_terminal(&h.api, &last, setup.kind, &path, Duration::from_secs(20))
        .await
        .unwrap();
    assert_at_most_once(h, setup, &path, &instance, &windows);
    windows
}

/// The end every crash sequence must reach.
fn assert_at_most_once(h: &Harness, setup: Setup, path: &str, instance: &str, windows: &[Window]) {
    let restores = rig::restores_on(&h.sim, instance);
    assert!(
        restores.len() <= 1,
        "{setup:?} {windows:?}: restores sent twice: {restores:?}"
    );
    let st = rig::status(&h.api, path);
    let reason = st
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.reason.clone())
        .unwrap_or_default();
    match (st.phase, restores.first()) {
        (Some(Phase::Succeeded), Some((job, _))) => {
            assert_eq!(
                st.job_id.as_ref(),
                Some(job),
                "{setup:?} {windows:?}: {st:?}"
            )
        }
        (Some(Phase::Failed), _) if reason == "RestoreOutcomeUnknown" => {
            // Only a request whose fate was unknown to a process that then died ends so; where the
            // job is listed, only one that never reached the cloud.
            let interrupted = windows
                .iter()
                .any(|w| matches!(w, Window::MarkerOnly | Window::RestoredNoId));
            assert!(interrupted, "{setup:?} {windows:?}: {st:?}");
            if setup.listable() {
                assert!(
                    restores.is_empty(),
                    "{setup:?} {windows:?}: a listed job was not adopted"
                );
            }
        }
        _ => panic!("{setup:?} {windows:?}: {st:?} after restores {restores:?}"),
    }
}

/// How many polls an undisturbed first reconcile takes.
async fn first_reconcile_polls(h: &Harness, setup: Setup) -> usize {
    let path = rig::resource(
        h,
        setup.kind,
        "probe",
        &format!("probe-{}", setup.kind.service()),
    )
    .await;
    let ctx = rig::restart(&h.api, rig::settings(), None);
    let (out, total) = crash_after(
        setup.kind.reconcile(&ctx, h.api.get(&path).unwrap()),
        usize::MAX,
    )
    .await;
    out.unwrap().unwrap();
    assert!(
        total > 3,
        "a first reconcile has several await points, saw {total}"
    );
    total
}

/// One crash at every await point of the first reconcile, each on its own instance.
async fn sweep(setup: Setup) {
    let h = harness(setup).await;
    let total = first_reconcile_polls(&h, setup).await;
    let gap = Duration::from_millis(30);
    let all = [
        Window::BeforeMarker,
        Window::MarkerOnly,
        Window::RestoredNoId,
        Window::IdWritten,
    ];
    let mut seen = BTreeSet::new();
    // As in crash_window.rs: a loaded machine moves await points between windows, so coverage is
    // the union of a few sweeps; each one checks the promise.
    for round in 0..ROUNDS {
        let points = 1..=total + total / 2 + 2;
        let windows = join_all(points.map(|n| crash_at(&h, setup, round, vec![n], gap))).await;
        seen.extend(windows.into_iter().map(|w| w[0]));
        if all.iter().all(|w| seen.contains(w)) {
            return;
        }
    }
    panic!("{setup:?}: {ROUNDS} sweeps crashed only in {seen:?}, not in all of {all:?}");
}

/// Sweeps at most this often (see [`sweep`]).
const ROUNDS: usize = 4;

#[tokio::test]
async fn crash_at_every_await_point_dds_restore_is_sent_at_most_once_and_adopted() {
    sweep(Setup {
        kind: Kind::DdsRestore,
        otc: false,
    })
    .await;
}

#[tokio::test]
async fn crash_at_every_await_point_dds_restore_on_otc_is_sent_at_most_once() {
    sweep(Setup {
        kind: Kind::DdsRestore,
        otc: true,
    })
    .await;
}

#[tokio::test]
async fn crash_at_every_await_point_taurusdb_restore_is_sent_at_most_once() {
    sweep(Setup {
        kind: Kind::TaurusRestore,
        otc: false,
    })
    .await;
}

/// Two crashes in a row, the operator down past the adoption window in between: every pair of
/// await points. No sequence sends a second restore.
async fn double_sweep(setup: Setup) {
    let h = harness(setup).await;
    let total = first_reconcile_polls(&h, setup).await;
    let gap = rig::settings().adopt_window + TIME_PRECISION + Duration::from_millis(50);
    let takeover = total + total / 2 + 1;
    let dangerous = |w: &Vec<Window>| w[0] == Window::MarkerOnly && w[1] != Window::Completed;
    let mut seen = BTreeSet::new();
    for round in 0..ROUNDS {
        let runs = (1..=total + 1).flat_map(|a| (1..=takeover).map(move |b| vec![a, b]));
        let windows = join_all(runs.map(|c| crash_at(&h, setup, round, c, gap))).await;
        seen.extend(windows);
        // The dangerous pair was reached: a request whose fate was unknown, then a takeover that
        // died too (where a backup would have created again).
        if seen.iter().any(dangerous) {
            return;
        }
    }
    panic!("{setup:?}: never crashed twice after an unknown request: {seen:?}");
}

#[tokio::test]
async fn crash_twice_dds_restore_never_sends_a_second_restore() {
    double_sweep(Setup {
        kind: Kind::DdsRestore,
        otc: false,
    })
    .await;
}

#[tokio::test]
async fn crash_twice_taurusdb_restore_never_sends_a_second_restore() {
    double_sweep(Setup {
        kind: Kind::TaurusRestore,
        otc: false,
    })
    .await;
}

/// A restore request disturbed on its way by the proxy, then a new process: how it ends.
async fn disturbed(setup: Setup, lose: bool) -> (String, Harness) {
    let h = harness(setup).await;
    let proxy = LossyProxy::start(h.sim.base_url()).await;
    let mut data = proxy.secret_data(h.secret_data());
    if setup.otc {
        data["cloud"] = serde_json::json!("otc");
    }
    h.put_secret(SECRET, data);
    let instance = format!("disturbed-{}", setup.kind.service());
    let path = rig::resource(&h, setup.kind, "disturbed", &instance).await;
    if lose {
        proxy.lose_next_creates(1);
    } else {
        proxy.cut_next_creates(1);
    }
    let first = rig::restart(&h.api, rig::settings(), None);
    let _ = setup
        .kind
        .reconcile(&first, h.api.get(&path).unwrap())
        .await;
    drop(first);
    let st = rig::status(&h.api, &path);
    assert!(
        st.create_requested_at.is_some() && st.job_id.is_none(),
        "{setup:?}: {st:?}"
    );
    assert_eq!(
        rig::restores_on(&h.sim, &instance).len(),
        usize::from(lose),
        "{setup:?}"
    );
    let second = rig::restart(&h.api, rig::settings(), None);
    rig::run_to_terminal(&h.api, &second, setup.kind, &path, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        (proxy.lost(), proxy.cut()),
        (usize::from(lose), usize::from(!lose))
    );
    (instance, h)
}

fn ready_reason(h: &Harness, path: &str) -> (Option<Phase>, String) {
    let st = rig::status(&h.api, path);
    let reason = st
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.reason.clone());
    (st.phase, reason.unwrap_or_default())
}

const SETUPS: [Setup; 3] = [
    Setup {
        kind: Kind::DdsRestore,
        otc: false,
    },
    Setup {
        kind: Kind::DdsRestore,
        otc: true,
    },
    Setup {
        kind: Kind::TaurusRestore,
        otc: false,
    },
];

#[tokio::test]
async fn a_lost_answer_is_adopted_where_jobs_are_listed_and_reported_unknown_elsewhere() {
    for setup in SETUPS {
        let (instance, h) = disturbed(setup, true).await;
        let path = object_path(API_VERSION, setup.kind.plural(), NS, "disturbed");
        let restores = rig::restores_on(&h.sim, &instance);
        assert_eq!(
            restores.len(),
            1,
            "{setup:?}: the one request, never a second"
        );
        if setup.listable() {
            assert_eq!(
                ready_reason(&h, &path),
                (Some(Phase::Succeeded), "Succeeded".into())
            );
            assert_eq!(
                rig::status(&h.api, &path).job_id,
                Some(restores[0].0.clone())
            );
            assert!(
                h.api.event_reasons().iter().any(|r| r == "Adopted"),
                "{setup:?}"
            );
        } else {
            let (phase, reason) = ready_reason(&h, &path);
            assert_eq!(
                (phase, reason.as_str()),
                (Some(Phase::Failed), "RestoreOutcomeUnknown"),
                "{setup:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_request_cut_off_before_the_cloud_is_never_sent_again() {
    for setup in SETUPS {
        let (instance, h) = disturbed(setup, false).await;
        let path = object_path(API_VERSION, setup.kind.plural(), NS, "disturbed");
        // The operator cannot tell a cut request from one that landed unseen: it never sends
        // another, even where the job list shows that none landed.
        assert_eq!(rig::restores_on(&h.sim, &instance), vec![], "{setup:?}");
        let (phase, reason) = ready_reason(&h, &path);
        assert_eq!(
            (phase, reason.as_str()),
            (Some(Phase::Failed), "RestoreOutcomeUnknown"),
            "{setup:?}"
        );
    }
}

//! Crash windows: the operator dies anywhere between "create pending" and "ids written", a new
//! process (fresh `Context`, state reloaded from the API server) takes over, and the resource still
//! ends `Succeeded` with exactly one cloud object.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use futures::future::join_all;
use hwcloud_backup_operator::controller::decide::TIME_PRECISION;

use crate::harness::Harness;
use crate::rig::{self, Kind};

/// Polls `fut` at most `polls` times. `None` means it was dropped at its `polls`-th await point,
/// which is what a process crash does to a reconcile. Also returns the polls it took.
pub async fn crash_after<F: Future>(fut: F, polls: usize) -> (Option<F::Output>, usize) {
    let mut fut = pin!(fut);
    let mut used = 0;
    let out = std::future::poll_fn(|cx| {
        if used == polls {
            return Poll::Ready(None);
        }
        used += 1;
        fut.as_mut().poll(cx).map(Some)
    })
    .await;
    (out, used)
}

/// Where a crash left the resource, judged from what survives it (API server and cloud).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Window {
    /// Nothing persisted yet.
    BeforeMarker,
    /// Marker written, no cloud object.
    MarkerOnly,
    /// The cloud object exists; status does not name it.
    CreatedNoIds,
    /// Ids written (the crash hit the event or the requeue).
    IdsWritten,
    /// The reconcile finished before the budget.
    Completed,
}

/// One process per entry of `crashes`, each dropped at that many polls of its first reconcile and
/// followed by a restart `gap` later; then a last process drives the resource home. Returns where
/// each crash left the resource.
async fn crash_at(
    h: &Harness,
    kind: Kind,
    round: usize,
    crashes: Vec<usize>,
    gap: Duration,
) -> Vec<Window> {
    let points = crashes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-");
    let id = format!("r{round}-{points}");
    let instance = format!("crash-{}-{id}", kind.service());
    let path = rig::resource(h, kind, &format!("{}-crash-{id}", kind.plural()), &instance).await;
    let mut windows = Vec::new();
    for n in crashes {
        let process = rig::restart(&h.api, rig::settings(), None);
        let obj = h.api.get(&path).unwrap();
        let (out, _) = crash_after(kind.reconcile(&process, obj), n).await;
        drop(process);
        // Let a request the dying process already sent land, as it would in the real cloud.
        tokio::time::sleep(gap).await;
        windows.push(window(h, kind, &path, out.is_some()));
    }
    let last = rig::restart(&h.api, rig::settings(), None);
    // A budget, not a promise: the sweeps run hundreds of resources at once on a loaded machine.
    rig::run_to_terminal(&h.api, &last, kind, &path, Duration::from_secs(90))
        .await
        .unwrap();
    rig::assert_one_and_succeeded(&h.api, &rig::Snapshot::take(&h.api, &h.sim), kind, &path);
    windows
}

/// Classifies what a crash left behind.
fn window(h: &Harness, kind: Kind, path: &str, completed: bool) -> Window {
    let st = rig::status(&h.api, path);
    let objects = rig::cloud_ids(&h.sim, kind, &rig::marker(&h.api, path)).len();
    match (
        completed,
        kind.id_of(&st).is_some(),
        objects,
        st.create_requested_at.is_some(),
    ) {
        (true, ..) => Window::Completed,
        (false, true, ..) => Window::IdsWritten,
        (false, false, 0, false) => Window::BeforeMarker,
        (false, false, 0, true) => Window::MarkerOnly,
        (false, false, _, _) => Window::CreatedNoIds,
    }
}

/// How many polls an undisturbed first reconcile of the resource at `path` takes.
async fn first_reconcile_polls(h: &Harness, kind: Kind, path: &str) -> usize {
    let ctx = rig::restart(&h.api, rig::settings(), None);
    let (out, total) =
        crash_after(kind.reconcile(&ctx, h.api.get(path).unwrap()), usize::MAX).await;
    out.unwrap().unwrap();
    assert!(
        total > 3,
        "a first reconcile has several await points, saw {total}"
    );
    total
}

/// A probe resource of `kind` on an instance of its own.
async fn probe(h: &Harness, kind: Kind) -> String {
    rig::resource(h, kind, "probe", &format!("probe-{}", kind.service())).await
}

/// Sweeps at most this often: which await point falls into which window depends on how the
/// runtime interleaves the fake API server's and the simulator's tasks, so a loaded machine can
/// miss a window in one sweep. Every sweep checks the safety promise; coverage is their union.
const ROUNDS: usize = 4;

/// Drops the first reconcile at every await point in turn (each on its own instance, all at once).
async fn sweep(kind: Kind) {
    let h = rig::fast_harness().await;
    let probe = probe(&h, kind).await;
    let total = first_reconcile_polls(&h, kind, &probe).await;
    let gap = Duration::from_millis(30);
    let all = [
        Window::BeforeMarker,
        Window::MarkerOnly,
        Window::CreatedNoIds,
        Window::IdsWritten,
    ];
    let mut windows = BTreeSet::new();
    for round in 0..ROUNDS {
        // Under load an exchange may take a poll or two more than in the probe: reach further.
        let points = 1..=total + total / 2 + 2;
        let seen = join_all(points.map(|n| crash_at(&h, kind, round, vec![n], gap))).await;
        windows.extend(seen.into_iter().map(|w| w[0]));
        if all.iter().all(|w| windows.contains(w)) {
            return;
        }
    }
    // The sweep is only worth something if it hit every window that exists.
    panic!("{kind:?}: {ROUNDS} sweeps crashed only in {windows:?}, not in all of {all:?}");
}

#[tokio::test]
async fn crash_at_every_await_point_dcs_backup() {
    sweep(Kind::DcsBackup).await;
}

#[tokio::test]
async fn crash_at_every_await_point_dcs_restore() {
    sweep(Kind::DcsRestore).await;
}

#[tokio::test]
async fn crash_at_every_await_point_dds_backup() {
    sweep(Kind::Dds).await;
}

#[tokio::test]
async fn crash_at_every_await_point_taurusdb_backup() {
    sweep(Kind::Taurus).await;
}

/// Two crashes in a row: the first process dies at any await point, the operator stays down past
/// the adoption window, and the process that takes over dies at any await point of its own first
/// reconcile (an adoption, a lookup, or a second create attempt). A third one finishes.
async fn double_sweep(kind: Kind) {
    let h = rig::fast_harness().await;
    let probe = probe(&h, kind).await;
    let total = first_reconcile_polls(&h, kind, &probe).await;
    let gap = rig::settings().adopt_window + TIME_PRECISION + Duration::from_millis(50);
    // The takeover's reconcile is longer than a first one (it looks the object up, then may create),
    // and under load each exchange may take a poll or two more: its crashes reach further.
    let takeover = total + total / 2 + 1;
    // The takeover itself was cut short right after its own create: the first crash left only
    // the marker, the lookup found nothing (the window had passed), the second create reached the
    // cloud and the process died before writing its ids.
    let recreated = vec![Window::MarkerOnly, Window::CreatedNoIds];
    let mut seen = BTreeSet::new();
    for round in 0..ROUNDS {
        let runs = (1..=total + 1).flat_map(|a| (1..=takeover).map(move |b| vec![a, b]));
        seen.extend(join_all(runs.map(|crashes| crash_at(&h, kind, round, crashes, gap))).await);
        if seen.contains(&recreated) {
            return;
        }
    }
    panic!("{kind:?}: {ROUNDS} sweeps never crashed in {recreated:?}: {seen:?}");
}

#[tokio::test]
async fn crash_twice_dcs_backup() {
    double_sweep(Kind::DcsBackup).await;
}

#[tokio::test]
async fn crash_twice_dcs_restore() {
    double_sweep(Kind::DcsRestore).await;
}

#[tokio::test]
async fn crash_twice_dds_backup() {
    double_sweep(Kind::Dds).await;
}

#[tokio::test]
async fn crash_twice_taurusdb_backup() {
    double_sweep(Kind::Taurus).await;
}

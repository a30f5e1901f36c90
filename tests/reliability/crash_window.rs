//! Crash windows: the operator dies anywhere between "create pending" and "ids written", a new
//! process (fresh `Context`, state reloaded from the API server) takes over, and the resource still
//! ends `Succeeded` with exactly one cloud object.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use futures::future::join_all;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::sim::{SimConfig, SimHandle};
use serde_json::{Value, json};

use crate::harness::{Harness, SECRET, fast_transport};
use crate::proxy::LossyProxy;
use crate::rig::{self, Kind};

/// Polls `fut` at most `polls` times. `None` means it was dropped at its `polls`-th await point,
/// which is what a process crash does to a reconcile. Also returns the polls it took.
async fn crash_after<F: Future>(fut: F, polls: usize) -> (Option<F::Output>, usize) {
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

async fn harness() -> Harness {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(100),
        ..SimConfig::default()
    };
    Harness::with(cfg, rig::settings()).await
}

/// A succeeded backup on `instance` for restores to use; returns its id.
async fn base_backup(sim: &SimHandle, instance: &str) -> String {
    let clouds = CloudClients::new(fast_transport(), None);
    let id = clouds
        .client(&sim.account())
        .dcs()
        .create_backup(instance, "base", None)
        .await
        .expect("base backup starts");
    tokio::time::sleep(Duration::from_millis(150)).await;
    id
}

/// The spec of a resource of `kind` on `instance` (restores restore `backup`).
fn spec(kind: Kind, instance: &str, backup: Option<&str>) -> Value {
    match (kind, backup) {
        (Kind::DcsRestore, Some(b)) => json!({"instanceId": instance, "backupId": b}),
        _ => json!({"instanceId": instance, "description": "crash", "remark": "crash"}),
    }
}

/// Removes the field a kind does not have (DCS has `remark`, DDS/TaurusDB `description`).
fn fit(kind: Kind, mut spec: Value) -> Value {
    let obj = spec.as_object_mut().unwrap();
    match kind {
        Kind::DcsBackup => obj.remove("description"),
        Kind::Dds | Kind::Taurus => obj.remove("remark"),
        Kind::DcsRestore => None,
    };
    spec
}

/// One crash at poll `n`, then a restarted process drives the resource home.
async fn crash_at(h: &Harness, kind: Kind, n: usize) -> Window {
    let instance = format!("crash-{}-{n}", kind.service());
    let backup = match kind {
        Kind::DcsRestore => Some(base_backup(&h.sim, &instance).await),
        _ => None,
    };
    let name = format!("{}-crash-{n}", kind.plural());
    let path = rig::create(
        &h.api,
        kind,
        &name,
        fit(kind, spec(kind, &instance, backup.as_deref())),
    );
    let first = rig::restart(&h.api, rig::settings(), None);
    let obj = h.api.get(&path).unwrap();
    let (out, _) = crash_after(kind.reconcile(&first, obj), n).await;
    drop(first);
    // Let a request the dying process already sent land, as it would in the real cloud.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let st = rig::status(&h.api, &path);
    let objects = rig::cloud_ids(&h.sim, kind, &rig::marker(&h.api, &path)).len();
    let window = match (
        out.is_some(),
        kind.id_of(&st).is_some(),
        objects,
        st.create_requested_at.is_some(),
    ) {
        (true, ..) => Window::Completed,
        (false, true, ..) => Window::IdsWritten,
        (false, false, 0, false) => Window::BeforeMarker,
        (false, false, 0, true) => Window::MarkerOnly,
        (false, false, _, _) => Window::CreatedNoIds,
    };
    let second = rig::restart(&h.api, rig::settings(), None);
    rig::run_to_terminal(&h.api, &second, kind, &path, Duration::from_secs(20))
        .await
        .unwrap();
    rig::assert_one_and_succeeded(&h.api, &rig::Snapshot::take(&h.api, &h.sim), kind, &path);
    window
}

/// Drops the first reconcile at every await point in turn (each on its own instance, all at once).
async fn sweep(kind: Kind) {
    let h = harness().await;
    // How many polls an undisturbed first reconcile takes, on a resource of its own.
    let instance = format!("probe-{}", kind.service());
    let backup = match kind {
        Kind::DcsRestore => Some(base_backup(&h.sim, &instance).await),
        _ => None,
    };
    let probe = rig::create(
        &h.api,
        kind,
        "probe",
        fit(kind, spec(kind, &instance, backup.as_deref())),
    );
    let ctx = rig::restart(&h.api, rig::settings(), None);
    let (out, total) =
        crash_after(kind.reconcile(&ctx, h.api.get(&probe).unwrap()), usize::MAX).await;
    out.unwrap().unwrap();
    assert!(
        total > 3,
        "a first reconcile has several await points, saw {total}"
    );
    let windows: BTreeSet<Window> = join_all((1..=total + 2).map(|n| crash_at(&h, kind, n)))
        .await
        .into_iter()
        .collect();
    // The sweep is only worth something if it hit every window that exists.
    for w in [
        Window::BeforeMarker,
        Window::MarkerOnly,
        Window::CreatedNoIds,
        Window::IdsWritten,
    ] {
        assert!(
            windows.contains(&w),
            "{kind:?}: sweep never crashed in {w:?}: {windows:?}"
        );
    }
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

/// The named windows, each provoked on purpose: a failed marker write, a create cut off before
/// the cloud, a create whose answer is lost after the cloud acted, a failed ids write.
async fn named_windows(kind: Kind) {
    let h = harness().await;
    let proxy = LossyProxy::start(h.sim.base_url()).await;
    h.put_secret(SECRET, proxy.secret_data(h.secret_data()));
    let instance = format!("named-{}", kind.service());
    let backup = match kind {
        Kind::DcsRestore => Some(base_backup(&h.sim, &instance).await),
        _ => None,
    };
    for window in [
        "marker-write-fails",
        "create-cut",
        "answer-lost",
        "ids-write-fails",
    ] {
        let name = format!("{}-{window}", kind.plural());
        let path = rig::create(
            &h.api,
            kind,
            &name,
            fit(kind, spec(kind, &instance, backup.as_deref())),
        );
        match window {
            "marker-write-fails" => h.api.fail_status_writes(0, 1),
            "create-cut" => proxy.cut_next_creates(1),
            "answer-lost" => proxy.lose_next_creates(1),
            _ => h.api.fail_status_writes(1, 1),
        }
        let first = rig::restart(&h.api, rig::settings(), None);
        let result = kind.reconcile(&first, h.api.get(&path).unwrap()).await;
        drop(first);
        let st = rig::status(&h.api, &path);
        let objects = rig::cloud_ids(&h.sim, kind, &rig::marker(&h.api, &path)).len();
        // Prove the window was hit: what survived the crash is exactly what that window leaves.
        let survived = (
            st.create_requested_at.is_some(),
            kind.id_of(&st).is_some(),
            objects,
        );
        let expected = match window {
            "marker-write-fails" => (false, false, 0),
            "create-cut" => (true, false, 0),
            _ => (true, false, 1),
        };
        assert_eq!(survived, expected, "{kind:?} {window}: {result:?} {st:?}");
        let second = rig::restart(&h.api, rig::settings(), None);
        let events_before = h.api.event_reasons().len();
        rig::run_to_terminal(&h.api, &second, kind, &path, Duration::from_secs(20))
            .await
            .unwrap();
        rig::assert_one_and_succeeded(&h.api, &rig::Snapshot::take(&h.api, &h.sim), kind, &path);
        let adopted = h.api.event_reasons()[events_before..].contains(&"Adopted".to_string());
        assert_eq!(
            adopted,
            expected.2 == 1,
            "{kind:?} {window}: adopted only what exists"
        );
    }
    assert_eq!((proxy.cut(), proxy.lost()), (1, 1));
}

#[tokio::test]
async fn named_crash_windows_dcs_backup() {
    named_windows(Kind::DcsBackup).await;
}

#[tokio::test]
async fn named_crash_windows_dcs_restore() {
    named_windows(Kind::DcsRestore).await;
}

#[tokio::test]
async fn named_crash_windows_dds_backup() {
    named_windows(Kind::Dds).await;
}

#[tokio::test]
async fn named_crash_windows_taurusdb_backup() {
    named_windows(Kind::Taurus).await;
}

//! The crash windows named one by one and provoked on purpose, for every kind: a failed marker
//! write, a create cut off before the cloud, a create whose answer is lost after the cloud acted,
//! a create that times out and reaches the cloud later, and a failed ids write. After each, a new
//! process takes over and the resource ends `Succeeded` with exactly one cloud object.

use std::time::Duration;

use hwcloud_backup_operator::controller::context::Settings;

use crate::harness::{SECRET, fast_transport};
use crate::proxy::LossyProxy;
use crate::rig::{self, Kind};

/// How the create of a window is disturbed, and what must survive the first process.
struct Named {
    name: &'static str,
    /// (marker written, ids written, cloud objects) right after the first process.
    leaves: (bool, bool, usize),
    /// Whether the new process must adopt an existing object.
    adopts: bool,
}

const WINDOWS: [Named; 5] = [
    Named {
        name: "marker-write-fails",
        leaves: (false, false, 0),
        adopts: false,
    },
    Named {
        name: "create-cut",
        leaves: (true, false, 0),
        adopts: false,
    },
    Named {
        name: "answer-lost",
        leaves: (true, false, 1),
        adopts: true,
    },
    // The cloud acts 1 s after the request, the client gave up at 0.5 s: at takeover nothing is
    // listed yet, and the adoption window (3 s, more than any request may take) keeps it waiting.
    Named {
        name: "create-timed-out",
        leaves: (true, false, 0),
        adopts: true,
    },
    Named {
        name: "ids-write-fails",
        leaves: (true, false, 1),
        adopts: true,
    },
];

const LATE_BY: Duration = Duration::from_secs(1);

async fn named_windows(kind: Kind) {
    let h = rig::fast_harness().await;
    let proxy = LossyProxy::start(h.sim.base_url()).await;
    h.put_secret(SECRET, proxy.secret_data(h.secret_data()));
    let instance = format!("named-{}", kind.service());
    for w in WINDOWS {
        let path = rig::resource(
            &h,
            kind,
            &format!("{}-{}", kind.plural(), w.name),
            &instance,
        )
        .await;
        let mut settings = rig::settings();
        let mut transport = fast_transport();
        match w.name {
            "marker-write-fails" => h.api.fail_status_writes(0, 1),
            "create-cut" => proxy.cut_next_creates(1),
            "answer-lost" => proxy.lose_next_creates(1),
            "create-timed-out" => {
                proxy.late_next_creates(1, LATE_BY);
                transport.request_timeout = LATE_BY / 2;
                settings = Settings {
                    adopt_window: 3 * LATE_BY,
                    ..settings
                };
            }
            _ => h.api.fail_status_writes(1, 1),
        }
        let first = rig::process(&h.api, settings.clone(), transport, None);
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
        assert_eq!(survived, w.leaves, "{kind:?} {}: {result:?} {st:?}", w.name);
        let second = rig::restart(&h.api, settings, None);
        let events_before = h.api.event_reasons().len();
        rig::run_to_terminal(&h.api, &second, kind, &path, Duration::from_secs(20))
            .await
            .unwrap();
        let snap = rig::Snapshot::take(&h.api, &h.sim);
        rig::assert_one_and_succeeded(&h.api, &snap, kind, &path);
        // Said in an event of its own, or in the completion notice when it had finished already.
        let adopted = h.api.events()[events_before..]
            .iter()
            .any(|e| e["note"].as_str().is_some_and(|n| n.contains("adopted")));
        assert_eq!(
            adopted, w.adopts,
            "{kind:?} {}: adopted only what exists",
            w.name
        );
        if w.name == "create-timed-out" {
            let waited = snap.status_history(&path).iter().any(|s| {
                s.message
                    .as_deref()
                    .is_some_and(|m| m.contains("did not reach the cloud"))
            });
            assert!(
                waited,
                "{kind:?}: the takeover looked before the late create landed"
            );
        }
    }
    assert_eq!((proxy.cut(), proxy.lost(), proxy.late()), (1, 1, 1));
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

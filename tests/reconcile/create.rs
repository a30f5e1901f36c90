//! A new resource: the create marker is written before the create call and the ids right after it;
//! a crash between the two is recovered by finding the cloud object by its marker, never by a
//! second create.

use std::time::Duration;

use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::SimConfig;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::common::{assert_state, create_with, events_for, ready_in, time_value, wait_until};
use crate::harness::{Harness, fast_settings};
use crate::kinds::Kind;

each_kind!(new_resource_writes_the_marker_then_the_ids);
async fn new_resource_writes_the_marker_then_the_ids<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "fresh", spec);
    let next = h.step::<K>(&path).await;
    assert!(next.is_some(), "a running operation is polled");

    let patches = h.status_patches(&path);
    assert_eq!(patches.len(), 2, "{patches:#?}");
    let marker = &patches[0];
    assert_eq!(marker["phase"], "Pending", "{marker:#}");
    assert!(marker["createRequestedAt"].is_string(), "{marker:#}");
    assert_eq!(ready_in(marker), ("False".into(), "Creating".into()));
    // A restore's marker records the backup it restores (known before the create), so that a
    // restore adopted after a crash still says it; the operation's own ids come with the create.
    let spec = h
        .api
        .get(&path)
        .map(|o| o["spec"].clone())
        .unwrap_or_default();
    let restored = (K::NOUN == "Restore").then(|| spec["backupId"].clone());
    for id in ["backupId", "restoreId", "jobId"] {
        match (id, &restored) {
            ("backupId", Some(backup)) => assert_eq!(&marker[id], backup, "{marker:#}"),
            _ => assert!(
                marker.get(id).is_none(),
                "no {id} before the create: {marker:#}"
            ),
        }
    }
    let running = &patches[1];
    assert_eq!(running["phase"], "Running", "{running:#}");
    assert!(running.get("createRequestedAt").is_none(), "{running:#}");
    assert!(running["startedAt"].is_string(), "{running:#}");
    for id in K::ID_FIELDS {
        assert!(
            running[id].is_string(),
            "{id} in the Running patch: {running:#}"
        );
    }
    assert_eq!(ready_in(running), ("False".into(), "InProgress".into()));

    assert_eq!(events_for(&h, "fresh"), vec![format!("{}Started", K::NOUN)]);
    assert_eq!(h.cloud_calls(K::CREATE), 1);
    let made = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1);
    assert_eq!(running[K::ID_FIELDS[0]], made[0].id.as_str());
}

/// The marker write passes, the create happens, the Running write fails: a crash in between.
async fn crash_after_the_create<K: Kind>(h: &Harness, path: &str) -> String {
    h.api.fail_status_writes(1, 1);
    let obj: K = h.load(path);
    assert!(
        reconcile_once(&obj, &h.ctx).await.is_err(),
        "the Running write fails"
    );
    let st = h.status(path);
    assert_eq!(st.phase, Some(Phase::Pending));
    assert!(st.create_requested_at.is_some(), "the marker survived");
    assert_eq!(K::op_id(&st), None);
    let made = K::made(h, K::INSTANCE);
    assert_eq!(made.len(), 1, "the create reached the cloud");
    made[0].id.clone()
}

each_findable_kind!(crash_after_the_create_adopts_by_marker);
async fn crash_after_the_create_adopts_by_marker<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "crashy", K::spec(&h, K::INSTANCE).await);
    let id = crash_after_the_create::<K>(&h, &path).await;

    h.step::<K>(&path).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Running, "InProgress");
    assert_eq!(K::op_id(&st), Some(id.clone()), "the same cloud object");
    assert_eq!(st.create_requested_at, None);
    assert_eq!(events_for(&h, "crashy"), vec!["Adopted"]);

    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    assert_eq!(h.cloud_calls(K::CREATE), 1, "never a second create");
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
}

each_findable_kind!(long_crash_adopts_a_finished_operation);
/// The operator comes back after the operation finished: adopted and finished in one reconcile,
/// and the user still learns that it was adopted.
async fn long_crash_adopts_a_finished_operation<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "slow", K::spec(&h, K::INSTANCE).await);
    let id = crash_after_the_create::<K>(&h, &path).await;
    wait_until("the cloud operation finished", || {
        K::made(&h, K::INSTANCE)[0].status == K::DONE
    })
    .await;

    assert_eq!(h.step::<K>(&path).await, None);
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(K::op_id(&st), Some(id));
    let events = events_for(&h, "slow");
    assert!(events.contains(&"Adopted".to_string()), "{events:?}");
    assert!(
        events.contains(&format!("{}Succeeded", K::NOUN)),
        "{events:?}"
    );
    assert_eq!(h.cloud_calls(K::CREATE), 1);
}

each_findable_kind!(young_marker_with_nothing_in_the_cloud_waits);
/// A marker younger than the adopt window may belong to a create the cloud does not list yet.
async fn young_marker_with_nothing_in_the_cloud_waits<K: Kind>() {
    let settings = Settings {
        adopt_window: Duration::from_secs(5),
        ..fast_settings()
    };
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(400),
        ..SimConfig::default()
    };
    let h = Harness::with(cfg, settings).await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let at = time_value(Timestamp::now());
    let status = json!({"phase": "Pending", "createRequestedAt": at});
    let path = create_with::<K>(&h, "young", spec, json!({}), status);
    for _ in 0..2 {
        assert!(h.step::<K>(&path).await.is_some(), "looks again later");
        let st = h.status(&path);
        assert_state(&st, Phase::Pending, "Creating");
        assert_eq!(time_value(st.create_requested_at.unwrap().0), at);
    }
    assert_eq!(h.cloud_calls(K::CREATE), 0, "no create within the window");
    assert!(K::made(&h, K::INSTANCE).is_empty());
}

each_recreating_kind!(old_marker_with_nothing_in_the_cloud_creates_once);
async fn old_marker_with_nothing_in_the_cloud_creates_once<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let at = Timestamp::now() - SignedDuration::from_hours(1);
    let status = json!({"phase": "Pending", "createRequestedAt": time_value(at)});
    let path = create_with::<K>(&h, "old", spec, json!({}), status);
    h.step::<K>(&path).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Running, "InProgress");
    assert_eq!(h.cloud_calls(K::CREATE), 1);
    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    assert_eq!(h.cloud_calls(K::CREATE), 1, "exactly one create");
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
}

each_kind!(a_stale_cache_copy_does_not_adopt_its_own_operation);
/// The watch cache may still show the marker-only status when the next reconcile runs; the
/// operator must remember what it wrote instead of looking its own operation up again.
async fn a_stale_cache_copy_does_not_adopt_its_own_operation<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "stale", spec);
    h.step::<K>(&path).await;
    let marker_only = h.status_patches(&path)[0].clone();
    let mut stale = h.api.get(&path).expect("object");
    stale["status"] = marker_only;
    let stale: K = serde_json::from_value(stale).expect("deserialises");
    h.sim.reset_calls();
    reconcile_once(&stale, &h.ctx).await.expect("reconcile");
    assert_eq!(
        events_for(&h, "stale"),
        vec![format!("{}Started", K::NOUN)],
        "no Adopted event"
    );
    assert_eq!(h.cloud_calls(K::CREATE), 0);
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
    assert_eq!(h.status(&path).phase, Some(Phase::Running));
}

//! `DdsRestore` and `TaurusDbRestore` from each source: a backup by id, a backup resource by
//! reference (waiting while it runs), and a point in time inside or outside the cloud's windows.

use hwcloud_backup_operator::crd::{DdsRestore, Phase, TaurusDbRestore};
use jiff::{Timestamp, ToSpan};
use serde_json::json;

use crate::common::{assert_quiet, assert_state, events_for};
use crate::harness::Harness;
use crate::kinds::{Kind, finished_db_backup};

/// What the restore scenarios need besides [`Kind`].
pub trait DbRestore: Kind {
    /// The simulator's service name.
    const SERVICE: &'static str;
    /// The backup kind a `backupRef` names, and its plural.
    const BACKUP_KIND: &'static str;
    const BACKUP_PLURAL: &'static str;
}

impl DbRestore for DdsRestore {
    const SERVICE: &'static str = "dds";
    const BACKUP_KIND: &'static str = "DdsBackup";
    const BACKUP_PLURAL: &'static str = "ddsbackups";
}

impl DbRestore for TaurusDbRestore {
    const SERVICE: &'static str = "taurus";
    const BACKUP_KIND: &'static str = "TaurusDbBackup";
    const BACKUP_PLURAL: &'static str = "taurusdbbackups";
}

/// One test per restore kind, in a module named after the scenario.
macro_rules! each_db_restore {
    ($scenario:ident) => {
        each_kind!($scenario: dds_restore DdsRestore, taurusdb_restore TaurusDbRestore);
    };
}

/// Drives the backup resource at `path` of `K`'s backup kind to the end.
async fn drive_backup<K: DbRestore>(h: &Harness, path: &str) {
    match K::SERVICE {
        "dds" => {
            h.drive::<hwcloud_backup_operator::crd::DdsBackup>(path, 50)
                .await
        }
        _ => {
            h.drive::<hwcloud_backup_operator::crd::TaurusDbBackup>(path, 50)
                .await
        }
    };
}

async fn step_backup<K: DbRestore>(h: &Harness, path: &str) {
    match K::SERVICE {
        "dds" => {
            h.step::<hwcloud_backup_operator::crd::DdsBackup>(path)
                .await
        }
        _ => {
            h.step::<hwcloud_backup_operator::crd::TaurusDbBackup>(path)
                .await
        }
    };
}

each_db_restore!(restores_a_backup_named_by_id);
async fn restores_a_backup_named_by_id<K: DbRestore>() {
    let h = Harness::new().await;
    let id = finished_db_backup(&h, K::SERVICE, K::INSTANCE).await;
    h.sim.reset_calls();
    let spec = json!({"instanceId": K::INSTANCE, "backupId": id});
    let path = h.create(K::KIND, K::PLURAL, "r", spec);
    h.drive::<K>(&path, 50).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(st.backup_id.as_deref(), Some(id.as_str()));
    assert_eq!(st.restore_time, None);
    let made = h.sim.restores();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(
        (made[0].restore_id.as_str(), made[0].backup_id.as_str()),
        (st.job_id.as_deref().unwrap_or_default(), id.as_str())
    );
    assert_eq!(h.cloud_calls("create_restore"), 1);
    assert_eq!(
        events_for(&h, "r"),
        vec!["RestoreStarted", "RestoreSucceeded"]
    );
    assert_quiet::<K>(&h, &path).await;
}

each_db_restore!(waits_for_a_referenced_backup_that_is_still_running);
async fn waits_for_a_referenced_backup_that_is_still_running<K: DbRestore>() {
    let h = Harness::new().await;
    let spec = json!({"instanceId": K::INSTANCE, "backupRef": {"name": "nightly"}});
    let restore = h.create(K::KIND, K::PLURAL, "r", spec);
    h.step::<K>(&restore).await;
    assert_state(&h.status(&restore), Phase::Pending, "WaitingForBackup");
    assert_eq!(
        h.sim.calls(),
        vec![],
        "nothing to ask the cloud while the backup is missing"
    );

    let backup = h.create(
        K::BACKUP_KIND,
        K::BACKUP_PLURAL,
        "nightly",
        json!({"instanceId": K::INSTANCE}),
    );
    step_backup::<K>(&h, &backup).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Running));
    h.step::<K>(&restore).await;
    let st = h.status(&restore);
    assert_state(&st, Phase::Pending, "WaitingForBackup");
    assert!(st.message.unwrap_or_default().contains("nightly"));
    assert_eq!(h.cloud_calls("create_restore"), 0);

    drive_backup::<K>(&h, &backup).await;
    h.drive::<K>(&restore, 50).await;
    let st = h.status(&restore);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    assert_eq!(
        st.backup_id,
        h.status(&backup).backup_id,
        "the backup the resource made"
    );
    assert_eq!(h.cloud_calls("create_restore"), 1);
    assert_eq!(
        events_for(&h, "r"),
        vec!["WaitingForBackup", "RestoreStarted", "RestoreSucceeded"]
    );
}

each_db_restore!(restores_a_point_in_time_inside_a_window);
async fn restores_a_point_in_time_inside_a_window<K: DbRestore>() {
    let h = Harness::new().await;
    let at = Timestamp::now() - 2.hours();
    let spec = json!({"instanceId": K::INSTANCE, "restoreTime": at.to_string()});
    let path = h.create(K::KIND, K::PLURAL, "pitr", spec);
    h.drive::<K>(&path, 50).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Succeeded, "Succeeded");
    let ms = at.as_millisecond();
    let shown = Timestamp::from_millisecond(ms).unwrap().to_string();
    assert_eq!(
        st.restore_time.as_deref(),
        Some(shown.as_str()),
        "to the millisecond"
    );
    assert_eq!(st.backup_id, None);
    let made = h.sim.restores();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(
        made[0].restore_time_ms,
        Some(ms),
        "each service's time type reached the cloud"
    );
    assert_eq!(made[0].source_instance_id, K::INSTANCE);
    assert_eq!(
        h.cloud_calls("restore_windows"),
        1,
        "checked once, before the call"
    );
}

each_db_restore!(restores_another_instances_point_in_time_into_this_one);
async fn restores_another_instances_point_in_time_into_this_one<K: DbRestore>() {
    let h = Harness::new().await;
    let at = Timestamp::now() - 1.hour();
    let spec = json!({"instanceId": K::INSTANCE, "restoreTime": at.to_string(),
        "sourceInstanceId": "source-1"});
    let path = h.create(K::KIND, K::PLURAL, "cross", spec);
    h.drive::<K>(&path, 50).await;
    assert_state(&h.status(&path), Phase::Succeeded, "Succeeded");
    let made = &h.sim.restores()[0];
    assert_eq!(
        (made.instance_id.as_str(), made.source_instance_id.as_str()),
        (K::INSTANCE, "source-1")
    );
}

each_db_restore!(fails_a_point_in_time_outside_every_window);
async fn fails_a_point_in_time_outside_every_window<K: DbRestore>() {
    let h = Harness::new().await;
    let day: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    h.sim.set_restore_windows(
        K::INSTANCE,
        vec![
            (day + 1.hour(), day + 2.hours()),
            (day + 6.hours(), day + 8.hours()),
        ],
    );
    let at = day + 4.hours();
    let spec = json!({"instanceId": K::INSTANCE, "restoreTime": "2026-03-01T04:00:00Z"});
    let path = h.create(K::KIND, K::PLURAL, "gap", spec);
    assert_eq!(h.step::<K>(&path).await, None);
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "InvalidRestoreTime");
    let message = st.message.unwrap_or_default();
    for window in [
        "2026-03-01T01:00:00Z to 2026-03-01T02:00:00Z",
        "2026-03-01T06:00:00Z to 2026-03-01T08:00:00Z",
    ] {
        assert!(
            message.contains(window),
            "lists the nearest windows: {message}"
        );
    }
    assert!(message.contains(&at.to_string()), "{message}");
    assert_eq!(h.cloud_calls("create_restore"), 0);
    assert!(
        st.create_requested_at.is_none(),
        "refused before any marker"
    );
    assert_eq!(events_for(&h, "gap"), vec!["RestoreFailed"]);
    assert_quiet::<K>(&h, &path).await;
}

each_db_restore!(refuses_a_backup_of_another_instance);
async fn refuses_a_backup_of_another_instance<K: DbRestore>() {
    let h = Harness::new().await;
    let theirs = finished_db_backup(&h, K::SERVICE, "other-1").await;
    let spec = json!({"instanceId": K::INSTANCE, "backupId": theirs});
    let by_id = h.create(K::KIND, K::PLURAL, "by-id", spec);
    assert_eq!(h.step::<K>(&by_id).await, None);
    let st = h.status(&by_id);
    assert_state(&st, Phase::Failed, "BackupUnusable");
    assert!(st.message.unwrap_or_default().contains("other-1"));

    let backup = h.create(
        K::BACKUP_KIND,
        K::BACKUP_PLURAL,
        "theirs",
        json!({"instanceId": "other-1"}),
    );
    drive_backup::<K>(&h, &backup).await;
    h.sim.reset_calls();
    let spec = json!({"instanceId": K::INSTANCE, "backupRef": {"name": "theirs"}});
    let by_ref = h.create(K::KIND, K::PLURAL, "by-ref", spec);
    assert_eq!(h.step::<K>(&by_ref).await, None);
    assert_state(&h.status(&by_ref), Phase::Failed, "BackupUnusable");
    assert_eq!(
        h.sim.calls(),
        vec![],
        "refused from the backup resource's spec alone"
    );
    assert!(h.sim.restores().is_empty());
}

each_db_restore!(refuses_a_failed_backup);
async fn refuses_a_failed_backup<K: DbRestore>() {
    let h = Harness::new().await;
    let failing = h.sim.config().failing_instances[0].clone();
    let backup = h.create(
        K::BACKUP_KIND,
        K::BACKUP_PLURAL,
        "broken",
        json!({"instanceId": failing}),
    );
    drive_backup::<K>(&h, &backup).await;
    assert_eq!(h.status(&backup).phase, Some(Phase::Failed));
    let spec = json!({"instanceId": failing, "backupRef": {"name": "broken"}});
    let path = h.create(K::KIND, K::PLURAL, "r", spec);
    assert_eq!(h.step::<K>(&path).await, None);
    assert_state(&h.status(&path), Phase::Failed, "BackupUnusable");
    assert_eq!(h.cloud_calls("create_restore"), 0);
}

each_db_restore!(a_failed_restore_job_fails_the_resource);
async fn a_failed_restore_job_fails_the_resource<K: DbRestore>() {
    let h = Harness::new().await;
    let failing = h.sim.config().failing_instances[0].clone();
    let at = Timestamp::now() - 1.hour();
    let spec = json!({"instanceId": failing, "restoreTime": at.to_string()});
    let path = h.create(K::KIND, K::PLURAL, "r", spec);
    h.drive::<K>(&path, 50).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "CloudError");
    assert!(st.message.unwrap_or_default().contains("Failed"));
    assert_eq!(
        h.cloud_calls("create_restore"),
        1,
        "a failed restore is not tried again"
    );
}

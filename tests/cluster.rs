//! End-to-end tests against a real Kubernetes API server (kind, k3d, ...), ignored by default.
//!
//! They install the CRDs, start the cloud simulator and the controllers in this process (as
//! `run --simulate` does), apply the repository's examples and follow them to `Succeeded`, check what
//! only a real API server can show (printer columns, CEL at apply time, finalizers on delete, SSA
//! removing the create marker), and delete their namespace afterwards. Run them with
//! `cargo test --test cluster -- --ignored` (README.md, "Running the cluster tests").

#[path = "cluster/cel.rs"]
mod cel;
#[path = "cluster/env.rs"]
mod env;
#[path = "cluster/schedule.rs"]
mod schedule;

use env::{Controllers, Env, MANAGER};
use hwcloud_backup_operator::controller::context::FINALIZER;
use hwcloud_backup_operator::crd::{
    BackupResource, DcsBackup, DcsRestore, DdsBackup, DdsRestore, OperationStatus, Phase,
    TaurusDbBackup, TaurusDbRestore,
};
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs a Kubernetes cluster (kind/k3d): see README"]
async fn examples_succeed_and_delete_policy_is_honoured() {
    env::run(Controllers::On, |env| async move {
        let backup: DcsBackup = env.apply_example("dcsbackup.yaml").await;
        let restore: DcsRestore = env.apply_example("dcsrestore.yaml").await;
        let dds: DdsBackup = env.apply_example("ddsbackup.yaml").await;
        let taurus: TaurusDbBackup = env.apply_example("taurusdbbackup.yaml").await;
        let dds_restore: DdsRestore = env.apply_example("ddsrestore.yaml").await;
        let taurus_restore: TaurusDbRestore = env.apply_example("taurusdbrestore.yaml").await;
        // A point-in-time restore of the same DDS instance: it queues behind the other operations.
        let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let pitr = resource(
            "DdsRestore",
            "catalog-db-pitr",
            json!({"instanceId": dds.spec.instance_id, "restoreTime": at.to_string()}),
        );
        env.api::<DdsRestore>()
            .patch(
                "catalog-db-pitr",
                &PatchParams::apply(MANAGER),
                &Patch::Apply(&pitr),
            )
            .await
            .expect("a point-in-time DdsRestore is accepted");
        assert!(
            restore.spec.backup_ref.is_some(),
            "the restore example names its DcsBackup"
        );

        let backup: DcsBackup = succeeded(&env, &backup.name_any(), "dcsbackups", "BackupID").await;
        let restore: DcsRestore =
            succeeded(&env, &restore.name_any(), "dcsrestores", "RestoreID").await;
        let dds: DdsBackup = succeeded(&env, &dds.name_any(), "ddsbackups", "BackupID").await;
        let taurus: TaurusDbBackup =
            succeeded(&env, &taurus.name_any(), "taurusdbbackups", "BackupID").await;

        let dds_restore: DdsRestore =
            db_restored(&env, &dds_restore.name_any(), "ddsrestores").await;
        let taurus_restore: TaurusDbRestore =
            db_restored(&env, &taurus_restore.name_any(), "taurusdbrestores").await;
        let pitr: DdsRestore = db_restored(&env, "catalog-db-pitr", "ddsrestores").await;

        // The restores restored the very backups their backup resources made, or the time asked.
        assert_eq!(status(&restore).backup_id, status(&backup).backup_id);
        assert_eq!(status(&dds_restore).backup_id, status(&dds).backup_id);
        assert_eq!(status(&taurus_restore).backup_id, status(&taurus).backup_id);
        let ms = jiff::Timestamp::from_millisecond(at.as_millisecond()).unwrap();
        assert_eq!(status(&pitr).restore_time, Some(ms.to_string()));
        for (kind, name) in [
            ("DdsRestore", dds_restore.name_any()),
            ("TaurusDbRestore", taurus_restore.name_any()),
            ("DdsRestore", pitr.name_any()),
        ] {
            env.wait_events(kind, &name, &["RestoreStarted", "RestoreSucceeded"])
                .await;
        }
        env.wait_events(
            "DcsBackup",
            &backup.name_any(),
            &["BackupStarted", "BackupSucceeded"],
        )
        .await;
        env.wait_events(
            "DcsRestore",
            &restore.name_any(),
            &["RestoreStarted", "RestoreSucceeded"],
        )
        .await;
        env.wait_events(
            "DdsBackup",
            &dds.name_any(),
            &["BackupStarted", "BackupSucceeded"],
        )
        .await;
        env.wait_events(
            "TaurusDbBackup",
            &taurus.name_any(),
            &["BackupStarted", "BackupSucceeded"],
        )
        .await;

        // One cloud operation per resource, however many watch events and reconciles there were.
        let calls = env.sim.calls();
        let count = |service: &str, op: &str| {
            calls
                .iter()
                .filter(|c| c.service == service && c.operation == op && c.status / 100 == 2)
                .count()
        };
        assert_eq!(count("dcs", "create_backup"), 1);
        assert_eq!(count("dcs", "create_restore"), 1);
        assert_eq!(count("dds", "create_backup"), 1);
        assert_eq!(count("taurus", "create_backup"), 1);
        assert_eq!(count("dds", "create_restore"), 2, "one per DdsRestore");
        assert_eq!(count("taurus", "create_restore"), 1);
        // Each cloud object carries the marker derived from its resource's UID.
        let dcs_backup = env
            .sim
            .backups()
            .into_iter()
            .find(|b| Some(&b.backup_id) == status(&backup).backup_id.as_ref())
            .expect("the DcsBackup's cloud backup");
        let uid = backup.uid().expect("uid").replace('-', "");
        assert!(
            dcs_backup
                .description_or_remark
                .starts_with(backup.spec.remark.as_deref().unwrap_or_default())
                && dcs_backup
                    .description_or_remark
                    .contains(&format!("[k8s:{uid}]")),
            "{}",
            dcs_backup.description_or_remark
        );

        retained_on_delete(&env, &backup).await;
        deleted_with_the_resource(&env, &dds).await;
    })
    .await;
}

/// Waits for `Succeeded` and checks status, the Ready condition and the printed columns.
async fn succeeded<K: BackupResource>(env: &Env, name: &str, plural: &str, id_column: &str) -> K {
    let obj: K = env.wait_terminal(name).await;
    let st = status(&obj);
    assert_eq!(st.phase, Some(Phase::Succeeded), "{name}: {st:?}");
    assert!(
        st.started_at.is_some() && st.completed_at.is_some(),
        "{st:?}"
    );
    assert_eq!(st.progress, Some(100.0), "{st:?}");
    // The marker was written before the create and dropped by omitting it from the next apply.
    assert!(st.create_requested_at.is_none(), "{st:?}");
    assert_eq!(st.observed_generation, obj.meta().generation, "{st:?}");
    let ready = st
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap_or_else(|| panic!("{name} has no Ready condition: {st:?}"));
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Succeeded"),
        "{ready:?}"
    );
    assert_eq!(ready.observed_generation, obj.meta().generation);

    let id = if id_column == "RestoreID" {
        st.restore_id.clone()
    } else {
        st.backup_id.clone()
    };
    assert!(id.is_some(), "{name}: no {id_column} in {st:?}");
    let row = env.table_row(plural, name).await;
    let columns: Vec<&str> = row.keys().map(String::as_str).collect();
    // The Table API returns the `-o wide` columns too (Bytes has priority 1).
    let mut want = vec![
        "Age", "Bytes", "Instance", "Name", "Phase", "Size", id_column,
    ];
    want.sort_unstable();
    assert_eq!(columns, want, "{row:?}");
    assert_eq!(row["Name"], json!(name));
    assert_eq!(row["Phase"], json!("Succeeded"));
    assert_eq!(row["Instance"], json!(obj.instance_id()));
    assert_eq!(row[id_column], json!(id));
    // A missing value prints as an empty cell (null), e.g. a restore, which has no size.
    assert_eq!(row["Size"], json!(st.size), "{row:?}");
    assert_eq!(row["Bytes"], json!(st.size_bytes), "{row:?}");
    obj
}

/// Waits for a DDS/TaurusDB restore's `Succeeded` and checks its status and printed columns.
async fn db_restored<K: BackupResource>(env: &Env, name: &str, plural: &str) -> K {
    let obj: K = env.wait_terminal(name).await;
    let st = status(&obj);
    assert_eq!(st.phase, Some(Phase::Succeeded), "{name}: {st:?}");
    assert!(
        st.job_id.is_some() && st.create_requested_at.is_none(),
        "{st:?}"
    );
    assert_eq!(st.progress, Some(100.0), "{st:?}");
    let row = env.table_row(plural, name).await;
    let columns: Vec<&str> = row.keys().map(String::as_str).collect();
    assert_eq!(
        columns,
        [
            "Age",
            "BackupID",
            "Instance",
            "JobID",
            "Name",
            "Phase",
            "RestoreTime"
        ],
        "{row:?}"
    );
    assert_eq!(row["Phase"], json!("Succeeded"));
    assert_eq!(row["Instance"], json!(obj.instance_id()));
    assert_eq!(row["BackupID"], json!(st.backup_id), "{row:?}");
    assert_eq!(row["RestoreTime"], json!(st.restore_time), "{row:?}");
    assert_eq!(row["JobID"], json!(st.job_id), "{row:?}");
    obj
}

fn status<K: BackupResource>(obj: &K) -> OperationStatus {
    obj.status().cloned().unwrap_or_default()
}

/// `deletionPolicy: Retain` (the DcsBackup example): no finalizer, and the cloud backup stays.
async fn retained_on_delete(env: &Env, backup: &DcsBackup) {
    let name = backup.name_any();
    assert!(!backup.finalizers().iter().any(|f| f == FINALIZER));
    env.api::<DcsBackup>()
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleting the DcsBackup");
    env.wait_deleted::<DcsBackup>(&name, &backup.uid().expect("uid"))
        .await;
    let id = status(backup).backup_id.expect("backup id");
    let kept = env.sim.backups().into_iter().find(|b| b.backup_id == id);
    assert_eq!(kept.map(|b| b.status), Some("succeed".to_string()));
    assert!(
        !env.sim
            .calls()
            .iter()
            .any(|c| c.operation == "delete_backup"),
        "Retain deleted a cloud backup"
    );
}

/// `deletionPolicy: Delete` (the DdsBackup example): the finalizer holds the resource until the
/// cloud backup is deleted, then goes.
async fn deleted_with_the_resource(env: &Env, dds: &DdsBackup) {
    let name = dds.name_any();
    assert!(
        dds.finalizers().iter().any(|f| f == FINALIZER),
        "{:?}",
        dds.finalizers()
    );
    let id = status(dds).backup_id.expect("backup id");
    let pending = env
        .api::<DdsBackup>()
        .delete(&name, &DeleteParams::default())
        .await
        .expect("deleting the DdsBackup")
        .left()
        .expect("the finalizer keeps the DdsBackup while its cloud backup is deleted");
    assert!(pending.meta().deletion_timestamp.is_some());
    assert!(pending.finalizers().iter().any(|f| f == FINALIZER));
    env.wait_deleted::<DdsBackup>(&name, &dds.uid().expect("uid"))
        .await;
    assert!(
        env.sim
            .calls()
            .iter()
            .any(|c| c.service == "dds" && c.operation == "delete_backup" && c.status / 100 == 2),
        "no successful DDS delete call"
    );
    env.wait_events("DdsBackup", &name, &["CloudBackupDeleted"])
        .await;
    // The simulator deletes a DDS backup as a job of half the backup duration.
    env::within("the cloud backup to disappear", async {
        while env.sim.backups().iter().any(|b| b.backup_id == id) {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await;
}

/// Runs everywhere (no cluster): the examples the cluster test applies parse into their kinds and pass
/// the controller's own validation, so a broken example fails CI, not only a kind run.
#[test]
fn examples_parse_into_their_kinds_and_validate() {
    fn check<K: BackupResource>(file: &str, kind: &str) -> K {
        let path = format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let obj: K = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let raw: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(raw["kind"], json!(kind), "{path}");
        assert_eq!(obj.validate(), Ok(()), "{path}");
        assert!(
            obj.meta().namespace.is_none(),
            "{path}: examples go into any namespace"
        );
        obj
    }
    let backup: DcsBackup = check("dcsbackup.yaml", "DcsBackup");
    let restore: DcsRestore = check("dcsrestore.yaml", "DcsRestore");
    let dds: DdsBackup = check("ddsbackup.yaml", "DdsBackup");
    let taurus: TaurusDbBackup = check("taurusdbbackup.yaml", "TaurusDbBackup");
    let dds_restore: DdsRestore = check("ddsrestore.yaml", "DdsRestore");
    let taurus_restore: TaurusDbRestore = check("taurusdbrestore.yaml", "TaurusDbRestore");
    // The DDS and TaurusDB restore examples restore the backup examples, in place.
    for (restore_ref, restore_instance, backup_name, backup_instance) in [
        (
            &dds_restore.spec.backup_ref,
            &dds_restore.spec.instance_id,
            dds.name_any(),
            &dds.spec.instance_id,
        ),
        (
            &taurus_restore.spec.backup_ref,
            &taurus_restore.spec.instance_id,
            taurus.name_any(),
            &taurus.spec.instance_id,
        ),
    ] {
        assert_eq!(
            restore_ref.as_ref().map(|r| r.name.clone()),
            Some(backup_name)
        );
        assert_eq!(restore_instance, backup_instance);
    }
    // What the cluster test relies on: the restore waits for the backup example, on its instance,
    // and the DDS example exercises deletionPolicy Delete while the DCS one keeps its backup.
    let backup_ref = restore.spec.backup_ref.as_ref().map(|r| r.name.as_str());
    assert_eq!(backup_ref, Some(backup.name_any().as_str()));
    assert_eq!(restore.spec.instance_id, backup.spec.instance_id);
    assert_eq!(
        backup.deletion_policy(),
        hwcloud_backup_operator::crd::DeletionPolicy::Retain
    );
    assert_eq!(
        dds.deletion_policy(),
        hwcloud_backup_operator::crd::DeletionPolicy::Delete
    );
}

fn resource(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "backup.hwcloud.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    })
}

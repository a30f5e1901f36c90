//! `BackupSchedule` on a real API server: the CRD installs and its examples are accepted and planned,
//! an every-minute schedule creates labelled children that the backup controllers finish, and
//! retention deletes the older child (its finalizer deletes the cloud backup).

use std::time::Duration;

use hwcloud_backup_operator::crd::{BackupSchedule, DcsBackup, Phase};
use kube::ResourceExt;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;

use crate::env::{self, Controllers, Env, MANAGER};

/// Label every child carries.
const SCHEDULE_LABEL: &str = "backup.hwcloud.dev/schedule";

fn schedules(env: &Env) -> kube::Api<BackupSchedule> {
    env.api()
}

/// The examples are accepted by the API server's schema and CEL rules and planned by the operator.
async fn examples_are_planned(env: &Env) {
    let path = format!(
        "{}/examples/backupschedule.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("reading the example");
    let docs: Vec<BackupSchedule> =
        serde_saphyr::from_multiple(&text).expect("parsing the example");
    assert_eq!(docs.len(), 3, "one schedule per service");
    for mut doc in docs {
        doc.metadata.namespace = Some(env.ns.clone());
        let name = doc.name_any();
        schedules(env)
            .patch(&name, &PatchParams::apply(MANAGER), &Patch::Apply(&doc))
            .await
            .unwrap_or_else(|e| panic!("applying {name}: {e}"));
        let planned = env::within("the example to be planned", async {
            loop {
                let s = schedules(env)
                    .get(&name)
                    .await
                    .expect("reading the schedule");
                if s.status
                    .as_ref()
                    .is_some_and(|st| st.next_schedule_time.is_some())
                {
                    return s;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
        .await;
        let st = planned.status.expect("status");
        let ready = st
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .expect("Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("True", "Scheduled")
        );
        let row = env.table_row("backupschedules", &name).await;
        let columns: Vec<&str> = row.keys().map(String::as_str).collect();
        assert_eq!(
            columns,
            [
                "Age", "Last", "Name", "Next", "Schedule", "Suspend", "TimeZone"
            ],
            "{row:?}"
        );
        assert_eq!(row["Schedule"], json!(planned.spec.schedule));
    }
}

#[tokio::test]
#[ignore = "needs a Kubernetes cluster (kind/k3d): see README"]
async fn a_schedule_runs_labelled_backups_and_retention_deletes_the_older_one() {
    env::run(Controllers::On, |env| async move {
        examples_are_planned(&env).await;

        let spec = json!({
            "schedule": "* * * * *",
            "template": {"dcsBackup": {"instanceId": "sched-redis-1", "remark": "every minute"}},
            "retention": {"keepLast": 1},
        });
        let body = json!({"apiVersion": "backup.hwcloud.dev/v1alpha1", "kind": "BackupSchedule",
            "metadata": {"name": "minutely", "namespace": env.ns}, "spec": spec});
        schedules(&env)
            .patch(
                "minutely",
                &PatchParams::apply(MANAGER),
                &Patch::Apply(&body),
            )
            .await
            .expect("applying the schedule");

        let children = env.api::<DcsBackup>();
        let selector = ListParams::default().labels(&format!("{SCHEDULE_LABEL}=minutely"));
        // Two runs (at most two minutes), the second Succeeded, the first deleted by retention.
        let survivor = env::within("two runs and retention", async {
            loop {
                let creates = env
                    .sim
                    .calls()
                    .iter()
                    .filter(|c| c.operation == "create_backup" && c.status / 100 == 2)
                    .count();
                let listed = children
                    .list(&selector)
                    .await
                    .expect("listing children")
                    .items;
                let done = listed.len() == 1
                    && listed[0].status.as_ref().and_then(|s| s.phase) == Some(Phase::Succeeded);
                if creates >= 2 && done {
                    return listed.into_iter().next().expect("one child");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
        .await;
        assert!(
            survivor.name_any().starts_with("minutely-"),
            "named after the run: {}",
            survivor.name_any()
        );
        assert!(
            survivor.owner_references().is_empty(),
            "no owner reference: deleting the schedule keeps its backups"
        );
        // Exactly the survivor's cloud backup is left; the older one was deleted with its child.
        let kept = survivor
            .status
            .and_then(|s| s.backup_id)
            .expect("backup id");
        env::within("the older cloud backup to be deleted", async {
            loop {
                let live: Vec<String> = env
                    .sim
                    .backups()
                    .into_iter()
                    .filter(|b| b.instance_id == "sched-redis-1" && b.status != "deleted")
                    .map(|b| b.backup_id)
                    .collect();
                if live == [kept.clone()] {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
        .await;
        let st = schedules(&env)
            .get("minutely")
            .await
            .expect("reading the schedule")
            .status
            .expect("status");
        assert!(
            st.last_schedule_time.is_some() && st.last_successful_time.is_some(),
            "{st:?}"
        );
        env.wait_events(
            "BackupSchedule",
            "minutely",
            &["BackupScheduled", "RetentionDeleted"],
        )
        .await;
    })
    .await;
}

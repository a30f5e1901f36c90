//! DDS and TaurusDB backups and jobs, AK/SK and password.

use std::time::Duration;

use hwcloud_backup_operator::cloud::error::ErrorClass;
use hwcloud_backup_operator::cloud::types::{OpState, OpView};
use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};

use crate::helper::*;

/// Create, follow the job, find, list and delete one backup; `$svc` is `dds` or `taurus`.
macro_rules! db_cycle {
    ($sim:expr, $account:expr, $svc:ident) => {{
        let sim: &SimHandle = $sim;
        let c = client(&$account);
        let api = c.$svc();
        let inst = format!("db-{}", uuid::Uuid::new_v4().simple());
        let name = format!("bk-{}", uuid::Uuid::new_v4().simple());
        assert!(api.list_backups(&inst).await.unwrap().is_empty());

        let created = api
            .create_backup(&inst, &name, "marker-uid-1")
            .await
            .unwrap();
        let busy = api
            .create_backup(&inst, &format!("{name}-2"), "x")
            .await
            .unwrap_err();
        assert_eq!(busy.class(), ErrorClass::Busy, "{busy}");
        let taken = api.create_backup("db-other", &name, "x").await.unwrap_err();
        assert_eq!(taken.class(), ErrorClass::Terminal, "{taken}");

        let job = settle(|| async {
            let job = api.get_job(&created.job_id).await.unwrap();
            assert_eq!(job.id, created.job_id);
            Some(job.view())
        })
        .await;
        assert_eq!(job.state, OpState::Succeeded, "{job:?}");

        let backup = api.get_backup(&created.backup_id).await.unwrap().unwrap();
        assert_eq!(backup.name, name);
        assert_eq!(backup.description.as_deref(), Some("marker-uid-1"));
        assert_eq!(backup.instance_id.as_deref(), Some(inst.as_str()));
        assert_eq!(backup.view().state, OpState::Succeeded, "{backup:?}");
        assert!(backup.size_bytes.is_some_and(|s| s > 0), "{backup:?}");
        let listed = api.list_backups(&inst).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0], backup);
        assert!(api.get_backup("no-such-backup").await.unwrap().is_none());
        let unknown = api.get_job("no-such-job").await.unwrap_err();
        assert_eq!(unknown.class(), ErrorClass::NotFound, "{unknown}");
        assert!(
            sim.backups()
                .iter()
                .any(|b| b.backup_id == created.backup_id
                    && b.job_id.as_deref() == Some(created.job_id.as_str()))
        );

        api.delete_backup(&created.backup_id).await.unwrap();
        let gone = settle(|| async {
            match api.get_backup(&created.backup_id).await.unwrap() {
                None => Some(OpView {
                    state: OpState::Succeeded,
                    raw_status: "gone".into(),
                    progress: None,
                    size_bytes: None,
                    message: None,
                }),
                // DDS lists a backup being deleted as DISABLED until its job ends.
                Some(b) if b.status == "DISABLED" => None,
                Some(b) => Some(b.view()),
            }
        })
        .await;
        assert_eq!(gone.raw_status, "gone");
        let again = api.delete_backup(&created.backup_id).await.unwrap_err();
        assert_eq!(again.class(), ErrorClass::NotFound, "{again}");
    }};
}

#[tokio::test]
async fn dds_with_aksk() {
    let sim = sim().await;
    db_cycle!(&sim, sim.account(), dds);
}

#[tokio::test]
async fn dds_with_password() {
    let sim = sim().await;
    db_cycle!(&sim, sim.password_account(), dds);
}

#[tokio::test]
async fn taurus_with_aksk() {
    let sim = sim().await;
    db_cycle!(&sim, sim.account(), taurus);
}

#[tokio::test]
async fn taurus_with_password() {
    let sim = sim().await;
    db_cycle!(&sim, sim.password_account(), taurus);
}

#[tokio::test]
async fn new_jobs_are_not_found_until_visible_and_failures_carry_a_reason() {
    let sim = Simulator::start(SimConfig {
        backup_duration: OP_TIME,
        job_visibility_delay: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sim.account());
    let created = c
        .taurus()
        .create_backup("failing-instance", "bk-fails", "m")
        .await
        .unwrap();
    let early = c.taurus().get_job(&created.job_id).await.unwrap_err();
    assert_eq!(early.class(), ErrorClass::NotFound, "{early}");
    let job = settle(|| async {
        match c.taurus().get_job(&created.job_id).await {
            Ok(job) => Some(job.view()),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("{e}"),
        }
    })
    .await;
    assert_eq!(job.state, OpState::Failed);
    assert!(job.message.is_some(), "{job:?}");
    let backup = c
        .taurus()
        .get_backup(&created.backup_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(backup.view().state, OpState::Failed);
}

/// The history read that seeds the schedule is one call, whatever the history's length: the
/// first page only (100), where the full list pages through all of it.
#[tokio::test]
async fn recent_backups_is_one_page_in_one_call() {
    use hwcloud_backup_operator::sim::SeedService;
    let sim = sim().await;
    let c = client(&sim.account());
    sim.seed_db_history(SeedService::Dds, "mongo-old", 150, Duration::from_secs(90));
    sim.seed_db_history(
        SeedService::Taurus,
        "taurus-old",
        150,
        Duration::from_secs(90),
    );
    c.project_id().await.unwrap();
    let lists = |sim: &SimHandle| {
        sim.calls()
            .iter()
            .filter(|c| c.operation == "list_backups")
            .count()
    };
    sim.reset_calls();
    assert_eq!(
        c.dds().recent_backups("mongo-old").await.unwrap().len(),
        100
    );
    assert_eq!(
        c.taurus().recent_backups("taurus-old").await.unwrap().len(),
        100
    );
    assert_eq!(lists(&sim), 2);
    assert_eq!(c.dds().list_backups("mongo-old").await.unwrap().len(), 150);
    assert_eq!(lists(&sim), 4);
    assert!(
        c.dds()
            .recent_backups("mongo-new")
            .await
            .unwrap()
            .is_empty()
    );
}

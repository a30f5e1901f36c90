//! DDS and TaurusDB restores through the real clients: each service's body reaches the simulator
//! as documented, the job is followed, windows are read under each key, and the DDS job list finds
//! the restore's job.

use hwcloud_backup_operator::cloud::error::ErrorClass;
use hwcloud_backup_operator::cloud::restore_wire::RestoreFrom;
use hwcloud_backup_operator::cloud::types::OpState;
use hwcloud_backup_operator::sim::{SimConfig, Simulator};
use jiff::{Timestamp, ToSpan};

use crate::helper::*;

#[tokio::test]
async fn dds_restores_a_backup_and_its_job_is_listed_by_name() {
    let sim = sim().await;
    let c = client(&sim.account());
    let b = c.dds().create_backup("dds-c1", "base-1", "").await.unwrap();
    settle(|| async { Some(c.dds().get_job(&b.job_id).await.unwrap().view()) }).await;
    let before = Timestamp::now() - 2.seconds();
    let job = c
        .dds()
        .restore("dds-c1", &RestoreFrom::Backup(b.backup_id.clone()))
        .await
        .unwrap();
    let busy = c
        .dds()
        .create_backup("dds-c1", "base-2", "")
        .await
        .unwrap_err();
    assert_eq!(busy.class(), ErrorClass::Busy, "{busy}");
    let listed = c
        .dds()
        .list_jobs(
            "MongodbRestoreData2CurrentInstance",
            before,
            Timestamp::now() + 1.minute(),
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id, job);
    assert_eq!(listed[0].instance_id.as_deref(), Some("dds-c1"));
    assert!(listed[0].created.is_some_and(|t| t >= before));
    let done = settle(|| async { Some(c.dds().get_job(&job).await.unwrap().view()) }).await;
    assert_eq!(done.state, OpState::Succeeded);
}

#[tokio::test]
async fn point_in_time_restores_check_windows_under_each_services_key() {
    let sim = sim().await;
    let c = client(&sim.account());
    let at = Timestamp::now() - 3.hours();
    let day = at.to_zoned(jiff::tz::TimeZone::UTC).date();
    for (svc, iid) in [("dds", "dds-p1"), ("taurus", "tdb-p1")] {
        let windows = match svc {
            "dds" => c.dds().restore_windows(iid, day).await,
            _ => c.taurus().restore_windows(iid, day).await,
        }
        .unwrap();
        assert!(windows.iter().any(|w| w.contains(at)), "{svc}: {windows:?}");
        let from = RestoreFrom::Time {
            source_instance: iid.into(),
            at,
        };
        let job = match svc {
            "dds" => c.dds().restore(iid, &from).await,
            _ => c.taurus().restore(iid, &from).await,
        }
        .unwrap_or_else(|e| panic!("{svc}: {e}"));
        let made = sim
            .restores()
            .into_iter()
            .find(|r| r.restore_id == job)
            .unwrap();
        assert_eq!(made.restore_time_ms, Some(at.as_millisecond()), "{svc}");
        let future = RestoreFrom::Time {
            source_instance: iid.into(),
            at: Timestamp::now() + 1.hour(),
        };
        tokio::time::sleep(OP_TIME).await;
        let refused = match svc {
            "dds" => c.dds().restore(iid, &future).await,
            _ => c.taurus().restore(iid, &future).await,
        }
        .unwrap_err();
        assert_eq!(refused.class(), ErrorClass::Terminal, "{svc}: {refused}");
    }
}

#[tokio::test]
async fn on_otc_the_taurusdb_restore_and_the_dds_job_list_are_refused_as_not_found() {
    let sim = Simulator::start(SimConfig {
        otc: true,
        backup_duration: OP_TIME,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sim.account());
    let from = RestoreFrom::Backup("b-br07".into());
    let e = c.taurus().restore("tdb-o1", &from).await.unwrap_err();
    assert_eq!(
        (e.class(), e.code()),
        (ErrorClass::NotFound, Some("APIGW.0101"))
    );
    let now = Timestamp::now();
    let e = c.dds().list_jobs("x", now, now).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::NotFound, "{e}");
    assert_eq!(
        sim.calls()
            .iter()
            .filter(|c| c.operation == "create_restore")
            .count(),
        1,
        "a refused restore is not repeated by the transport"
    );
}

//! Injected errors and dropped connections.

use hwcloud_backup_operator::cloud::account::Account;
use hwcloud_backup_operator::cloud::error::Error;
use hwcloud_backup_operator::sim::{Faults, SimHandle};

use crate::helper::*;

/// Under injected faults each call either succeeds or fails with a transient class.
async fn survives_faults(sim: &SimHandle, account: Account) {
    let c = client(&account);
    sim.set_faults(Faults {
        error_rate: 0.3,
        ..Faults::default()
    });
    let (mut ok, mut failed) = (0, 0);
    for i in 0..30 {
        let inst = format!("redis-fault-{i}");
        let results = [
            c.dcs().create_backup(&inst, "m", None).await.map(|_| ()),
            c.dcs().list_backups(&inst).await.map(|_| ()),
            c.dcs().list_restores(&inst).await.map(|_| ()),
        ];
        for r in results {
            match r {
                Ok(()) => ok += 1,
                Err(e) => {
                    assert!(e.class().is_transient(), "{e}");
                    failed += 1;
                }
            }
        }
    }
    sim.set_faults(Faults::default());
    let calls = sim.calls();
    let injected = calls
        .iter()
        .filter(|c| c.status == 429 || c.status == 500)
        .count();
    assert!(injected > 0, "faults were injected");
    assert!(
        ok > failed * 3,
        "retries recover most calls: ok {ok}, failed {failed}"
    );
}

#[tokio::test]
async fn injected_faults_with_aksk() {
    let sim = sim().await;
    survives_faults(&sim, sim.account()).await;
}

#[tokio::test]
async fn injected_faults_with_password() {
    let sim = sim().await;
    survives_faults(&sim, v1(sim.password_account())).await;
}

#[tokio::test]
async fn dropped_connections_are_retried_for_reads() {
    let sim = sim().await;
    let c = client(&sim.account());
    c.project_id().await.unwrap();
    sim.set_faults(Faults {
        drop_rate: 0.3,
        ..Faults::default()
    });
    let mut ok = 0;
    for i in 0..20 {
        match c.dcs().list_backups(&format!("redis-{i}")).await {
            Ok(_) => ok += 1,
            Err(e) => assert!(matches!(e, Error::Network { .. }), "{e}"),
        }
    }
    assert!(ok >= 17, "ok {ok}");
    assert!(sim.calls().iter().any(|c| c.status == 0), "drops happened");
}

#[tokio::test]
async fn db_calls_survive_injected_faults() {
    let sim = sim().await;
    for account in [sim.account(), sim.password_account()] {
        let c = client(&account);
        sim.set_faults(Faults {
            error_rate: 0.3,
            ..Faults::default()
        });
        let (mut ok, mut failed) = (0, 0);
        for i in 0..15 {
            let inst = format!("db-fault-{}", uuid::Uuid::new_v4().simple());
            let name = format!("bk-fault-{i}-{}", uuid::Uuid::new_v4().simple());
            let results = [
                c.dds().create_backup(&inst, &name, "m").await.map(|_| ()),
                c.taurus()
                    .create_backup(&inst, &name, "m")
                    .await
                    .map(|_| ()),
                c.dds().list_backups(&inst).await.map(|_| ()),
                c.taurus().get_backup("b").await.map(|_| ()),
                c.dds().get_job("j").await.map(|_| ()),
            ];
            for r in results {
                match r {
                    Ok(()) => ok += 1,
                    Err(e) if e.is_not_found() => ok += 1,
                    Err(e) => {
                        assert!(e.class().is_transient(), "{e}");
                        failed += 1;
                    }
                }
            }
        }
        sim.set_faults(Faults::default());
        assert!(ok > failed * 3, "ok {ok}, failed {failed}");
    }
    assert!(sim.calls().iter().any(|c| c.status == 429));
    assert!(sim.calls().iter().any(|c| c.status == 500));
}

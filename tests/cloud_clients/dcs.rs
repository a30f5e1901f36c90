//! DCS backups and restores, v2 and v1.0, AK/SK and password.

use hwcloud_backup_operator::cloud::account::Account;
use hwcloud_backup_operator::cloud::dcs::BackupFormat;
use hwcloud_backup_operator::cloud::error::ErrorClass;
use hwcloud_backup_operator::cloud::types::OpState;
use hwcloud_backup_operator::sim::SimHandle;

use crate::helper::*;

/// Backup, restore and delete of one DCS instance through whichever API version the account uses.
async fn dcs_cycle(sim: &SimHandle, account: Account) {
    let c = client(&account);
    let dcs = c.dcs();
    let inst = format!("redis-{}", uuid::Uuid::new_v4().simple());
    assert!(dcs.list_backups(&inst).await.unwrap().is_empty());
    assert!(dcs.list_restores(&inst).await.unwrap().is_empty());

    let bid = dcs
        .create_backup(&inst, "marker-b", Some(BackupFormat::Aof))
        .await
        .unwrap();
    // A second operation while the backup runs is refused as busy, never as a failure.
    let busy = dcs.delete_backup(&inst, &bid).await.unwrap_err();
    assert_eq!(busy.class(), ErrorClass::Busy, "{busy}");
    let view = settle(|| async {
        let all = dcs.list_backups(&inst).await.unwrap();
        all.into_iter().find(|b| b.backup_id == bid).map(|b| {
            assert_eq!(b.remark.as_deref(), Some("marker-b"));
            assert_eq!(b.instance_id.as_deref(), Some(inst.as_str()));
            b.view()
        })
    })
    .await;
    assert_eq!(view.state, OpState::Succeeded, "{view:?}");
    assert_eq!(view.progress, Some(100.0));
    assert!(view.size_bytes.is_some_and(|s| s > 0), "{view:?}");

    let rid = dcs.create_restore(&inst, &bid, "marker-r").await.unwrap();
    let view = settle(|| async {
        let all = dcs.list_restores(&inst).await.unwrap();
        all.into_iter().find(|r| r.restore_id == rid).map(|r| {
            assert_eq!(r.backup_id.as_deref(), Some(bid.as_str()));
            assert_eq!(r.remark.as_deref(), Some("marker-r"));
            r.view()
        })
    })
    .await;
    assert_eq!(view.state, OpState::Succeeded, "{view:?}");

    dcs.delete_backup(&inst, &bid).await.unwrap();
    let again = dcs.delete_backup(&inst, &bid).await.unwrap_err();
    assert_eq!(again.class(), ErrorClass::NotFound, "{again}");
    let after = dcs.list_backups(&inst).await.unwrap();
    assert!(
        after
            .iter()
            .all(|b| b.backup_id != bid || b.view().state == OpState::Failed),
        "{after:?}"
    );
    assert!(
        sim.backups()
            .iter()
            .any(|b| b.backup_id == bid && b.description_or_remark == "marker-b")
    );

    let refused = dcs
        .create_backup("single-node-dcs", "m", None)
        .await
        .unwrap_err();
    assert_eq!(refused.class(), ErrorClass::Terminal, "{refused}");
}

#[tokio::test]
async fn dcs_v2_with_aksk() {
    let sim = sim().await;
    dcs_cycle(&sim, sim.account()).await;
}

#[tokio::test]
async fn dcs_v2_with_password() {
    let sim = sim().await;
    dcs_cycle(&sim, sim.password_account()).await;
}

#[tokio::test]
async fn dcs_v1_with_aksk() {
    let sim = sim().await;
    dcs_cycle(&sim, v1(sim.account())).await;
}

#[tokio::test]
async fn dcs_v1_with_password() {
    let sim = sim().await;
    dcs_cycle(&sim, v1(sim.password_account())).await;
}

#[tokio::test]
async fn failed_dcs_backups_say_so() {
    let sim = sim().await;
    let c = client(&sim.account());
    let bid = c
        .dcs()
        .create_backup("failing-instance", "m", None)
        .await
        .unwrap();
    let view = settle(|| async {
        let all = c.dcs().list_backups("failing-instance").await.unwrap();
        all.into_iter()
            .find(|b| b.backup_id == bid)
            .map(|b| b.view())
    })
    .await;
    assert_eq!(view.state, OpState::Failed);
    assert!(view.message.is_some(), "{view:?}");
}

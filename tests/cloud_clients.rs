//! The cloud clients against the simulator over HTTP: every operation, both auth kinds, faults.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::account::{Account, Credentials, DcsApiVersion};
use hwcloud_backup_operator::cloud::client::{CloudClient, CloudClients};
use hwcloud_backup_operator::cloud::dcs::BackupFormat;
use hwcloud_backup_operator::cloud::error::{Error, ErrorClass};
use hwcloud_backup_operator::cloud::transport::TransportConfig;
use hwcloud_backup_operator::cloud::types::{OpState, OpView};
use hwcloud_backup_operator::sim::{Faults, SimConfig, SimHandle, Simulator};

const OP_TIME: Duration = Duration::from_millis(300);

async fn sim() -> SimHandle {
    Simulator::start(SimConfig {
        backup_duration: OP_TIME,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn cfg() -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(5),
        max_attempts: 4,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(200),
        rate_per_second: 500,
        burst: 500,
    }
}

fn client(account: &Account) -> Arc<CloudClient> {
    CloudClients::new(cfg(), None).client(account)
}

fn v1(account: Account) -> Account {
    Account {
        dcs_api_version: DcsApiVersion::V1,
        ..account
    }
}

/// Polls `read` until the view it returns is no longer in progress (5 s at most).
async fn settle<F, Fut>(mut read: F) -> OpView
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<OpView>>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(view) = read().await
            && view.state != OpState::InProgress
        {
            return view;
        }
        assert!(Instant::now() < deadline, "operation did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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

fn wrong_secret(account: Account, project_id: Option<String>) -> Account {
    let Credentials::AkSk { access_key, .. } = account.credentials.clone() else {
        unreachable!()
    };
    Account {
        credentials: Credentials::AkSk {
            access_key,
            secret_key: "not-the-secret".into(),
            security_token: None,
        },
        project_id,
        ..account
    }
}

#[tokio::test]
async fn a_wrong_secret_key_fails_with_auth_after_exactly_one_attempt() {
    let sim = sim().await;
    let pid = sim.config().project_id.clone();
    // Without a project id the first call is the IAM lookup; with one, the service call.
    for (account, service) in [
        (wrong_secret(sim.account(), None), "iam"),
        (wrong_secret(sim.account(), Some(pid)), "dcs"),
    ] {
        sim.reset_calls();
        let e = client(&account)
            .dcs()
            .list_backups("redis-1")
            .await
            .unwrap_err();
        assert_eq!(e.class(), ErrorClass::Auth, "{e}");
        assert!(!format!("{e} {e:?}").contains("not-the-secret"));
        let calls = sim.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].service, service);
        assert_eq!(calls[0].status, 401);
    }
}

#[tokio::test]
async fn a_wrong_password_fails_with_auth_after_one_login() {
    let sim = sim().await;
    let mut account = sim.password_account();
    if let Credentials::Password { password, .. } = &mut account.credentials {
        *password = "wrong-password".into();
    }
    let e = client(&account)
        .dcs()
        .list_backups("redis-1")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-password"));
    assert_eq!(sim.calls().len(), 1);
}

#[tokio::test]
async fn a_burst_of_token_users_logs_in_once() {
    let sim = sim().await;
    let c = client(&sim.password_account());
    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.dcs().list_backups(&format!("redis-{i}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let calls = sim.calls();
    let logins = calls.iter().filter(|c| c.operation == "token").count();
    assert_eq!(logins, 1, "{calls:?}");
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.operation == "list_backups")
            .count(),
        25
    );
}

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

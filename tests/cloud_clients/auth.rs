//! Rejected credentials and token sharing.

use hwcloud_backup_operator::cloud::account::{Account, Credentials};
use hwcloud_backup_operator::cloud::error::{Error, ErrorClass};

use crate::helper::*;

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

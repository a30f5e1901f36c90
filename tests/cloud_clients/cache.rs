//! The per-account client cache: with more accounts than it holds, the accounts in steady use keep
//! their client (and so their IAM token), the cache stays bounded, and idle clients expire.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::cloud::account::Account;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::client_cache::CacheLimits;
use hwcloud_backup_operator::sim::SimHandle;

use crate::helper::{cfg, sim};

/// The simulator's password account, made distinct per `n` by an endpoint no call here uses.
fn account(sim: &SimHandle, n: usize) -> Account {
    let mut a = sim.password_account();
    a.endpoints.taurus = Some(format!("{}/taurus-{n}", sim.base_url()));
    a
}

fn tokens(sim: &SimHandle) -> usize {
    sim.calls()
        .iter()
        .filter(|c| c.operation == "token")
        .count()
}

/// One authenticated call as `account` (a token is fetched if its client has none).
async fn use_account(clouds: &CloudClients, account: &Account) {
    clouds
        .client(account)
        .dcs()
        .list_backups("some-instance")
        .await
        .expect("list succeeds");
}

fn limits(capacity: usize, idle_ttl: Duration) -> CacheLimits {
    CacheLimits {
        capacity: NonZeroUsize::new(capacity).unwrap(),
        idle_ttl,
    }
}

#[tokio::test]
async fn hundred_accounts_round_robin_keep_the_hot_ones_tokens() {
    // Hot and cold accounts log in at different simulators, so token calls can be told apart.
    let (hot_sim, cold_sim) = (sim().await, sim().await);
    let hot: Vec<Account> = (0..10).map(|n| account(&hot_sim, n)).collect();
    let cold: Vec<Account> = (0..90).map(|n| account(&cold_sim, n)).collect();
    // A cache smaller than the accounts, so eviction happens.
    let clouds = CloudClients::with_limits(cfg(), None, limits(64, Duration::from_secs(600)));
    for round in 0..2 {
        for (i, c) in cold.iter().enumerate() {
            use_account(&clouds, c).await;
            // The hot accounts are used between every few cold ones, as busy accounts are.
            if i % 9 == 0 {
                for h in &hot {
                    use_account(&clouds, h).await;
                }
            }
        }
        assert_eq!(
            tokens(&hot_sim),
            10,
            "round {round}: one token per hot account"
        );
        assert!(clouds.cached() <= 64, "bounded: {}", clouds.cached());
    }
    assert_eq!(clouds.cached(), 64);
}

#[tokio::test]
async fn the_default_cache_holds_a_hundred_accounts_without_thrashing() {
    let sim = sim().await;
    let accounts: Vec<Account> = (0..100).map(|n| account(&sim, n)).collect();
    let clouds = CloudClients::new(cfg(), None);
    for _ in 0..2 {
        for a in &accounts {
            use_account(&clouds, a).await;
        }
    }
    assert_eq!(tokens(&sim), 100, "one login per account");
    assert_eq!(clouds.cached(), 100);
}

#[tokio::test]
async fn idle_clients_expire_and_clients_in_use_keep_their_state() {
    let sim = sim().await;
    let (idle, busy, other) = (account(&sim, 1), account(&sim, 2), account(&sim, 3));
    let clouds = CloudClients::with_limits(cfg(), None, limits(2, Duration::from_millis(300)));
    use_account(&clouds, &idle).await;
    // A reconcile that holds its client past the TTL and past eviction.
    let held = clouds.client(&busy);
    held.dcs().list_backups("i").await.unwrap();
    assert_eq!(tokens(&sim), 2);

    tokio::time::sleep(Duration::from_millis(400)).await;
    use_account(&clouds, &other).await;
    assert_eq!(clouds.cached(), 1, "both idle entries expired");
    let again = clouds.client(&busy);
    assert!(
        Arc::ptr_eq(&held, &again),
        "the client in use is handed back"
    );
    again.dcs().list_backups("i").await.unwrap();
    assert_eq!(
        tokens(&sim),
        3,
        "only `other` logged in; `busy` kept its token"
    );

    drop((held, again));
    use_account(&clouds, &idle).await;
    assert_eq!(tokens(&sim), 4, "the expired idle account logs in again");
    assert!(clouds.cached() <= 2);
}

/// Refused password logins at the simulator.
fn refused_logins(sim: &SimHandle) -> usize {
    sim.calls()
        .iter()
        .filter(|c| c.operation == "token" && c.status == 401)
        .count()
}

#[tokio::test]
async fn an_account_whose_credentials_were_refused_keeps_its_breaker_through_cache_churn() {
    let (bad_sim, other_sim) = (sim().await, sim().await);
    let mut bad = bad_sim.password_account();
    if let hwcloud_backup_operator::cloud::account::Credentials::Password { password, .. } =
        &mut bad.credentials
    {
        *password = "wrong".into();
    }
    let clouds = CloudClients::with_limits(cfg(), None, limits(2, Duration::from_secs(600)));
    assert!(clouds.client(&bad).dcs().list_backups("i").await.is_err());
    assert_eq!(refused_logins(&bad_sim), 1);
    // Enough other accounts to push the refused one out of a cache of two.
    for n in 0..5 {
        use_account(&clouds, &account(&other_sim, n)).await;
    }
    let again = clouds.client(&bad).dcs().list_backups("i").await;
    assert!(again.is_err(), "still refused");
    assert_eq!(
        refused_logins(&bad_sim),
        1,
        "the breaker survived eviction: no second refused login within its backoff"
    );
}

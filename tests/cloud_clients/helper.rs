//! Simulator, client and polling helpers shared by the tests.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::account::{Account, DcsApiVersion};
use hwcloud_backup_operator::cloud::allow::AllowedHosts;
use hwcloud_backup_operator::cloud::client::{CloudClient, CloudClients};
use hwcloud_backup_operator::cloud::transport::TransportConfig;
use hwcloud_backup_operator::cloud::types::{OpState, OpView};
use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};

pub const OP_TIME: Duration = Duration::from_millis(300);

pub async fn sim() -> SimHandle {
    Simulator::start(SimConfig {
        backup_duration: OP_TIME,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

pub fn cfg() -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(5),
        max_attempts: 4,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(200),
        rate_per_second: 500,
        burst: 500,
        max_rate_wait: Duration::from_millis(200),
        allowed_hosts: AllowedHosts::new(vec!["127.0.0.1".parse().unwrap()]),
    }
}

pub fn client(account: &Account) -> Arc<CloudClient> {
    CloudClients::new(cfg(), None).client(account)
}

pub fn v1(account: Account) -> Account {
    Account {
        dcs_api_version: DcsApiVersion::V1,
        ..account
    }
}

/// Polls `read` until the view it returns is no longer in progress (5 s at most).
pub async fn settle<F, Fut>(mut read: F) -> OpView
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

//! Leader election on a coordination.k8s.io Lease (kube-lease-manager), published as a `watch::Receiver<bool>`.
//!
//! Only the leader reconciles, so two replicas never create the same cloud backup. The election runs in a
//! background task that renews the lease; [`Leadership::shutdown`] stops it and releases the lease so that a
//! standby takes over at once instead of after the lease expires.
//!
//! kube's client has no read timeout, and kube-lease-manager sets none: a renewal the API server never
//! answers would leave this replica believing it leads while the lease expires and a standby takes it.
//! Every lease request therefore runs under [`LeaseTiming::request_timeout`] (a renewal that hangs fails,
//! and the replica steps down, before the lease can expire), and the send time of each successful
//! renewal feeds the [`Fence`] that the controllers check before every create.
use std::time::{Duration, Instant};

use http::{Method, Request};
use kube::Client;
use kube::client::Body;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError, LeaseParams};
use tokio::{
    sync::{oneshot, watch},
    task::JoinHandle,
};

use crate::fence::{Fence, Renewals};

/// How long a lease stays valid without renewal, in seconds: the longest a crashed leader blocks a standby.
pub const LEASE_DURATION_SECS: u64 = 15;
/// How long before expiry the holder renews, in seconds; also the clock skew the election tolerates.
pub const LEASE_GRACE_SECS: u64 = 5;
/// Upper bound for releasing the lease on shutdown, so that a dead API server cannot hang the exit.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause before retrying after the lease API failed.
const RETRY_MIN: Duration = Duration::from_secs(1);

/// The lease's clock, in whole seconds as the Lease object keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// How long the lease stays valid without renewal.
    pub duration_secs: u64,
    /// How long before expiry the holder renews.
    pub grace_secs: u64,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        Self {
            duration_secs: LEASE_DURATION_SECS,
            grace_secs: LEASE_GRACE_SECS,
        }
    }
}

impl LeaseTiming {
    /// The longest wait for one lease request. A renewal starts `grace` before expiry; failing after
    /// 2/5 of it leaves the rest of the grace for clock skew before a standby may take over.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.grace_secs) * 2 / 5
    }

    /// How long after a successful renewal was sent this replica may still start creates: the lease
    /// duration less one request timeout. Renewals come every `duration - grace`, so a renewal
    /// answered within the timeout always lands inside the window.
    pub fn fence_window(&self) -> Duration {
        Duration::from_secs(self.duration_secs).saturating_sub(self.request_timeout())
    }

    fn retry_max(&self) -> Duration {
        Duration::from_secs(self.grace_secs).max(RETRY_MIN)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("leader lease {namespace}/{name} is not usable: {source}")]
    Lease {
        namespace: String,
        name: String,
        #[source]
        source: LeaseManagerError,
    },
    #[error("leader election task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    #[error("releasing the leader lease timed out")]
    ReleaseTimeout,
}

impl LeaderError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Lease { .. } => "LeaseError",
            Self::Task(_) => "LeaseTaskFailed",
            Self::ReleaseTimeout => "LeaseReleaseTimeout",
        }
    }
}

/// Where the lease lives and who we are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderConfig {
    pub lease_name: String,
    pub lease_namespace: String,
    pub identity: String,
    pub timing: LeaseTiming,
}

/// The holder identity: the pod name when known (so `kubectl get lease` names the pod), else a unique
/// generated one, since two replicas sharing an identity would both believe they lead.
pub fn identity(pod_name: Option<&str>) -> String {
    match pod_name.map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => format!("hwcloud-backup-operator-{}", uuid::Uuid::new_v4().simple()),
    }
}

/// A running election.
#[derive(Debug)]
pub struct Leadership {
    is_leader: watch::Receiver<bool>,
    renewals: Renewals,
    fence_window: Duration,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), LeaseManagerError>>,
}

impl Leadership {
    /// `true` while this replica holds the lease. Clone it freely.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.is_leader.clone()
    }

    /// The fence for the controllers: open while this replica leads and renewed the lease recently.
    pub fn fence(&self) -> Fence {
        Fence::lease(
            self.is_leader.clone(),
            self.renewals.clone(),
            self.fence_window,
        )
    }

    /// Stops renewing and releases the lease (bounded by a timeout). Receivers see `false` afterwards.
    pub async fn shutdown(self) -> Result<(), LeaderError> {
        // The task may already have ended; then there is nobody to tell.
        let _ = self.stop.send(());
        match tokio::time::timeout(RELEASE_TIMEOUT, self.task).await {
            Err(_) => Err(LeaderError::ReleaseTimeout),
            Ok(Err(join)) => Err(LeaderError::Task(join)),
            // The lease expires by itself; a failed release only delays the standby.
            Ok(Ok(Err(e))) => {
                tracing::warn!(error = %e, "releasing the leader lease failed");
                Ok(())
            }
            Ok(Ok(Ok(()))) => Ok(()),
        }
    }
}

/// Creates the Lease if missing and starts competing for it in a background task.
pub async fn start(client: Client, cfg: &LeaderConfig) -> Result<Leadership, LeaderError> {
    let renewals = Renewals::default();
    let client = lease_client(client, cfg, renewals.clone());
    let manager = build(&client, cfg).await?;
    let (tx, rx) = watch::channel(false);
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(elect(client, cfg.clone(), manager, tx, stopped));
    Ok(Leadership {
        is_leader: rx,
        renewals,
        fence_window: cfg.timing.fence_window(),
        stop,
        task,
    })
}

/// The lease manager's client: every request bounded by the request timeout, and the send time of
/// every successful write of our Lease recorded in `renewals`. Whether a write renewed *our* hold
/// is for the election to say; the fence also requires that it reports us leading.
fn lease_client(client: Client, cfg: &LeaderConfig, renewals: Renewals) -> Client {
    let timeout = cfg.timing.request_timeout();
    let lease_path = format!(
        "/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}",
        cfg.lease_namespace, cfg.lease_name
    );
    let namespace = client.default_namespace().to_string();
    let svc = tower::service_fn(move |req: Request<Body>| {
        let (client, renewals) = (client.clone(), renewals.clone());
        let renewal = req.method() == Method::PATCH && req.uri().path() == lease_path;
        async move {
            let sent = Instant::now();
            let resp = tokio::time::timeout(timeout, client.send(req))
                .await
                .map_err(|_| LeaseRequestTimeout(timeout))??;
            if renewal && resp.status().is_success() {
                renewals.record(sent);
            }
            Ok::<_, tower::BoxError>(resp)
        }
    });
    Client::new(svc, namespace)
}

/// A lease request that got no answer in time.
#[derive(Debug, thiserror::Error)]
#[error("the API server did not answer a lease request within {0:?}")]
struct LeaseRequestTimeout(Duration);

async fn build(client: &Client, cfg: &LeaderConfig) -> Result<LeaseManager, LeaderError> {
    LeaseManagerBuilder::new(client.clone(), &cfg.lease_name)
        .with_namespace(&cfg.lease_namespace)
        .with_parameters(LeaseParams::new(
            &cfg.identity,
            cfg.timing.duration_secs,
            cfg.timing.grace_secs,
        ))
        .build()
        .await
        .map_err(|source| LeaderError::Lease {
            namespace: cfg.lease_namespace.clone(),
            name: cfg.lease_name.clone(),
            source,
        })
}

async fn elect(
    client: Client,
    cfg: LeaderConfig,
    mut manager: LeaseManager,
    tx: watch::Sender<bool>,
    mut stopped: oneshot::Receiver<()>,
) -> Result<(), LeaseManagerError> {
    let mut retry = RETRY_MIN;
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            changed = manager.changed() => match changed {
                Ok(leading) => {
                    retry = RETRY_MIN;
                    if leading != *tx.borrow() {
                        tracing::info!(identity = %cfg.identity, leading, "leadership changed");
                    }
                    tx.send_replace(leading);
                }
                Err(e) => {
                    // The lease may expire while the API server is unreachable, and another replica may take
                    // it: step down now rather than risk two leaders. A fresh manager starts as "not leader",
                    // so the first successful check reports `true` again if the lease is still ours.
                    tracing::warn!(error = %e, retry_in = ?retry, "leader lease check failed; stepping down until it succeeds");
                    tx.send_replace(false);
                    tokio::select! {
                        biased;
                        _ = &mut stopped => return Ok(()),
                        _ = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(cfg.timing.retry_max());
                    match build(&client, &cfg).await {
                        Ok(fresh) => manager = fresh,
                        Err(e) => tracing::warn!(error = %e, "recreating the lease manager failed"),
                    }
                }
            },
        }
    }
    tx.send_replace(false);
    manager.release().await
}

#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;

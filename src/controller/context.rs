//! Shared state of all controllers: clients, recorder, schedule, claims and settings.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::{Recorder, Reporter};

use crate::cloud::account::Account;
use crate::cloud::client::CloudClients;
use crate::cloud::dcs::{DcsBackupRecord, DcsRestoreRecord};
use crate::controller::account_slots::AccountSlots;
use crate::controller::backup_schedule::clock::Clock;
use crate::controller::gate::Gate;
use crate::controller::instance_lock::InstanceLocks;
use crate::controller::journal::Journal;
use crate::controller::list_cache::ListCache;
use crate::controller::recent::RecentStatus;
use crate::controller::schedule::{PollPolicy, Scheduler};
use crate::fence::Fence;
use crate::metrics::Metrics;

/// The name under which status is written (server-side apply) and events are reported.
pub const FIELD_MANAGER: &str = "hwcloud-backup-operator";
/// Finalizer that deletes the cloud backup of a `deletionPolicy: Delete` resource.
pub const FINALIZER: &str = "backup.hwcloud.dev/cleanup";

/// Controller settings, parsed once from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Secret used when a resource names none.
    pub default_credentials_secret: String,
    pub poll: PollPolicy,
    /// A create marker older than this, with no object found by it, proves the create never happened.
    pub adopt_window: Duration,
    /// How long a new job or record may be missing from the cloud's answers.
    pub visibility_grace: Duration,
    /// Wait after throttling, busy instances and transient errors.
    pub retry_after: Duration,
    /// Wait after credential problems.
    pub auth_backoff: Duration,
    /// How long after its `timeout` a running operation whose polls keep failing is still polled
    /// before it fails with reason `Timeout`.
    pub timeout_grace: Duration,
    /// How long the cloud's answers must go on not listing a running operation (in at least
    /// [`NOT_LISTED_ANSWERS`](crate::controller::state::NOT_LISTED_ANSWERS) answers in a row)
    /// before it counts as gone.
    pub not_listed_for: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_credentials_secret: "hwcloud-credentials".into(),
            poll: PollPolicy::default(),
            adopt_window: Duration::from_secs(60),
            visibility_grace: Duration::from_secs(120),
            retry_after: Duration::from_secs(15),
            auth_backoff: Duration::from_secs(60),
            timeout_grace: Duration::from_secs(600),
            not_listed_for: Duration::from_secs(60),
        }
    }
}

/// Key of a coalesced DCS list: (account fingerprint, instance id).
pub type ListKey = (u64, String);

/// Everything a reconcile needs.
pub struct Context {
    pub client: kube::Client,
    pub recorder: Recorder,
    pub clouds: CloudClients,
    pub scheduler: Scheduler,
    /// When each resource may next call the cloud (every requeue, polls and retries alike), so
    /// that watch events cannot shorten a wait; and its transient failures in a row.
    pub gate: Gate,
    /// Reconciles talking to the cloud per account (a slow account cannot take every slot).
    pub accounts: AccountSlots,
    pub locks: InstanceLocks,
    pub dcs_backups: ListCache<ListKey, Vec<DcsBackupRecord>>,
    pub dcs_restores: ListCache<ListKey, Vec<DcsRestoreRecord>>,
    pub settings: Settings,
    /// Statuses this process wrote that the watch cache may not show yet.
    pub recent: RecentStatus,
    /// `run --simulate`: every resource talks to the embedded simulator with this account.
    pub simulated: Option<Account>,
    pub metrics: Arc<Metrics>,
    /// Checked before the create marker is written and before every create (leader election).
    pub fence: Fence,
    /// What the log was told where status cannot say it (failing cleanups).
    pub journal: Journal,
    /// The time `BackupSchedule`s run on (the system clock; tests run a faster one).
    pub schedule_clock: Clock,
}

impl Context {
    pub fn new(
        client: kube::Client,
        clouds: CloudClients,
        settings: Settings,
        metrics: Arc<Metrics>,
        reporter: Reporter,
    ) -> Self {
        // A claim must outlive the longest wait between two polls of its holder.
        let stale_after = settings.poll.max_interval * 3;
        // Polls of one instance within half an interval share one list call.
        let fresh_for = settings.poll.interval / 2;
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            clouds,
            scheduler: Scheduler::new(settings.poll),
            gate: Gate::default(),
            accounts: AccountSlots::default(),
            locks: InstanceLocks::new(stale_after),
            dcs_backups: ListCache::new(fresh_for),
            dcs_restores: ListCache::new(fresh_for),
            settings,
            recent: RecentStatus::default(),
            simulated: None,
            metrics,
            fence: Fence::open(),
            journal: Journal::default(),
            schedule_clock: Clock::System,
        }
    }

    /// Lets creates through only while `fence` passes (this replica leads and renewed its lease).
    pub fn with_fence(mut self, fence: Fence) -> Self {
        self.fence = fence;
        self
    }

    /// Points every resource at a simulator account (a Secret, when present, still chooses the DCS API version).
    pub fn simulated(mut self, account: Account) -> Self {
        self.simulated = Some(account);
        self
    }
}

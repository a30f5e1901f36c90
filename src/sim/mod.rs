//! The cloud simulator: IAM, DCS, DDS and TaurusDB backup and restore APIs served by axum on
//! 127.0.0.1, in memory.
//!
//! It follows the documented contract (reference/cloud-apis.md) and is written independently of the
//! client in `crate::cloud`, so the client is tested against the documents, not against itself. Only
//! the signer is shared: the simulator rebuilds the canonical request from what actually arrived.
//!
//! All services share one port and are told apart by a path prefix (`/iam`, `/dcs`, `/dds`,
//! `/taurus`). Operations progress with wall-clock time and are computed when read, so nothing ticks
//! in the background. Faults (errors, latency, dropped connections) can be switched on at runtime.
//!
//! Choices where the documents are silent (all documented here so tests can rely on them):
//! - The project id in a service path (or an `X-Project-Id` header) must equal `SimConfig::project_id`,
//!   else HTTP 401 `APIGW.0301` "... project id mismatch".
//! - Unknown routes answer 404 `APIGW.0101`.
//! - Invalid parameters answer 400 with `DCS.4000` (DCS) or `DBS.200001` (DDS, TaurusDB).
//! - Deleting a DCS backup that does not exist or is already `deleted` answers 400 `DCS.4031`
//!   (v1.0: `111400031`), as the real cloud was seen to do; v1.0 numeric codes are `1114` + the
//!   last digits of the v2 code (`DCS.4086` -> `111400086`).
//! - TaurusDB validates names and descriptions with the DDS rules and codes.
//! - Deleting a backup that is still being made answers the busy code (DCS `DCS.4096`, DDS
//!   `DBS.200019`); TaurusDB answers 400 `DBS.201208` as documented.
//! - Signature failures that count toward the AK lock: bad signature and a stale `X-Sdk-Date`.
//! - Dropped connections are logged as calls with status 0.
//! - A DDS deletion runs as a job of half the backup duration (backup listed `DISABLED`, then gone);
//!   a TaurusDB deletion is immediate. DCS records stay listed as `deleted`.
//! - DCS v2 lists answer 204 with no body when the instance has no records; v1.0 answers 200 with
//!   an empty list (its documents do not mention 204).
//! - A DCS restore needs a `succeed` backup of the same instance, else 400 `DCS.4087`.
//! - DDS and TaurusDB restores: see [`restore`] and [`job_list`]. A restore keeps its instance busy
//!   like a backup: a backup or a restore started meanwhile gets the busy code (DDS 403
//!   `DBS.200019`; TaurusDB 409 `DBS.201205` behind a backup, 409 `DBS.200019` behind a restore).
//! - History a test or benchmark puts in (`SimHandle::seed_dcs_history`, `seed_db_history`): the
//!   daily automatic backups of past days, listed like any other backup with `backup_type`/`type`
//!   `auto` (DDS `Auto`), finished, with the wall-clock times they ran at; DDS and TaurusDB ones
//!   have no job.

mod auth;
mod dbs;
mod dcs;
mod dcs_records;
mod dds;
mod faults;
mod iam;
mod job_list;
mod jobs;
mod reply;
mod restore;
mod seed;
pub use seed::SeedService;
mod server;
mod state;
mod taurus;
mod timeline;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cloud::account::{Account, CloudKind, Credentials, DcsApiVersion, EndpointOverrides};
use state::Shared;

/// Identity, timing and behaviour of one simulated cloud. `Debug` hides the secret key and password.
#[derive(Clone)]
pub struct SimConfig {
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
    /// The region name; also the only project name IAM knows.
    pub region: String,
    pub username: String,
    pub password: String,
    pub domain_name: String,
    /// How long a backup, restore or job takes (captured when the operation starts).
    pub backup_duration: Duration,
    /// A new DDS/TaurusDB job answers 404 this long, as the real job API lags behind creation.
    pub job_visibility_delay: Duration,
    /// DCS instances that refuse backup and restore (`DCS.4086`).
    pub single_node_instances: Vec<String>,
    /// Instances (any service) whose backups and restores end `failed` / `Failed` / `FAILED`.
    pub failing_instances: Vec<String>,
    /// How long the AK stays locked after five consecutive signature failures.
    pub ak_lock_duration: Duration,
    /// Lifetime of IAM tokens (24 h in the real cloud).
    pub token_ttl: Duration,
    /// Behave like Open Telekom Cloud where it differs from Huawei Cloud's documents: no TaurusDB
    /// in-place restore or restorable windows, no DDS job list (`/v3.1/{pid}/jobs`); they answer
    /// 404 `APIGW.0101`.
    pub otc: bool,
}

impl Default for SimConfig {
    /// Fixed test values: AK `SIMAK0000000000000001`, SK `sim-secret-key`, project
    /// `0a1b2c3d4e5f4a5b6c7d8e9f00112233`, region `eu-de`, user `sim-user` / `sim-password` in domain
    /// `sim-domain`, 2 s operations, no job delay, `single-node-dcs` is single-node and
    /// `failing-instance` fails every operation, 5 min AK lock, 24 h tokens.
    fn default() -> Self {
        Self {
            access_key: "SIMAK0000000000000001".into(),
            secret_key: "sim-secret-key".into(),
            project_id: "0a1b2c3d4e5f4a5b6c7d8e9f00112233".into(),
            region: "eu-de".into(),
            username: "sim-user".into(),
            password: "sim-password".into(),
            domain_name: "sim-domain".into(),
            backup_duration: Duration::from_secs(2),
            job_visibility_delay: Duration::ZERO,
            single_node_instances: vec!["single-node-dcs".into()],
            failing_instances: vec!["failing-instance".into()],
            ak_lock_duration: Duration::from_secs(300),
            token_ttl: Duration::from_secs(24 * 3600),
            otc: false,
        }
    }
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field(
                "access_key",
                &crate::cloud::account::redact_ak(&self.access_key),
            )
            .field("secret_key", &"<redacted>")
            .field("project_id", &self.project_id)
            .field("region", &self.region)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("domain_name", &self.domain_name)
            .field("backup_duration", &self.backup_duration)
            .field("job_visibility_delay", &self.job_visibility_delay)
            .field("single_node_instances", &self.single_node_instances)
            .field("failing_instances", &self.failing_instances)
            .field("ak_lock_duration", &self.ak_lock_duration)
            .field("token_ttl", &self.token_ttl)
            .field("otc", &self.otc)
            .finish()
    }
}

/// Faults injected into every call, decided per request before any state changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of calls (0..=1) answered 429 `APIGW.0308` or 500 `SYS.0500`, half each.
    pub error_rate: f64,
    /// The calls `error_rate` picks are answered in turn 429, 500 and 502 (a gateway's HTML error
    /// page, no JSON), instead of 429 or 500 by a coin toss.
    pub in_turn_with_bad_gateway: bool,
    /// Added before every answer (including dropped ones).
    pub latency: Duration,
    /// Share of calls (0..=1) whose connection is closed without any answer.
    pub drop_rate: f64,
}

/// A backup as the simulator sees it (any service), for test inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct SimBackup {
    /// `"dcs"`, `"dds"` or `"taurus"`. Deleted DDS/TaurusDB backups are no longer reported.
    pub service: &'static str,
    pub instance_id: String,
    pub backup_id: String,
    /// DDS/TaurusDB job that creates it; `None` for DCS.
    pub job_id: Option<String>,
    pub name: String,
    pub description_or_remark: String,
    /// The status string the list API currently reports.
    pub status: String,
    pub created_at: Instant,
    /// When the operation finished, once it has.
    pub completed_at: Option<Instant>,
}

/// A restore (DCS record, or DDS/TaurusDB restore job), for test inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRestore {
    /// `"dcs"`, `"dds"` or `"taurus"`.
    pub service: &'static str,
    /// The instance restored into.
    pub instance_id: String,
    /// The DCS restore record's id, or the DDS/TaurusDB restore job's id.
    pub restore_id: String,
    /// The backup restored; empty for a point-in-time restore.
    pub backup_id: String,
    /// The DCS remark; empty for DDS/TaurusDB (their restore calls take none).
    pub remark: String,
    pub status: String,
    pub created_at: Instant,
    pub completed_at: Option<Instant>,
    /// The instance whose data is restored (DCS: the instance itself).
    pub source_instance_id: String,
    /// A point-in-time restore's time (ms since the epoch).
    pub restore_time_ms: Option<i64>,
}

/// One request as received, for counting calls in tests and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCall {
    pub method: String,
    /// `"iam"`, `"dcs"`, `"dds"`, `"taurus"` or `"unknown"`.
    pub service: &'static str,
    /// `"token"`, `"list_projects"`, `"create_backup"`, `"list_backups"`, `"delete_backup"`,
    /// `"create_restore"`, `"list_restores"`, `"get_job"`, `"list_jobs"`, `"restore_windows"` or
    /// `"unknown"`.
    pub operation: &'static str,
    /// HTTP status answered; 0 when the connection was dropped.
    pub status: u16,
}

/// Entry points: start on an ephemeral port, or serve on a listener the caller bound.
pub struct Simulator;

impl Simulator {
    /// Binds `127.0.0.1:0` and serves on a spawned task until every handle is dropped.
    pub async fn start(cfg: SimConfig) -> std::io::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(cfg));
        let task = tokio::spawn(server::serve(shared.clone(), listener));
        Ok(SimHandle {
            addr,
            shared,
            _server: Arc::new(AbortOnDrop(task.abort_handle())),
        })
    }

    /// Serves on `listener` until the future is dropped (used by the `simulate` command).
    pub async fn serve(cfg: SimConfig, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        server::serve(Arc::new(Shared::new(cfg)), listener).await
    }
}

/// Stops the accept loop when the last handle goes away.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running simulator: its address, its state for inspection, and runtime knobs.
#[derive(Clone)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _server: Arc<AbortOnDrop>,
}

impl SimHandle {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL of one service: `svc` is `"iam"`, `"dcs"`, `"dds"` or `"taurus"`.
    pub fn endpoint(&self, svc: &str) -> String {
        format!("{}/{svc}", self.base_url())
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    pub fn set_faults(&self, f: Faults) {
        self.shared.lock().faults = f;
    }

    /// Duration of operations started from now on (running ones keep theirs).
    pub fn set_backup_duration(&self, d: Duration) {
        self.shared.lock().backup_duration = d;
    }

    /// The restorable windows of `instance_id` from now on, as (start, end) pairs; without this,
    /// an instance is restorable to any time in the last 7 days.
    pub fn set_restore_windows(
        &self,
        instance_id: &str,
        windows: Vec<(jiff::Timestamp, jiff::Timestamp)>,
    ) {
        let ms = windows
            .into_iter()
            .map(|(a, b)| (a.as_millisecond(), b.as_millisecond()))
            .collect();
        self.shared
            .lock()
            .restore_windows
            .insert(instance_id.to_string(), ms);
    }

    pub fn backups(&self) -> Vec<SimBackup> {
        self.shared.lock().sim_backups(Instant::now())
    }

    pub fn restores(&self) -> Vec<SimRestore> {
        self.shared.lock().sim_restores(Instant::now())
    }

    pub fn calls(&self) -> Vec<SimCall> {
        self.shared.lock().calls.clone()
    }

    pub fn reset_calls(&self) {
        self.shared.lock().calls.clear();
    }

    fn endpoints(&self) -> EndpointOverrides {
        EndpointOverrides {
            iam: Some(self.endpoint("iam")),
            dcs: Some(self.endpoint("dcs")),
            dds: Some(self.endpoint("dds")),
            taurus: Some(self.endpoint("taurus")),
        }
    }

    /// An AK/SK account pointing at this simulator; no project id, so clients look it up in IAM.
    pub fn account(&self) -> Account {
        let cfg = self.config();
        Account {
            credentials: Credentials::AkSk {
                access_key: cfg.access_key.clone(),
                secret_key: cfg.secret_key.clone(),
                security_token: None,
            },
            region: cfg.region.clone(),
            project_id: None,
            cloud: CloudKind::HuaweiCloud,
            endpoints: self.endpoints(),
            dcs_api_version: DcsApiVersion::V2,
        }
    }

    /// A password (IAM token) account pointing at this simulator; no project id either.
    pub fn password_account(&self) -> Account {
        let cfg = self.config();
        Account {
            credentials: Credentials::Password {
                username: cfg.username.clone(),
                password: cfg.password.clone(),
                domain_name: cfg.domain_name.clone(),
            },
            ..self.account()
        }
    }
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

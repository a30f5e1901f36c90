//! Command line and environment configuration, parsed once in `main` (clap derive, `HWBK_*` env fallbacks).
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum, builder::BoolishValueParser};

use crate::cloud::allow::{HostPattern, default_patterns};
use crate::shard::WatchSelector;

/// Default name of the Secret a resource uses when it names none.
pub const DEFAULT_CREDENTIALS_SECRET: &str = "hwcloud-credentials";
/// Default name of the leader election Lease.
pub const DEFAULT_LEASE_NAME: &str = "hwcloud-backup-operator";
/// Namespace of the Lease when neither the flag nor `POD_NAMESPACE` is set (running outside a cluster).
pub const FALLBACK_LEASE_NAMESPACE: &str = "default";

#[derive(Debug, Parser)]
#[command(
    name = "hwcloud-backup-operator",
    version,
    about = "Backs up and restores Huawei Cloud / OTC DCS, DDS and TaurusDB from Kubernetes resources"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the operator (controllers, metrics and health endpoints).
    Run(RunArgs),
    /// Write the CustomResourceDefinitions as YAML files.
    Crdgen(CrdgenArgs),
    /// Serve the in-memory cloud simulator (IAM, DCS, DDS, TaurusDB) for local tries and tests.
    Simulate(SimulateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Namespaces to watch, comma separated; empty watches all namespaces.
    #[arg(long, env = "HWBK_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,

    /// Secret name used when a resource has no `credentialsSecretRef`.
    #[arg(long, env = "HWBK_DEFAULT_CREDENTIALS_SECRET", default_value = DEFAULT_CREDENTIALS_SECRET)]
    pub default_credentials_secret: String,

    /// First poll delay while a cloud operation runs (e.g. 10s).
    #[arg(long, env = "HWBK_POLL_INTERVAL", default_value = "10s", value_parser = parse_positive_duration)]
    pub poll_interval: Duration,

    /// Upper bound of the poll backoff (e.g. 5m).
    #[arg(long, env = "HWBK_POLL_MAX_INTERVAL", default_value = "5m", value_parser = parse_positive_duration)]
    pub poll_max_interval: Duration,

    /// Reconciles running at once, per controller.
    #[arg(long, env = "HWBK_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// Listen address of /metrics, /healthz and /readyz.
    #[arg(long, env = "HWBK_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// Log line format.
    #[arg(long, env = "HWBK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter (tracing EnvFilter syntax, e.g. `info,kube=warn`).
    #[arg(long, env = "HWBK_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Elect a leader through a Lease so that only one replica reconciles.
    #[arg(long, env = "HWBK_LEADER_ELECTION", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub leader_election: bool,

    /// Name of the leader election Lease; defaults to `hwcloud-backup-operator`, with a
    /// `--watch-label-selector` to `hwcloud-backup-operator-<hash of the selector>`.
    #[arg(long = "lease-name", env = "HWBK_LEASE_NAME")]
    pub lease_name_flag: Option<String>,

    /// Watch only the resources whose labels match this selector (sharding), e.g.
    /// `backup.hwcloud.dev/shard=a` or `!backup.hwcloud.dev/shard`; unset watches every resource.
    #[arg(long, env = "HWBK_WATCH_LABEL_SELECTOR", value_parser = WatchSelector::parse)]
    pub watch_label_selector: Option<WatchSelector>,

    /// Namespace of the Lease; defaults to the pod's namespace, then to `default`.
    #[arg(long, env = "HWBK_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Namespace the operator runs in (downward API).
    #[arg(long, env = "POD_NAMESPACE")]
    pub pod_namespace: Option<String>,

    /// Pod name (downward API): the leader identity and the event reporter instance.
    #[arg(long, env = "POD_NAME")]
    pub pod_name: Option<String>,

    /// Talk to an embedded cloud simulator instead of the real cloud (for trying the operator out).
    #[arg(long, env = "HWBK_SIMULATE", action = ArgAction::SetTrue)]
    pub simulate: bool,

    /// How long a simulated backup or restore takes, in seconds.
    #[arg(long, env = "HWBK_SIM_BACKUP_SECONDS", default_value_t = 20)]
    pub sim_backup_seconds: u64,

    /// Timeout of one cloud HTTP request.
    #[arg(long, env = "HWBK_CLOUD_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_positive_duration)]
    pub cloud_request_timeout: Duration,

    /// Cloud requests per second, per account.
    #[arg(long, env = "HWBK_CLOUD_RATE_PER_SECOND", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub cloud_rate_per_second: u32,

    /// Hosts cloud requests may go to, comma separated: `*.domain` (any host below it), `host`
    /// or `host:port`. Plain http only to loopback hosts listed here; `--simulate` adds its own.
    #[arg(long, env = "HWBK_ALLOWED_ENDPOINT_HOSTS", value_delimiter = ',',
          default_values_t = default_patterns())]
    pub allowed_endpoint_hosts: Vec<HostPattern>,
}

impl RunArgs {
    /// The leader election Lease: `--lease-name` when given; otherwise the default name, and with a
    /// selector that name suffixed by a hash of the selector, so that every shard elects its own leader.
    pub fn lease_name(&self) -> String {
        match (&self.lease_name_flag, &self.watch_label_selector) {
            (Some(name), _) => name.clone(),
            (None, Some(selector)) => selector.lease_name(DEFAULT_LEASE_NAME),
            (None, None) => DEFAULT_LEASE_NAME.to_string(),
        }
    }

    /// The Lease namespace: the explicit flag, else the pod's namespace, else `default`.
    pub fn lease_namespace(&self) -> &str {
        self.lease_namespace
            .as_deref()
            .or(self.pod_namespace.as_deref())
            .filter(|ns| !ns.is_empty())
            .unwrap_or(FALLBACK_LEASE_NAMESPACE)
    }

    /// Namespaces to watch, without blanks; empty means all namespaces.
    pub fn watched_namespaces(&self) -> Vec<&str> {
        self.namespaces
            .iter()
            .map(|ns| ns.trim())
            .filter(|ns| !ns.is_empty())
            .collect()
    }
}

#[derive(Debug, Clone, Args)]
pub struct CrdgenArgs {
    /// Directory the CRD YAML files are written to (created if missing).
    #[arg(long, env = "HWBK_CRD_OUT_DIR", default_value = "crds")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Listen address of the simulator; keep it on loopback.
    #[arg(long, env = "HWBK_SIM_LISTEN", default_value = "127.0.0.1:4567")]
    pub listen: SocketAddr,
    /// Access key the simulator accepts (default: the simulator's test value).
    #[arg(long, env = "HWBK_SIM_ACCESS_KEY")]
    pub access_key: Option<String>,
    /// Secret key the simulator accepts.
    #[arg(long, env = "HWBK_SIM_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Project id the simulator serves.
    #[arg(long, env = "HWBK_SIM_PROJECT_ID")]
    pub project_id: Option<String>,
    /// IAM user name the simulator accepts.
    #[arg(long, env = "HWBK_SIM_USERNAME")]
    pub username: Option<String>,
    /// IAM password the simulator accepts.
    #[arg(long, env = "HWBK_SIM_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// IAM domain (account) name the simulator accepts.
    #[arg(long, env = "HWBK_SIM_DOMAIN_NAME")]
    pub domain_name: Option<String>,
    /// Region name the simulator serves.
    #[arg(long, env = "HWBK_SIM_REGION", default_value = "sim-region-1")]
    pub region: String,
    /// How long a simulated backup, restore or job takes, in seconds.
    #[arg(long, env = "HWBK_SIM_BACKUP_SECONDS", default_value_t = 20)]
    pub backup_seconds: u64,
    /// Instance id that behaves as a single-node DCS instance (rejects backups); repeatable.
    #[arg(
        long = "single-node-instance",
        env = "HWBK_SIM_SINGLE_NODE_INSTANCES",
        value_delimiter = ','
    )]
    pub single_node_instances: Vec<String>,
}

/// Parses a duration such as `10s`, `5m`, `1h30m`, `500ms` or `1.5h` (also ISO 8601 `PT1H`); never negative.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let signed: jiff::SignedDuration = input
        .trim()
        .parse()
        .map_err(|e| format!("invalid duration {input:?} (expected e.g. 10s, 5m, 1h30m): {e}"))?;
    Duration::try_from(signed)
        .map_err(|_| format!("invalid duration {input:?}: must not be negative"))
}

/// Like [`parse_duration`], and rejects zero (a zero poll interval or timeout is always a mistake).
pub fn parse_positive_duration(input: &str) -> Result<Duration, String> {
    match parse_duration(input)? {
        d if d.is_zero() => Err(format!(
            "invalid duration {input:?}: must be greater than zero"
        )),
        d => Ok(d),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

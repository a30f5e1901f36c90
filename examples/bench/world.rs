//! The benchmark's world: simulator, in-memory API server and operator context, with every timing
//! setting scaled from one simulated backup duration so that runs take seconds, not hours.

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::controller::context::Settings;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::sim::{Faults, SeedService, SimConfig};
use serde_json::{Value, json};

use crate::harness::{Harness, SECRET};

/// Secret with the simulator's IAM user (password login, so IAM token calls show up in the counts).
pub const PASSWORD_SECRET: &str = "hwcloud-password";

/// The kinds the cloud-call scenarios create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dcs,
    Dds,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dcs => "DcsBackup",
            Kind::Dds => "DdsBackup",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Dcs => "dcsbackups",
            Kind::Dds => "ddsbackups",
        }
    }

    /// The simulator's service label for this kind's calls.
    pub fn service(self) -> &'static str {
        match self {
            Kind::Dcs => "dcs",
            Kind::Dds => "dds",
        }
    }

    /// Instance `i` of this kind's service.
    pub fn instance(self, i: usize) -> String {
        match self {
            Kind::Dcs => format!("redis-{i:04}"),
            Kind::Dds => format!("mongo-{i:04}"),
        }
    }

    /// DCS resources use the default AK/SK Secret, DDS ones the password Secret.
    pub fn spec(self, instance: &str) -> Value {
        match self {
            Kind::Dcs => json!({"instanceId": instance, "remark": "bench"}),
            Kind::Dds => json!({
                "instanceId": instance,
                "description": "bench",
                "credentialsSecretRef": {"name": PASSWORD_SECRET},
            }),
        }
    }
}

/// Every timing knob, derived from the simulated backup duration `backup`.
///
/// The poll interval is `backup / 8` (250 ms for 2 s) and the cap `2.5 × backup` (5 s); the other
/// settings keep the production defaults' ratio to the interval (defaults: interval 10 s, retry 15 s,
/// adopt window 60 s, visibility grace 120 s, auth backoff 60 s), and so does the simulator's
/// answer latency (`interval / 40`: 250 ms of cloud latency against a 10 s interval).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub backup: Duration,
}

impl Timing {
    pub fn interval(&self) -> Duration {
        self.backup / 8
    }

    pub fn cap(&self) -> Duration {
        self.backup * 5 / 2
    }

    pub fn settings(&self) -> Settings {
        let i = self.interval();
        Settings {
            default_credentials_secret: SECRET.into(),
            poll: PollPolicy::scaled(i, self.cap()),
            adopt_window: i * 6,
            visibility_grace: i * 12,
            retry_after: i * 3 / 2,
            auth_backoff: i * 6,
            timeout_grace: i * 12,
            not_listed_for: i * 6,
        }
    }

    pub fn latency(&self) -> Duration {
        self.interval() / 40
    }

    pub fn sim(&self) -> SimConfig {
        SimConfig {
            backup_duration: self.backup,
            ..SimConfig::default()
        }
    }
}

/// A fresh world: simulator, API server (reads counted, not logged) and context, both Secrets
/// stored; `fixed`: a schedule that polls every interval, whatever it learned.
pub async fn world(t: Timing, fixed: bool) -> Arc<Harness> {
    let mut settings = t.settings();
    if fixed {
        let i = settings.poll.interval;
        settings.poll.min_interval = i;
        settings.poll.max_interval = i;
    }
    let h = Harness::with(t.sim(), settings).await;
    let mut password = h.secret_data();
    let cfg = h.sim.config().clone();
    if let Some(m) = password.as_object_mut() {
        m.remove("accessKey");
        m.remove("secretKey");
        m.insert("username".into(), json!(cfg.username));
        m.insert("password".into(), json!(cfg.password));
        m.insert("domainName".into(), json!(cfg.domain_name));
    }
    h.put_secret(PASSWORD_SECRET, password);
    h.sim.set_faults(Faults {
        latency: t.latency(),
        ..Faults::default()
    });
    h.api.log_reads(false);
    Arc::new(h)
}

/// The cloud's history of a DCS and a DDS instance: a week of daily automatic backups, each as
/// long as the backups the benchmark makes.
pub fn seed_history(h: &Harness, t: Timing, dcs: &str, dds: &str) {
    h.sim.seed_dcs_history(dcs, 7, t.backup);
    h.sim.seed_db_history(SeedService::Dds, dds, 7, t.backup);
}

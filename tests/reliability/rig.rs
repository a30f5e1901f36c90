//! Shared rig of the reliability tests: the six kinds behind one enum, restarts (a fresh
//! `Context` over the same API server), a runtime-like driver per resource, and cloud inspection
//! by the resource marker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::transport::{CallObserver, TransportConfig};
use hwcloud_backup_operator::controller::context::{Context, Settings};
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::error::Error;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::crd::{
    DcsBackup, DcsRestore, DdsBackup, DdsRestore, OperationStatus, Phase, TaurusDbBackup,
    TaurusDbRestore,
};
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::sim::{SimBackup, SimConfig, SimHandle, SimRestore};
use kube::runtime::events::Reporter;
use serde_json::{Value, json};

use crate::fake_api::{FakeApi, object_path};
use crate::harness::{API_VERSION, Harness, NS, SECRET, fast_transport};

/// The six kinds, so mixed populations can be driven by one loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    DcsBackup,
    DcsRestore,
    Dds,
    Taurus,
    DdsRestore,
    TaurusRestore,
}

impl Kind {
    pub fn kind(self) -> &'static str {
        match self {
            Kind::DcsBackup => "DcsBackup",
            Kind::DcsRestore => "DcsRestore",
            Kind::Dds => "DdsBackup",
            Kind::Taurus => "TaurusDbBackup",
            Kind::DdsRestore => "DdsRestore",
            Kind::TaurusRestore => "TaurusDbRestore",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::DcsBackup => "dcsbackups",
            Kind::DcsRestore => "dcsrestores",
            Kind::Dds => "ddsbackups",
            Kind::Taurus => "taurusdbbackups",
            Kind::DdsRestore => "ddsrestores",
            Kind::TaurusRestore => "taurusdbrestores",
        }
    }

    /// The simulator's service name for this kind's cloud objects.
    pub fn service(self) -> &'static str {
        match self {
            Kind::DcsBackup | Kind::DcsRestore => "dcs",
            Kind::Dds | Kind::DdsRestore => "dds",
            Kind::Taurus | Kind::TaurusRestore => "taurus",
        }
    }

    /// One reconcile of the object as stored in `api` at `path` (as the runtime hands it over).
    pub async fn reconcile(self, ctx: &Context, obj: Value) -> Result<Option<Duration>, Error> {
        fn de<K: serde::de::DeserializeOwned>(v: Value) -> K {
            serde_json::from_value(v).expect("stored object deserialises")
        }
        match self {
            Kind::DcsBackup => reconcile_once(&de::<DcsBackup>(obj), ctx).await,
            Kind::DcsRestore => reconcile_once(&de::<DcsRestore>(obj), ctx).await,
            Kind::Dds => reconcile_once(&de::<DdsBackup>(obj), ctx).await,
            Kind::Taurus => reconcile_once(&de::<TaurusDbBackup>(obj), ctx).await,
            Kind::DdsRestore => reconcile_once(&de::<DdsRestore>(obj), ctx).await,
            Kind::TaurusRestore => reconcile_once(&de::<TaurusDbRestore>(obj), ctx).await,
        }
    }

    /// The id that identifies this kind's cloud object in status.
    pub fn id_of(self, st: &OperationStatus) -> Option<String> {
        match self {
            Kind::DcsRestore => st.restore_id.clone(),
            Kind::DdsRestore | Kind::TaurusRestore => st.job_id.clone(),
            _ => st.backup_id.clone(),
        }
    }
}

/// Settings for the reliability tests: fast polls, a short adoption window.
pub fn settings() -> Settings {
    Settings {
        default_credentials_secret: SECRET.into(),
        poll: PollPolicy::scaled(Duration::from_millis(100), Duration::from_secs(1)),
        adopt_window: Duration::from_millis(150),
        visibility_grace: Duration::from_secs(5),
        retry_after: Duration::from_millis(100),
        auth_backoff: Duration::from_millis(200),
        timeout_grace: Duration::from_secs(1),
        not_listed_for: Duration::from_millis(600),
    }
}

/// A new operator process over the same API server: no claims, no caches, no learned schedule.
pub fn restart(api: &FakeApi, settings: Settings, metrics: Option<Arc<Metrics>>) -> Arc<Context> {
    process(api, settings, fast_transport(), metrics)
}

/// [`restart`] with its own cloud transport settings (timeouts).
pub fn process(
    api: &FakeApi,
    settings: Settings,
    transport: TransportConfig,
    metrics: Option<Arc<Metrics>>,
) -> Arc<Context> {
    let metrics = metrics.unwrap_or_else(|| Arc::new(Metrics::new()));
    let observer = Some(metrics.clone() as Arc<dyn CallObserver>);
    let reporter = Reporter {
        controller: "hwcloud-backup-operator".into(),
        instance: Some("restarted".into()),
    };
    Arc::new(Context::new(
        api.client(),
        CloudClients::new(transport, observer),
        settings,
        metrics,
        reporter,
    ))
}

/// A harness whose simulated operations take 100 ms, with [`settings`].
pub async fn fast_harness() -> Harness {
    let cfg = SimConfig {
        backup_duration: Duration::from_millis(100),
        ..SimConfig::default()
    };
    Harness::with(cfg, settings()).await
}

/// A resource of `kind` on `instance` with a valid spec; a DCS or DDS restore gets a finished
/// backup of the instance to restore (made directly in the cloud), a TaurusDB restore a point in
/// time an hour ago. Returns its path.
pub async fn resource(h: &Harness, kind: Kind, name: &str, instance: &str) -> String {
    let spec = match kind {
        Kind::DcsBackup => json!({"instanceId": instance, "remark": "reliability"}),
        Kind::Dds | Kind::Taurus => json!({"instanceId": instance, "description": "reliability"}),
        Kind::DcsRestore => {
            let clouds = CloudClients::new(fast_transport(), None);
            let backup = clouds
                .client(&h.sim.account())
                .dcs()
                .create_backup(instance, "base", None)
                .await
                .expect("base backup starts");
            tokio::time::sleep(h.sim.config().backup_duration + Duration::from_millis(50)).await;
            json!({"instanceId": instance, "backupId": backup})
        }
        Kind::DdsRestore => {
            let clouds = CloudClients::new(fast_transport(), None);
            let backup = clouds
                .client(&h.sim.account())
                .dds()
                .create_backup(instance, &format!("base-{name}"), "")
                .await
                .expect("base backup starts");
            tokio::time::sleep(h.sim.config().backup_duration + Duration::from_millis(50)).await;
            json!({"instanceId": instance, "backupId": backup.backup_id})
        }
        Kind::TaurusRestore => {
            let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
            json!({"instanceId": instance, "restoreTime": at.to_string()})
        }
    };
    create(&h.api, kind, name, spec)
}

/// Stores a resource of `kind` named `name` in `NS`; returns its path.
pub fn create(api: &FakeApi, kind: Kind, name: &str, spec: Value) -> String {
    let path = object_path(API_VERSION, kind.plural(), NS, name);
    api.put(
        &path,
        json!({"apiVersion": API_VERSION, "kind": kind.kind(), "metadata": {"name": name, "namespace": NS}, "spec": spec}),
    );
    path
}

pub fn status(api: &FakeApi, path: &str) -> OperationStatus {
    api.get(path)
        .and_then(|o| serde_json::from_value(o["status"].clone()).ok())
        .unwrap_or_default()
}

/// The marker the operator puts into cloud objects of the resource at `path`.
pub fn marker(api: &FakeApi, path: &str) -> String {
    let obj = api.get(path).expect("object exists");
    let uid = obj["metadata"]["uid"].as_str().expect("uid");
    format!("k8s:{}", uid.replace('-', ""))
}

/// Reconciles like the controller runtime (requeues honoured, errors retried after `retry`) until
/// the resource is terminal; `Err` with the last status if `budget` runs out first.
pub async fn run_to_terminal(
    api: &FakeApi,
    ctx: &Context,
    kind: Kind,
    path: &str,
    budget: Duration,
) -> Result<usize, String> {
    let start = Instant::now();
    let retry = ctx.settings.retry_after;
    for n in 1.. {
        let obj = api.get(path).ok_or_else(|| format!("{path} vanished"))?;
        let next = match kind.reconcile(ctx, obj).await {
            Ok(next) => next.unwrap_or(retry),
            Err(_) => retry,
        };
        let st = status(api, path);
        if st.is_terminal() {
            return Ok(n);
        }
        if start.elapsed() > budget {
            return Err(format!("{path} not terminal after {n} reconciles: {st:?}"));
        }
        tokio::time::sleep(next.min(Duration::from_secs(1))).await;
    }
    unreachable!()
}

/// What the API server and the cloud saw, taken once so that checking hundreds of resources
/// does not copy the call log hundreds of times.
pub struct Snapshot {
    calls: Vec<crate::fake_api::Call>,
    backups: Vec<SimBackup>,
    restores: Vec<SimRestore>,
}

impl Snapshot {
    pub fn take(api: &FakeApi, sim: &SimHandle) -> Self {
        Self {
            calls: api.calls(),
            backups: sim.backups(),
            restores: sim.restores(),
        }
    }

    /// Every status the operator wrote for `path`, in order.
    pub fn status_history(&self, path: &str) -> Vec<OperationStatus> {
        let p = format!("{path}/status");
        self.calls
            .iter()
            .filter(|c| c.path == p)
            .filter_map(|c| serde_json::from_value(c.body["status"].clone()).ok())
            .collect()
    }

    /// Ids of the cloud objects (backups, or restores for `DcsRestore`) that carry `marker`.
    pub fn cloud_ids(&self, kind: Kind, marker: &str) -> Vec<String> {
        match kind {
            Kind::DdsRestore | Kind::TaurusRestore => {
                panic!("DDS/TaurusDB restores carry no marker: count them by instance")
            }
            Kind::DcsRestore => self
                .restores
                .iter()
                .filter(|r| r.remark.contains(marker))
                .map(|r| r.restore_id.clone())
                .collect(),
            _ => self
                .backups
                .iter()
                .filter(|b| b.service == kind.service() && b.description_or_remark.contains(marker))
                .map(|b| b.backup_id.clone())
                .collect(),
        }
    }
}

/// Ids of the cloud objects of `kind` that carry `marker`, as the cloud lists them now.
pub fn cloud_ids(sim: &SimHandle, kind: Kind, marker: &str) -> Vec<String> {
    Snapshot {
        calls: Vec::new(),
        backups: sim.backups(),
        restores: sim.restores(),
    }
    .cloud_ids(kind, marker)
}

/// Asserts the end state every scenario wants: Succeeded, exactly one cloud object carrying the
/// resource's marker, its id in status, and no status write ever naming another id or `Failed`.
pub fn assert_one_and_succeeded(api: &FakeApi, snap: &Snapshot, kind: Kind, path: &str) {
    let st = status(api, path);
    assert_eq!(st.phase, Some(Phase::Succeeded), "{path}: {st:?}");
    let ids = snap.cloud_ids(kind, &marker(api, path));
    assert_eq!(
        ids.len(),
        1,
        "{path}: cloud objects with its marker: {ids:?}"
    );
    assert_eq!(kind.id_of(&st).as_ref(), Some(&ids[0]), "{path}: {st:?}");
    for (i, s) in snap.status_history(path).iter().enumerate() {
        assert_ne!(
            s.phase,
            Some(Phase::Failed),
            "{path}: status write {i}: {s:?}"
        );
        if let Some(id) = kind.id_of(s) {
            assert_eq!(id, ids[0], "{path}: status write {i} names another id");
        }
    }
}

/// The DDS/TaurusDB restores the cloud made on `instance`: (job id, status).
pub fn restores_on(sim: &SimHandle, instance: &str) -> Vec<(String, String)> {
    sim.restores()
        .into_iter()
        .filter(|r| r.instance_id == instance && r.service != "dcs")
        .map(|r| (r.restore_id, r.status))
        .collect()
}

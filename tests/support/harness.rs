//! Test harness: the cloud simulator, the fake API server, and an operator context wired to both,
//! plus helpers to create resources and drive reconciles the way the controller runtime would.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use hwcloud_backup_operator::cloud::allow::AllowedHosts;
use hwcloud_backup_operator::cloud::client::CloudClients;
use hwcloud_backup_operator::cloud::transport::TransportConfig;
use hwcloud_backup_operator::controller::context::{Context, Settings};
use hwcloud_backup_operator::controller::driver::reconcile_once;
use hwcloud_backup_operator::controller::operation::Operation;
use hwcloud_backup_operator::controller::schedule::PollPolicy;
use hwcloud_backup_operator::crd::OperationStatus;
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};
use kube::runtime::events::Reporter;
use serde_json::{Value, json};

use super::fake_api::{FakeApi, object_path};

pub const NS: &str = "team-a";
pub const SECRET: &str = "hwcloud-credentials";
pub const API_VERSION: &str = "backup.hwcloud.dev/v1alpha1";

pub struct Harness {
    pub api: FakeApi,
    pub sim: SimHandle,
    pub ctx: Arc<Context>,
    pub metrics: Arc<Metrics>,
}

/// Settings scaled down so whole lifecycles take a second, not half an hour.
pub fn fast_settings() -> Settings {
    Settings {
        default_credentials_secret: SECRET.into(),
        poll: PollPolicy::scaled(Duration::from_millis(100), Duration::from_secs(2)),
        adopt_window: Duration::from_millis(300),
        visibility_grace: Duration::from_secs(5),
        retry_after: Duration::from_millis(100),
        auth_backoff: Duration::from_millis(300),
        timeout_grace: Duration::from_secs(1),
        not_listed_for: Duration::from_millis(600),
    }
}

pub fn fast_transport() -> TransportConfig {
    TransportConfig {
        request_timeout: Duration::from_secs(5),
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        rate_per_second: 0,
        // The simulator runs on loopback; loopback is allowed only when listed.
        allowed_hosts: AllowedHosts::new(vec!["127.0.0.1".parse().expect("valid pattern")]),
        ..TransportConfig::default()
    }
}

/// The credentials Secret's data for `sim`'s AK/SK account (each simulator is an account of its own:
/// its endpoints differ).
pub fn secret_for(sim: &SimHandle) -> Value {
    let (a, cfg) = (sim.account(), sim.config());
    json!({
        "accessKey": cfg.access_key, "secretKey": cfg.secret_key, "region": a.region,
        "iamEndpoint": a.endpoints.iam, "dcsEndpoint": a.endpoints.dcs,
        "ddsEndpoint": a.endpoints.dds, "taurusEndpoint": a.endpoints.taurus,
    })
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(
            SimConfig {
                backup_duration: Duration::from_millis(400),
                ..SimConfig::default()
            },
            fast_settings(),
        )
        .await
    }

    pub async fn with(cfg: SimConfig, settings: Settings) -> Self {
        let sim = Simulator::start(cfg).await.expect("simulator starts");
        let api = FakeApi::new();
        let metrics = Arc::new(Metrics::new());
        let clouds = CloudClients::new(fast_transport(), None);
        let reporter = Reporter {
            controller: "hwcloud-backup-operator".into(),
            instance: Some("test".into()),
        };
        let ctx = Arc::new(Context::new(
            api.client(),
            clouds,
            settings,
            metrics.clone(),
            reporter,
        ));
        let h = Self {
            api,
            sim,
            ctx,
            metrics,
        };
        h.put_secret(SECRET, h.secret_data());
        h
    }

    /// The credentials Secret's data for the simulator's AK/SK account.
    pub fn secret_data(&self) -> Value {
        secret_for(&self.sim)
    }

    /// Stores a Secret in `NS` with `data` (plain strings, base64-encoded here).
    pub fn put_secret(&self, name: &str, data: Value) {
        self.put_secret_in(NS, name, data);
    }

    pub fn put_secret_in(&self, ns: &str, name: &str, data: Value) {
        use k8s_openapi::ByteString;
        use k8s_openapi::api::core::v1::Secret;
        let data = data
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, ByteString(s.as_bytes().to_vec()))))
            .collect();
        let mut secret = Secret {
            data: Some(data),
            ..Secret::default()
        };
        secret.metadata.name = Some(name.into());
        secret.metadata.namespace = Some(ns.into());
        let mut v = serde_json::to_value(&secret).expect("secret serialises");
        v["apiVersion"] = json!("v1");
        v["kind"] = json!("Secret");
        self.api
            .put(&format!("/api/v1/namespaces/{ns}/secrets/{name}"), v);
    }

    /// Creates a resource of `kind` (plural `plural`) named `name` with `spec`; returns its path.
    pub fn create(&self, kind: &str, plural: &str, name: &str, spec: Value) -> String {
        let path = object_path(API_VERSION, plural, NS, name);
        self.api.put(
            &path,
            json!({"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec}),
        );
        path
    }

    pub fn load<K: Operation>(&self, path: &str) -> K {
        serde_json::from_value(self.api.get(path).expect("object exists"))
            .expect("object deserialises")
    }

    pub fn status(&self, path: &str) -> OperationStatus {
        self.api
            .get(path)
            .and_then(|o| serde_json::from_value(o["status"].clone()).ok())
            .unwrap_or_default()
    }

    /// One reconcile of the stored object; returns the requeue.
    pub async fn step<K: Operation>(&self, path: &str) -> Option<Duration> {
        let obj: K = self.load(path);
        reconcile_once(&obj, &self.ctx)
            .await
            .expect("reconcile succeeds")
    }

    /// Reconciles like the controller runtime until the resource is terminal (or gone), honouring
    /// requeues (capped at `cap`); returns the number of reconciles.
    pub async fn drive<K: Operation>(&self, path: &str, max_steps: usize) -> usize {
        for n in 1..=max_steps {
            let Some(obj) = self.api.get(path) else {
                return n;
            };
            let obj: K = serde_json::from_value(obj).expect("object deserialises");
            let next = match reconcile_once(&obj, &self.ctx).await {
                Ok(next) => next,
                Err(_) => Some(Duration::from_millis(50)),
            };
            if self.status(path).is_terminal()
                && self
                    .api
                    .get(path)
                    .is_some_and(|o| o["metadata"]["deletionTimestamp"].is_null())
            {
                return n;
            }
            tokio::time::sleep(
                next.unwrap_or(Duration::from_millis(50))
                    .min(Duration::from_millis(500)),
            )
            .await;
        }
        panic!(
            "{path} not terminal after {max_steps} reconciles: {:?}",
            self.status(path)
        );
    }

    /// Cloud calls the simulator saw for `operation` (e.g. "create_backup").
    pub fn cloud_calls(&self, operation: &str) -> usize {
        self.sim
            .calls()
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }

    /// Status patches the operator sent for `path`, in order.
    pub fn status_patches(&self, path: &str) -> Vec<Value> {
        let p = format!("{path}/status");
        self.api
            .calls()
            .into_iter()
            .filter(|c| c.path == p)
            .map(|c| c.body["status"].clone())
            .collect()
    }
}

/// The operator's real controllers (kube-runtime `Controller`s, as `run` starts them) running
/// against the fake API server: every change of a watched object, the operator's own status
/// writes included, triggers a reconcile. Dropping it stops them.
pub struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    synced: Arc<std::sync::atomic::AtomicBool>,
}

impl Harness {
    /// Starts every controller over all namespaces with `concurrency` reconciles at once per controller.
    pub fn run_controllers(&self, concurrency: u16) -> Running {
        let opts = hwcloud_backup_operator::controller::runner::RunOptions {
            namespaces: Vec::new(),
            concurrency,
            strip: true,
            label_selector: None,
        };
        Running::start(self.ctx.clone(), opts)
    }
}

impl Running {
    /// Starts every controller of `opts` over `ctx` (another replica: its own context and options).
    pub fn start(
        ctx: Arc<Context>,
        opts: hwcloud_backup_operator::controller::runner::RunOptions,
    ) -> Running {
        use futures::FutureExt;
        use hwcloud_backup_operator::controller::runner::run;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = stopped.map(|_| ()).boxed().shared();
        let synced = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = synced.clone();
        let task = tokio::spawn(run(ctx, opts, shutdown, move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst)
        }));
        Running {
            stop: Some(stop),
            task,
            synced,
        }
    }
}

impl Harness {
    /// Waits (polling every 20 ms) until `cond` holds; panics with `what` after `limit`.
    pub async fn wait_until(
        &self,
        limit: Duration,
        what: &str,
        mut cond: impl FnMut(&Self) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        while !cond(self) {
            if tokio::time::Instant::now() > deadline {
                panic!("timed out after {limit:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Running {
    /// Whether every controller's cache has listed its objects.
    pub fn synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops the controllers and waits for them to finish their in-flight reconciles.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

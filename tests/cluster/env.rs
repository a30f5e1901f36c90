//! A throwaway namespace on a real cluster with the CRDs installed, the cloud simulator and (optionally)
//! the controllers running in this process, built exactly as `run --simulate` builds them.
//!
//! Every wait is bounded. Teardown runs even when the test panics: the controllers are stopped, the
//! operator's finalizer is stripped from whatever is left (so the namespace cannot hang in Terminating
//! without an operator), and the namespace is deleted.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures::FutureExt;
use hwcloud_backup_operator::config::{Cli, Command, RunArgs};
use hwcloud_backup_operator::controller::runner::{self, Shutdown};
use hwcloud_backup_operator::crd::{
    self, BackupResource, DcsBackup, DcsRestore, DdsBackup, DdsRestore, GROUP, TaurusDbBackup,
    TaurusDbRestore, VERSION,
};
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::operator;
use hwcloud_backup_operator::sim::{SimConfig, SimHandle, Simulator};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::NamespaceResourceScope;
use kube::runtime::wait::{Condition, await_condition, conditions};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::{oneshot, watch};

/// Field manager of everything the tests apply (the operator's own is `hwcloud-backup-operator`).
pub const MANAGER: &str = "hwcloud-backup-operator-tests";
/// Upper bound of any single wait. Generous: kind on a laptop can be slow to schedule watches.
pub const WAIT: Duration = Duration::from_secs(180);
/// How long a simulated backup or restore takes.
const SIM_BACKUP_SECONDS: &str = "3";

/// Whether [`run`] starts the controllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controllers {
    On,
    Off,
}

/// What a test gets: the client, its own namespace and the simulator the controllers talk to.
#[derive(Clone)]
pub struct Env {
    pub client: Client,
    pub ns: String,
    pub sim: SimHandle,
}

/// Sets up a namespace (and the operator when `controllers` is `On`), runs `test`, and tears down.
pub async fn run<F, Fut>(controllers: Controllers, test: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let client = Client::try_default()
        .await
        .expect("a kubeconfig for a test cluster (e.g. `kind create cluster`)");
    install_crds(&client).await;
    operator::check_crds(&client)
        .await
        .expect("the operator's startup check finds the CRDs just installed");
    let ns = create_namespace(&client).await;
    let args = run_args(&ns);
    let sim = Simulator::start(SimConfig {
        backup_duration: Duration::from_secs(args.sim_backup_seconds),
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts");
    let env = Env {
        client: client.clone(),
        ns: ns.clone(),
        sim: sim.clone(),
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let shutdown: Shutdown = async move {
        let mut rx = stop_rx;
        let _ = rx.wait_for(|stop| *stop).await;
    }
    .boxed()
    .shared();
    let (synced_tx, synced_rx) = oneshot::channel();
    let operator = async {
        if controllers == Controllers::Off {
            return std::future::pending().await;
        }
        // The same context and options `run --simulate` builds; the simulator's account stands in for
        // every credentials Secret, as it does there.
        let metrics = Arc::new(Metrics::new());
        let ctx = operator::context(
            client.clone(),
            &args,
            metrics,
            "cluster-test",
            Some(sim.account()),
        );
        let opts = operator::run_options(&args);
        runner::run(Arc::new(ctx), opts, shutdown, move || {
            let _ = synced_tx.send(());
        })
        .await;
    };
    let body = async {
        if controllers == Controllers::On {
            within("the controllers' caches to sync", synced_rx)
                .await
                .expect("the controllers start");
        }
        test(env).await;
    };

    let mut operator = std::pin::pin!(operator);
    let mut operator_ended = false;
    let outcome: Result<(), Box<dyn Any + Send>> = tokio::select! {
        _ = &mut operator => {
            operator_ended = true;
            Err(Box::new("the controllers stopped before the test ended".to_string()))
        }
        done = AssertUnwindSafe(body).catch_unwind() => done,
    };
    let _ = stop_tx.send(true);
    if controllers == Controllers::On
        && !operator_ended
        && tokio::time::timeout(Duration::from_secs(30), &mut operator)
            .await
            .is_err()
    {
        eprintln!("the controllers did not stop within 30 s of the shutdown signal");
    }
    teardown(&client, &ns).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `run --simulate` flags for a test: only this namespace, short polls, no lease (one process).
fn run_args(ns: &str) -> RunArgs {
    let cli = Cli::try_parse_from([
        "hwcloud-backup-operator",
        "run",
        "--simulate",
        "--namespaces",
        ns,
        "--poll-interval=1s",
        "--poll-max-interval=5s",
        "--leader-election=false",
        "--sim-backup-seconds",
        SIM_BACKUP_SECONDS,
    ])
    .expect("test flags parse");
    match cli.command {
        Command::Run(args) => args,
        other => panic!("parsed {other:?} instead of `run`"),
    }
}

/// Applies every CRD (server-side, as `kubectl apply --server-side -f crds/` does) and waits until
/// the API server serves them.
async fn install_crds(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crd::all_crds() {
        let name = crd.metadata.name.clone().expect("CRDs are named");
        crds.patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("applying CRD {name}: {e}"));
        within(
            "a CRD to be established",
            await_condition(crds.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .unwrap_or_else(|e| panic!("watching CRD {name}: {e}"));
    }
}

async fn create_namespace(client: &Client) -> String {
    let name = format!(
        "hwbk-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/created-by".to_string(),
                MANAGER.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
    name
}

/// Best effort: a failure here is reported, never allowed to hide the test's own failure.
async fn teardown(client: &Client, ns: &str) {
    strip_finalizers::<DcsBackup>(client, ns).await;
    strip_finalizers::<DcsRestore>(client, ns).await;
    strip_finalizers::<DdsBackup>(client, ns).await;
    strip_finalizers::<TaurusDbBackup>(client, ns).await;
    strip_finalizers::<DdsRestore>(client, ns).await;
    strip_finalizers::<TaurusDbRestore>(client, ns).await;
    if let Err(e) = Api::<Namespace>::all(client.clone())
        .delete(ns, &DeleteParams::background())
        .await
    {
        eprintln!("deleting test namespace {ns}: {e}");
    }
}

/// With the controllers stopped nothing would ever remove the finalizer; the simulator's backups are
/// throwaway, so orphaning them is fine.
async fn strip_finalizers<K>(client: &Client, ns: &str)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let objects = match api.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(e) => {
            eprintln!("listing {} in {ns}: {e}", K::plural(&()));
            return;
        }
    };
    let patch = json!({"metadata": {"finalizers": null}});
    for obj in objects.iter().filter(|o| !o.finalizers().is_empty()) {
        if let Err(e) = api
            .patch(
                &obj.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            eprintln!("removing finalizers of {}: {e}", obj.name_any());
        }
    }
}

/// Awaits `fut` for at most [`WAIT`], panicking with `what` when it takes longer.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

impl Env {
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    /// Applies `examples/<file>` into the test namespace, unchanged otherwise, and returns the stored object.
    pub async fn apply_example<K: BackupResource>(&self, file: &str) -> K {
        let path = format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let mut obj: K =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
        obj.meta_mut().namespace = Some(self.ns.clone());
        let name = obj.name_any();
        self.api::<K>()
            .patch(&name, &PatchParams::apply(MANAGER), &Patch::Apply(&obj))
            .await
            .unwrap_or_else(|e| panic!("applying {path}: {e}"))
    }

    /// Waits (watching the object) until `cond` holds, and returns the object.
    pub async fn wait_for<K: BackupResource>(
        &self,
        name: &str,
        what: &str,
        cond: impl Condition<K>,
    ) -> K {
        within(what, await_condition(self.api::<K>(), name, cond))
            .await
            .unwrap_or_else(|e| panic!("watching {name}: {e}"))
            .unwrap_or_else(|| panic!("{name} vanished while waiting for {what}"))
    }

    /// Waits until the resource reaches a final phase and returns it.
    pub async fn wait_terminal<K: BackupResource>(&self, name: &str) -> K {
        self.wait_for(name, "a final phase", |o: Option<&K>| {
            o.and_then(|k| k.status()).is_some_and(|s| s.is_terminal())
        })
        .await
    }

    /// Waits until the object with `uid` is gone (its finalizers released).
    pub async fn wait_deleted<K: BackupResource>(&self, name: &str, uid: &str) {
        within(
            "the object to be deleted",
            await_condition(self.api::<K>(), name, conditions::is_deleted(uid)),
        )
        .await
        .unwrap_or_else(|e| panic!("watching {name}: {e}"));
    }

    /// The row `kubectl get <plural> <name>` prints, as column name -> cell, rendered by the API
    /// server from the CRD's printer columns.
    pub async fn table_row(&self, plural: &str, name: &str) -> BTreeMap<String, Value> {
        let url = format!(
            "/apis/{GROUP}/{VERSION}/namespaces/{}/{plural}/{name}",
            self.ns
        );
        let req = http::Request::get(url)
            .header(
                http::header::ACCEPT,
                "application/json;as=Table;v=v1;g=meta.k8s.io",
            )
            .body(Vec::new())
            .expect("a valid request");
        let table: Value = self
            .client
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("table of {plural}/{name}: {e}"));
        let columns = table["columnDefinitions"]
            .as_array()
            .unwrap_or_else(|| panic!("no columns in {table}"));
        let cells = table["rows"][0]["cells"]
            .as_array()
            .unwrap_or_else(|| panic!("no row in {table}"));
        assert_eq!(columns.len(), cells.len(), "{table}");
        columns
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .zip(cells.iter().cloned())
            .collect()
    }

    /// Reasons of the events about `kind`/`name`, once all of `want` are there (bounded wait: the
    /// recorder publishes after the status write the test may already have seen).
    pub async fn wait_events(&self, kind: &str, name: &str, want: &[&str]) -> Vec<String> {
        let events: Api<Event> = self.api();
        let reasons = || async {
            events
                .list(&ListParams::default())
                .await
                .expect("listing events")
                .items
                .into_iter()
                .filter(|e| {
                    e.regarding.as_ref().is_some_and(|r| {
                        r.kind.as_deref() == Some(kind) && r.name.as_deref() == Some(name)
                    })
                })
                .filter_map(|e| e.reason)
                .collect::<Vec<_>>()
        };
        within("events", async {
            loop {
                let got = reasons().await;
                if want.iter().all(|w| got.iter().any(|g| g == w)) {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
        .await
    }
}

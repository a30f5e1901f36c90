//! `run`: wires configuration, Kubernetes client, cloud clients, HTTP endpoints, leader election
//! and the controllers together, and shuts them down gracefully.

use std::sync::Arc;

use anyhow::Context as _;
use futures::FutureExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::runtime::events::Reporter;
use tokio::sync::watch;

use url::Url;

use crate::cloud::account::Account;
use crate::cloud::allow::AllowedHosts;
use crate::cloud::client::CloudClients;
use crate::cloud::transport::{CallObserver, TransportConfig};
use crate::config::RunArgs;
use crate::controller::context::{Context, FIELD_MANAGER, Settings};
use crate::controller::runner::{self, RunOptions, Shutdown};
use crate::controller::schedule::PollPolicy;
use crate::http::{HttpState, Readiness};
use crate::leader::{self, LeaderConfig};
use crate::metrics::Metrics;

/// Exits with a message naming every CRD that is not installed.
pub async fn check_crds(client: &kube::Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut missing = Vec::new();
    for crd in crate::crd::all_crds() {
        let name = crd.metadata.name.unwrap_or_default();
        if api
            .get_opt(&name)
            .await
            .with_context(|| format!("checking CRD {name}"))?
            .is_none()
        {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "these CRDs are not installed: {}. Install them with `kubectl apply -f crds/` or the Helm chart",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Controller settings from the command line.
///
/// The poll bounds are ordered `min <= interval <= max` whatever the flags say: the schedule clamps
/// every wait between them, and `Duration::clamp` panics when the lower bound exceeds the upper.
pub fn settings(args: &RunArgs) -> Settings {
    let max_interval = args.poll_max_interval;
    let interval = args.poll_interval.min(max_interval);
    let default = PollPolicy::default();
    let defaults = Settings::default();
    Settings {
        default_credentials_secret: args.default_credentials_secret.clone(),
        // A create still in flight must never be taken for absent: the window outlasts any request
        // (retries of a create only happen while nothing was sent, so two timeouts cover it).
        adopt_window: defaults.adopt_window.max(args.cloud_request_timeout * 2),
        poll: PollPolicy {
            interval,
            max_interval,
            min_interval: default.min_interval.min(interval),
            ..default
        },
        ..defaults
    }
}

/// The shared controller context for `args`: cloud clients reporting to `metrics`, events reported
/// as `identity`, and with `simulated` every resource talking to that simulator account.
/// `run` uses it, and so do the cluster tests, so they run the controllers exactly as deployed.
pub fn context(
    client: kube::Client,
    args: &RunArgs,
    metrics: Arc<Metrics>,
    identity: &str,
    simulated: Option<Account>,
) -> Context {
    let transport = TransportConfig {
        request_timeout: args.cloud_request_timeout,
        rate_per_second: args.cloud_rate_per_second,
        allowed_hosts: allowed_hosts(args, simulated.as_ref()),
        ..TransportConfig::default()
    };
    let observer: Arc<dyn CallObserver> = metrics.clone();
    let clouds = CloudClients::new(transport, Some(observer));
    let reporter = Reporter {
        controller: FIELD_MANAGER.into(),
        instance: Some(identity.to_string()),
    };
    let ctx = Context::new(client, clouds, settings(args), metrics, reporter);
    match simulated {
        Some(account) => ctx.simulated(account),
        None => ctx,
    }
}

/// `--allowed-endpoint-hosts`, plus with `--simulate` the exact addresses of the embedded
/// simulator (which the operator started itself, on loopback).
pub fn allowed_hosts(args: &RunArgs, simulated: Option<&Account>) -> AllowedHosts {
    let mut hosts = AllowedHosts::new(args.allowed_endpoint_hosts.clone());
    if let Some(account) = simulated {
        let e = &account.endpoints;
        for endpoint in [&e.iam, &e.dcs, &e.dds, &e.taurus].into_iter().flatten() {
            if let Ok(url) = Url::parse(endpoint) {
                hosts = hosts.with_url(&url);
            }
        }
    }
    hosts
}

/// What the controllers watch and how many reconciles run at once, from the command line.
pub fn run_options(args: &RunArgs) -> RunOptions {
    RunOptions {
        namespaces: args
            .watched_namespaces()
            .into_iter()
            .map(str::to_string)
            .collect(),
        concurrency: args.concurrency,
        strip: true,
        label_selector: args.watch_label_selector.clone(),
    }
}

/// Runs the operator until SIGTERM/SIGINT. `simulated` points every account at a simulator.
pub async fn run(args: RunArgs, simulated: Option<Account>) -> anyhow::Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("connecting to the Kubernetes API")?;
    check_crds(&client).await?;
    let shard = args.watch_label_selector.as_ref().map(|s| s.as_str());
    let metrics = Arc::new(Metrics::for_shard(shard));
    let readiness = Arc::new(Readiness::new());
    let identity = leader::identity(args.pod_name.as_deref());
    let opts = run_options(&args);
    if let Some(selector) = &opts.label_selector {
        tracing::info!(%selector, lease = %args.lease_name(), "watching only the resources this selector matches");
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested; finishing in-flight reconciles");
        let _ = stop_tx.send(true);
    });
    let stopped = wait_for(stop_rx, true);

    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .with_context(|| format!("binding the metrics address {}", args.metrics_addr))?;
    let state = HttpState {
        metrics: metrics.clone(),
        readiness: readiness.clone(),
    };
    let http = tokio::spawn(crate::http::serve(listener, state, stopped.clone()));

    if !args.leader_election {
        readiness.set_leadership_known(true);
        metrics.set_leader(true);
        let synced = readiness.clone();
        let ctx = Arc::new(context(client, &args, metrics, &identity, simulated));
        runner::run(ctx, opts, stopped.clone(), move || {
            synced.set_caches_synced(true)
        })
        .await;
    } else {
        let cfg = LeaderConfig {
            lease_name: args.lease_name(),
            lease_namespace: args.lease_namespace().to_string(),
            identity: identity.clone(),
            timing: leader::LeaseTiming::default(),
        };
        let leadership = leader::start(client.clone(), &cfg)
            .await
            .context("starting leader election")?;
        readiness.set_leadership_known(true);
        let fence = leadership.fence();
        let new_context = || {
            let ctx = context(
                client.clone(),
                &args,
                metrics.clone(),
                &identity,
                simulated.clone(),
            );
            Arc::new(ctx.with_fence(fence.clone()))
        };
        lead(leadership.receiver(), new_context, opts, stopped, readiness).await;
        if let Err(e) = leadership.shutdown().await {
            tracing::warn!(error = %e, "leader lease release");
        }
    }
    http.await
        .context("metrics server task")?
        .context("metrics server")?;
    Ok(())
}

/// Runs the controllers whenever `leading` is true, until `stopped`. Each leadership term gets a
/// fresh context from `new_context`: claims, poll schedule, remembered statuses and caches of a
/// past term describe a world another replica has changed since. When a term ends, the gauges only
/// a leader reports are cleared.
pub async fn lead(
    leading: watch::Receiver<bool>,
    new_context: impl Fn() -> Arc<Context>,
    opts: RunOptions,
    stopped: Shutdown,
    readiness: Arc<Readiness>,
) {
    loop {
        // A standby is ready (it serves metrics and can take over); it starts no controllers.
        readiness.set_caches_synced(true);
        tokio::select! {
            _ = wait_for(leading.clone(), true) => {}
            _ = stopped.clone() => break,
        }
        let ctx = new_context();
        tracing::info!("became leader; starting controllers");
        ctx.metrics.set_leader(true);
        readiness.set_caches_synced(false);
        let lost: Shutdown =
            futures::future::select(wait_for(leading.clone(), false), stopped.clone())
                .map(|_| ())
                .boxed()
                .shared();
        let synced = readiness.clone();
        runner::run(ctx.clone(), opts.clone(), lost, move || {
            synced.set_caches_synced(true)
        })
        .await;
        ctx.metrics.set_leader(false);
        ctx.metrics.clear_leader_gauges();
        if stopped.peek().is_some() {
            break;
        }
        tracing::warn!("lost leadership; controllers stopped, standing by");
    }
}

/// Completes once `rx` holds `want` (or its sender is gone).
fn wait_for(mut rx: watch::Receiver<bool>, want: bool) -> Shutdown {
    async move {
        let _ = rx.wait_for(|v| *v == want).await;
    }
    .boxed()
    .shared()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c().map(|_| ());
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

#[cfg(test)]
#[path = "operator_tests.rs"]
mod tests;

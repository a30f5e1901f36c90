//! The operator process of the footprint benchmark: `run` as deployed with leader election off
//! (context, controllers, `/metrics` and `/readyz`), against an API server given by URL, so that
//! the process's resident memory is the operator's alone.
//!
//! It prints `PORT <port>` once its HTTP endpoints listen, then every second a `STATE` line with
//! the sizes of the per-resource maps (gate, claims, accounts in flight, remembered statuses,
//! cleanup journal, DCS list cache), until the parent kills it.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures::FutureExt;
use hwcloud_backup_operator::config::{Cli, Command, RunArgs};
use hwcloud_backup_operator::controller::context::Context;
use hwcloud_backup_operator::controller::runner;
use hwcloud_backup_operator::http::{self, HttpState, Readiness};
use hwcloud_backup_operator::metrics::Metrics;
use hwcloud_backup_operator::operator;

/// The flags of the measured operator: scaled-down polling (the simulator's backups take 500 ms)
/// and no client-side rate limit worth the name (one simulator account serves every resource); the
/// simulators listen on loopback, which the endpoint allow-list refuses unless named.
const FLAGS: [&str; 6] = [
    "--allowed-endpoint-hosts=127.0.0.1",
    "--leader-election=false",
    "--poll-interval=250ms",
    "--poll-max-interval=2s",
    "--cloud-rate-per-second=1000",
    "--concurrency=8",
];

fn run_args() -> RunArgs {
    let argv = ["hwcloud-backup-operator", "run"].into_iter().chain(FLAGS);
    match Cli::try_parse_from(argv).expect("flags parse").command {
        Command::Run(args) => args,
        _ => unreachable!("a run command"),
    }
}

/// Runs the operator against `api_url` until killed; `trim` as `RunOptions::strip`.
pub async fn run(api_url: &str, trim: bool) {
    let args = run_args();
    // `BENCH_LOG=<filter>` shows the measured operator's log on the benchmark's stderr.
    if let Ok(level) = std::env::var("BENCH_LOG") {
        let _ = hwcloud_backup_operator::telemetry::init(
            hwcloud_backup_operator::config::LogFormat::Text,
            &level,
        );
    }
    let config = kube::Config::new(api_url.parse().expect("API URL"));
    let client = kube::Client::try_from(config).expect("client");
    let metrics = Arc::new(Metrics::new());
    let readiness = Arc::new(Readiness::new());
    readiness.set_leadership_known(true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("PORT {}", listener.local_addr().expect("address").port());
    let state = HttpState {
        metrics: metrics.clone(),
        readiness: readiness.clone(),
    };
    tokio::spawn(http::serve(listener, state, futures::future::pending()));
    let ctx = Arc::new(operator::context(client, &args, metrics, "bench", None));
    tokio::spawn(report_state(ctx.clone()));
    let mut opts = operator::run_options(&args);
    opts.strip = trim;
    let never = futures::future::pending().boxed().shared();
    runner::run(ctx, opts, never, move || readiness.set_caches_synced(true)).await;
}

/// Prints the sizes of the per-resource maps every second.
async fn report_state(ctx: Arc<Context>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!(
            "STATE gate={} claims={} accounts={} recent={} journal={} dcs_lists={}",
            ctx.gate.len(),
            ctx.locks.len(),
            ctx.accounts.len(),
            ctx.recent.len(),
            ctx.journal.len(),
            ctx.dcs_backups.len() + ctx.dcs_restores.len(),
        );
    }
}

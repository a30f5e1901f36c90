//! CLI entry point: parse the configuration once and dispatch to `run`, `crdgen` or `simulate`.
use anyhow::Context as _;
use clap::Parser;
use hwcloud_backup_operator::config::{Cli, Command, CrdgenArgs, RunArgs, SimulateArgs};
use hwcloud_backup_operator::sim::{SimConfig, Simulator};
use hwcloud_backup_operator::{crd, operator, telemetry};
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Crdgen(args) => crdgen(args),
        Command::Simulate(args) => simulate(args).await,
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format, &args.log_level)?;
    if !args.simulate {
        return operator::run(args, None).await;
    }
    let cfg = SimConfig {
        backup_duration: Duration::from_secs(args.sim_backup_seconds),
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg)
        .await
        .context("starting the embedded cloud simulator")?;
    tracing::warn!(
        url = %sim.base_url(),
        "THE CLOUD IS SIMULATED: --simulate sends every cloud call to an in-process simulator; no real backup is made"
    );
    let account = sim.account();
    operator::run(args, Some(account)).await
}

fn crdgen(args: CrdgenArgs) -> anyhow::Result<()> {
    crd::write_crds(&args.out_dir)
        .with_context(|| format!("writing CRDs to {}", args.out_dir.display()))?;
    println!(
        "wrote {} CRDs to {}",
        crd::all_crds().len(),
        args.out_dir.display()
    );
    Ok(())
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let d = SimConfig::default();
    // Defaults are public test values, so printing them is safe; values the user gave are not echoed.
    let mut defaulted = Vec::new();
    let mut pick = |given: Option<String>, default: String, name: &str| {
        given.unwrap_or_else(|| {
            defaulted.push(format!("{name}={default}"));
            default
        })
    };
    let cfg = SimConfig {
        access_key: pick(args.access_key, d.access_key.clone(), "access-key"),
        secret_key: pick(args.secret_key, d.secret_key.clone(), "secret-key"),
        project_id: pick(args.project_id, d.project_id.clone(), "project-id"),
        username: pick(args.username, d.username.clone(), "username"),
        password: pick(args.password, d.password.clone(), "password"),
        domain_name: pick(args.domain_name, d.domain_name.clone(), "domain-name"),
        region: args.region,
        backup_duration: Duration::from_secs(args.backup_seconds),
        single_node_instances: args.single_node_instances,
        ..d
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("cloud simulator listening on {base}");
    println!("  endpoints: iam={base}/iam dcs={base}/dcs dds={base}/dds taurus={base}/taurus");
    println!(
        "  region={} backup-seconds={}",
        cfg.region, args.backup_seconds
    );
    if !defaulted.is_empty() {
        println!("  defaults: {}", defaulted.join(" "));
    }
    Simulator::serve(cfg, listener).await.context("simulator")
}

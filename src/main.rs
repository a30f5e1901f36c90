//! CLI entry point: parse the configuration once and dispatch to `run`, `crdgen` or `simulate`.
use anyhow::Context as _;
use clap::Parser;
use hwcloud_backup_operator::config::{Cli, Command, CrdgenArgs, RunArgs, SimulateArgs};
use hwcloud_backup_operator::{crd, operator, telemetry};

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
    operator::run(args, None).await
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

async fn simulate(_args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("not wired yet: simulate")
}

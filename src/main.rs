//! CLI entry point: parse the configuration once and dispatch to `run`, `crdgen` or `simulate`.
use clap::Parser;
use hwcloud_backup_operator::config::{Cli, Command, CrdgenArgs, RunArgs, SimulateArgs};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Crdgen(args) => crdgen(args),
        Command::Simulate(args) => simulate(args).await,
    }
}

// Call sites the lead wires to the controller, crd and sim modules once those branches merge.
async fn run(_args: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("not wired yet: run")
}

fn crdgen(_args: CrdgenArgs) -> anyhow::Result<()> {
    anyhow::bail!("not wired yet: crdgen")
}

async fn simulate(_args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("not wired yet: simulate")
}

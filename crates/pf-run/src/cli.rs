//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand};

/// pflow: score-based generative modelling and particle sampling on low-dimensional targets.
#[derive(Parser, Debug)]
#[command(name = "pf", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Args, Debug)]
pub struct Global {
    /// Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.
    #[arg(long, global = true, default_value = "auto")]
    pub device: String,
    /// Random seed (overrides the config's `seed`).
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// libtorch intra-op threads (default: libtorch's choice, the physical cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Versions, the device chosen, CUDA availability and thread count.
    Info,
    /// Run one experiment config into a run directory.
    Run {
        /// The experiment config (TOML).
        config: std::path::PathBuf,
        #[command(flatten)]
        args: crate::commands::RunArgs,
    },
    /// Run every sampler family on one target (default: seed 001's funnel) and write report.md;
    /// --all: every built-in target and a leaderboard.
    Compare(crate::compare::CompareArgs),
    /// Run a config over a grid of values and seeds (locally or on Slurm) and collect one table;
    /// `pf sweep collect DIR` collects again.
    Sweep(Box<crate::sweep::SweepArgs>),
    /// Time one workload (the seeds' sizes by default) and print one JSON line.
    Bench(crate::bench::BenchArgs),
}

//! Command-line arguments (clap derive).

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// pflow: score-based generative modelling and particle sampling on low-dimensional targets.
#[derive(Parser, Debug)]
#[command(name = "pf", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses this process's arguments as program `name` (what help, usage and `--version`
    /// print; see [`crate::program::name`]).
    pub fn parse_named(name: &'static str) -> Result<Self, clap::Error> {
        Self::parse_named_from(name, std::env::args_os())
    }

    /// Parses `args` (the first being the program) as program `name`.
    pub fn parse_named_from(
        name: &'static str,
        args: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
    ) -> Result<Self, clap::Error> {
        let mut cmd = Self::command().name(name).bin_name(name);
        let m = cmd.try_get_matches_from_mut(args)?;
        Self::from_arg_matches(&m).map_err(|e| e.format(&mut cmd))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Help, usage and `--version` name the program they are given, not `pf`.
    #[test]
    fn help_and_version_name_the_program() {
        let e = Cli::parse_named_from("pf-x", ["pf-x", "--version"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
        assert!(e.to_string().starts_with("pf-x "), "{e}");
        let e = Cli::parse_named_from("pf-x", ["pf-x", "--help"]).unwrap_err();
        assert!(
            e.to_string().contains("Usage: pf-x [OPTIONS] <COMMAND>"),
            "{e}"
        );
        let cli = Cli::parse_named_from("pf-x", ["pf-x", "--seed", "3", "info"]).unwrap();
        assert_eq!(cli.global.seed, Some(3));
    }
}

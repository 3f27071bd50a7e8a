//! `pf sweep`'s command line: the sweep's options, `pf sweep collect`, and the plot's.

use std::path::PathBuf;

/// `pf sweep CONFIG …` or `pf sweep collect DIR`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    #[command(flatten)]
    pub sweep: SweepOpts,
}

#[derive(clap::Subcommand, Debug)]
pub enum SweepCommand {
    /// Collect a sweep directory's runs into sweep.csv, sweep.md and a plot (exit status 1 when
    /// a point failed or has not run).
    Collect {
        /// The sweep directory (holds sweep.toml).
        dir: PathBuf,
        #[command(flatten)]
        plot: PlotArgs,
    },
}

/// What the plot shows.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PlotArgs {
    /// Metric to plot: a sampler metric (energy, mmd2, sliced_w1, nfe, …: one line per sampler)
    /// or a sweep.csv column [default: energy, or the sweep's own choice].
    #[arg(long)]
    pub metric: Option<String>,
    /// Swept key on the plot's x axis [default: the first --grid/--zip key].
    #[arg(long = "x", value_name = "KEY")]
    pub x: Option<String>,
}

/// `pf sweep CONFIG`.
#[derive(clap::Args, Debug)]
pub struct SweepOpts {
    /// The experiment config (TOML).
    #[arg(required = true)]
    pub config: Option<PathBuf>,
    /// Sweep a key over values: --grid sampler.ula.steps=100,200 (repeatable; axes multiply;
    /// keys and values as for --set; commas inside [..] or {..} belong to a value:
    /// --grid 'sampler.ula.eta=[1e-3],[1e-2]').
    #[arg(long, value_name = "KEY=V1,V2,…")]
    pub grid: Vec<String>,
    /// Keys that advance together: --zip a=1,2 --zip b=10,20 gives (1, 10), (2, 20) (one axis).
    #[arg(long, value_name = "KEY=V1,V2,…")]
    pub zip: Vec<String>,
    /// Seeds, innermost: A..B (inclusive: 0..2 is 0, 1, 2) or a list 0,3,7.
    #[arg(long, value_name = "A..B")]
    pub seeds: Option<String>,
    /// Override a config value at every point (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Points run at once (locally); each gets max(1, cores / N) libtorch threads.
    #[arg(long, default_value_t = 1, conflicts_with = "slurm")]
    pub jobs: usize,
    /// Every point with `pf run --quick` budgets.
    #[arg(long)]
    pub quick: bool,
    /// Sweep directory (default: sweeps/<config name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Finish the sweep in --out: skip complete points, rerun failed or interrupted ones.
    #[arg(long)]
    pub resume: bool,
    /// Write a Slurm array script (one task per point), a collect job and a manifest instead of
    /// running locally.
    #[arg(long)]
    pub slurm: bool,
    /// Slurm partition.
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// Slurm time limit per point (e.g. 00:30:00).
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// CPUs per array task (and the points' libtorch threads) [default: --threads or 1].
    #[arg(long, requires = "slurm")]
    pub cpus_per_task: Option<usize>,
    /// GPUs per array task (e.g. 1 or a100:1); the points then run on `--device cuda`, the GPU
    /// Slurm assigns.
    #[arg(long, requires = "slurm")]
    pub gpus: Option<String>,
    /// Submit with sbatch and print the job ids.
    #[arg(long, requires = "slurm")]
    pub submit: bool,
    #[command(flatten)]
    pub plot: PlotArgs,
}

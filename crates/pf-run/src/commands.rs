//! `pf run`: load the config, apply `--set` and `--quick`, run, print the summary (`pf compare`
//! builds on it in [`crate::compare`]).

use crate::config::{self, RunConfig};
use crate::run::{self, RunOpts, RunSummary};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tch::Device;

/// Arguments shared by `run` and `compare`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Output directory (default: runs/<config name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a config value: --set sampler.ula.steps=500 (repeatable; TOML values).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Shrink every budget so the run finishes in under a minute on 2 CPU cores.
    #[arg(long)]
    pub quick: bool,
    /// Write into a non-empty output directory.
    #[arg(long)]
    pub force: bool,
    /// Continue training from the checkpoints in the output directory.
    #[arg(long)]
    pub resume: bool,
}

pub(crate) fn prepare(
    text: &str,
    origin: &str,
    args: &RunArgs,
    seed: Option<u64>,
) -> Result<RunConfig> {
    let mut cfg = config::parse(text, &args.set).with_context(|| format!("config {origin}"))?;
    if let Some(s) = seed {
        cfg.seed = s;
    }
    if args.quick {
        crate::quick::shrink(&mut cfg);
        cfg.validate()
            .with_context(|| format!("config {origin} (--quick)"))?;
    }
    Ok(cfg)
}

fn default_out(cfg: &RunConfig, config: &Path) -> PathBuf {
    let stem = cfg.name.clone().unwrap_or_else(|| {
        config
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("run")
            .to_string()
    });
    PathBuf::from("runs").join(stem)
}

/// `pf run CONFIG`.
pub fn run(config_path: &Path, args: &RunArgs, device: Device, seed: Option<u64>) -> Result<()> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("cannot read config {}", config_path.display()))?;
    let cfg = prepare(&text, &config_path.display().to_string(), args, seed)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&cfg, config_path));
    execute_into(&cfg, out, args, device).map(|_| ())
}

/// Runs `cfg` into `out` and prints the one-line-per-sampler summary.
pub(crate) fn execute_into(
    cfg: &RunConfig,
    out: PathBuf,
    args: &RunArgs,
    device: Device,
) -> Result<RunSummary> {
    let opts = RunOpts {
        out: out.clone(),
        force: args.force,
        resume: args.resume,
        device,
    };
    let summary = run_guarded(cfg, &opts)?;
    print_summary(&summary, &out);
    Ok(summary)
}

/// [`run::run_stages`] with the checks that must come before anything is written (`--resume`'s
/// checkpoints fit the config, the memory pre-flight), under the directory's lock, and without
/// leftovers: a run that fails into a directory it started with absent or empty leaves nothing
/// there but its last good checkpoints (an interrupted one also its finished samplers).
fn run_guarded(cfg: &RunConfig, opts: &RunOpts) -> Result<RunSummary> {
    if opts.resume {
        crate::resume::check_models(cfg, &opts.out)?;
    }
    crate::faults::preflight::check(cfg, opts.device)?;
    let lock = crate::io::RunLock::acquire(&opts.out)?;
    crate::faults::catch(|| run::run_stages(cfg, opts))
        .map_err(|e| crate::faults::after_failure(e, &opts.out, &lock, !cfg.models.is_empty()))
}

fn print_summary(s: &RunSummary, out: &Path) {
    print!("{}", crate::report::console_summary(s));
    println!("outputs: {}", out.display());
}

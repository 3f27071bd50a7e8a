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
    let summary = execute(cfg, &opts)?;
    print_summary(&summary, &out);
    Ok(summary)
}

/// [`run::execute`] with the checks that must come before anything is written (`--resume`'s
/// checkpoints fit the config, the memory pre-flight), under the directory's lock, and without
/// leftovers: a run that fails into a directory it started with absent or empty leaves nothing
/// there but its last good checkpoints (an interrupted one also its finished samplers).
fn execute(cfg: &RunConfig, opts: &RunOpts) -> Result<RunSummary> {
    if opts.resume {
        check_resume(cfg, &opts.out)?;
    }
    crate::faults::preflight::check(cfg, opts.device)?;
    let lock = crate::faults::lock::RunLock::acquire(&opts.out)?;
    crate::faults::catch(|| run::execute(cfg, opts))
        .map_err(|e| crate::faults::after_failure(e, &opts.out, &lock, !cfg.models.is_empty()))
}

/// `--resume`: every model checkpoint already in `out` must have been written for the same net
/// (sidecar) and hold a tensor of the same shape for every variable (names and shapes), checked
/// before the run writes anything. A model without a checkpoint starts afresh.
fn check_resume(cfg: &RunConfig, out: &Path) -> Result<()> {
    const HOW: &str =
        "resume with the config it was trained with, or drop --resume and use a fresh --out";
    for m in &cfg.models {
        let dir = if cfg.models.len() == 1 {
            out.to_path_buf()
        } else {
            out.join("models").join(&m.name)
        };
        let ck = dir.join("checkpoint.safetensors");
        if !ck.exists() {
            continue;
        }
        let what = format!("cannot resume model {} from {}", m.name, ck.display());
        let named = pf_nets::checkpoint::read_tensors(&ck).map_err(|e| {
            let why = e.to_string();
            let why = why.rsplit(": ").next().unwrap_or(&why).to_string();
            anyhow::anyhow!("{what}: not a readable safetensors file ({why}: truncated or corrupt); delete it to train from scratch")
        })?;
        // what the sidecar says the net was, compared key by key with the config
        let mut differs = String::new();
        if let Ok(side) = pf_train::checkpoint::read_sidecar(&ck) {
            let ours = serde_json::to_value(&m.net)?;
            let theirs = side.model.get("model").cloned().unwrap_or_default();
            if let (Some(o), Some(t)) = (ours.as_object(), theirs.as_object()) {
                if let Some((k, tv)) = t.iter().find(|(k, v)| o.get(*k) != Some(*v)) {
                    let ov = o.get(k).map_or("absent".to_string(), |v| v.to_string());
                    differs =
                        format!(" (it was trained with net.{k} = {tv}, the config says {ov})");
                }
            }
            let param = serde_json::to_value(m.param)?;
            if differs.is_empty() && side.model.get("param").is_some_and(|p| *p != param) {
                differs = format!(
                    " (it was trained with param = {}, the config says {param})",
                    side.model["param"]
                );
            }
        }
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let _net = m.net.build(&vs.root())?;
        let vars = pf_nets::checkpoint::named_variables(&vs);
        for (n, v) in &vars {
            let key = format!("model.{n}");
            match named.get(&key) {
                None => anyhow::bail!(
                    "{what}: the config's net has tensor `{n}`, the checkpoint does not{differs}; {HOW}"
                ),
                Some(t) if t.size() != v.size() => anyhow::bail!(
                    "{what}: tensor `{n}` has shape {:?} in the checkpoint but {:?} in the config's net{differs}; {HOW}",
                    t.size(),
                    v.size()
                ),
                Some(_) => {}
            }
        }
        let mut extra: Vec<&String> = named
            .keys()
            .filter(|k| {
                k.strip_prefix("model.")
                    .is_some_and(|n| !vars.iter().any(|(v, _)| v == n))
            })
            .collect();
        extra.sort();
        if let Some(k) = extra.first() {
            anyhow::bail!(
                "{what}: the checkpoint has tensor `{}`, the config's net does not{differs}; {HOW}",
                k.trim_start_matches("model.")
            );
        }
        if !differs.is_empty() {
            anyhow::bail!("{what}: the net differs{differs}; {HOW}");
        }
    }
    Ok(())
}

fn print_summary(s: &RunSummary, out: &Path) {
    print!("{}", crate::report::console_summary(s));
    println!("outputs: {}", out.display());
}

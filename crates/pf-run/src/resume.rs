//! `--resume` in one place: what an earlier run into the same directory left that this run can
//! reuse, and the command line that resumes an interrupted run.
//!
//! - A model resumes from its checkpoint ([`check_models`] before anything is written, then
//!   [`model_checkpoint`] and [`loss_history`] while training; a finished one runs no step).
//! - A sampler is finished when `samples_<label>.json` exists ([`mark_finished`]): written after
//!   its samples, figures and animation, it holds the counters that cannot be recomputed (NFE,
//!   diagnostics, wall time) under the key of everything the samples depend on ([`key`]).
//!   [`finished`] then reads `samples_<label>.npy` back instead of sampling again; the metrics
//!   are recomputed from it (they are deterministic given the samples and the reference), so
//!   the run's outputs equal an uninterrupted run's.
//! - [`worth_keeping`]: whether an interrupted run left anything of this; [`command`]: how to
//!   resume it.

use crate::config::{ModelConfig, RunConfig, SamplerSpec};
use crate::records::W1ByTime;
use anyhow::{Context, Result};
use ndarray::Array2;
use pf_train::{TrainReport, Trainer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Tensor};

/// What every refusal of `--resume` ends with.
const HOW: &str =
    "resume with the config it was trained with, or drop --resume and use a fresh --out";

/// `--resume`: every model checkpoint already in `out` must have been written for the same net
/// (sidecar) and hold a tensor of the same shape for every variable (names and shapes), checked
/// before the run writes anything. A model without a checkpoint starts afresh.
pub fn check_models(cfg: &RunConfig, out: &Path) -> Result<()> {
    for m in &cfg.models {
        let ck = crate::io::model_dir(cfg, out, &m.name).join("checkpoint.safetensors");
        if ck.exists() {
            check_model(m, &ck)?;
        }
    }
    Ok(())
}

/// Checks one model's checkpoint `ck` against its config (see [`check_models`]).
fn check_model(m: &ModelConfig, ck: &Path) -> Result<()> {
    let what = format!("cannot resume model {} from {}", m.name, ck.display());
    let named = pf_nets::checkpoint::read_tensors(ck).map_err(|e| {
        let why = e.to_string();
        let why = why.rsplit(": ").next().unwrap_or(&why).to_string();
        anyhow::anyhow!("{what}: not a readable safetensors file ({why}: truncated or corrupt); delete it to train from scratch")
    })?;
    let differs = sidecar_differs(m, ck)?;
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
    if let Some(k) = extra_tensor(&named, &vars) {
        anyhow::bail!(
            "{what}: the checkpoint has tensor `{k}`, the config's net does not{differs}; {HOW}"
        );
    }
    if !differs.is_empty() {
        anyhow::bail!("{what}: the net differs{differs}; {HOW}");
    }
    Ok(())
}

/// The first (by name) model tensor of the checkpoint that the config's net lacks.
fn extra_tensor(named: &HashMap<String, Tensor>, vars: &[(String, Tensor)]) -> Option<String> {
    let mut extra: Vec<&String> = named
        .keys()
        .filter(|k| {
            k.strip_prefix("model.")
                .is_some_and(|n| !vars.iter().any(|(v, _)| v == n))
        })
        .collect();
    extra.sort();
    extra
        .first()
        .map(|k| k.trim_start_matches("model.").to_string())
}

/// What the checkpoint's sidecar says the net was, compared key by key with the config:
/// " (it was trained with net.K = V, the config says W)" (or the same of `param`) at the first
/// difference; empty when they agree or there is no readable sidecar.
fn sidecar_differs(m: &ModelConfig, ck: &Path) -> Result<String> {
    let Ok(side) = pf_train::checkpoint::read_sidecar(ck) else {
        return Ok(String::new());
    };
    let ours = serde_json::to_value(&m.net)?;
    let theirs = side.model.get("model").cloned().unwrap_or_default();
    if let (Some(o), Some(t)) = (ours.as_object(), theirs.as_object()) {
        if let Some((k, tv)) = t.iter().find(|(k, v)| o.get(*k) != Some(*v)) {
            let ov = o.get(k).map_or("absent".to_string(), |v| v.to_string());
            return Ok(format!(
                " (it was trained with net.{k} = {tv}, the config says {ov})"
            ));
        }
    }
    let param = serde_json::to_value(m.param)?;
    if side.model.get("param").is_some_and(|p| *p != param) {
        return Ok(format!(
            " (it was trained with param = {}, the config says {param})",
            side.model["param"]
        ));
    }
    Ok(String::new())
}

/// With `resume`, continues `trainer` (model `name`) from the checkpoint in its output
/// directory, if there is one; a finished model then runs no step.
pub fn model_checkpoint(trainer: &mut Trainer, name: &str, resume: bool) -> Result<()> {
    if !resume {
        return Ok(());
    }
    if let Some(ck) = trainer.checkpoint_path().filter(|p| p.exists()) {
        trainer
            .resume(&ck)
            .with_context(|| format!("resuming model {name} from {}", ck.display()))?;
        tracing::info!(model = %name, step = trainer.step(), "resumed");
    }
    Ok(())
}

/// With `resume`, a model's loss history is every row of its loss.csv, those of the earlier
/// runs too (not only this run's).
pub fn loss_history(trainer: &Trainer, report: &mut TrainReport, resume: bool) -> Result<()> {
    if let Some(csv) = trainer.csv_path().filter(|_| resume) {
        report.history = pf_train::trainer::read_log(&csv)?;
    }
    Ok(())
}

/// A finished sampler's counters (`samples_<label>.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerDone {
    pub nfe: usize,
    /// The method's own diagnostics (MALA's acceptance, …).
    pub diagnostics: std::collections::BTreeMap<String, f64>,
    pub wall_s: f64,
    /// Its figure and animation, as named in metrics.json.
    pub figure: Option<String>,
    pub gif: Option<String>,
    /// W₁ to the exact marginals by time (1-D runs; see `run::time_marginals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w1: Option<W1ByTime>,
}

/// `samples_<label>.json`: what the samples depend on (seed, target, the sampler and the models
/// it uses) and the counters.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    config: serde_json::Value,
    done: SamplerDone,
}

fn marker(dir: &Path, label: &str) -> std::path::PathBuf {
    dir.join(format!("samples_{label}.json"))
}

/// Everything sampler `s`'s samples depend on: the key its finished record is stored under.
pub fn key(cfg: &RunConfig, s: &SamplerSpec) -> Result<serde_json::Value> {
    let models: Vec<&ModelConfig> = cfg
        .models
        .iter()
        .filter(|m| s.sampler.models().models.contains(&m.name.as_str()))
        .collect();
    Ok(serde_json::json!({
        "seed": cfg.seed,
        "target": serde_json::to_value(&cfg.target)?,
        "sampler": serde_json::to_value(s)?,
        "models": serde_json::to_value(models)?,
    }))
}

/// Marks sampler `s` finished (write it after every other file of the sampler).
pub fn mark_finished(
    dir: &Path,
    cfg: &RunConfig,
    s: &SamplerSpec,
    done: SamplerDone,
) -> Result<()> {
    let rec = Record {
        config: key(cfg, s)?,
        done,
    };
    crate::io::text(
        &marker(dir, &s.label()),
        &serde_json::to_string_pretty(&rec)?,
    )
}

/// With `resume`, sampler `s`'s samples (on `device`) and counters if it finished in an earlier
/// run into `dir` with the same seed, target, sampler settings and models (else it runs again).
pub fn finished(
    dir: &Path,
    cfg: &RunConfig,
    s: &SamplerSpec,
    resume: bool,
    device: Device,
) -> Result<Option<(Tensor, SamplerDone)>> {
    let label = s.label();
    let m = marker(dir, &label);
    let npy = dir.join(format!("samples_{label}.npy"));
    if !resume || !m.exists() || !npy.exists() {
        return Ok(None);
    }
    let rec: Option<Record> = std::fs::read_to_string(&m)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(Record { done, .. }) = rec.filter(|r| key(cfg, s).is_ok_and(|k| k == r.config)) else {
        tracing::info!(sampler = %label, "its earlier samples were made otherwise; sampling again");
        return Ok(None);
    };
    let a: Array2<f32> = ndarray_npy::read_npy(&npy)
        .with_context(|| format!("cannot read {} (delete it to sample again)", npy.display()))?;
    let (n, d) = a.dim();
    let v: Vec<f32> = a.into_iter().collect();
    let x = Tensor::from_slice(&v)
        .view([n as i64, d as i64])
        .to_device(device);
    tracing::info!(
        sampler = label,
        "finished in an earlier run; samples reused"
    );
    Ok(Some((x, done)))
}

/// Whether an interrupted run left something in `dir` that `--resume` can use: a training
/// checkpoint (at the top or under `models/<name>/`) or a finished sampler.
pub fn worth_keeping(dir: &Path) -> bool {
    let has = |d: &Path, f: &dyn Fn(&str) -> bool| {
        std::fs::read_dir(d)
            .map(|rd| rd.flatten().any(|e| e.file_name().to_str().is_some_and(f)))
            .unwrap_or(false)
    };
    let ck = |n: &str| n == "checkpoint.safetensors";
    let done = |n: &str| n.starts_with("samples_") && n.ends_with(".json");
    has(dir, &|n| ck(n) || done(n))
        || std::fs::read_dir(dir.join("models"))
            .map(|rd| rd.flatten().any(|e| has(&e.path(), &ck)))
            .unwrap_or(false)
}

/// The command line that resumes this run into `out`: this process's arguments with `--force`
/// dropped, `--out` added if it was implicit and `--resume` appended, after the running binary's
/// name ([`crate::program::name`]; quoted for a POSIX shell).
pub fn command(out: &Path) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has_out = args.iter().any(|a| a == "--out" || a.starts_with("--out="));
    let has_resume = args.iter().any(|a| a == "--resume");
    let mut v: Vec<String> = args.into_iter().filter(|a| a != "--force").collect();
    if !has_out {
        v.push("--out".into());
        v.push(out.display().to_string());
    }
    if !has_resume {
        v.push("--resume".into());
    }
    crate::program::command_line(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_names_this_binary() {
        let c = command(Path::new("runs/a b"));
        let name = crate::program::name();
        assert!(c.starts_with(&format!("{name} ")), "{c}");
        assert!(c.ends_with(" --out 'runs/a b' --resume"), "{c}");
    }

    #[test]
    fn checkpoints_and_finished_samplers_are_worth_keeping() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("config.toml"), b"").unwrap();
        std::fs::write(d.join("samples_ula.npy"), b"").unwrap();
        assert!(!worth_keeping(d));
        std::fs::create_dir_all(d.join("models/vp")).unwrap();
        std::fs::write(d.join("models/vp/checkpoint.safetensors"), b"").unwrap();
        assert!(worth_keeping(d));
        std::fs::remove_dir_all(d.join("models")).unwrap();
        std::fs::write(d.join("samples_ula.json"), b"{}").unwrap();
        assert!(worth_keeping(d));
    }
}

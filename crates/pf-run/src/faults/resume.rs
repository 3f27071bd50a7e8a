//! What `--resume` reuses, and the command that resumes.
//!
//! A model resumes from its checkpoint (a finished one runs no step; see `run::models`). A
//! sampler is finished when `samples_<label>.json` exists: written after its samples, figures
//! and animation, it holds the counters that cannot be recomputed (NFE, diagnostics, wall
//! time). `--resume` then reads `samples_<label>.npy` back instead of sampling again; the
//! metrics are recomputed from it (they are deterministic given the samples and the reference),
//! so the run's outputs equal an uninterrupted run's.

use crate::config::{RunConfig, SamplerSpec};
use anyhow::{Context, Result};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Device, Tensor};

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
    pub w1: Option<crate::run::time_marginals::W1ByTime>,
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

/// Everything sampler `s`'s samples depend on.
fn key(cfg: &RunConfig, s: &SamplerSpec) -> Result<serde_json::Value> {
    let models: Vec<&crate::config::ModelConfig> = cfg
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
    crate::run::outputs::text(
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
/// dropped, `--out` added if it was implicit and `--resume` appended (quoted for a POSIX shell).
pub fn command(out: &Path) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut v = vec!["pf".to_string()];
    let has_out = args.iter().any(|a| a == "--out" || a.starts_with("--out="));
    let has_resume = args.iter().any(|a| a == "--resume");
    v.extend(args.into_iter().filter(|a| a != "--force"));
    if !has_out {
        v.push("--out".into());
        v.push(out.display().to_string());
    }
    if !has_resume {
        v.push("--resume".into());
    }
    v.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

/// `a` quoted for a POSIX shell when it needs it.
fn quote(a: &str) -> String {
    let plain = !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("runs/x"), "runs/x");
        assert_eq!(
            quote("model.vp.net.hidden=[32, 16]"),
            "'model.vp.net.hidden=[32, 16]'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
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

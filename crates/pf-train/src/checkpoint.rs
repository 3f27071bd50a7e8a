//! Training checkpoints: one `.safetensors` with clear name prefixes plus a JSON sidecar.
//!
//! Tensors: `model.<name>` (every variable of the VarStore, buffers included), `ema.<name>` (EMA
//! shadows of the trainable ones, when EMA is on), `adam.m.<name>` / `adam.v.<name>` (Adam's
//! moments), and `train.step` (int64 [1], completed steps), `train.loss_sum` (f64 [1]) and
//! `train.loss_count` (int64 [1]) (the loss accumulated since the last CSV row), so a resumed
//! run continues bit for bit. Sidecar `<stem>.json`: [`TrainSidecar`] (format, step, elapsed
//! seconds, the model's description and the [`TrainConfig`]). Both written atomically.
//!
//! In PyTorch: `sd = safetensors.torch.load_file(path)`, then
//! `{k[len("ema."):]: v for k, v in sd.items() if k.startswith("ema.")}` (or `model.`) is a
//! `state_dict` for the module.

use crate::config::TrainConfig;
use crate::{Error, Result};
use pf_nets::checkpoint::{assign, read_tensors, sidecar_path};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::nn::VarStore;
use tch::Tensor;

/// The `format` tag of a training checkpoint's sidecar.
pub const FORMAT: &str = "pflow-train/1";

/// The JSON beside a training checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSidecar {
    pub format: String,
    /// Completed steps.
    pub step: usize,
    /// Wall-clock seconds of training so far (all sessions).
    pub elapsed_s: f64,
    /// The model's description (usually a [`pf_nets::checkpoint::Sidecar`] as JSON).
    #[serde(default)]
    pub model: serde_json::Value,
    pub train: TrainConfig,
}

/// Which weights to load from a training checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// The raw trained weights (`model.*`).
    Model,
    /// The EMA weights (`ema.*`, with buffers from `model.*`); an error if the run had no EMA.
    Ema,
}

/// Reads the sidecar beside a training checkpoint.
pub fn read_sidecar(path: impl AsRef<Path>) -> Result<TrainSidecar> {
    let side = sidecar_path(path.as_ref());
    let text = std::fs::read_to_string(&side).map_err(|e| Error::file(&side, e))?;
    let s: TrainSidecar = serde_json::from_str(&text).map_err(|e| Error::file(&side, e))?;
    if s.format != FORMAT {
        return Err(Error::file(
            &side,
            format!("format is {:?}, expected {FORMAT:?}", s.format),
        ));
    }
    Ok(s)
}

/// Loads the (EMA) weights of a training checkpoint into a built model, for sampling. A plain
/// pf-nets checkpoint (no `model.` prefix) is accepted too with [`Weights::Model`]. Strict on
/// names and shapes (errors name the file, tensor and shapes).
pub fn load_weights(vs: &VarStore, path: impl AsRef<Path>, which: Weights) -> Result<()> {
    let path = path.as_ref();
    let named = read_tensors(path)?;
    let has_prefix = named.keys().any(|k| k.starts_with("model."));
    if !has_prefix {
        if which == Weights::Ema {
            return Err(Error::checkpoint(
                path,
                "not a training checkpoint (no `model.`/`ema.` tensors): load it with Weights::Model",
            ));
        }
        return Ok(assign(vs, &named, "", path)?);
    }
    match which {
        Weights::Model => Ok(assign(vs, &named, "model.", path)?),
        Weights::Ema => {
            if !named.keys().any(|k| k.starts_with("ema.")) {
                return Err(Error::checkpoint(
                    path,
                    "has no EMA weights (trained without train.ema_decay): use Weights::Model",
                ));
            }
            let mut merged: HashMap<String, Tensor> = HashMap::new();
            for (k, v) in &named {
                if let Some(n) = k.strip_prefix("model.") {
                    merged
                        .entry(n.to_string())
                        .or_insert_with(|| v.shallow_clone());
                }
            }
            for (k, v) in &named {
                if let Some(n) = k.strip_prefix("ema.") {
                    merged.insert(n.to_string(), v.shallow_clone());
                }
            }
            Ok(assign(vs, &merged, "", path)?)
        }
    }
}

/// A scalar read back from `train.<key>` (as f64).
pub(crate) fn scalar(named: &HashMap<String, Tensor>, key: &str, file: &Path) -> Result<f64> {
    let t = named
        .get(key)
        .ok_or_else(|| Error::checkpoint(file, format!("tensor `{key}` is missing")))?;
    Ok(t.to_kind(tch::Kind::Double).view([-1]).double_value(&[0]))
}

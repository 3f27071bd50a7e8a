//! Checkpoints: weights as `.safetensors` (dot-separated names, float32, loadable by
//! `safetensors.torch.load_file` and a PyTorch module's `load_state_dict`) with a JSON sidecar
//! beside them (`model.safetensors` → `model.json`) holding the [`NetConfig`] and what the net
//! predicts.
//!
//! Loading is strict: every model tensor must be in the file with the same shape and every file
//! tensor (under the prefix asked for) must belong to the model; violations are errors naming the
//! file, the tensor and both shapes. Writes are atomic ([`pf_fs`]): a temp file in the same
//! directory, synced, then renamed over the target, so a reader never sees a torn file.

use crate::{Error, Net, NetConfig, Result};
use pf_core::param::Param;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::{Device, Tensor};

/// The `format` tag of a pf-nets sidecar.
pub const FORMAT: &str = "pflow-net/1";

/// The JSON sidecar of a net checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// Always [`FORMAT`].
    pub format: String,
    /// The architecture, enough to rebuild the net before loading its weights.
    pub model: NetConfig,
    /// What the net predicts (ε, score, x₀, velocity), when it is a field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<Param>,
    /// Anything else the writer wants to keep (path, training config, …).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

impl Sidecar {
    pub fn new(model: NetConfig, param: Option<Param>) -> Self {
        Self {
            format: FORMAT.into(),
            model,
            param,
            extra: serde_json::Value::Null,
        }
    }
}

/// `dir/name.safetensors` → `dir/name.json`.
pub fn sidecar_path(path: impl AsRef<Path>) -> PathBuf {
    path.as_ref().with_extension("json")
}

/// Writes through `write` into a temp file beside `path` and renames it over `path`
/// ([`pf_fs::write`]: synced first; the temp file is removed on failure). Creates the directory.
fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    }
    pf_fs::write(path, write)
}

/// Writes named tensors (moved to the CPU, made contiguous) to a `.safetensors` file, atomically.
pub fn write_tensors(named: &[(String, Tensor)], path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let cpu: Vec<(String, Tensor)> = named
        .iter()
        .map(|(n, t)| (n.clone(), t.detach().to_device(Device::Cpu).contiguous()))
        .collect();
    write_atomic(path, |tmp| {
        Tensor::write_safetensors(&cpu, tmp).map_err(|e| Error::file(path, io_reason(&e)))
    })
}

/// An operating-system error inside a safetensors error ("IoError(Os { code: 28, … })") as the
/// OS words it ("No space left on device (os error 28)"); other errors as they are.
fn io_reason(e: &tch::TchError) -> String {
    let text = e.to_string();
    text.split_once("Os { code: ")
        .and_then(|(_, rest)| rest.split(',').next()?.trim().parse::<i32>().ok())
        .map(|code| std::io::Error::from_raw_os_error(code).to_string())
        .unwrap_or(text)
}

/// Serialises `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: Serialize>(value: &T, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::file(path, e))?;
    write_atomic(path, |tmp| {
        std::fs::write(tmp, text + "\n").map_err(|e| Error::file(path, e))
    })
}

/// Reads every tensor of a `.safetensors` file (on the CPU), by name.
pub fn read_tensors(path: impl AsRef<Path>) -> Result<HashMap<String, Tensor>> {
    let path = path.as_ref();
    let v = Tensor::read_safetensors(path).map_err(|e| Error::file(path, e))?;
    Ok(v.into_iter().collect())
}

/// Reads the JSON sidecar beside a checkpoint (or at `path` itself if it ends in `.json`).
pub fn read_sidecar(path: impl AsRef<Path>) -> Result<Sidecar> {
    let path = path.as_ref();
    let side = if path.extension().is_some_and(|e| e == "json") {
        path.to_path_buf()
    } else {
        sidecar_path(path)
    };
    let text = std::fs::read_to_string(&side).map_err(|e| Error::file(&side, e))?;
    let s: Sidecar = serde_json::from_str(&text).map_err(|e| Error::file(&side, e))?;
    if s.format != FORMAT {
        return Err(Error::file(
            &side,
            format!("format is {:?}, expected {FORMAT:?}", s.format),
        ));
    }
    Ok(s)
}

/// The VarStore's variables (trainable and buffers) sorted by name.
pub fn named_variables(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Copies `named[prefix + name]` into every variable `name` of `vs` (converting dtype, moving to
/// the store's device). Strict: a missing tensor, a shape mismatch, or a tensor under `prefix`
/// that the model lacks is an error naming `file`, the tensor and the shapes. Nothing is
/// written unless everything matches.
pub fn assign(
    vs: &VarStore,
    named: &HashMap<String, Tensor>,
    prefix: &str,
    file: &Path,
) -> Result<()> {
    let vars = named_variables(vs);
    // Names first (a missing or an extra tensor says more about the mismatch than a shape).
    for (name, _) in &vars {
        let key = format!("{prefix}{name}");
        if !named.contains_key(&key) {
            return Err(Error::MissingTensor {
                file: file.into(),
                tensor: key,
            });
        }
    }
    let model_keys: std::collections::HashSet<String> =
        vars.iter().map(|(n, _)| format!("{prefix}{n}")).collect();
    let mut extra: Vec<&String> = named
        .keys()
        .filter(|k| k.starts_with(prefix) && !model_keys.contains(*k))
        .collect();
    extra.sort();
    if let Some(k) = extra.first() {
        return Err(Error::UnexpectedTensor {
            file: file.into(),
            tensor: (*k).clone(),
        });
    }
    let mut pairs = Vec::with_capacity(vars.len());
    for (name, var) in &vars {
        let key = format!("{prefix}{name}");
        let src = &named[&key];
        if src.size() != var.size() {
            return Err(Error::ShapeMismatch {
                file: file.into(),
                tensor: key,
                file_shape: src.size(),
                model_shape: var.size(),
            });
        }
        pairs.push((var, src));
    }
    tch::no_grad(|| {
        for (var, src) in pairs {
            let mut v = var.shallow_clone();
            v.copy_(&src.to_device(var.device()).to_kind(var.kind()));
        }
    });
    Ok(())
}

/// Loads a checkpoint's weights into an already-built model (strict, see [`assign`]).
pub fn load_into(vs: &VarStore, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    assign(vs, &read_tensors(path)?, "", path)
}

/// Saves the VarStore's variables (under their own names) and the sidecar, both atomically.
pub fn save(vs: &VarStore, sidecar: &Sidecar, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    write_tensors(&named_variables(vs), path)?;
    write_json(sidecar, sidecar_path(path))
}

/// A net rebuilt from its sidecar with the checkpoint's weights loaded.
pub struct LoadedNet {
    pub vs: VarStore,
    pub net: Box<dyn Net>,
    pub sidecar: Sidecar,
}

/// Reads the sidecar, builds the net on `device`, loads the weights (strict).
pub fn load(path: impl AsRef<Path>, device: Device) -> Result<LoadedNet> {
    let path = path.as_ref();
    let sidecar = read_sidecar(path)?;
    let vs = VarStore::new(device);
    let net = sidecar.model.build(&vs.root())?;
    load_into(&vs, path)?;
    Ok(LoadedNet { vs, net, sidecar })
}

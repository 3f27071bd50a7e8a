//! Initial particles: a standard normal, a scaled and shifted normal (seed 003 part f), another
//! target, or given particles.

use crate::{Error, Result};
use pf_core::target::Target;
use tch::{Device, Kind, Tensor};

/// Where particles start.
pub enum Init<'a> {
    /// N(0, I).
    StdNormal,
    /// N(shift, diag(scale²)), per dimension (length 1 broadcasts).
    Normal { scale: Vec<f64>, shift: Vec<f64> },
    /// Exact samples of another target.
    Target(&'a dyn Target),
    /// Given particles [N, D] (N must match).
    Given(Tensor),
}

impl Init<'_> {
    /// `n` particles of dimension `dim`, float32 on `device`.
    pub fn draw(&self, n: usize, dim: usize, device: Device) -> Result<Tensor> {
        let z = || Tensor::randn([n as i64, dim as i64], (Kind::Float, device));
        Ok(match self {
            Init::StdNormal => z(),
            Init::Normal { scale, shift } => {
                let v = |name: &str, v: &[f64]| -> Result<Tensor> {
                    if v.len() != 1 && v.len() != dim {
                        return Err(Error::invalid(
                            name,
                            format!("{v:?}"),
                            &format!("needs 1 or {dim} values"),
                        ));
                    }
                    Ok(Tensor::from_slice(v).to_kind(Kind::Float).to_device(device))
                };
                z() * v("init.scale", scale)? + v("init.shift", shift)?
            }
            Init::Target(t) => {
                if t.dim() != dim {
                    return Err(Error::invalid(
                        "init.target",
                        t.name(),
                        &format!("has dimension {} but the sampler needs {dim}", t.dim()),
                    ));
                }
                t.sample(n, device)
            }
            Init::Given(x) => {
                let s = x.size();
                if s != [n as i64, dim as i64] {
                    return Err(Error::invalid(
                        "init.particles",
                        format!("{s:?}"),
                        &format!("expected [{n}, {dim}]"),
                    ));
                }
                x.to_kind(Kind::Float).to_device(device)
            }
        })
    }
}

/// Where a sampler's particles start, as configs write it (`init = { kind = "normal", … }`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum InitConfig {
    /// The method's own start: N(0, I) for Langevin, the path prior for diffusion samplers,
    /// the source for flows on the linear path, 8 Gaussians for MonoFlow.
    #[default]
    Default,
    /// N(shift, diag(scale²)).
    Normal {
        #[serde(default = "one_vec")]
        scale: Vec<f64>,
        #[serde(default = "zero_vec")]
        shift: Vec<f64>,
    },
    /// Exact samples of another target.
    Target {
        target: pf_core::target::TargetConfig,
    },
    /// Rows of an N×D `.npy` or CSV file (drawn with replacement when N differs).
    File { path: std::path::PathBuf },
}

fn one_vec() -> Vec<f64> {
    vec![1.0]
}
fn zero_vec() -> Vec<f64> {
    vec![0.0]
}

/// A method's default start.
pub enum Start<'a> {
    /// N(0, std² I).
    Normal(f64),
    /// Exact samples of a target.
    Target(&'a dyn Target),
}

impl InitConfig {
    /// Checks the option's values for dimension `dim`; errors name `key` (`sampler[0].init`).
    pub fn check(&self, key: &str, dim: usize) -> Result<()> {
        let bad = |k: &str, v: String, msg: String| Err(Error::invalid(k, v, &msg));
        match self {
            InitConfig::Normal { scale, shift } => {
                let k = format!("{key}.scale");
                if scale.len() != 1 && scale.len() != dim {
                    return bad(
                        &k,
                        format!("{scale:?}"),
                        format!("give 1 or {dim} values (one per dimension)"),
                    );
                }
                if scale.iter().any(|e| !(*e > 0.0 && e.is_finite())) {
                    return bad(
                        &k,
                        format!("{scale:?}"),
                        "step sizes must be finite and > 0".into(),
                    );
                }
                if shift.len() != 1 && shift.len() != dim {
                    return bad(
                        &format!("{key}.shift"),
                        format!("{shift:?}"),
                        format!("give 1 or {dim} values"),
                    );
                }
            }
            InitConfig::Target { target } => {
                target
                    .validate()
                    .map_err(|e| rekey(e, &format!("{key}.target"), "target."))?;
                let d = target.build()?.dim();
                if d != dim {
                    return Err(Error::Other(format!(
                        "invalid {key}.target: dimension {d} ≠ target dimension {dim}"
                    )));
                }
            }
            InitConfig::File { path } => {
                let d = pf_core::target::DataFile::load(path)
                    .map_err(|e| Error::Other(format!("invalid {key}.path: {e}")))?
                    .dim();
                if d != dim {
                    return bad(
                        &format!("{key}.path"),
                        path.display().to_string(),
                        format!("its rows have {d} columns, the target has dimension {dim}"),
                    );
                }
            }
            InitConfig::Default => {}
        }
        Ok(())
    }

    /// `n` particles [n, dim] on `device`; `default` where the option says `default`.
    pub fn draw(&self, n: usize, dim: usize, device: Device, default: Start) -> Result<Tensor> {
        Ok(match self {
            InitConfig::Default => match default {
                Start::Normal(std) => {
                    Tensor::randn([n as i64, dim as i64], (Kind::Float, device)) * std
                }
                Start::Target(t) => Init::Target(t).draw(n, dim, device)?,
            },
            InitConfig::Normal { scale, shift } => Init::Normal {
                scale: scale.clone(),
                shift: shift.clone(),
            }
            .draw(n, dim, device)?,
            InitConfig::Target { target } => target.build()?.sample(n, device),
            InitConfig::File { path } => pf_core::target::DataFile::load(path)?.sample(n, device),
        })
    }
}

/// Re-roots a pf-core `invalid <root><rest>` message under `key`.
pub(crate) fn rekey(e: impl std::fmt::Display, key: &str, root: &str) -> Error {
    let msg = e.to_string();
    Error::Other(match msg.strip_prefix("invalid ") {
        Some(rest) => format!("invalid {key}.{}", rest.strip_prefix(root).unwrap_or(rest)),
        None => format!("{key}: {msg}"),
    })
}

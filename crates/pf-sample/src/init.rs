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

//! Exponential moving average of the weights: after optimiser step k (k = 0, 1, …),
//!   θ̄ ← d_k θ̄ + (1 − d_k) θ,  d_k = min(d, (1 + k)/(10 + k))   (in place, `lerp_`, no grad),
//! with θ̄ initialised to the initial weights. The warm-up d_k keeps θ̄ close to θ early on, so a
//! short run (or `--quick`) does not sample from weights that are mostly the initial ones.
//! Sampling from θ̄ is usually better than from θ.
//! The shadows live in one flat buffer [P], so an update is two ops (concatenate, `lerp_`).

use crate::adam::{flat_cat, flat_views};
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::Tensor;

/// EMA shadows of named parameters.
#[derive(Debug)]
pub struct Ema {
    decay: f64,
    names: Vec<String>,
    flat: Tensor,
    shadows: Vec<Tensor>,
}

impl Ema {
    /// Shadows initialised to copies of `params`.
    pub fn new(names: &[String], params: &[Tensor], decay: f64) -> Self {
        let flat = tch::no_grad(|| flat_cat(params).detach().copy());
        let shadows = flat_views(&flat, params);
        Self {
            decay,
            names: names.to_vec(),
            flat,
            shadows,
        }
    }

    pub fn decay(&self) -> f64 {
        self.decay
    }
    pub fn shadows(&self) -> &[Tensor] {
        &self.shadows
    }

    /// The decay used after step k: min(d, (1 + k)/(10 + k)).
    pub fn decay_at(&self, k: usize) -> f64 {
        self.decay.min((1.0 + k as f64) / (10.0 + k as f64))
    }

    /// θ̄ ← d_k θ̄ + (1 − d_k) θ after step k.
    pub fn update(&mut self, params: &[Tensor], k: usize) {
        let d = self.decay_at(k);
        tch::no_grad(|| {
            let _ = self.flat.lerp_(&flat_cat(params), 1.0 - d);
        });
    }

    /// Copies the shadows into `params` (e.g. before sampling).
    pub fn copy_to(&self, params: &mut [Tensor]) {
        tch::no_grad(|| {
            for (p, s) in params.iter_mut().zip(&self.shadows) {
                p.copy_(s);
            }
        });
    }

    /// The shadows as named tensors `ema.<name>` (shallow clones).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        self.names
            .iter()
            .zip(&self.shadows)
            .map(|(n, s)| (format!("ema.{n}"), s.shallow_clone()))
            .collect()
    }

    /// Restores the shadows from `ema.<name>` tensors (strict; `file` names the source).
    pub fn load_state(&mut self, named: &HashMap<String, Tensor>, file: &Path) -> Result<()> {
        let mut pairs = Vec::new();
        for (n, dst) in self.names.iter().zip(&self.shadows) {
            let key = format!("ema.{n}");
            let src = named.get(&key).ok_or_else(|| {
                Error::checkpoint(
                    file,
                    format!(
                        "tensor `{key}` is missing (was the run trained without train.ema_decay?)"
                    ),
                )
            })?;
            if src.size() != dst.size() {
                return Err(Error::checkpoint(
                    file,
                    format!(
                        "tensor `{key}` has shape {:?} in the checkpoint but {:?} here",
                        src.size(),
                        dst.size()
                    ),
                ));
            }
            pairs.push((dst.shallow_clone(), src));
        }
        tch::no_grad(|| {
            for (mut dst, src) in pairs {
                dst.copy_(&src.to_device(dst.device()).to_kind(dst.kind()));
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// The warm-up: d_k = min(d, (1 + k)/(10 + k)); after step 0 the shadow moves 90 % of the way.
    #[test]
    fn warm_up_decay() {
        let p = vec![Tensor::zeros([3], (Kind::Float, Device::Cpu))];
        let mut e = Ema::new(&["w".into()], &p, 0.999);
        assert!((e.decay_at(0) - 0.1).abs() < 1e-15);
        assert!((e.decay_at(90) - 0.91).abs() < 1e-12);
        assert!((e.decay_at(100_000) - 0.999).abs() < 1e-15);
        let q = vec![Tensor::ones([3], (Kind::Float, Device::Cpu))];
        e.update(&q, 0);
        assert!((e.shadows()[0].double_value(&[1]) - 0.9).abs() < 1e-6);
    }
}

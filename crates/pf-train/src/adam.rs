//! Adam (Kingma & Ba 2015) over our own moment tensors, so its state can be checkpointed and a
//! resumed run is bit-identical (tch's `nn::Optimizer` hides its state).
//!
//! For each parameter p with gradient g, at update k = 1, 2, … (PyTorch's `torch.optim.Adam`,
//! non-fused, amsgrad off; `weight_decay` is PyTorch's coupled L2, g ← g + wd p):
//!   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
//!   p ← p − lr/(1 − β₁ᵏ) · m / (√v/√(1 − β₂ᵏ) + eps).
//! tch 0.24 exposes neither `_fused_adam_` nor the `_foreach_*` ops, so the update runs as a few
//! in-place ops per parameter under `no_grad` (two temporaries per parameter and step).
//! Global-norm gradient clipping is here too (PyTorch's `clip_grad_norm_`, without a host sync).

use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::nn::VarStore;
use tch::{Kind, Tensor};

/// Adam's hyper-parameters other than the learning rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamParams {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamParams {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Adam over named parameters (see the module docs).
#[derive(Debug)]
pub struct Adam {
    names: Vec<String>,
    params: Vec<Tensor>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    updates: u64,
    hp: AdamParams,
}

/// The trainable variables of a VarStore, sorted by name (shallow clones: same storage).
pub fn trainable_named(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

impl Adam {
    /// Zero moments for each named parameter.
    pub fn new(named: Vec<(String, Tensor)>, hp: AdamParams) -> Self {
        let (names, params): (Vec<String>, Vec<Tensor>) = named.into_iter().unzip();
        let zeros = |p: &Tensor| tch::no_grad(|| p.zeros_like());
        let m = params.iter().map(zeros).collect();
        let v = params.iter().map(zeros).collect();
        Self {
            names,
            params,
            m,
            v,
            updates: 0,
            hp,
        }
    }

    /// Adam over the trainable variables of `vs`.
    pub fn for_var_store(vs: &VarStore, hp: AdamParams) -> Self {
        Self::new(trainable_named(vs), hp)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }
    pub fn params_mut(&mut self) -> &mut [Tensor] {
        &mut self.params
    }
    /// The number of updates made (k in the bias corrections).
    pub fn updates(&self) -> u64 {
        self.updates
    }
    pub fn set_updates(&mut self, k: u64) {
        self.updates = k;
    }
    pub fn hyper(&self) -> AdamParams {
        self.hp
    }

    /// Zeroes the parameters' gradients (in place, where defined).
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.zero_grad();
        }
    }

    /// ‖g‖ over all parameters with a gradient, a 0-dim f32 tensor on the parameters' device
    /// (no host sync).
    pub fn grad_norm(&self) -> Tensor {
        tch::no_grad(|| {
            let norms: Vec<Tensor> = self
                .params
                .iter()
                .map(|p| p.grad())
                .filter(|g| g.defined())
                .map(|g| g.norm().to_kind(Kind::Float))
                .collect();
            if norms.is_empty() {
                let dev = self
                    .params
                    .first()
                    .map(|p| p.device())
                    .unwrap_or(tch::Device::Cpu);
                Tensor::zeros([], (Kind::Float, dev))
            } else {
                Tensor::stack(&norms, 0).norm()
            }
        })
    }

    /// Scales the gradients by min(1, max_norm/(‖g‖ + 1e-6)) in place; returns ‖g‖ before
    /// clipping (0-dim, on device).
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> Tensor {
        let total = self.grad_norm();
        tch::no_grad(|| {
            let coef = ((&total + 1e-6).reciprocal() * max_norm).clamp_max(1.0);
            for p in &self.params {
                let mut g = p.grad();
                if g.defined() {
                    let _ = g.g_mul_(&coef.to_kind(g.kind()));
                }
            }
        });
        total
    }

    /// One Adam update with learning rate `lr` from the current gradients (parameters without a
    /// gradient are left alone, their moments too).
    pub fn step(&mut self, lr: f64) {
        self.updates += 1;
        let k = self.updates as i32;
        let AdamParams {
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.hp;
        let bc1 = 1.0 - beta1.powi(k);
        let bc2_sqrt = (1.0 - beta2.powi(k)).sqrt();
        let step_size = lr / bc1;
        tch::no_grad(|| {
            for ((p, m), v) in self
                .params
                .iter_mut()
                .zip(self.m.iter_mut())
                .zip(self.v.iter_mut())
            {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let g = if weight_decay != 0.0 {
                    &g + &*p * weight_decay
                } else {
                    g
                };
                let _ = m.lerp_(&g, 1.0 - beta1);
                let _ = v.g_mul_scalar_(beta2);
                let _ = v.addcmul_(&g, &(&g * (1.0 - beta2)));
                // denom = √v/√bc2 + eps; p ← p − step_size · m/denom
                let mut d = v.sqrt();
                let _ = d.g_div_scalar_(bc2_sqrt);
                let _ = d.g_add_scalar_(eps);
                let _ = d.reciprocal_();
                let _ = d.g_mul_(m);
                let _ = d.g_mul_scalar_(step_size);
                let _ = p.g_sub_(&d);
            }
        });
    }

    /// The moments as named tensors `adam.m.<name>`, `adam.v.<name>` (shallow clones).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.names.len());
        for (i, n) in self.names.iter().enumerate() {
            out.push((format!("adam.m.{n}"), self.m[i].shallow_clone()));
            out.push((format!("adam.v.{n}"), self.v[i].shallow_clone()));
        }
        out
    }

    /// Restores the moments from named tensors (as written by [`state`](Self::state)); `file`
    /// names the source in errors. Strict: every moment must be present with the right shape.
    pub fn load_state(&mut self, named: &HashMap<String, Tensor>, file: &Path) -> Result<()> {
        let mut pairs = Vec::new();
        for (i, n) in self.names.iter().enumerate() {
            for (key, dst) in [
                (format!("adam.m.{n}"), &self.m[i]),
                (format!("adam.v.{n}"), &self.v[i]),
            ] {
                let src = named
                    .get(&key)
                    .ok_or_else(|| Error::checkpoint(file, format!("tensor `{key}` is missing")))?;
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
    use tch::nn::{OptimizerConfig, VarStore};
    use tch::Device;

    /// Our Adam matches tch's (libtorch's own Adam) on a small quadratic, step for step.
    #[test]
    fn matches_libtorch_adam() {
        tch::manual_seed(1);
        let target = Tensor::randn([5, 3], (Kind::Float, Device::Cpu));
        let make = || {
            let vs = VarStore::new(Device::Cpu);
            let _ = vs.root().var("w", &[5, 3], tch::nn::Init::Const(0.5));
            vs
        };
        let (vs1, vs2) = (make(), make());
        let mut ours = Adam::for_var_store(&vs1, AdamParams::default());
        let mut theirs = tch::nn::Adam::default().build(&vs2, 1e-2).unwrap();
        let loss = |vs: &VarStore| {
            let w = &vs.variables()["w"];
            (w - &target).square().sum(Kind::Float) + w.pow_tensor_scalar(4).sum(Kind::Float)
        };
        for _ in 0..50 {
            ours.zero_grad();
            loss(&vs1).backward();
            ours.step(1e-2);
            theirs.zero_grad();
            loss(&vs2).backward();
            theirs.step();
        }
        let d = (&vs1.variables()["w"] - &vs2.variables()["w"])
            .abs()
            .max()
            .double_value(&[]);
        assert!(d < 1e-6, "max diff {d}");
    }

    #[test]
    fn clipping_scales_to_max_norm() {
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[4], tch::nn::Init::Const(1.0));
        let mut a = Adam::for_var_store(&vs, AdamParams::default());
        (&w * 10.0).sum(Kind::Float).backward(); // g = 10 each, ‖g‖ = 20
        let n = a.clip_grad_norm(2.0).double_value(&[]);
        assert!((n - 20.0).abs() < 1e-5);
        assert!((a.grad_norm().double_value(&[]) - 2.0).abs() < 1e-5);
    }
}

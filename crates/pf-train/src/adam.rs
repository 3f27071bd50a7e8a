//! Adam (Kingma & Ba 2015) over our own moment tensors, so its state can be checkpointed and a
//! resumed run is bit-identical (tch's `nn::Optimizer` hides its state).
//!
//! For each parameter p with gradient g, at update k = 1, 2, … (PyTorch's `torch.optim.Adam`,
//! amsgrad off; `weight_decay` is PyTorch's coupled L2, g ← g + wd p):
//!   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
//!   p ← p − lr/(1 − β₁ᵏ) · m / (√v/√(1 − β₂ᵏ) + eps).
//! tch 0.24 exposes neither `_fused_adam_` nor the `_foreach_*` ops, so the moments live in two
//! flat buffers [P] (P = total parameter count) and one update is a dozen in-place ops on them
//! plus one `sub_` per parameter, under `no_grad` — for the small nets here the per-op overhead
//! (a kernel launch on CUDA) dominates, so few ops matter more than few flops. A parameter
//! without a gradient at some step falls back to the per-parameter path (its moments untouched,
//! as in PyTorch; the bias corrections use the optimiser's update count k, where PyTorch counts
//! per parameter — the two differ only for parameters unused in early steps). Global-norm
//! gradient clipping (PyTorch's `clip_grad_norm_`) is fused in
//! ([`Adam::step_clipped`]) and never syncs with the host.

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
    /// the flat moments [P]
    m: Tensor,
    v: Tensor,
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

/// Flattens and concatenates tensors into one [P] vector.
pub(crate) fn flat_cat(ts: &[Tensor]) -> Tensor {
    let views: Vec<Tensor> = ts.iter().map(|t| t.reshape([-1])).collect();
    Tensor::cat(&views, 0)
}

/// Views of a flat [P] buffer shaped like `like` (shallow: they share the buffer's storage).
pub(crate) fn flat_views(flat: &Tensor, like: &[Tensor]) -> Vec<Tensor> {
    let mut off = 0;
    like.iter()
        .map(|p| {
            let n = p.numel() as i64;
            let v = flat.narrow(0, off, n).view(p.size().as_slice());
            off += n;
            v
        })
        .collect()
}

impl Adam {
    /// Zero moments for each named parameter (all of one dtype and device, as in a VarStore).
    pub fn new(named: Vec<(String, Tensor)>, hp: AdamParams) -> Self {
        let (names, params): (Vec<String>, Vec<Tensor>) = named.into_iter().unzip();
        let total: i64 = params.iter().map(|p| p.numel() as i64).sum();
        let (kind, dev) = params
            .first()
            .map(|p| (p.kind(), p.device()))
            .unwrap_or((Kind::Float, tch::Device::Cpu));
        assert!(
            params.iter().all(|p| p.kind() == kind && p.device() == dev),
            "Adam: all parameters must share one dtype and device"
        );
        let m = Tensor::zeros([total], (kind, dev));
        let v = Tensor::zeros([total], (kind, dev));
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

    /// ‖g‖ over all parameters with a gradient, a 0-dim tensor on the parameters' device
    /// (no host sync).
    pub fn grad_norm(&self) -> Tensor {
        tch::no_grad(|| match self.flat_grad() {
            Some(g) => g.norm(),
            None => {
                let norms: Vec<Tensor> = self
                    .params
                    .iter()
                    .map(|p| p.grad())
                    .filter(|g| g.defined())
                    .map(|g| g.norm())
                    .collect();
                if norms.is_empty() {
                    self.m.zeros_like().sum(self.m.kind())
                } else {
                    Tensor::stack(&norms, 0).norm()
                }
            }
        })
    }

    /// All gradients flattened into one [P] vector, if every parameter has one.
    fn flat_grad(&self) -> Option<Tensor> {
        let grads: Vec<Tensor> = self.params.iter().map(|p| p.grad()).collect();
        if grads.iter().all(|g| g.defined()) {
            Some(flat_cat(&grads))
        } else {
            None
        }
    }

    /// min(1, max_norm/(‖g‖ + 1e-6)) as a 0-dim tensor.
    fn clip_coef(norm: &Tensor, max_norm: f64) -> Tensor {
        ((norm + 1e-6).reciprocal() * max_norm).clamp_max(1.0)
    }

    /// Scales the gradients by min(1, max_norm/(‖g‖ + 1e-6)) in place; returns ‖g‖ before
    /// clipping (0-dim, on device).
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> Tensor {
        let total = self.grad_norm();
        tch::no_grad(|| {
            let coef = Self::clip_coef(&total, max_norm);
            for p in &self.params {
                let mut g = p.grad();
                if g.defined() {
                    let _ = g.g_mul_(&coef);
                }
            }
        });
        total
    }

    /// One Adam update with learning rate `lr` from the current gradients (parameters without a
    /// gradient are left alone, their moments too).
    pub fn step(&mut self, lr: f64) {
        let _ = self.step_clipped(lr, None);
    }

    /// Clips the gradient to global norm `max_norm` (if given) and makes one Adam update.
    /// Returns ‖g‖ before clipping (0-dim, on device; no host sync).
    pub fn step_clipped(&mut self, lr: f64, max_norm: Option<f64>) -> Tensor {
        let Some(mut g) = tch::no_grad(|| self.flat_grad()) else {
            let norm = match max_norm {
                Some(c) => self.clip_grad_norm(c),
                None => self.grad_norm(),
            };
            self.step_per_param(lr);
            return norm;
        };
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
            let norm = g.norm();
            if let Some(c) = max_norm {
                let _ = g.g_mul_(&Self::clip_coef(&norm, c));
            }
            if weight_decay != 0.0 {
                let _ = g.g_add_(&(flat_cat(&self.params) * weight_decay));
            }
            let _ = self.m.lerp_(&g, 1.0 - beta1);
            let _ = self.v.g_mul_scalar_(beta2);
            let _ = g.g_mul_scalar_((1.0 - beta2).sqrt());
            let _ = self.v.addcmul_(&g, &g);
            // d = step_size · m / (√v/√bc2 + eps), reusing g's buffer
            let mut d = g;
            d.copy_(&self.v);
            let _ = d.sqrt_();
            let _ = d.g_div_scalar_(bc2_sqrt);
            let _ = d.g_add_scalar_(eps);
            let _ = d.reciprocal_();
            let _ = d.g_mul_(&self.m);
            let _ = d.g_mul_scalar_(step_size);
            let updates = flat_views(&d, &self.params);
            for (p, u) in self.params.iter_mut().zip(updates) {
                let _ = p.g_sub_(&u);
            }
            norm
        })
    }

    /// The per-parameter update (some parameter has no gradient this step).
    fn step_per_param(&mut self, lr: f64) {
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
        let ms = flat_views(&self.m, &self.params);
        let vs = flat_views(&self.v, &self.params);
        tch::no_grad(|| {
            for ((p, mut m), mut v) in self.params.iter_mut().zip(ms).zip(vs) {
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
                let mut d = v.sqrt();
                let _ = d.g_div_scalar_(bc2_sqrt);
                let _ = d.g_add_scalar_(eps);
                let _ = d.reciprocal_();
                let _ = d.g_mul_(&m);
                let _ = d.g_mul_scalar_(step_size);
                let _ = p.g_sub_(&d);
            }
        });
    }

    /// The moments as named tensors `adam.m.<name>`, `adam.v.<name>` (views of the flat
    /// buffers, shaped like the parameters).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let ms = flat_views(&self.m, &self.params);
        let vs = flat_views(&self.v, &self.params);
        let mut out = Vec::with_capacity(2 * self.names.len());
        for ((n, m), v) in self.names.iter().zip(ms).zip(vs) {
            out.push((format!("adam.m.{n}"), m));
            out.push((format!("adam.v.{n}"), v));
        }
        out
    }

    /// Restores the moments from named tensors (as written by [`state`](Self::state)); `file`
    /// names the source in errors. Strict: every moment must be present with the right shape.
    pub fn load_state(&mut self, named: &HashMap<String, Tensor>, file: &Path) -> Result<()> {
        let mut pairs = Vec::new();
        for (key, dst) in self.state() {
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
            pairs.push((dst, src));
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
        let _rng = pf_core::rng::seed_exclusive(1);
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

    /// A parameter without a gradient (unused by the loss) takes the per-parameter path: it and
    /// its moments stay untouched while the others follow libtorch's Adam exactly.
    #[test]
    fn unused_parameters_are_left_alone() {
        let _rng = pf_core::rng::seed_exclusive(0);
        let make = || {
            let vs = VarStore::new(Device::Cpu);
            let _ = vs.root().var("a", &[3], tch::nn::Init::Const(0.3));
            let _ = vs.root().var("b", &[2], tch::nn::Init::Const(-0.7));
            vs
        };
        let (vs1, vs2) = (make(), make());
        let mut ours = Adam::for_var_store(&vs1, AdamParams::default());
        let mut theirs = tch::nn::Adam::default().build(&vs2, 1e-2).unwrap();
        let loss = |vs: &VarStore| vs.variables()["a"].square().sum(Kind::Float);
        for _ in 0..10 {
            ours.zero_grad();
            loss(&vs1).backward();
            ours.step(1e-2);
            theirs.zero_grad();
            loss(&vs2).backward();
            theirs.step();
        }
        let v = vs1.variables();
        let d = (&v["a"] - &vs2.variables()["a"])
            .abs()
            .max()
            .double_value(&[]);
        assert!(d < 1e-6, "a: max diff {d}");
        assert!(v["b"].equal(&Tensor::full([2], -0.7, (Kind::Float, Device::Cpu))));
        let st: HashMap<String, Tensor> = ours.state().into_iter().collect();
        assert_eq!(st["adam.m.b"].abs().sum(Kind::Float).double_value(&[]), 0.0);
        assert_eq!(st["adam.v.b"].abs().sum(Kind::Float).double_value(&[]), 0.0);
    }

    #[test]
    fn clipping_scales_to_max_norm() {
        let _rng = pf_core::rng::seed_exclusive(0);
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[4], tch::nn::Init::Const(1.0));
        let mut a = Adam::for_var_store(&vs, AdamParams::default());
        (&w * 10.0).sum(Kind::Float).backward(); // g = 10 each, ‖g‖ = 20
        let n = a.clip_grad_norm(2.0).double_value(&[]);
        assert!((n - 20.0).abs() < 1e-5);
        assert!((a.grad_norm().double_value(&[]) - 2.0).abs() < 1e-5);
    }
}

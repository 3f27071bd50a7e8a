//! The seams for fields: a score field s(x, t) = ∇ₓ log p_t(x) and a velocity field v(x, t).
//!
//! Time runs t = 0 (data) to t = 1 (prior/source) everywhere in pflow. Shapes: `x` is [N, D];
//! `t` is [N, 1], or [1, 1] meaning one time for the whole batch (broadcast). Both return [N, D].
//! Analytic oracles, networks wrapped by a parameterisation, and closures all implement them, so
//! a sampler never knows what it is driving.
//!
//! ```
//! use pf_core::field::{FnScore, ScoreField};
//! use tch::{Kind, Tensor};
//! // the score of N(0, I) is -x, at every t
//! let s = FnScore(|x: &Tensor, _t: &Tensor| -x);
//! let x = Tensor::ones([4, 2], (Kind::Float, tch::Device::Cpu));
//! let t = Tensor::zeros([1, 1], (Kind::Float, tch::Device::Cpu));
//! assert_eq!(s.score(&x, &t).sum(Kind::Float).double_value(&[]), -8.0);
//! ```

use tch::Tensor;

/// The kinds of field a trained (or exact) model can serve, as samplers ask for them and training
/// objectives provide them. A sampler can use a model exactly when the model provides the kind
/// it needs; configs are checked against this before anything runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// s(x, t) = ∇ₓ log p_t(x) on a Gaussian path ([`ScoreField`]).
    Score,
    /// v(x, t) transporting p_t ([`VelocityField`]).
    Velocity,
    /// DDPM's noise predictor ε(x_k, k) on a discrete schedule.
    DdpmNoise,
}

impl std::fmt::Display for FieldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FieldKind::Score => "score",
            FieldKind::Velocity => "velocity",
            FieldKind::DdpmNoise => "ddpm",
        })
    }
}

/// s(x, t) = ∇ₓ log p_t(x). Shapes: x [N, D], t [N, 1] or [1, 1] → [N, D].
pub trait ScoreField {
    fn score(&self, x: &Tensor, t: &Tensor) -> Tensor;
}

/// An optional capability of a closed-form, time-independent score s(x) = ∇ₓ log p(x): one
/// fused, in-place Langevin step
///   x ← x + η ⊙ s(x) + c ⊙ ξ,
/// with η and c given per dimension (1 or D values) and the noise ξ [N, D] already drawn. It
/// equals the plain step (the score, then two `addcmul_`) to float rounding.
///
/// Returns false, leaving `x` untouched, where it has no kernel for this device, dtype or layout;
/// the caller then takes the plain path. pf-core's funnel and ring implement it on contiguous
/// float32 CPU batches ([`crate::target::TargetConfig::fused_langevin`] hands it out).
pub trait FusedLangevin: Send + Sync {
    fn ula_step(&self, x: &mut Tensor, eta: &[f32], c: &[f32], xi: &Tensor) -> bool;
}

/// v(x, t), the velocity that transports p_t in time. With t = 0 data and t = 1 prior, a sample is
/// drawn by integrating dx/dt = v(x, t) from t = 1 down to t = 0.
/// Shapes: x [N, D], t [N, 1] or [1, 1] → [N, D].
pub trait VelocityField {
    fn velocity(&self, x: &Tensor, t: &Tensor) -> Tensor;
}

/// A closure as a score field.
pub struct FnScore<F>(pub F);
impl<F: Fn(&Tensor, &Tensor) -> Tensor> ScoreField for FnScore<F> {
    fn score(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (self.0)(x, t)
    }
}

/// A time-independent score ∇ₓ log p(x) as a score field: the closure takes x [N, D] only, and
/// the t a sampler passes is ignored (Langevin-type samplers on a fixed target).
///
/// ```
/// use pf_core::field::{ScoreField, StaticScore};
/// use tch::{Kind, Tensor};
/// let s = StaticScore(|x: &Tensor| -x); // N(0, I)
/// let x = Tensor::ones([2, 3], (Kind::Float, tch::Device::Cpu));
/// let t = Tensor::zeros([1, 1], (Kind::Float, tch::Device::Cpu));
/// assert_eq!(s.score(&x, &t).sum(Kind::Float).double_value(&[]), -6.0);
/// ```
pub struct StaticScore<F>(pub F);
impl<F: Fn(&Tensor) -> Tensor> ScoreField for StaticScore<F> {
    fn score(&self, x: &Tensor, _t: &Tensor) -> Tensor {
        (self.0)(x)
    }
}

/// A closure as a velocity field.
pub struct FnVelocity<F>(pub F);
impl<F: Fn(&Tensor, &Tensor) -> Tensor> VelocityField for FnVelocity<F> {
    fn velocity(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (self.0)(x, t)
    }
}

impl<S: ScoreField + ?Sized> ScoreField for &S {
    fn score(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (**self).score(x, t)
    }
}
impl<S: ScoreField + ?Sized> ScoreField for Box<S> {
    fn score(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (**self).score(x, t)
    }
}
impl<V: VelocityField + ?Sized> VelocityField for &V {
    fn velocity(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (**self).velocity(x, t)
    }
}
impl<V: VelocityField + ?Sized> VelocityField for Box<V> {
    fn velocity(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (**self).velocity(x, t)
    }
}

/// ∇ₓ f(x) by autograd for a per-sample scalar function f: [N, D] → [N] (e.g. a log-density).
/// Rows are independent, so one backward pass of Σᵢ f(xᵢ) gives every row its own gradient.
/// Works under an outer `no_grad` (gradients are switched on locally). Returns a detached [N, D].
pub fn autograd_grad(x: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> Tensor {
    tch::with_grad(|| {
        let xg = x.detach().set_requires_grad(true);
        let y = f(&xg).sum(xg.kind());
        let g = Tensor::run_backward(&[y], &[&xg], false, false);
        g.into_iter().next().expect("one gradient").detach()
    })
}

/// A target's own score ∇ₓ log p(x) as a (time-independent) score field: analytic where the
/// target has one, autograd of `log_prob` otherwise.
///
/// Panics if the target has neither (check [`crate::target::Target::score`] first).
pub struct TargetScore<'a>(pub &'a dyn crate::target::Target);
impl ScoreField for TargetScore<'_> {
    fn score(&self, x: &Tensor, _t: &Tensor) -> Tensor {
        self.0
            .score(x)
            .expect("TargetScore needs a target with a score or log_prob")
    }
}

/// The score of a log-density by autograd: s(x) = ∇ₓ log p(x) (seed 003's `create_grad_func`).
/// The closure maps [N, D] to per-row log-densities [N] (unnormalised is fine).
pub struct AutogradScore<F>(pub F);
impl<F: Fn(&Tensor) -> Tensor> ScoreField for AutogradScore<F> {
    fn score(&self, x: &Tensor, _t: &Tensor) -> Tensor {
        autograd_grad(x, &self.0)
    }
}

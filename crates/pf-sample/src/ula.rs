//! The unadjusted Langevin algorithm (seeds 001, 003):
//! x ← x + η ⊙ ∇log p(x) + √(2η) ⊙ ξ, ξ ~ N(0, I), with a per-dimension step η.
//!
//! Its stationary law is p only as η → 0: on N(0, 1) it is N(0, 1/(1 − η/2)). The optional
//! separate noise scale τ (x ← x + η ⊙ s + √(2τ) ⊙ ξ) is seed 001's tempered form; with τ ≠ η it
//! is **not** ULA and targets a tempered density (p^(η/τ) for small steps).
//!
//! Fast path: on contiguous float32 CPU particles the noise comes from pf-core's
//! [`GaussianStream`] (seeded from libtorch's generator, so `tch::manual_seed` still fixes every
//! draw; several times faster than libtorch's serial `normal_`), and a fused step of the score
//! ([`FusedLangevin`], e.g. the funnel's and ring's closed-form scores, passed to [`Ula::run`]
//! alongside the score) updates the particles in one pass with no temporaries. Elsewhere (CUDA,
//! float64, autograd or network scores) each step is `normal_`/stream fill, the score, and two
//! in-place `addcmul_`.

use crate::driver::Driver;
use crate::init::{InitConfig, Start};
use crate::sampler::{Check, Ctx, Sampler};
use crate::{Error, Result, SampleOut};
use pf_core::field::{FusedLangevin, ScoreField};
use pf_core::rng::GaussianStream;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// ULA's update rule.
#[derive(Clone, Debug)]
pub struct Ula {
    pub steps: usize,
    /// Step size η, one per dimension or one for all.
    pub eta: Vec<f64>,
    /// Seed 001's separate noise scale τ (None: τ = η, i.e. ULA).
    pub noise_scale: Option<Vec<f64>>,
}

impl Default for Ula {
    fn default() -> Self {
        Self {
            steps: 1000,
            eta: vec![1e-2],
            noise_scale: None,
        }
    }
}

/// A per-dimension coefficient (1 or `dim` values, each finite and > 0) as a [len] tensor.
pub fn per_dim(key: &str, v: &[f64], dim: usize, device: Device) -> Result<Tensor> {
    if v.len() != 1 && v.len() != dim {
        return Err(Error::invalid(
            key,
            format!("{v:?}"),
            &format!("needs 1 or {dim} values"),
        ));
    }
    if v.iter().any(|e| !(*e > 0.0 && e.is_finite())) {
        return Err(Error::invalid(
            key,
            format!("{v:?}"),
            "must be finite and > 0",
        ));
    }
    Ok(Tensor::from_slice(v).to_kind(Kind::Float).to_device(device))
}

impl Ula {
    /// Runs ULA from the particles `x` [N, D], driven by `score` (evaluated at t = 0; any
    /// [`ScoreField`] works, e.g. a target's analytic score or autograd of a log-density).
    /// `fused`, when given, must be a fused step of the same score: it takes each step it has a
    /// kernel for (same result to float rounding), `score` the others.
    pub fn run(
        &self,
        score: &dyn ScoreField,
        fused: Option<&dyn FusedLangevin>,
        x: Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        let (dim, device) = (x.size()[1] as usize, x.device());
        let eta = per_dim("eta", &self.eta, dim, device)?;
        let tau = per_dim(
            "noise_scale",
            self.noise_scale.as_deref().unwrap_or(&self.eta),
            dim,
            device,
        )?;
        let noise_std = (&tau * 2.0).sqrt();
        // the same coefficients as f32 slices for fused steps (1 or D values each)
        let eta32: Vec<f32> = self.eta.iter().map(|&e| e as f32).collect();
        let std32 = Vec::<f32>::try_from(&noise_std.to_device(Device::Cpu))?;
        let mut x = x.to_kind(Kind::Float);
        let t0 = Tensor::zeros([1, 1], (Kind::Float, device));
        let mut xi = x.empty_like();
        let mut fast_noise = (xi.device() == Device::Cpu && xi.kind() == Kind::Float)
            .then(GaussianStream::from_torch);
        drv.begin("ula", "lower eta (the step size)", self.steps, None, &x);
        tch::no_grad(|| -> Result<()> {
            for k in 1..=self.steps {
                if !fast_noise.as_mut().is_some_and(|g| g.fill_tensor(&mut xi)) {
                    let _ = xi.normal_(0.0, 1.0);
                }
                if !fused.is_some_and(|f| f.ula_step(&mut x, &eta32, &std32, &xi)) {
                    let s = score.score(&x, &t0);
                    let _ = x.addcmul_(&s, &eta);
                    let _ = x.addcmul_(&xi, &noise_std);
                }
                drv.step(k, None, &x)?;
            }
            Ok(())
        })?;
        Ok(SampleOut::new(x, drv.trajectory(), self.steps))
    }
}

pub use crate::score_source::ScoreSource;

/// `method = "ula"`: unadjusted Langevin on the target, x ← x + η ⊙ s + √(2τ) ⊙ ξ (τ = η unless
/// `noise_scale`), from N(0, I) unless `init` says otherwise.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UlaConfig {
    #[serde(default = "particles")]
    pub particles: usize,
    #[serde(default = "steps")]
    pub steps: usize,
    #[serde(default = "eta")]
    pub eta: Vec<f64>,
    #[serde(default)]
    pub noise_scale: Option<Vec<f64>>,
    #[serde(default = "score_target")]
    pub score: ScoreSource,
    #[serde(default)]
    pub init: InitConfig,
}

pub(crate) fn particles() -> usize {
    10_000
}
pub(crate) fn steps() -> usize {
    1500
}
pub(crate) fn eta() -> Vec<f64> {
    vec![1e-3]
}
fn score_target() -> ScoreSource {
    ScoreSource::Target
}

impl Sampler for UlaConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::none()
    }
    fn footprint(&self) -> crate::Footprint {
        let rows = if self.score == ScoreSource::Autograd { 24.0 } else { 12.0 };
        crate::Footprint::new(rows, self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.log_density()?;
        cx.at_least_one("steps", self.steps)?;
        cx.per_dim("eta", &self.eta)?;
        if let Some(ns) = &self.noise_scale {
            cx.per_dim("noise_scale", ns)?;
        }
        cx.init("init", &self.init)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let x0 = cx.initial(&self.init, self.particles, Start::Normal(1.0))?;
        let ula = Ula {
            steps: self.steps,
            eta: self.eta.clone(),
            noise_scale: self.noise_scale.clone(),
        };
        // the closed-form score may have a fused kernel; autograd never does
        let fused = cx.fused.filter(|_| self.score == ScoreSource::Target);
        ula.run(&*self.score.field(cx.target)?, fused, x0, drv)
    }
}

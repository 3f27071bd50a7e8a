//! Annealed Langevin dynamics (Song & Ermon 2019), `method = "ald"`.
//!
//! Noise levels σ_1 > σ_2 > … > σ_L, geometric from `sigma_max` to `sigma_min`
//! (σ_i = σ_max (σ_min/σ_max)^{(i−1)/(L−1)}). At each level in turn, T = `steps_per_level`
//! Langevin steps on the noised density p_{σ_i}, with a step that shrinks with the level,
//!
//!   α_i = ε σ_i²/σ_L²,   x ← x + α_i s(x, σ_i) + √(2α_i) z,  z ~ N(0, I),
//!
//! so that α_i/σ_i² (the step over the level's squared length scale, what sets Langevin's
//! accuracy and mixing) is the same ε/σ_L² at every level. Particles start from N(0, σ_1² I)
//! (unless `init` says otherwise); with `denoise = true` one last step moves them to the
//! posterior mean of the clean point (Tweedie): x ← (x + σ_L² s(x, σ_L))/α(t_L), which is
//! x + σ_L² s(x, σ_L) on VE paths (α = 1). NFE = L·T (+ 1 with `denoise`).
//!
//! **The score model.** `model` names any score model on a Gaussian path x_t = α(t) x₀ + σ(t) ε
//! (trained with `ssm`, `dsm`, `csm`, or an `[[exact]]` mixture field): level σ_i is read at the
//! time t_i with σ(t_i) = σ_i on that path, found by bisection on the increasing σ(t) (on the VE
//! path, t_i = ln(σ_i/σ_min)/ln(σ_max/σ_min) in closed form, which the bisection reproduces to
//! rounding). The levels must lie within the path's [σ(0), σ(t_max)]; `check` says so, naming the
//! key. On a path with α ≠ 1 (VP) level i targets the path's marginal p_{t_i}, a scaled and
//! noised copy of the data, which still anneals to the data as σ_L → 0.
//!
//! The loop runs under no-grad with in-place updates and no host read per step (the shared
//! [`Driver`] records and guards); on float32 CPU particles the noise comes from pf-core's
//! [`GaussianStream`], as in ULA.

use pf_core::field::{FieldKind, ScoreField};
use pf_core::path::GaussianPath;
use pf_core::rng::GaussianStream;
use pf_sample::{
    Budget, Check, Ctx, Driver, Error, Footprint, InitConfig, ModelUse, Quick, Result, SampleOut,
    Sampler, Start,
};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// σ_max (σ_min/σ_max)^{i/(L−1)} for i = 0..L: `levels` geometric levels from `sigma_max` down
/// to `sigma_min` (one level: `sigma_max`).
pub fn geometric_levels(sigma_max: f64, sigma_min: f64, levels: usize) -> Vec<f64> {
    if levels <= 1 {
        return vec![sigma_max; levels];
    }
    let r = (sigma_min / sigma_max).ln() / (levels - 1) as f64;
    (0..levels)
        .map(|i| {
            if i + 1 == levels {
                sigma_min
            } else {
                sigma_max * (r * i as f64).exp()
            }
        })
        .collect()
}

/// The time t ∈ [0, t_max] with σ(t) = `sigma` on `path` (σ increasing), by bisection to f64
/// resolution; None when σ is outside [σ(0), σ(t_max)] (beyond a relative 1e-9) or the path's
/// σ does not increase.
pub fn time_of_sigma(path: &dyn GaussianPath, sigma: f64) -> Option<f64> {
    let (mut lo, mut hi) = (0.0, path.t_max());
    let (s_lo, s_hi) = (path.coeffs(lo).sigma, path.coeffs(hi).sigma);
    if !(s_lo < s_hi && sigma.is_finite()) {
        return None;
    }
    if sigma < s_lo * (1.0 - 1e-9) || sigma > s_hi * (1.0 + 1e-9) {
        return None;
    }
    if sigma <= s_lo {
        return Some(lo);
    }
    if sigma >= s_hi {
        return Some(hi);
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if path.coeffs(mid).sigma < sigma {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// The update rule: the levels σ_1 > … > σ_L, T steps per level, base step ε, and the optional
/// final denoising step.
#[derive(Clone, Debug)]
pub struct Ald {
    pub sigmas: Vec<f64>,
    pub steps_per_level: usize,
    pub eps: f64,
    pub denoise: bool,
}

impl Ald {
    /// α_i = ε σ_i²/σ_L² per level.
    pub fn step_sizes(&self) -> Vec<f64> {
        let last = self.sigmas.last().copied().unwrap_or(1.0);
        self.sigmas
            .iter()
            .map(|s| self.eps * (s / last).powi(2))
            .collect()
    }

    /// The score evaluations of a run.
    pub fn nfe(&self) -> usize {
        self.sigmas.len() * self.steps_per_level + usize::from(self.denoise)
    }

    /// Runs the chain from `x` [N, D] driven by `score` on `path` (level σ_i read at the time
    /// t_i with σ(t_i) = σ_i). Returns the final particles, the trajectory the driver recorded
    /// (at each step's level time) and NFE.
    pub fn run(
        &self,
        score: &dyn ScoreField,
        path: &dyn GaussianPath,
        x: Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        if self.sigmas.is_empty() {
            return Err(Error::invalid("levels", 0, "must be ≥ 1"));
        }
        if self.steps_per_level == 0 {
            return Err(Error::invalid("steps_per_level", 0, "must be ≥ 1"));
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(Error::invalid("eps", self.eps, "must be finite and > 0"));
        }
        if self.sigmas.iter().any(|s| !(*s > 0.0 && s.is_finite()))
            || self.sigmas.windows(2).any(|w| w[1] >= w[0])
        {
            return Err(Error::invalid(
                "sigmas",
                format!("{:?}", self.sigmas),
                "must be finite, > 0 and decreasing",
            ));
        }
        let times = self
            .sigmas
            .iter()
            .map(|&s| {
                time_of_sigma(path, s).ok_or_else(|| {
                    Error::invalid(
                        "sigma",
                        s,
                        &format!("is not on the model's path {}", path.name()),
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        let device = x.device();
        let mut x = x.to_kind(Kind::Float);
        let scalar = |s: f64| Tensor::from(s as f32).to_device(device);
        let time = |t: f64| Tensor::full([1, 1], t, (Kind::Float, device));
        let mut xi = x.empty_like();
        let mut stream = (device == Device::Cpu).then(GaussianStream::from_torch);
        let steps = self.nfe();
        drv.begin(
            "ald",
            "lower eps (the base step size)",
            steps,
            Some(times[0]),
            &x,
        );
        tch::no_grad(|| -> Result<()> {
            let mut k = 0;
            for (&alpha, &t) in self.step_sizes().iter().zip(&times) {
                let (tt, a, c) = (time(t), scalar(alpha), scalar((2.0 * alpha).sqrt()));
                for _ in 0..self.steps_per_level {
                    if !stream.as_mut().is_some_and(|g| g.fill_tensor(&mut xi)) {
                        let _ = xi.normal_(0.0, 1.0);
                    }
                    let s = score.score(&x, &tt);
                    let _ = x.addcmul_(&s, &a);
                    let _ = x.addcmul_(&xi, &c);
                    k += 1;
                    drv.step(k, Some(t), &x)?;
                }
            }
            if self.denoise {
                let (sl, tl) = (*self.sigmas.last().unwrap(), *times.last().unwrap());
                let s = score.score(&x, &time(tl));
                let _ = x.addcmul_(&s, &scalar(sl * sl));
                let _ = x.g_div_scalar_(path.coeffs(tl).alpha);
                k += 1;
                drv.step(k, Some(tl), &x)?;
            }
            Ok(())
        })?;
        Ok(SampleOut::new(x, drv.trajectory(), steps))
    }
}

/// `method = "ald"`: annealed Langevin dynamics with the score model `model` (see the module
/// docs). Defaults are Song & Ermon's: σ from 1 to 0.01 over 10 levels, T = 100, ε = 2e-5.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AldConfig {
    /// A score model on a Gaussian path (`[[model]]` or `[[exact]]`).
    pub model: String,
    #[serde(default = "particles")]
    pub particles: usize,
    /// σ_1, the largest level.
    #[serde(default = "sigma_max")]
    pub sigma_max: f64,
    /// σ_L, the smallest level.
    #[serde(default = "sigma_min")]
    pub sigma_min: f64,
    /// L, the number of levels.
    #[serde(default = "levels")]
    pub levels: usize,
    /// T, Langevin steps per level.
    #[serde(default = "steps_per_level")]
    pub steps_per_level: usize,
    /// ε, the base step: level i steps with α_i = ε σ_i²/σ_L².
    #[serde(default = "eps")]
    pub eps: f64,
    /// A last Tweedie denoising step at σ_L.
    #[serde(default)]
    pub denoise: bool,
    /// Where particles start (default: N(0, σ_1² I)).
    #[serde(default)]
    pub init: InitConfig,
}

fn particles() -> usize {
    10_000
}
fn sigma_max() -> f64 {
    1.0
}
fn sigma_min() -> f64 {
    0.01
}
fn levels() -> usize {
    10
}
fn steps_per_level() -> usize {
    100
}
fn eps() -> f64 {
    2e-5
}

impl AldConfig {
    /// The update rule these options describe.
    pub fn rule(&self) -> Ald {
        Ald {
            sigmas: geometric_levels(self.sigma_max, self.sigma_min, self.levels),
            steps_per_level: self.steps_per_level,
            eps: self.eps,
            denoise: self.denoise,
        }
    }
}

impl Sampler for AldConfig {
    /// Independent particles over `steps_per_level` steps at each level (`--quick` overrides
    /// how the steps shrink, below).
    fn budget(&mut self) -> Budget<'_> {
        Budget::new(&mut self.particles, &mut self.steps_per_level)
    }
    /// It evaluates `model`; its particles follow no path's marginals (each level is a Langevin
    /// chain at one noise scale, not the path's p_t at a time).
    fn models(&self) -> ModelUse<'_> {
        ModelUse::models(&[&self.model])
    }
    fn footprint(&self) -> Footprint {
        Footprint::new(12.0, self.levels * self.steps_per_level)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        let m = cx.model("model", &self.model, FieldKind::Score)?;
        cx.at_least_one("particles", self.particles)?;
        cx.positive("sigma_max", self.sigma_max)?;
        cx.positive("sigma_min", self.sigma_min)?;
        if self.sigma_min >= self.sigma_max {
            return Err(cx.invalid(
                "sigma_min",
                self.sigma_min,
                &format!("must be < sigma_max = {}", self.sigma_max),
            ));
        }
        if self.levels < 2 {
            return Err(cx.invalid("levels", self.levels, "must be ≥ 2"));
        }
        cx.at_least_one("steps_per_level", self.steps_per_level)?;
        cx.positive("eps", self.eps)?;
        cx.init("init", &self.init)?;
        let Some(pc) = &m.path else {
            return Err(cx.invalid(
                "model",
                format!("{:?}", self.model),
                "ald needs a score model on a Gaussian path (its σ(t) gives the levels' times)",
            ));
        };
        let path = pc.build()?;
        let (lo, hi) = (path.coeffs(0.0).sigma, path.coeffs(path.t_max()).sigma);
        let range = format!(
            "the levels must lie on model {:?}'s path {}, where σ runs from {lo} to {hi}",
            self.model,
            path.name()
        );
        if time_of_sigma(&*path, self.sigma_max).is_none() {
            return Err(cx.invalid("sigma_max", self.sigma_max, &range));
        }
        if time_of_sigma(&*path, self.sigma_min).is_none() {
            return Err(cx.invalid("sigma_min", self.sigma_min, &range));
        }
        Ok(())
    }
    fn quick(&mut self, q: &Quick) -> Option<usize> {
        Quick::cap(&mut self.particles, q.particles);
        // the ladder keeps its levels; the steps per level shrink to the quick step budget
        Quick::cap(
            &mut self.steps_per_level,
            (q.steps / self.levels.max(1)).max(1),
        );
        Some(self.levels * self.steps_per_level)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let m = cx.score_model(&self.model)?;
        let x0 = cx.initial(&self.init, self.particles, Start::Normal(self.sigma_max))?;
        self.rule().run(&*m.field, &*m.path, x0, drv)
    }
}

//! Underdamped (kinetic) Langevin dynamics, `method = "underdamped"`.
//!
//! Positions x and velocities v, mass m, friction γ, unit temperature:
//!
//!   dx = v dt,   dv = ∇log p(x)/m dt − γ v dt + √(2γ/m) dW,
//!
//! whose invariant law is p(x) ⊗ N(0, I/m). A step of size h splits it into three exact pieces,
//! B (kick) v ← v + (h/2m) ∇log p(x), A (drift) x ← x + τ v, and O (Ornstein–Uhlenbeck)
//! v ← c v + √((1 − c²)/m) ξ with c = e^{−γτ}, composed as **BAOAB** (Leimkuhler & Matthews
//! 2013: B, A over h/2, O over h, A over h/2, B) or **OBABO** (O over h/2, velocity Verlet over h,
//! O over h/2). A step's last force is the next step's first, so a run costs `steps + 1` scores.
//!
//! On a Gaussian N(0, σ²) with ω² = 1/(mσ²) and 0 < hω < 2, BAOAB's stationary position variance
//! is exactly σ² at every h and γ, with m·Var v = 1 − h²ω²/4; OBABO's are σ²/(1 − h²ω²/4) and
//! exactly 1. The run reports `kinetic_temperature` = m⟨v²⟩ over the final velocities.
//!
//! Time does not enter (the target's own score); the loop runs under no-grad with in-place
//! updates and no host read per step.

use crate::driver::Driver;
use crate::init::{InitConfig, Start};
use crate::sampler::{Check, Ctx, Footprint, Quick, Sampler};
use crate::score_source::ScoreSource;
use crate::{Result, SampleOut};
use pf_core::field::ScoreField;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The order of the splitting's pieces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// B A O A B: exact position variance on Gaussians.
    #[default]
    Baoab,
    /// O B A A B O (half-step O's): exact velocity variance on Gaussians.
    Obabo,
}

/// The update rule: `steps` steps of size `step` with friction γ and mass m.
#[derive(Clone, Copy, Debug)]
pub struct Underdamped {
    pub steps: usize,
    pub step: f64,
    pub friction: f64,
    pub mass: f64,
    pub scheme: Scheme,
}

impl Underdamped {
    /// Runs the chain from positions `x` [N, D] with velocities drawn from N(0, I/m), driven by
    /// `score` = ∇log p (evaluated at t = 0). NFE = steps + 1; diagnostic `kinetic_temperature`.
    pub fn run(&self, score: &dyn ScoreField, x: Tensor, drv: &mut Driver) -> Result<SampleOut> {
        let (h, m) = (self.step, self.mass);
        let device = x.device();
        let mut x = x.to_kind(Kind::Float);
        let mut v = x.randn_like() * (1.0 / m).sqrt();
        let (c, drift) = match self.scheme {
            Scheme::Baoab => ((-self.friction * h).exp(), h / 2.0),
            Scheme::Obabo => ((-self.friction * h / 2.0).exp(), h),
        };
        let scalar = |s: f64| Tensor::from(s as f32).to_device(device);
        let (kick, drift) = (scalar(h / (2.0 * m)), scalar(drift));
        let noise = scalar(((1.0 - c * c) / m).sqrt());
        let t0 = Tensor::zeros([1, 1], (Kind::Float, device));
        let mut xi = x.empty_like();
        let mut thermostat = |v: &mut Tensor| {
            let _ = xi.normal_(0.0, 1.0);
            let _ = v.g_mul_scalar_(c);
            let _ = v.addcmul_(&xi, &noise);
        };
        let name = match self.scheme {
            Scheme::Baoab => "baoab",
            Scheme::Obabo => "obabo",
        };
        drv.begin(name, "lower step (the step size)", self.steps, None, &x);
        tch::no_grad(|| -> Result<()> {
            let mut f = score.score(&x, &t0);
            for k in 1..=self.steps {
                if self.scheme == Scheme::Obabo {
                    thermostat(&mut v);
                }
                let _ = v.addcmul_(&f, &kick);
                let _ = x.addcmul_(&v, &drift);
                if self.scheme == Scheme::Baoab {
                    thermostat(&mut v);
                    let _ = x.addcmul_(&v, &drift);
                }
                f = score.score(&x, &t0);
                let _ = v.addcmul_(&f, &kick);
                if self.scheme == Scheme::Obabo {
                    thermostat(&mut v);
                }
                drv.step(k, None, &x)?;
            }
            Ok(())
        })?;
        let temperature = m * (&v * &v).mean(Kind::Double).double_value(&[]);
        Ok(SampleOut::new(x, drv.trajectory(), self.steps + 1)
            .with("kinetic_temperature", temperature))
    }
}

/// `method = "underdamped"`: kinetic Langevin on the target from N(0, I) positions (unless
/// `init` says otherwise) and N(0, I/m) velocities.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderdampedConfig {
    #[serde(default = "particles")]
    pub particles: usize,
    #[serde(default = "steps")]
    pub steps: usize,
    /// Step size h.
    #[serde(default = "step")]
    pub step: f64,
    /// Friction γ (1/time).
    #[serde(default = "one")]
    pub friction: f64,
    /// Mass m (velocities are N(0, I/m) at equilibrium).
    #[serde(default = "one")]
    pub mass: f64,
    #[serde(default)]
    pub scheme: Scheme,
    /// The target's closed-form score or autograd of its log-density.
    #[serde(default = "score_target")]
    pub score: ScoreSource,
    /// Where positions start.
    #[serde(default)]
    pub init: InitConfig,
}

fn particles() -> usize {
    10_000
}
fn steps() -> usize {
    1000
}
fn step() -> f64 {
    0.05
}
fn one() -> f64 {
    1.0
}
fn score_target() -> ScoreSource {
    ScoreSource::Target
}

impl Sampler for UnderdampedConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::none()
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.log_density()?;
        cx.at_least_one("particles", self.particles)?;
        cx.at_least_one("steps", self.steps)?;
        cx.positive("step", self.step)?;
        cx.positive("friction", self.friction)?;
        cx.positive("mass", self.mass)?;
        cx.init("init", &self.init)
    }
    fn quick(&mut self, q: &Quick) -> Option<usize> {
        Quick::cap(&mut self.particles, q.particles);
        Quick::cap(&mut self.steps, q.steps * 10);
        Some(self.steps)
    }
    fn footprint(&self) -> Footprint {
        Footprint::new(6.0, self.steps)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let x0 = cx.initial(&self.init, self.particles, Start::Normal(1.0))?;
        let score = self.score.field(cx.target)?;
        Underdamped {
            steps: self.steps,
            step: self.step,
            friction: self.friction,
            mass: self.mass,
            scheme: self.scheme,
        }
        .run(&*score, x0, drv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pf_core::field::TargetScore;
    use pf_core::target::GaussianMixture;

    /// On N(0, σ²) with hω = 1 (ω² = 1/(mσ²)): BAOAB's position variance is σ² and its kinetic
    /// temperature 1 − h²ω²/4 = 0.75; OBABO's are σ²/0.75 and 1. Tolerance: 4 standard errors
    /// of a variance from n independent chains, √(2/n) relative.
    #[test]
    fn stationary_variances_on_a_gaussian() {
        let _rng = pf_core::rng::seed_exclusive(21);
        let (sigma, m) = (0.5f64, 2.0f64);
        let omega = 1.0 / (m * sigma * sigma).sqrt();
        let h = 1.0 / omega;
        let target = GaussianMixture::new(vec![1.0], vec![vec![0.0]], vec![vec![sigma]]).unwrap();
        let n = 40_000;
        let se = 4.0 * (2.0 / n as f64).sqrt();
        for (scheme, var_x, temp) in [
            (Scheme::Baoab, sigma * sigma, 0.75),
            (Scheme::Obabo, sigma * sigma / 0.75, 1.0),
        ] {
            let rule = Underdamped {
                steps: 400,
                step: h,
                friction: 1.0,
                mass: m,
                scheme,
            };
            let x0 = Tensor::randn([n, 1], (Kind::Float, tch::Device::Cpu));
            let out = rule
                .run(&TargetScore(&target), x0, &mut Driver::default())
                .unwrap();
            let v = out.x.to_kind(Kind::Double).var(true).double_value(&[]);
            assert!(
                (v / var_x - 1.0).abs() < se,
                "{scheme:?}: Var x = {v}, want {var_x} (±{:.1} %)",
                100.0 * se
            );
            let t = out.diagnostics["kinetic_temperature"];
            assert!((t / temp - 1.0).abs() < se, "{scheme:?}: temperature {t}, want {temp}");
            assert_eq!(out.nfe, 401);
        }
    }

    /// The mean and variance of seed 002's 1-D mixture (weights, means, stds from the target
    /// itself: E x = Σ w μ, Var x = Σ w (s² + μ²) − (E x)²), reached by BAOAB from N(0, 1) after
    /// 300 time units (many barrier crossings): the mean within 5 standard errors, the variance
    /// within 5 % (√(2/n) = 1.4 % at n = 10 000, widened for the chains' between-mode correlation).
    #[test]
    fn baoab_reaches_a_mixtures_moments() {
        let _rng = pf_core::rng::seed_exclusive(22);
        let target = GaussianMixture::gmm1d();
        let w = target.weights().to_vec();
        let wsum: f64 = w.iter().sum();
        let mu: Vec<f64> = target.means().iter().map(|m| m[0]).collect();
        let sd: Vec<f64> = target.stds().iter().map(|s| s[0]).collect();
        let mean: f64 = (0..w.len()).map(|k| w[k] * mu[k]).sum::<f64>() / wsum;
        let second: f64 =
            (0..w.len()).map(|k| w[k] * (sd[k] * sd[k] + mu[k] * mu[k])).sum::<f64>() / wsum;
        let var = second - mean * mean;
        let n = 10_000;
        let out = Underdamped {
            steps: 6000,
            step: 0.05,
            friction: 1.0,
            mass: 1.0,
            scheme: Scheme::Baoab,
        }
        .run(
            &TargetScore(&target),
            Tensor::randn([n, 1], (Kind::Float, tch::Device::Cpu)),
            &mut Driver::default(),
        )
        .unwrap();
        let x = out.x.to_kind(Kind::Double);
        let (m1, v1) = (x.mean(Kind::Double).double_value(&[]), x.var(true).double_value(&[]));
        let se_m = (var / n as f64).sqrt();
        assert!((m1 - mean).abs() < 5.0 * se_m, "mean {m1}, want {mean} ± {se_m}");
        assert!((v1 / var - 1.0).abs() < 0.05, "variance {v1}, want {var}");
    }
}

//! Underdamped (kinetic) Langevin dynamics as a pflow sampler, `method = "baoab"`.
//!
//! Positions x and velocities v, mass m, friction γ, unit temperature:
//!
//!   dx = v dt,   dv = ∇log p(x)/m dt − γ v dt + √(2γ/m) dW,
//!
//! whose invariant law is p(x) ⊗ N(0, I/m). A step of size h splits it into three exact pieces,
//!
//! - B (kick):  v ← v + (h/2m) ∇log p(x)
//! - A (drift): x ← x + (h/2) v
//! - O (Ornstein–Uhlenbeck): v ← c v + √((1 − c²)/m) ξ,  c = e^{−γh},  ξ ~ N(0, I)
//!
//! composed as **BAOAB** (Leimkuhler & Matthews 2013): B A O A B, or as **OBABO**: O B A A B O
//! with each O over h/2 (c = e^{−γh/2}), i.e. velocity Verlet between two half-step thermostats.
//! The force of a step's last B is the next step's first B, so a run evaluates the score
//! `steps + 1` times.
//!
//! On a Gaussian target N(0, σ²) (ω² = 1/(mσ²), 0 < hω < 2) both chains are linear and their
//! stationary covariances solve a 2×2 discrete Lyapunov equation: BAOAB's position variance is
//! **exactly σ²** for every h and γ and its velocity variance (1 − h²ω²/4)/m; OBABO's are
//! σ²/(1 − h²ω²/4) and exactly 1/m. The sampler reports `kinetic_temperature` = m·⟨v²⟩ (mean over
//! particles and coordinates of the final velocities): 1 in the limit h → 0, and on a Gaussian
//! exactly 1 − h²ω²/4 (BAOAB) or 1 (OBABO).
//!
//! The loop runs under no-grad with in-place updates and no host read per step (the shared
//! [`Driver`] records frames and checks for NaN/Inf on its interval); on float32 CPU particles the
//! noise comes from pf-core's [`GaussianStream`], as in ULA.

use pf_core::field::{AutogradScore, ScoreField, TargetScore};
use pf_core::rng::GaussianStream;
use pf_sample::ula::ScoreSource;
use pf_sample::{Check, Ctx, Driver, Error, InitConfig, Result, SampleOut, Sampler, Start};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// The order of the splitting's pieces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// B A O A B: exact configurational variance on Gaussians.
    #[default]
    Baoab,
    /// O B A A B O (half-step O's): exact velocity variance on Gaussians.
    Obabo,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Baoab => "baoab",
            Scheme::Obabo => "obabo",
        }
    }
}

/// The update rule: `steps` steps of size `step` with friction γ and mass m.
#[derive(Clone, Copy, Debug)]
pub struct Baoab {
    pub steps: usize,
    pub step: f64,
    pub friction: f64,
    pub mass: f64,
    pub scheme: Scheme,
}

impl Baoab {
    /// Runs the chain from positions `x` [N, D], velocities drawn from N(0, I/m), driven by
    /// `score` = ∇log p (evaluated at t = 0). Returns the final positions, the trajectory the
    /// driver recorded, NFE = steps + 1, and the `kinetic_temperature` diagnostic.
    pub fn run(&self, score: &dyn ScoreField, x: Tensor, drv: &mut Driver) -> Result<SampleOut> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        for (k, v) in [
            ("step", self.step),
            ("friction", self.friction),
            ("mass", self.mass),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(k, v, "must be finite and > 0"));
            }
        }
        let (h, m) = (self.step, self.mass);
        let device = x.device();
        let mut x = x.to_kind(Kind::Float);
        let mut v = x.randn_like() * (1.0 / m).sqrt();
        // O over h (BAOAB) or h/2 twice (OBABO); A over h/2 twice (BAOAB) or h once (OBABO)
        let (c, drift) = match self.scheme {
            Scheme::Baoab => ((-self.friction * h).exp(), h / 2.0),
            Scheme::Obabo => ((-self.friction * h / 2.0).exp(), h),
        };
        let scalar = |s: f64| Tensor::from(s as f32).to_device(device);
        let kick = scalar(h / (2.0 * m));
        let drift = scalar(drift);
        let noise = scalar(((1.0 - c * c) / m).sqrt());
        let t0 = Tensor::zeros([1, 1], (Kind::Float, device));
        let mut xi = x.empty_like();
        let mut stream = (device == Device::Cpu).then(GaussianStream::from_torch);
        let mut thermostat = |v: &mut Tensor| {
            if !stream.as_mut().is_some_and(|g| g.fill_tensor(&mut xi)) {
                let _ = xi.normal_(0.0, 1.0);
            }
            let _ = v.g_mul_scalar_(c);
            let _ = v.addcmul_(&xi, &noise);
        };
        let name = self.scheme.name();
        drv.begin(name, "lower step (the step size)", self.steps, None, &x);
        tch::no_grad(|| -> Result<()> {
            let mut f = score.score(&x, &t0);
            for k in 1..=self.steps {
                match self.scheme {
                    Scheme::Baoab => {
                        let _ = v.addcmul_(&f, &kick);
                        let _ = x.addcmul_(&v, &drift);
                        thermostat(&mut v);
                        let _ = x.addcmul_(&v, &drift);
                        f = score.score(&x, &t0);
                        let _ = v.addcmul_(&f, &kick);
                    }
                    Scheme::Obabo => {
                        thermostat(&mut v);
                        let _ = v.addcmul_(&f, &kick);
                        let _ = x.addcmul_(&v, &drift);
                        f = score.score(&x, &t0);
                        let _ = v.addcmul_(&f, &kick);
                        thermostat(&mut v);
                    }
                }
                drv.step(k, None, &x)?;
            }
            Ok(())
        })?;
        let kinetic_temperature = m * (&v * &v).mean(Kind::Double).double_value(&[]);
        Ok(SampleOut::new(x, drv.trajectory(), self.steps + 1)
            .with("kinetic_temperature", kinetic_temperature))
    }
}

/// `method = "baoab"`: underdamped Langevin on the target from N(0, I) positions (unless
/// `init` says otherwise) and N(0, I/m) velocities.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaoabConfig {
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

impl BaoabConfig {
    /// The update rule these options describe.
    pub fn rule(&self) -> Baoab {
        Baoab {
            steps: self.steps,
            step: self.step,
            friction: self.friction,
            mass: self.mass,
            scheme: self.scheme,
        }
    }
}

impl Sampler for BaoabConfig {
    fn budget(&mut self) -> pf_sample::Budget<'_> {
        pf_sample::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> pf_sample::ModelUse<'_> {
        pf_sample::ModelUse::none()
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
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let x0 = cx.initial(&self.init, self.particles, Start::Normal(1.0))?;
        let target = cx.target;
        let unsupported = |what: &str| pf_core::Error::Unsupported {
            name: target.name(),
            what: what.into(),
        };
        let probe = x0.narrow(0, 0, 1);
        match self.score {
            ScoreSource::Target => {
                let _ = target.score(&probe).ok_or_else(|| {
                    unsupported("a score (use score = \"autograd\" or another sampler)")
                })?;
                self.rule().run(&TargetScore(target), x0, drv)
            }
            ScoreSource::Autograd => {
                let _ = target
                    .log_prob(&probe)
                    .ok_or_else(|| unsupported("a log-density to differentiate"))?;
                let lp = |x: &Tensor| target.log_prob(x).expect("checked");
                self.rule().run(&AutogradScore(lp), x0, drv)
            }
        }
    }
}

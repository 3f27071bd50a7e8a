//! The MonoFlow particle flow (seed 000; Yi et al. 2023): a GAN without a generator.
//!
//! A classifier with logit D(x) ≈ log p_data(x) − log q(x) is refitted between data and the
//! particles; the particles then move along h'(D(x)) ∇ₓD(x), a Wasserstein gradient flow of
//! KL(q‖p) reparametrised by a monotone h (h = identity is the Langevin PF ODE
//! dx/dt = ∇log p − ∇log q of [`pf_core::sde`]):
//!   logit:   h(d) = d,              h'(d) = 1            (the seed's choice)
//!   ns:      h(d) = −softplus(−d),  h'(d) = σ(−d)        (non-saturating GAN loss)
//!   vanilla: h(d) = softplus(d),    h'(d) = σ(d)         (minimax GAN loss)
//!   arcsinh: h(d) = arcsinh(d),     h'(d) = 1/√(1 + d²)
//! Particles take a plain Euler/SGD step x ← x + lr · h'(D)∇D (the seed's `optim.SGD([xs])`) or
//! an Adam step on the loss −h(D); optional noise √(2 lr)·τ ξ gives the entropy-regularised flow.

use crate::driver::Driver;
use crate::init::{InitConfig, Start};
use crate::sampler::{Check, Ctx, Quick, Sampler};
use crate::{Error, Result, SampleOut};
use pf_core::ratio::DensityRatio;
use pf_core::target::{GaussianMixture, Target};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The monotone h of MonoFlow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HFamily {
    Logit,
    Ns,
    Vanilla,
    Arcsinh,
}

impl HFamily {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "logit" => HFamily::Logit,
            "ns" => HFamily::Ns,
            "vanilla" => HFamily::Vanilla,
            "arcsinh" => HFamily::Arcsinh,
            _ => {
                return Err(Error::invalid(
                    "h",
                    s,
                    "allowed: logit, ns, vanilla, arcsinh",
                ))
            }
        })
    }
    /// h'(d) elementwise.
    pub fn deriv(self, d: &Tensor) -> Tensor {
        match self {
            HFamily::Logit => d.ones_like(),
            HFamily::Ns => (-d).sigmoid(),
            HFamily::Vanilla => d.sigmoid(),
            HFamily::Arcsinh => (d.square() + 1.0).rsqrt(),
        }
    }
}

/// How particles are updated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParticleOpt {
    /// x ← x + lr · h'(D)∇D.
    Sgd { lr: f64 },
    /// Adam on −h(D) per particle coordinate.
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

/// The particle side of MonoFlow: moves particles given a density-ratio estimator.
pub struct MonoFlowStep {
    pub h: HFamily,
    pub opt: ParticleOpt,
    /// Entropy-regularisation noise τ (0: the deterministic flow).
    pub noise: f64,
    m: Option<Tensor>,
    v: Option<Tensor>,
    t: usize,
}

impl MonoFlowStep {
    pub fn new(h: HFamily, opt: ParticleOpt, noise: f64) -> Self {
        Self {
            h,
            opt,
            noise,
            m: None,
            v: None,
            t: 0,
        }
    }

    /// The flow's velocity h'(D(x))∇D(x) at flow time `t`, [N, D].
    pub fn velocity(&self, ratio: &dyn DensityRatio, x: &Tensor, t: f64) -> Tensor {
        let (d, grad) = ratio.logit_and_grad(x, t);
        self.h.deriv(&d) * grad
    }

    /// Moves `x` in place by one step.
    pub fn step(&mut self, ratio: &dyn DensityRatio, x: &mut Tensor, t: f64) {
        let vel = self.velocity(ratio, x, t);
        tch::no_grad(|| match self.opt {
            ParticleOpt::Sgd { lr } => {
                pf_core::ops::axpy_(x, lr, &vel);
                if self.noise > 0.0 {
                    *x += x.randn_like() * ((2.0 * lr).sqrt() * self.noise);
                }
            }
            ParticleOpt::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                self.t += 1;
                let g = -vel;
                let m = self.m.get_or_insert_with(|| g.zeros_like());
                let _ = m.lerp_(&g, 1.0 - beta1);
                let v = self.v.get_or_insert_with(|| g.zeros_like());
                *v *= beta2;
                let _ = v.addcmul_(&g, &(&g * (1.0 - beta2)));
                let bc1 = 1.0 - beta1.powi(self.t as i32);
                let bc2 = 1.0 - beta2.powi(self.t as i32);
                let upd = &*m / ((&*v / bc2).sqrt() + eps) * (lr / bc1);
                *x -= upd;
                if self.noise > 0.0 {
                    *x += x.randn_like() * ((2.0 * lr).sqrt() * self.noise);
                }
            }
        });
    }
}

/// The whole flow: each iteration refits the estimator once on a fresh data minibatch against a
/// random particle minibatch, then moves every particle.
pub struct MonoFlow {
    pub iterations: usize,
    pub batch: usize,
    pub h: HFamily,
    pub opt: ParticleOpt,
    pub noise: f64,
}

impl MonoFlow {
    /// Runs the flow from `init` toward `data` with estimator `ratio` on `n` particles. Flow time
    /// for a time-conditioned estimator runs from 1 (start) to 0 (end) over the iterations.
    pub fn run(
        &self,
        ratio: &mut dyn DensityRatio,
        data: &dyn Target,
        x: Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        if self.iterations == 0 || self.batch == 0 {
            return Err(Error::invalid(
                "iterations/batch",
                format!("{}/{}", self.iterations, self.batch),
                "must be ≥ 1",
            ));
        }
        let (n, device) = (x.size()[0] as usize, x.device());
        let mut x = x.to_kind(Kind::Float);
        let b = self.batch.min(n) as i64;
        let mut step = MonoFlowStep::new(self.h, self.opt, self.noise);
        drv.begin(
            "monoflow",
            "lower the particle lr",
            self.iterations,
            Some(1.0),
            &x,
        );
        for k in 1..=self.iterations {
            let t = 1.0 - (k - 1) as f64 / self.iterations as f64;
            let real = data.sample(b as usize, device);
            let idx = Tensor::randperm(n as i64, (Kind::Int64, device)).narrow(0, 0, b);
            let fake = x.index_select(0, &idx);
            let _loss = ratio.update(&real, &fake, t);
            step.step(ratio, &mut x, t);
            drv.step(k, Some(t), &x)?;
        }
        Ok(SampleOut::new(x, drv.trajectory(), self.iterations))
    }
}

/// MonoFlow's particle optimiser, as configs name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParticleOptimizer {
    Sgd,
    Adam,
}

/// `method = "monoflow"`: particles along h'(D)∇D, the density-ratio estimator (a discriminator,
/// `discriminator` / `discriminator_train`, owned by the estimator's crate) refitted every
/// iteration; particles start at 8 Gaussians in 2-D, N(0, I) otherwise, unless `init` says.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonoflowConfig {
    #[serde(default = "monoflow_particles")]
    pub particles: usize,
    #[serde(default = "monoflow_iterations")]
    pub iterations: usize,
    #[serde(default = "monoflow_particles")]
    pub batch: usize,
    #[serde(default = "h_logit")]
    pub h: HFamily,
    #[serde(default = "particle_sgd")]
    pub optimizer: ParticleOptimizer,
    #[serde(default = "monoflow_lr")]
    pub lr: f64,
    #[serde(default)]
    pub noise: f64,
    /// The estimator's architecture (its crate's default when absent).
    #[serde(default)]
    pub discriminator: Option<toml::Value>,
    /// The estimator's training options (its crate's default when absent).
    #[serde(default)]
    pub discriminator_train: Option<toml::Value>,
    #[serde(default)]
    pub init: InitConfig,
}

fn monoflow_particles() -> usize {
    512
}
fn monoflow_iterations() -> usize {
    5000
}
fn h_logit() -> HFamily {
    HFamily::Logit
}
fn particle_sgd() -> ParticleOptimizer {
    ParticleOptimizer::Sgd
}
fn monoflow_lr() -> f64 {
    1e-3
}

impl Sampler for MonoflowConfig {
    /// Its particles interact through the discriminator: never chunked.
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.iterations).interacting()
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::none()
    }
    fn footprint(&self) -> crate::Footprint {
        // the default discriminator's activations (2 × 128 hidden, forward + backward) for a
        // batch, spread over the particles
        let act = 784.0 * self.batch as f64 / self.particles.max(1) as f64;
        crate::Footprint {
            floats: act,
            ..crate::Footprint::new(10.0, self.iterations)
        }
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.at_least_one("iterations", self.iterations)?;
        cx.at_least_one("batch", self.batch)?;
        cx.positive("lr", self.lr)?;
        cx.non_negative("noise", self.noise)?;
        if let Some(f) = cx.ratio {
            f.check(
                &cx.key,
                self.discriminator.as_ref(),
                self.discriminator_train.as_ref(),
                cx.dim(),
            )?;
        }
        cx.init("init", &self.init)
    }
    fn quick(&mut self, q: &Quick) -> Option<usize> {
        Quick::cap(&mut self.particles, q.particles);
        Quick::cap(&mut self.iterations, q.iterations);
        Quick::cap(&mut self.batch, q.particles);
        Some(q.iterations)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let mut d = cx.density_ratio(
            self.discriminator.as_ref(),
            self.discriminator_train.as_ref(),
        )?;
        let eight;
        let start = if cx.dim() == 2 {
            eight = GaussianMixture::eight_gaussians(2.0, 0.2)?;
            Start::Target(&eight)
        } else {
            Start::Normal(1.0)
        };
        let x0 = cx.initial(&self.init, self.particles, start)?;
        let opt = match self.optimizer {
            ParticleOptimizer::Sgd => ParticleOpt::Sgd { lr: self.lr },
            ParticleOptimizer::Adam => ParticleOpt::Adam {
                lr: self.lr,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
        };
        MonoFlow {
            iterations: self.iterations,
            batch: self.batch,
            h: self.h,
            opt,
            noise: self.noise,
        }
        .run(&mut *d, cx.target, x0, drv)
    }
}

//! The Metropolis-adjusted Langevin algorithm: a ULA proposal
//! y = x + η ⊙ ∇log p(x) + √(2η) ⊙ ξ accepted with probability
//! min(1, p(y) q(x|y) / (p(x) q(y|x))), log q(y|x) = −Σ_d (y − x − η ∇log p(x))²_d / (4η_d).
//! Exact for any step size; the acceptance rate is reported.

use crate::driver::Driver;
use crate::init::{InitConfig, Start};
use crate::sampler::{Check, Ctx, Sampler};
use crate::ula::per_dim;
use crate::{Error, Result, SampleOut};
use pf_core::target::Target;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// MALA's update rule.
#[derive(Clone, Debug)]
pub struct Mala {
    pub steps: usize,
    /// Step size η, one per dimension or one for all.
    pub eta: Vec<f64>,
}

impl Default for Mala {
    fn default() -> Self {
        Self {
            steps: 1000,
            eta: vec![1e-2],
        }
    }
}

impl Mala {
    /// Runs MALA on `target` from the particles `x` [N, D]. The output's diagnostics hold the
    /// acceptance rate (`acceptance`, over all steps and particles).
    pub fn run(&self, target: &dyn Target, x: Tensor, drv: &mut Driver) -> Result<SampleOut> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        let (n, dim, device) = (x.size()[0] as usize, target.dim(), x.device());
        let eta = per_dim("eta", &self.eta, dim, device)?;
        let noise_std = (&eta * 2.0).sqrt();
        let inv4eta = (&eta * 4.0).reciprocal();
        let unsupported = || pf_core::Error::Unsupported {
            name: target.name(),
            what: "log_prob (needed by MALA)".into(),
        };
        let mut x = x.to_kind(Kind::Float);
        let mut logp = target.log_prob(&x).ok_or_else(unsupported)?;
        let mut score = target.score(&x).ok_or_else(unsupported)?;
        let mut accepted = Tensor::zeros([], (Kind::Int64, device));
        drv.begin("mala", "lower eta (the step size)", self.steps, None, &x);
        let log_q = |to: &Tensor, from: &Tensor, s_from: &Tensor| -> Tensor {
            -((to - from - s_from * &eta).square() * &inv4eta).sum_dim_intlist(
                -1,
                false,
                Kind::Float,
            )
        };
        tch::no_grad(|| -> Result<()> {
            for k in 1..=self.steps {
                let y = &x + &score * &eta + x.randn_like() * &noise_std;
                let logp_y = target.log_prob(&y).ok_or_else(unsupported)?;
                let score_y = target.score(&y).ok_or_else(unsupported)?;
                let log_ratio = &logp_y - &logp + log_q(&x, &y, &score_y) - log_q(&y, &x, &score);
                // accept where log u < log ratio; NaN ratios reject
                let u = logp.rand_like().log();
                let acc = u.lt_tensor(&log_ratio);
                accepted += acc.sum(Kind::Int64);
                let acc2 = acc.unsqueeze(-1);
                x = y.where_self(&acc2, &x);
                logp = logp_y.where_self(&acc, &logp);
                score = score_y.where_self(&acc2, &score);
                drv.step(k, None, &x)?;
            }
            Ok(())
        })?;
        let rate = accepted.double_value(&[]) / (self.steps as f64 * n as f64);
        Ok(SampleOut::new(x, drv.trajectory(), 2 * self.steps).with("acceptance", rate))
    }
}

/// `method = "mala"`: Metropolis-adjusted Langevin on the target, from N(0, I) unless `init`
/// says otherwise.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MalaConfig {
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "crate::ula::steps")]
    pub steps: usize,
    #[serde(default = "crate::ula::eta")]
    pub eta: Vec<f64>,
    #[serde(default)]
    pub init: InitConfig,
}

impl Sampler for MalaConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::none()
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(12.0, self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.log_density()?;
        cx.at_least_one("steps", self.steps)?;
        cx.per_dim("eta", &self.eta)?;
        cx.init("init", &self.init)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let x0 = cx.initial(&self.init, self.particles, Start::Normal(1.0))?;
        Mala {
            steps: self.steps,
            eta: self.eta.clone(),
        }
        .run(cx.target, x0, drv)
    }
}

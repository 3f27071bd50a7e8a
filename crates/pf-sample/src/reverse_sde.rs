//! Reverse-SDE sampling by Euler–Maruyama, for any Gaussian path and score field:
//! dx = [f(t) x − g²(t) s(x, t)] dt + g(t) dW̄, integrated from t_start (prior) down to t_end = T_ε.
//! On a uniform grid this is also Song et al.'s "reverse diffusion" predictor.

use crate::driver::Driver;
use crate::sampler::{Check, Ctx, Sampler};
use crate::{Error, Result, SampleOut};
use pf_core::field::FieldKind;
use pf_core::field::ScoreField;
use pf_core::path::GaussianPath;
use pf_core::sde::{diffusion, reverse_sde_drift};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Uniform time grid settings shared by the diffusion samplers.
#[derive(Clone, Debug)]
pub struct Grid {
    pub steps: usize,
    /// Start time (None: the path's `t_max`).
    pub t_start: Option<f64>,
    /// End time T_ε > 0 (the score is singular at t = 0 for most paths).
    pub t_end: f64,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            steps: 1000,
            t_start: None,
            t_end: 1e-3,
        }
    }
}

impl Grid {
    /// (t_start, step size h > 0), validated.
    pub fn resolve(&self, path: &dyn GaussianPath) -> Result<(f64, f64)> {
        let t0 = self.t_start.unwrap_or_else(|| path.t_max());
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        if !(self.t_end >= 0.0 && self.t_end < t0 && t0 <= 1.0) {
            return Err(Error::invalid(
                "t_end",
                self.t_end,
                &format!("need 0 ≤ t_end < t_start = {t0} ≤ 1"),
            ));
        }
        Ok((t0, (t0 - self.t_end) / self.steps as f64))
    }
}

/// One reverse-diffusion (Euler–Maruyama) step from t to t − h:
/// x + [g²(t) s(x, t) − f(t) x] h + g(t) √h ξ. `tb` is the caller's [1, 1] time buffer.
pub fn predictor_step(
    path: &dyn GaussianPath,
    score: &dyn ScoreField,
    x: &Tensor,
    tb: &mut Tensor,
    t: f64,
    h: f64,
) -> Tensor {
    let _ = tb.fill_(t);
    let s = score.score(x, tb);
    let drift = reverse_sde_drift(path, t, x, &s);
    pf_core::ode::euler_maruyama(x, &drift, diffusion(path, t), -h)
}

/// Reverse-SDE Euler–Maruyama sampler.
#[derive(Clone, Debug, Default)]
pub struct ReverseSde {
    pub grid: Grid,
}

impl ReverseSde {
    /// Integrates from `x_init` (prior samples at t_start) to t_end.
    pub fn run(
        &self,
        path: &dyn GaussianPath,
        score: &dyn ScoreField,
        x_init: &Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        let (t0, h) = self.grid.resolve(path)?;
        let mut x = x_init.shallow_clone();
        let mut tb = Tensor::zeros([1, 1], (x.kind(), x.device()));
        drv.begin(
            "reverse-sde",
            "use more steps or a larger t_end (T_ε)",
            self.grid.steps,
            Some(t0),
            &x,
        );
        tch::no_grad(|| -> Result<()> {
            for k in 0..self.grid.steps {
                let t = t0 - k as f64 * h;
                x = predictor_step(path, score, &x, &mut tb, t, h);
                drv.step(k + 1, Some(t - h), &x)?;
            }
            Ok(())
        })?;
        Ok(SampleOut::new(x, drv.trajectory(), self.grid.steps))
    }
}

/// `method = "reverse-sde"`: Euler–Maruyama on the reverse SDE of a score model's path, from
/// its prior N(0, σ(1)² I) at t = 1 to `t_end`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseSdeConfig {
    pub model: String,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "diffusion_steps")]
    pub steps: usize,
    #[serde(default = "t_end")]
    pub t_end: f64,
}

pub(crate) fn diffusion_steps() -> usize {
    1000
}
pub(crate) fn t_end() -> f64 {
    1e-3
}

impl Sampler for ReverseSdeConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::following(&[&self.model])
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(6.0, self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.model("model", &self.model, FieldKind::Score)?;
        cx.at_least_one("steps", self.steps)?;
        cx.t_end("t_end", self.t_end)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let m = cx.score_model(&self.model)?;
        let x1 = cx.prior(self.particles, &*m.path)?;
        let grid = Grid {
            steps: self.steps,
            t_start: None,
            t_end: self.t_end,
        };
        ReverseSde { grid }.run(&*m.path, &*m.field, &x1, drv)
    }
}

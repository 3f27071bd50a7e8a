//! The Langevin-corrected path SDE of seed 004, on pflow's time axis.
//!
//! Seed 004 (time s: noise at 0, data at 1) simulates dX = [u_s(X) + ½σ² ∇log p_s(X)] ds + σ dW:
//! the flow's velocity plus a Langevin correction that leaves every marginal p_s unchanged. With
//! s = 1 − t, u_s = −v(·, t) and p_s = p_t, so each step of size Δ = (t_start − t_end)/steps is
//!   x ← x + Δ [−v(x, t) + ½σ² s(x, t)] + σ √Δ ξ,  ξ ~ N(0, I) drawn once per step.
//! (The lab code draws the noise twice per step — σ·randn in the diffusion coefficient times
//! another randn·√Δ in the simulator — which shrinks the injected variance; pflow does not.)
//! σ = 0 is the plain flow ODE (Euler).

use crate::driver::Driver;
use crate::sampler::{Check, Ctx, Sampler};
use crate::{Error, Result, SampleOut};
use pf_core::field::FieldKind;
use pf_core::field::{ScoreField, VelocityField};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Settings of the path SDE.
#[derive(Clone, Debug)]
pub struct PathSde {
    pub sigma: f64,
    pub steps: usize,
    pub t_start: f64,
    pub t_end: f64,
}

impl Default for PathSde {
    fn default() -> Self {
        Self {
            sigma: 0.5,
            steps: 1000,
            t_start: 1.0,
            t_end: 1e-3,
        }
    }
}

impl PathSde {
    /// Integrates from `x_init` (samples of the path's t = 1 end) to t_end.
    pub fn run(
        &self,
        velocity: &dyn VelocityField,
        score: &dyn ScoreField,
        x_init: &Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        if !(self.sigma >= 0.0 && self.sigma.is_finite()) {
            return Err(Error::invalid(
                "sigma",
                self.sigma,
                "must be finite and ≥ 0",
            ));
        }
        if !(self.t_end >= 0.0 && self.t_end < self.t_start && self.t_start <= 1.0) {
            return Err(Error::invalid(
                "t_end",
                self.t_end,
                "need 0 ≤ t_end < t_start ≤ 1",
            ));
        }
        let h = (self.t_start - self.t_end) / self.steps as f64;
        let half_s2 = 0.5 * self.sigma * self.sigma;
        let noise = self.sigma * h.sqrt();
        let mut x = x_init.shallow_clone();
        let mut tb = Tensor::zeros([1, 1], (x.kind(), x.device()));
        drv.begin(
            "path-sde",
            "use more steps, a smaller sigma or a larger t_end",
            self.steps,
            Some(self.t_start),
            &x,
        );
        tch::no_grad(|| -> Result<()> {
            for k in 0..self.steps {
                let t = self.t_start - k as f64 * h;
                let _ = tb.fill_(t);
                let mut drift = -velocity.velocity(&x, &tb);
                if half_s2 > 0.0 {
                    drift += score.score(&x, &tb) * half_s2;
                }
                x += drift * h;
                if noise > 0.0 {
                    x += x.randn_like() * noise;
                }
                drv.step(k + 1, Some(t - h), &x)?;
            }
            Ok(())
        })?;
        let nfe = if half_s2 > 0.0 {
            2 * self.steps
        } else {
            self.steps
        };
        Ok(SampleOut::new(x, drv.trajectory(), nfe))
    }
}

/// `method = "path-sde"`: seed 004's Langevin-corrected SDE from the path's prior at t = 1, with
/// a velocity model and a score model trained on the same Gaussian path and noise `sigma`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSdeConfig {
    pub velocity: String,
    pub score: String,
    #[serde(default = "sigma")]
    pub sigma: f64,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "crate::reverse_sde::diffusion_steps")]
    pub steps: usize,
    #[serde(default = "crate::reverse_sde::t_end")]
    pub t_end: f64,
}

fn sigma() -> f64 {
    0.5
}

impl Sampler for PathSdeConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::following(&[&self.velocity, &self.score])
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(8.0, self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        let v = cx.model("velocity", &self.velocity, FieldKind::Velocity)?;
        if v.path.is_none() {
            return Err(cx.invalid(
                "velocity",
                format!("{:?}", self.velocity),
                &format!(
                    "path-sde needs a velocity model on a Gaussian path, but that model is trained with {}",
                    v.objective
                ),
            ));
        }
        let s = cx.model("score", &self.score, FieldKind::Score)?;
        if v.path != s.path {
            return Err(cx.invalid(
                "score",
                format!("{:?}", self.score),
                "the velocity and score models must share one path",
            ));
        }
        cx.non_negative("sigma", self.sigma)?;
        cx.at_least_one("steps", self.steps)?;
        cx.t_end("t_end", self.t_end)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let v = cx.velocity_model(&self.velocity)?;
        let s = cx.score_model(&self.score)?;
        let x1 = cx.prior(self.particles, &*s.path)?;
        PathSde {
            sigma: self.sigma,
            steps: self.steps,
            t_start: 1.0,
            t_end: self.t_end,
        }
        .run(&*v.field, &*s.field, &x1, drv)
    }
}

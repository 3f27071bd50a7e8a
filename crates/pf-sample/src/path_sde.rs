//! The Langevin-corrected path SDE of seed 004, on pflow's time axis.
//!
//! Seed 004 (time s: noise at 0, data at 1) simulates dX = [u_s(X) + ½σ² ∇log p_s(X)] ds + σ dW:
//! the flow's velocity plus a Langevin correction that leaves every marginal p_s unchanged. With
//! s = 1 − t, u_s = −v(·, t) and p_s = p_t, so each step of size Δ = (t_start − t_end)/steps is
//!   x ← x + Δ [−v(x, t) + ½σ² s(x, t)] + σ √Δ ξ,  ξ ~ N(0, I) drawn once per step.
//! (The lab code draws the noise twice per step — σ·randn in the diffusion coefficient times
//! another randn·√Δ in the simulator — which shrinks the injected variance; pflow does not.)
//! σ = 0 is the plain flow ODE (Euler).

use crate::trajectory::{Guard, Recorder};
use crate::{Error, Result, SampleOut};
use pf_core::field::{ScoreField, VelocityField};
use tch::Tensor;

/// Settings of the path SDE.
#[derive(Clone, Debug)]
pub struct PathSde {
    pub sigma: f64,
    pub steps: usize,
    pub t_start: f64,
    pub t_end: f64,
    pub record: Option<usize>,
    pub record_particles: Option<usize>,
    pub guard: Guard,
}

impl Default for PathSde {
    fn default() -> Self {
        Self {
            sigma: 0.5,
            steps: 1000,
            t_start: 1.0,
            t_end: 1e-3,
            record: None,
            record_particles: None,
            guard: Guard::default(),
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
        let mut rec = Recorder::new(self.record, self.record_particles);
        rec.offer(0, self.t_start, &x, false);
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
                let last = k + 1 == self.steps;
                rec.offer(k + 1, t - h, &x, last);
                self.guard.check(
                    &x,
                    "path-sde",
                    k + 1,
                    t - h,
                    "use more steps, a smaller sigma or a larger t_end",
                    last,
                )?;
            }
            Ok(())
        })?;
        let nfe = if half_s2 > 0.0 {
            2 * self.steps
        } else {
            self.steps
        };
        Ok(SampleOut {
            x,
            trajectory: rec.finish(),
            nfe,
            acceptance: None,
        })
    }
}

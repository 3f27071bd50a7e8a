//! Discrete DDPM sampling with a noise predictor ε̂(x, t), t = (k + 1)/T on pflow's axis.
//!
//! Ancestral (Ho et al. 2020, Algorithm 2), for k = T−1 … 0:
//!   x ← (x − β_k/√(1 − ᾱ_k) ε̂) / √α_k + √β_k z,  z ~ N(0, I) for k > 0, z = 0 at k = 0.
//! DDIM (Song, Meng & Ermon 2021) with η = 0 on a sub-sequence k_S > … > k_1 of the steps:
//!   x̂₀ = (x − √(1 − ᾱ_k) ε̂)/√ᾱ_k,  x ← √ᾱ_{k'} x̂₀ + √(1 − ᾱ_{k'}) ε̂  (ᾱ after the last step = 1).

use crate::driver::Driver;
use crate::init::{InitConfig, Start};
use crate::sampler::{Check, Ctx, Quick, Sampler};
use crate::{Error, Result, SampleOut};
use pf_core::field::FieldKind;
use pf_core::path::DdpmSchedule;
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// A noise predictor ε̂(x, t): x [N, D], t [1, 1] → [N, D].
pub type EpsFn<'a> = &'a dyn Fn(&Tensor, &Tensor) -> Tensor;

/// Which DDPM sampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdpmMethod {
    Ancestral,
    /// DDIM with η = 0 over `steps` evenly spaced steps of the schedule.
    Ddim {
        steps: usize,
    },
}

/// DDPM sampling settings.
#[derive(Clone, Debug)]
pub struct Ddpm {
    pub method: DdpmMethod,
}

impl Default for Ddpm {
    fn default() -> Self {
        Self {
            method: DdpmMethod::Ancestral,
        }
    }
}

impl Ddpm {
    /// Samples from `x_init` ~ N(0, I) at step T−1 down to data.
    pub fn run(
        &self,
        sched: &DdpmSchedule,
        eps: EpsFn,
        x_init: &Tensor,
        drv: &mut Driver,
    ) -> Result<SampleOut> {
        let big_t = sched.steps();
        let ks: Vec<usize> = match self.method {
            DdpmMethod::Ancestral => (0..big_t).rev().collect(),
            DdpmMethod::Ddim { steps } => {
                if steps == 0 || steps > big_t {
                    return Err(Error::invalid(
                        "ddim_steps",
                        steps,
                        &format!("must be in 1..={big_t}"),
                    ));
                }
                let mut ks: Vec<usize> = (0..steps)
                    .map(|i| ((i * big_t) / steps + big_t / steps - 1).min(big_t - 1))
                    .collect();
                ks.dedup();
                ks.reverse();
                ks
            }
        };
        let mut x = x_init.shallow_clone();
        let mut tb = Tensor::zeros([1, 1], (x.kind(), x.device()));
        let name = match self.method {
            DdpmMethod::Ancestral => "ddpm",
            DdpmMethod::Ddim { .. } => "ddim",
        };
        drv.begin(
            name,
            "check the noise predictor (train longer or lower the lr)",
            ks.len(),
            Some(1.0),
            &x,
        );
        tch::no_grad(|| -> Result<()> {
            for (i, &k) in ks.iter().enumerate() {
                let _ = tb.fill_(sched.time(k));
                let e = eps(&x, &tb);
                let ab = sched.alpha_bars[k];
                match self.method {
                    DdpmMethod::Ancestral => {
                        let (a, b) = (sched.alphas[k], sched.betas[k]);
                        x = (&x - e * (b / (1.0 - ab).sqrt())) / a.sqrt();
                        if k > 0 {
                            x += x.randn_like() * b.sqrt();
                        }
                    }
                    DdpmMethod::Ddim { .. } => {
                        let ab_next = ks.get(i + 1).map_or(1.0, |&kn| sched.alpha_bars[kn]);
                        let x0 = (&x - &e * (1.0 - ab).sqrt()) / ab.sqrt();
                        x = x0 * ab_next.sqrt() + e * (1.0 - ab_next).sqrt();
                    }
                }
                let t_next = if k == 0 { 0.0 } else { sched.time(k - 1) };
                drv.step(i + 1, Some(t_next), &x)?;
            }
            Ok(())
        })?;
        Ok(SampleOut::new(x, drv.trajectory(), ks.len()))
    }
}

/// `method = "ddpm"`: ancestral sampling (Ho et al., Algorithm 2) with a DDPM noise model, from
/// N(0, I), over all T of the model's steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpmConfig {
    pub model: String,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
}

impl Sampler for DdpmConfig {
    /// Its steps are the model's T: `--quick` caps the particles only.
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::particles(&mut self.particles)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::models(&[&self.model])
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(6.0, 1000)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        cx.model("model", &self.model, FieldKind::DdpmNoise)?;
        Ok(())
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        run_ddpm(cx, &self.model, self.particles, DdpmMethod::Ancestral, drv)
    }
}

/// `method = "ddim"`: DDIM (η = 0) with a DDPM noise model over `steps` ≤ T evenly spaced steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdimConfig {
    pub model: String,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "ddim_steps")]
    pub steps: usize,
}

fn ddim_steps() -> usize {
    100
}

impl Sampler for DdimConfig {
    fn budget(&mut self) -> crate::Budget<'_> {
        crate::Budget::new(&mut self.particles, &mut self.steps)
    }
    fn models(&self) -> crate::ModelUse<'_> {
        crate::ModelUse::models(&[&self.model])
    }
    fn footprint(&self) -> crate::Footprint {
        crate::Footprint::new(6.0, self.steps)
    }
    fn check(&self, cx: &Check) -> Result<()> {
        let m = cx.model("model", &self.model, FieldKind::DdpmNoise)?;
        let big_t = m.ddpm_steps.unwrap_or(usize::MAX);
        if self.steps == 0 || self.steps > big_t {
            return Err(cx.invalid(
                "steps",
                self.steps,
                &format!("must be in 1..={big_t} (the model's DDPM steps)"),
            ));
        }
        Ok(())
    }
    fn quick(&mut self, q: &Quick) -> Option<usize> {
        Quick::cap(&mut self.particles, q.particles);
        Quick::cap(&mut self.steps, 50);
        None
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let method = DdpmMethod::Ddim { steps: self.steps };
        run_ddpm(cx, &self.model, self.particles, method, drv)
    }
}

fn run_ddpm(
    cx: &Ctx,
    model: &str,
    n: usize,
    method: DdpmMethod,
    drv: &mut Driver,
) -> Result<SampleOut> {
    let m = cx.ddpm_model(model)?;
    let x1 = cx.initial(&InitConfig::Default, n, Start::Normal(1.0))?;
    Ddpm { method }.run(m.schedule, &*m.eps, &x1, drv)
}

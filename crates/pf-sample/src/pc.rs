//! Predictor–corrector sampling (Song et al. 2021, Algorithms 2–3): each step is a reverse
//! diffusion (Euler–Maruyama) predictor followed by `corrector_steps` Langevin corrections at the
//! new time, x ← x + ε s + √(2ε) z with ε = 2 (snr ‖z‖ / ‖s‖)², norms averaged over the batch.

use crate::driver::Driver;
use crate::reverse_sde::{predictor_step, Grid};
use crate::sampler::{Check, Ctx, Sampler};
use crate::{Result, SampleOut};
use pf_core::field::FieldKind;
use pf_core::field::ScoreField;
use pf_core::path::GaussianPath;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Predictor–corrector settings (Song et al. use snr 0.16 and one corrector step).
#[derive(Clone, Debug)]
pub struct PredictorCorrector {
    pub grid: Grid,
    pub snr: f64,
    pub corrector_steps: usize,
}

impl Default for PredictorCorrector {
    fn default() -> Self {
        Self {
            grid: Grid::default(),
            snr: 0.16,
            corrector_steps: 1,
        }
    }
}

/// Mean per-row Euclidean norm, as a 0-dim tensor (no host read).
fn mean_norm(v: &Tensor) -> Tensor {
    v.square()
        .sum_dim_intlist(-1, false, Kind::Float)
        .sqrt()
        .mean(Kind::Float)
}

impl PredictorCorrector {
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
            "predictor-corrector",
            "use more steps, a smaller snr or a larger t_end",
            self.grid.steps,
            Some(t0),
            &x,
        );
        let mut nfe = 0;
        tch::no_grad(|| -> Result<()> {
            for k in 0..self.grid.steps {
                let t = t0 - k as f64 * h;
                x = predictor_step(path, score, &x, &mut tb, t, h);
                nfe += 1;
                let _ = tb.fill_(t - h);
                for _ in 0..self.corrector_steps {
                    let s = score.score(&x, &tb);
                    let z = x.randn_like();
                    let eps = (mean_norm(&z) * self.snr / mean_norm(&s)).square() * 2.0;
                    x = &x + &s * &eps + z * (&eps * 2.0).sqrt();
                    nfe += 1;
                }
                drv.step(k + 1, Some(t - h), &x)?;
            }
            Ok(())
        })?;
        Ok(SampleOut::new(x, drv.trajectory(), nfe))
    }
}

/// `method = "pc"`: predictor–corrector on a score model's path — a reverse-diffusion step, then
/// `corrector_steps` Langevin steps at signal-to-noise ratio `snr`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcConfig {
    pub model: String,
    #[serde(default = "crate::ula::particles")]
    pub particles: usize,
    #[serde(default = "crate::reverse_sde::diffusion_steps")]
    pub steps: usize,
    #[serde(default = "crate::reverse_sde::t_end")]
    pub t_end: f64,
    #[serde(default = "snr")]
    pub snr: f64,
    #[serde(default = "one")]
    pub corrector_steps: usize,
}

fn snr() -> f64 {
    0.16
}
fn one() -> usize {
    1
}

impl Sampler for PcConfig {
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
        cx.t_end("t_end", self.t_end)?;
        cx.positive("snr", self.snr)
    }
    fn run(&self, cx: &Ctx, drv: &mut Driver) -> Result<SampleOut> {
        let m = cx.score_model(&self.model)?;
        let x1 = cx.prior(self.particles, &*m.path)?;
        let grid = Grid {
            steps: self.steps,
            t_start: None,
            t_end: self.t_end,
        };
        PredictorCorrector {
            grid,
            snr: self.snr,
            corrector_steps: self.corrector_steps,
        }
        .run(&*m.path, &*m.field, &x1, drv)
    }
}

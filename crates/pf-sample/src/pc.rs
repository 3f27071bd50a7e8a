//! Predictor–corrector sampling (Song et al. 2021, Algorithms 2–3): each step is a reverse
//! diffusion (Euler–Maruyama) predictor followed by `corrector_steps` Langevin corrections at the
//! new time, x ← x + ε s + √(2ε) z with ε = 2 (snr ‖z‖ / ‖s‖)², norms averaged over the batch.

use crate::reverse_sde::{predictor_step, Grid};
use crate::trajectory::{Guard, Recorder};
use crate::{Result, SampleOut};
use pf_core::field::ScoreField;
use pf_core::path::GaussianPath;
use tch::{Kind, Tensor};

/// Predictor–corrector settings (Song et al. use snr 0.16 and one corrector step).
#[derive(Clone, Debug)]
pub struct PredictorCorrector {
    pub grid: Grid,
    pub snr: f64,
    pub corrector_steps: usize,
    pub record: Option<usize>,
    pub record_particles: Option<usize>,
    pub guard: Guard,
}

impl Default for PredictorCorrector {
    fn default() -> Self {
        Self {
            grid: Grid::default(),
            snr: 0.16,
            corrector_steps: 1,
            record: None,
            record_particles: None,
            guard: Guard::default(),
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
    ) -> Result<SampleOut> {
        let (t0, h) = self.grid.resolve(path)?;
        let mut x = x_init.shallow_clone();
        let mut tb = Tensor::zeros([1, 1], (x.kind(), x.device()));
        let mut rec = Recorder::new(self.record, self.record_particles);
        rec.offer(0, t0, &x, false);
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
                let last = k + 1 == self.grid.steps;
                rec.offer(k + 1, t - h, &x, last);
                self.guard.check(
                    &x,
                    "predictor-corrector",
                    k + 1,
                    t - h,
                    "use more steps, a smaller snr or a larger t_end",
                    last,
                )?;
            }
            Ok(())
        })?;
        Ok(SampleOut {
            x,
            trajectory: rec.finish(),
            nfe,
            acceptance: None,
        })
    }
}

//! The Metropolis-adjusted Langevin algorithm: a ULA proposal
//! y = x + η ⊙ ∇log p(x) + √(2η) ⊙ ξ accepted with probability
//! min(1, p(y) q(x|y) / (p(x) q(y|x))), log q(y|x) = −Σ_d (y − x − η ∇log p(x))²_d / (4η_d).
//! Exact for any step size; the acceptance rate is reported.

use crate::init::Init;
use crate::trajectory::{Guard, Recorder};
use crate::ula::per_dim;
use crate::{Error, Result, SampleOut};
use pf_core::target::Target;
use tch::{Device, Kind, Tensor};

/// MALA settings.
#[derive(Clone, Debug)]
pub struct Mala {
    pub steps: usize,
    pub eta: Vec<f64>,
    pub record: Option<usize>,
    pub record_particles: Option<usize>,
    pub guard: Guard,
}

impl Default for Mala {
    fn default() -> Self {
        Self {
            steps: 1000,
            eta: vec![1e-2],
            record: None,
            record_particles: None,
            guard: Guard::default(),
        }
    }
}

impl Mala {
    /// Runs MALA on `target` (which must have `log_prob`; unnormalised is fine).
    pub fn run(
        &self,
        target: &dyn Target,
        init: &Init,
        n: usize,
        device: Device,
    ) -> Result<SampleOut> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        let dim = target.dim();
        let eta = per_dim("eta", &self.eta, dim, device)?;
        let noise_std = (&eta * 2.0).sqrt();
        let inv4eta = (&eta * 4.0).reciprocal();
        let unsupported = || pf_core::Error::Unsupported {
            name: target.name(),
            what: "log_prob (needed by MALA)".into(),
        };
        let mut x = init.draw(n, dim, device)?;
        let mut logp = target.log_prob(&x).ok_or_else(unsupported)?;
        let mut score = target.score(&x).ok_or_else(unsupported)?;
        let mut accepted = Tensor::zeros([], (Kind::Int64, device));
        let mut rec = Recorder::new(self.record, self.record_particles);
        rec.offer(0, 0.0, &x, false);
        // log q(to | from) up to a constant, given the score at `from`: [N]
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
                rec.offer(k, 0.0, &x, k == self.steps);
                self.guard.check(
                    &x,
                    "mala",
                    k,
                    None,
                    "lower eta (the step size)",
                    k == self.steps,
                )?;
            }
            Ok(())
        })?;
        let rate = accepted.double_value(&[]) / (self.steps as f64 * n as f64);
        Ok(SampleOut {
            x,
            trajectory: rec.finish(),
            nfe: 2 * self.steps,
            acceptance: Some(rate),
        })
    }
}

//! The unadjusted Langevin algorithm (seeds 001, 003):
//! x ← x + η ⊙ ∇log p(x) + √(2η) ⊙ ξ, ξ ~ N(0, I), with a per-dimension step η.
//!
//! Its stationary law is p only as η → 0: on N(0, 1) it is N(0, 1/(1 − η/2)). The optional
//! separate noise scale τ (x ← x + η ⊙ s + √(2τ) ⊙ ξ) is seed 001's tempered form; with τ ≠ η it
//! is **not** ULA and targets a tempered density (p^(η/τ) for small steps).
//!
//! Fast path: on contiguous float32 CPU particles the noise comes from pf-core's
//! [`GaussianStream`] (seeded from libtorch's generator, so `tch::manual_seed` still fixes every
//! draw; several times faster than libtorch's serial `normal_`), and a field with a fused step
//! ([`ScoreField::ula_step_fused`], e.g. the funnel's and ring's analytic scores) updates the
//! particles in one pass with no temporaries. Elsewhere (CUDA, float64, autograd or network
//! scores) each step is `normal_`/stream fill, the score, and two in-place `addcmul_`.

use crate::init::Init;
use crate::trajectory::{Guard, Recorder};
use crate::{Error, Result, SampleOut};
use pf_core::field::ScoreField;
use pf_core::rng::GaussianStream;
use tch::{Device, Kind, Tensor};

/// ULA settings.
#[derive(Clone, Debug)]
pub struct Ula {
    pub steps: usize,
    /// Step size η, one per dimension or one for all.
    pub eta: Vec<f64>,
    /// Seed 001's separate noise scale τ (None: τ = η, i.e. ULA).
    pub noise_scale: Option<Vec<f64>>,
    pub record: Option<usize>,
    pub record_particles: Option<usize>,
    pub guard: Guard,
}

impl Default for Ula {
    fn default() -> Self {
        Self {
            steps: 1000,
            eta: vec![1e-2],
            noise_scale: None,
            record: None,
            record_particles: None,
            guard: Guard::default(),
        }
    }
}

pub(crate) fn per_dim(key: &str, v: &[f64], dim: usize, device: Device) -> Result<Tensor> {
    if v.len() != 1 && v.len() != dim {
        return Err(Error::invalid(
            key,
            format!("{v:?}"),
            &format!("needs 1 or {dim} values"),
        ));
    }
    if v.iter().any(|e| !(*e > 0.0 && e.is_finite())) {
        return Err(Error::invalid(
            key,
            format!("{v:?}"),
            "must be finite and > 0",
        ));
    }
    Ok(Tensor::from_slice(v).to_kind(Kind::Float).to_device(device))
}

impl Ula {
    /// Runs ULA on `n` particles of dimension `dim` started from `init`, driven by `score`
    /// (evaluated at t = 0; any [`ScoreField`] works, e.g. a target's analytic score or
    /// autograd of a log-density).
    pub fn run(
        &self,
        score: &dyn ScoreField,
        init: &Init,
        n: usize,
        dim: usize,
        device: Device,
    ) -> Result<SampleOut> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", 0, "must be ≥ 1"));
        }
        let eta = per_dim("eta", &self.eta, dim, device)?;
        let tau = per_dim(
            "noise_scale",
            self.noise_scale.as_deref().unwrap_or(&self.eta),
            dim,
            device,
        )?;
        let noise_std = (&tau * 2.0).sqrt();
        // the same coefficients as f32 slices for fused steps (1 or D values each)
        let eta32: Vec<f32> = self.eta.iter().map(|&e| e as f32).collect();
        let std32 = Vec::<f32>::try_from(&noise_std.to_device(Device::Cpu))?;
        let mut x = init.draw(n, dim, device)?;
        let t0 = Tensor::zeros([1, 1], (Kind::Float, device));
        let mut xi = x.empty_like();
        let mut fast_noise = (xi.device() == Device::Cpu && xi.kind() == Kind::Float)
            .then(GaussianStream::from_torch);
        let mut rec = Recorder::new(self.record, self.record_particles);
        rec.offer(0, 0.0, &x, false);
        tch::no_grad(|| -> Result<()> {
            for k in 1..=self.steps {
                if !fast_noise.as_mut().is_some_and(|g| g.fill_tensor(&mut xi)) {
                    let _ = xi.normal_(0.0, 1.0);
                }
                if !score.ula_step_fused(&mut x, &eta32, &std32, &xi) {
                    let s = score.score(&x, &t0);
                    let _ = x.addcmul_(&s, &eta);
                    let _ = x.addcmul_(&xi, &noise_std);
                }
                rec.offer(k, 0.0, &x, k == self.steps);
                self.guard.check(
                    &x,
                    "ula",
                    k,
                    None,
                    "lower eta (the step size)",
                    k == self.steps,
                )?;
            }
            Ok(())
        })?;
        Ok(SampleOut {
            x,
            trajectory: rec.finish(),
            nfe: self.steps,
            acceptance: None,
        })
    }
}

//! Discrete DDPM noise-prediction loss (Ho et al. 2020; seed 001's `DiffusionModel` training).
//!
//! k ~ U{0, …, T−1}, x_k = √ᾱ_k x₀ + √(1 − ᾱ_k) ε, and the net is asked at the continuous time
//! t_k = (k + 1)/T (pflow's axis: t = 0 data, t = 1 prior; seed 001 fed the integer k):
//!
//!   L(θ) = E_{k, x₀, ε} ‖ε̂_θ(x_k, t_k) − ε‖²   (Σ over D, mean over the batch; seed 001's
//!   `MSELoss` is this divided by D).
//!
//! The predictor may predict ε, the score (ε̂ = −√(1 − ᾱ_k) ŝ) or x₀; a discrete schedule has no
//! time derivatives, so velocity predictors are not supported (a programming error: panics).

use crate::predictor::{sq_norm, Loss, Predictor};
use pf_core::param::{convert, Param};
use pf_core::path::{CoeffsT, DdpmSchedule};
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// The DDPM ε-MSE on a [`DdpmSchedule`].
pub struct DdpmLoss {
    schedule: DdpmSchedule,
    cache: Mutex<Option<(Device, Kind, Tensor, Tensor)>>,
}

impl DdpmLoss {
    pub fn new(schedule: DdpmSchedule) -> Self {
        Self {
            schedule,
            cache: Mutex::new(None),
        }
    }

    pub fn schedule(&self) -> &DdpmSchedule {
        &self.schedule
    }

    /// (√ᾱ, √(1 − ᾱ)) tables [T] on `device`, built once.
    fn tables(&self, device: Device, kind: Kind) -> (Tensor, Tensor) {
        let mut c = self.cache.lock().expect("ddpm table cache");
        if let Some((d, k, a, s)) = c.as_ref() {
            if *d == device && *k == kind {
                return (a.shallow_clone(), s.shallow_clone());
            }
        }
        let n = self.schedule.steps();
        let (a, s): (Vec<f64>, Vec<f64>) = (0..n).map(|k| self.schedule.alpha_sigma(k)).unzip();
        let a = Tensor::from_slice(&a).to_kind(kind).to_device(device);
        let s = Tensor::from_slice(&s).to_kind(kind).to_device(device);
        *c = Some((device, kind, a.shallow_clone(), s.shallow_clone()));
        (a, s)
    }

    /// Per-sample losses for given steps k [N] (int64) and noise ε [N, D] → [N].
    pub fn per_sample_at(
        &self,
        model: &Predictor,
        x0: &Tensor,
        k: &Tensor,
        eps: &Tensor,
    ) -> Tensor {
        assert!(
            model.param != Param::Velocity,
            "the DDPM loss needs an eps, score or x0 predictor (a discrete schedule has no velocity)"
        );
        let (ta, ts) = self.tables(x0.device(), x0.kind());
        let a = ta.index_select(0, k).view([-1, 1]);
        let s = ts.index_select(0, k).view([-1, 1]);
        let x = x0 * &a + eps * &s;
        let t = (k.to_kind(x0.kind()) + 1.0).view([-1, 1]) / self.schedule.steps() as f64;
        let pred = model.predict(&x, &t);
        let e = if model.param == Param::Eps {
            pred
        } else {
            let c = CoeffsT {
                d_alpha: a.zeros_like(),
                d_sigma: s.zeros_like(),
                alpha: a,
                sigma: s,
            };
            convert(model.param, Param::Eps, &pred, &x, &c)
        };
        sq_norm(&(e - eps))
    }

    /// Draws k and ε for x₀ [N, D]; returns per-sample losses [N] and t_k [N, 1].
    pub fn per_sample(&self, model: &Predictor, x0: &Tensor) -> (Tensor, Tensor) {
        let n = x0.size()[0];
        let k = Tensor::randint(
            self.schedule.steps() as i64,
            [n],
            (Kind::Int64, x0.device()),
        );
        let eps = x0.randn_like();
        let l = self.per_sample_at(model, x0, &k, &eps);
        let t = (k.to_kind(x0.kind()) + 1.0).view([-1, 1]) / self.schedule.steps() as f64;
        (l, t)
    }

    /// The batch loss.
    pub fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        let (l, t) = self.per_sample(model, x0);
        Loss {
            value: l.mean(l.kind()),
            t: Some(t),
        }
    }
}

/// `kind = "ddpm"`: the discrete DDPM ε-MSE with T `steps`, β linear from `beta_1` to `beta_t`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpmConfig {
    #[serde(default = "ddpm_steps")]
    pub steps: usize,
    #[serde(default = "ddpm_beta_1")]
    pub beta_1: f64,
    #[serde(default = "ddpm_beta_t")]
    pub beta_t: f64,
}

fn ddpm_steps() -> usize {
    1000
}
fn ddpm_beta_1() -> f64 {
    1e-4
}
fn ddpm_beta_t() -> f64 {
    0.02
}

impl crate::objective::Objective for DdpmConfig {
    fn check(&self, key: &str, param: Param, _dim: usize) -> crate::Result<()> {
        let other = |m: String| Err(crate::Error::Other(m));
        if self.steps == 0 {
            return other(format!("invalid {key}.loss.steps = 0: must be ≥ 1"));
        }
        let (b1, bt) = (self.beta_1, self.beta_t);
        if !(b1 > 0.0 && b1 < bt && bt < 1.0) {
            return other(format!(
                "invalid {key}.loss.beta_1/beta_t = {b1}/{bt}: need 0 < beta_1 < beta_t < 1"
            ));
        }
        crate::objective::want_param(key, param, &[Param::Eps], "ddpm", "eps")
    }
    fn on_gaussian_path(&self) -> bool {
        false
    }
    fn ddpm_steps(&self) -> Option<usize> {
        Some(self.steps)
    }
    fn build(
        &self,
        _path: std::sync::Arc<dyn pf_core::path::GaussianPath>,
        _device: Device,
    ) -> crate::Result<Box<dyn crate::objective::BatchLoss>> {
        let sched = DdpmSchedule::linear(self.steps, self.beta_1, self.beta_t);
        Ok(Box::new(DdpmLoss::new(sched)))
    }
}

impl crate::objective::BatchLoss for DdpmLoss {
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        DdpmLoss::loss(self, model, x0)
    }
    fn ddpm(&self) -> Option<&DdpmSchedule> {
        Some(&self.schedule)
    }
}

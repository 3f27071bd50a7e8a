//! Continuous-time denoising score matching (Song et al. 2021; seeds 001 and 002) on any
//! [`GaussianPath`] (VP, sub-VP, VE, …).
//!
//! With t = 0 data and t = 1 prior, x_t = α(t) x₀ + σ(t) ε, the conditional score is
//! ∇ log p_t(x_t | x₀) = −ε/σ(t), and
//!
//!   L(θ) = E_{t ~ U(T_ε, 1), x₀, ε} [ λ(t) ‖s_θ(x_t, t) + ε/σ(t)‖² ]
//!
//! (Σ over dimensions, mean over the batch; λ from [`Weighting`], always in score space). The
//! `target` picks the space the residual is computed in, not the objective:
//! - `score`: λ(t) ‖ŝ + ε/σ‖², ŝ the prediction converted to a score;
//! - `eps`:   λ(t)/σ²(t) ‖ε̂ − ε‖², ε̂ the prediction converted to noise. With λ = σ² this is
//!   seed 001's ε-MSE ‖ε̂ − ε‖² (seed 001's `MSELoss` is this divided by D).
//!
//! Seed 002 is `weighting = "likelihood"` (λ = g² = β on VP) with T_ε > 0.
//! With `importance = true`, t ~ q ∝ λ/σ² and each sample is reweighted by λ/((1 − T_ε) q), so the
//! estimator stays unbiased (see [`crate::time_sampling`]).
//!
//! Minimiser: s_θ(x, t) = ∇ log p_t(x), the marginal score. For the exact score s* and a constant
//! perturbation δ, L(s* + δ) − L(s*) = E_U[λ(t)] ‖δ‖² (the cross term vanishes because
//! E[−ε/σ | x_t] = s*), which the tests check.

use crate::predictor::{sq_norm, Loss, Predictor};
use crate::time_sampling::{TimeDraw, TimeSampler};
use crate::weighting::Weighting;
use crate::{Error, Result};
use pf_core::param::Param;
use pf_core::path::GaussianPath;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tch::Tensor;

/// The space the DSM residual is computed in (config key `loss.target`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DsmTarget {
    Eps,
    Score,
}

/// DSM settings (TOML `[loss]`, `kind = "dsm"` at the app level). Defaults: target `eps`,
/// weighting `sigma-sq` (seed 001), T_ε = 1e-5, no importance sampling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsmConfig {
    #[serde(default = "DsmConfig::default_target")]
    pub target: DsmTarget,
    #[serde(default = "DsmConfig::default_weighting")]
    pub weighting: Weighting,
    /// T_ε: t ~ U(T_ε, 1].
    #[serde(default = "DsmConfig::default_t_eps")]
    pub t_eps: f64,
    /// Sample t ∝ λ(t)/σ²(t) and reweight (meant for the likelihood weighting).
    #[serde(default)]
    pub importance: bool,
}

impl DsmConfig {
    fn default_target() -> DsmTarget {
        DsmTarget::Eps
    }
    fn default_weighting() -> Weighting {
        Weighting::SigmaSq
    }
    fn default_t_eps() -> f64 {
        1e-5
    }
    /// Seed 001's VP training: ε target, λ = σ² (plain ε-MSE).
    pub fn seed_001() -> Self {
        Self {
            target: DsmTarget::Eps,
            weighting: Weighting::SigmaSq,
            t_eps: 1e-5,
            importance: false,
        }
    }
    /// Seed 002's likelihood training: λ = g², T_ε = 1e-5, score target.
    pub fn seed_002() -> Self {
        Self {
            target: DsmTarget::Score,
            weighting: Weighting::Likelihood,
            t_eps: 1e-5,
            importance: false,
        }
    }
    /// Checks the values; errors name `loss.*` keys.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.t_eps) {
            return Err(Error::config("loss.t_eps", self.t_eps, "must be in [0, 1)"));
        }
        if self.importance && self.t_eps <= 0.0 {
            return Err(Error::config(
                "loss.t_eps",
                self.t_eps,
                "importance sampling (loss.importance = true) needs t_eps > 0 (λ/σ² is not integrable at 0)",
            ));
        }
        Ok(())
    }
}

impl Default for DsmConfig {
    fn default() -> Self {
        Self::seed_001()
    }
}

/// The DSM loss on one path (see the module docs).
pub struct Dsm {
    path: Arc<dyn GaussianPath>,
    cfg: DsmConfig,
    sampler: TimeSampler,
}

impl Dsm {
    /// Validates `cfg` and tabulates the importance density if asked for.
    pub fn new(path: Arc<dyn GaussianPath>, cfg: DsmConfig) -> Result<Self> {
        cfg.validate()?;
        let sampler = if cfg.importance {
            TimeSampler::importance(&*path, cfg.t_eps, cfg.weighting)
        } else {
            TimeSampler::uniform(cfg.t_eps, cfg.weighting)
        };
        Ok(Self { path, cfg, sampler })
    }

    pub fn config(&self) -> &DsmConfig {
        &self.cfg
    }
    pub fn path(&self) -> &Arc<dyn GaussianPath> {
        &self.path
    }
    /// The time sampler (to draw times for [`per_sample_at`](Self::per_sample_at)).
    pub fn sampler(&self) -> &TimeSampler {
        &self.sampler
    }

    /// Draws times for a batch of `n` (see [`TimeSampler::sample`]).
    pub fn draw(&self, n: i64, options: (tch::Kind, tch::Device)) -> TimeDraw {
        self.sampler.sample(&*self.path, n, options)
    }

    /// Per-sample losses for given draws: m(t) ‖ŝ + ε/σ‖² (score) or m(t)/σ² ‖ε̂ − ε‖² (eps),
    /// m(t) the draw's factor. Shapes: x₀, ε [N, D] → [N].
    pub fn per_sample_at(
        &self,
        model: &Predictor,
        x0: &Tensor,
        draw: &TimeDraw,
        eps: &Tensor,
    ) -> Tensor {
        let c = &draw.coeffs;
        let x = x0 * &c.alpha + eps * &c.sigma;
        match self.cfg.target {
            DsmTarget::Score => {
                let s = model.predict_as(Param::Score, &x, &draw.t, c);
                sq_norm(&(s + eps / &c.sigma)) * draw.factor.view([-1])
            }
            DsmTarget::Eps => {
                let e = model.predict_as(Param::Eps, &x, &draw.t, c);
                let r = sq_norm(&(e - eps));
                if self.cfg.weighting == Weighting::SigmaSq && !self.cfg.importance {
                    r // λ/σ² = 1 exactly
                } else {
                    r * (&draw.factor / c.sigma.square()).view([-1])
                }
            }
        }
    }

    /// Draws t and ε for the batch x₀ [N, D]; returns the per-sample losses [N] and t [N, 1].
    pub fn per_sample(&self, model: &Predictor, x0: &Tensor) -> (Tensor, Tensor) {
        let draw = self.draw(x0.size()[0], (x0.kind(), x0.device()));
        let eps = x0.randn_like();
        let l = self.per_sample_at(model, x0, &draw, &eps);
        (l, draw.t)
    }

    /// The batch loss (mean of [`per_sample`](Self::per_sample)).
    pub fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        let (l, t) = self.per_sample(model, x0);
        Loss {
            value: l.mean(l.kind()),
            t: Some(t),
        }
    }
}

impl crate::objective::Objective for DsmConfig {
    fn check(&self, key: &str, param: Param, _dim: usize) -> Result<()> {
        self.validate().map_err(|e| rekey(e, key))?;
        if !(self.t_eps > 0.0 && self.t_eps < 1.0) {
            return Err(Error::Other(format!(
                "invalid {key}.loss.t_eps = {}: need 0 < T_ε < 1",
                self.t_eps
            )));
        }
        crate::objective::want_param(
            key,
            param,
            &[Param::Eps, Param::Score, Param::X0],
            "dsm",
            "eps, score or x0",
        )
    }
    fn build(
        &self,
        path: Arc<dyn GaussianPath>,
        _device: tch::Device,
    ) -> Result<Box<dyn crate::objective::BatchLoss>> {
        Ok(Box::new(Dsm::new(path, self.clone())?))
    }
}

impl crate::objective::BatchLoss for Dsm {
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        Dsm::loss(self, model, x0)
    }
}

/// `invalid loss.…` from a config's own check, re-rooted under the model's key.
pub(crate) fn rekey(e: Error, key: &str) -> Error {
    match e {
        Error::Config { key: k, value, msg } => Error::Config {
            key: format!("{key}.{k}"),
            value,
            msg,
        },
        e => e,
    }
}

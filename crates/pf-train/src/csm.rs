//! Conditional score matching on a Gaussian conditional path (seed 004, Lab 2-2).
//!
//! With z ~ p_data, t ~ U(T_ε, 1] and x ~ p_t(x | z) = N(α(t) z, σ(t)² I) (pflow's axis: t = 0
//! data, t = 1 noise; seed 004's time s = 1 − t),
//!
//!   L_CSM(θ) = E ‖s_θ(x, t) − ∇ log p_t(x | z)‖²,  ∇ log p_t(x | z) = (α z − x)/σ²,
//!
//! (Σ over D, mean over the batch). It equals the marginal score-matching loss up to a constant,
//! so its minimiser is the marginal score ∇ log p_t. (On a Gaussian path it is DSM with λ = 1.)

use crate::predictor::{sq_norm, uniform_times, Loss, Predictor};
use crate::{Error, Result};
use pf_core::param::Param;
use pf_core::path::GaussianPath;
use std::sync::Arc;
use tch::Tensor;

/// The CSM loss on one path.
pub struct Csm {
    path: Arc<dyn GaussianPath>,
    t_eps: f64,
}

impl Csm {
    /// `t_eps` ∈ [0, 1): t ~ U(t_eps, 1] (the target blows up like 1/σ as t → 0; seed 004 samples
    /// its s ∈ [0, 1), i.e. t ∈ (0, 1]).
    pub fn new(path: Arc<dyn GaussianPath>, t_eps: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&t_eps) {
            return Err(Error::config("loss.t_eps", t_eps, "must be in [0, 1)"));
        }
        Ok(Self { path, t_eps })
    }

    /// Per-sample losses for given z [N, D], t [N, 1], ε [N, D] (x = α z + σ ε) → [N].
    pub fn per_sample_at(&self, model: &Predictor, z: &Tensor, t: &Tensor, eps: &Tensor) -> Tensor {
        let c = self.path.coeffs_t(t);
        let x = z * &c.alpha + eps * &c.sigma;
        let target = (z * &c.alpha - &x) / c.sigma.square();
        let s = model.predict_as(Param::Score, &x, t, &c);
        sq_norm(&(s - target))
    }

    /// Draws t and ε for the data batch z [N, D]; returns per-sample losses [N] and t [N, 1].
    pub fn per_sample(&self, model: &Predictor, z: &Tensor) -> (Tensor, Tensor) {
        let t = uniform_times(z.size()[0], self.t_eps, (z.kind(), z.device()));
        let eps = z.randn_like();
        (self.per_sample_at(model, z, &t, &eps), t)
    }

    /// The batch loss.
    pub fn loss(&self, model: &Predictor, z: &Tensor) -> Loss {
        let (l, t) = self.per_sample(model, z);
        Loss {
            value: l.mean(l.kind()),
            t: Some(t),
        }
    }
}

/// `kind = "csm"`: conditional score matching on the model's path, t ~ U(`t_eps`, 1].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsmConfig {
    #[serde(default = "crate::flow_matching::cond_t_eps")]
    pub t_eps: f64,
}

impl crate::objective::Objective for CsmConfig {
    fn check(&self, key: &str, param: Param, _dim: usize) -> Result<()> {
        crate::objective::t_eps_in_unit(key, self.t_eps)?;
        crate::objective::want_param(key, param, &[Param::Score], "csm", "score")
    }
    fn build(
        &self,
        path: Arc<dyn GaussianPath>,
        _device: tch::Device,
    ) -> Result<Box<dyn crate::objective::BatchLoss>> {
        Ok(Box::new(Csm::new(path, self.t_eps)?))
    }
}

impl crate::objective::BatchLoss for Csm {
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        Csm::loss(self, model, x0)
    }
}

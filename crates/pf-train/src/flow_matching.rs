//! Conditional flow matching (Lipman et al. 2023; seed 004), on pflow's time axis (t = 0 data,
//! t = 1 source/prior; velocities point from data toward the source, and samples are drawn by
//! integrating dx/dt = v from t = 1 down to 0; seed 004's u_s equals −v at t = 1 − s).
//!
//! - [`FlowMatching`], on a Gaussian path: z ~ p_data, t ~ U(T_ε, 1], x = α z + σ ε,
//!   L = E ‖v_θ(x, t) − (α' z + σ' ε)‖².
//! - [`LinearFlowMatching`], the linear path from an arbitrary source (seed 004 §4):
//!   x_t = (1 − t) x_data + t x_source, t ~ U(0, 1], L = E ‖v_θ(x_t, t) − (x_source − x_data)‖².
//!
//! (Σ over D, mean over the batch.) Both are minimised by the marginal velocity
//! v*(x, t) = E[target | x_t = x], so a constant perturbation δ raises them by exactly ‖δ‖².

use crate::predictor::{sq_norm, uniform_times, Loss, Predictor};
use crate::{Error, Result};
use pf_core::param::Param;
use pf_core::path::GaussianPath;
use std::sync::Arc;
use tch::Tensor;

/// Conditional flow matching on a Gaussian path.
pub struct FlowMatching {
    path: Arc<dyn GaussianPath>,
    t_eps: f64,
}

impl FlowMatching {
    /// `t_eps` ∈ [0, 1): t ~ U(t_eps, 1] (0 is fine for σ(t) = t; σ(t) = √t has σ' = ∞ at 0).
    pub fn new(path: Arc<dyn GaussianPath>, t_eps: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&t_eps) {
            return Err(Error::config("loss.t_eps", t_eps, "must be in [0, 1)"));
        }
        Ok(Self { path, t_eps })
    }

    /// Per-sample losses for given z [N, D], t [N, 1], ε [N, D] → [N].
    pub fn per_sample_at(&self, model: &Predictor, z: &Tensor, t: &Tensor, eps: &Tensor) -> Tensor {
        let c = self.path.coeffs_t(t);
        let x = z * &c.alpha + eps * &c.sigma;
        let target = z * &c.d_alpha + eps * &c.d_sigma;
        let v = model.predict_as(Param::Velocity, &x, t, &c);
        sq_norm(&(v - target))
    }

    /// Draws t and ε for the data batch z; returns per-sample losses [N] and t [N, 1].
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

/// Flow matching on the linear path from an arbitrary source to the data (no Gaussian path, so
/// the predictor must predict the velocity itself).
#[derive(Clone, Copy, Debug, Default)]
pub struct LinearFlowMatching;

impl LinearFlowMatching {
    /// Per-sample losses for given data and source batches [N, D] and t [N, 1] → [N].
    /// Panics if the predictor does not predict a velocity.
    pub fn per_sample_at(
        &self,
        model: &Predictor,
        x_data: &Tensor,
        x_source: &Tensor,
        t: &Tensor,
    ) -> Tensor {
        assert_eq!(
            model.param,
            Param::Velocity,
            "linear-path flow matching trains a velocity predictor"
        );
        let x = x_data * (-t + 1.0) + x_source * t;
        let v = model.predict(&x, t);
        sq_norm(&(v - (x_source - x_data)))
    }

    /// Draws t ~ U(0, 1]; returns per-sample losses [N] and t [N, 1].
    pub fn per_sample(
        &self,
        model: &Predictor,
        x_data: &Tensor,
        x_source: &Tensor,
    ) -> (Tensor, Tensor) {
        let t = uniform_times(x_data.size()[0], 0.0, (x_data.kind(), x_data.device()));
        (self.per_sample_at(model, x_data, x_source, &t), t)
    }

    /// The batch loss.
    pub fn loss(&self, model: &Predictor, x_data: &Tensor, x_source: &Tensor) -> Loss {
        let (l, t) = self.per_sample(model, x_data, x_source);
        Loss {
            value: l.mean(l.kind()),
            t: Some(t),
        }
    }
}

pub(crate) fn cond_t_eps() -> f64 {
    1e-3
}

/// `kind = "fm"`: conditional flow matching on the model's Gaussian path, t ~ U(`t_eps`, 1].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FmConfig {
    #[serde(default = "cond_t_eps")]
    pub t_eps: f64,
}

impl crate::objective::Objective for FmConfig {
    fn check(&self, key: &str, param: Param, _dim: usize) -> Result<()> {
        crate::objective::t_eps_in_unit(key, self.t_eps)?;
        crate::objective::want_param(key, param, &[Param::Velocity], "fm", "velocity")
    }
    fn build(
        &self,
        path: Arc<dyn GaussianPath>,
        _device: tch::Device,
    ) -> Result<Box<dyn crate::objective::BatchLoss>> {
        Ok(Box::new(FlowMatching::new(path, self.t_eps)?))
    }
}

impl crate::objective::BatchLoss for FlowMatching {
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        FlowMatching::loss(self, model, x0)
    }
}

/// `kind = "fm-linear"`: flow matching on the linear path from `source` (any target) to the
/// data; the net predicts the velocity itself.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FmLinearConfig {
    pub source: pf_core::target::TargetConfig,
}

impl crate::objective::Objective for FmLinearConfig {
    fn check(&self, key: &str, param: Param, dim: usize) -> Result<()> {
        let at = format!("{key}.loss.source");
        self.source.validate().map_err(|e| {
            let msg = e.to_string();
            Error::Other(match msg.strip_prefix("invalid ") {
                Some(rest) => format!(
                    "invalid {at}.{}",
                    rest.strip_prefix("target.").unwrap_or(rest)
                ),
                None => format!("{at}: {msg}"),
            })
        })?;
        let d = self.source.build()?.dim();
        if d != dim {
            return Err(Error::Other(format!(
                "invalid {at}: dimension {d} ≠ target dimension {dim}"
            )));
        }
        crate::objective::want_param(key, param, &[Param::Velocity], "fm-linear", "velocity")
    }
    fn on_gaussian_path(&self) -> bool {
        false
    }
    fn build(
        &self,
        _path: Arc<dyn GaussianPath>,
        device: tch::Device,
    ) -> Result<Box<dyn crate::objective::BatchLoss>> {
        Ok(Box::new(LinearFromSource {
            source: self.source.build()?,
            device,
        }))
    }
}

/// [`LinearFlowMatching`] with its source distribution: each batch pairs the data with as many
/// fresh source samples.
pub struct LinearFromSource {
    pub source: Box<dyn pf_core::target::Target>,
    pub device: tch::Device,
}

impl crate::objective::BatchLoss for LinearFromSource {
    fn loss(&self, model: &Predictor, x0: &Tensor) -> Loss {
        let src = self.source.sample(x0.size()[0] as usize, self.device);
        LinearFlowMatching.loss(model, x0, &src)
    }
    fn source(&self) -> Option<&dyn pf_core::target::Target> {
        Some(&*self.source)
    }
}

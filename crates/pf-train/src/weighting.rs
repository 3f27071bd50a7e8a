//! Loss weightings λ(t) of denoising score matching, always in score space:
//!
//! L(θ) = E_{t, x₀, ε} [ λ(t) ‖s_θ(x_t, t) − ∇ log p_t(x_t | x₀)‖² ],  ∇ log p_t(x_t | x₀) = −ε/σ(t).
//!
//! - `none`: λ = 1.
//! - `sigma-sq`: λ = σ²(t). Then λ‖s_θ + ε/σ‖² = ‖ε_θ − ε‖²: seed 001's ε-MSE (Song et al.'s
//!   default for VP).
//! - `likelihood`: λ = g²(t) (VP: β(t); seed 002). With this weighting the loss bounds the
//!   negative log-likelihood (Song, Durkan, Murray & Ermon 2021).

use pf_core::path::{CoeffsT, GaussianPath};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// λ(t) (config key `loss.weighting`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weighting {
    None,
    SigmaSq,
    Likelihood,
}

impl Weighting {
    /// λ(t) as a number.
    pub fn lambda(self, path: &dyn GaussianPath, t: f64) -> f64 {
        match self {
            Weighting::None => 1.0,
            Weighting::SigmaSq => path.coeffs(t).sigma.powi(2),
            Weighting::Likelihood => path.diffusion_sq(t),
        }
    }

    /// λ(t) elementwise; `c` are the path's coefficients at `t`. Shapes: t [N, 1] → [N, 1].
    pub fn lambda_t(self, path: &dyn GaussianPath, t: &Tensor, c: &CoeffsT) -> Tensor {
        match self {
            Weighting::None => t.ones_like(),
            Weighting::SigmaSq => c.sigma.square(),
            Weighting::Likelihood => path.diffusion_sq_t(t),
        }
    }
}

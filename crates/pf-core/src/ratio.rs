//! The density-ratio seam used by particle flows (MonoFlow, seed 000).
//!
//! A binary classifier with logit D(x) trained by cross-entropy between data (label 1) and
//! particles (label 0) estimates D(x) ≈ log p_data(x) − log q(x). Moving particles along
//! h'(D(x)) ∇ₓD(x) is then a Wasserstein gradient flow toward the data.

use tch::Tensor;

/// A density-ratio estimator: updated on data vs particles, and queried for its logit gradient.
pub trait DensityRatio {
    /// One round of estimator updates on `data` (label 1) against `particles` (label 0), both
    /// [B, D], at flow time `t` (used by time-conditioned estimators). Returns the loss of the
    /// last update as a 0-dim tensor, so the caller decides when to read it (a host sync).
    fn update(&mut self, data: &Tensor, particles: &Tensor, t: f64) -> Tensor;

    /// The logit D(x) [N, 1] and its per-particle gradient ∇ₓD(x) [N, D], both detached. Must not
    /// touch the estimator's parameters or optimiser state.
    fn logit_and_grad(&self, x: &Tensor, t: f64) -> (Tensor, Tensor);
}

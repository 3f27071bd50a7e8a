//! Parameterisations: a net's raw output read as ε, score, x₀ or velocity on a Gaussian path
//! x_t = α(t) x₀ + σ(t) ε (t = 0 data, t = 1 prior), turned into the pf-core seams.
//!
//! [`NetScore`] gives s(x, t) = ∇ₓ log p_t(x) and [`NetVelocity`] the PF-ODE velocity
//! v(x, t) = α' x̂₀ + σ' ε̂, both through [`pf_core::param::convert`] with the path's
//! `coeffs_t(t)` (per-sample or one time for the batch). E.g. an ε-net gives s = −ε̂/σ(t).

use crate::Net;
use pf_core::field::{ScoreField, VelocityField};
use pf_core::param::{convert, Param};
use pf_core::path::GaussianPath;
use std::sync::Arc;
use tch::Tensor;

/// The net's prediction converted from `from` to `to` at (x, t). Shapes: x [N, D],
/// t [N, 1] or [1, 1] → [N, D].
pub fn predict_as(
    net: &dyn Net,
    from: Param,
    to: Param,
    path: &dyn GaussianPath,
    x: &Tensor,
    t: &Tensor,
) -> Tensor {
    let pred = net.forward(x, t);
    if from == to {
        return pred;
    }
    let t = crate::batch_time(t, x);
    let c = path.coeffs_t(&t);
    convert(from, to, &pred, x, &c)
}

/// A net read as a score field: s(x, t) = convert(param → score).
pub struct NetScore<N> {
    pub net: N,
    pub param: Param,
    pub path: Arc<dyn GaussianPath>,
}

impl<N: Net> NetScore<N> {
    pub fn new(net: N, param: Param, path: Arc<dyn GaussianPath>) -> Self {
        Self { net, param, path }
    }
}

impl<N: Net> ScoreField for NetScore<N> {
    fn score(&self, x: &Tensor, t: &Tensor) -> Tensor {
        predict_as(&self.net, self.param, Param::Score, &*self.path, x, t)
    }
}

/// A net read as a velocity field: v(x, t) = convert(param → velocity). [`NetVelocity::direct`]
/// takes a velocity net with no Gaussian path (e.g. trained by flow matching on the linear path
/// from an arbitrary source).
pub struct NetVelocity<N> {
    pub net: N,
    pub param: Param,
    pub path: Option<Arc<dyn GaussianPath>>,
}

impl<N: Net> NetVelocity<N> {
    pub fn new(net: N, param: Param, path: Arc<dyn GaussianPath>) -> Self {
        Self {
            net,
            param,
            path: Some(path),
        }
    }
    /// A net that predicts the velocity itself; no path needed.
    pub fn direct(net: N) -> Self {
        Self {
            net,
            param: Param::Velocity,
            path: None,
        }
    }
}

impl<N: Net> VelocityField for NetVelocity<N> {
    fn velocity(&self, x: &Tensor, t: &Tensor) -> Tensor {
        match &self.path {
            Some(p) => predict_as(&self.net, self.param, Param::Velocity, &**p, x, t),
            None => self.net.forward(x, t),
        }
    }
}

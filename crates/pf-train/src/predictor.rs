//! What a loss trains: a raw prediction function f(x, t) plus what it predicts.
//!
//! Losses never see a net directly, so an analytic oracle (e.g. the exact score of a Gaussian
//! mixture) plugs in for tests, and any pf-nets net plugs in for training.

use pf_core::param::{convert, Param};
use pf_core::path::CoeffsT;
use pf_nets::Net;
use tch::Tensor;

/// A boxed prediction function f(x, t).
pub type PredictFn<'a> = Box<dyn Fn(&Tensor, &Tensor) -> Tensor + 'a>;

/// f(x, t) → [N, D] together with its [`Param`] (ε, score, x₀ or velocity).
pub struct Predictor<'a> {
    f: PredictFn<'a>,
    /// What `f` predicts.
    pub param: Param,
}

impl<'a> Predictor<'a> {
    /// A closure predicting `param`. Shapes: x [N, D], t [N, 1] → [N, D].
    pub fn new(param: Param, f: impl Fn(&Tensor, &Tensor) -> Tensor + 'a) -> Self {
        Self {
            f: Box::new(f),
            param,
        }
    }

    /// A pf-nets net predicting `param`.
    pub fn net(net: &'a dyn Net, param: Param) -> Self {
        Self::new(param, move |x, t| net.forward(x, t))
    }

    /// The raw prediction f(x, t).
    pub fn predict(&self, x: &Tensor, t: &Tensor) -> Tensor {
        (self.f)(x, t)
    }

    /// The prediction converted to `to` with path coefficients `c` at t (see
    /// [`pf_core::param::convert`]).
    pub fn predict_as(&self, to: Param, x: &Tensor, t: &Tensor, c: &CoeffsT) -> Tensor {
        convert(self.param, to, &self.predict(x, t), x, c)
    }
}

/// A loss value and the times it was evaluated at (reported by the NaN guard).
pub struct Loss {
    /// The scalar loss, 0-dim, attached to the autograd graph.
    pub value: Tensor,
    /// The times of the batch, [N, 1], when the loss has any.
    pub t: Option<Tensor>,
}

impl From<Tensor> for Loss {
    fn from(value: Tensor) -> Self {
        Self { value, t: None }
    }
}

/// Σ over the last dimension: ‖r‖² per row. Shapes: [N, D] → [N].
pub(crate) fn sq_norm(r: &Tensor) -> Tensor {
    r.square().sum_dim_intlist(-1, false, r.kind())
}

/// t = 1 − (1 − t_eps) u, u ~ U[0, 1): uniform on (t_eps, 1], never exactly t_eps.
/// Shapes: → [n, 1] of `kind` on `device`.
pub fn uniform_times(n: i64, t_eps: f64, options: (tch::Kind, tch::Device)) -> Tensor {
    -(Tensor::rand([n, 1], options) * (1.0 - t_eps)) + 1.0
}

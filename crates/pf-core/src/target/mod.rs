//! Targets: distributions to sample, with their log-density and score where they exist.
//!
//! Samples are [N, D] float32 tensors drawn with libtorch's generator on the requested device, so
//! `tch::manual_seed` fixes them. `log_prob` returns [N] (normalised unless
//! [`Target::normalised`] says otherwise) and `score` returns ∇ₓ log p, [N, D].
//! Funnels keep their neck variable in the last column.

use crate::field::autograd_grad;
use tch::{Device, Tensor};

/// A target distribution (the seam samplers, metrics and plots are written against).
pub trait Target: Send + Sync {
    /// A short name used in file names and tables.
    fn name(&self) -> String;
    /// Dimension D.
    fn dim(&self) -> usize;
    /// `n` exact samples, [n, D] float32 on `device`.
    fn sample(&self, n: usize, device: Device) -> Tensor;
    /// log p(x) per row, [N]; `None` for sampling-only targets.
    fn log_prob(&self, _x: &Tensor) -> Option<Tensor> {
        None
    }
    /// ∇ₓ log p(x), [N, D]. Default: autograd of [`log_prob`](Self::log_prob).
    fn score(&self, x: &Tensor) -> Option<Tensor> {
        let missing = std::cell::Cell::new(false);
        let g = autograd_grad(x, |x| {
            self.log_prob(x).unwrap_or_else(|| {
                missing.set(true);
                x.sum_dim_intlist(-1, false, x.kind()) * 0.0
            })
        });
        (!missing.get()).then_some(g)
    }
    /// Whether `log_prob` integrates to one.
    fn normalised(&self) -> bool {
        true
    }
}

/// A funnel's neck: its variable is column `column`; `q05` is the true 5 % quantile of it, and
/// `x_std` the true standard deviation of the other coordinates among points below `q05`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neck {
    pub column: usize,
    pub q05: f64,
    pub x_std: f64,
}

impl<T: Target + ?Sized> Target for Box<T> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        (**self).sample(n, device)
    }
    fn log_prob(&self, x: &Tensor) -> Option<Tensor> {
        (**self).log_prob(x)
    }
    fn score(&self, x: &Tensor) -> Option<Tensor> {
        (**self).score(x)
    }
    fn normalised(&self) -> bool {
        (**self).normalised()
    }
}

mod config;
mod data_file;
mod funnel;
mod fused;
mod gmm;
mod neal_funnel;
mod ring;
mod scurve;
pub mod special;
mod swiss_roll;
pub use config::TargetConfig;
pub use data_file::DataFile;
pub use funnel::Funnel;
pub use gmm::{GaussianMixture, MixTensors, Pieces};
pub use neal_funnel::NealFunnel;
pub use ring::{Ring, RING_WIDTH};
pub use scurve::SCurve;
pub use swiss_roll::SwissRoll;

#[cfg(test)]
pub(crate) mod tests;

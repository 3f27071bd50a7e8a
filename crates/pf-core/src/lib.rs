//! pf-core: the mathematical floor of pflow.
//!
//! One time axis everywhere: t = 0 is data, t = 1 is the prior/source, and
//! x_t = α(t) x₀ + σ(t) ε. One tensor type: `tch::Tensor` batches of shape [N, D]. Scalar maths
//! (schedules, step-size control) is plain `f64`.
//!
//! - [`path`]: Gaussian paths / noise schedules (VP linear and cosine, sub-VP, VE, seed 004's
//!   conditional paths, discrete DDPM) and the SDE view ([`sde`]).
//! - [`param`]: conversions between ε, score, x₀ and velocity predictions.
//! - [`target`]: target distributions; [`oracle`]: exact scores/log-densities of Gaussian
//!   mixtures under any path.
//! - [`ode`]: Euler, Heun, RK4, Dormand–Prince 5(4) and Euler–Maruyama steps on tensors.
//! - [`metrics`]: sample-based distances and funnel diagnostics, and the metric table every
//!   report reads.
//! - [`registry`]: method names → their config types (pf-sample's samplers, pf-train's objectives).
//! - [`interrupt`]: the process-wide SIGINT/SIGTERM flag long loops check at step boundaries.
//! - The seams: [`field::ScoreField`], [`field::VelocityField`], [`path::GaussianPath`],
//!   [`target::Target`], [`ratio::DensityRatio`].

pub mod device;
pub mod error;
pub mod fastmath;
pub mod field;
pub mod interrupt;
pub mod keys;
pub mod metrics;
pub mod ode;
pub mod ops;
pub mod oracle;
pub mod param;
pub mod path;
pub mod ratio;
pub mod registry;
pub mod rng;
pub mod sde;
pub mod target;
pub mod threads;

pub use error::{Error, Result};

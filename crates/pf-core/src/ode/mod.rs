//! ODE and SDE step rules on tensors.
//!
//! A right-hand side is any `FnMut(f64, &Tensor) -> Tensor` giving dy/dt at (t, y). Time may run
//! either way: a negative step h integrates from t = 1 (prior) down to t = 0 (data). Fixed-step
//! rules ([`euler`], [`heun`], [`rk4`]) take one step; [`Dopri5`] is adaptive; [`integrate`]
//! runs a fixed-step rule over a uniform grid; [`euler_maruyama`] is the SDE step.

mod dopri5;
mod euler_maruyama;
mod fixed;

pub use dopri5::{Dopri5, Dopri5Stats, ErrorNorm};
pub use euler_maruyama::euler_maruyama;
pub use fixed::{euler, heun, integrate, rk4, FixedMethod};

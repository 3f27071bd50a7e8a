//! Plain records a run computes and writes in more than one file, shared by the run
//! ([`crate::run`]) and what `--resume` reads back ([`crate::resume`]) without either reaching
//! into the other.

use serde::{Deserialize, Serialize};

/// W₁ between a sampler's particles and the exact marginal p_t at the shown times, over the
/// particles a trajectory frame keeps (the first [`RECORD_PARTICLES`](crate::config::RECORD_PARTICLES));
/// computed in [`crate::run::time_marginals`], written in `metrics.json` and in a finished
/// sampler's `samples_<label>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct W1ByTime {
    /// [t, W₁(particles at t, p_t)], t falling.
    pub w1_by_time: Vec<[f64; 2]>,
    /// [t, mean W₁ of as many exact samples of p_t]: the floor sampling noise alone gives.
    pub w1_floor: Vec<[f64; 2]>,
}

//! The Gaussian conditional probability paths of seed 004, on pflow's time axis.
//!
//! Seed 004 runs time the other way (noise at 0, data at 1) with p_s(x|z) = N(α_s z, β_s² I),
//! α_s = s and β_s ∈ {1 − s, √(1 − s)}. pflow maps s = 1 − t, in this one place:
//! α(t) = 1 − t and σ(t) = t ("linear", the conditional optimal-transport path) or
//! σ(t) = √t ("sqrt", seed 004's SquareRootBeta). Velocities change sign under the map:
//! a seed-004 vector field u_s equals −v(x, 1 − s) here.

use super::{Coeffs, CoeffsT, GaussianPath};
use tch::Tensor;

/// The σ family of a [`CondPath`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondSigma {
    /// σ(t) = t.
    Linear,
    /// σ(t) = √t.
    Sqrt,
}

/// x_t = (1 − t) x₀ + σ(t) ε with σ from [`CondSigma`]. α(1) = 0: the path ends exactly at the
/// prior N(0, I); f = α'/α is singular there, so score-driven samplers start at t_max = 1 − 1e-3
/// while velocity-driven ones may start at 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CondPath {
    pub sigma: CondSigma,
}

impl CondPath {
    pub fn linear() -> Self {
        Self {
            sigma: CondSigma::Linear,
        }
    }
    pub fn sqrt() -> Self {
        Self {
            sigma: CondSigma::Sqrt,
        }
    }
}

impl GaussianPath for CondPath {
    fn name(&self) -> String {
        match self.sigma {
            CondSigma::Linear => "cond-linear".into(),
            CondSigma::Sqrt => "cond-sqrt".into(),
        }
    }
    fn coeffs(&self, t: f64) -> Coeffs {
        let (sigma, d_sigma) = match self.sigma {
            CondSigma::Linear => (t, 1.0),
            CondSigma::Sqrt => (t.sqrt(), 0.5 / t.sqrt()),
        };
        Coeffs {
            alpha: 1.0 - t,
            sigma,
            d_alpha: -1.0,
            d_sigma,
        }
    }
    fn coeffs_t(&self, t: &Tensor) -> CoeffsT {
        let (sigma, d_sigma) = match self.sigma {
            CondSigma::Linear => (t.shallow_clone(), t.ones_like()),
            CondSigma::Sqrt => {
                let s = t.sqrt();
                let d = s.reciprocal() * 0.5;
                (s, d)
            }
        };
        CoeffsT {
            alpha: -t + 1.0,
            sigma,
            d_alpha: -t.ones_like(),
            d_sigma,
        }
    }
    fn t_max(&self) -> f64 {
        1.0 - 1e-3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::tests::check_derivatives;

    #[test]
    fn maps_seed_004_time() {
        // seed 004: α_s = s, β_s = √(1 − s); ours at t = 1 − s
        let p = CondPath::sqrt();
        for s in [0.1, 0.5, 0.8] {
            let c = p.coeffs(1.0 - s);
            assert!((c.alpha - s).abs() < 1e-15);
            assert!((c.sigma - (1.0 - s).sqrt()).abs() < 1e-15);
        }
        check_derivatives(&p, &[0.05, 0.3, 0.6, 0.95], 1e-6);
        check_derivatives(&CondPath::linear(), &[0.05, 0.3, 0.6, 0.95], 1e-6);
    }
}

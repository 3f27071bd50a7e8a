//! VE SDE with a geometric σ (Song et al. 2021; seed 001): dx = √(dσ²/dt) dW.

use super::{Coeffs, CoeffsT, GaussianPath};
use tch::Tensor;

/// α(t) = 1, σ(t) = σ_min (σ_max/σ_min)^t, σ'(t) = σ(t) ln(σ_max/σ_min),
/// dσ²/dt = 2 σ(t)² ln(σ_max/σ_min). The prior at t = 1 is N(0, σ_max² I).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VeGeometric {
    pub sigma_min: f64,
    pub sigma_max: f64,
}

impl Default for VeGeometric {
    fn default() -> Self {
        Self {
            sigma_min: 0.01,
            sigma_max: 10.0,
        }
    }
}

impl VeGeometric {
    pub fn new(sigma_min: f64, sigma_max: f64) -> Self {
        Self {
            sigma_min,
            sigma_max,
        }
    }
    fn log_ratio(&self) -> f64 {
        (self.sigma_max / self.sigma_min).ln()
    }
}

impl GaussianPath for VeGeometric {
    fn name(&self) -> String {
        format!("ve-geometric({}, {})", self.sigma_min, self.sigma_max)
    }
    fn coeffs(&self, t: f64) -> Coeffs {
        let sigma = self.sigma_min * (t * self.log_ratio()).exp();
        Coeffs {
            alpha: 1.0,
            sigma,
            d_alpha: 0.0,
            d_sigma: sigma * self.log_ratio(),
        }
    }
    fn coeffs_t(&self, t: &Tensor) -> CoeffsT {
        let sigma = (t * self.log_ratio()).exp() * self.sigma_min;
        CoeffsT {
            alpha: t.ones_like(),
            d_alpha: t.zeros_like(),
            d_sigma: &sigma * self.log_ratio(),
            sigma,
        }
    }
    fn drift_coef(&self, _t: f64) -> f64 {
        0.0
    }
    fn diffusion_sq(&self, t: f64) -> f64 {
        let s = self.coeffs(t).sigma;
        2.0 * s * s * self.log_ratio()
    }
    fn diffusion_sq_t(&self, t: &Tensor) -> Tensor {
        (t * (2.0 * self.log_ratio())).exp()
            * (2.0 * self.sigma_min * self.sigma_min * self.log_ratio())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::tests::check_derivatives;

    #[test]
    fn derivatives_and_ends() {
        let p = VeGeometric::new(0.01, 5.0);
        assert!((p.coeffs(0.0).sigma - 0.01).abs() < 1e-15);
        assert!((p.coeffs(1.0).sigma - 5.0).abs() < 1e-12);
        assert!((p.prior_std() - 5.0).abs() < 1e-12);
        check_derivatives(&p, &[0.0, 0.3, 0.6, 0.95], 1e-6);
    }
}

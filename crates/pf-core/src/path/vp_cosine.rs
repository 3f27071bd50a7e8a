//! VP path with the cosine schedule (Nichol & Dhariwal 2021), continuous time.

use super::{Coeffs, CoeffsT, GaussianPath};
use std::f64::consts::FRAC_PI_2;
use tch::Tensor;

/// φ(t) = (t + s)/(1 + s)·π/2, α(t) = cos φ(t) / cos φ(0), σ(t) = √(1 − α²), s = 0.008.
/// α(1) = 0, so f = α'/α is singular at t = 1: samplers start from [`GaussianPath::t_max`] = 0.99
/// (α ≈ 0.016, prior N(0, I) to within 1.3e-4 in variance).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VpCosine {
    pub s: f64,
}

impl Default for VpCosine {
    fn default() -> Self {
        Self { s: 0.008 }
    }
}

impl VpCosine {
    fn phi(&self, t: f64) -> f64 {
        (t + self.s) / (1.0 + self.s) * FRAC_PI_2
    }
    fn dphi(&self) -> f64 {
        FRAC_PI_2 / (1.0 + self.s)
    }
}

impl GaussianPath for VpCosine {
    fn name(&self) -> String {
        format!("vp-cosine({})", self.s)
    }
    fn coeffs(&self, t: f64) -> Coeffs {
        let c0 = self.phi(0.0).cos();
        let phi = self.phi(t);
        let alpha = phi.cos() / c0;
        let d_alpha = -phi.sin() * self.dphi() / c0;
        let sigma = (1.0 - alpha * alpha).max(0.0).sqrt();
        Coeffs {
            alpha,
            sigma,
            d_alpha,
            d_sigma: -alpha * d_alpha / sigma,
        }
    }
    fn coeffs_t(&self, t: &Tensor) -> CoeffsT {
        let c0 = self.phi(0.0).cos();
        let phi = (t + self.s) * (FRAC_PI_2 / (1.0 + self.s));
        let alpha = phi.cos() / c0;
        let d_alpha = phi.sin() * (-self.dphi() / c0);
        let sigma = (-alpha.square() + 1.0).clamp_min(0.0).sqrt();
        let d_sigma = -(&alpha * &d_alpha) / &sigma;
        CoeffsT {
            alpha,
            sigma,
            d_alpha,
            d_sigma,
        }
    }
    fn t_max(&self) -> f64 {
        0.99
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::tests::check_derivatives;

    #[test]
    fn ends_and_derivatives() {
        let p = VpCosine::default();
        assert!((p.coeffs(0.0).alpha - 1.0).abs() < 1e-15);
        assert!(p.coeffs(1.0).alpha.abs() < 1e-15);
        assert!((p.prior_std() - 1.0).abs() < 2e-4);
        check_derivatives(&p, &[0.05, 0.3, 0.6, 0.95], 1e-6);
    }
}

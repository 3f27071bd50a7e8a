//! VP SDE with a linear β(t) (Song et al. 2021; seed 001): dx = −½β(t) x dt + √β(t) dW.

use super::{Coeffs, CoeffsT, GaussianPath};
use tch::Tensor;

/// β(t) = β_min + (β_max − β_min) t,  B(t) = ∫₀ᵗ β = β_min t + ½(β_max − β_min) t²,
/// α(t) = e^{−B/2}, σ(t) = √(1 − e^{−B}). Defaults β_min = 0.1, β_max = 20.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VpLinear {
    pub beta_min: f64,
    pub beta_max: f64,
}

impl Default for VpLinear {
    fn default() -> Self {
        Self {
            beta_min: 0.1,
            beta_max: 20.0,
        }
    }
}

impl VpLinear {
    pub fn new(beta_min: f64, beta_max: f64) -> Self {
        Self { beta_min, beta_max }
    }
    /// β(t).
    pub fn beta(&self, t: f64) -> f64 {
        self.beta_min + (self.beta_max - self.beta_min) * t
    }
    /// B(t) = ∫₀ᵗ β(s) ds.
    pub fn integral(&self, t: f64) -> f64 {
        self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t
    }
    fn integral_t(&self, t: &Tensor) -> Tensor {
        t * self.beta_min + t.square() * (0.5 * (self.beta_max - self.beta_min))
    }
}

impl GaussianPath for VpLinear {
    fn name(&self) -> String {
        format!("vp-linear({}, {})", self.beta_min, self.beta_max)
    }
    fn coeffs(&self, t: f64) -> Coeffs {
        let (b, big) = (self.beta(t), self.integral(t));
        let alpha = (-0.5 * big).exp();
        let sigma = (-(-big).exp_m1()).sqrt();
        Coeffs {
            alpha,
            sigma,
            d_alpha: -0.5 * b * alpha,
            d_sigma: 0.5 * b * alpha * alpha / sigma,
        }
    }
    fn coeffs_t(&self, t: &Tensor) -> CoeffsT {
        let big = self.integral_t(t);
        let b = t * (self.beta_max - self.beta_min) + self.beta_min;
        let alpha = (&big * -0.5).exp();
        let sigma = (-(-&big).expm1()).sqrt();
        let d_alpha = &b * &alpha * -0.5;
        let d_sigma = &b * alpha.square() * 0.5 / &sigma;
        CoeffsT {
            alpha,
            sigma,
            d_alpha,
            d_sigma,
        }
    }
    fn drift_coef(&self, t: f64) -> f64 {
        -0.5 * self.beta(t)
    }
    fn diffusion_sq(&self, t: f64) -> f64 {
        self.beta(t)
    }
    fn diffusion_sq_t(&self, t: &Tensor) -> Tensor {
        t * (self.beta_max - self.beta_min) + self.beta_min
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::tests::check_derivatives;

    #[test]
    fn closed_forms() {
        let p = VpLinear::default();
        // α² + σ² = 1 on a VP path
        for t in [0.01, 0.3, 0.7, 1.0] {
            let c = p.coeffs(t);
            assert!((c.alpha * c.alpha + c.sigma * c.sigma - 1.0).abs() < 1e-14);
        }
        // B(1) = 0.1 + 9.95 = 10.05; seed 001's "alpha" is ᾱ = α² = e^{−B}
        assert!((p.coeffs(1.0).alpha.powi(2) - (-10.05f64).exp()).abs() < 1e-15);
        check_derivatives(&p, &[0.05, 0.3, 0.6, 0.95], 1e-6);
    }
}

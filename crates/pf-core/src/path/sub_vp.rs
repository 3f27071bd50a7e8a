//! sub-VP SDE (Song et al. 2021): dx = −½β(t) x dt + √(β(t)(1 − e^{−2B(t)})) dW.

use super::{Coeffs, CoeffsT, GaussianPath, VpLinear};
use tch::Tensor;

/// α(t) = e^{−B/2} as for VP, σ(t) = 1 − e^{−B}; its variance never exceeds VP's.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct SubVp {
    pub vp: VpLinear,
}

impl SubVp {
    pub fn new(beta_min: f64, beta_max: f64) -> Self {
        Self {
            vp: VpLinear::new(beta_min, beta_max),
        }
    }
}

impl GaussianPath for SubVp {
    fn name(&self) -> String {
        format!("sub-vp({}, {})", self.vp.beta_min, self.vp.beta_max)
    }
    fn coeffs(&self, t: f64) -> Coeffs {
        let (b, big) = (self.vp.beta(t), self.vp.integral(t));
        let alpha = (-0.5 * big).exp();
        Coeffs {
            alpha,
            sigma: -(-big).exp_m1(),
            d_alpha: -0.5 * b * alpha,
            d_sigma: b * alpha * alpha,
        }
    }
    fn coeffs_t(&self, t: &Tensor) -> CoeffsT {
        let big = t * self.vp.beta_min + t.square() * (0.5 * (self.vp.beta_max - self.vp.beta_min));
        let b = t * (self.vp.beta_max - self.vp.beta_min) + self.vp.beta_min;
        let alpha = (&big * -0.5).exp();
        let sigma = -(-&big).expm1();
        let d_alpha = &b * &alpha * -0.5;
        let d_sigma = &b * alpha.square();
        CoeffsT {
            alpha,
            sigma,
            d_alpha,
            d_sigma,
        }
    }
    fn drift_coef(&self, t: f64) -> f64 {
        -0.5 * self.vp.beta(t)
    }
    fn diffusion_sq(&self, t: f64) -> f64 {
        self.vp.beta(t) * (-(-2.0 * self.vp.integral(t)).exp_m1())
    }
    fn diffusion_sq_t(&self, t: &Tensor) -> Tensor {
        let big = t * self.vp.beta_min + t.square() * (0.5 * (self.vp.beta_max - self.vp.beta_min));
        let b = t * (self.vp.beta_max - self.vp.beta_min) + self.vp.beta_min;
        b * (-(big * -2.0).expm1())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::tests::check_derivatives;

    #[test]
    fn derivatives_and_sde() {
        check_derivatives(&SubVp::default(), &[0.05, 0.3, 0.6, 0.95], 1e-6);
    }
}

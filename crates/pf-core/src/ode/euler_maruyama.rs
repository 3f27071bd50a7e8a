//! The Euler–Maruyama step for dx = b(x, t) dt + g(t) dW.

use tch::Tensor;

/// x + b dt + g √|dt| ξ, ξ ~ N(0, I) drawn once, on x's device. `dt` may be negative (reverse
/// time, where dW̄ has the same law). Returns the new state.
pub fn euler_maruyama(x: &Tensor, drift: &Tensor, g: f64, dt: f64) -> Tensor {
    let mut out = x.randn_like();
    out *= g * dt.abs().sqrt();
    out += x;
    out += drift * dt;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Ornstein–Uhlenbeck dx = −x dt + √2 dW has stationary variance 1; Euler–Maruyama with step h
    /// has stationary variance 2h / (1 − (1 − h)²) = 1/(1 − h/2).
    #[test]
    fn ou_stationary_variance() {
        let _rng = crate::rng::seed_exclusive(2);
        let h = 0.1;
        let mut x = Tensor::zeros([200_000, 1], (Kind::Double, Device::Cpu));
        for _ in 0..200 {
            let b = -&x;
            x = euler_maruyama(&x, &b, 2f64.sqrt(), h);
        }
        let v = x.var(true).double_value(&[]);
        let want = 1.0 / (1.0 - h / 2.0);
        assert!(
            (v - want).abs() < 5.0 * want * (2.0 / 2e5f64).sqrt(),
            "var {v} vs {want}"
        );
    }
}
